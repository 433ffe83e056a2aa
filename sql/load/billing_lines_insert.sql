-- requires: billing_lines, billing_scope, ingest_ctx, staged_checked
-- creates: billing_known, billing_new
-- Insert the checked billing lines (after load/quarantine.sql). A line is identified by its content — every
-- column but its lineage — and its occurrence among identical lines of its file: the same line in a re-exported
-- bill (rows reordered, CRLF line ends, another file name, a copy, gzip) has the same line_id, so it is a
-- duplicate, never counted again. Never by the engine's row order, which follows parallel execution.
-- Then load/billing_snapshots.sql settles which export is current for each scope and charge day.
CREATE OR REPLACE TEMP TABLE billing_new AS
WITH checked AS (
    SELECT s.* EXCLUDE (reject_reason, skip_reason, why_rejected, line_order), s.line_order AS _line_order
    FROM staged_checked s
    WHERE s.why_rejected IS NULL AND s.skip_reason IS NULL
),
keyed AS (
    SELECT *, md5(to_json(struct_pack(*COLUMNS(* EXCLUDE (source_file, source_sha256, source_row, _line_order)))))
                  AS content_key
    FROM checked
)
SELECT k.*,
       k.content_key || ':' || row_number() OVER (PARTITION BY k.source_file, k.content_key
                                                   ORDER BY k.source_row, k._line_order NULLS FIRST) AS line_id,
       billing_scope(c.source_format, k.charge_class, k.invoice_issuer, k.provider, k.billing_account_id,
                     k.sub_account_id) AS scope,
       CAST(k.charge_period_start AS DATE) AS charge_day
FROM keyed k CROSS JOIN ingest_ctx c;

-- lines another export (or this one, earlier) already brought
CREATE OR REPLACE TEMP TABLE billing_known AS
SELECT n.source_file, n.source_row, n.line_id, any_value(b.source_file) AS loaded_from
FROM billing_new n JOIN billing_lines b USING (line_id)
GROUP BY ALL;

INSERT INTO billing_lines BY NAME
SELECT n.* EXCLUDE (content_key, _line_order, scope, charge_day), c.source_format, c.run_id
FROM billing_new n CROSS JOIN ingest_ctx c
WHERE n.line_id NOT IN (SELECT line_id FROM billing_known)
ORDER BY n.source_row, n._line_order NULLS FIRST, n.content_key;
