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

-- Like with like: the application may already send its harder requests to the premium model, and then the
-- cheaper model's acceptance flatters it. Tasks with a verdict are cut into bands of their context tokens
-- (quantile bands within the feature, equal sizes sharing one; up to `strata`, as many as the model with the
-- fewest outcomes fills with min_stratum_outcomes each); the difference of acceptance (cheaper − premium) is averaged over the bands
-- with the premium model's own mix of them as weights (what its traffic would get from the cheaper model). Bands
-- where the cheaper model has fewer than min_stratum_outcomes tasks are not covered; the covered weight must
-- reach min_coverage.
task_sizes AS (
    SELECT c.task_key, sum(c.input_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens)
               AS context_tokens
    FROM calls AS c
    WHERE c.task_key IN (SELECT task_key FROM task_model)
    GROUP BY c.task_key
),

-- as many bands as the data supports: the model with the fewest outcomes in the feature fills each with
-- min_stratum_outcomes tasks on average (at most `strata` bands)
feature_bands AS (
    SELECT feature_key,
           least(leak_th('premium_overuse.strata'),
                 greatest(1, floor(min(outcomes) / leak_th('premium_overuse.min_stratum_outcomes')))) AS n_bands
    FROM acceptance
    GROUP BY feature_key
),

banded AS (
    SELECT tm.served.f AS feature_key, tm.served.p AS provider_key, tm.served.m AS model, tc.accepted,
           ts.context_tokens,
           -- equal sizes share a band (cume_dist gives ties the same rank)
           greatest(1, ceil(cume_dist() OVER (PARTITION BY tm.served.f ORDER BY ts.context_tokens) * fb.n_bands))
               AS band
    FROM task_model AS tm
    JOIN task_costs AS tc ON tc.task_key = tm.task_key
    JOIN task_sizes AS ts ON ts.task_key = tm.task_key
    JOIN feature_bands AS fb ON fb.feature_key = tm.served.f
    WHERE tc.has_outcome AND tc.accepted IS NOT NULL
),

bands AS (
    SELECT feature_key, band, min(context_tokens) AS tokens_from, max(context_tokens) AS tokens_to
    FROM banded
    GROUP BY feature_key, band
),

band_rates AS (
    SELECT feature_key, provider_key, model, band, count(*) AS n, count(*) FILTER (WHERE accepted) AS x
    FROM banded
    GROUP BY ALL
),

pair_bands AS (
    SELECT pr.feature_key, pr.provider_key, pr.model, pr.alt_provider, pr.alt_model, b.band, b.tokens_from,
           b.tokens_to, coalesce(p.n, 0) AS p_n, coalesce(p.x, 0) AS p_x, coalesce(c.n, 0) AS c_n,
           coalesce(c.x, 0) AS c_x,
           coalesce(p.n, 0) / sum(coalesce(p.n, 0)) OVER (PARTITION BY pr.feature_key, pr.provider_key, pr.model,
                                                          pr.alt_provider, pr.alt_model) AS w,
           coalesce(c.n, 0) >= leak_th('premium_overuse.min_stratum_outcomes') AS covered
    FROM pairs AS pr
    JOIN bands AS b ON b.feature_key = pr.feature_key
    LEFT JOIN band_rates AS p
        ON p.feature_key = pr.feature_key AND p.provider_key = pr.provider_key AND p.model = pr.model
        AND p.band = b.band
    LEFT JOIN band_rates AS c
        ON c.feature_key = pr.feature_key AND c.provider_key = pr.alt_provider AND c.model = pr.alt_model
        AND c.band = b.band
),

stratified AS (
    -- sums over the bands in band order (list_sum of an ordered list): a parallel sum of doubles would differ in
    -- the last digit from run to run
    SELECT feature_key, provider_key, model, alt_provider, alt_model,
           coalesce(list_sum(list(w ORDER BY band) FILTER (WHERE covered AND p_n > 0)), 0) AS coverage,
           list_sum(list(w * (c_x / c_n - p_x / p_n) ORDER BY band) FILTER (WHERE covered AND p_n > 0))
               / nullif(list_sum(list(w ORDER BY band) FILTER (WHERE covered AND p_n > 0)), 0) AS strat_diff,
           -- the variance from rates shrunk towards 1/2 ((x + 1) / (n + 2)): a band accepted 100 % still varies
           sqrt(list_sum(list(w * w * ((c_x + 1) / (c_n + 2) * (1 - (c_x + 1) / (c_n + 2)) / (c_n + 2)
                                       + (p_x + 1) / (p_n + 2) * (1 - (p_x + 1) / (p_n + 2)) / (p_n + 2))
                              ORDER BY band) FILTER (WHERE covered AND p_n > 0)))
               / nullif(list_sum(list(w ORDER BY band) FILTER (WHERE covered AND p_n > 0)), 0) AS strat_se,
           list({'context_tokens_from': tokens_from, 'context_tokens_to': tokens_to,
                 'premium_tasks': p_n, 'premium_acceptance': round(p_x / nullif(p_n, 0), 4),
                 'alternative_tasks': c_n, 'alternative_acceptance': round(c_x / nullif(c_n, 0), 4)}
                ORDER BY band) AS strata
    FROM pair_bands
    GROUP BY ALL
),

