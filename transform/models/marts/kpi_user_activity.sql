-- One row per scope and user who appears in the users report: when and how much they used
-- Copilot over every loaded day.
with latest_login as (
    select scope, scope_name, user_id, user_login
    from (
        select
            scope,
            scope_name,
            user_id,
            user_login,
            row_number() over (partition by scope, scope_name, user_id order by day desc) as newest
        from {{ ref('stg_user_usage_daily') }}
    ) as ranked
    where newest = 1
),

totals as (
    select
        scope,
        scope_name,
        user_id,
        min(day) as first_active_day,
        max(day) as last_active_day,
        count(distinct day) as active_days,
        {{ as_int('sum(code_acceptance_activity_count)') }} as code_acceptances,
        {{ as_int('sum(user_initiated_interaction_count)') }} as interactions,
        {{ as_int('sum(code_generation_activity_count)') }} as code_generations,
        {{ as_int('sum(loc_added_sum)') }} as loc_added,
        sum(ai_credits_used) as ai_credits_used
    from {{ ref('stg_user_usage_daily') }}
    group by scope, scope_name, user_id
)

select
    t.scope,
    t.scope_name,
    t.user_id,
    l.user_login,
    t.first_active_day,
    t.last_active_day,
    t.active_days,
    t.code_acceptances,
    t.interactions,
    t.code_generations,
    {{ rate('t.code_acceptances', 't.code_generations') }} as code_acceptance_rate,
    t.loc_added,
    t.ai_credits_used
from totals as t
inner join latest_login as l
    on l.scope = t.scope and l.scope_name = t.scope_name and l.user_id = t.user_id
