-- requires: charge, count_problem, metadata_tags, normalize_provider, normalize_tier, nullif_blank, parse_bool,
--   parse_tokens, parse_ts, provider_lines, request_text, ts_window_problem, unread_usage, wrapper_attribution
-- creates: staged_bedrock
-- Logged Amazon Bedrock Converse / ConverseStream responses, step 2 (after staging/provider_lines.sql) →
-- canonical calls, in `staged_bedrock`. Input: provider_lines (owner 'bedrock', or unknown shape when
-- Bedrock is the primary).
--
-- usage{inputTokens, outputTokens, totalTokens, cacheReadInputTokens, cacheWriteInputTokens}: inputTokens
-- EXCLUDES the cache reads and writes (totalTokens = input + output + cache read + cache write), so it is
-- canonical input as it is; cache writes are 5-minute writes unless cacheDetails[] puts some at a 1h ttl. A Converse response does not name its model:
-- it comes from the wrapper's request.modelId (or a top-level modelId / model), in any form Bedrock accepts
-- (model id, cross-region inference profile, ARN); the model name is normalised when it is loaded.
CREATE OR REPLACE TEMP TABLE staged_bedrock AS
WITH mine AS (
    SELECT *,
           json_transform(usage_json, '{"inputTokens":"VARCHAR","outputTokens":"VARCHAR","totalTokens":"VARCHAR",
               "cacheReadInputTokens":"VARCHAR","cacheWriteInputTokens":"VARCHAR",
               "cacheReadInputTokenCount":"VARCHAR","cacheWriteInputTokenCount":"VARCHAR",
               "cacheDetails":[{"ttl":"VARCHAR","inputTokens":"VARCHAR"}]}') AS u
    FROM provider_lines
    WHERE owner = 'bedrock' OR (owner IS NULL AND primary_provider = 'bedrock')
),
raw AS (
    SELECT *,
           CASE WHEN is_wrapper AND json_type(t.response) IS DISTINCT FROM 'OBJECT' THEN NULL ELSE r END AS resp,
           nullif_blank(coalesce(req.modelId, req.model, t.modelId, t.model)) AS model_n,
           nullif_blank(coalesce(t.timestamp, t.ts, t.time, t.start_time, t.started_at, t.created_at)) AS line_ts_raw,
           coalesce(nullif_blank(e_outer.error.type), nullif_blank(e_outer.error.code), nullif_blank(e_outer.type),
                    nullif_blank(e_outer.code), nullif_blank(e_outer.name), e_text,
                    CASE WHEN is_wrapper AND lower(t.status) IN ('error', 'failed', 'failure') THEN 'error' END)
               AS error_type_n
    FROM mine
),
typed AS (
    SELECT *,
           error_type_n IS NOT NULL OR e_outer IS NOT NULL AS is_error,
           parse_tokens(u.inputTokens) AS in_t,
           -- some SDKs repeat the cache counters as …TokenCount: the same tokens, counted once
           coalesce(parse_tokens(u.cacheReadInputTokens), parse_tokens(u.cacheReadInputTokenCount), 0) AS cr_t,
           coalesce(parse_tokens(u.cacheWriteInputTokens), parse_tokens(u.cacheWriteInputTokenCount), 0) AS cw_t,
           parse_tokens(u.outputTokens) AS out_t,
           -- cacheDetails[] splits the writes by time to live
           coalesce(list_sum(list_transform(list_filter(u.cacheDetails, lambda d: d.ttl = '1h'),
                                            lambda d: coalesce(parse_tokens(d.inputTokens), 0))), 0) AS cw1_t,
           coalesce(try_cast(e_outer.http_status AS INTEGER), try_cast(e_outer.status_code AS INTEGER),
                    try_cast(resp.ResponseMetadata.HTTPStatusCode AS INTEGER),
                    CASE WHEN is_wrapper THEN try_cast(t.http_status AS INTEGER) END,
                    CASE WHEN is_wrapper THEN try_cast(t.status_code AS INTEGER) END) AS http_status_n
    FROM raw
)
SELECT
    source_row,
    source_file,  -- lineage per row: a batch of files stages them together
    source_sha256,
    coalesce(nullif_blank(resp.ResponseMetadata.RequestId),
             CASE WHEN is_wrapper THEN nullif_blank(coalesce(t.request_id, t.id)) END,
             NULL) AS call_id,
    -- a line without any id is identified by its content (the runner numbers identical lines); a line with an id
    -- carries none, so the runner's numbering never compares the text of millions of identified lines
    CASE WHEN call_id IS NULL THEN CAST(json(doc) AS VARCHAR) END AS identity_content,
    'bedrock' AS identity_prefix,
    -- a response without a time of its own takes the file's modification time (tagged)
    CASE WHEN line_ts_raw IS NULL THEN file_mtime ELSE parse_ts(line_ts_raw) END AS ts,
    coalesce(try_cast(coalesce(t.latency_ms, t.duration_ms, t.elapsed_ms) AS DOUBLE),
             try_cast(resp.metrics.latencyMs AS DOUBLE)) AS latency_ms,
    coalesce(normalize_provider(coalesce(meta.provider, t.provider)), 'aws.bedrock') AS provider,
    model_n AS model,
    nullif_blank(coalesce(req.modelId, req.model)) AS request_model,
    'chat' AS operation,
    normalize_tier(coalesce(resp.serviceTier.type, 'standard')) AS service_tier,
    coalesce(parse_bool(coalesce(meta.batch, meta.is_batch, t.batch, t.is_batch)), false) AS is_batch,
    in_t AS input_tokens,
    cr_t AS cache_read_tokens,
    cw_t - least(cw1_t, cw_t) AS cache_write_5m_tokens,
    least(cw1_t, cw_t) AS cache_write_1h_tokens,
    out_t AS output_tokens,
    0 AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(error_type_n, 'error') END AS error_type,
    http_status_n AS http_status,
    nullif_blank(resp.stopReason) AS finish_reason,
    parse_tokens(req.inferenceConfig.maxTokens) AS max_tokens,
    unnest(wrapper_attribution(meta, t)),  -- task_id, session_id, trace_id, feature, team, customer, user_id, environment
    nullif(map_concat(coalesce(metadata_tags(t.metadata), MAP {}),
        CASE WHEN line_ts_raw IS NULL THEN MAP {'costlens.ts_source': 'file_mtime'} ELSE MAP {} END), MAP {}) AS tags,
    CASE WHEN req.messages IS NOT NULL THEN
        sha256(concat_ws(chr(31), coalesce(CAST(req.system AS VARCHAR), ''), coalesce(CAST(req.toolConfig AS VARCHAR), ''),
                         CAST(req.messages AS VARCHAR))) END AS prompt_hash,
    CASE WHEN req.system IS NOT NULL OR req.toolConfig IS NOT NULL THEN
        sha256(concat_ws(chr(31), coalesce(CAST(req.system AS VARCHAR), ''), coalesce(CAST(req.toolConfig AS VARCHAR), '')))
    END AS prefix_hash,
    CASE WHEN req.system IS NOT NULL OR req.toolConfig IS NOT NULL THEN
        concat_ws(chr(31), coalesce(CAST(req.system AS VARCHAR), ''), coalesce(CAST(req.toolConfig AS VARCHAR), ''))
    END AS prefix_text,
    -- the request's own messages (no system ones), for its semantic-cache sketch (never stored)
    request_text(CAST(req.messages AS VARCHAR)) AS query_text,
    try_cast(coalesce(t.cost_usd, meta.cost_usd) AS DECIMAL(38,18)) AS reported_cost_usd,
    list_filter([
        charge('hidden_tokens', greatest(coalesce(parse_tokens(u.totalTokens), 0) - coalesce(in_t, 0)
                                         - coalesce(out_t, 0) - cr_t - cw_t, 0),
               'token', NULL, 'usage.totalTokens', false)],
        lambda c: c.quantity > 0) AS charges,
    unread_usage(CASE WHEN resp IS NOT NULL THEN usage_json END, ['inputTokens', 'outputTokens', 'totalTokens',
        'cacheReadInputTokens', 'cacheWriteInputTokens', 'cacheReadInputTokenCount', 'cacheWriteInputTokenCount'])
        AS unpriced_fields,
    CASE
        WHEN doc IS NULL THEN 'not valid JSON'
        WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
        -- a time outside 2000-01-01 … a year from now (9999-12-31, an epoch 0) is damage, never a period
        WHEN ts_window_problem('line time', line_ts_raw) IS NOT NULL
            THEN ts_window_problem(CASE WHEN t.timestamp IS NOT NULL THEN 'timestamp'
                                        WHEN t.ts IS NOT NULL THEN 'ts' WHEN t.time IS NOT NULL THEN 'time'
                                        WHEN t.start_time IS NOT NULL THEN 'start_time'
                                        WHEN t.started_at IS NOT NULL THEN 'started_at'
                                        ELSE 'created_at' END, line_ts_raw)
        WHEN NOT is_error AND resp IS NULL
            THEN 'no Bedrock Converse response (expected {output, usage, stopReason}, or a wrapper with "response" or "error")'
        WHEN NOT is_error AND usage_json IS NULL THEN 'response has no usage object, so its tokens are unknown'
        -- text, NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
        WHEN coalesce(count_problem('usage.inputTokens', u.inputTokens), count_problem('usage.outputTokens', u.outputTokens),
                      count_problem('usage.cacheReadInputTokens', u.cacheReadInputTokens),
                      count_problem('usage.cacheReadInputTokenCount', u.cacheReadInputTokenCount),
                      count_problem('usage.cacheWriteInputTokens', u.cacheWriteInputTokens),
                      count_problem('usage.cacheWriteInputTokenCount', u.cacheWriteInputTokenCount)) IS NOT NULL
            THEN coalesce(count_problem('usage.inputTokens', u.inputTokens),
                          count_problem('usage.outputTokens', u.outputTokens),
                          count_problem('usage.cacheReadInputTokens', u.cacheReadInputTokens),
                          count_problem('usage.cacheReadInputTokenCount', u.cacheReadInputTokenCount),
                          count_problem('usage.cacheWriteInputTokens', u.cacheWriteInputTokens),
                          count_problem('usage.cacheWriteInputTokenCount', u.cacheWriteInputTokenCount))
        -- no model: the load check rejects the row unless --set model=… gives one
    END AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM typed;
