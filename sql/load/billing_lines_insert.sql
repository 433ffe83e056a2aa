-- De-duplicate and insert the checked rows (after load/quarantine.sql).
CREATE OR REPLACE TEMP TABLE staged_new AS
SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected)
FROM staged_checked s
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL;

INSERT INTO billing_lines BY NAME
SELECT n.*, c.source_sha256 || ':' || n.source_row AS line_id,
       c.source_format, c.source_file, c.source_sha256, c.run_id
FROM staged_new n CROSS JOIN ingest_ctx c;
