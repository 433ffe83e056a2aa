-- requires: calls, ingest_ctx, ingest_files, quarantine, staged_checked
-- creates: none
-- A batch of files (costlens/ingest/runner.py) loads as if its files were ingested one by one, in path order:
-- a request that several files of the batch hold is loaded from the earliest of them (load/calls_new.sql), and
-- the later files' rows are duplicates with where it was loaded from — as load/calls_known.sql says for a call
-- loaded by an earlier run. Calls already loaded before the batch are that file's (load/calls_known.sql).
INSERT INTO quarantine
WITH fresh AS (
    SELECT s.call_id, s.source_file, s.source_sha256, s.source_row, f.file_order, f.source_format
    FROM staged_checked s JOIN ingest_files f USING (source_file)
    WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL AND s.duplicate_reason IS NULL
      AND NOT EXISTS (SELECT 1 FROM calls x WHERE x.call_id = s.call_id)
),
earliest AS (
    SELECT call_id, arg_min(source_file, file_order) AS loaded_from, arg_min(source_format, file_order) AS format,
           min(file_order) AS file_order
    FROM fresh
    GROUP BY call_id
    HAVING count(DISTINCT file_order) > 1
)
SELECT s.source_file, s.source_sha256, s.source_format, s.source_row, 'duplicate',
       'the same request was already loaded from ' || e.loaded_from || ' (' || e.format || ')', c.run_id
FROM fresh s JOIN earliest e ON e.call_id = s.call_id AND s.file_order > e.file_order
CROSS JOIN ingest_ctx c;
