-- copilot_user_usage_daily: one active user on one day (report-fields.md section 5).
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_int('user_id') }} as user_id,
    {{ as_text('user_login') }} as user_login,
    {{ as_int('code_generation_activity_count') }} as code_generation_activity_count,
    {{ as_int('code_acceptance_activity_count') }} as code_acceptance_activity_count,
    {{ as_int('user_initiated_interaction_count') }} as user_initiated_interaction_count,
    {{ as_int('loc_suggested_to_add_sum') }} as loc_suggested_to_add_sum,
    {{ as_int('loc_added_sum') }} as loc_added_sum,
    {{ as_float('ai_credits_used') }} as ai_credits_used,
{%- for feature in used_features() %}
    used_{{ feature }}{{ ',' if not loop.last }}
{%- endfor %}
from {{ source('copilot', 'copilot_user_usage_daily') }}
