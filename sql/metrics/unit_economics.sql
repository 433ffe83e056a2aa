-- requires: period_calls, task_costs
-- creates: ue_call_cells, ue_call_parts, ue_key, ue_latency, ue_latency_by, ue_percentiles, ue_task_cells,
--   ue_task_parts, ue_tasks_by, unit_economics_all, unit_economics_settings
-- The unit-economics worksheet (docs/definitions.md#unit-economics) for every grouping: feature, model, team,
-- day, month and the period total. Sums stay exact DECIMAL; ratios are DOUBLE.
-- Conventions (README "Definitions"):
--   cost per call           = priced cost / priced calls (unpriced calls are counted and listed, not $0)
--   cost per task           = priced cost / tasks; p50 / p95 over each task's cost within the group
--   acceptance rate         = accepted tasks / tasks whose outcome says accepted or not
--   quality-adjusted cost   = cost per task / acceptance rate
--   cost per accepted outcome = (inference + rework + delay cost of tasks with an outcome) / accepted tasks
--   retry rate              = failed attempts / calls
--   cache hit rate          = cache read tokens / all input tokens (uncached + cache read + cache write)
--   p50 / p95               = exact (quantile_cont) when the period has at most 1,000,000 calls; above that,
--                             approx_quantile (t-digest): exact percentiles keep every value of a group in
--                             memory and cannot spill to disk, which ran out of memory at ~10M calls.
-- Memory: the task-level figures group per (dimension key, task), one dimension per statement (one large
-- hash table at a time, which spills), from cells pre-summed once.
-- Inputs: period_calls, task_costs.

CREATE OR REPLACE TEMP TABLE unit_economics_settings AS
SELECT count(*) <= 1000000 AS exact_percentiles FROM period_calls;

-- Only one of the two aggregates sees any rows; the other stays empty (and costs no memory).
-- Both percentiles from one aggregate ([p50, p95]): one sort (or one t-digest) per group instead of two.
CREATE OR REPLACE TEMP MACRO ue_percentiles(x, exact) AS
    coalesce(quantile_cont(x, [0.5, 0.95]) FILTER (WHERE exact), approx_quantile(x, [0.5, 0.95]) FILTER (WHERE NOT exact));

-- The group key of a call for one dimension (a constant `dim`, folded by the planner).
CREATE OR REPLACE TEMP MACRO ue_key(dim, feature_key, model, team_key, day, month) AS
    coalesce(CASE dim WHEN 'feature' THEN feature_key
                      WHEN 'model' THEN model
                      WHEN 'team' THEN team_key
                      WHEN 'day' THEN CAST(day AS VARCHAR)
                      WHEN 'month' THEN month END, 'total');

-- Call-level sums of every dimension: summed once per (feature, model, team, day) cell in one scan of the
-- calls, then rolled up from the cells (a few thousand rows) into the six grouping sets; exact DECIMAL and
-- integer sums, so the roll-up equals summing the calls. Latency percentiles need every call's value: one
-- aggregate per dimension (a holistic aggregate under GROUPING SETS costs several times the six GROUP BYs).
CREATE OR REPLACE TEMP TABLE ue_call_cells AS
SELECT
    c.feature_key, c.model, c.team_key, c.day,
    any_value(c.month) AS month,
    min(c.provider) AS provider,  -- the same on every run and engine (a model's rows have one provider)
    count(*) AS calls,
    count(*) FILTER (WHERE NOT c.priced) AS unpriced_calls,
    sum(c.cost_usd) AS cost_usd,
    sum(c.tool_cost_usd + c.fee_cost_usd) AS tool_cost_usd,
    sum(c.cost_usd) FILTER (WHERE c.model_tier = 'premium') AS premium_cost_usd,
    count(*) FILTER (WHERE c.model_tier = 'premium') AS premium_calls,
    count(*) FILTER (WHERE c.status = 'error') AS failed_calls,
    sum(c.context_tokens) AS context_tokens,
    sum(c.input_tokens) AS input_tokens,
    sum(c.cache_read_tokens) AS cache_read_tokens,
    sum(c.cache_write_5m_tokens + c.cache_write_1h_tokens) AS cache_write_tokens,
    sum(c.output_tokens) AS output_tokens,
    sum(c.reasoning_tokens) AS reasoning_tokens,
    sum(c.reported_cost_usd) AS reported_cost_usd,
    count(c.reported_cost_usd) AS reported_calls,
    sum(c.cost_usd) FILTER (WHERE c.reported_cost_usd IS NOT NULL) AS computed_cost_of_reported_usd
FROM period_calls c
GROUP BY c.feature_key, c.model, c.team_key, c.day;

CREATE OR REPLACE TEMP MACRO ue_latency_by(dim) AS TABLE
SELECT dim AS dimension, ue_key(dim, c.feature_key, c.model, c.team_key, c.day, c.month) AS key,
       ue_percentiles(CAST(c.latency_ms AS DOUBLE), s.exact_percentiles) AS latency_ms_percentiles
FROM period_calls c
CROSS JOIN unit_economics_settings s
GROUP BY 1, 2;

CREATE OR REPLACE TEMP TABLE ue_latency AS FROM ue_latency_by('total');
INSERT INTO ue_latency FROM ue_latency_by('feature');
INSERT INTO ue_latency FROM ue_latency_by('model');
INSERT INTO ue_latency FROM ue_latency_by('team');
INSERT INTO ue_latency FROM ue_latency_by('day');
INSERT INTO ue_latency FROM ue_latency_by('month');

CREATE OR REPLACE TEMP TABLE ue_call_parts AS
WITH sets AS (
    SELECT
        CASE WHEN grouping(c.feature_key) = 0 THEN 'feature'
             WHEN grouping(c.model) = 0 THEN 'model'
             WHEN grouping(c.team_key) = 0 THEN 'team'
             WHEN grouping(c.day) = 0 THEN 'day'
             WHEN grouping(c.month) = 0 THEN 'month'
             ELSE 'total' END AS dimension,
        c.feature_key, c.model, c.team_key, c.day, c.month,
        min(c.provider) AS provider,
        CAST(sum(c.calls) AS BIGINT) AS calls,
        CAST(sum(c.unpriced_calls) AS BIGINT) AS unpriced_calls,
        coalesce(sum(c.cost_usd), 0) AS cost_usd,
        -- server-side tools, generated images and per-request fees: the part of cost that is not tokens
        coalesce(sum(c.tool_cost_usd), 0) AS tool_cost_usd,
        coalesce(sum(c.premium_cost_usd), 0) AS premium_cost_usd,
        CAST(sum(c.premium_calls) AS BIGINT) AS premium_calls,
        CAST(sum(c.failed_calls) AS BIGINT) AS failed_calls,
        sum(c.context_tokens) AS context_tokens,
        sum(c.input_tokens) AS input_tokens,
        sum(c.cache_read_tokens) AS cache_read_tokens,
        sum(c.cache_write_tokens) AS cache_write_tokens,
        sum(c.output_tokens) AS output_tokens,
        sum(c.reasoning_tokens) AS reasoning_tokens,
        sum(c.reported_cost_usd) AS reported_cost_usd,
        CAST(sum(c.reported_calls) AS BIGINT) AS reported_calls,
        sum(c.computed_cost_of_reported_usd) AS computed_cost_of_reported_usd
    FROM ue_call_cells c
    GROUP BY GROUPING SETS ((), (c.feature_key), (c.model), (c.team_key), (c.day), (c.month))
)
SELECT s.dimension, ue_key(s.dimension, s.feature_key, s.model, s.team_key, s.day, s.month) AS key,
       s.* EXCLUDE (dimension, feature_key, model, team_key, day, month),
       l.latency_ms_percentiles[1] AS p50_latency_ms, l.latency_ms_percentiles[2] AS p95_latency_ms
FROM sets s
LEFT JOIN ue_latency l
  ON l.dimension = s.dimension AND l.key = ue_key(s.dimension, s.feature_key, s.model, s.team_key, s.day, s.month);
DROP TABLE ue_call_cells;
DROP TABLE ue_latency;

-- Task-level figures: each task's share of a group (a task can touch several models or days). The calls are
-- summed once per (task, feature, model, team, day) — with the task's outcome attached, and the task named by
-- its task_costs task_no (an integer key hashes far faster than the task_key text) — and every dimension
-- groups those cells instead of the calls.
CREATE OR REPLACE TEMP TABLE ue_task_cells AS
WITH cells AS (
    SELECT task_key, feature_key, model, team_key, day, any_value(month) AS month, sum(cost_usd) AS cost_usd
    FROM period_calls
    GROUP BY task_key, feature_key, model, team_key, day
)
SELECT t.task_no, g.* EXCLUDE (task_key), t.has_outcome, t.accepted, t.human_review, t.rework_cost_usd,
       t.delay_cost_usd
FROM cells g
JOIN task_costs t USING (task_key);

-- One dimension's task figures from the cells (a constant `dim`, folded by the planner); the period total's
-- tasks are task_costs' own rows.
CREATE OR REPLACE TEMP MACRO ue_tasks_by(dim) AS TABLE
WITH task_group AS (
    SELECT ue_key(dim, feature_key, model, team_key, day, month) AS key, task_no,
           sum(cost_usd) AS cost_usd,
           any_value(has_outcome) AS has_outcome, any_value(accepted) AS accepted,
           any_value(human_review) AS human_review, any_value(rework_cost_usd) AS rework_cost_usd,
           any_value(delay_cost_usd) AS delay_cost_usd
    FROM ue_task_cells
    WHERE dim <> 'total'
    GROUP BY 1, 2
    UNION ALL
    SELECT 'total', task_no, cost_usd, has_outcome, accepted, human_review, rework_cost_usd, delay_cost_usd
    FROM task_costs
    WHERE dim = 'total'
)
SELECT
    dim AS dimension,
    g.key,
    count(*) AS tasks,
    ue_percentiles(CAST(coalesce(g.cost_usd, 0) AS DOUBLE), s.exact_percentiles)[1] AS p50_cost_per_task_usd,
    ue_percentiles(CAST(coalesce(g.cost_usd, 0) AS DOUBLE), s.exact_percentiles)[2] AS p95_cost_per_task_usd,
    count(*) FILTER (WHERE g.has_outcome) AS tasks_with_outcome,
    count(*) FILTER (WHERE g.accepted IS NOT NULL) AS tasks_with_verdict,
    count(*) FILTER (WHERE g.accepted) AS accepted_tasks,
    count(*) FILTER (WHERE g.human_review) AS reviewed_tasks,
    coalesce(sum(g.cost_usd) FILTER (WHERE g.has_outcome), 0) AS inference_cost_with_outcome_usd,
    coalesce(sum(g.rework_cost_usd) FILTER (WHERE g.has_outcome), 0) AS rework_cost_usd,
    coalesce(sum(g.delay_cost_usd) FILTER (WHERE g.has_outcome), 0) AS delay_cost_usd
FROM task_group g
CROSS JOIN unit_economics_settings s
GROUP BY 1, 2;

CREATE OR REPLACE TEMP TABLE ue_task_parts AS FROM ue_tasks_by('total');
INSERT INTO ue_task_parts FROM ue_tasks_by('feature');
INSERT INTO ue_task_parts FROM ue_tasks_by('model');
INSERT INTO ue_task_parts FROM ue_tasks_by('team');
INSERT INTO ue_task_parts FROM ue_tasks_by('day');
INSERT INTO ue_task_parts FROM ue_tasks_by('month');
DROP TABLE ue_task_cells;

CREATE OR REPLACE TEMP TABLE unit_economics_all AS
WITH grouped AS (
    SELECT
        c.dimension, c.key, c.provider, c.calls, t.tasks, c.unpriced_calls, c.cost_usd, c.tool_cost_usd,
        c.premium_cost_usd,
        c.premium_calls, c.failed_calls, c.context_tokens, c.input_tokens, c.cache_read_tokens,
        c.cache_write_tokens, c.output_tokens, c.reasoning_tokens, c.reported_cost_usd, c.reported_calls,
        c.computed_cost_of_reported_usd, t.p50_cost_per_task_usd, t.p95_cost_per_task_usd,
        t.tasks_with_outcome, t.tasks_with_verdict, t.accepted_tasks, t.reviewed_tasks,
        t.inference_cost_with_outcome_usd, t.rework_cost_usd, t.delay_cost_usd,
        c.p50_latency_ms, c.p95_latency_ms
    FROM ue_call_parts c
    JOIN ue_task_parts t USING (dimension, key)
)
SELECT
    gr.*,
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
FROM grouped gr;
DROP TABLE ue_call_parts;
DROP TABLE ue_task_parts;
