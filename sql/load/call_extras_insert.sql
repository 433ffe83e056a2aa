-- requires: calls, ingest_ctx, ingest_files, staged_full, unpriced_usage
-- creates: loaded_extras
-- The child rows of the calls this file loaded (after load/calls_insert.sql): billed quantities beyond the six
-- token columns (call_charges), usage fields costlens does not price (unpriced_usage, per producer and
-- field) and the request's semantic-cache sketch (call_sketches, load/prompt_sketches.sql). Only the row that
-- became the call counts: a duplicate or a rejected row adds nothing.
-- Inputs: staged_full (charges, unpriced_fields, producer, prompt_sketch, prompt_words), calls, ingest_ctx.
CREATE OR REPLACE TEMP TABLE loaded_extras AS
SELECT s.call_id, s.source_file, s.source_sha256, s.producer, s.charges, s.unpriced_fields, s.prompt_sketch,
       s.prompt_words
FROM (SELECT call_id, source_file, source_sha256, source_row, producer, charges, unpriced_fields, prompt_sketch,
             prompt_words
      FROM staged_full
      -- the row that became the call: never a duplicate row of the same call and line
      WHERE (len(charges) > 0 OR len(unpriced_fields) > 0 OR prompt_sketch IS NOT NULL)
        AND duplicate_reason IS NULL) s
JOIN (SELECT call_id, source_file, source_row FROM calls WHERE run_id = (SELECT run_id FROM ingest_ctx)) c
  ON c.call_id = s.call_id AND c.source_file = s.source_file AND c.source_row = s.source_row;

INSERT INTO call_charges (call_id, kind, quantity, unit, detail, source_field, counted, source_sha256, run_id)
SELECT call_id, ch.kind, ch.quantity, ch.unit, ch.detail, ch.source_field, coalesce(ch.counted, true),
       source_sha256, (SELECT run_id FROM ingest_ctx)
FROM (SELECT call_id, source_sha256, unnest(charges) AS ch FROM loaded_extras)
WHERE ch.quantity > 0;

INSERT INTO unpriced_usage
SELECT e.source_file, e.source_sha256, i.source_format, coalesce(e.producer, i.source_format), e.f.field, count(*),
       sum(e.f.quantity), (SELECT run_id FROM ingest_ctx)
FROM (SELECT source_file, source_sha256, producer, unnest(unpriced_fields) AS f FROM loaded_extras) e
JOIN ingest_files i ON i.source_file = e.source_file
WHERE e.f.quantity IS DISTINCT FROM 0
GROUP BY ALL;

INSERT INTO call_sketches (call_id, sketch, words, run_id)
SELECT call_id, prompt_sketch, prompt_words, (SELECT run_id FROM ingest_ctx)
FROM loaded_extras
WHERE prompt_sketch IS NOT NULL;
