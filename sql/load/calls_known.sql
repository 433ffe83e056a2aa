-- requires: calls, ingest_ctx, ingest_files, quarantine, staged_checked
-- creates: none
-- Rows of this file whose request is already loaded — from another file, another producer, an earlier run
-- (before load/calls_insert.sql, which leaves them out): duplicates, kept in quarantine with where the call
-- was loaded from. A call is one provider request: the first loaded stays (README "Identity").
INSERT INTO quarantine
SELECT s.source_file, s.source_sha256, f.source_format, s.source_row, 'duplicate',
       'the same request was already loaded from ' || x.source_file || ' (' || x.source_format || ')', c.run_id
FROM (SELECT call_id, source_file, source_sha256, source_row FROM staged_checked
      WHERE why_rejected IS NULL AND skip_reason IS NULL AND duplicate_reason IS NULL) s
JOIN calls x ON x.call_id = s.call_id
JOIN ingest_files f ON f.source_file = s.source_file
CROSS JOIN ingest_ctx c;
