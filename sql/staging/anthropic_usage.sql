-- requires: charge, count_problem, metadata_tags, normalize_provider, normalize_tier, nullif_blank, parse_bool,
--   parse_tokens, parse_ts, provider_lines, request_text, ts_window_problem, unread_usage
-- creates: staged_anthropic
-- Logged Anthropic Messages responses, step 2 (after staging/provider_lines.sql) → canonical calls, in
-- `provider_staged`. Input: provider_lines (owner 'anthropic', or unknown shape when Anthropic is the primary).
--
-- Tokens: Anthropic's input_tokens EXCLUDES cache reads and writes, so it is canonical input as it is.
-- Cache writes: the cache_creation{ephemeral_5m_input_tokens, ephemeral_1h_input_tokens} split when present,
-- else all cache_creation_input_tokens are 5-minute writes (the only kind before the split existed).
-- usage.iterations (server-side compaction and other sampling passes) lists every billed pass: when present,
-- the call's tokens are the sum over its iterations, each with its own cache-write split.
-- Server-side tools are charges: server_tool_use.web_search_requests → web_search, web_fetch_requests →
-- web_fetch, code_execution_requests → code_execution, tool_search_requests → tool_search.
-- Anthropic reports no separate thinking-token count: reasoning_tokens stays 0 (thinking is in output).
-- Time: the line's own timestamp; Anthropic objects carry none, so a line without any time gets the file's
-- modification time, marked with the tag costlens.ts_source = file_mtime. A time that is present but
-- unparseable is never replaced: the row is rejected.
CREATE OR REPLACE TEMP TABLE staged_anthropic AS
WITH lines0 AS (
    SELECT * FROM provider_lines
    WHERE owner = 'anthropic' OR (owner IS NULL AND primary_provider = 'anthropic')
),
-- A streamed message logged as its events: message_start carries the id, model and input usage,
-- message_delta (no id) the final usage. Each message_delta is joined to the message_start before it, and
-- both rows name the same message: the runner keeps the fuller usage (the delta's), the start counts as a
-- streaming duplicate. The delta's usage wins key by key; the start's cache_creation split stays.
-- Speed: the pairing reads only the event rows' numbers and type, and the start rows' usage and response are
-- fetched for the deltas alone, so the wide lines are scanned once (never copied for a self-join).
stream_events AS (
    SELECT source_sha256, source_row, t.type AS ev FROM provider_lines
    WHERE (owner = 'anthropic' OR (owner IS NULL AND primary_provider = 'anthropic'))
      AND t.type IN ('message_start', 'message_delta')
),
delta_starts AS (
    SELECT source_sha256, source_row, start_row FROM (
        SELECT source_sha256, source_row, ev, max(CASE WHEN ev = 'message_start' THEN source_row END)
                   OVER (PARTITION BY source_sha256 ORDER BY source_row ROWS UNBOUNDED PRECEDING) AS start_row
        FROM stream_events)
    WHERE ev = 'message_delta' AND start_row IS NOT NULL
),
delta_start_lines AS (
    SELECT ds.source_sha256, ds.source_row, p.usage_json AS start_usage_json, p.r AS start_r
    FROM delta_starts ds JOIN provider_lines p ON p.source_sha256 = ds.source_sha256 AND p.source_row = ds.start_row
),
streamed AS (
    SELECT l.* REPLACE (
               CASE WHEN st.source_row IS NOT NULL AND l.usage_json IS NOT NULL
                    THEN json_merge_patch(st.start_usage_json, l.usage_json) ELSE l.usage_json END AS usage_json,
               CASE WHEN st.source_row IS NOT NULL THEN st.start_r ELSE l.r END AS r),
           st.source_row IS NOT NULL AS is_stream_end,
           CASE WHEN st.source_row IS NOT NULL THEN l.doc->>'$.delta.stop_reason' END AS delta_stop_reason
    FROM lines0 l
    LEFT JOIN delta_start_lines st USING (source_sha256, source_row)
),
mine AS (
    SELECT *,
           json_transform(usage_json, '{"input_tokens":"VARCHAR","output_tokens":"VARCHAR",
               "cache_read_input_tokens":"VARCHAR","cache_creation_input_tokens":"VARCHAR",
               "cache_creation":{"ephemeral_5m_input_tokens":"VARCHAR","ephemeral_1h_input_tokens":"VARCHAR"},
               "service_tier":"VARCHAR","inference_geo":"VARCHAR",
               "server_tool_use":{"web_search_requests":"VARCHAR","web_fetch_requests":"VARCHAR",
                   "code_execution_requests":"VARCHAR","tool_search_requests":"VARCHAR"},
               "iterations":[{"type":"VARCHAR","input_tokens":"VARCHAR","output_tokens":"VARCHAR",
                   "cache_read_input_tokens":"VARCHAR","cache_creation_input_tokens":"VARCHAR",
                   "cache_creation":{"ephemeral_5m_input_tokens":"VARCHAR",
                                     "ephemeral_1h_input_tokens":"VARCHAR"}}]}') AS u
    FROM streamed
),
parts AS (
    SELECT *,
           -- the message this file converts
           CASE WHEN is_batch_line THEN CASE WHEN t.result.message IS NOT NULL THEN r END
                WHEN t.type = 'message_start' THEN CASE WHEN t.message IS NOT NULL THEN r END
                WHEN is_stream_end THEN r
                WHEN is_wrapper THEN CASE WHEN json_type(t.response) = 'OBJECT' THEN r END
                WHEN t.type = 'message' OR (t.usage IS NOT NULL AND t.model IS NOT NULL) THEN r
           END AS resp
    FROM mine
),
raw AS (
    SELECT *,
           CASE WHEN resp IS NOT NULL THEN usage_json END AS u_json,
           CASE WHEN resp IS NOT NULL THEN u END AS uu,
           coalesce(len(u.iterations), 0) > 0 AS by_iteration,
           nullif_blank(coalesce(resp.model, req.model, CASE WHEN is_wrapper THEN t.model END)) AS model_n,
           nullif_blank(coalesce(t.timestamp, t.ts, t.time, t.start_time, t.started_at, t.created_at)) AS line_ts_raw,
           -- Anthropic error bodies nest the useful type: {type "error", error{type "overloaded_error"}}
           coalesce(nullif_blank(e_outer.error.type), nullif_blank(nullif(e_outer.type, 'error')),
                    nullif_blank(e_outer.error.code), nullif_blank(e_outer.code), nullif_blank(e_outer.name), e_text,
                    CASE WHEN is_wrapper AND lower(t.status) IN ('error', 'failed', 'failure') THEN 'error' END)
               AS error_type_n,
           parse_bool(coalesce(meta.batch, meta.is_batch, t.batch, t.is_batch)) AS meta_batch
    FROM parts
),
passes AS (
    -- the billed passes: every iteration, or the usage itself
    SELECT *,
           CASE WHEN by_iteration
                THEN list_transform(uu.iterations, lambda i: {'input': i.input_tokens, 'output': i.output_tokens,
                         'cache_read': i.cache_read_input_tokens, 'cache_creation': i.cache_creation_input_tokens,
                         'cw5': i.cache_creation.ephemeral_5m_input_tokens,
                         'cw1': i.cache_creation.ephemeral_1h_input_tokens})
                ELSE [{'input': uu.input_tokens, 'output': uu.output_tokens, 'cache_read': uu.cache_read_input_tokens,
                       'cache_creation': uu.cache_creation_input_tokens,
                       'cw5': uu.cache_creation.ephemeral_5m_input_tokens,
                       'cw1': uu.cache_creation.ephemeral_1h_input_tokens}] END AS billed
    FROM raw
),
typed AS (
    SELECT *,
           error_type_n IS NOT NULL OR e_outer IS NOT NULL AS is_error,
           CASE WHEN uu.input_tokens IS NOT NULL OR by_iteration
                THEN list_sum(list_transform(billed, lambda p: coalesce(parse_tokens(p.input), 0))) END AS in_t,
           list_sum(list_transform(billed, lambda p: coalesce(parse_tokens(p.cache_read), 0))) AS cr_t,
           list_sum(list_transform(billed, lambda p: CASE WHEN p.cw5 IS NOT NULL OR p.cw1 IS NOT NULL
                                                         THEN coalesce(parse_tokens(p.cw5), 0)
                                                         ELSE coalesce(parse_tokens(p.cache_creation), 0) END)) AS cw5_t,
           list_sum(list_transform(billed, lambda p: coalesce(parse_tokens(p.cw1), 0))) AS cw1_t,
           CASE WHEN uu.output_tokens IS NOT NULL OR by_iteration
                THEN list_sum(list_transform(billed, lambda p: coalesce(parse_tokens(p.output), 0))) END AS out_t,
           coalesce(
               CASE WHEN by_iteration THEN list_filter(list_transform(billed, lambda p: coalesce(
                        count_problem('a usage.iterations[] input_tokens', p.input),
                        count_problem('a usage.iterations[] output_tokens', p.output),
                        count_problem('a usage.iterations[] cache_read_input_tokens', p.cache_read),
                        count_problem('a usage.iterations[] cache_creation_input_tokens', p.cache_creation),
                        count_problem('a usage.iterations[] ephemeral_5m_input_tokens', p.cw5),
                        count_problem('a usage.iterations[] ephemeral_1h_input_tokens', p.cw1))),
                        lambda problem: problem IS NOT NULL)[1]
                    ELSE coalesce(count_problem('usage.input_tokens', uu.input_tokens),
                                  count_problem('usage.cache_read_input_tokens', uu.cache_read_input_tokens),
                                  count_problem('usage.cache_creation_input_tokens', uu.cache_creation_input_tokens),
                                  count_problem('usage.cache_creation.ephemeral_5m_input_tokens',
                                                uu.cache_creation.ephemeral_5m_input_tokens),
                                  count_problem('usage.cache_creation.ephemeral_1h_input_tokens',
                                                uu.cache_creation.ephemeral_1h_input_tokens),
                                  count_problem('usage.output_tokens', uu.output_tokens)) END,
               count_problem('usage.server_tool_use.web_search_requests', uu.server_tool_use.web_search_requests),
               count_problem('usage.server_tool_use.web_fetch_requests', uu.server_tool_use.web_fetch_requests),
               count_problem('usage.server_tool_use.code_execution_requests', uu.server_tool_use.code_execution_requests),
               count_problem('usage.server_tool_use.tool_search_requests', uu.server_tool_use.tool_search_requests))
               AS count_problem,
           coalesce(meta_batch, false) OR is_batch_line OR coalesce(lower(uu.service_tier) = 'batch', false) AS batch_n,
           coalesce(try_cast(e_outer.http_status AS INTEGER), try_cast(e_outer.status_code AS INTEGER),
                    try_cast(e_outer.status AS INTEGER), try_cast(e_outer.error.http_status AS INTEGER),
                    try_cast(e_outer.error.status AS INTEGER),
                    CASE WHEN is_wrapper THEN try_cast(t.http_status AS INTEGER) END,
                    CASE WHEN is_wrapper THEN try_cast(t.status_code AS INTEGER) END) AS http_status_n,
           -- Claude on Bedrock / Vertex answers with the same Messages object; its ids tell where it ran
           -- (msg_bdrk_… ids, anthropic.* model ids; msg_vrtx_… ids, claude-…@date model ids)
           CASE WHEN starts_with(resp.id, 'msg_bdrk_')
                     OR regexp_matches(coalesce(req.model, resp.model, ''), '^([a-z]{2,6}\.)?anthropic\.')
                    THEN 'aws.bedrock'
                WHEN starts_with(resp.id, 'msg_vrtx_')
                     OR regexp_matches(coalesce(req.model, resp.model, ''), '^claude[^@]*@') THEN 'gcp.vertex_ai'
           END AS model_provider
    FROM passes
),
checked AS (
    SELECT *,
           CASE
               WHEN t IS NULL THEN NULL
               WHEN is_batch_line AND t.result.type IS DISTINCT FROM 'succeeded'
                   THEN 'batch request ' || coalesce(t.result.type, 'without a result type')
                        || coalesce(' (' || coalesce(batch_error.error.type, batch_error.type) || ')', '')
                        || ': not billed'
               WHEN is_stream_end THEN NULL
               WHEN t.type IN ('message_delta', 'message_stop', 'content_block_start', 'content_block_delta',
                               'content_block_stop', 'ping')
                   THEN 'streaming event without usage of its own (' || t.type || '); message_start and '
                        || 'message_delta lines carry it'
           END AS skip_n
    FROM typed
)
SELECT
    source_row,
    source_file,  -- lineage per row: a batch of files stages them together
    source_sha256,
    coalesce(nullif_blank(resp.id),
             CASE WHEN is_wrapper THEN nullif_blank(coalesce(t.request_id, t.id)) END,
             NULL) AS call_id,
    -- a line without any id is identified by its content (the runner numbers identical lines); a line with an id
    -- carries none, so the runner's numbering never compares the text of millions of identified lines
    CASE WHEN call_id IS NULL THEN CAST(json(doc) AS VARCHAR) END AS identity_content,
    'anthropic' AS identity_prefix,
    CASE WHEN line_ts_raw IS NULL THEN file_mtime ELSE parse_ts(line_ts_raw) END AS ts,
    try_cast(coalesce(t.latency_ms, t.duration_ms, t.elapsed_ms) AS DOUBLE) AS latency_ms,
    coalesce(normalize_provider(coalesce(meta.provider, t.provider)), model_provider, 'anthropic') AS provider,
    model_n AS model,
    nullif_blank(req.model) AS request_model,
    'chat' AS operation,
    CASE WHEN batch_n THEN 'batch' ELSE normalize_tier(uu.service_tier) END AS service_tier,
    batch_n AS is_batch,
    in_t AS input_tokens,
    cr_t AS cache_read_tokens,
    cw5_t AS cache_write_5m_tokens,
    cw1_t AS cache_write_1h_tokens,
    out_t AS output_tokens,
    0 AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(error_type_n, 'error') END AS error_type,
    http_status_n AS http_status,
    nullif_blank(coalesce(delta_stop_reason, resp.stop_reason)) AS finish_reason,
    parse_tokens(req.max_tokens) AS max_tokens,
    nullif_blank(coalesce(meta.task_id, meta."costlens.task_id", meta."task.id", t.task_id, t.custom_id,
                          meta.trace_id, t.trace_id)) AS task_id,
    nullif_blank(coalesce(meta.session_id, meta.conversation_id, meta.thread_id, meta."gen_ai.conversation.id",
                          t.session_id, t.conversation_id)) AS session_id,
    nullif_blank(coalesce(meta.trace_id, t.trace_id)) AS trace_id,
    nullif_blank(coalesce(meta."costlens.feature", meta.feature, meta."app.feature", meta.use_case, t.feature,
                          meta.agent_name, meta.agent, meta.service)) AS feature,
    nullif_blank(coalesce(meta.team, t.team)) AS team,
    nullif_blank(coalesce(meta.customer, meta.customer_id, t.customer, t.customer_id)) AS customer,
    nullif_blank(coalesce(meta.user_id, meta.user, t.user_id, req.metadata->>'$.user_id')) AS user_id,
    nullif_blank(coalesce(meta.environment, meta.env, t.environment)) AS environment,
    -- the metadata keys not mapped to a column (custom properties), the inference geography, and where the
    -- time came from, as tags
    nullif(map_concat(coalesce(metadata_tags(t.metadata), MAP {}),
        map_from_entries(list_filter([
            {'key': 'inference_geo', 'value': nullif_blank(uu.inference_geo)},
            {'key': 'costlens.ts_source', 'value': CASE WHEN line_ts_raw IS NULL THEN 'file_mtime' END}],
            lambda kv: kv.value IS NOT NULL))), MAP {}) AS tags,
    -- content fingerprints (never the content): the full input, and its stable prefix (system, tools)
    CASE WHEN req.messages IS NOT NULL THEN
        sha256(concat_ws(chr(31), coalesce(CAST(req.system AS VARCHAR), ''), coalesce(CAST(req.tools AS VARCHAR), ''),
                         CAST(req.messages AS VARCHAR))) END AS prompt_hash,
    CASE WHEN req.system IS NOT NULL OR req.tools IS NOT NULL THEN
        sha256(concat_ws(chr(31), coalesce(CAST(req.system AS VARCHAR), ''), coalesce(CAST(req.tools AS VARCHAR), '')))
    END AS prefix_hash,
    -- the same prefix as text, for the runner to count its tokens once per distinct prefix (never stored)
    CASE WHEN req.system IS NOT NULL OR req.tools IS NOT NULL THEN
        (concat_ws(chr(31), coalesce(CAST(req.system AS VARCHAR), ''), coalesce(CAST(req.tools AS VARCHAR), '')))
    END AS prefix_text,
    -- the request's own messages (no system ones), for its semantic-cache sketch (never stored)
    request_text(CAST(req.messages AS VARCHAR)) AS query_text,
    try_cast(coalesce(t.cost_usd, meta.cost_usd) AS DECIMAL(38,18)) AS reported_cost_usd,
    list_filter([
        charge('web_search', coalesce(parse_tokens(uu.server_tool_use.web_search_requests), 0), 'call', NULL,
               'server_tool_use.web_search_requests'),
        charge('web_fetch', coalesce(parse_tokens(uu.server_tool_use.web_fetch_requests), 0), 'call', NULL,
               'server_tool_use.web_fetch_requests'),
        -- code execution is billed per container-hour, which the response does not report: each call that ran
        -- code is a charge (usage count, else its server_tool_use blocks), priced only by [[prices.charges]]
        charge('code_execution', coalesce(parse_tokens(uu.server_tool_use.code_execution_requests),
                                          len(list_filter(resp.content, lambda b: b.type = 'server_tool_use'
                                              AND b.name IN ('code_execution', 'bash_code_execution',
                                                             'text_editor_code_execution')))), 'call', NULL,
               CASE WHEN uu.server_tool_use.code_execution_requests IS NOT NULL
                    THEN 'server_tool_use.code_execution_requests'
                    ELSE 'content[type=server_tool_use, name=*code_execution]' END),
        charge('tool_search', coalesce(parse_tokens(uu.server_tool_use.tool_search_requests), 0), 'call', NULL,
               'server_tool_use.tool_search_requests')],
        lambda c: c.quantity > 0) AS charges,
    unread_usage(u_json, ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens',
        'cache_creation.ephemeral_5m_input_tokens', 'cache_creation.ephemeral_1h_input_tokens',
        'server_tool_use.web_search_requests', 'server_tool_use.web_fetch_requests',
        'server_tool_use.code_execution_requests', 'server_tool_use.tool_search_requests']) AS unpriced_fields,
    CASE WHEN skip_n IS NULL THEN
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
            WHEN t.sessionId IS NOT NULL AND t.type IN ('user', 'assistant', 'system', 'summary', 'progress')
                THEN 'a Claude Code session-log line, not an app-logged Anthropic response'
            WHEN NOT is_error AND resp IS NULL
                THEN 'no Anthropic message (expected a "message" object, a batch result line, or a wrapper with "response" or "error")'
            WHEN NOT is_error AND usage_json IS NULL THEN 'message has no usage object, so its tokens are unknown'
            WHEN NOT is_error AND uu.input_tokens IS NULL AND uu.output_tokens IS NULL AND NOT by_iteration
                THEN 'usage has no token counts (expected input_tokens / output_tokens)'
            -- text, NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
            WHEN count_problem IS NOT NULL THEN count_problem
            WHEN is_error AND model_n IS NULL
                THEN 'failed call names no model (log request.model with the error)'
        END
    END AS reject_reason,
    skip_n AS skip_reason
FROM checked;
