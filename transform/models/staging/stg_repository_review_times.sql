-- copilot_repository_usage_daily_pull_request_review_times (report-fields.md section 7).
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_int('repo_id') }} as repo_id,
    {{ as_text('authored_by') }} as authored_by,
    {{ as_text('reviewed_by') }} as reviewed_by,
    {{ as_int('total_merged') }} as total_merged,
    {{ as_float('median_minutes_ready_to_first_review') }} as median_minutes_ready_to_first_review,
    {{ as_float('median_minutes_first_to_final_review') }} as median_minutes_first_to_final_review,
    {{ as_float('median_minutes_final_review_to_merge') }} as median_minutes_final_review_to_merge
from {{ source('copilot', 'copilot_repository_usage_daily_pull_request_review_times') }}
