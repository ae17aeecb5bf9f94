-- The seats of each scope's latest snapshot without activity in the 28 days before the end of
-- that day, or never active: the candidates for reclaiming.
with latest as (
    select scope, scope_name, max(snapshot_day) as snapshot_day
    from {{ ref('stg_seat_snapshots') }}
    group by scope, scope_name
)

select
    s.scope,
    s.scope_name,
    s.snapshot_day,
    s.seat_key as assignee_login,
    s.last_activity_at,
    {{ dbt.datediff(as_date('s.last_activity_at'), 's.snapshot_day', 'day') }} as days_inactive,
    s.plan_type,
    s.pending_cancellation_date
from {{ ref('stg_seat_snapshots') }} as s
inner join latest as l
    on l.scope = s.scope and l.scope_name = s.scope_name and l.snapshot_day = s.snapshot_day
where s.last_activity_at is null
   or s.last_activity_at < {{ as_timestamp(dbt.dateadd('day', -27, 's.snapshot_day')) }}
