-- De-duplicate and insert the checked rows (after load/quarantine.sql).
CREATE OR REPLACE TEMP TABLE staged_new AS
SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected)
FROM staged_checked s
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY s.task_id ORDER BY s.source_row DESC) = 1;

DELETE FROM staged_new WHERE task_id IN (SELECT task_id FROM outcomes);

INSERT INTO outcomes BY NAME
SELECT n.*, c.source_format, c.run_id
FROM staged_new n CROSS JOIN ingest_ctx c;
