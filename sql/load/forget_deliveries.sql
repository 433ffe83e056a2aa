-- requires: billing_lines, call_charges, call_content, call_sketches, calls, ingest_files, ingested_files, outcomes,
--   quarantine, replacements, revenue, trace_context, unpriced_usage
-- creates: forget_calls, forget_sha
-- `ingest --replace`: forget what earlier loads of these deliveries put in the database, inside the transaction
-- that loads them again (so a config or mapping fix takes effect, and a failure leaves the old rows in place).
-- A delivery is its content (source_sha256): every table that keeps rows per delivery is cleared of it; bill
-- lines it had superseded become current again until the reload decides afresh; the replacements it recorded
-- go. Rows of other deliveries found to be duplicates of it stay where they are (they were never loaded).
-- Inputs: ingest_files (source_sha256, replace). Outputs: calls, call_content, call_sketches, call_charges,
-- unpriced_usage, trace_context, outcomes, revenue, billing_lines, quarantine, replacements, ingested_files, minus
-- those deliveries.
CREATE OR REPLACE TEMP TABLE forget_sha AS
SELECT DISTINCT source_sha256 FROM ingest_files WHERE replace;

CREATE OR REPLACE TEMP TABLE forget_calls AS
SELECT call_id FROM calls WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);

DELETE FROM call_content WHERE call_id IN (SELECT call_id FROM forget_calls);
DELETE FROM call_sketches WHERE call_id IN (SELECT call_id FROM forget_calls);
DELETE FROM call_charges
WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha) OR call_id IN (SELECT call_id FROM forget_calls);
DELETE FROM unpriced_usage WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);
DELETE FROM calls WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);
DELETE FROM trace_context WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);
DELETE FROM outcomes WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);
DELETE FROM revenue WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);

UPDATE billing_lines SET superseded_by = NULL, superseded_run = NULL
WHERE superseded_by IN (SELECT source_sha256 FROM forget_sha);
DELETE FROM billing_lines WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);

DELETE FROM quarantine WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);
DELETE FROM replacements
WHERE source_file IN (SELECT source_file FROM ingested_files WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha));
DELETE FROM ingested_files WHERE source_sha256 IN (SELECT source_sha256 FROM forget_sha);

DROP TABLE forget_calls;
DROP TABLE forget_sha;
