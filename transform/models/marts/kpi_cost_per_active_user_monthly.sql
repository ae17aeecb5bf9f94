-- One row per scope and calendar month: usage-based cost (AI credits and premium requests,
-- net) plus seat cost (the month's seats at the list prices of vars copilot_seat_price_*),
-- divided by the month's distinct active users.
with usage as (
    select scope, scope_name, {{ month_of('day') }} as month, sum(net_amount) as usage_net_amount
    from {{ ref('kpi_cost_daily') }}
    group by scope, scope_name, {{ month_of('day') }}
),

seat_months as (
    select distinct
        scope,
        scope_name,
        {{ month_of('snapshot_day') }} as month,
        seat_key,
        plan_type
    from {{ ref('stg_seat_snapshots') }}
),

seats as (
    select
        scope,
        scope_name,
        month,
        count(distinct seat_key) as seats,
        sum(case when plan_type = 'enterprise' then {{ var('copilot_seat_price_enterprise') }}
                 else {{ var('copilot_seat_price_business') }} end) as seat_cost
    from (
        -- one plan per seat and month (an upgrade within the month counts at the higher price)
        select scope, scope_name, month, seat_key, max(plan_type) as plan_type
        from seat_months
        group by scope, scope_name, month, seat_key
    ) as one_plan
    group by scope, scope_name, month
),

active as (
    select scope, scope_name, {{ month_of('day') }} as month, count(distinct user_id) as active_users
    from {{ ref('stg_user_usage_daily') }}
    group by scope, scope_name, {{ month_of('day') }}
),

months as (
    select distinct scope, scope_name, month
    from (
        select scope, scope_name, month from usage
        union all
        select scope, scope_name, month from seats
        union all
        select scope, scope_name, month from active
    ) as all_months
)

select
    m.scope,
    m.scope_name,
    m.month,
    coalesce(u.usage_net_amount, 0) as usage_net_amount,
    s.seats,
    {{ as_float('s.seat_cost') }} as seat_cost,
    coalesce(u.usage_net_amount, 0) + s.seat_cost as total_cost,
    coalesce(a.active_users, 0) as active_users,
    (coalesce(u.usage_net_amount, 0) + s.seat_cost) / nullif(a.active_users, 0) as cost_per_active_user
from months as m
left join usage as u on u.scope = m.scope and u.scope_name = m.scope_name and u.month = m.month
left join seats as s on s.scope = m.scope and s.scope_name = m.scope_name and s.month = m.month
left join active as a on a.scope = m.scope and a.scope_name = m.scope_name and a.month = m.month
