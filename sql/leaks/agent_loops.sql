-- requires: leak_calls, leak_examples, leak_features, leak_th, leak_thresholds_json, task_costs
-- creates: none
-- agent_loops (docs/definitions.md#agent_loops): tasks that take far more calls than the feature's norm.
-- Budget per feature: its configured step_budget ([features.<name>] step_budget, basis 'step_budget'), else
-- max(ceil(k_p50 × p50 calls per task), min_budget_calls) (basis 'feature_norm', needs >= min_tasks tasks).
-- A task belongs to the feature of its first call. Waste = cost of each over-budget task's calls past the
-- budget, in time order. One finding per feature.
-- Inputs: leak_calls, task_costs, leak_features, leak_feature_totals, leak_thresholds.
WITH norm AS (
    SELECT feature_key, count(*) AS tasks, quantile_cont(calls, 0.5) AS p50_calls, max(calls) AS max_calls
    FROM task_costs
    GROUP BY feature_key
),

budgets AS (
    SELECT
        n.*,
        lf.step_budget,
        CAST(coalesce(lf.step_budget,
                      greatest(ceil(leak_th('agent_loops.k_p50') * n.p50_calls),
                               leak_th('agent_loops.min_budget_calls'))) AS BIGINT) AS budget,
        CASE WHEN lf.step_budget IS NOT NULL THEN 'step_budget' ELSE 'feature_norm' END AS budget_basis
    FROM norm AS n
    LEFT JOIN leak_features AS lf ON lf.feature = n.feature_key
    WHERE lf.step_budget IS NOT NULL OR n.tasks >= leak_th('agent_loops.min_tasks')
),

long_tasks AS (
    -- the over-budget tasks first: the step numbering below then sorts only their calls, not every call
    SELECT t.task_key, t.feature_key AS task_feature, t.calls AS task_calls, b.budget
    FROM task_costs AS t
    JOIN budgets AS b ON b.feature_key = t.feature_key
    WHERE t.calls > b.budget
),

steps AS (
    SELECT c.*, lt.task_feature, lt.task_calls, lt.budget,
           row_number() OVER (PARTITION BY c.task_key ORDER BY c.ts, c.call_id) AS step
    FROM leak_calls AS c
    JOIN long_tasks AS lt ON lt.task_key = c.task_key
),

over AS (
    SELECT * FROM steps WHERE step > budget
),

found AS (
    SELECT
        task_feature AS feature,
        CASE WHEN count(DISTINCT model) = 1 THEN any_value(model) END AS model,
        any_value(task_class) AS task_class,
        count(*) AS calls_affected,
        count(DISTINCT task_key) AS tasks_over_budget,
        max(task_calls) AS max_calls_per_task,
        coalesce(sum(cost_usd), 0) AS wasted_usd,
        coalesce(sum(cost_usd), 0) AS affected_cost_usd,
        leak_examples(call_id, cost_usd) AS example_call_ids
    FROM over
    GROUP BY task_feature
)

SELECT
    'agent_loops' AS kind,
    f.feature,
    f.model,
    f.task_class,
    f.calls_affected,
    f.wasted_usd,
    f.calls_affected AS confidence_calls,
    'high' AS confidence_at_most,
    json_object(
        'sub_kind', b.budget_basis,
        'counts', json_object(
            'calls_past_budget', f.calls_affected,
            'tasks_over_budget', f.tasks_over_budget,
            'feature_tasks', b.tasks),
        'budget_calls_per_task', b.budget,
        'configured_step_budget', b.step_budget,
        'p50_calls_per_task', b.p50_calls,
        'max_calls_per_task', f.max_calls_per_task,
        'thresholds', leak_thresholds_json('agent_loops'),
        'example_call_ids', f.example_call_ids
    ) AS evidence,
    format('{} tasks ran past a budget of {} calls (typical {}, worst {}); {} calls past the budget — cap the '
           || 'steps and stop loops', f.tasks_over_budget, b.budget, b.p50_calls, f.max_calls_per_task,
           f.calls_affected) AS explanation,
    'agent_budgets' AS lever,
    'agent_loops.savings' AS savings_factors,
    'medium' AS quality_risk,
    f.affected_cost_usd
FROM found AS f
JOIN budgets AS b ON b.feature_key = f.feature
