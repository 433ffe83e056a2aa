-- requires: leak_calls, leak_examples, leak_feature_totals, leak_th, leak_thresholds_json
-- creates: none
-- retries (docs/definitions.md#retries): attempts that produced nothing used.
--   failed attempts: calls with status 'error' (timeouts, 5xx, rate limits, …) — a failure the provider billed
--       (tokens logged) costs money; unbilled ones (e.g. 429s) are counted but cost nothing;
--   same-prompt repeats: an ok call followed, in the same task, by another call with the same prompt_hash —
--       only the last answer was used (needs prompt_hash; without fingerprints only failures are found).
-- Bad-input failures and their retries are input_quality's, not counted here.
-- Waste = cost of those calls. One finding per feature with >= retries.min_calls such calls.
-- Inputs: leak_calls, leak_feature_totals, leak_thresholds.
WITH calls AS (
    -- the window runs only over calls with a fingerprint: a call without one is never superseded
    SELECT
        *,
        status = 'error' AS failed_attempt,
        status = 'ok'
            AND lead(call_id) OVER (PARTITION BY task_key, prompt_hash ORDER BY ts, call_id) IS NOT NULL
            AS superseded
    FROM leak_calls
    WHERE NOT bad_input_chain AND prompt_hash IS NOT NULL
    UNION ALL
    SELECT *, status = 'error' AS failed_attempt, false AS superseded
    FROM leak_calls
    WHERE NOT bad_input_chain AND prompt_hash IS NULL
),

wasted AS (
    SELECT * FROM calls WHERE failed_attempt OR superseded
),

found AS (
    SELECT
        feature_key AS feature,
        CASE WHEN count(DISTINCT model) = 1 THEN any_value(model) END AS model,
        any_value(task_class) AS task_class,
        count(*) AS calls_affected,
        count(*) FILTER (WHERE failed_attempt) AS failed_attempts,
        count(*) FILTER (WHERE failed_attempt AND coalesce(cost_usd, 0) = 0) AS unbilled_failures,
        count(*) FILTER (WHERE superseded) AS same_prompt_repeats,
        count(DISTINCT task_key) AS tasks,
        coalesce(sum(cost_usd), 0) AS wasted_usd,
        coalesce(sum(cost_usd), 0) AS affected_cost_usd,
        coalesce(sum(cost_usd) FILTER (WHERE failed_attempt), 0) AS failed_cost_usd,
        coalesce(sum(cost_usd) FILTER (WHERE superseded), 0) AS repeat_cost_usd,
        leak_examples(call_id, cost_usd) AS example_call_ids
    FROM wasted
    GROUP BY feature_key
    HAVING count(*) >= leak_th('retries.min_calls')
),

-- failed attempts per error type, as a map in key order (what DuckDB's histogram() gives, written so Spark runs it
-- too); a feature without failures has none (NULL, as histogram() of no rows)
error_types AS (
    SELECT feature_key, map_from_entries(list({'key': error_kind, 'value': calls} ORDER BY error_kind)) AS error_types
    FROM (
        SELECT feature_key, coalesce(error_type, CAST(http_status AS VARCHAR), 'error') AS error_kind, count(*) AS calls
        FROM wasted
        WHERE failed_attempt
        GROUP BY 1, 2
    )
    GROUP BY feature_key
)

SELECT
    'retries' AS kind,
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
            'failed_attempts', f.failed_attempts,
            'unbilled_failures', f.unbilled_failures,
            'same_prompt_repeats', f.same_prompt_repeats,
            'tasks', f.tasks,
            'feature_calls', ft.calls),
        'failed_cost_usd', CAST(f.failed_cost_usd AS DOUBLE),
        'repeat_cost_usd', CAST(f.repeat_cost_usd AS DOUBLE),
        'wasted_call_share', f.calls_affected / ft.calls,
        'error_types', to_json(e.error_types),
        'fingerprints', (SELECT count(prompt_hash) > 0 FROM leak_calls l WHERE l.feature_key = f.feature),
        'thresholds', leak_thresholds_json('retries'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    format('{} of {} calls produced nothing used ({} failed attempts, {} same-prompt repeats in {} tasks)',
           f.calls_affected, ft.calls, f.failed_attempts, f.same_prompt_repeats, f.tasks) AS explanation,
    'stability_guardrails' AS lever,
    'retries.savings' AS savings_factors,
    'low' AS quality_risk,
    f.affected_cost_usd
FROM found AS f
JOIN leak_feature_totals AS ft ON ft.feature_key = f.feature
LEFT JOIN error_types AS e ON e.feature_key = f.feature
