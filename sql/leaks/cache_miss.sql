-- requires: call_sketches, leak_cache_minimums, leak_calls, leak_examples, leak_th, leak_thresholds_json, leak_usd
-- creates: none
-- cache_miss (docs/definitions.md#cache_miss), two sub-kinds (evidence.sub_kind), one finding per feature (and
-- model) each:
--   response_cache: the same full prompt (prompt_hash) answered again within response_ttl_s of its previous
--       answer, in another task (repeats inside one task are retries). Waste = the repeats' cost.
--       Needs >= response_min_repeats repeats.
--   semantic_cache: a request whose own text (messages without instructions) is a near-repeat of a request
--       answered earlier in another task of the feature, within semantic_ttl_s: the Jaccard similarity of
--       their normalised word pairs, estimated from the sketches stored at ingest (call_sketches,
--       load/prompt_sketches.sql), is at least semantic_similarity. Exact repeats within response_ttl_s are
--       response_cache's and never counted here. Candidates: requests whose sketches agree on a whole band
--       of 4 bins (LSH banding: 16 bands), each against the 2 latest earlier requests of its band, so the
--       work stays linear however alike a feature's requests are. Waste = the near-repeats' cost; hit rate =
--       near-repeats ÷ the feature's answered requests with a sketch. Needs >= semantic_min_repeats.
--   prompt_caching: a stable prefix (prefix_hash, prefix_tokens >= the provider's minimum cacheable length,
--       costlens.leaks.detect.CACHE_MINIMUMS) resent while a cache entry would still be alive (within
--       prompt_cache_ttl_s of the previous call with that prefix, same feature / provider / model) but read
--       nothing from the cache (cache_read_tokens = 0). Each lifetime window starts with a write.
--       Waste = Σ missed repeats: prefix tokens × (the price they paid − cache read price)
--             − Σ windows starting without a cache write: prefix tokens × (cache write 5m − input price),
--       per prefix, counted only where positive (caching that prefix pays). Needs >= prompt_min_repeats misses.
-- Inputs: leak_calls, call_sketches, leak_cache_minimums, leak_feature_totals, leak_thresholds.
WITH rc_last AS (
    -- the last answer of each prompt within a task (earlier ones there are retries)
    SELECT *
    FROM leak_calls
    WHERE status = 'ok' AND prompt_hash IS NOT NULL AND NOT bad_input_chain
    QUALIFY row_number() OVER (PARTITION BY task_key, prompt_hash ORDER BY ts DESC, call_id DESC) = 1
),

rc_seq AS (
    SELECT *, lag(ts) OVER (PARTITION BY feature_key, prompt_hash ORDER BY ts, call_id) AS previous_ts
    FROM rc_last
),

rc_repeats AS (
    SELECT *
    FROM rc_seq
    WHERE previous_ts IS NOT NULL
      AND date_diff('second', previous_ts, ts) <= leak_th('cache_miss.response_ttl_s')
),

rc_found AS (
    SELECT
        r.feature_key AS feature,
        CASE WHEN count(DISTINCT r.model) = 1 THEN any_value(r.model) END AS model,
        any_value(r.task_class) AS task_class,
        count(*) AS calls_affected,
        coalesce(sum(r.cost_usd), 0) AS wasted_usd,
        coalesce(sum(r.cost_usd), 0) AS affected_cost_usd,
        count(DISTINCT r.prompt_hash) AS distinct_prompts,
        coalesce(any_value(a.answered_prompts), 0) AS answered_prompts,
        CAST(median(date_diff('second', r.previous_ts, r.ts)) AS BIGINT) AS median_seconds_since_previous,
        leak_examples(r.call_id, r.cost_usd) AS example_call_ids
    FROM rc_repeats AS r
    -- the feature's answered prompts, joined rather than a subquery per group (Spark runs no correlated
    -- subquery inside an aggregate)
    LEFT JOIN (SELECT feature_key, count(*) AS answered_prompts FROM rc_last GROUP BY feature_key) AS a
        ON a.feature_key = r.feature_key
    GROUP BY r.feature_key
    HAVING count(*) >= leak_th('cache_miss.response_min_repeats')
),

