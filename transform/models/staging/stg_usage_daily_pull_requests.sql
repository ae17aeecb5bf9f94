-- copilot_usage_daily_pull_requests: the pull_requests object of a day (report-fields.md section 4).
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_int('total_created') }} as total_created,
    {{ as_int('total_reviewed') }} as total_reviewed,
    {{ as_int('total_merged') }} as total_merged,
    {{ as_int('total_suggestions') }} as total_suggestions,
    {{ as_int('total_applied_suggestions') }} as total_applied_suggestions,
    {{ as_int('total_created_by_copilot') }} as total_created_by_copilot,
    {{ as_int('total_reviewed_by_copilot') }} as total_reviewed_by_copilot,
    {{ as_int('total_merged_created_by_copilot') }} as total_merged_created_by_copilot,
    {{ as_int('total_merged_reviewed_by_copilot') }} as total_merged_reviewed_by_copilot,
    {{ as_int('total_copilot_suggestions') }} as total_copilot_suggestions,
    {{ as_int('total_copilot_applied_suggestions') }} as total_copilot_applied_suggestions,
    {{ as_float('median_minutes_to_merge') }} as median_minutes_to_merge,
    {{ as_float('median_minutes_to_merge_copilot_authored') }} as median_minutes_to_merge_copilot_authored,
    {{ as_float('median_minutes_to_merge_copilot_reviewed') }} as median_minutes_to_merge_copilot_reviewed
from {{ source('copilot', 'copilot_usage_daily_pull_requests') }}
