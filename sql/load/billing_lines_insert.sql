-- Insert the checked billing lines. One input row (a JSON page, a usage row) can give several lines:
-- line_id numbers them within their row, in file order.
CREATE OR REPLACE TEMP TABLE staged_new AS
SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected)
FROM staged_checked s
WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL;

INSERT INTO billing_lines BY NAME
WITH ordered AS (SELECT *, row_number() OVER () AS file_order FROM staged_new)
SELECT o.* EXCLUDE (file_order),
       o.source_sha256 || ':' || o.source_row || ':'
           || row_number() OVER (PARTITION BY o.source_row ORDER BY o.file_order) AS line_id,
       c.source_format, c.run_id
FROM ordered o CROSS JOIN ingest_ctx c
ORDER BY o.file_order;