sc_calls AS (
    -- answered requests with a sketch, less the exact repeats response_cache counts
    SELECT r.call_id, r.ts, r.feature_key, r.task_key, r.model, r.task_class, r.cost_usd
    FROM rc_seq AS r
    JOIN call_sketches AS k ON k.call_id = r.call_id
    WHERE r.previous_ts IS NULL OR date_diff('second', r.previous_ts, r.ts) > leak_th('cache_miss.response_ttl_s')
),

sc_values AS (
    SELECT c.call_id, c.ts, c.feature_key, unnest(k.sketch) AS v
    FROM sc_calls AS c
    JOIN call_sketches AS k ON k.call_id = c.call_id
),

sc_bands AS (
    -- a band's key: its bins' values, told apart by count, least, greatest and sum
    SELECT call_id, any_value(ts) AS ts, any_value(feature_key) AS feature_key, CAST(v % 64 AS BIGINT) // 4 AS band,
           count(*) AS n, min(v) AS lo, max(v) AS hi, sum(CAST(v AS BIGINT)) AS total
    FROM sc_values
    GROUP BY call_id, CAST(v % 64 AS BIGINT) // 4
),

sc_candidates AS (
    SELECT call_id, lag(call_id, 1) OVER w AS earlier_1, lag(call_id, 2) OVER w AS earlier_2
    FROM sc_bands
    WINDOW w AS (PARTITION BY feature_key, band, n, lo, hi, total ORDER BY ts, call_id)
),

sc_pairs AS (
    SELECT DISTINCT p.call_id, p.earlier_id
    FROM (SELECT call_id, earlier_1 AS earlier_id FROM sc_candidates
          UNION ALL
          SELECT call_id, earlier_2 AS earlier_id FROM sc_candidates) AS p
    JOIN sc_calls AS a ON a.call_id = p.call_id
    JOIN sc_calls AS b ON b.call_id = p.earlier_id
    WHERE a.task_key IS DISTINCT FROM b.task_key
      AND date_diff('second', b.ts, a.ts) <= leak_th('cache_miss.semantic_ttl_s')
),

sc_pair_values AS (
    SELECT p.call_id, p.earlier_id, unnest(k.sketch) AS v
    FROM sc_pairs AS p JOIN call_sketches AS k ON k.call_id = p.call_id
    UNION ALL
    SELECT p.call_id, p.earlier_id, unnest(k.sketch) AS v
    FROM sc_pairs AS p JOIN call_sketches AS k ON k.call_id = p.earlier_id
),

sc_similar AS (
    -- equal values (a value names its bin) ÷ bins filled in either sketch
    SELECT call_id, max(similarity) AS similarity
    FROM (SELECT call_id, earlier_id,
                 CAST(count(*) - count(DISTINCT v) AS DOUBLE) / count(DISTINCT v % 64) AS similarity
          FROM sc_pair_values
          GROUP BY call_id, earlier_id)
    WHERE similarity >= leak_th('cache_miss.semantic_similarity')
    GROUP BY call_id
),

sc_found AS (
    SELECT
        c.feature_key AS feature,
        CASE WHEN count(DISTINCT c.model) = 1 THEN any_value(c.model) END AS model,
        any_value(c.task_class) AS task_class,
        count(*) AS calls_affected,
        coalesce(sum(c.cost_usd), 0) AS wasted_usd,
        coalesce(sum(c.cost_usd), 0) AS affected_cost_usd,
        any_value(a.requests) AS requests,
        median(s.similarity) AS median_similarity,
        leak_examples(c.call_id, c.cost_usd) AS example_call_ids
    FROM sc_similar AS s
    JOIN sc_calls AS c ON c.call_id = s.call_id
    LEFT JOIN (SELECT feature_key, count(*) AS requests FROM sc_calls GROUP BY feature_key) AS a
        ON a.feature_key = c.feature_key
    GROUP BY c.feature_key
    HAVING count(*) >= leak_th('cache_miss.semantic_min_repeats')
),

