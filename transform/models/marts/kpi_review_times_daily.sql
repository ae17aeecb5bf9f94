-- One row per scope, day and (authored_by, reviewed_by): pull-request review times of the
-- repositories report. Medians of different repositories cannot be combined exactly: the
-- columns are the merged-PR-weighted mean of the repositories' medians.
select
    scope,
    scope_name,
    day,
    authored_by,
    reviewed_by,
    count(distinct repo_id) as repositories,
    {{ as_int('sum(total_merged)') }} as prs_merged,
    {% for m in ['ready_to_first_review', 'first_to_final_review', 'final_review_to_merge'] %}
    sum(median_minutes_{{ m }} * total_merged)
        / nullif(sum(case when median_minutes_{{ m }} is not null then total_merged end), 0)
        as weighted_median_minutes_{{ m }}{{ ',' if not loop.last }}
    {% endfor %}
from {{ ref('stg_repository_review_times') }}
group by scope, scope_name, day, authored_by, reviewed_by
