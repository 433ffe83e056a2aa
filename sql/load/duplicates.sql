-- requires: ingest_ctx, ingest_files, quarantine, staged_checked
-- creates: none
-- Rows the staging itself found to be another row's call (a second span of one request), after the insert:
-- they count as duplicates (load/stats.sql: checked, not loaded) and are kept in quarantine with the reason,
-- disposition 'duplicate', so `costlens quarantine` shows which row was kept and why.
INSERT INTO quarantine
SELECT s.source_file, s.source_sha256, f.source_format, s.source_row, 'duplicate', s.duplicate_reason, c.run_id
FROM staged_checked s JOIN ingest_files f USING (source_file) CROSS JOIN ingest_ctx c
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL AND s.duplicate_reason IS NOT NULL;
