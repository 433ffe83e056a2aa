-- requires: staged_full
-- creates: staged_checked
-- Validate staged revenue rows. `staged_full` (every target column, typed, plus reject_reason / skip_reason) is
-- made by the runner.
CREATE OR REPLACE TEMP VIEW staged_checked AS
SELECT *,
       coalesce(reject_reason, CASE
           WHEN skip_reason IS NOT NULL THEN NULL
           WHEN customer IS NULL OR trim(customer) = '' THEN 'missing customer'
           WHEN month IS NULL THEN 'missing month'
           WHEN revenue_usd IS NULL THEN 'missing revenue'
       END) AS why_rejected
FROM staged_full;
