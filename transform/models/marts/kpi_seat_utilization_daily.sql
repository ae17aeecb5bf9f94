-- One row per scope and seat snapshot day: how many seats were used within 7, 14 and 28 days
-- before the end of the snapshot day (last_activity_at, UTC).
{% set day_end = dbt.dateadd('day', 1, 'snapshot_day') %}
with seats as (
    select
        scope,
        scope_name,
        snapshot_day,
        seat_key,
        last_activity_at,
        {% for n in [7, 14, 28] %}
        case when last_activity_at >= {{ as_timestamp(dbt.dateadd('day', 1 - n, 'snapshot_day')) }}
             then 1 else 0 end as active_{{ n }}d{{ ',' if not loop.last }}
        {% endfor %}
    from {{ ref('stg_seat_snapshots') }}
)

select
    scope,
    scope_name,
    snapshot_day,
    count(*) as seats,
    {{ as_int('sum(active_7d)') }} as active_7d,
    {{ as_int('sum(active_14d)') }} as active_14d,
    {{ as_int('sum(active_28d)') }} as active_28d,
    {{ as_int('count(*) - sum(active_7d)') }} as inactive_7d,
    {{ as_int('count(*) - sum(active_14d)') }} as inactive_14d,
    {{ as_int('count(*) - sum(active_28d)') }} as inactive_28d,
    {{ as_int('sum(case when last_activity_at is null then 1 else 0 end)') }} as never_active,
    {{ rate('sum(active_28d)', 'count(*)') }} as utilization_28d,
    {{ rate('sum(active_7d)', 'count(*)') }} as utilization_7d
from seats
group by scope, scope_name, snapshot_day
