-- copilot_ai_credit_usage: one usage item of the billing ai_credit usage report on one day.
{{ stg_billing_usage('copilot_ai_credit_usage', 'ai_credits') }}
