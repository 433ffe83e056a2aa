-- Anthropic Messages responses logged by an application → canonical calls. Input: raw_json, ingest_ctx,
-- and one parameter: the file's modification time in epoch microseconds (see "Time" below).
-- Output: anthropic_usage_staged (the `staged` columns plus `owner`); the adapter turns it into `staged`.
--
-- One row per line, any of:
--   * a bare Messages object {type "message", id "msg_…", model, stop_reason, usage{…}};
--   * a Message Batches results line {custom_id, result{type succeeded | errored | canceled | expired,
--     message{…}}} — batch pricing; custom_id is the task hint when no metadata says otherwise;
--   * a streaming `message_start` event (a partial message: the runner keeps the fullest line per id);
--   * an app wrapper {timestamp, latency_ms, metadata{feature, task_id, …, provider, batch}, request{model,
--     max_tokens, system, tools, messages}, response{…} | null, error{type, http_status | status}} — the
--     metadata keys are also read from the wrapper's top level.
-- Tokens: Anthropic's input_tokens EXCLUDES cache reads and writes, so it is canonical input as it is.
-- Cache writes: the cache_creation{ephemeral_5m_input_tokens, ephemeral_1h_input_tokens} split when present,
-- else all cache_creation_input_tokens are 5-minute writes (the only kind before the split existed).
-- Anthropic reports no separate thinking-token count: reasoning_tokens stays 0 (thinking is in output).
-- Time: the line's own timestamp; Anthropic objects carry none, so a line without any time gets the file's
-- modification time, marked with the tag costlens.ts_source = file_mtime. A time that is present but
-- unparseable is never replaced: the row is rejected.
-- `owner` (openai | anthropic | NULL) is the same classification as in openai_usage.sql: a file that
-- mixes both providers' records is split between the two staging files by the adapter.
-- Speed: each JSON document is parsed once into a typed STRUCT (json_transform), never once per field.
CREATE OR REPLACE TEMP TABLE anthropic_usage_staged AS
WITH lines AS (
    -- the top level of a line: a wrapper's fields, or a bare object's
    SELECT r.source_row, r.doc, c.source_sha256,
           make_timestamp(CAST(? AS BIGINT)) AS file_mtime,
           json_transform(r.doc, '{"object":"VARCHAR","type":"VARCHAR","id":"VARCHAR","model":"VARCHAR",
               "custom_id":"VARCHAR","request_id":"VARCHAR","status":"VARCHAR","sessionId":"VARCHAR",
               "timestamp":"VARCHAR","ts":"VARCHAR","time":"VARCHAR","start_time":"VARCHAR","started_at":"VARCHAR",
               "created_at":"VARCHAR","latency_ms":"VARCHAR","duration_ms":"VARCHAR","elapsed_ms":"VARCHAR",
               "http_status":"VARCHAR","status_code":"VARCHAR","provider":"VARCHAR","batch":"VARCHAR",
               "is_batch":"VARCHAR","task_id":"VARCHAR","session_id":"VARCHAR","conversation_id":"VARCHAR",
               "trace_id":"VARCHAR","feature":"VARCHAR","team":"VARCHAR","customer":"VARCHAR",
               "customer_id":"VARCHAR","user_id":"VARCHAR","environment":"VARCHAR","cost_usd":"VARCHAR",
               "usage":"JSON","response":"JSON","request":"JSON","metadata":"JSON","error":"JSON",
               "result":{"type":"VARCHAR","message":"JSON","error":"JSON"},"message":"JSON"}') AS t
    FROM raw_json r CROSS JOIN ingest_ctx c
),
tops AS (
    SELECT *,
           coalesce(t.custom_id IS NOT NULL AND t.result IS NOT NULL, false) AS is_batch_line,
           t.object IS NULL AND t.usage IS NULL AND t.type IS DISTINCT FROM 'message'
               AND NOT coalesce(t.custom_id IS NOT NULL AND t.result IS NOT NULL, false)
               AND (t.response IS NOT NULL OR t.error IS NOT NULL OR t.request IS NOT NULL) AS is_wrapper,
           -- the candidate response object, found the same way in both provider staging files
           CASE WHEN json_type(t.response) = 'OBJECT' THEN t.response
                WHEN t.result.message IS NOT NULL THEN t.result.message
                WHEN t.type = 'message_start' THEN t.message
                ELSE doc END AS probe_json,
           json_transform(t.metadata, '{"feature":"VARCHAR","costlens.feature":"VARCHAR","app.feature":"VARCHAR",
               "use_case":"VARCHAR","agent_name":"VARCHAR","agent":"VARCHAR","service":"VARCHAR","task_id":"VARCHAR",
               "costlens.task_id":"VARCHAR","task.id":"VARCHAR","session_id":"VARCHAR","conversation_id":"VARCHAR",
               "thread_id":"VARCHAR","gen_ai.conversation.id":"VARCHAR","trace_id":"VARCHAR","team":"VARCHAR",
               "customer":"VARCHAR","customer_id":"VARCHAR","user_id":"VARCHAR","user":"VARCHAR",
               "environment":"VARCHAR","env":"VARCHAR","provider":"VARCHAR","batch":"VARCHAR","is_batch":"VARCHAR",
               "cost_usd":"VARCHAR"}') AS meta,
           json_transform(t.request, '{"model":"VARCHAR","max_tokens":"VARCHAR","system":"JSON","tools":"JSON",
               "messages":"JSON","metadata":{"user_id":"VARCHAR"}}') AS req,
           json_transform(t.error, '{"type":"VARCHAR","code":"VARCHAR","name":"VARCHAR","http_status":"VARCHAR",
               "status_code":"VARCHAR","status":"VARCHAR","error":{"type":"VARCHAR","code":"VARCHAR",
               "name":"VARCHAR","http_status":"VARCHAR","status":"VARCHAR"}}') AS e_outer,
           CASE WHEN json_type(t.error) = 'VARCHAR' THEN nullif_blank(t.error->>'$') END AS e_text,
           json_transform(t.result.error, '{"type":"VARCHAR","error":{"type":"VARCHAR"}}') AS batch_error
    FROM lines
),
probed AS (
    SELECT *,
           json_transform(probe_json, '{"id":"VARCHAR","object":"VARCHAR","type":"VARCHAR","model":"VARCHAR",
               "created":"VARCHAR","created_at":"VARCHAR","completed_at":"VARCHAR","status":"VARCHAR",
               "service_tier":"VARCHAR","max_output_tokens":"VARCHAR","user":"VARCHAR","stop_reason":"VARCHAR",
               "status_code":"VARCHAR","body":"JSON","error":"JSON","metadata":"JSON","prompt_filter_results":"JSON",
               "choices":[{"finish_reason":"VARCHAR","content_filter_results":"JSON"}],
               "incomplete_details":{"reason":"VARCHAR"},"conversation":{"id":"VARCHAR"},
               "usage":{"prompt_tokens":"VARCHAR","completion_tokens":"VARCHAR","input_tokens":"VARCHAR",
                   "output_tokens":"VARCHAR","prompt_tokens_details":{"cached_tokens":"VARCHAR"},
                   "input_tokens_details":{"cached_tokens":"VARCHAR"},
                   "completion_tokens_details":{"reasoning_tokens":"VARCHAR"},
                   "output_tokens_details":{"reasoning_tokens":"VARCHAR"},
                   "cache_read_input_tokens":"VARCHAR","cache_creation_input_tokens":"VARCHAR",
                   "cache_creation":{"ephemeral_5m_input_tokens":"VARCHAR","ephemeral_1h_input_tokens":"VARCHAR"},
                   "service_tier":"VARCHAR","inference_geo":"VARCHAR",
                   "server_tool_use":{"web_search_requests":"VARCHAR"}}}') AS probe
    FROM tops
),
owned AS (
    SELECT *,
           CASE
               WHEN t IS NULL THEN NULL
               WHEN probe.object IN ('chat.completion', 'chat.completion.chunk', 'response', 'text_completion')
                    OR (probe.object = 'list' AND probe.usage.prompt_tokens IS NOT NULL)
                    OR probe.usage.prompt_tokens IS NOT NULL OR probe.usage.completion_tokens IS NOT NULL
                    OR probe.usage.input_tokens_details IS NOT NULL OR probe.usage.output_tokens_details IS NOT NULL
                    OR (t.custom_id IS NOT NULL AND probe.status_code IS NOT NULL AND probe.body IS NOT NULL)
                    OR starts_with(t.type, 'response.')
                   THEN 'openai'
               WHEN probe.type = 'message'
                    OR probe.usage.cache_read_input_tokens IS NOT NULL
                    OR probe.usage.cache_creation_input_tokens IS NOT NULL
                    OR (t.custom_id IS NOT NULL AND t.result IS NOT NULL)
                    OR t.type IN ('message_start', 'message_delta', 'message_stop', 'content_block_start',
                                  'content_block_delta', 'content_block_stop', 'ping')
                    OR starts_with(probe.id, 'msg_')
                   THEN 'anthropic'
               WHEN normalize_provider(coalesce(meta.provider, t.provider)) = 'anthropic'
                    OR starts_with(lower(coalesce(req.model, t.model)), 'claude')
                    OR lower(coalesce(req.model, t.model)) LIKE '%anthropic%'
                   THEN 'anthropic'
               WHEN normalize_provider(coalesce(meta.provider, t.provider)) IN ('openai', 'azure.openai')
                    OR regexp_matches(lower(coalesce(req.model, t.model)),
                                      '^(gpt|chatgpt|o[1-9]|text-embedding|davinci|babbage|codex|computer-use)')
                   THEN 'openai'
           END AS owner
    FROM probed
),
parts AS (
    SELECT *,
           -- the message this file converts
           CASE WHEN is_batch_line THEN CASE WHEN t.result.message IS NOT NULL THEN probe END
                WHEN t.type = 'message_start' THEN CASE WHEN t.message IS NOT NULL THEN probe END
                WHEN is_wrapper THEN CASE WHEN json_type(t.response) = 'OBJECT' THEN probe END
                WHEN t.type = 'message' OR (t.usage IS NOT NULL AND t.model IS NOT NULL) THEN probe
           END AS resp
    FROM owned
),
raw AS (
    SELECT *,
           resp.usage AS u,
           resp.usage.input_tokens AS in_raw,
           resp.usage.cache_read_input_tokens AS cr_raw,
           resp.usage.cache_creation_input_tokens AS cc_raw,
           resp.usage.cache_creation.ephemeral_5m_input_tokens AS cc5_raw,
           resp.usage.cache_creation.ephemeral_1h_input_tokens AS cc1_raw,
           resp.usage.output_tokens AS out_raw,
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
typed AS (
    SELECT *,
           error_type_n IS NOT NULL OR e_outer IS NOT NULL AS is_error,
           parse_tokens(in_raw) AS in_t,
           coalesce(parse_tokens(cr_raw), 0) AS cr_t,
           CASE WHEN cc5_raw IS NOT NULL OR cc1_raw IS NOT NULL THEN coalesce(parse_tokens(cc5_raw), 0)
                ELSE coalesce(parse_tokens(cc_raw), 0) END AS cw5_t,
           CASE WHEN cc5_raw IS NOT NULL OR cc1_raw IS NOT NULL THEN coalesce(parse_tokens(cc1_raw), 0)
                ELSE 0 END AS cw1_t,
           parse_tokens(out_raw) AS out_t,
           coalesce(meta_batch, false) OR is_batch_line OR coalesce(lower(u.service_tier) = 'batch', false) AS batch_n,
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
    FROM raw
),
checked AS (
    SELECT *,
           CASE
               WHEN t IS NULL OR owner = 'openai' THEN NULL
               WHEN is_batch_line AND t.result.type IS DISTINCT FROM 'succeeded'
                   THEN 'batch request ' || coalesce(t.result.type, 'without a result type')
                        || coalesce(' (' || coalesce(batch_error.error.type, batch_error.type) || ')', '')
                        || ': not billed'
               WHEN t.type IN ('message_delta', 'message_stop', 'content_block_start', 'content_block_delta',
                               'content_block_stop', 'ping')
                   THEN 'streaming event without a message id (' || t.type || '); message_start lines are kept'
           END AS skip_n
    FROM typed
)
SELECT
    source_row,
    owner,
    coalesce(nullif_blank(resp.id),
             CASE WHEN is_wrapper THEN nullif_blank(coalesce(t.request_id, t.id)) END,
             'anthropic:' || substr(sha256(source_sha256 || ':' || source_row), 1, 32)) AS call_id,
    CASE WHEN line_ts_raw IS NULL THEN file_mtime ELSE parse_ts(line_ts_raw) END AS ts,
    try_cast(coalesce(t.latency_ms, t.duration_ms, t.elapsed_ms) AS DOUBLE) AS latency_ms,
    coalesce(normalize_provider(coalesce(meta.provider, t.provider)), model_provider, 'anthropic') AS provider,
    model_n AS model,
    nullif_blank(req.model) AS request_model,
    'chat' AS operation,
    CASE WHEN batch_n THEN 'batch' ELSE normalize_tier(u.service_tier) END AS service_tier,
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
    nullif_blank(resp.stop_reason) AS finish_reason,
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
    nullif_blank(coalesce(meta.user_id, meta.user, t.user_id, req.metadata.user_id)) AS user_id,
    nullif_blank(coalesce(meta.environment, meta.env, t.environment)) AS environment,
    -- the metadata keys not mapped to a column above (custom properties), plus usage details with no
    -- column (web searches, inference geography) and where the time came from, as tags
    nullif(map_concat(
        -- (merge patches: drop null values, then the mapped keys)
        coalesce(CASE WHEN json_type(t.metadata) = 'OBJECT' THEN json_transform(json_merge_patch('{}', t.metadata,
                     '{"feature":null,"costlens.feature":null,"app.feature":null,"use_case":null,"task_id":null,
                     "costlens.task_id":null,"task.id":null,"session_id":null,"conversation_id":null,
                     "thread_id":null,"gen_ai.conversation.id":null,"trace_id":null,"team":null,
                     "customer":null,"customer_id":null,"user_id":null,"user":null,"environment":null,
                     "env":null,"provider":null,"batch":null,"is_batch":null,"cost_usd":null}'),
                 '"MAP(VARCHAR, VARCHAR)"') END, MAP {}),
        map_from_entries(list_filter([
            {'key': 'web_search_requests', 'value': nullif(u.server_tool_use.web_search_requests, '0')},
            {'key': 'inference_geo', 'value': nullif_blank(u.inference_geo)},
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
    try_cast(coalesce(t.cost_usd, meta.cost_usd) AS DECIMAL(38,18)) AS reported_cost_usd,
    CASE WHEN skip_n IS NULL THEN
        CASE
            WHEN doc IS NULL THEN 'not valid JSON'
            WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
            WHEN owner = 'openai'
                THEN 'an OpenAI response, not an Anthropic message (ingest it with --format openai)'
            WHEN t.sessionId IS NOT NULL AND t.type IN ('user', 'assistant', 'system', 'summary', 'progress')
                THEN 'a Claude Code session-log line, not an app-logged Anthropic response'
            WHEN NOT is_error AND resp IS NULL
                THEN 'no Anthropic message (expected a "message" object, a batch result line, or a wrapper with "response" or "error")'
            WHEN NOT is_error AND u IS NULL THEN 'message has no usage object, so its tokens are unknown'
            WHEN NOT is_error AND in_raw IS NULL AND out_raw IS NULL
                THEN 'usage has no token counts (expected input_tokens / output_tokens)'
            WHEN is_bad_number(in_raw) THEN 'usage.input_tokens is not a number'
            WHEN is_bad_number(cr_raw) THEN 'usage.cache_read_input_tokens is not a number'
            WHEN is_bad_number(cc_raw) THEN 'usage.cache_creation_input_tokens is not a number'
            WHEN is_bad_number(cc5_raw) THEN 'usage.cache_creation.ephemeral_5m_input_tokens is not a number'
            WHEN is_bad_number(cc1_raw) THEN 'usage.cache_creation.ephemeral_1h_input_tokens is not a number'
            WHEN is_bad_number(out_raw) THEN 'usage.output_tokens is not a number'
            WHEN is_error AND model_n IS NULL
                THEN 'failed call names no model (log request.model with the error)'
        END
    END AS reject_reason,
    skip_n AS skip_reason
FROM checked;
