-- requires: leak_calls, leak_examples, leak_share, leak_th, leak_thresholds_json
-- creates: none
-- output_verbosity (docs/definitions.md#output_verbosity): answers far longer than the feature's typical
-- length, with no output cap.
-- Typical length = p50 output tokens of the feature's ok calls (>= min_feature_calls of them).
-- A call is verbose when it has no max_tokens, and output > k_p50 × typical and > min_tokens.
-- Waste = output tokens above the typical length × that call's own output price (its output cost × excess
-- share, so reasoning tokens count at their price). One finding per feature.
-- Inputs: leak_calls, leak_feature_totals, leak_thresholds.
WITH ok AS NOT MATERIALIZED (
    -- read twice: re-scanned (only the columns each use reads) rather than copied whole (~10M calls)
    SELECT * FROM leak_calls WHERE status = 'ok' AND priced AND output_cost_usd IS NOT NULL
),

typical AS (
    SELECT
        feature_key,
        count(*) AS ok_calls,
        quantile_cont(output_tokens, 0.5) AS typical_tokens,
        count(*) FILTER (WHERE max_tokens IS NULL) AS uncapped_calls
    FROM ok
    GROUP BY feature_key
    HAVING count(*) >= leak_th('output_verbosity.min_feature_calls') AND quantile_cont(output_tokens, 0.5) > 0
),

flagged AS (
    SELECT
        o.*,
        t.typical_tokens,
        t.ok_calls,
        t.uncapped_calls,
        leak_share(o.output_cost_usd, o.output_tokens - t.typical_tokens, o.output_tokens) AS waste_usd
    FROM ok AS o
    JOIN typical AS t USING (feature_key)
    WHERE o.max_tokens IS NULL
      AND o.output_tokens > leak_th('output_verbosity.k_p50') * t.typical_tokens
      AND o.output_tokens > leak_th('output_verbosity.min_tokens')
),

found AS (
    SELECT
        feature_key AS feature,
        CASE WHEN count(DISTINCT model) = 1 THEN any_value(model) END AS model,
        any_value(task_class) AS task_class,
        count(*) AS calls_affected,
        sum(waste_usd) AS wasted_usd,
        sum(cost_usd) AS affected_cost_usd,
        any_value(typical_tokens) AS typical_tokens,
        any_value(ok_calls) AS ok_calls,
        any_value(uncapped_calls) AS uncapped_calls,
        CAST(avg(output_tokens) AS BIGINT) AS avg_output_tokens,
        max(output_tokens) AS max_output_tokens,
        CAST(sum(output_tokens - typical_tokens) AS BIGINT) AS excess_tokens,
        count(*) FILTER (WHERE finish_reason IN ('length', 'max_tokens', 'MAX_TOKENS')) AS cut_off,
        leak_examples(call_id, waste_usd) AS example_call_ids
    FROM flagged
    GROUP BY feature_key
)

SELECT
    'output_verbosity' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    'high' AS confidence_at_most,
    json_object(
        'counts', json_object(
            'calls_affected', f.calls_affected,
            'feature_ok_calls', f.ok_calls,
            'calls_without_max_tokens', f.uncapped_calls,
            'excess_output_tokens', f.excess_tokens),
        'typical_output_tokens', f.typical_tokens,
        'avg_output_tokens_affected', f.avg_output_tokens,
        'max_output_tokens', f.max_output_tokens,
        'thresholds', leak_thresholds_json('output_verbosity'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    format('{} uncapped answers average {} output tokens, {}x the typical {}; set max_tokens and ask for brevity',
           f.calls_affected, f.avg_output_tokens, round(f.avg_output_tokens / f.typical_tokens, 1),
           CAST(round(f.typical_tokens) AS BIGINT)) AS explanation,
    'output_controls' AS lever,
    'output_verbosity.savings' AS savings_factors,
    'low' AS quality_risk,
    f.affected_cost_usd
FROM found AS f
