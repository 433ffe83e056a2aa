-- requires: leak_batch_providers, leak_calls, leak_examples, leak_scale, leak_th, leak_thresholds_json
-- creates: none
-- batchable (docs/definitions.md#batchable): traffic of a non-interactive feature paid at synchronous prices
-- where the provider offers a batch API (costlens.leaks.detect.BATCH_PROVIDERS).
-- Non-interactive: `interactive = false` in [features.<name>] (basis 'config'), or — when the config does not
-- say — clear signs in the traffic (basis 'traffic_pattern'): >= nightly_share of its calls in the nightly
-- window [nightly_start_hour, nightly_end_hour) UTC AND >= anonymous_share of them with no user_id and no
-- session_id, over >= min_calls calls. A feature configured `interactive = true` is never flagged.
-- Waste = computed cost of its standard-variant calls − the same tokens at the batch variant's prices (the
-- catalog's batch price where it has one; else the provider's documented discount, fallback_discount).
-- Inputs: leak_calls, leak_batch_providers, leak_feature_totals, leak_thresholds.
WITH traffic AS (
    SELECT
        c.feature_key,
        count(*) AS calls,
        avg(CASE WHEN (w.s < w.e AND hour(c.ts) >= w.s AND hour(c.ts) < w.e)
                   OR (w.s >= w.e AND (hour(c.ts) >= w.s OR hour(c.ts) < w.e)) THEN 1.0 ELSE 0.0 END)
            AS nightly_share,
        avg(CASE WHEN c.user_id IS NULL AND c.session_id IS NULL THEN 1.0 ELSE 0.0 END) AS anonymous_share,
        any_value(c.interactive) AS interactive
    FROM leak_calls AS c
    CROSS JOIN (SELECT leak_th('batchable.nightly_start_hour') AS s, leak_th('batchable.nightly_end_hour') AS e) AS w
    GROUP BY c.feature_key
),

non_interactive AS (
    SELECT *, CASE WHEN interactive = false THEN 'config' ELSE 'traffic_pattern' END AS basis
    FROM traffic
    WHERE interactive = false
       OR (interactive IS NULL
           AND calls >= leak_th('batchable.min_calls')
           AND nightly_share >= leak_th('batchable.nightly_share')
           AND anonymous_share >= leak_th('batchable.anonymous_share'))
),

repriced AS (
    SELECT
        c.call_id, c.feature_key, c.model, c.task_class, c.cost_usd, c.computed_cost_usd,
        coalesce(c.batch_variant_applied, false) AS catalog_batch_price,
        c.computed_cost_usd - CASE
            WHEN c.batch_variant_applied THEN CAST(
                (c.input_tokens * c.batch_input_mtok
                 + c.cache_read_tokens * c.batch_cache_read_mtok
                 + c.cache_write_5m_tokens * c.batch_cache_write_5m_mtok
                 + c.cache_write_1h_tokens * c.batch_cache_write_1h_mtok
                 + (c.output_tokens - greatest(least(c.reasoning_tokens, c.output_tokens), 0)) * c.batch_output_mtok
                 + greatest(least(c.reasoning_tokens, c.output_tokens), 0) * c.batch_reasoning_mtok)
                * 0.000001::DECIMAL(7, 6) + c.batch_request_usd AS DECIMAL(38, 18))
            ELSE leak_scale(c.computed_cost_usd, 1 - leak_th('batchable.fallback_discount'))
        END AS saving_usd
    FROM leak_calls AS c
    JOIN non_interactive AS n USING (feature_key)
    WHERE c.variant = 'standard' AND c.priced AND c.computed_cost_usd IS NOT NULL
      AND coalesce(c.provider, '') IN (SELECT provider FROM leak_batch_providers)
),

found AS (
    SELECT
        r.feature_key AS feature,
        CASE WHEN count(DISTINCT r.model) = 1 THEN any_value(r.model) END AS model,
        any_value(r.task_class) AS task_class,
        count(*) AS calls_affected,
        count(*) FILTER (WHERE r.catalog_batch_price) AS calls_at_catalog_batch_price,
        count(*) FILTER (WHERE NOT r.catalog_batch_price) AS calls_at_documented_discount,
        sum(r.saving_usd) AS wasted_usd,
        sum(r.cost_usd) AS affected_cost_usd,
        leak_examples(r.call_id, r.saving_usd) AS example_call_ids
    FROM repriced AS r
    GROUP BY r.feature_key
)

SELECT
    'batchable' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    CASE WHEN n.basis = 'config' THEN 'high' ELSE 'medium' END AS confidence_at_most,  -- a traffic pattern only suggests batch work
    json_object(
        'sub_kind', n.basis,
        'counts', json_object(
            'calls_affected', f.calls_affected,
            'feature_calls', n.calls,
            'calls_at_catalog_batch_price', f.calls_at_catalog_batch_price,
            'calls_at_documented_discount', f.calls_at_documented_discount),
        'configured_interactive', n.interactive,
        'nightly_share', n.nightly_share,
        'anonymous_share', n.anonymous_share,
        'batch_price', CASE
            WHEN f.calls_at_documented_discount = 0 THEN 'catalog batch variant'
            WHEN f.calls_at_catalog_batch_price = 0 THEN format('documented {}% batch discount (no catalog batch price)',
                                                                 CAST(round(100 * leak_th('batchable.fallback_discount')) AS BIGINT))
            ELSE 'catalog batch variant where present, else the documented batch discount' END,
        'thresholds', leak_thresholds_json('batchable'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    CASE n.basis
        WHEN 'config' THEN format('{} calls of a feature configured non-interactive ran at synchronous prices; '
                                  || 'the batch API costs less', f.calls_affected)
        ELSE format('{}% of the calls run at night ({}–{} h UTC) with no user or session: {} calls could go '
                    || 'through the batch API', CAST(round(100 * n.nightly_share) AS BIGINT),
                    CAST(leak_th('batchable.nightly_start_hour') AS BIGINT),
                    CAST(leak_th('batchable.nightly_end_hour') AS BIGINT), f.calls_affected)
    END AS explanation,
    'batch_processing' AS lever,
    'batchable.savings' AS savings_factors,
    'low' AS quality_risk,
    f.affected_cost_usd
FROM found AS f
JOIN non_interactive AS n ON n.feature_key = f.feature
