-- requires: ingest_ctx, ingest_files, quarantine, reader_rejects, staged_checked
-- creates: none
-- Rows read but not loaded, for any target: reader rejects, rejected and skipped staged rows (each staged
-- row names its file and, through ingest_files, its format: a batch stages several).
INSERT INTO quarantine
SELECT c.source_file, c.source_sha256, c.source_format, r.source_row, 'rejected', r.reason, c.run_id
FROM reader_rejects r CROSS JOIN ingest_ctx c;

INSERT INTO quarantine
SELECT s.source_file, s.source_sha256, f.source_format, s.source_row,
       CASE WHEN s.why_rejected IS NOT NULL THEN 'rejected' ELSE 'skipped' END,
       coalesce(s.why_rejected, s.skip_reason), c.run_id
FROM staged_checked s JOIN ingest_files f USING (source_file) CROSS JOIN ingest_ctx c
WHERE s.why_rejected IS NOT NULL OR s.skip_reason IS NOT NULL;
