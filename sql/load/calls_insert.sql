-- De-duplicate and insert the checked rows (after load/quarantine.sql).
-- Streaming producers write one call several times: keep the fullest usage, then the last line.
CREATE OR REPLACE TEMP TABLE staged_new AS
SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected)
FROM staged_checked s
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL
QUALIFY row_number() OVER (
    PARTITION BY s.call_id
    ORDER BY s.output_tokens + s.input_tokens + s.cache_read_tokens + s.cache_write_5m_tokens
             + s.cache_write_1h_tokens DESC, s.source_row DESC) = 1;

DELETE FROM staged_new WHERE call_id IN (SELECT call_id FROM calls);

INSERT INTO calls BY NAME
SELECT n.*, c.source_format, c.source_file, c.source_sha256, c.run_id
FROM staged_new n CROSS JOIN ingest_ctx c;
