-- requires: leak_calls, leak_examples, leak_share, leak_th, leak_thresholds_json
-- creates: none
-- output_verbosity (docs/definitions.md#output_verbosity): answers far longer than the feature's typical
-- length, with no output cap.
-- Typical length = p50 output tokens of the ok calls of the call's model in the feature, or of the whole feature
-- when that model has fewer than min_feature_calls (the feature needs min_feature_calls ok calls).
-- A call is verbose when it has no max_tokens, and output > k_p50 × typical, > min_tokens and beyond the outlier
-- fence of its group's spread (Q3 + fence_iqr × IQR of ln output tokens): lengths a wide distribution of
-- answers produces by itself are no leak.
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

-- each model's typical length and outlier fence (Tukey's, on a log scale) in the feature (a feature may send short replies to one model
-- and long reports to another), used when the model has min_feature_calls ok calls
spreads AS (
    SELECT feature_key, model, count(*) AS n,
           quantile_cont(output_tokens, 0.5) AS typical_tokens,
           exp(quantile_cont(ln(greatest(output_tokens, 1)), 0.75) + leak_th('output_verbosity.fence_iqr')
               * (quantile_cont(ln(greatest(output_tokens, 1)), 0.75)
                  - quantile_cont(ln(greatest(output_tokens, 1)), 0.25))) AS fence_tokens,
           grouping(model) = 1 AS whole_feature
    FROM ok
    GROUP BY GROUPING SETS ((feature_key, model), (feature_key))
),

judged AS (
    SELECT o.*, t.ok_calls, t.uncapped_calls, t.typical_tokens AS feature_typical_tokens,
           CASE WHEN m.n >= leak_th('output_verbosity.min_feature_calls') AND m.typical_tokens > 0
                THEN m.typical_tokens ELSE t.typical_tokens END AS typical_tokens,
           CASE WHEN m.n >= leak_th('output_verbosity.min_feature_calls') AND m.typical_tokens > 0
                THEN m.fence_tokens ELSE f.fence_tokens END AS fence_tokens
    FROM ok AS o
    JOIN typical AS t USING (feature_key)
    LEFT JOIN spreads AS m ON m.feature_key = o.feature_key AND m.model IS NOT DISTINCT FROM o.model
                          AND NOT m.whole_feature
    LEFT JOIN spreads AS f ON f.feature_key = o.feature_key AND f.whole_feature
),

flagged AS (
    SELECT
        * EXCLUDE (fence_tokens),
        leak_share(output_cost_usd, output_tokens - typical_tokens, output_tokens) AS waste_usd
    FROM judged
    WHERE max_tokens IS NULL
      AND output_tokens > leak_th('output_verbosity.k_p50') * typical_tokens
      AND output_tokens > leak_th('output_verbosity.min_tokens')
      AND output_tokens > coalesce(fence_tokens, 0)
),

found AS (
    SELECT
        feature_key AS feature,
        CASE WHEN count(DISTINCT model) = 1 THEN any_value(model) END AS model,
        any_value(task_class) AS task_class,
        count(*) AS calls_affected,
        sum(waste_usd) AS wasted_usd,
        sum(cost_usd) AS affected_cost_usd,
        -- one length when the calls share it (one model), else the feature's: the evidence is the same every run
        CASE WHEN count(DISTINCT typical_tokens) = 1 THEN any_value(typical_tokens)
             ELSE any_value(feature_typical_tokens) END AS typical_tokens,
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
