-- requires: file_loaded, ingest_ctx, ingest_files, reader_rejects, staged_checked
-- creates: file_stats
-- Per-file accounting, the same for every target: read = loaded + duplicate + quarantined + skipped.
-- One pass over the checked rows, grouped by file (a batch stages several files; reader rejects are only
-- made for a single file). file_loaded(source_file, n): the rows each file added, made by the runner.
CREATE OR REPLACE TEMP TABLE file_stats AS
WITH checked AS (
    SELECT source_file,
           count(*) AS n,
           count(*) FILTER (WHERE why_rejected IS NULL AND skip_reason IS NULL) AS ok,
           count(*) FILTER (WHERE why_rejected IS NOT NULL) AS rejected,
           count(*) FILTER (WHERE why_rejected IS NULL AND skip_reason IS NOT NULL) AS skipped
    FROM staged_checked
    GROUP BY source_file
),
rejects AS (SELECT c.source_file, count(*) AS n FROM reader_rejects CROSS JOIN ingest_ctx c GROUP BY ALL)
SELECT f.source_file,
       coalesce(checked.n, 0) + coalesce(rejects.n, 0) AS rows_read,
       coalesce(loaded.n, 0) AS rows_loaded,
       coalesce(checked.ok, 0) - coalesce(loaded.n, 0) AS rows_duplicate,
       coalesce(checked.rejected, 0) + coalesce(rejects.n, 0) AS rows_quarantined,
       coalesce(checked.skipped, 0) AS rows_skipped
FROM ingest_files f
LEFT JOIN checked USING (source_file)
LEFT JOIN rejects USING (source_file)
LEFT JOIN file_loaded loaded USING (source_file);
