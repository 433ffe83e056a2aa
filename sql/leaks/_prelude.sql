-- requires: leak_features, leak_price_book, leak_thresholds, period_calls, report_period
-- creates: leak_calls, leak_calls_stored, leak_confidence, leak_examples, leak_feature_totals, leak_monthly,
--   leak_scale, leak_severity, leak_share, leak_th, leak_thresholds_json, leak_usd
-- Shared inputs of the leak detectors (sql/leaks/<kind>.sql). Run once per report by costlens.leaks.detect.
-- Inputs: period_calls, report_period, leak_thresholds(name, value), leak_features(feature, interactive,
-- step_budget, task_class), leak_price_book (price_book + batch variants + routing targets, same columns).
--
-- leak_calls: every call of the period (the period_calls columns the detectors read) with
--   * the $/Mtok input-side prices it was charged (its price_book row: variant, validity, time of day,
--     input-size tier)
--     and its batch-variant prices (batch_*; batch_variant_applied is false/NULL when the catalog has none);
--   * input_side_cost_usd = input + cache read + cache write cost (the cost the context tokens caused);
--   * bad_input: a failure caused by the request itself (HTTP 400 / 413 / 422, context length exceeded,
--     invalid request / argument) — 429 (rate limit), 408 and 5xx are not the input's fault;
--   * bad_input_chain: a bad-input failure, or a later failed call of the same task resending the same prompt
--     (same prompt_hash; without fingerprints, the same error type) — "those calls and their retries".
-- leak_feature_totals: each feature's calls and spend (the denominator of severity).
CREATE OR REPLACE TEMP MACRO leak_th(threshold_name) AS (
    SELECT max(value) FROM leak_thresholds WHERE name = threshold_name
);

-- The thresholds a finding of `kind` used: its own, plus severity, confidence and estimate settings.
CREATE OR REPLACE TEMP MACRO leak_thresholds_json(kind) AS (
    SELECT CAST(map_from_entries(list({'key': name, 'value': value} ORDER BY name)) AS JSON)
    FROM leak_thresholds
    WHERE starts_with(name, kind || '.') OR starts_with(name, 'severity.') OR starts_with(name, 'confidence.')
       OR starts_with(name, 'estimate.')
);

-- Wasted share of the feature's spend → severity.
CREATE OR REPLACE TEMP MACRO leak_severity(wasted_usd, feature_cost_usd) AS (
    CASE WHEN coalesce(feature_cost_usd, 0) <= 0 THEN 'low'
         WHEN CAST(wasted_usd AS DOUBLE) >= leak_th('severity.high_share') * CAST(feature_cost_usd AS DOUBLE) THEN 'high'
         WHEN CAST(wasted_usd AS DOUBLE) >= leak_th('severity.medium_share') * CAST(feature_cost_usd AS DOUBLE) THEN 'medium'
         ELSE 'low' END
);

-- Sample size → confidence.
CREATE OR REPLACE TEMP MACRO leak_confidence(n) AS (
    CASE WHEN n >= leak_th('confidence.high_calls') THEN 'high'
         WHEN n >= leak_th('confidence.medium_calls') THEN 'medium'
         ELSE 'low' END
);

