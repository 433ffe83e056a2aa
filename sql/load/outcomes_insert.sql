-- requires: ingest_ctx, outcomes, replacements, staged_checked
-- creates: staged_new
-- Insert the checked outcomes (after load/quarantine.sql). One outcome per task: within a file its last row;
-- across deliveries the latest delivery wins — a re-delivered outcomes file with corrected verdicts replaces the
-- earlier ones (recorded in `replacements`); an identical re-delivery is a duplicate.
CREATE OR REPLACE TEMP TABLE staged_new AS
SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected)
FROM staged_checked s
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY s.task_id ORDER BY s.source_row DESC) = 1;

-- the task's outcome already loaded, with the same values: nothing to do
DELETE FROM staged_new n WHERE EXISTS (
    SELECT 1 FROM outcomes o
    WHERE o.task_id = n.task_id AND o.accepted IS NOT DISTINCT FROM n.accepted
      AND o.quality_score IS NOT DISTINCT FROM n.quality_score AND o.human_review IS NOT DISTINCT FROM n.human_review
      AND o.rework_minutes IS NOT DISTINCT FROM n.rework_minutes
      AND o.rework_cost_usd IS NOT DISTINCT FROM n.rework_cost_usd
      AND o.delay_minutes IS NOT DISTINCT FROM n.delay_minutes);

INSERT INTO replacements
SELECT c.run_id, 'outcomes', c.source_file, o.source_file, NULL, NULL, NULL, count(*), NULL
FROM outcomes o CROSS JOIN ingest_ctx c
WHERE o.task_id IN (SELECT task_id FROM staged_new)
GROUP BY ALL;

DELETE FROM outcomes WHERE task_id IN (SELECT task_id FROM staged_new);

INSERT INTO outcomes BY NAME
SELECT n.*, c.source_format, c.run_id
FROM staged_new n CROSS JOIN ingest_ctx c;
