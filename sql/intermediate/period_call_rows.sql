-- requires: call_filter, customer_plans, feature_config, is_dated_version, model_tiers, priced_calls, report_options,
--   report_period, self_hosted_calls, trace_context
-- creates: model_aliases, period_call_rows
-- The priced calls of the report period, with the attribution keys every metric groups by (a view).
-- Attribution a call lacks is taken from trace_context (e.g. Langfuse trace name → feature).
-- Cost mode (report_options.cost_mode): 'computed' prices every call from the price book; 'reported'
-- uses the producer's own cost where it gave one (LiteLLM spend, Helicone costUSD, …) and the computed
-- cost elsewhere. `computed_cost_usd` always keeps the price-book cost for the comparison section.
-- Without the columns no metric, leak, lever, what-if or export reads: the lineage columns
-- (source_file, source_row, …), the tags map and trace_id stay in `calls` — at ~10M calls a
-- full-width copy is several GB and spills to disk. `ts_from_file` keeps the one tag the report reads.
-- `call_filter` (--feature / --team / --customer / --plan; NULL lists keep every call) filters on the same feature,
-- team and customer keys, and on the customer's plan in the period (customer_plans, else '(no plan)').
-- Inputs: priced_calls (view), trace_context, report_period(start_ts, end_ts), report_options(cost_mode),
-- feature_config(feature, team, ...), model_tiers(provider, model, tier),
-- call_filter(features, teams, customers, plans), customer_plans(customer, plan). Outputs: model_aliases, the view period_call_rows (materialised by
-- period_calls.sql; a second period that needs only some columns selects them from the view).
-- An undated model name (`gpt-4o-mini`, what a failed call logs: the model it asked for) is folded into the one
-- dated id of it the period's calls show the provider answering with (`gpt-4o-mini-2024-07-18`): one model, one
-- row, and the what-if judges a route to either name on the same outcomes. Two dated ids of one alias: no fold.
CREATE OR REPLACE TEMP TABLE model_aliases AS
WITH names AS (
    SELECT DISTINCT coalesce(p.provider, '') AS provider, p.model
    FROM priced_calls p CROSS JOIN report_period r
    WHERE p.ts >= r.start_ts AND p.ts < r.end_ts AND p.model IS NOT NULL
)
SELECT a.provider, a.model AS alias, any_value(d.model) AS dated
FROM names a JOIN names d ON d.provider = a.provider AND is_dated_version(d.model, a.model)
GROUP BY ALL
HAVING count(*) = 1;

CREATE OR REPLACE TEMP VIEW period_call_rows AS
SELECT
    p.* EXCLUDE (source_file, source_sha256, source_row, run_id, request_model, operation, trace_id, tags)
    REPLACE (
        coalesce(ma.dated, p.model) AS model,
        coalesce(nullif(trim(p.feature), ''), tc.feature) AS feature,
        coalesce(p.task_id, tc.task_id) AS task_id,
        coalesce(p.session_id, tc.session_id) AS session_id,
        coalesce(p.user_id, tc.user_id) AS user_id,
        coalesce(p.team, tc.team) AS team,
        coalesce(p.customer, tc.customer) AS customer,
        CASE WHEN sh.call_id IS NOT NULL THEN sh.cost_usd
             WHEN o.cost_mode = 'reported' AND p.reported_cost_usd IS NOT NULL THEN p.reported_cost_usd
             ELSE p.cost_usd END AS cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN true
             ELSE p.priced OR (o.cost_mode = 'reported' AND p.reported_cost_usd IS NOT NULL) END AS priced,
        CASE WHEN sh.call_id IS NOT NULL THEN 'self_hosted.' || sh.deployment ELSE p.price_source END AS price_source,
        CASE WHEN sh.call_id IS NOT NULL THEN sh.input_cost_usd ELSE p.input_cost_usd END AS input_cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN sh.cost_usd - sh.input_cost_usd ELSE p.output_cost_usd END
            AS output_cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN 0 ELSE p.cache_read_cost_usd END AS cache_read_cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN 0 ELSE p.cache_write_cost_usd END AS cache_write_cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN 0 ELSE p.request_cost_usd END AS request_cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN 0 ELSE p.charge_token_cost_usd END AS charge_token_cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN 0 ELSE p.tool_cost_usd END AS tool_cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN 0 ELSE p.fee_cost_usd END AS fee_cost_usd,
        CASE WHEN sh.call_id IS NOT NULL THEN 0 ELSE p.charges_cost_usd END AS charges_cost_usd),
    coalesce(sh.cost_usd, p.cost_usd) AS computed_cost_usd,
    sh.deployment,
    coalesce(p.task_id, tc.task_id, p.call_id) AS task_key,
    coalesce(nullif(trim(p.feature), ''), nullif(trim(tc.feature), ''), '(unattributed)') AS feature_key,
    coalesce(nullif(trim(p.team), ''), tc.team, fc.team, '(no team)') AS team_key,
    CAST(date_trunc('day', p.ts) AS DATE) AS day,
    strftime(p.ts, '%Y-%m') AS month,
    coalesce(mt.tier, 'unknown') AS model_tier,
    p.input_tokens + p.cache_read_tokens + p.cache_write_5m_tokens + p.cache_write_1h_tokens AS context_tokens,
    coalesce(p.tags['costlens.ts_source'] = 'file_mtime', false) AS ts_from_file
FROM priced_calls p
CROSS JOIN report_period r
CROSS JOIN report_options o
LEFT JOIN trace_context tc ON tc.trace_id = p.trace_id
LEFT JOIN feature_config fc ON fc.feature = coalesce(nullif(trim(p.feature), ''), tc.feature)
LEFT JOIN model_tiers mt ON mt.provider = coalesce(p.provider, '') AND mt.model = p.model
LEFT JOIN model_aliases ma ON ma.provider = coalesce(p.provider, '') AND ma.alias = p.model
LEFT JOIN self_hosted_calls sh ON sh.call_id = p.call_id
LEFT JOIN customer_plans cp ON cp.customer = trim(coalesce(p.customer, tc.customer))
WHERE p.ts >= r.start_ts AND p.ts < r.end_ts
  AND ((SELECT features FROM call_filter) IS NULL
       OR list_contains((SELECT features FROM call_filter),
                        coalesce(nullif(trim(p.feature), ''), nullif(trim(tc.feature), ''), '(unattributed)')))
  AND ((SELECT teams FROM call_filter) IS NULL
       OR list_contains((SELECT teams FROM call_filter),
                        coalesce(nullif(trim(p.team), ''), tc.team, fc.team, '(no team)')))
  AND ((SELECT customers FROM call_filter) IS NULL
       OR list_contains((SELECT customers FROM call_filter),
                        coalesce(nullif(trim(coalesce(p.customer, tc.customer)), ''), '(no customer)')))
  AND ((SELECT plans FROM call_filter) IS NULL
       OR list_contains((SELECT plans FROM call_filter),
                        coalesce(cp.plan, '(no plan)')));
