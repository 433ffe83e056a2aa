-- requires: leak_calls, leak_examples, leak_feature_totals, leak_share, leak_th, leak_thresholds_json
-- creates: none
-- context_bloat (docs/definitions.md#context_bloat): context far above the feature's own typical size. Three sub-kinds:
--   growing_history: a conversation (session_id) whose context grows on >= growth_min_turns turns in a row and
--       ends >= growth_min_ratio times where the run began — the whole history is resent each turn;
--       every turn of such a run above the typical size counts;
--   oversized_input: any other call above k_p50 x the typical size, above min_tokens and beyond the outlier
--       fence of its group's spread (Q3 + fence_iqr x IQR of ln tokens);
--   upper_mode: a share of a feature's calls (per model) that forms a second, larger mode of context size — a
--       knowledge base pasted into some requests — below the k_p50 multiple. Found on the histogram of
--       log2(context tokens) in bins of 1/8 doubling, smoothed over +-2 bins: Otsu's split separates the two
--       classes; the modes are the highest smoothed local maxima on either side; the cut is the lowest bin between
--       them, which must be at most upper_max_valley x the lower of the two peaks and below it by
--       upper_valley_z x its square root (a real valley, not counting noise or a skewed single mode). The upper class must hold upper_min_share..upper_max_share of the calls and
--       its median be >= upper_min_ratio x the lean class's median; the group needs upper_min_calls calls.
--       Waste = tokens above the lean class's median (evidence gives the range against its p75 and p25).
-- Typical size = p50 context tokens (input + cache read + cache writes) of the ok calls outside growing runs of
-- the call's model in the feature, or of the whole feature when that model has fewer than min_feature_calls
-- (all its ok calls when every call is in a growing run). Needs min_feature_calls ok calls.
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

-- The size each call is judged against: its own model's typical size in the feature when that model has
-- min_feature_calls calls outside growing runs (a feature may send long documents to one model and short
-- questions to another), else the feature's. Oversized is also beyond the outlier fence (Tukey's, on a log scale) of that group's own
-- spread (Q3 + fence_iqr x IQR of ln tokens): sizes a wide distribution produces by itself are no leak.
spreads AS (
    SELECT c.feature_key, c.model, grouping(c.model) = 1 AS whole_feature, count(*) AS n,
           quantile_cont(c.context_tokens, 0.5) AS typical_tokens,
           exp(quantile_cont(ln(c.context_tokens), 0.75) + leak_th('context_bloat.fence_iqr')
               * (quantile_cont(ln(c.context_tokens), 0.75) - quantile_cont(ln(c.context_tokens), 0.25)))
               AS fence_tokens
    FROM calls AS c
    LEFT JOIN growth_calls AS g USING (call_id)
    WHERE g.call_id IS NULL
    GROUP BY GROUPING SETS ((c.feature_key, c.model), (c.feature_key))
),

judged AS (
    SELECT c.*, t.ok_calls, t.typical_tokens AS feature_typical_tokens, g.turns AS run_turns,
           g.call_id IS NOT NULL AS in_growth,
           CASE WHEN m.n >= leak_th('context_bloat.min_feature_calls') THEN m.typical_tokens
                ELSE t.typical_tokens END AS typical_tokens,
           CASE WHEN m.n >= leak_th('context_bloat.min_feature_calls') THEN m.fence_tokens
                ELSE f.fence_tokens END AS fence_tokens
    FROM calls AS c
    JOIN typical AS t USING (feature_key)
    LEFT JOIN growth_calls AS g USING (call_id)
    LEFT JOIN spreads AS m ON m.feature_key = c.feature_key AND m.model IS NOT DISTINCT FROM c.model
                          AND NOT m.whole_feature
    LEFT JOIN spreads AS f ON f.feature_key = c.feature_key AND f.whole_feature
),

sized AS (
    SELECT * EXCLUDE (fence_tokens),
           NOT in_growth
           AND context_tokens > leak_th('context_bloat.k_p50') * typical_tokens
           AND context_tokens > leak_th('context_bloat.min_tokens')
           AND context_tokens > coalesce(fence_tokens, 0) AS oversized
    FROM judged
),

-- the calls the upper-mode search reads: neither growing history nor beyond the oversized multiple
mode_calls AS (
    SELECT * EXCLUDE (run_turns, in_growth, oversized), CAST(round(log2(context_tokens) * 8) AS INTEGER) AS bin
    FROM sized
    WHERE NOT in_growth AND NOT oversized
),

mode_groups AS (
    SELECT feature_key, model, count(*) AS n, min(bin) AS lo, max(bin) AS hi
    FROM mode_calls
    GROUP BY feature_key, model
    HAVING count(*) >= leak_th('context_bloat.upper_min_calls')
),