-- The part / whole share of a DECIMAL money amount (e.g. a call's cost × excess tokens / its tokens): the
-- product stays DECIMAL; the division is a DOUBLE, read back through its shortest decimal text (a direct
-- DOUBLE → DECIMAL cast truncates 0.009 to 0.008999…), so 0.01 × 9000 / 10000 is exactly 0.009.
CREATE OR REPLACE TEMP MACRO leak_share(usd, part, whole) AS (
    CAST(CAST(CAST(usd AS DECIMAL(38, 18)) * CAST(part AS DECIMAL(18, 6)) / whole AS VARCHAR) AS DECIMAL(38, 18))
);

-- Waste observed in the report period → per month (30.44 days by default).
CREATE OR REPLACE TEMP MACRO leak_monthly(usd) AS (
    leak_share(usd, leak_th('estimate.days_per_month'),
               (SELECT greatest(date_diff('second', start_ts, end_ts), 1) / 86400.0 FROM report_period))
);

-- A DECIMAL money amount scaled by a ratio, in DECIMAL: the ratio is rounded to 10 decimals (a DECIMAL
-- division would give a DOUBLE), so 0.9 × $0.01 is exactly $0.009.
CREATE OR REPLACE TEMP MACRO leak_scale(usd, factor) AS (
    CAST(CAST(usd AS DECIMAL(38, 18)) * CAST(factor AS DECIMAL(18, 10)) AS DECIMAL(38, 18))
);

-- A money amount in an explanation, written as every costlens output writes it (costlens.money.usd): to the
-- cent, half up (round() of a DECIMAL rounds half away from zero), thousands separated: $1,249.40.
CREATE OR REPLACE TEMP MACRO leak_usd(usd) AS (
    '$' || format('{:,.2f}', round(CAST(usd AS DECIMAL(38, 18)), 2))
);

-- A finding's example calls: the 5 largest by `usd` (NULLs last), ties by call id — the same as
-- list(id ORDER BY usd DESC NULLS LAST, id)[1:5], without sorting every affected call of the group.
CREATE OR REPLACE TEMP MACRO leak_examples(id, usd) AS (
    min_by(id, {'missing': usd IS NULL, 'usd': coalesce(-usd, 0), 'id': id}, 5)
);

CREATE OR REPLACE TABLE {scratch}.leak_calls_stored AS
WITH base AS (
    SELECT
        c.call_id, c.ts, c.provider, c.model, c.variant, c.feature_key, c.task_key, c.session_id, c.user_id,
        c.status, c.error_type, c.http_status, c.finish_reason, c.max_tokens, c.input_tokens, c.cache_read_tokens,
        c.cache_write_5m_tokens, c.cache_write_1h_tokens, c.output_tokens, c.reasoning_tokens,
        c.total_input_tokens, c.context_tokens, c.prompt_hash, c.prefix_hash, c.prefix_tokens, c.priced,
        c.model_tier, c.input_cost_usd, c.cache_read_cost_usd, c.cache_write_cost_usd, c.output_cost_usd,
        c.request_cost_usd, c.cost_usd, c.computed_cost_usd,
        CAST(hour(c.ts) * 3600 + minute(c.ts) * 60 + second(c.ts) AS INTEGER) AS tod_s,
        coalesce(c.input_cost_usd, 0) + coalesce(c.cache_read_cost_usd, 0) + coalesce(c.cache_write_cost_usd, 0)
            AS input_side_cost_usd
    FROM period_calls AS c
),

priced AS (
    SELECT
        b.*,
        pb.input_mtok,
        pb.cache_read_mtok,
        pb.cache_write_5m_mtok,
        bp.input_mtok AS batch_input_mtok,
        bp.cache_read_mtok AS batch_cache_read_mtok,
        bp.cache_write_5m_mtok AS batch_cache_write_5m_mtok,
        bp.cache_write_1h_mtok AS batch_cache_write_1h_mtok,
        bp.output_mtok AS batch_output_mtok,
        bp.reasoning_mtok AS batch_reasoning_mtok,
        bp.request_usd AS batch_request_usd,
        bp.variant_applied AS batch_variant_applied,
        lf.interactive,
        lf.step_budget,
        lf.task_class
    FROM base AS b
    LEFT JOIN leak_price_book AS pb
        ON pb.provider = coalesce(b.provider, '') AND pb.model = b.model AND pb.variant = b.variant
        AND b.ts >= pb.valid_from AND b.ts < pb.valid_to
        AND b.tod_s >= pb.tod_from_s AND b.tod_s < pb.tod_to_s
        AND b.total_input_tokens > pb.tier_above_tokens AND b.total_input_tokens <= pb.tier_upto_tokens
    LEFT JOIN leak_price_book AS bp
        ON bp.provider = coalesce(b.provider, '') AND bp.model = b.model AND bp.variant = 'batch'
        AND b.ts >= bp.valid_from AND b.ts < bp.valid_to
        AND b.tod_s >= bp.tod_from_s AND b.tod_s < bp.tod_to_s
        AND b.total_input_tokens > bp.tier_above_tokens AND b.total_input_tokens <= bp.tier_upto_tokens
    LEFT JOIN leak_features AS lf ON lf.feature = b.feature_key
),

flagged AS (
    SELECT
        *,
        coalesce(status, '') = 'error' AND (
            coalesce(http_status IN (400, 413, 422), false)
            OR regexp_matches(lower(coalesce(error_type, '')),
                              'context_length|context_window|too_long|too_many_tokens|prompt_too_large'
                              || '|request_too_large|payload_too_large|invalid_request|invalid_prompt'
                              || '|invalid_argument|bad_request|unprocessable|validation')
        ) AS bad_input
    FROM priced
)

SELECT
    -- what no detector reads stays out: at ~10M calls every DECIMAL(38, 18) column is 160 MB
    * EXCLUDE (total_input_tokens, input_cost_usd, cache_read_cost_usd, cache_write_cost_usd, request_cost_usd),
    false AS bad_input_chain
FROM flagged;

-- bad_input_chain needs a window over each task's attempts; only failed calls can be in a chain or start
-- one (bad_input implies status 'error'), so the window runs over those alone (a few % of ~10M calls) and
-- marks the chains it finds.
UPDATE {scratch}.leak_calls_stored AS lc SET bad_input_chain = true
FROM (
    SELECT call_id
    FROM (
        SELECT call_id, bool_or(bad_input) OVER (
            PARTITION BY task_key, coalesce('prompt:' || prompt_hash, 'error:' || coalesce(error_type, ''))
            ORDER BY ts, call_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS in_chain
        FROM {scratch}.leak_calls_stored
        WHERE status = 'error'
    )
    WHERE in_chain
) AS chained
WHERE lc.call_id = chained.call_id;

-- kept compressed in the connection's scratch database, as period_calls (intermediate/period_calls.sql)
CREATE OR REPLACE TEMP VIEW leak_calls AS SELECT * FROM {scratch}.leak_calls_stored;

CREATE OR REPLACE TEMP TABLE leak_feature_totals AS
SELECT
    feature_key,
    count(*) AS calls,
    count(*) FILTER (WHERE status = 'ok') AS ok_calls,
    count(DISTINCT task_key) AS tasks,
    coalesce(sum(cost_usd), 0) AS cost_usd
FROM leak_calls
GROUP BY feature_key;
