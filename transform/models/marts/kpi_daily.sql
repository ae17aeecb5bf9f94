-- One row per organization/enterprise and report day: GitHub's own distinct-user counts and
-- the day's activity totals, plus the users seen in the users report that day.
with users as (
    select
        scope,
        scope_name,
        day,
        count(distinct user_id) as users_with_activity,
        count(distinct case when user_initiated_interaction_count > 0
                              or code_acceptance_activity_count > 0 then user_id end) as engaged_users
    from {{ ref('stg_user_usage_daily') }}
    group by scope, scope_name, day
)

select
    d.scope,
    d.scope_name,
    d.day,
    d.daily_active_users,
    d.weekly_active_users,
    d.monthly_active_users,
    d.code_generation_activity_count as code_generations,
    d.code_acceptance_activity_count as code_acceptances,
    {{ rate('d.code_acceptance_activity_count', 'd.code_generation_activity_count') }} as code_acceptance_rate,
    d.loc_suggested_to_add_sum as loc_suggested,
    d.loc_added_sum as loc_added,
    coalesce(u.users_with_activity, 0) as users_with_activity,
    coalesce(u.engaged_users, 0) as engaged_users,
    d.user_initiated_interaction_count as interactions,
    d.loc_suggested_to_delete_sum as loc_suggested_to_delete,
    d.loc_deleted_sum as loc_deleted
from {{ ref('stg_usage_daily') }} as d
left join users as u
    on u.scope = d.scope and u.scope_name = d.scope_name and u.day = d.day
