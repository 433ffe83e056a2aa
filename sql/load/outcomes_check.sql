-- requires: staged_full
-- creates: staged_checked
-- Validate, de-duplicate (one outcome per task; the first one ingested wins) and insert staged outcomes.
-- `staged_full` (every target column, typed, plus reject_reason / skip_reason) is made by the runner.
CREATE OR REPLACE TEMP VIEW staged_checked AS
SELECT *,
       coalesce(reject_reason, CASE
           WHEN skip_reason IS NOT NULL THEN NULL
           WHEN task_id IS NULL OR trim(task_id) = '' THEN 'missing task_id'
           WHEN quality_score IS NOT NULL AND (quality_score < 0 OR quality_score > 1 OR isnan(quality_score))
               THEN 'quality_score outside 0..1'
           WHEN least(coalesce(rework_minutes, 0), coalesce(delay_minutes, 0), coalesce(rework_cost_usd, 0)) < 0
               THEN 'negative rework or delay'
       END) AS why_rejected
FROM staged_full;
