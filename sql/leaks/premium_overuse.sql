-- requires: leak_calls, leak_examples, leak_price_book, leak_routing, leak_th, leak_thresholds_json, leak_usd,
--   model_tiers, task_costs
-- creates: none
-- premium_overuse (docs/definitions.md#premium_overuse): a premium-tier model doing work a cheaper model does
-- as well. Per feature and premium model (>= min_calls calls), the first basis that holds:
--   cheaper_model_same_feature: a cheaper model (lower blended $/Mtok) already serves the same feature and is
--       shown NOT WORSE on acceptance: non-inferiority test on the difference of acceptance rates
--       (cheaper − premium), both with >= min_outcomes tasks with an outcome. The one-sided lower bound of
--       Newcombe's hybrid score interval (Wilson score intervals of each rate, at z) must exceed
--       −noninferiority_margin. The cheapest model that passes is the alternative;
--   short_output_work: the premium model's p95 output is <= short_output_p95_tokens (classification /
--       extraction / short answers), or the feature's configured task_class says so; the alternative is the
--       provider's cheaper model (costlens.leaks.detect.ROUTING_TARGETS, [leaks.routing_targets]).
-- A task counts for the model that served most of its calls. Waste = each premium call's cost minus the same
-- tokens at the alternative's prices (standard variant, base tier, valid at the call time); reported when > 0.
-- Inputs: leak_calls, task_costs, model_tiers, leak_routing, leak_price_book, leak_features, leak_feature_totals.
WITH calls AS NOT MATERIALIZED (
    -- read three times: re-scanned each time rather than held in memory, and narrow (~10M calls)
    SELECT call_id, ts, tod_s, feature_key, task_key, model, model_tier, task_class, status, input_tokens,
           cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
           cost_usd, computed_cost_usd, coalesce(provider, '') AS provider_key
    FROM leak_calls
    WHERE priced AND computed_cost_usd IS NOT NULL
),

by_model AS (
    SELECT
        c.feature_key, c.provider_key, c.model,
        any_value(c.model_tier) AS tier,
        any_value(c.task_class) AS task_class,
        count(*) AS calls,
        -- both percentiles from one sort of the group's values
        quantile_cont(c.output_tokens, [0.95, 0.5]) FILTER (WHERE c.status = 'ok') AS output_tokens_percentiles
    FROM calls AS c
    GROUP BY c.feature_key, c.provider_key, c.model
),

task_model AS (
    -- the (feature, provider, model) that served most of each task's calls (ties: the model name decides,
    -- so the result never depends on scan order)
    SELECT task_key, arg_max({'f': feature_key, 'p': provider_key, 'm': model},
                             {'n': n, 'f': feature_key, 'p': provider_key, 'm': model}) AS served
    -- only tasks with a verdict count below, so only their calls are grouped
    FROM (SELECT task_key, feature_key, provider_key, model, count(*) AS n
          FROM calls
          WHERE task_key IN (SELECT task_key FROM task_costs WHERE has_outcome AND accepted IS NOT NULL)
          GROUP BY ALL)
    GROUP BY task_key
),

acceptance AS (
    SELECT
        tm.served.f AS feature_key, tm.served.p AS provider_key, tm.served.m AS model,
        count(*) FILTER (WHERE tc.has_outcome AND tc.accepted IS NOT NULL) AS outcomes,
        count(*) FILTER (WHERE tc.has_outcome AND tc.accepted) AS accepted
    FROM task_model AS tm
    JOIN task_costs AS tc ON tc.task_key = tm.task_key
    GROUP BY ALL
),

stats AS (
    SELECT
        b.* EXCLUDE (output_tokens_percentiles),
        b.output_tokens_percentiles[1] AS p95_output_tokens,
        b.output_tokens_percentiles[2] AS p50_output_tokens,
        mt.blended_mtok,
        coalesce(a.outcomes, 0) AS outcomes,
        coalesce(a.accepted, 0) AS accepted,
        a.accepted / nullif(a.outcomes, 0) AS acceptance,
        leak_th('premium_overuse.z') AS z
    FROM by_model AS b
    LEFT JOIN model_tiers AS mt ON mt.provider = b.provider_key AND mt.model = b.model
    LEFT JOIN acceptance AS a
        ON a.feature_key = b.feature_key AND a.provider_key = b.provider_key AND a.model = b.model
),

