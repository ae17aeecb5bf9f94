-- One row per scope, day and AI adoption phase, as GitHub reports it (never summed).
select
    scope,
    scope_name,
    day,
    phase_number,
    phase,
    total_engaged_users as engaged_users,
    users_in_phase_28d,
    total_pull_requests_merged as pull_requests_merged
from {{ ref('stg_usage_daily_by_ai_adoption_phase') }}
