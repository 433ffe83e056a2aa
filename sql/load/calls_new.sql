-- requires: calls, ingest_ctx, staged_checked
-- creates: calls_to_price
-- The checked rows of a file that become calls (after load/quarantine.sql), de-duplicated, as the view that
-- pricing reads (intermediate/fresh_priced_calls.sql): load/calls_insert.sql inserts them with their cost.
-- Streaming producers write one call several times: keep the fullest usage, then the last line (in a batch
-- of files, ingested in path order: the earliest file, as when they are ingested one by one).
-- Speed: only call_ids seen more than once in the file go through the window; a call already loaded
-- (an earlier file) is dropped by one anti-join; the checked rows go straight into `calls`, never copied first.
-- _charges_pending: the row has charges beyond the token columns, priced once they are loaded.
CREATE OR REPLACE TEMP VIEW calls_to_price AS
WITH ok AS NOT MATERIALIZED (
    SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected, charges, unpriced_fields, producer, duplicate_reason),
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
    (SELECT * FROM ok WHERE call_id IN (SELECT call_id FROM repeated)
     QUALIFY row_number() OVER (
         PARTITION BY call_id
         ORDER BY output_tokens + input_tokens + cache_read_tokens + cache_write_5m_tokens
                  + cache_write_1h_tokens DESC, source_file, source_row DESC) = 1)
)
SELECT k.*, c.source_format, c.run_id
FROM kept k CROSS JOIN ingest_ctx c
WHERE NOT EXISTS (SELECT 1 FROM calls x WHERE x.call_id = k.call_id);
