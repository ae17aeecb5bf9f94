-- One row per scope, day and IDE (totals_by_ide). The CLI and the Copilot app are not IDEs:
-- their activity is in kpi_daily but not here (report-fields.md section 8).
select
    scope,
    scope_name,
    day,
    ide,
    {{ as_int('sum(code_generation_activity_count)') }} as code_generations,
    {{ as_int('sum(code_acceptance_activity_count)') }} as code_acceptances,
    {{ rate('sum(code_acceptance_activity_count)', 'sum(code_generation_activity_count)') }} as code_acceptance_rate,
    {{ as_int('sum(user_initiated_interaction_count)') }} as interactions,
    {{ as_int('sum(loc_suggested_to_add_sum)') }} as loc_suggested,
    {{ as_int('sum(loc_added_sum)') }} as loc_added
from {{ ref('stg_usage_daily_by_ide') }}
group by scope, scope_name, day, ide
