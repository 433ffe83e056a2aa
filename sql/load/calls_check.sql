-- requires: staged_full
-- creates: staged_checked
-- Validate, de-duplicate and insert one file's staged calls. Inputs: temp tables `staged`, `reader_rejects`,
-- `ingest_ctx` (one row: source_format, source_file, source_sha256, run_id). Same for every producer.
-- `staged_full` (every target column, typed, plus reject_reason / skip_reason) is made by the runner.
-- A view, like staged_full: quarantine and stats read only its few verdict columns, and the one full read
-- (staged_new) materialises it, so each file is copied once fewer.
CREATE OR REPLACE TEMP VIEW staged_checked AS
SELECT * REPLACE (
           coalesce(input_tokens, 0) AS input_tokens,
           coalesce(cache_read_tokens, 0) AS cache_read_tokens,
           coalesce(cache_write_5m_tokens, 0) AS cache_write_5m_tokens,
           coalesce(cache_write_1h_tokens, 0) AS cache_write_1h_tokens,
           coalesce(output_tokens, 0) AS output_tokens,
           coalesce(reasoning_tokens, 0) AS reasoning_tokens,
           coalesce(status, 'ok') AS status),
       coalesce(reject_reason, CASE
           WHEN skip_reason IS NOT NULL THEN NULL
           WHEN ts IS NULL THEN 'missing or unparseable timestamp (use ISO 8601 or epoch time)'
           WHEN model IS NULL OR trim(model) = '' THEN 'missing model name (log it with the call, or give it with --set model=NAME)'
           WHEN least(coalesce(input_tokens, 0), coalesce(cache_read_tokens, 0), coalesce(cache_write_5m_tokens, 0),
                      coalesce(cache_write_1h_tokens, 0), coalesce(output_tokens, 0), coalesce(reasoning_tokens, 0)) < 0
               THEN 'negative token count (cache tokens larger than the input that should contain them?)'
           WHEN coalesce(reasoning_tokens, 0) > coalesce(output_tokens, 0)
               THEN 'reasoning tokens exceed output tokens'
           WHEN call_id IS NULL THEN 'no call id could be derived'
       END) AS why_rejected
FROM staged_full;
