-- requires: ingest_ctx, replacements, revenue, staged_checked
-- creates: staged_keys, staged_new
-- Insert the checked revenue (after load/quarantine.sql). Identity: a customer and month. A delivery may list
-- several rows for one (several invoices): they are all kept, and the customer's month is their sum. The latest
-- delivery of a customer and month replaces every earlier row of it (recorded in `replacements`): a re-export
-- with corrected amounts is never added to the first. A customer and month delivered again with the same rows
-- (count, amounts and plans) changes nothing: its rows count as duplicates.
CREATE OR REPLACE TEMP TABLE staged_new AS
SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected)
FROM staged_checked s
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL;

CREATE OR REPLACE TEMP TABLE staged_keys AS
SELECT customer, month, count(*) AS n, sum(revenue_usd) AS revenue_usd, list_sort(list(coalesce(plan, ''))) AS plans
FROM staged_new
GROUP BY customer, month;

DELETE FROM staged_keys k WHERE EXISTS (
    SELECT 1
    FROM (SELECT customer, month, count(*) AS n, sum(revenue_usd) AS revenue_usd,
                 list_sort(list(coalesce(plan, ''))) AS plans
          FROM revenue GROUP BY customer, month) AS r
    WHERE r.customer = k.customer AND r.month = k.month AND r.n = k.n AND r.revenue_usd = k.revenue_usd
      AND r.plans = k.plans);

DELETE FROM staged_new n WHERE NOT EXISTS (
    SELECT 1 FROM staged_keys k WHERE k.customer = n.customer AND k.month = n.month);

INSERT INTO replacements
SELECT c.run_id, 'revenue', c.source_file, r.source_file, NULL, min(r.month), max(r.month), count(*),
       sum(r.revenue_usd)
FROM revenue r
JOIN staged_keys k ON k.customer = r.customer AND k.month = r.month
CROSS JOIN ingest_ctx c
GROUP BY c.run_id, c.source_file, r.source_file;

DELETE FROM revenue r WHERE EXISTS (SELECT 1 FROM staged_keys k WHERE k.customer = r.customer AND k.month = r.month);

INSERT INTO revenue BY NAME
SELECT n.*, c.source_format, c.run_id
FROM staged_new n CROSS JOIN ingest_ctx c;
