-- requires: economics, outcomes, period_calls
-- creates: task_costs, task_costs_stored
-- One row per task of the period: its calls, cost and outcome (docs/definitions.md#task).
-- Rework is priced at the configured loaded hourly rate unless the outcome gives its cost.
-- Inputs: period_calls, outcomes, economics(loaded_hourly_rate_usd, delay_cost_per_minute_usd). Output: task_costs,
-- a view of the rows stored in the connection's scratch database (as period_calls, intermediate/period_calls.sql).
CREATE OR REPLACE TABLE {scratch}.task_costs_stored AS
WITH per_task AS (
    SELECT task_key,
           arg_min(feature_key, {'t': ts, 'f': feature_key}) AS feature_key,  -- ties: deterministic
           count(*) AS calls,
           sum(cost_usd) AS cost_usd,
           bool_and(priced) AS fully_priced
    FROM period_calls
    GROUP BY task_key
)
SELECT t.*,
       -- a number per task, unique and nothing more: unit_economics.sql keys its task cells by it (an integer
       -- hashes far faster than the task_key text)
       row_number() OVER () AS task_no,
       o.task_id IS NOT NULL AS has_outcome,
       o.accepted,
       o.quality_score,
       o.human_review,
       -- minutes × a rate is a DOUBLE: to DECIMAL through its shortest text, not its binary expansion
       -- (1.4166666666666667, not 1.416666666666666752), which any engine writes alike
       coalesce(o.rework_cost_usd,
                CAST(CAST(coalesce(o.rework_minutes, 0) * e.loaded_hourly_rate_usd / 60 AS VARCHAR) AS DECIMAL(38,18)))
           AS rework_cost_usd,
       CAST(CAST(coalesce(o.delay_minutes, 0) * e.delay_cost_per_minute_usd AS VARCHAR) AS DECIMAL(38,18))
           AS delay_cost_usd
FROM per_task t
CROSS JOIN economics e
LEFT JOIN outcomes o ON o.task_id = t.task_key;

CREATE OR REPLACE TEMP VIEW task_costs AS SELECT * FROM {scratch}.task_costs_stored;