-- every bin from the group's smallest to its largest, empty ones included, smoothed over +-2 bins
histogram AS (
    SELECT g.feature_key, g.model, g.n AS group_calls, b.bin, coalesce(h.n, 0) AS n,
           sum(coalesce(h.n, 0)) OVER (PARTITION BY g.feature_key, g.model ORDER BY b.bin
                                       ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS smoothed
    FROM mode_groups AS g
    CROSS JOIN LATERAL (SELECT unnest(range(g.lo, g.hi + 1)) AS bin) AS b
    LEFT JOIN (SELECT feature_key, model, bin, count(*) AS n FROM mode_calls GROUP BY ALL) AS h
        ON h.feature_key = g.feature_key AND h.model IS NOT DISTINCT FROM g.model AND h.bin = b.bin
),

-- a peak is a local maximum of the smoothed counts (the smoothing spills the lean mode past the split: that
-- slope is not a second peak)
bins AS (
    SELECT *,
           smoothed >= coalesce(lag(smoothed) OVER w, 0) AND smoothed >= coalesce(lead(smoothed) OVER w, 0)
               AS is_peak
    FROM histogram
    WINDOW w AS (PARTITION BY feature_key, model ORDER BY bin)
),

-- Otsu: the split that maximises the between-class variance of the bins
otsu_terms AS (
    SELECT *,
           sum(n) OVER w AS w0,
           sum(n * bin) OVER w AS s0,
           sum(n * bin) OVER (PARTITION BY feature_key, model) AS s_all
    FROM bins
    WINDOW w AS (PARTITION BY feature_key, model ORDER BY bin ROWS UNBOUNDED PRECEDING)
),

-- (ties — a split moved across empty bins, a plateau — go to the lowest bin, so every run finds the same)
splits AS (
    SELECT feature_key, model,
           arg_max(bin, (CAST(w0 AS DOUBLE) * (group_calls - w0)
                         * power(s0 / w0 - (s_all - s0) / (group_calls - w0), 2), -bin)) AS split
    FROM otsu_terms
    WHERE w0 > 0 AND w0 < group_calls
    GROUP BY feature_key, model
),

peaks AS (
    SELECT h.feature_key, h.model,
           arg_max(h.bin, (h.smoothed, -h.bin)) FILTER (WHERE h.bin <= s.split) AS lean_peak_bin,
           max(h.smoothed) FILTER (WHERE h.bin <= s.split) AS lean_peak,
           arg_max(h.bin, (h.smoothed, -h.bin)) FILTER (WHERE h.bin > s.split AND h.is_peak) AS upper_peak_bin,
           max(h.smoothed) FILTER (WHERE h.bin > s.split AND h.is_peak) AS upper_peak
    FROM bins AS h
    JOIN splits AS s ON s.feature_key = h.feature_key AND s.model IS NOT DISTINCT FROM h.model
    GROUP BY h.feature_key, h.model
),

valleys AS (
    SELECT p.*,
           arg_min(h.bin, (h.smoothed, h.bin)) AS cut_bin,
           min(h.smoothed) AS valley
    FROM peaks AS p
    JOIN bins AS h ON h.feature_key = p.feature_key AND h.model IS NOT DISTINCT FROM p.model
                   AND h.bin > p.lean_peak_bin AND h.bin < p.upper_peak_bin
    GROUP BY ALL
    HAVING min(h.smoothed) <= leak_th('context_bloat.upper_max_valley') * least(p.lean_peak, p.upper_peak)
       -- and deeper than counting noise: a smoothed count is a sum of counts, its noise ~ its square root
       AND least(p.lean_peak, p.upper_peak) - min(h.smoothed)
           >= leak_th('context_bloat.upper_valley_z') * sqrt(least(p.lean_peak, p.upper_peak))
),

upper_stats AS (
    SELECT v.feature_key, v.model,
           any_value(v.cut_bin) AS cut_bin,
           any_value(v.valley) AS valley,
           any_value(least(v.lean_peak, v.upper_peak)) AS lower_peak,
           count(*) AS group_calls,
           count(*) FILTER (WHERE c.bin > v.cut_bin) AS upper_calls,
           quantile_cont(c.context_tokens, 0.25) FILTER (WHERE c.bin <= v.cut_bin) AS lean_p25,
           quantile_cont(c.context_tokens, 0.5) FILTER (WHERE c.bin <= v.cut_bin) AS lean_p50,
           quantile_cont(c.context_tokens, 0.75) FILTER (WHERE c.bin <= v.cut_bin) AS lean_p75,
           quantile_cont(c.context_tokens, 0.5) FILTER (WHERE c.bin > v.cut_bin) AS upper_p50
    FROM valleys AS v
    JOIN mode_calls AS c ON c.feature_key = v.feature_key AND c.model IS NOT DISTINCT FROM v.model
    GROUP BY v.feature_key, v.model
),

upper_modes AS (
    SELECT *
    FROM upper_stats
    WHERE upper_calls >= leak_th('context_bloat.upper_min_share') * group_calls
      AND upper_calls <= leak_th('context_bloat.upper_max_share') * group_calls
      AND upper_p50 >= leak_th('context_bloat.upper_min_ratio') * lean_p50
),

upper_totals AS (
    SELECT feature_key, sum(group_calls) AS mode_group_calls FROM upper_modes GROUP BY feature_key
),

-- the evidence: the feature's calls per half doubling of context tokens (the models with an upper mode)
upper_histograms AS (
    SELECT feature_key,
           list({'tokens_from': CAST(round(power(2, half / 2.0)) AS BIGINT),
                 'tokens_to': CAST(round(power(2, (half + 1) / 2.0)) AS BIGINT),
                 'calls': calls} ORDER BY half) AS histogram
    FROM (
        SELECT c.feature_key, CAST(floor(log2(c.context_tokens) * 2) AS INTEGER) AS half, count(*) AS calls
        FROM mode_calls AS c
        JOIN upper_modes AS u ON u.feature_key = c.feature_key AND u.model IS NOT DISTINCT FROM c.model
        GROUP BY ALL
    )
    GROUP BY feature_key
),

flagged AS (
    SELECT
        * EXCLUDE (in_growth, oversized),
        CASE WHEN in_growth THEN 'growing_history' ELSE 'oversized_input' END AS sub_kind,
        leak_share(input_side_cost_usd, context_tokens - typical_tokens, context_tokens) AS waste_usd
    FROM sized
    WHERE context_tokens > typical_tokens AND (in_growth OR oversized)
    UNION ALL BY NAME
    SELECT
        c.* EXCLUDE (typical_tokens, bin),
        u.lean_p50 AS typical_tokens,
        'upper_mode' AS sub_kind,
        leak_share(c.input_side_cost_usd, c.context_tokens - u.lean_p50, c.context_tokens) AS waste_usd,
        leak_share(c.input_side_cost_usd, greatest(c.context_tokens - u.lean_p75, 0), c.context_tokens)
            AS waste_low_usd,
        leak_share(c.input_side_cost_usd, c.context_tokens - u.lean_p25, c.context_tokens) AS waste_high_usd,
        u.lean_p25, u.lean_p75, u.upper_p50
    FROM mode_calls AS c
    JOIN upper_modes AS u ON u.feature_key = c.feature_key AND u.model IS NOT DISTINCT FROM c.model
    WHERE c.bin > u.cut_bin
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
        -- one size when the calls share it (one model), else the feature's: the evidence is the same every run
        CASE WHEN count(DISTINCT typical_tokens) = 1 THEN any_value(typical_tokens)
             ELSE any_value(feature_typical_tokens) END AS typical_tokens,
        any_value(ok_calls) AS ok_calls,
        CAST(sum(context_tokens - typical_tokens) AS BIGINT) AS excess_tokens,
        CAST(avg(context_tokens) AS BIGINT) AS avg_context_tokens,
        max(context_tokens) AS max_context_tokens,
        count(DISTINCT session_id) AS conversations,
        max(run_turns) AS longest_run_turns,
        leak_examples(call_id, waste_usd) AS example_call_ids,
        sum(waste_low_usd) AS wasted_low_usd,
        sum(waste_high_usd) AS wasted_high_usd,
        CAST(round(min(lean_p25)) AS BIGINT) AS lean_p25,
        CAST(round(max(lean_p75)) AS BIGINT) AS lean_p75,
        CAST(round(max(upper_p50)) AS BIGINT) AS upper_p50
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
    json_merge_patch(json_object(
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
    ), CASE WHEN f.sub_kind = 'upper_mode' THEN json_object(
        -- the lean mode the waste is measured against, and the range against its quartiles
        'share_of_model_calls', round(CAST(f.calls_affected AS DOUBLE) / ut.mode_group_calls, 4),
        'lean_context_tokens_p25_p75', [f.lean_p25, f.lean_p75],
        'upper_context_tokens_p50', f.upper_p50,
        'wasted_range_usd', [f.wasted_low_usd, f.wasted_high_usd],
        'context_histogram', h.histogram) ELSE json_object() END) AS evidence,
    CASE f.sub_kind
        WHEN 'upper_mode' THEN format(
            '{} calls ({}% of the model''s calls) form a second mode of context size: {} tokens at the median '
            || 'against a lean {}; find what the larger requests add (a pasted knowledge base, whole documents) '
            || 'and retrieve only what each request needs', f.calls_affected,
            CAST(round(100.0 * f.calls_affected / ut.mode_group_calls) AS INTEGER), f.upper_p50, CAST(round(f.typical_tokens) AS BIGINT))
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
LEFT JOIN upper_histograms AS h ON h.feature_key = f.feature AND f.sub_kind = 'upper_mode'
LEFT JOIN upper_totals AS ut ON ut.feature_key = f.feature AND f.sub_kind = 'upper_mode'
