{#- A rate column holds NULL or a value in [0, 1]. -#}
{% test rate(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
