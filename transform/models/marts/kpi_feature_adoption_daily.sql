-- One row per scope, day with user rows, and `used_*` flag of the users report: how many of
-- the day's active users used the feature. Distinct users: never add days or features up.
{% for feature in used_features() %}
select
    scope,
    scope_name,
    day,
    {{ as_text("'" ~ feature ~ "'") }} as feature,
    count(distinct case when used_{{ feature }} then user_id end) as users,
    count(distinct user_id) as active_users,
    {{ rate('count(distinct case when used_' ~ feature ~ ' then user_id end)', 'count(distinct user_id)') }} as adoption_rate
from {{ ref('stg_user_usage_daily') }}
group by scope, scope_name, day
{% if not loop.last %}union all{% endif %}
{% endfor %}
