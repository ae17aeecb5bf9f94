-- copilot_seat_snapshots: every seat as read on `snapshot_day` (the seat history).
select
    {{ as_text('scope') }} as scope,
    {{ as_text('scope_name') }} as scope_name,
    {{ as_date('snapshot_day') }} as snapshot_day,
    {{ as_text('seat_key') }} as seat_key,
    {{ as_text('plan_type') }} as plan_type,
    {{ as_timestamp('last_activity_at') }} as last_activity_at,
    {{ as_date('pending_cancellation_date') }} as pending_cancellation_date
from {{ source('copilot', 'copilot_seat_snapshots') }}
