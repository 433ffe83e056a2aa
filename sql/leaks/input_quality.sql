-- requires: leak_calls, leak_examples, leak_feature_totals, leak_th, leak_thresholds_json
-- creates: none
-- input_quality (docs/definitions.md#input_quality): failures caused by the request itself — invalid or
-- over-long input (HTTP 400 / 413 / 422, context length exceeded, invalid request / argument; not 429, 408 or
-- 5xx) — and the failed retries of the same prompt in the same task (leak_calls.bad_input_chain,
-- sql/leaks/_prelude.sql).
-- Waste = cost of those calls (a failure the provider did not bill costs nothing but is still counted).
-- Lever: context_discipline when most are context-length failures, else stability_guardrails (validate input).
-- Inputs: leak_calls, leak_feature_totals, leak_thresholds.
WITH bad AS (
    SELECT
        *,
        regexp_matches(lower(coalesce(error_type, '')),
                       'context_length|context_window|too_long|too_many_tokens|prompt_too_large')
            OR http_status = 413 AS too_long
    FROM leak_calls
    WHERE bad_input_chain
),

found AS (
    SELECT
        feature_key AS feature,
        CASE WHEN count(DISTINCT model) = 1 THEN any_value(model) END AS model,
        any_value(task_class) AS task_class,
        count(*) AS calls_affected,
        count(*) FILTER (WHERE bad_input) AS bad_input_failures,
        count(*) FILTER (WHERE NOT bad_input) AS failed_retries,
        count(*) FILTER (WHERE too_long) AS too_long_failures,
        count(DISTINCT task_key) AS tasks,
        count(*) - count(DISTINCT (task_key, coalesce(prompt_hash, error_type))) AS resent,
        coalesce(sum(cost_usd), 0) AS wasted_usd,
        coalesce(sum(cost_usd), 0) AS affected_cost_usd,
        leak_examples(call_id, cost_usd) AS example_call_ids
    FROM bad
    GROUP BY feature_key
    HAVING count(*) FILTER (WHERE bad_input) >= leak_th('input_quality.min_calls')
),

-- calls per error type, as a map in key order (what DuckDB's histogram() gives, written so Spark runs it
-- too)
error_types AS (
    SELECT feature_key, map_from_entries(list({'key': error_kind, 'value': calls} ORDER BY error_kind)) AS error_types
    FROM (
        SELECT feature_key, coalesce(error_type, CAST(http_status AS VARCHAR), 'error') AS error_kind, count(*) AS calls
        FROM bad
        GROUP BY 1, 2
    )
    GROUP BY feature_key
)

SELECT
    'input_quality' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    'high' AS confidence_at_most,
    json_object(
        'sub_kind', CASE WHEN 2 * f.too_long_failures >= f.calls_affected THEN 'input_too_long' ELSE 'invalid_input' END,
        'counts', json_object(
            'calls_affected', f.calls_affected,
            'bad_input_failures', f.bad_input_failures,
            'failed_retries_of_same_input', f.failed_retries,
            'resends_of_failed_input', f.resent,
            'context_length_failures', f.too_long_failures,
            'tasks', f.tasks,
            'feature_calls', ft.calls),
        'error_types', to_json(e.error_types),
        'thresholds', leak_thresholds_json('input_quality'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    format('{} calls in {} tasks failed on their own input ({} over the context window), {} of them resending '
           || 'input that had already failed; validate and trim input before calling', f.calls_affected, f.tasks,
           f.too_long_failures, f.resent) AS explanation,
    CASE WHEN 2 * f.too_long_failures >= f.calls_affected THEN 'context_discipline' ELSE 'stability_guardrails' END
        AS lever,
    'input_quality.savings' AS savings_factors,
    'low' AS quality_risk,
    f.affected_cost_usd
FROM found AS f
JOIN leak_feature_totals AS ft ON ft.feature_key = f.feature
LEFT JOIN error_types AS e ON e.feature_key = f.feature
