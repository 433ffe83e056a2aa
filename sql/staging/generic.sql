-- requires: generic_opts, generic_src, normalize_provider, normalize_tier, nullif_blank, parse_bool, quoted_value,
--   text_count, text_ts, ts_window_problem
-- creates: generic_bad_count, generic_count_problem, staged
-- A mapped request log → canonical calls. Inputs: generic_src (source_row, doc_problem and every canonical
-- call field as text: mapped column, else constant, else NULL), generic_opts (one row: whether the mapped
-- input includes cache tokens, and label_<field> naming each field's source column for messages),
-- ingest_ctx. A row without a call id is identified by its mapped record (the runner numbers identical
-- records: costlens/ingest/runner.py, identity_content).
--
-- Tokens: when the mapped input INCLUDES cached tokens (OpenAI / OTel style, the default) the canonical
-- uncached input is input − cache reads − cache writes; otherwise (Anthropic style) it is taken as is.
-- `cache_write_tokens` means 5-minute cache writes. Status: ok / success / 2xx → ok; error / failed /
-- 4xx / 5xx → error; anything else is rejected rather than guessed.

-- A token count that is present but not a whole non-negative number.
CREATE OR REPLACE TEMP MACRO generic_bad_count(raw, parsed) AS (
    raw IS NOT NULL AND (parsed IS NULL OR parsed < 0)
);

CREATE OR REPLACE TEMP MACRO generic_count_problem(label, raw, parsed) AS (
    CASE WHEN parsed IS NULL THEN label || ' is not a number: ' || quoted_value(raw)
         ELSE label || ' is negative: ' || quoted_value(raw) END
);

CREATE OR REPLACE TEMP TABLE staged AS
WITH providers AS (  -- few distinct values: normalised once each
    SELECT provider AS raw, normalize_provider(provider) AS provider_n
    FROM (SELECT DISTINCT provider FROM generic_src WHERE provider IS NOT NULL)
),
records AS (
    -- the mapped record itself, for the identity of a row without a call id (runner: identity_content)
    SELECT *, to_json(struct_pack(*COLUMNS(* EXCLUDE (source_row, doc_problem)))) AS record_text FROM generic_src
),
src AS (
    SELECT s.*, o.*, p.provider_n,
           lower(trim(s.status)) AS status_l
    FROM records s CROSS JOIN generic_opts o
    LEFT JOIN providers p ON p.raw = s.provider
),
typed AS (
    SELECT *,
        text_ts(ts) AS ts_p,
        text_ts(end_ts) AS end_ts_p,
        text_count(input_tokens) AS in_t,
        text_count(output_tokens) AS out_t,
        text_count(cache_read_tokens) AS cr_t,
        coalesce(text_count(cache_write_5m_tokens), text_count(cache_write_tokens)) AS cw5_t,
        coalesce(cache_write_5m_tokens, cache_write_tokens) AS cw5_raw,
        CASE WHEN cache_write_5m_tokens IS NOT NULL THEN label_cache_write_5m_tokens
             ELSE label_cache_write_tokens END AS cw5_label,
        text_count(cache_write_1h_tokens) AS cw1h_t,
        text_count(reasoning_tokens) AS rs_t,
        text_count(max_tokens) AS max_t,
        try_cast(trim(latency_ms) AS DOUBLE) AS latency_p,
        try_cast(try_cast(trim(http_status) AS DOUBLE) AS INTEGER) AS http_p,
        CASE WHEN regexp_full_match(status_l, '[1-5][0-9][0-9](\.0+)?')
             THEN try_cast(try_cast(status_l AS DOUBLE) AS INTEGER) END AS status_code,
        try_cast(trim(ltrim(trim(reported_cost_usd), '$')) AS DECIMAL(38,18)) AS cost_p
    FROM src
),
derived AS (
    SELECT *,
        coalesce(http_p, status_code) AS http_final,
        CASE
            WHEN status_l IS NULL THEN
                CASE WHEN coalesce(http_p, 0) >= 400 OR nullif_blank(error_type) IS NOT NULL THEN 'error' ELSE 'ok' END
            WHEN status_l IN ('ok', 'success', 'succeeded', 'successful', 'completed', 'complete', 'done', 'true',
                              'pass', 'passed', '2xx', 'status_code_ok', 'unset', 'status_code_unset') THEN 'ok'
            WHEN status_l IN ('error', 'err', 'failed', 'failure', 'fail', 'timeout', 'timed_out', 'timed out',
                              'cancelled', 'canceled', 'aborted', 'exception', 'false', 'rate_limited',
                              'ratelimited', '4xx', '5xx', 'status_code_error') THEN 'error'
            WHEN status_code BETWEEN 100 AND 399 THEN 'ok'
            WHEN status_code BETWEEN 400 AND 599 THEN 'error'
        END AS status_p,
        CASE WHEN input_includes_cached AND in_t IS NOT NULL
             THEN in_t - coalesce(cr_t, 0) - coalesce(cw5_t, 0) - coalesce(cw1h_t, 0)
             ELSE in_t END AS uncached_in
    FROM typed
)
SELECT
    source_row,
    nullif(trim(call_id), '') AS call_id,
    CASE WHEN nullif(trim(call_id), '') IS NULL THEN CAST(record_text AS VARCHAR) END AS identity_content,
    ts_p AS ts,
    coalesce(latency_p, CAST(date_diff('microsecond', ts_p, end_ts_p) AS DOUBLE) / 1000.0) AS latency_ms,
    provider_n AS provider,
    trim(model) AS model,
    request_model,
    operation,
    normalize_tier(service_tier) AS service_tier,
    coalesce(parse_bool(is_batch), false) OR lower(trim(coalesce(service_tier, ''))) = 'batch' AS is_batch,
    uncached_in AS input_tokens,
    cr_t AS cache_read_tokens,
    cw5_t AS cache_write_5m_tokens,
    cw1h_t AS cache_write_1h_tokens,
    out_t AS output_tokens,
    rs_t AS reasoning_tokens,
    status_p AS status,
    error_type,
    http_final AS http_status,
    finish_reason,
    max_t AS max_tokens,
    task_id,
    session_id,
    trace_id,
    feature,
    team,
    customer,
    user_id,
    environment,
    cost_p AS reported_cost_usd,
    coalesce(doc_problem, CASE
        WHEN ts IS NULL THEN label_ts || ' is empty'
        -- a time outside 2000-01-01 … a year from now (9999-12-31, an epoch 0) is damage, never a period
        WHEN ts_p IS NULL AND ts_window_problem(label_ts, ts) IS NOT NULL THEN ts_window_problem(label_ts, ts)
        WHEN ts_p IS NULL THEN label_ts || ' is not a timestamp (ISO 8601 or epoch time): ' || quoted_value(ts)
        WHEN end_ts IS NOT NULL AND end_ts_p IS NULL AND ts_window_problem(label_end_ts, end_ts) IS NOT NULL
            THEN ts_window_problem(label_end_ts, end_ts)
        WHEN end_ts IS NOT NULL AND end_ts_p IS NULL
            THEN label_end_ts || ' is not a timestamp (ISO 8601 or epoch time): ' || quoted_value(end_ts)
        WHEN model IS NULL THEN label_model || ' is empty'
        WHEN generic_bad_count(input_tokens, in_t) THEN generic_count_problem(label_input_tokens, input_tokens, in_t)
        WHEN generic_bad_count(output_tokens, out_t) THEN generic_count_problem(label_output_tokens, output_tokens, out_t)
        WHEN generic_bad_count(cache_read_tokens, cr_t)
            THEN generic_count_problem(label_cache_read_tokens, cache_read_tokens, cr_t)
        WHEN generic_bad_count(cw5_raw, cw5_t) THEN generic_count_problem(cw5_label, cw5_raw, cw5_t)
        WHEN generic_bad_count(cache_write_1h_tokens, cw1h_t)
            THEN generic_count_problem(label_cache_write_1h_tokens, cache_write_1h_tokens, cw1h_t)
        WHEN generic_bad_count(reasoning_tokens, rs_t)
            THEN generic_count_problem(label_reasoning_tokens, reasoning_tokens, rs_t)
        WHEN generic_bad_count(max_tokens, max_t) THEN generic_count_problem(label_max_tokens, max_tokens, max_t)
        WHEN in_t IS NULL AND out_t IS NULL AND cr_t IS NULL AND cw5_t IS NULL AND cw1h_t IS NULL
            THEN 'no token counts (' || label_input_tokens || ' and ' || label_output_tokens || ' are empty)'
        WHEN uncached_in < 0
            THEN 'cache tokens exceed ' || label_input_tokens || ', which the mapping says includes them '
                 || '(set input_tokens_include_cached = false if this producer counts input without cache)'
        WHEN latency_ms IS NOT NULL AND latency_p IS NULL
            THEN label_latency_ms || ' is not a number: ' || quoted_value(latency_ms)
        WHEN http_status IS NOT NULL AND http_p IS NULL
            THEN label_http_status || ' is not an HTTP status code: ' || quoted_value(http_status)
        WHEN status_l IS NOT NULL AND status_p IS NULL
            THEN label_status || ' is not a recognised status (ok / success / 2xx, or error / failed / 4xx / 5xx): '
                 || quoted_value(status)
        WHEN reported_cost_usd IS NOT NULL AND cost_p IS NULL
            THEN label_reported_cost_usd || ' is not a number: ' || quoted_value(reported_cost_usd)
    END) AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM derived;
