-- copilot_user_teams_daily: one team membership of a user on a day (report-fields.md section 6).
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('day') }} as day,
    {{ as_int('user_id') }} as user_id,
    {{ as_int('team_id') }} as team_id,
    {{ as_text('slug') }} as team_slug
from {{ source('copilot', 'copilot_user_teams_daily') }}
