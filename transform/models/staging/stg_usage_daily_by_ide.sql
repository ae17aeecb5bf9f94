-- copilot_usage_daily_by_ide: one element of totals_by_ide of a day (report-fields.md section 3).
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_text('ide') }} as ide,
    {{ as_int('code_generation_activity_count') }} as code_generation_activity_count,
    {{ as_int('code_acceptance_activity_count') }} as code_acceptance_activity_count,
    {{ as_int('user_initiated_interaction_count') }} as user_initiated_interaction_count,
    {{ as_int('loc_suggested_to_add_sum') }} as loc_suggested_to_add_sum,
    {{ as_int('loc_added_sum') }} as loc_added_sum
from {{ source('copilot', 'copilot_usage_daily_by_ide') }}
