-- requires: block_trace_settings, count_problem, ingest_ctx, parse_tokens, raw_json, ts_in_window, ts_window_end
-- creates: block_prefixes, block_requests, staged
-- Block-hash request traces (e.g. Mooncake: timestamp in ms from the trace start, input_length,
-- output_length, hash_ids = one id per 512-token prompt block). No text, so fingerprints come from the blocks:
--   prompt_hash   = hash of the whole block list (identical prompts),
--   prefix_hash   = hash of the longest leading run of blocks that at least one other request shares,
--   prefix_tokens = that run × the block size, capped at the input length.
-- Conservative: a conversation whose later turns extend the shared run gets a longer, different prefix per
-- turn, so nested reuse is undercounted rather than invented.
-- Inputs: raw_json, block_trace_settings(start_ts, block_tokens, model, provider, feature), ingest_ctx.
CREATE OR REPLACE TEMP TABLE block_requests AS
SELECT r.source_row,
       r.doc IS NULL AS not_json,
       CAST(json(r.doc) AS VARCHAR) AS record_text,
       r.doc->>'timestamp' AS ts_raw,
       r.doc->>'input_length' AS in_raw,
       r.doc->>'output_length' AS out_raw,
       try_cast(r.doc->'hash_ids' AS BIGINT[]) AS blocks
FROM raw_json r;

CREATE OR REPLACE TEMP TABLE block_prefixes AS
WITH slices AS (
    SELECT source_row, k, md5(CAST(list_slice(blocks, 1, k) AS VARCHAR)) AS slice_hash
    FROM block_requests, LATERAL (SELECT unnest(range(1, len(blocks) + 1)) AS k)
    WHERE blocks IS NOT NULL AND len(blocks) > 0
),
shared AS (
    SELECT slice_hash, count(DISTINCT source_row) AS requests FROM slices GROUP BY slice_hash
)
SELECT s.source_row, arg_max(s.slice_hash, s.k) AS prefix_hash, max(s.k) AS prefix_blocks
FROM slices s JOIN shared USING (slice_hash)
WHERE shared.requests >= 2
GROUP BY s.source_row;

CREATE OR REPLACE TEMP TABLE staged AS
SELECT
    b.source_row,
    CAST(NULL AS VARCHAR) AS call_id,
    b.record_text AS identity_content,  -- a request is identified by its line (the runner numbers identical ones)
    -- try(): an offset beyond the timestamp range (1e30 ms) leaves ts NULL, so the row is quarantined; so does
    -- a time outside 2000-01-01 … a year from now (no --set ts: the trace starts at 1970-01-01)
    ts_in_window(try(st.start_ts + to_milliseconds(try_cast(b.ts_raw AS DOUBLE)))) AS ts,
    st.provider AS provider,
    st.model AS model,
    st.feature AS feature,
    parse_tokens(b.in_raw) AS input_tokens,
    parse_tokens(b.out_raw) AS output_tokens,
    'ok' AS status,
    CASE WHEN b.blocks IS NOT NULL THEN md5(CAST(b.blocks AS VARCHAR)) END AS prompt_hash,
    p.prefix_hash,
    CASE WHEN p.prefix_blocks IS NOT NULL  -- least() skips NULLs, so guard it
         THEN least(p.prefix_blocks * st.block_tokens, parse_tokens(b.in_raw)) END AS prefix_tokens,
    CASE
        WHEN b.not_json THEN 'not valid JSON'
        WHEN try_cast(b.ts_raw AS DOUBLE) IS NULL THEN 'timestamp is not a number of milliseconds'
        WHEN ts_in_window(try(st.start_ts + to_milliseconds(try_cast(b.ts_raw AS DOUBLE)))) IS NULL
            THEN 'timestamp ' || left(b.ts_raw, 40) || ' ms after the trace start ' || strftime(st.start_ts, '%Y-%m-%d')
                 || ' is outside 2000-01-01 … ' || strftime(ts_window_end() - INTERVAL 1 DAY, '%Y-%m-%d')
                 || ' (give the trace''s start with --set ts=START)'
        WHEN b.in_raw IS NULL THEN 'input_length is missing or not a number'
        -- NaN, Infinity, 1e19 or a negative length is rejected by name, never read as 0
        WHEN count_problem('input_length', b.in_raw) IS NOT NULL THEN count_problem('input_length', b.in_raw)
        WHEN parse_tokens(b.in_raw) IS NULL THEN 'input_length is missing or not a number'
        WHEN count_problem('output_length', b.out_raw) IS NOT NULL THEN count_problem('output_length', b.out_raw)
        WHEN b.blocks IS NULL THEN 'hash_ids is not a list of integers'
    END AS reject_reason
FROM block_requests b
CROSS JOIN block_trace_settings st
CROSS JOIN ingest_ctx c
LEFT JOIN block_prefixes p USING (source_row);
