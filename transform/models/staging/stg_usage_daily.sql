-- copilot_usage_daily: one organization/enterprise day (report-fields.md section 4).
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_text('organization_id') }} as organization_id,
    {{ as_text('enterprise_id') }} as enterprise_id,
    {{ as_int('daily_active_users') }} as daily_active_users,
    {{ as_int('weekly_active_users') }} as weekly_active_users,
    {{ as_int('monthly_active_users') }} as monthly_active_users,
    {{ as_int('code_generation_activity_count') }} as code_generation_activity_count,
    {{ as_int('code_acceptance_activity_count') }} as code_acceptance_activity_count,
    {{ as_int('user_initiated_interaction_count') }} as user_initiated_interaction_count,
    {{ as_int('loc_suggested_to_add_sum') }} as loc_suggested_to_add_sum,
    {{ as_int('loc_suggested_to_delete_sum') }} as loc_suggested_to_delete_sum,
    {{ as_int('loc_added_sum') }} as loc_added_sum,
    {{ as_int('loc_deleted_sum') }} as loc_deleted_sum
from {{ source('copilot', 'copilot_usage_daily') }}
