-- requires: call_filter, customer_plans, customer_settings, period_calls, report_period, revenue, task_costs
-- creates: customer_economics, plan_economics
-- Unit economics and gross AI margin per customer and per plan (docs/definitions.md#customer-margin).
-- AI cost is the calls' priced cost, so customers add up to the period's total to the cent; calls with no
-- customer are the row '(no customer)'. Tasks, acceptance and cost per accepted outcome follow the feature
-- worksheet's definitions (sql/metrics/unit_economics.sql), over each customer's tasks.
-- Revenue: the customer's monthly amounts, each counted for the share of its month inside the period (a whole
-- month in a monthly report; days of the month otherwise). Plan: the plan of the customer's latest month in
-- the period. Margin = revenue − AI cost; margin_pct and ai_cost_share are over revenue (NULL without revenue
-- above 0). A customer with revenue and no call has AI cost 0.
-- Filters (call_filter): --customer keeps those customers' revenue, --plan the revenue of the customers on those
-- plans (customer_plans); --feature / --team leave revenue out (the
-- calls shown are part of what a customer's revenue pays for, so a margin against them would flatter it).
-- Inputs: period_calls, task_costs, revenue, report_period(start_ts, end_ts), customer_settings(max_ai_cost_share),
-- call_filter(features, teams, customers, plans), customer_plans(customer, plan).
CREATE OR REPLACE TEMP TABLE customer_economics AS
WITH customer_tasks AS (
    -- each customer's part of each task (a task is one customer's in practice; if not, each keeps its calls)
    SELECT coalesce(nullif(trim(customer), ''), '(no customer)') AS customer, task_key,
           count(*) AS calls, count(*) FILTER (WHERE NOT priced) AS unpriced_calls, sum(cost_usd) AS cost_usd
    FROM period_calls
    GROUP BY 1, 2
),

usage AS (
    SELECT
        c.customer,
        CAST(sum(c.calls) AS BIGINT) AS calls,
        CAST(sum(c.unpriced_calls) AS BIGINT) AS unpriced_calls,
        count(*) AS tasks,
        coalesce(sum(c.cost_usd), 0) AS ai_cost_usd,
        count(*) FILTER (WHERE t.accepted IS NOT NULL) AS tasks_with_verdict,
        count(*) FILTER (WHERE t.accepted) AS accepted_tasks,
        coalesce(sum(c.cost_usd) FILTER (WHERE t.has_outcome), 0) AS inference_cost_with_outcome_usd,
        coalesce(sum(t.rework_cost_usd) FILTER (WHERE t.has_outcome), 0) AS rework_cost_usd,
        coalesce(sum(t.delay_cost_usd) FILTER (WHERE t.has_outcome), 0) AS delay_cost_usd
    FROM customer_tasks AS c
    JOIN task_costs AS t USING (task_key)
    GROUP BY c.customer
),

revenue_months AS (
    SELECT
        r.customer, r.month, r.plan, r.revenue_usd,
        datediff('day', greatest(CAST(r.month AS TIMESTAMP), p.start_ts),
                 least(CAST(r.month + INTERVAL 1 MONTH AS TIMESTAMP), p.end_ts)) AS days_in_period,
        datediff('day', CAST(r.month AS TIMESTAMP), CAST(r.month + INTERVAL 1 MONTH AS TIMESTAMP)) AS days_in_month
    FROM revenue AS r
    CROSS JOIN report_period AS p
    CROSS JOIN call_filter AS f
    LEFT JOIN customer_plans AS cp ON cp.customer = r.customer
    WHERE CAST(r.month AS TIMESTAMP) < p.end_ts AND CAST(r.month + INTERVAL 1 MONTH AS TIMESTAMP) > p.start_ts
      AND f.features IS NULL AND f.teams IS NULL
      AND (f.customers IS NULL OR list_contains(f.customers, r.customer))
      AND (f.plans IS NULL
           OR list_contains(f.plans, coalesce(cp.plan, '(no plan)')))
),