pc_minimum AS (
    -- the provider's minimum cacheable prefix for each model: the most specific glob wins
    SELECT k.provider_key, k.model, arg_max(m.min_tokens, length(m.model_glob)) AS min_tokens
    FROM (SELECT DISTINCT coalesce(provider, '') AS provider_key, model FROM leak_calls WHERE prefix_hash IS NOT NULL) AS k
    JOIN leak_cache_minimums AS m ON k.provider_key GLOB m.provider_glob AND lower(k.model) GLOB m.model_glob
    GROUP BY k.provider_key, k.model
),

pc_calls AS (
    SELECT c.*, m.min_tokens
    FROM leak_calls AS c
    JOIN pc_minimum AS m ON m.provider_key = coalesce(c.provider, '') AND m.model = c.model
    WHERE c.status = 'ok' AND c.priced AND c.input_mtok IS NOT NULL
      AND c.prefix_hash IS NOT NULL AND c.prefix_tokens >= m.min_tokens
),

pc_seq AS (
    SELECT
        *,
        CASE WHEN lag(ts) OVER w IS NULL
                  OR date_diff('millisecond', lag(ts) OVER w, ts) > 1000 * leak_th('cache_miss.prompt_cache_ttl_s')
             THEN 1 ELSE 0 END AS window_start
    FROM pc_calls
    WINDOW w AS (PARTITION BY feature_key, provider, model, prefix_hash ORDER BY ts, call_id)
),

pc_valued AS (
    SELECT
        *,
        window_start = 0 AND cache_read_tokens = 0 AS missed,
        -- a missed repeat: its prefix was billed as uncached input (then as cache writes) instead of a read
        CASE WHEN window_start = 0 AND cache_read_tokens = 0 THEN CAST(
            (least(prefix_tokens, input_tokens) * (input_mtok - cache_read_mtok)
             + least(greatest(prefix_tokens - input_tokens, 0), cache_write_5m_tokens)
               * (cache_write_5m_mtok - cache_read_mtok))
            * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)) ELSE 0 END AS saving_usd,
        -- with caching on, each lifetime window's first call writes the prefix at the write premium
        CASE WHEN window_start = 1 AND cache_write_5m_tokens + cache_write_1h_tokens = 0 THEN CAST(
            least(prefix_tokens, input_tokens) * greatest(cache_write_5m_mtok - input_mtok, 0)
            * 0.000001::DECIMAL(7, 6) AS DECIMAL(38, 18)) ELSE 0 END AS premium_usd
    FROM pc_seq
),

pc_prefix AS (
    SELECT
        feature_key, provider, model, prefix_hash,
        any_value(min_tokens) AS min_tokens,
        any_value(task_class) AS task_class,
        count(*) AS calls,
        count(*) FILTER (WHERE missed) AS missed,
        sum(window_start) AS windows,
        sum(saving_usd) AS saving_usd,
        sum(premium_usd) AS premium_usd,
        sum(cost_usd) AS cost_usd,
        avg(prefix_tokens) AS prefix_tokens,
        -- each prefix's five largest missed savings (ties by call id): the finding's examples are the five
        -- largest of these over its prefixes, whatever order the prefixes are aggregated in
        (list({'neg_saving_usd': -saving_usd, 'call_id': call_id} ORDER BY saving_usd DESC, call_id)
             FILTER (WHERE missed))[1:5] AS missed_top
    FROM pc_valued
    GROUP BY feature_key, provider, model, prefix_hash
    HAVING sum(saving_usd) > sum(premium_usd)
),

