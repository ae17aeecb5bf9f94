-- copilot_usage_daily_by_ai_adoption_phase: one element of totals_by_ai_adoption_phase.
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_int('phase_number') }} as phase_number,
    {{ as_text('phase') }} as phase,
    {{ as_int('total_engaged_users') }} as total_engaged_users,
    {{ as_int('users_in_phase_28d') }} as users_in_phase_28d,
    {{ as_int('total_pull_requests_merged') }} as total_pull_requests_merged
from {{ source('copilot', 'copilot_usage_daily_by_ai_adoption_phase') }}