earned AS (
    SELECT
        customer,
        -- a whole month exactly; a part of one through the shortest text of its DOUBLE share (exact decimals)
        sum(CASE WHEN days_in_period = days_in_month THEN revenue_usd
                 ELSE CAST(CAST(CAST(revenue_usd AS DOUBLE) * days_in_period / days_in_month AS VARCHAR)
                           AS DECIMAL(38, 18)) END) AS revenue_usd,
        arg_max(plan, month) AS plan
    FROM revenue_months
    GROUP BY customer
)

SELECT
    coalesce(u.customer, e.customer) AS customer,
    coalesce(e.plan, '(no plan)') AS plan,
    coalesce(u.calls, 0) AS calls,
    coalesce(u.unpriced_calls, 0) AS unpriced_calls,
    coalesce(u.tasks, 0) AS tasks,
    coalesce(u.accepted_tasks, 0) AS accepted_tasks,
    coalesce(u.tasks_with_verdict, 0) AS tasks_with_verdict,
    coalesce(u.ai_cost_usd, 0) AS ai_cost_usd,
    CAST(u.ai_cost_usd AS DOUBLE) / nullif(u.calls - u.unpriced_calls, 0) AS cost_per_call_usd,
    CAST(u.ai_cost_usd AS DOUBLE) / nullif(u.tasks, 0) AS cost_per_task_usd,
    u.accepted_tasks / nullif(u.tasks_with_verdict, 0) AS acceptance_rate,
    CAST(u.inference_cost_with_outcome_usd + u.rework_cost_usd + u.delay_cost_usd AS DOUBLE)
        / nullif(u.accepted_tasks, 0) AS cost_per_accepted_outcome_usd,
    e.revenue_usd,
    e.revenue_usd - coalesce(u.ai_cost_usd, 0) AS margin_usd,
    CASE WHEN e.revenue_usd > 0
         THEN CAST(e.revenue_usd - coalesce(u.ai_cost_usd, 0) AS DOUBLE) / CAST(e.revenue_usd AS DOUBLE) END
        AS margin_pct,
    CASE WHEN e.revenue_usd > 0 THEN CAST(coalesce(u.ai_cost_usd, 0) AS DOUBLE) / CAST(e.revenue_usd AS DOUBLE) END
        AS ai_cost_share,
    coalesce(CASE WHEN e.revenue_usd > 0
                  THEN CAST(coalesce(u.ai_cost_usd, 0) AS DOUBLE) / CAST(e.revenue_usd AS DOUBLE)
                       > s.max_ai_cost_share
                  ELSE coalesce(u.ai_cost_usd, 0) > 0 AND e.customer IS NOT NULL END, false) AS over_share
FROM usage AS u
FULL OUTER JOIN earned AS e ON e.customer = u.customer
CROSS JOIN customer_settings AS s;

CREATE OR REPLACE TEMP TABLE plan_economics AS
SELECT
    plan,
    count(*) FILTER (WHERE customer <> '(no customer)') AS customers,
    sum(calls) AS calls,
    sum(ai_cost_usd) AS ai_cost_usd,
    sum(revenue_usd) AS revenue_usd,
    sum(revenue_usd) - sum(ai_cost_usd) FILTER (WHERE revenue_usd IS NOT NULL) AS margin_usd,
    CASE WHEN sum(revenue_usd) > 0
         THEN CAST(sum(revenue_usd) - sum(ai_cost_usd) FILTER (WHERE revenue_usd IS NOT NULL) AS DOUBLE)
              / CAST(sum(revenue_usd) AS DOUBLE) END AS margin_pct,
    CASE WHEN sum(revenue_usd) > 0
         THEN CAST(sum(ai_cost_usd) FILTER (WHERE revenue_usd IS NOT NULL) AS DOUBLE)
              / CAST(sum(revenue_usd) AS DOUBLE) END AS ai_cost_share,
    count(*) FILTER (WHERE over_share) AS customers_over_share
FROM customer_economics
GROUP BY plan;