pc_found AS (
    SELECT
        feature_key AS feature,
        model,
        any_value(provider) AS provider,
        any_value(task_class) AS task_class,
        sum(calls) AS calls_affected,
        sum(missed) AS missed,
        sum(windows) AS windows,
        count(*) AS prefixes,
        sum(saving_usd) AS gross_saving_usd,
        sum(premium_usd) AS write_premium_usd,
        sum(saving_usd) - sum(premium_usd) AS wasted_usd,
        sum(cost_usd) AS affected_cost_usd,
        CAST(sum(prefix_tokens * calls) / sum(calls) AS BIGINT) AS avg_prefix_tokens,
        min(min_tokens) AS min_cacheable_tokens,
        list_transform(list_sort(flatten(list(missed_top)))[1:5], lambda m: m.call_id) AS example_call_ids
    FROM pc_prefix
    GROUP BY feature_key, model
    HAVING sum(missed) >= leak_th('cache_miss.prompt_min_repeats')
)

SELECT
    'cache_miss' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    'high' AS confidence_at_most,
    json_object(
        'sub_kind', 'response_cache',
        'counts', json_object(
            'repeated_answers', f.calls_affected,
            'distinct_prompts_repeated', f.distinct_prompts,
            'answered_prompts', f.answered_prompts),
        'repeat_share', f.calls_affected / f.answered_prompts,
        'median_seconds_since_previous', f.median_seconds_since_previous,
        'thresholds', leak_thresholds_json('cache_miss'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    format('{} of {} answers repeat a prompt already answered ({} distinct prompts, median {} h apart); '
           || 'a response cache would serve them', f.calls_affected, f.answered_prompts, f.distinct_prompts,
           round(f.median_seconds_since_previous / 3600, 1)) AS explanation,
    'response_cache' AS lever,
    'cache_miss.response_savings' AS savings_factors,
    'medium' AS quality_risk,
    f.affected_cost_usd
FROM rc_found AS f

UNION ALL

SELECT
    'cache_miss' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    'high' AS confidence_at_most,
    json_object(
        'sub_kind', 'semantic_cache',
        'counts', json_object(
            'near_repeats', f.calls_affected,
            'requests_with_sketch', f.requests),
        'hit_rate', f.calls_affected / f.requests,
        'median_similarity', round(f.median_similarity, 3),
        'thresholds', leak_thresholds_json('cache_miss'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    format('{} of {} requests ({}%) nearly repeat a request answered earlier in another task (similarity of '
           || 'their word pairs >= {}, exact repeats not counted); a semantic cache would serve them',
           f.calls_affected, f.requests, round(100 * f.calls_affected / f.requests, 1),
           leak_th('cache_miss.semantic_similarity')) AS explanation,
    'semantic_cache' AS lever,
    'cache_miss.semantic_savings' AS savings_factors,
    'high' AS quality_risk,
    f.affected_cost_usd
FROM sc_found AS f

UNION ALL

SELECT
    'cache_miss' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.missed AS confidence_calls,
    'high' AS confidence_at_most,
    json_object(
        'sub_kind', 'prompt_caching',
        'counts', json_object(
            'calls_with_prefix', f.calls_affected,
            'missed_cache_reads', f.missed,
            'cache_windows', f.windows,
            'prefixes', f.prefixes),
        'provider', f.provider,
        'avg_prefix_tokens', f.avg_prefix_tokens,
        'min_cacheable_tokens', f.min_cacheable_tokens,
        'gross_saving_usd', CAST(f.gross_saving_usd AS DOUBLE),
        'cache_write_premium_usd', CAST(f.write_premium_usd AS DOUBLE),
        'thresholds', leak_thresholds_json('cache_miss'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    format('{} calls resent a {}-token prefix within {} s of the previous one without a cache read; prompt caching '
           || 'saves {} net of {} write premiums', f.missed, f.avg_prefix_tokens,
           CAST(leak_th('cache_miss.prompt_cache_ttl_s') AS BIGINT), leak_usd(f.wasted_usd),
           leak_usd(f.write_premium_usd)) AS explanation,
    'prompt_caching' AS lever,
    'cache_miss.prompt_savings' AS savings_factors,
    'low' AS quality_risk,
    f.affected_cost_usd
FROM pc_found AS f
