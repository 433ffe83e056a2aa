-- requires: leak_calls, leak_examples, leak_feature_totals, leak_share, leak_th, leak_thresholds_json
-- creates: none
-- context_bloat (docs/definitions.md#context_bloat): context far above the feature's own typical size. Two sub-kinds:
--   growing_history: a conversation (session_id) whose context grows on >= growth_min_turns turns in a row and
--       ends >= growth_min_ratio times where the run began — the whole history is resent each turn;
--       every turn of such a run above the typical size counts;
--   oversized_input: any other call above k_p50 x the typical size and above min_tokens.
-- Typical size = p50 context tokens (input + cache read + cache writes) of the feature's ok calls outside
-- growing runs (all its ok calls when every call is in one). Needs min_feature_calls ok calls.
-- Waste = tokens above the typical size x that call's own input price (its input-side cost x excess share,
-- so cached tokens count at the cache price). One finding per feature and sub-kind.
-- Inputs: leak_calls, leak_feature_totals, leak_thresholds (sql/leaks/_prelude.sql).
WITH calls AS NOT MATERIALIZED (
    -- read three times: re-scanned each time rather than held in memory (~10M calls)
    SELECT call_id, feature_key, session_id, model, task_class, ts, context_tokens, input_side_cost_usd, cost_usd
    FROM leak_calls
    WHERE status = 'ok' AND priced AND context_tokens > 0
),

turns AS (
    SELECT
        *,
        CASE WHEN context_tokens > lag(context_tokens) OVER w THEN 0 ELSE 1 END AS run_start
    FROM calls
    WHERE session_id IS NOT NULL
    WINDOW w AS (PARTITION BY feature_key, session_id ORDER BY ts, call_id)
),

runs AS (
    SELECT
        call_id, feature_key, session_id, ts, context_tokens,
        sum(run_start) OVER (PARTITION BY feature_key, session_id ORDER BY ts, call_id ROWS UNBOUNDED PRECEDING)
            AS run_no
    FROM turns
),

growing_runs AS (
    SELECT feature_key, session_id, run_no, count(*) AS turns
    FROM runs
    GROUP BY feature_key, session_id, run_no
    HAVING count(*) >= leak_th('context_bloat.growth_min_turns')
       AND arg_max(context_tokens, ts) >= leak_th('context_bloat.growth_min_ratio') * arg_min(context_tokens, ts)
),

growth_calls AS (
    SELECT r.call_id, g.turns
    FROM runs AS r
    JOIN growing_runs AS g USING (feature_key, session_id, run_no)
),

typical AS (
    SELECT
        c.feature_key,
        count(*) AS ok_calls,
        coalesce(quantile_cont(c.context_tokens, 0.5) FILTER (WHERE g.call_id IS NULL),
                 quantile_cont(c.context_tokens, 0.5)) AS typical_tokens
    FROM calls AS c
    LEFT JOIN growth_calls AS g USING (call_id)
    GROUP BY c.feature_key
    HAVING count(*) >= leak_th('context_bloat.min_feature_calls')
),

flagged AS (
    SELECT
        c.*,
        t.typical_tokens,
        t.ok_calls,
        g.turns AS run_turns,
        CASE WHEN g.call_id IS NOT NULL THEN 'growing_history' ELSE 'oversized_input' END AS sub_kind,
        leak_share(c.input_side_cost_usd, c.context_tokens - t.typical_tokens, c.context_tokens) AS waste_usd
    FROM calls AS c
    JOIN typical AS t USING (feature_key)
    LEFT JOIN growth_calls AS g USING (call_id)
    WHERE c.context_tokens > t.typical_tokens
      AND (g.call_id IS NOT NULL
           OR (c.context_tokens > leak_th('context_bloat.k_p50') * t.typical_tokens
               AND c.context_tokens > leak_th('context_bloat.min_tokens')))
),

found AS (
    SELECT
        feature_key AS feature,
        sub_kind,
        CASE WHEN count(DISTINCT model) = 1 THEN any_value(model) END AS model,
        any_value(task_class) AS task_class,
        count(*) AS calls_affected,
        sum(waste_usd) AS wasted_usd,
        sum(cost_usd) AS affected_cost_usd,
        any_value(typical_tokens) AS typical_tokens,
        any_value(ok_calls) AS ok_calls,
        CAST(sum(context_tokens - typical_tokens) AS BIGINT) AS excess_tokens,
        CAST(avg(context_tokens) AS BIGINT) AS avg_context_tokens,
        max(context_tokens) AS max_context_tokens,
        count(DISTINCT session_id) AS conversations,
        max(run_turns) AS longest_run_turns,
        leak_examples(call_id, waste_usd) AS example_call_ids
    FROM flagged
    GROUP BY feature_key, sub_kind
)

SELECT
    'context_bloat' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    'high' AS confidence_at_most,
    json_object(
        'sub_kind', f.sub_kind,
        'counts', json_object(
            'calls_affected', f.calls_affected,
            'feature_ok_calls', f.ok_calls,
            'conversations', CASE WHEN f.sub_kind = 'growing_history' THEN f.conversations END,
            'longest_growth_turns', f.longest_run_turns,
            'excess_tokens', f.excess_tokens),
        'typical_context_tokens', f.typical_tokens,
        'avg_context_tokens_affected', f.avg_context_tokens,
        'max_context_tokens', f.max_context_tokens,
        'wasted_share_of_feature_spend', CAST(f.wasted_usd AS DOUBLE) / nullif(CAST(ft.cost_usd AS DOUBLE), 0),
        'thresholds', leak_thresholds_json('context_bloat'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    CASE f.sub_kind
        WHEN 'growing_history' THEN format(
            '{} conversations resend their whole history: {} turns grow to up to {} context tokens against a '
            || 'typical {}; summarise or window the history', f.conversations, f.calls_affected,
            f.max_context_tokens, CAST(round(f.typical_tokens) AS BIGINT))
        ELSE format(
            '{} calls send on average {} context tokens, {}x the typical {}; trim retrieved documents and history',
            f.calls_affected, f.avg_context_tokens, round(f.avg_context_tokens / f.typical_tokens, 1),
            CAST(round(f.typical_tokens) AS BIGINT))
    END AS explanation,
    'context_discipline' AS lever,
    'context_bloat.savings' AS savings_factors,
    'medium' AS quality_risk,
    f.affected_cost_usd
FROM found AS f
JOIN leak_feature_totals AS ft ON ft.feature_key = f.feature
