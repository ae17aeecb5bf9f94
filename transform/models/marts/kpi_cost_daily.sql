-- One row per scope, day, kind of usage, product, SKU and model: the billing usage reports
-- (AI credits since 2026-06-01, premium requests before), in USD.
{% for src in ['stg_ai_credit_usage', 'stg_premium_request_usage'] %}
select
    scope,
    scope_name,
    day,
    usage_kind,
    product,
    sku,
    model,
    sum(gross_quantity) as gross_quantity,
    sum(gross_amount) as gross_amount,
    sum(discount_amount) as discount_amount,
    sum(net_quantity) as net_quantity,
    sum(net_amount) as net_amount,
    sum(discount_quantity) as discount_quantity,
    max(unit_type) as unit_type
from {{ ref(src) }}
group by scope, scope_name, day, usage_kind, product, sku, model
{% if not loop.last %}union all{% endif %}
{% endfor %}
