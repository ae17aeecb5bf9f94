{#- Models land in the schema they name (copilot_staging, copilot_marts), not in
    <target schema>_<name>: the marts' schema is part of the contract. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema | trim }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
