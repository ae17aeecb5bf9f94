-- One row per scope and day: pull requests and Copilot code review (the pull_requests object
-- of the organization/enterprise report).
select
    scope,
    scope_name,
    day,
    total_created_by_copilot as prs_created_by_copilot,
    total_merged_created_by_copilot as prs_merged_created_by_copilot,
    {{ rate('total_merged_created_by_copilot', 'total_created_by_copilot') }} as copilot_pr_merge_rate,
    total_copilot_suggestions as suggestions,
    total_copilot_applied_suggestions as applied_suggestions,
    {{ rate('total_copilot_applied_suggestions', 'total_copilot_suggestions') }} as applied_suggestion_rate,
    median_minutes_to_merge_copilot_authored,
    total_reviewed_by_copilot as prs_reviewed_by_copilot,
    total_created as prs_created,
    total_merged as prs_merged,
    total_reviewed as prs_reviewed,
    total_merged_reviewed_by_copilot as prs_merged_reviewed_by_copilot,
    median_minutes_to_merge,
    median_minutes_to_merge_copilot_reviewed
from {{ ref('stg_usage_daily_pull_requests') }}
