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