wilson AS (
    -- Wilson score interval [lo, hi] of each acceptance rate
    SELECT
        *,
        (acceptance + z * z / (2 * outcomes)) / (1 + z * z / outcomes)
            - z / (1 + z * z / outcomes) * sqrt(acceptance * (1 - acceptance) / outcomes + z * z / (4 * outcomes * outcomes))
            AS lo,
        (acceptance + z * z / (2 * outcomes)) / (1 + z * z / outcomes)
            + z / (1 + z * z / outcomes) * sqrt(acceptance * (1 - acceptance) / outcomes + z * z / (4 * outcomes * outcomes))
            AS hi
    FROM stats
    WHERE outcomes > 0
),

pairs AS (
    -- premium model p × cheaper model c of the same feature: Newcombe lower bound of (acc_c − acc_p)
    SELECT
        p.feature_key, p.provider_key, p.model,
        c.provider_key AS alt_provider, c.model AS alt_model, c.blended_mtok AS alt_blended_mtok,
        p.outcomes AS premium_outcomes, p.acceptance AS premium_acceptance,
        c.outcomes AS alt_outcomes, c.acceptance AS alt_acceptance,
        (c.acceptance - p.acceptance)
            - sqrt(power(c.acceptance - c.lo, 2) + power(p.hi - p.acceptance, 2)) AS diff_lower_bound
    FROM wilson AS p
    JOIN wilson AS c
        ON c.feature_key = p.feature_key AND (c.provider_key <> p.provider_key OR c.model <> p.model)
    WHERE p.tier = 'premium'
      AND c.blended_mtok < p.blended_mtok
      AND p.calls >= leak_th('premium_overuse.min_calls')
      AND p.outcomes >= leak_th('premium_overuse.min_outcomes')
      AND c.outcomes >= leak_th('premium_overuse.min_outcomes')
),

proven AS (
    SELECT *
    FROM pairs
    WHERE diff_lower_bound > -leak_th('premium_overuse.noninferiority_margin')
    QUALIFY row_number() OVER (PARTITION BY feature_key, provider_key, model
                               ORDER BY alt_blended_mtok, alt_provider, alt_model) = 1
),

short_work AS (
    SELECT s.feature_key, s.provider_key, s.model, r.target_model
    FROM stats AS s
    JOIN leak_routing AS r ON r.provider = s.provider_key AND r.model = s.model
    WHERE s.tier = 'premium'
      AND s.calls >= leak_th('premium_overuse.min_calls')
      AND (s.p95_output_tokens <= leak_th('premium_overuse.short_output_p95_tokens')
           OR lower(s.task_class) IN ('classification', 'extraction', 'short_answer', 'routing', 'tagging'))
),

choice AS (
    SELECT feature_key, provider_key, model, alt_provider, alt_model, 'cheaper_model_same_feature' AS basis,
           premium_outcomes, premium_acceptance, alt_outcomes, alt_acceptance, diff_lower_bound
    FROM proven
    UNION ALL
    SELECT s.feature_key, s.provider_key, s.model, s.provider_key, s.target_model, 'short_output_work',
           NULL, NULL, NULL, NULL, NULL
    FROM short_work AS s
    WHERE NOT EXISTS (SELECT 1 FROM proven AS p WHERE p.feature_key = s.feature_key
                      AND p.provider_key = s.provider_key AND p.model = s.model)
),

chosen_calls AS MATERIALIZED (
    -- the calls of the chosen (feature, model)s first, so the price-book range join below sees only them
    -- (otherwise the planner may join every call to the price book by time range first)
    SELECT c.*, ch.alt_provider, ch.alt_model
    FROM calls AS c
    JOIN choice AS ch ON ch.feature_key = c.feature_key AND ch.provider_key = c.provider_key AND ch.model = c.model
),

