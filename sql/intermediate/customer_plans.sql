-- requires: report_period, revenue
-- creates: customer_plans
-- customer_plans: each customer's plan in the report period — the plan of its latest revenue month that overlaps
-- the period (docs/definitions.md#customer-margin); a customer without one is '(no plan)' where it is read.
-- `--plan` (call_filter.plans) keeps the calls of the customers on those plans. Inputs: revenue, report_period.
CREATE OR REPLACE TEMP TABLE customer_plans AS
SELECT r.customer, arg_max(r.plan, r.month) AS plan
FROM revenue AS r
CROSS JOIN report_period AS p
WHERE CAST(r.month AS TIMESTAMP) < p.end_ts AND CAST(r.month + INTERVAL 1 MONTH AS TIMESTAMP) > p.start_ts
  AND nullif(trim(r.plan), '') IS NOT NULL
GROUP BY r.customer;
