-- OpenAI responses logged by an application → canonical calls. Input: raw_json, ingest_ctx.
-- Output: openai_usage_staged (the `staged` columns plus `owner`); the adapter turns it into `staged`.
--
-- One row per line, any of:
--   * a bare response object: Chat Completions (`object` "chat.completion" / final "chat.completion.chunk"),
--     Responses API (`object` "response"), legacy "text_completion", embeddings ("list");
--   * a Batch API output line {id, custom_id, response{status_code, request_id, body{…}}, error};
--   * a Responses streaming event {type "response.*", response{…}};
--   * an app wrapper {timestamp, latency_ms, metadata{feature, task_id, …, provider, batch}, request{model,
--     max_tokens | max_completion_tokens | max_output_tokens, service_tier, …}, response{…} | null,
--     error{type, code, http_status | status}} — the metadata keys are also read from the wrapper's top level.
-- Tokens: OpenAI's prompt_tokens / input_tokens INCLUDE cached tokens, so canonical input = prompt − cached.
-- OpenAI bills no cache writes. Reasoning tokens are inside completion / output tokens (informational).
-- A failed call (no response, an error) is an attempt: status 'error', the request model, 0 tokens.
-- `owner` (openai | anthropic | NULL) is the same classification as in anthropic_usage.sql: a file that
-- mixes both providers' records is split between the two staging files by the adapter.
-- Speed: each JSON document is parsed once into a typed STRUCT (json_transform), never once per field.
CREATE OR REPLACE TEMP TABLE openai_usage_staged AS
WITH lines AS (
    -- the top level of a line: a wrapper's fields, or a bare object's
    SELECT r.source_row, r.doc, c.source_sha256,
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
           t.object IS NULL AND t.usage IS NULL AND t.type IS DISTINCT FROM 'message'
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
           json_transform(t.request, '{"model":"VARCHAR","max_tokens":"VARCHAR","max_completion_tokens":"VARCHAR",
               "max_output_tokens":"VARCHAR","service_tier":"VARCHAR","user":"VARCHAR","safety_identifier":"VARCHAR",
               "messages":"JSON","input":"JSON","prompt":"JSON","instructions":"JSON","tools":"JSON",
               "metadata":"JSON"}') AS req,
           json_transform(t.error, '{"type":"VARCHAR","code":"VARCHAR","name":"VARCHAR","http_status":"VARCHAR",
               "status_code":"VARCHAR","status":"VARCHAR","error":{"type":"VARCHAR","code":"VARCHAR",
               "name":"VARCHAR","http_status":"VARCHAR","status":"VARCHAR"}}') AS e_outer,
           CASE WHEN json_type(t.error) = 'VARCHAR' THEN nullif_blank(t.error->>'$') END AS e_text
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
                   "server_tool_use":{"web_search_requests":"VARCHAR"}}}') AS r0
    FROM tops
),
enveloped AS (
    SELECT *,
           -- a Batch API line wraps the response as {status_code, body}: read the body
           CASE WHEN r0.status_code IS NOT NULL AND r0.body IS NOT NULL THEN r0 END AS envelope,
           CASE WHEN r0.status_code IS NOT NULL AND r0.body IS NOT NULL
                THEN json_transform(r0.body, '{"id":"VARCHAR","object":"VARCHAR","type":"VARCHAR","model":"VARCHAR",
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
                   "server_tool_use":{"web_search_requests":"VARCHAR"}}}')
                ELSE r0 END AS probe
    FROM probed
),
owned AS (
    SELECT *,
           CASE
               WHEN t IS NULL THEN NULL
               WHEN probe.object IN ('chat.completion', 'chat.completion.chunk', 'response', 'text_completion')
                    OR (probe.object = 'list' AND probe.usage.prompt_tokens IS NOT NULL)
                    OR probe.usage.prompt_tokens IS NOT NULL OR probe.usage.completion_tokens IS NOT NULL
                    OR probe.usage.input_tokens_details IS NOT NULL OR probe.usage.output_tokens_details IS NOT NULL
                    OR (t.custom_id IS NOT NULL AND envelope IS NOT NULL)
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
    FROM enveloped
),
parts AS (
    SELECT *,
           -- the response this file converts: a wrapper without one is a failed call
           CASE WHEN is_wrapper AND json_type(t.response) IS DISTINCT FROM 'OBJECT' THEN NULL ELSE probe END AS resp,
           -- user metadata sent with a Responses / Chat Completions request (lowest-priority attribution)
           json_transform(coalesce(probe.metadata, req.metadata), '{"feature":"VARCHAR","task_id":"VARCHAR",
               "session_id":"VARCHAR","team":"VARCHAR","customer":"VARCHAR","user_id":"VARCHAR",
               "environment":"VARCHAR"}') AS rmeta
    FROM owned
),
fields AS (
    SELECT *,
           resp.usage AS u,
           resp.object AS object,
           -- system / developer messages: the stable prefix of a Chat Completions prompt
           CASE WHEN req.messages IS NOT NULL THEN
               list_filter(json_extract(req.messages, '$[*]'), lambda m: m->>'role' IN ('system', 'developer'))
           END AS system_messages,
           json_transform(resp.error, '{"type":"VARCHAR","code":"VARCHAR","message":"VARCHAR",
               "error":{"type":"VARCHAR","code":"VARCHAR"}}') AS e_resp
    FROM parts
),
raw AS (
    SELECT *,
           coalesce(u.prompt_tokens, u.input_tokens) AS in_raw,
           coalesce(u.prompt_tokens_details.cached_tokens, u.input_tokens_details.cached_tokens) AS cached_raw,
           coalesce(u.completion_tokens, u.output_tokens) AS out_raw,
           coalesce(u.completion_tokens_details.reasoning_tokens, u.output_tokens_details.reasoning_tokens)
               AS reasoning_raw,
           CASE WHEN u.prompt_tokens IS NOT NULL THEN 'prompt_tokens' ELSE 'input_tokens' END AS in_name,
           CASE WHEN u.completion_tokens IS NOT NULL THEN 'completion_tokens' ELSE 'output_tokens' END AS out_name,
           nullif_blank(coalesce(resp.model, req.model, CASE WHEN is_wrapper THEN t.model END)) AS model_n,
           coalesce(parse_ts(coalesce(t.timestamp, t.ts, t.time, t.start_time, t.started_at,
                                      CASE WHEN is_wrapper THEN t.created_at END)),
                    parse_ts(resp.created), parse_ts(resp.created_at)) AS ts_n,
           -- error code, then type: "context_length_exceeded" says more than "invalid_request_error"
           coalesce(
               CASE WHEN try_cast(e_outer.error.code AS INTEGER) IS NULL THEN nullif_blank(e_outer.error.code) END,
               nullif_blank(e_outer.error.type),
               CASE WHEN try_cast(e_outer.code AS INTEGER) IS NULL THEN nullif_blank(e_outer.code) END,
               nullif_blank(e_outer.type), nullif_blank(e_outer.error.name), nullif_blank(e_outer.name), e_text,
               nullif_blank(e_resp.error.code), nullif_blank(e_resp.error.type),
               nullif_blank(e_resp.code), nullif_blank(e_resp.type),
               CASE WHEN resp.status = 'failed' THEN 'failed' END,
               CASE WHEN try_cast(envelope.status_code AS INTEGER) >= 400 THEN 'http_' || envelope.status_code END,
               CASE WHEN is_wrapper AND lower(t.status) IN ('error', 'failed', 'failure') THEN 'error' END
           ) AS error_type_n,
           parse_bool(coalesce(meta.batch, meta.is_batch, t.batch, t.is_batch)) AS meta_batch
    FROM fields
),
typed AS (
    SELECT *,
           error_type_n IS NOT NULL OR e_outer IS NOT NULL OR e_resp IS NOT NULL AS is_error,
           parse_tokens(in_raw) AS in_t,
           coalesce(parse_tokens(cached_raw), 0) AS cached_t,
           parse_tokens(out_raw) AS out_t,
           coalesce(parse_tokens(reasoning_raw), 0) AS reasoning_t,
           coalesce(meta_batch, false) OR envelope IS NOT NULL
               OR coalesce(lower(coalesce(resp.service_tier, req.service_tier)) = 'batch', false) AS batch_n,
           coalesce(try_cast(e_outer.http_status AS INTEGER), try_cast(e_outer.status_code AS INTEGER),
                    try_cast(e_outer.status AS INTEGER), try_cast(e_outer.error.http_status AS INTEGER),
                    try_cast(e_outer.error.status AS INTEGER),
                    CASE WHEN try_cast(e_outer.code AS INTEGER) BETWEEN 100 AND 599
                         THEN try_cast(e_outer.code AS INTEGER) END,
                    CASE WHEN is_wrapper THEN try_cast(t.http_status AS INTEGER) END,
                    CASE WHEN is_wrapper THEN try_cast(t.status_code AS INTEGER) END,
                    try_cast(envelope.status_code AS INTEGER)) AS http_status_n
    FROM raw
),
checked AS (
    SELECT *,
           CASE
               WHEN t IS NULL OR owner = 'anthropic' THEN NULL
               WHEN object = 'chat.completion.chunk' AND u IS NULL
                   THEN 'streaming chunk without usage (only the final chunk carries it)'
               WHEN object = 'response' AND resp.status IN ('in_progress', 'queued') AND u IS NULL
                   THEN 'response not finished (status ' || resp.status || '): no usage yet'
               WHEN starts_with(t.type, 'response.') AND u IS NULL
                   THEN 'Responses streaming event without usage (' || t.type || ')'
               WHEN t.custom_id IS NOT NULL AND is_error AND model_n IS NULL
                   THEN 'batch request failed before reaching a model (not billed)'
           END AS skip_n
    FROM typed
)
SELECT
    source_row,
    owner,
    coalesce(nullif_blank(resp.id),
             CASE WHEN is_wrapper THEN nullif_blank(coalesce(t.request_id, t.id)) END,
             'openai:' || substr(sha256(source_sha256 || ':' || source_row), 1, 32)) AS call_id,
    ts_n AS ts,
    coalesce(try_cast(coalesce(t.latency_ms, t.duration_ms, t.elapsed_ms) AS DOUBLE),
             (try_cast(resp.completed_at AS DOUBLE) - try_cast(resp.created_at AS DOUBLE)) * 1000.0) AS latency_ms,
    coalesce(normalize_provider(coalesce(meta.provider, t.provider)),
             CASE WHEN resp.prompt_filter_results IS NOT NULL OR resp.choices[1].content_filter_results IS NOT NULL
                  THEN 'azure.openai' END,
             'openai') AS provider,
    model_n AS model,
    nullif_blank(req.model) AS request_model,
    coalesce(CASE object WHEN 'chat.completion' THEN 'chat' WHEN 'chat.completion.chunk' THEN 'chat'
                         WHEN 'response' THEN 'chat' WHEN 'text_completion' THEN 'text_completion'
                         WHEN 'list' THEN 'embeddings' END,
             CASE WHEN model_n ILIKE '%embedding%' THEN 'embeddings' END,
             'chat') AS operation,
    CASE WHEN batch_n THEN 'batch' ELSE normalize_tier(coalesce(resp.service_tier, req.service_tier)) END
        AS service_tier,
    batch_n AS is_batch,
    in_t - cached_t AS input_tokens,
    cached_t AS cache_read_tokens,
    0 AS cache_write_5m_tokens,
    0 AS cache_write_1h_tokens,
    out_t AS output_tokens,
    reasoning_t AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(error_type_n, 'error') END AS error_type,
    http_status_n AS http_status,
    coalesce(resp.choices[1].finish_reason, resp.incomplete_details.reason,
             CASE WHEN object = 'response' THEN resp.status END) AS finish_reason,
    parse_tokens(coalesce(req.max_completion_tokens, req.max_tokens, req.max_output_tokens,
                          resp.max_output_tokens)) AS max_tokens,
    nullif_blank(coalesce(meta.task_id, meta."costlens.task_id", meta."task.id", t.task_id, rmeta.task_id,
                          t.custom_id, meta.trace_id, t.trace_id)) AS task_id,
    nullif_blank(coalesce(meta.session_id, meta.conversation_id, meta.thread_id, meta."gen_ai.conversation.id",
                          t.session_id, t.conversation_id, rmeta.session_id, resp.conversation.id)) AS session_id,
    nullif_blank(coalesce(meta.trace_id, t.trace_id)) AS trace_id,
    nullif_blank(coalesce(meta."costlens.feature", meta.feature, meta."app.feature", meta.use_case, t.feature,
                          rmeta.feature, meta.agent_name, meta.agent, meta.service)) AS feature,
    nullif_blank(coalesce(meta.team, t.team, rmeta.team)) AS team,
    nullif_blank(coalesce(meta.customer, meta.customer_id, t.customer, t.customer_id, rmeta.customer)) AS customer,
    nullif_blank(coalesce(meta.user_id, meta.user, t.user_id, rmeta.user_id, req.user, req.safety_identifier,
                          resp.user)) AS user_id,
    nullif_blank(coalesce(meta.environment, meta.env, t.environment, rmeta.environment)) AS environment,
    -- the metadata keys not mapped to a column above (custom properties), as tags
    -- (merge patches: drop null values, then the mapped keys)
    CASE WHEN json_type(t.metadata) = 'OBJECT' THEN nullif(json_transform(json_merge_patch('{}', t.metadata,
               '{"feature":null,"costlens.feature":null,"app.feature":null,"use_case":null,"task_id":null,
               "costlens.task_id":null,"task.id":null,"session_id":null,"conversation_id":null,
               "thread_id":null,"gen_ai.conversation.id":null,"trace_id":null,"team":null,
               "customer":null,"customer_id":null,"user_id":null,"user":null,"environment":null,
               "env":null,"provider":null,"batch":null,"is_batch":null,"cost_usd":null}'),
           '"MAP(VARCHAR, VARCHAR)"'), MAP {}) END AS tags,
    -- content fingerprints (never the content): the full input, and its stable prefix (instructions,
    -- system / developer messages, tool definitions)
    CASE WHEN coalesce(req.messages, req.input, req.prompt) IS NOT NULL THEN
        sha256(concat_ws(chr(31), coalesce(CAST(req.instructions AS VARCHAR), ''), coalesce(CAST(req.tools AS VARCHAR), ''),
                         CAST(coalesce(req.messages, req.input, req.prompt) AS VARCHAR))) END AS prompt_hash,
    CASE WHEN req.instructions IS NOT NULL OR req.tools IS NOT NULL OR len(system_messages) > 0 THEN
        sha256(concat_ws(chr(31), coalesce(CAST(req.instructions AS VARCHAR), ''), coalesce(CAST(req.tools AS VARCHAR), ''),
                         coalesce(array_to_string(system_messages, chr(30)), ''))) END AS prefix_hash,
    -- the same prefix as text, for the runner to count its tokens once per distinct prefix (never stored)
    CASE WHEN req.instructions IS NOT NULL OR req.tools IS NOT NULL OR len(system_messages) > 0 THEN
        (concat_ws(chr(31), coalesce(CAST(req.instructions AS VARCHAR), ''), coalesce(CAST(req.tools AS VARCHAR), ''),
                         coalesce(array_to_string(system_messages, chr(30)), ''))) END AS prefix_text,
    try_cast(coalesce(t.cost_usd, meta.cost_usd) AS DECIMAL(38,18)) AS reported_cost_usd,
    CASE WHEN skip_n IS NULL THEN
        CASE
            WHEN doc IS NULL THEN 'not valid JSON'
            WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
            WHEN owner = 'anthropic'
                THEN 'an Anthropic Messages record, not an OpenAI response (ingest it with --format anthropic)'
            WHEN NOT is_error AND resp IS NULL
                THEN 'no OpenAI response (expected a chat.completion / response object, or a wrapper with "response" or "error")'
            WHEN NOT is_error AND u IS NULL THEN 'response has no usage object, so its tokens are unknown'
            WHEN NOT is_error AND in_raw IS NULL AND out_raw IS NULL
                THEN 'usage has no token counts (expected prompt_tokens / completion_tokens or input_tokens / output_tokens)'
            WHEN is_bad_number(in_raw) THEN 'usage.' || in_name || ' is not a number'
            WHEN is_bad_number(cached_raw) THEN 'usage cached_tokens is not a number'
            WHEN is_bad_number(out_raw) THEN 'usage.' || out_name || ' is not a number'
            WHEN is_bad_number(reasoning_raw) THEN 'usage reasoning_tokens is not a number'
            WHEN cached_t > 0 AND coalesce(in_t, 0) >= 0 AND cached_t > coalesce(in_t, 0)
                THEN 'cached_tokens exceed usage.' || in_name || ', which must include them'
            WHEN is_error AND model_n IS NULL
                THEN 'failed call names no model (log request.model with the error)'
        END
    END AS reject_reason,
    skip_n AS skip_reason
FROM checked;
