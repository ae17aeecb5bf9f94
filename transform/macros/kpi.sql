{#- A rate in [0, 1]: numerator / denominator as a float, NULL when the denominator is 0 or NULL. -#}
{% macro rate(numerator, denominator) -%}
    case when coalesce({{ denominator }}, 0) = 0 then null
         else cast({{ numerator }} as {{ float_type() }}) / {{ denominator }} end
{%- endmacro %}

{#- A count or id as a 64-bit integer, a day as DATE, a text as the warehouse's string type. -#}
{% macro as_int(expr) -%}cast({{ expr }} as {{ dbt.type_bigint() }}){%- endmacro %}
{% macro as_float(expr) -%}cast({{ expr }} as {{ float_type() }}){%- endmacro %}

{#- A double-precision float (dbt.type_float() is a 4-byte FLOAT on DuckDB). -#}
{% macro float_type() -%}{{ 'double' if target.type == 'duckdb' else dbt.type_float() }}{%- endmacro %}
{% macro as_date(expr) -%}cast({{ expr }} as date){%- endmacro %}
{% macro as_text(expr) -%}cast({{ expr }} as {{ dbt.type_string() }}){%- endmacro %}
{% macro as_timestamp(expr) -%}cast({{ expr }} as {{ dbt.type_timestamp() }}){%- endmacro %}

{#- The first day of the month of a DATE. -#}
{% macro month_of(day) -%}{{ as_date(dbt.date_trunc('month', day)) }}{%- endmacro %}

{#- The `used_*` flags of the users report (report-fields.md section 5), without `used_`. -#}
{% macro used_features() -%}
    {{ return(['chat', 'agent', 'cli', 'copilot_coding_agent', 'copilot_cloud_agent',
               'copilot_code_review_active', 'copilot_code_review_passive', 'copilot_app',
               'vscode_agent']) }}
{%- endmacro %}

{#- A column the billing API names in camelCase (grossAmount): target-postgres keeps that case
    (a quoted identifier), target-duckdb lowercases it (DuckDB matches names case-insensitively,
    quoted or not), Snowflake and BigQuery loaders store it case-insensitively. -#}
{% macro camel_column(name) -%}
    {{ adapter.quote(name) if target.type in ('postgres', 'duckdb') else name }}
{%- endmacro %}

{#- One usage item of a billing usage report (billing-usage.md) on one day, typed; amounts in USD.
    The AI-credit and premium-request reports have the same fields (camelCase, as GitHub sends
    them); `usage_kind` says which report a row came from. -#}
{% macro stg_billing_usage(source_table, usage_kind) %}
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_text("'" ~ usage_kind ~ "'") }} as usage_kind,
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
from {{ source('copilot', source_table) }}
{% endmacro %}