repriced AS (
    SELECT
        c.call_id, c.feature_key, c.provider_key, c.model, c.cost_usd, c.computed_cost_usd, c.output_tokens,
        c.alt_model,
        c.computed_cost_usd - CAST(
            (c.input_tokens * ap.input_mtok
             + c.cache_read_tokens * ap.cache_read_mtok
             + c.cache_write_5m_tokens * ap.cache_write_5m_mtok
             + c.cache_write_1h_tokens * ap.cache_write_1h_mtok
             + (c.output_tokens - greatest(least(c.reasoning_tokens, c.output_tokens), 0)) * ap.output_mtok
             + greatest(least(c.reasoning_tokens, c.output_tokens), 0) * ap.reasoning_mtok)
            * 0.000001::DECIMAL(7, 6) + ap.request_usd AS DECIMAL(38, 18)) AS saving_usd
    FROM chosen_calls AS c
    JOIN leak_price_book AS ap
        ON ap.provider = c.alt_provider AND ap.model = c.alt_model AND ap.variant = 'standard'
        AND ap.tier_above_tokens < 0
        AND c.ts >= ap.valid_from AND c.ts < ap.valid_to
        AND c.tod_s >= ap.tod_from_s AND c.tod_s < ap.tod_to_s
),

found AS (
    SELECT
        r.feature_key, r.provider_key, r.model,
        count(*) AS calls_affected,
        sum(r.saving_usd) AS wasted_usd,
        sum(r.cost_usd) AS affected_cost_usd,
        sum(r.computed_cost_usd) AS computed_cost_usd,
        leak_examples(r.call_id, r.saving_usd) AS example_call_ids
    FROM repriced AS r
    GROUP BY r.feature_key, r.provider_key, r.model
)

SELECT
    'premium_overuse' AS kind,
    f.feature_key AS feature,
    f.model,
    coalesce(s.task_class, CASE WHEN ch.basis = 'short_output_work' THEN 'short_output' END) AS task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    'high' AS confidence_at_most,
    json_object(
        'sub_kind', ch.basis,
        'counts', json_object(
            'calls_affected', f.calls_affected,
            'premium_tasks_with_outcome', ch.premium_outcomes,
            'alternative_tasks_with_outcome', ch.alt_outcomes),
        'provider', nullif(f.provider_key, ''),
        'alternative_provider', nullif(ch.alt_provider, ''),
        'alternative_model', ch.alt_model,
        'p50_output_tokens', round(s.p50_output_tokens, 1),
        'p95_output_tokens', round(s.p95_output_tokens, 1),
        'premium_acceptance', ch.premium_acceptance,
        'alternative_acceptance', ch.alt_acceptance,
        'acceptance_test', CASE WHEN ch.basis = 'cheaper_model_same_feature' THEN json_object(
            'method', 'non-inferiority: one-sided Newcombe hybrid score (Wilson) bound on acceptance difference',
            'difference', ch.alt_acceptance - ch.premium_acceptance,
            'lower_bound', ch.diff_lower_bound,
            'margin', -leak_th('premium_overuse.noninferiority_margin')) END,
        'cost_at_alternative_prices_usd', CAST(f.computed_cost_usd - f.wasted_usd AS DOUBLE),
        'thresholds', leak_thresholds_json('premium_overuse'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    CASE ch.basis
        WHEN 'cheaper_model_same_feature' THEN format(
            '{} already serves this feature at {}% acceptance vs {}% for {}, shown not worse (lower bound {} pts '
            || '> -{} pts); its prices on the {} calls of {} would have saved {}',
            ch.alt_model, round(100 * ch.alt_acceptance, 1), round(100 * ch.premium_acceptance, 1), f.model,
            round(100 * ch.diff_lower_bound, 1), round(100 * leak_th('premium_overuse.noninferiority_margin'), 1),
            f.calls_affected, f.model, leak_usd(f.wasted_usd))
        ELSE format(
            '{} (premium) does short work here (p95 output {} tokens) on {} calls; {} would cost {}% less ({})',
            f.model, CAST(round(s.p95_output_tokens) AS BIGINT), f.calls_affected, ch.alt_model,
            CAST(round(100 * CAST(f.wasted_usd AS DOUBLE) / nullif(CAST(f.computed_cost_usd AS DOUBLE), 0)) AS BIGINT),
            leak_usd(f.wasted_usd))
    END AS explanation,
    'model_routing' AS lever,
    'premium_overuse.savings' AS savings_factors,
    CASE WHEN ch.basis = 'cheaper_model_same_feature' THEN 'low' ELSE 'medium' END AS quality_risk,
    f.affected_cost_usd
FROM found AS f
JOIN choice AS ch USING (feature_key, provider_key, model)
JOIN stats AS s USING (feature_key, provider_key, model)
