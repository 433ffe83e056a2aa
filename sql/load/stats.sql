-- Per-file accounting, the same for every target: read = loaded + duplicate + quarantined + skipped.
CREATE OR REPLACE TEMP TABLE file_stats AS
SELECT (SELECT count(*) FROM staged_checked) + (SELECT count(*) FROM reader_rejects) AS rows_read,
       (SELECT count(*) FROM staged_new) AS rows_loaded,
       (SELECT count(*) FROM staged_checked WHERE why_rejected IS NULL AND skip_reason IS NULL)
           - (SELECT count(*) FROM staged_new) AS rows_duplicate,
       (SELECT count(*) FROM staged_checked WHERE why_rejected IS NOT NULL)
           + (SELECT count(*) FROM reader_rejects) AS rows_quarantined,
       (SELECT count(*) FROM staged_checked WHERE why_rejected IS NULL AND skip_reason IS NOT NULL) AS rows_skipped;
