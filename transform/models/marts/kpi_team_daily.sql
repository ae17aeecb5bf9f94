-- One row per scope, day and team: the team's members (user-teams report) joined to their
-- activity that day (users report) on user and day. A user in two teams counts in both: never
-- add teams up.
select
    t.scope,
    t.scope_name,
    t.day,
    t.team_id,
    max(t.team_slug) as team_slug,
    count(distinct u.user_id) as members_active,
    {{ as_int('coalesce(sum(u.code_generation_activity_count), 0)') }} as code_generations,
    {{ as_int('coalesce(sum(u.code_acceptance_activity_count), 0)') }} as code_acceptances,
    {{ rate('sum(u.code_acceptance_activity_count)', 'sum(u.code_generation_activity_count)') }} as code_acceptance_rate,
    {{ as_int('coalesce(sum(u.user_initiated_interaction_count), 0)') }} as interactions,
    count(distinct t.user_id) as members,
    {{ rate('count(distinct u.user_id)', 'count(distinct t.user_id)') }} as active_member_rate
from {{ ref('stg_user_teams_daily') }} as t
left join {{ ref('stg_user_usage_daily') }} as u
    on u.scope = t.scope and u.scope_name = t.scope_name and u.day = t.day
   and u.user_id = t.user_id
group by t.scope, t.scope_name, t.day, t.team_id
