-- copilot_premium_request_usage: one usage item of the billing premium_request usage report on
-- one day.
{{ stg_billing_usage('copilot_premium_request_usage', 'premium_requests') }}
