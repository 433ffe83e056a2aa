-- requires: period_calls
-- creates: none
-- What `costlens init` suggests per feature, over every call in the database: the team seen on its calls, its
-- models by spend, its size (calls, tasks, p95 calls per task) and whether it already uses batch prices.
-- (Spend and cost per accepted outcome of the latest month come from the regular metrics of that month.)
-- Input: period_calls (materialised over all calls).
WITH per_model AS (
    SELECT feature_key, model, coalesce(sum(cost_usd), 0) AS cost_usd, count(*) AS calls
    FROM period_calls
    GROUP BY feature_key, model
),
models AS (
    SELECT feature_key, list(model ORDER BY cost_usd DESC, calls DESC, model) AS models
    FROM per_model
    GROUP BY feature_key
),
per_task AS (
    SELECT feature_key, task_key, count(*) AS calls
    FROM period_calls
    GROUP BY feature_key, task_key
),
task_sizes AS (
    SELECT feature_key, quantile_disc(calls, 0.95) AS p95_calls_per_task, max(calls) AS max_calls_per_task
    FROM per_task
    GROUP BY feature_key
),
totals AS (
    SELECT
        feature_key,
        mode(nullif(trim(team), '')) AS team,
        count(*) AS calls,
        count(DISTINCT task_key) AS tasks,
        count(*) FILTER (WHERE variant = 'batch') AS batch_calls,
        count(*) FILTER (WHERE NOT priced) AS unpriced_calls,
        min(ts) AS first_ts,
        max(ts) AS last_ts
    FROM period_calls
    GROUP BY feature_key
)
SELECT t.feature_key AS feature, t.team, m.models, t.calls, t.tasks, t.batch_calls, t.unpriced_calls,
       s.p95_calls_per_task, s.max_calls_per_task, t.first_ts, t.last_ts
FROM totals t
JOIN models m USING (feature_key)
JOIN task_sizes s USING (feature_key)
ORDER BY t.calls DESC, t.feature_key;
