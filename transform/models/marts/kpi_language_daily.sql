-- One row per scope, day and language: totals_by_language_feature summed over the features.
select
    scope,
    scope_name,
    day,
    language,
    {{ as_int('sum(code_generation_activity_count)') }} as code_generations,
    {{ as_int('sum(code_acceptance_activity_count)') }} as code_acceptances,
    {{ rate('sum(code_acceptance_activity_count)', 'sum(code_generation_activity_count)') }} as code_acceptance_rate,
    {{ as_int('sum(loc_suggested_to_add_sum)') }} as loc_suggested,
    {{ as_int('sum(loc_added_sum)') }} as loc_added
from {{ ref('stg_usage_daily_by_language_feature') }}
group by scope, scope_name, day, language
