-- requires: staged_full
-- creates: staged_checked
-- Validate staged trace attribution rows. `staged_full` is made by the runner.
CREATE OR REPLACE TEMP VIEW staged_checked AS
SELECT *,
       coalesce(reject_reason, CASE
           WHEN skip_reason IS NOT NULL THEN NULL
           WHEN trace_id IS NULL OR trim(trace_id) = '' THEN 'missing trace id'
       END) AS why_rejected
FROM staged_full;
