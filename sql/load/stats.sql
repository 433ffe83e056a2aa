-- Per-file accounting, the same for every target: read = loaded + duplicate + quarantined + skipped.
-- One pass over the checked rows.
CREATE OR REPLACE TEMP TABLE file_stats AS
WITH checked AS (
    SELECT count(*) AS n,
           count(*) FILTER (WHERE why_rejected IS NULL AND skip_reason IS NULL) AS ok,
           count(*) FILTER (WHERE why_rejected IS NOT NULL) AS rejected,
           count(*) FILTER (WHERE why_rejected IS NULL AND skip_reason IS NOT NULL) AS skipped
    FROM staged_checked
),
rejects AS (SELECT count(*) AS n FROM reader_rejects),
loaded AS (SELECT CAST(? AS BIGINT) AS n)  -- the insert's row count
SELECT checked.n + rejects.n AS rows_read,
       loaded.n AS rows_loaded,
       checked.ok - loaded.n AS rows_duplicate,
       checked.rejected + rejects.n AS rows_quarantined,
       checked.skipped AS rows_skipped
FROM checked, rejects, loaded;
