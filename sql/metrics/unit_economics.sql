-- The unit-economics worksheet (DESIGN §3) for every grouping at once: feature, model, team, day, month and
-- the period total, via GROUPING SETS. Sums stay exact DECIMAL; ratios are DOUBLE.
-- Conventions (README "Definitions"):
--   cost per call           = priced cost / priced calls (unpriced calls are counted and listed, not $0)
--   cost per task           = priced cost / tasks; p50 / p95 over each task's cost within the group
--   acceptance rate         = accepted tasks / tasks whose outcome says accepted or not
--   quality-adjusted cost   = cost per task / acceptance rate
--   cost per accepted outcome = (inference + rework + delay cost of tasks with an outcome) / accepted tasks
--   retry rate              = failed attempts / calls
--   cache hit rate          = cache read tokens / all input tokens (uncached + cache read + cache write)
-- Inputs: period_calls, task_costs.
CREATE OR REPLACE TEMP TABLE unit_economics_all AS
WITH task_group AS (
    -- each task's share of a group: a task can touch several models or days
    SELECT
        CASE WHEN grouping(feature_key) = 0 THEN 'feature'
             WHEN grouping(model) = 0 THEN 'model'
             WHEN grouping(team_key) = 0 THEN 'team'
             WHEN grouping(day) = 0 THEN 'day'
             WHEN grouping(month) = 0 THEN 'month'
             ELSE 'total' END AS dimension,
        coalesce(feature_key, model, team_key, CAST(day AS VARCHAR), month, 'total') AS key,
        any_value(provider) AS provider,
        task_key,
        count(*) AS calls,
        count(*) FILTER (WHERE NOT priced) AS unpriced_calls,
        sum(cost_usd) AS cost_usd,
        sum(cost_usd) FILTER (WHERE model_tier = 'premium') AS premium_cost_usd,
        count(*) FILTER (WHERE model_tier = 'premium') AS premium_calls,
        count(*) FILTER (WHERE status = 'error') AS failed_calls,
        sum(context_tokens) AS context_tokens,
        sum(input_tokens) AS input_tokens,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_5m_tokens + cache_write_1h_tokens) AS cache_write_tokens,
        sum(output_tokens) AS output_tokens,
        sum(reasoning_tokens) AS reasoning_tokens,
        sum(reported_cost_usd) AS reported_cost_usd,
        count(reported_cost_usd) AS reported_calls,
        sum(cost_usd) FILTER (WHERE reported_cost_usd IS NOT NULL) AS computed_cost_of_reported_usd
    FROM period_calls
    GROUP BY GROUPING SETS ((feature_key, task_key), (model, task_key), (team_key, task_key),
                            (day, task_key), (month, task_key), (task_key))
),
latency AS (
    SELECT
        CASE WHEN grouping(feature_key) = 0 THEN 'feature'
             WHEN grouping(model) = 0 THEN 'model'
             WHEN grouping(team_key) = 0 THEN 'team'
             WHEN grouping(day) = 0 THEN 'day'
             WHEN grouping(month) = 0 THEN 'month'
             ELSE 'total' END AS dimension,
        coalesce(feature_key, model, team_key, CAST(day AS VARCHAR), month, 'total') AS key,
        quantile_cont(latency_ms, 0.5) AS p50_latency_ms,
        quantile_cont(latency_ms, 0.95) AS p95_latency_ms
    FROM period_calls
    GROUP BY GROUPING SETS ((feature_key), (model), (team_key), (day), (month), ())
),
grouped AS (
    SELECT
        g.dimension, g.key,
        any_value(g.provider) AS provider,
        sum(g.calls) AS calls,
        count(*) AS tasks,
        sum(g.unpriced_calls) AS unpriced_calls,
        coalesce(sum(g.cost_usd), 0) AS cost_usd,
        coalesce(sum(g.premium_cost_usd), 0) AS premium_cost_usd,
        sum(g.premium_calls) AS premium_calls,
        sum(g.failed_calls) AS failed_calls,
        sum(g.context_tokens) AS context_tokens,
        sum(g.input_tokens) AS input_tokens,
        sum(g.cache_read_tokens) AS cache_read_tokens,
        sum(g.cache_write_tokens) AS cache_write_tokens,
        sum(g.output_tokens) AS output_tokens,
        sum(g.reasoning_tokens) AS reasoning_tokens,
        sum(g.reported_cost_usd) AS reported_cost_usd,
        sum(g.reported_calls) AS reported_calls,
        sum(g.computed_cost_of_reported_usd) AS computed_cost_of_reported_usd,
        quantile_cont(CAST(coalesce(g.cost_usd, 0) AS DOUBLE), 0.5) AS p50_cost_per_task_usd,
        quantile_cont(CAST(coalesce(g.cost_usd, 0) AS DOUBLE), 0.95) AS p95_cost_per_task_usd,
        count(*) FILTER (WHERE t.has_outcome) AS tasks_with_outcome,
        count(*) FILTER (WHERE t.accepted IS NOT NULL) AS tasks_with_verdict,
        count(*) FILTER (WHERE t.accepted) AS accepted_tasks,
        count(*) FILTER (WHERE t.human_review) AS reviewed_tasks,
        coalesce(sum(g.cost_usd) FILTER (WHERE t.has_outcome), 0) AS inference_cost_with_outcome_usd,
        coalesce(sum(t.rework_cost_usd) FILTER (WHERE t.has_outcome), 0) AS rework_cost_usd,
        coalesce(sum(t.delay_cost_usd) FILTER (WHERE t.has_outcome), 0) AS delay_cost_usd
    FROM task_group g
    JOIN task_costs t USING (task_key)
    GROUP BY g.dimension, g.key
)
SELECT
    gr.*,
    l.p50_latency_ms,
    l.p95_latency_ms,
    CAST(gr.cost_usd AS DOUBLE) / nullif(gr.calls - gr.unpriced_calls, 0) AS cost_per_call_usd,
    gr.calls / nullif(gr.tasks, 0) AS calls_per_task,
    CAST(gr.cost_usd AS DOUBLE) / nullif(gr.tasks, 0) AS cost_per_task_usd,
    gr.accepted_tasks / nullif(gr.tasks_with_verdict, 0) AS acceptance_rate,
    CAST(gr.cost_usd AS DOUBLE) / nullif(gr.tasks, 0)
        / nullif(gr.accepted_tasks / nullif(gr.tasks_with_verdict, 0), 0) AS quality_adjusted_cost_per_task_usd,
    CAST(gr.inference_cost_with_outcome_usd + gr.rework_cost_usd + gr.delay_cost_usd AS DOUBLE)
        / nullif(gr.accepted_tasks, 0) AS cost_per_accepted_outcome_usd,
    gr.failed_calls / nullif(gr.calls, 0) AS retry_rate,
    gr.context_tokens / nullif(gr.calls, 0) AS avg_input_tokens,
    (gr.context_tokens + gr.output_tokens) / nullif(gr.calls, 0) AS tokens_per_call,
    CAST(gr.premium_cost_usd AS DOUBLE) / nullif(CAST(gr.cost_usd AS DOUBLE), 0) AS premium_spend_share,
    gr.premium_calls / nullif(gr.calls, 0) AS premium_traffic_share,
    gr.reviewed_tasks / nullif(gr.tasks_with_outcome, 0) AS human_review_rate,
    gr.cache_read_tokens / nullif(gr.context_tokens, 0) AS cache_hit_rate,
    CAST(gr.cost_usd AS DOUBLE)
        / nullif(CAST(sum(gr.cost_usd) OVER (PARTITION BY gr.dimension) AS DOUBLE), 0) AS spend_share
FROM grouped gr
LEFT JOIN latency l USING (dimension, key);
