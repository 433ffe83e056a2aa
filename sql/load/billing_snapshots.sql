-- requires: billing_known, billing_lines, billing_new, billing_scope, ingest_ctx, ingested_files, quarantine,
--   replacements
-- creates: billing_current, billing_scope_days, billing_winners
-- Bills are snapshots (after load/billing_lines_insert.sql). For each billing scope and charge day this file
-- covers, the current export is the newest one (the file's modification time, then the later ingest): cloud
-- cost exports refresh month-to-date files, and an older export of the same days must not count again.
-- The lines of the other exports there are superseded (kept, marked, recorded in `replacements`) — except the
-- lines the current export carries too (the same line_id: the same money, confirmed).
-- Inputs: billing_new, billing_known (this file's lines and the ones already loaded), ingest_ctx, billing_lines,
-- ingested_files.
CREATE OR REPLACE TEMP TABLE billing_scope_days AS
SELECT DISTINCT scope, charge_day FROM billing_new WHERE charge_day IS NOT NULL;

CREATE OR REPLACE TEMP TABLE billing_current AS
WITH span AS (SELECT min(charge_day) AS first_day, max(charge_day) AS last_day FROM billing_scope_days),
lines AS (
    -- current lines of other exports in this file's scope-days (a range filter first: few lines match)
    SELECT b.line_id, b.source_file, b.source_sha256, b.run_id, b.billed_cost,
           billing_scope(b.source_format, b.charge_class, b.invoice_issuer, b.provider, b.billing_account_id,
                         b.sub_account_id) AS scope,
           CAST(b.charge_period_start AS DATE) AS charge_day
    FROM billing_lines b, span, ingest_ctx c
    WHERE b.superseded_by IS NULL AND b.source_sha256 <> c.source_sha256
      AND b.charge_period_start >= CAST(span.first_day AS TIMESTAMP)
      AND b.charge_period_start < CAST(span.last_day AS TIMESTAMP) + INTERVAL 1 DAY
)
SELECT l.* FROM lines l JOIN billing_scope_days d USING (scope, charge_day);

CREATE OR REPLACE TEMP TABLE billing_winners AS
WITH candidates AS (
    SELECT l.scope, l.charge_day, l.source_sha256, coalesce(f.mtime_ns, 0) AS mtime_ns, max(l.run_id) AS run_id
    FROM billing_current l LEFT JOIN ingested_files f USING (source_sha256)
    GROUP BY ALL
    UNION ALL
    SELECT d.scope, d.charge_day, c.source_sha256, c.mtime_ns, c.run_id
    FROM billing_scope_days d CROSS JOIN ingest_ctx c
)
SELECT scope, charge_day, arg_max(source_sha256, CAST(mtime_ns AS HUGEINT) * 1000000000 + run_id) AS winner
FROM candidates
GROUP BY ALL;

-- this file is the newer export: the older exports' lines it does not carry are replaced
INSERT INTO replacements
SELECT c.run_id, 'billing_lines', c.source_file, l.source_file, l.scope, min(l.charge_day), max(l.charge_day),
       count(*), sum(l.billed_cost)
FROM billing_current l JOIN billing_winners w USING (scope, charge_day) CROSS JOIN ingest_ctx c
WHERE w.winner = c.source_sha256 AND l.line_id NOT IN (SELECT line_id FROM billing_new)
GROUP BY ALL;

UPDATE billing_lines SET superseded_by = c.source_sha256, superseded_run = c.run_id
FROM ingest_ctx c
WHERE billing_lines.line_id IN (
    SELECT l.line_id FROM billing_current l JOIN billing_winners w USING (scope, charge_day), ingest_ctx c
    WHERE w.winner = c.source_sha256 AND l.line_id NOT IN (SELECT line_id FROM billing_new));

-- an older export than the one already current for some days: its lines there are kept as history only
UPDATE billing_lines SET superseded_by = w.winner, superseded_run = c.run_id
FROM billing_winners w, ingest_ctx c
WHERE billing_lines.source_sha256 = c.source_sha256 AND w.winner <> c.source_sha256
  AND billing_scope(billing_lines.source_format, billing_lines.charge_class, billing_lines.invoice_issuer,
                    billing_lines.provider, billing_lines.billing_account_id, billing_lines.sub_account_id) = w.scope
  AND CAST(billing_lines.charge_period_start AS DATE) = w.charge_day;

-- lines of this file that another export already brought: duplicates, with where from
INSERT INTO quarantine
SELECT k.source_file, c.source_sha256, c.source_format, k.source_row, 'duplicate',
       'the same bill line was already loaded from ' || k.loaded_from, c.run_id
FROM billing_known k CROSS JOIN ingest_ctx c;
