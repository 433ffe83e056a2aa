-- requires: period_calls, task_costs
-- creates: none
-- Acceptance of tasks on the routing target vs on the models routed away from, in the feature (or everywhere
-- when $feature is NULL). A task counts for a model when any of its calls used it.
-- Inputs: period_calls, task_costs; parameters $feature, $target, $sources (list of model names).
WITH tasks AS (
    SELECT
        t.task_key,
        any_value(t.has_outcome) AS has_outcome,
        any_value(coalesce(t.accepted, FALSE)) AS accepted,
        bool_or(p.model = $target) AS on_target,
        bool_or(list_contains($sources, p.model)) AS on_source
    FROM period_calls AS p
    JOIN task_costs AS t USING (task_key)
    WHERE $feature IS NULL OR p.feature_key = $feature
    GROUP BY t.task_key
)

SELECT
    count(*) FILTER (WHERE on_target AND has_outcome) AS target_tasks,
    count(*) FILTER (WHERE on_target AND has_outcome AND accepted) AS target_accepted,
    count(*) FILTER (WHERE on_source AND has_outcome) AS source_tasks,
    count(*) FILTER (WHERE on_source AND has_outcome AND accepted) AS source_accepted
FROM tasks;
