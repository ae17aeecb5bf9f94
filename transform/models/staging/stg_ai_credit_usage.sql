-- copilot_ai_credit_usage: one usage item of the billing ai_credit usage report on one day
-- (billing-usage.md). Amounts in USD.
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_text("'ai_credits'") }} as usage_kind,
    {{ as_text('product') }} as product,
    {{ as_text('sku') }} as sku,
    {{ as_text('model') }} as model,
    {{ as_text(camel_column('unitType')) }} as unit_type,
    {{ as_float(camel_column('pricePerUnit')) }} as price_per_unit,
    {{ as_float(camel_column('grossQuantity')) }} as gross_quantity,
    {{ as_float(camel_column('grossAmount')) }} as gross_amount,
    {{ as_float(camel_column('discountQuantity')) }} as discount_quantity,
    {{ as_float(camel_column('discountAmount')) }} as discount_amount,
    {{ as_float(camel_column('netQuantity')) }} as net_quantity,
    {{ as_float(camel_column('netAmount')) }} as net_amount
from {{ source('copilot', 'copilot_ai_credit_usage') }}
