-- requires: staged_full
-- creates: staged_checked
-- Validate and insert staged billing lines. A bill's lines have no id of their own: a line is identified by
-- its file and row, and re-ingesting the same file is caught by the file manifest.
-- `staged_full` (every target column, typed, plus reject_reason / skip_reason) is made by the runner.
CREATE OR REPLACE TEMP VIEW staged_checked AS
SELECT *,
       coalesce(reject_reason, CASE
           WHEN skip_reason IS NOT NULL THEN NULL
           -- token-only lines from usage reports (OpenAI / Anthropic usage APIs) carry charge_class
           -- 'usage-only': they count tokens for reconciliation and never money
           WHEN billed_cost IS NULL AND effective_cost IS NULL
                AND NOT (coalesce(charge_class, '') = 'usage-only' AND consumed_quantity IS NOT NULL)
               THEN 'no cost amount (BilledCost / EffectiveCost)'
           WHEN charge_period_start IS NULL THEN 'missing or unparseable charge period start'
       END) AS why_rejected
FROM staged_full;