proven AS (
    SELECT p.*, st.coverage, st.strat_diff, st.strat_diff - leak_th('premium_overuse.z') * st.strat_se
               AS strat_lower_bound, st.strata
    FROM pairs AS p
    JOIN stratified AS st USING (feature_key, provider_key, model, alt_provider, alt_model)
    WHERE p.diff_lower_bound > -leak_th('premium_overuse.noninferiority_margin')
      AND st.coverage >= leak_th('premium_overuse.min_coverage')
      AND st.strat_diff - leak_th('premium_overuse.z') * st.strat_se > -leak_th('premium_overuse.noninferiority_margin')
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
           premium_outcomes, premium_acceptance, alt_outcomes, alt_acceptance, diff_lower_bound, coverage,
           strat_diff, strat_lower_bound, strata
    FROM proven
    UNION ALL
    SELECT s.feature_key, s.provider_key, s.model, s.provider_key, s.target_model, 'short_output_work',
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
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
        'like_with_like', CASE WHEN ch.basis = 'cheaper_model_same_feature' THEN json_object(
            'method', 'acceptance difference per band of task context tokens, weighted by the premium model''s mix',
            'strata', ch.strata,
            'coverage', round(ch.coverage, 4),
            'difference', ch.strat_diff,
            'lower_bound', ch.strat_lower_bound,
            -- how much of the overall difference the premium model's harder (longer) requests explain
            'explained_by_strata', (ch.alt_acceptance - ch.premium_acceptance) - ch.strat_diff) END,
        'validation_plan', json_object(
            'tasks_per_arm', v.tasks_per_arm,
            'share_of_premium_traffic', CASE WHEN s.outcomes > 0 THEN round(least(1, v.tasks_per_arm / s.outcomes), 4) END,
            'method', 'A/B or shadow test: one-sided non-inferiority at the margin, power '
                || round(100 * leak_th('premium_overuse.validation_power'))::INTEGER || ' %'),
        'cost_at_alternative_prices_usd', CAST(f.computed_cost_usd - f.wasted_usd AS DOUBLE),
        'thresholds', leak_thresholds_json('premium_overuse'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    CASE ch.basis
        WHEN 'cheaper_model_same_feature' THEN format(
            '{} already serves this feature at {}% acceptance vs {}% for {}, shown not worse (lower bound {} pts '
            || '> -{} pts), also on requests of the same size ({} bands, lower bound {} pts); its prices on the {} '
            || 'calls of {} would have saved {}',
            ch.alt_model, round(100 * ch.alt_acceptance, 1), round(100 * ch.premium_acceptance, 1), f.model,
            round(100 * ch.diff_lower_bound, 1), round(100 * leak_th('premium_overuse.noninferiority_margin'), 1),
            array_length(ch.strata), round(100 * ch.strat_lower_bound, 1), f.calls_affected, f.model, leak_usd(f.wasted_usd))
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
-- Tasks each arm needs to confirm non-inferiority (normal approximation): (z + z_power)² × (p_c(1 − p_c) +
-- p_p(1 − p_p)) / (margin + d)², with p_p the premium acceptance (1/2 when unknown: the most tasks) and d the
-- like-with-like difference when it is negative (no advantage is assumed for the cheaper model).
CROSS JOIN LATERAL (
    SELECT coalesce(ch.premium_acceptance, s.acceptance, 0.5) AS p_p,
           least(coalesce(ch.strat_diff, 0), 0) AS d
) AS plan
CROSS JOIN LATERAL (
    SELECT CAST(ceil(power(leak_th('premium_overuse.z') + leak_th('premium_overuse.validation_z_power'), 2)
                     * ((plan.p_p + plan.d) * (1 - plan.p_p - plan.d) + plan.p_p * (1 - plan.p_p))
                     / power(leak_th('premium_overuse.noninferiority_margin') + plan.d, 2)) AS BIGINT)
               AS tasks_per_arm
) AS v
