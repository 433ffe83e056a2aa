-- The priced calls of the report period, with the attribution keys every metric groups by.
-- Inputs: priced_calls (view), report_period(start_ts, end_ts), feature_config(feature, team, ...),
-- model_tiers(provider, model, tier).
CREATE OR REPLACE TEMP TABLE period_calls AS
SELECT
    p.*,
    coalesce(p.task_id, p.call_id) AS task_key,
    coalesce(nullif(trim(p.feature), ''), '(unattributed)') AS feature_key,
    coalesce(nullif(trim(p.team), ''), fc.team, '(no team)') AS team_key,
    CAST(date_trunc('day', p.ts) AS DATE) AS day,
    strftime(p.ts, '%Y-%m') AS month,
    coalesce(mt.tier, 'unknown') AS model_tier,
    p.input_tokens + p.cache_read_tokens + p.cache_write_5m_tokens + p.cache_write_1h_tokens AS context_tokens
FROM priced_calls p
CROSS JOIN report_period r
LEFT JOIN feature_config fc ON fc.feature = p.feature
LEFT JOIN model_tiers mt ON mt.provider = coalesce(p.provider, '') AND mt.model = p.model
WHERE p.ts >= r.start_ts AND p.ts < r.end_ts;
