-- Insert the checked billing lines. One input row (a JSON page, a usage row) can give several lines:
-- line_id numbers them within their row, in the order the staging gives (line_order: their place in the
-- document), then by their content — never by the engine's row order, which follows parallel execution.
CREATE OR REPLACE TEMP TABLE staged_new AS
SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected, line_order), s.line_order AS _line_order
FROM staged_checked s
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL;

INSERT INTO billing_lines BY NAME
WITH keyed AS (
    -- the lines of one input row are told apart by their content, never by the engine's row order (which
    -- follows parallel execution): the same file gives the same line ids whatever the thread count
    SELECT *, md5(CAST(staged_new AS VARCHAR)) AS content_key FROM staged_new
)
SELECT o.* EXCLUDE (content_key, _line_order),
       o.source_sha256 || ':' || o.source_row || ':'
           || row_number() OVER (PARTITION BY o.source_row ORDER BY o._line_order NULLS FIRST, o.content_key)
           AS line_id,
       c.source_format, c.run_id
FROM keyed o CROSS JOIN ingest_ctx c
ORDER BY o.source_row, o._line_order NULLS FIRST, o.content_key;
