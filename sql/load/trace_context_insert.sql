-- requires: ingest_ctx, staged_checked, trace_context
-- creates: staged_new
-- De-duplicate (one row per trace; the first one ingested wins) and insert.
CREATE OR REPLACE TEMP TABLE staged_new AS
SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected)
FROM staged_checked s
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL
QUALIFY row_number() OVER (PARTITION BY s.trace_id ORDER BY s.source_row DESC) = 1;

DELETE FROM staged_new WHERE trace_id IN (SELECT trace_id FROM trace_context);

INSERT INTO trace_context BY NAME
SELECT n.*, c.source_format, c.run_id
FROM staged_new n CROSS JOIN ingest_ctx c;
