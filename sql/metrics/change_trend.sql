-- requires: period_calls, task_costs
-- creates: none
-- Cost per accepted outcome by calendar month (the trend beside the change split), with the report's definition
-- (sql/metrics/unit_economics.sql): (inference cost of the month's calls of tasks with an outcome + their rework
-- and delay cost) / accepted tasks touching the month. A task spanning two months counts in both, as in the
-- worksheet's month rows.
-- Inputs: period_calls and task_costs materialised for the trend window (up to six months).
WITH month_task AS (
    SELECT month, task_key, sum(cost_usd) AS cost_usd, count(*) AS calls
    FROM period_calls
    GROUP BY month, task_key
)
SELECT
    m.month,
    sum(m.calls) AS calls,
    count(*) AS tasks,
    coalesce(sum(m.cost_usd), 0) AS cost_usd,
    count(*) FILTER (WHERE t.accepted) AS accepted_tasks,
    coalesce(sum(m.cost_usd) FILTER (WHERE t.has_outcome), 0)
        + coalesce(sum(t.rework_cost_usd) FILTER (WHERE t.has_outcome), 0)
        + coalesce(sum(t.delay_cost_usd) FILTER (WHERE t.has_outcome), 0) AS outcome_cost_usd
FROM month_task m
JOIN task_costs t USING (task_key)
GROUP BY m.month
ORDER BY m.month;
