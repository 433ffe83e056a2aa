-- requires: calls, ingest_ctx, ingest_files, staged_checked
-- creates: calls_to_price
-- The checked rows of a file that become calls (after load/quarantine.sql), de-duplicated, as the view that
-- pricing reads (intermediate/fresh_priced_calls.sql): load/calls_insert.sql inserts them with their cost.
-- Streaming producers write one call several times: keep the fullest usage, then the last line. In a batch of
-- files the earliest file (path order, ingest_files.file_order) keeps the call, as when they are ingested one by
-- one; the later files' rows are duplicates (load/calls_known_in_batch.sql).
-- Speed: only call_ids seen more than once in the file go through the window; a call already loaded
-- (an earlier file) is dropped by one anti-join; the checked rows go straight into `calls`, never copied first.
-- _charges_pending: the row has charges beyond the token columns, priced once they are loaded.
CREATE OR REPLACE TEMP VIEW calls_to_price AS
WITH ok AS NOT MATERIALIZED (
    SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected, charges, unpriced_fields, producer, duplicate_reason,
                        prompt_sketch, prompt_words),
           coalesce(len(s.charges), 0) > 0 AS _charges_pending
    FROM staged_checked s
    WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL AND s.duplicate_reason IS NULL
),
repeated AS (
    SELECT call_id FROM ok GROUP BY call_id HAVING count(*) > 1
),
kept AS (
    SELECT * FROM ok WHERE call_id NOT IN (SELECT call_id FROM repeated)
    UNION ALL
    (SELECT o.* FROM ok o JOIN ingest_files f USING (source_file)
     WHERE o.call_id IN (SELECT call_id FROM repeated)
     QUALIFY row_number() OVER (
         PARTITION BY o.call_id
         ORDER BY f.file_order, o.output_tokens + o.input_tokens + o.cache_read_tokens + o.cache_write_5m_tokens
                  + o.cache_write_1h_tokens DESC, o.source_row DESC) = 1)
)
SELECT k.*, f.source_format, c.run_id
FROM kept k JOIN ingest_files f USING (source_file) CROSS JOIN ingest_ctx c
WHERE NOT EXISTS (SELECT 1 FROM calls x WHERE x.call_id = k.call_id);
