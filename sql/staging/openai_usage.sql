-- requires: charge, count_problem, metadata_tags, normalize_provider, normalize_tier, nullif_blank, parse_bool,
--   parse_tokens, parse_ts, provider_lines, request_text, ts_window_problem, unread_usage
-- creates: staged_openai
-- Logged OpenAI responses, step 2 (after staging/provider_lines.sql) → canonical calls, in `staged_openai`.
-- Input: provider_lines (this file's lines: owner 'openai', or unknown shape when OpenAI is the primary).
--
-- Tokens: prompt_tokens / input_tokens INCLUDE cached tokens and audio tokens, so canonical input = prompt −
-- cached − audio; completion / output tokens include reasoning and audio, so canonical output = completion −
-- audio. Audio (and image) tokens are charges of their own (input_audio_tokens, output_audio_tokens,
-- input_image_tokens), priced from the model's audio / image price. OpenAI bills no cache writes. Reasoning,
-- accepted and rejected prediction tokens are informational subsets of output (all billed as output).
-- Server-side tools of the Responses API are charges per output item: web_search_call → web_search,
-- file_search_call → file_search, code_interpreter_call → container_session (one per distinct container),
-- image_generation_call → image_generation (detail: quality/size).
-- A failed call (no response, an error) is an attempt: status 'error', the request model, 0 tokens.
-- Usage fields not read here are counted as unpriced usage (never silent); a total_tokens larger than its
-- parts is flagged as hidden tokens.
CREATE OR REPLACE TEMP TABLE staged_openai AS
WITH mine AS (
    SELECT *,
           json_transform(usage_json, '{"prompt_tokens":"VARCHAR","completion_tokens":"VARCHAR",
               "input_tokens":"VARCHAR","output_tokens":"VARCHAR","total_tokens":"VARCHAR",
               "prompt_tokens_details":{"cached_tokens":"VARCHAR","audio_tokens":"VARCHAR","image_tokens":"VARCHAR"},
               "input_tokens_details":{"cached_tokens":"VARCHAR","cache_write_tokens":"VARCHAR",
                   "audio_tokens":"VARCHAR","image_tokens":"VARCHAR"},
               "completion_tokens_details":{"reasoning_tokens":"VARCHAR","audio_tokens":"VARCHAR"},
               "output_tokens_details":{"reasoning_tokens":"VARCHAR","audio_tokens":"VARCHAR"}}') AS u,
           json_transform(r.output, '[{"type":"VARCHAR","status":"VARCHAR","container_id":"VARCHAR",
               "quality":"VARCHAR","size":"VARCHAR"}]') AS items,
           json_transform(r.tool_usage, '{"web_search":{"num_requests":"VARCHAR"}}') AS tool_use
    FROM provider_lines
    WHERE owner = 'openai' OR (owner IS NULL AND primary_provider = 'openai')
),
parts AS (
    SELECT *,
           -- the response this file converts: a wrapper without one is a failed call
           CASE WHEN is_wrapper AND json_type(t.response) IS DISTINCT FROM 'OBJECT' THEN NULL ELSE r END AS resp,
           -- user metadata sent with a Responses / Chat Completions request (lowest-priority attribution)
           json_transform(coalesce(r.metadata, req.metadata), '{"feature":"VARCHAR","task_id":"VARCHAR",
               "session_id":"VARCHAR","team":"VARCHAR","customer":"VARCHAR","user_id":"VARCHAR",
               "environment":"VARCHAR"}') AS rmeta,
           -- system / developer messages: the stable prefix of a Chat Completions prompt
           CASE WHEN req.messages IS NOT NULL THEN
               list_filter(json_extract(req.messages, '$[*]'), lambda m: m->>'role' IN ('system', 'developer'))
           END AS system_messages,
           json_transform(r.error, '{"type":"VARCHAR","code":"VARCHAR","message":"VARCHAR",
               "error":{"type":"VARCHAR","code":"VARCHAR"}}') AS e_resp
    FROM mine
),
raw AS (
    SELECT *,
           CASE WHEN resp IS NOT NULL THEN usage_json END AS u_json,
           coalesce(u.prompt_tokens, u.input_tokens) AS in_raw,
           coalesce(u.prompt_tokens_details.cached_tokens, u.input_tokens_details.cached_tokens) AS cached_raw,
           u.input_tokens_details.cache_write_tokens AS cache_write_raw,
           coalesce(u.prompt_tokens_details.audio_tokens, u.input_tokens_details.audio_tokens) AS audio_in_raw,
           coalesce(u.prompt_tokens_details.image_tokens, u.input_tokens_details.image_tokens) AS image_in_raw,
           coalesce(u.completion_tokens, u.output_tokens) AS out_raw,
           coalesce(u.completion_tokens_details.audio_tokens, u.output_tokens_details.audio_tokens) AS audio_out_raw,
           coalesce(u.completion_tokens_details.reasoning_tokens, u.output_tokens_details.reasoning_tokens)
               AS reasoning_raw,
           CASE WHEN u.prompt_tokens IS NOT NULL THEN 'prompt_tokens' ELSE 'input_tokens' END AS in_name,
           CASE WHEN u.completion_tokens IS NOT NULL THEN 'completion_tokens' ELSE 'output_tokens' END AS out_name,
           nullif_blank(coalesce(resp.model, req.model, CASE WHEN is_wrapper THEN t.model END)) AS model_n,
           coalesce(parse_ts(coalesce(t.timestamp, t.ts, t.time, t.start_time, t.started_at,
                                      CASE WHEN is_wrapper THEN t.created_at END)),
                    parse_ts(resp.created), parse_ts(resp.created_at)) AS ts_n,
           coalesce(t.timestamp, t.ts, t.time, t.start_time, t.started_at, CASE WHEN is_wrapper THEN t.created_at END,
                    resp.created, resp.created_at) AS ts_raw_n,
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
           parse_bool(coalesce(meta.batch, meta.is_batch, t.batch, t.is_batch)) AS meta_batch,
           list_filter(coalesce(items, []), lambda i: coalesce(i.status, '') <> 'failed') AS tool_items
    FROM parts
),
typed AS (
    SELECT *,
           error_type_n IS NOT NULL OR e_outer IS NOT NULL OR e_resp IS NOT NULL AS is_error,
           parse_tokens(in_raw) AS in_t,
           coalesce(parse_tokens(cached_raw), 0) AS cached_t,
           coalesce(parse_tokens(cache_write_raw), 0) AS cache_write_t,
           coalesce(parse_tokens(audio_in_raw), 0) AS audio_in_t,
           coalesce(parse_tokens(image_in_raw), 0) AS image_in_t,
           parse_tokens(out_raw) AS out_t,
           coalesce(parse_tokens(audio_out_raw), 0) AS audio_out_t,
           coalesce(parse_tokens(reasoning_raw), 0) AS reasoning_t,
           coalesce(count_problem('usage.' || in_name, in_raw), count_problem('usage cached_tokens', cached_raw),
                    count_problem('usage input_tokens_details.cache_write_tokens', cache_write_raw),
                    count_problem('usage ' || in_name || '_details.audio_tokens', audio_in_raw),
                    count_problem('usage ' || in_name || '_details.image_tokens', image_in_raw),
                    count_problem('usage.' || out_name, out_raw),
                    count_problem('usage ' || out_name || '_details.audio_tokens', audio_out_raw),
                    count_problem('usage reasoning_tokens', reasoning_raw),
                    count_problem('usage.total_tokens', u.total_tokens),
                    count_problem('tool_usage.web_search.num_requests', tool_use.web_search.num_requests))
               AS count_problem,
           coalesce(meta_batch, false) OR envelope_json IS NOT NULL
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
               WHEN t IS NULL THEN NULL
               WHEN resp.object = 'chat.completion.chunk' AND usage_json IS NULL
                   THEN 'streaming chunk without usage (only the final chunk carries it)'
               WHEN resp.object = 'response' AND resp.status IN ('in_progress', 'queued') AND usage_json IS NULL
                   THEN 'response not finished (status ' || resp.status || '): no usage yet'
               WHEN starts_with(t.type, 'response.') AND usage_json IS NULL
                   THEN 'Responses streaming event without usage (' || t.type || ')'
               WHEN t.custom_id IS NOT NULL AND is_error AND model_n IS NULL
                   THEN 'batch request failed before reaching a model (not billed)'
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
    'openai' AS identity_prefix,
    ts_n AS ts,
    coalesce(try_cast(coalesce(t.latency_ms, t.duration_ms, t.elapsed_ms) AS DOUBLE),
             (try_cast(resp.completed_at AS DOUBLE) - try_cast(resp.created_at AS DOUBLE)) * 1000.0) AS latency_ms,
    coalesce(normalize_provider(coalesce(meta.provider, t.provider)),
             CASE WHEN resp.prompt_filter_results IS NOT NULL OR resp.choices[1].content_filter_results IS NOT NULL
                  THEN 'azure.openai' END,
             'openai') AS provider,
    model_n AS model,
    nullif_blank(req.model) AS request_model,
    coalesce(CASE resp.object WHEN 'chat.completion' THEN 'chat' WHEN 'chat.completion.chunk' THEN 'chat'
                              WHEN 'response' THEN 'chat' WHEN 'text_completion' THEN 'text_completion'
                              WHEN 'list' THEN 'embeddings' END,
             CASE WHEN model_n ILIKE '%embedding%' THEN 'embeddings' END,
             'chat') AS operation,
    CASE WHEN batch_n THEN 'batch' ELSE normalize_tier(coalesce(resp.service_tier, req.service_tier)) END
        AS service_tier,
    batch_n AS is_batch,
    in_t - cached_t - cache_write_t - audio_in_t - image_in_t AS input_tokens,
    cached_t AS cache_read_tokens,
    cache_write_t AS cache_write_5m_tokens,
    0 AS cache_write_1h_tokens,
    out_t - audio_out_t AS output_tokens,
    reasoning_t AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(error_type_n, 'error') END AS error_type,
    http_status_n AS http_status,
    coalesce(resp.choices[1].finish_reason, resp.incomplete_details.reason,
             CASE WHEN resp.object = 'response' THEN resp.status END) AS finish_reason,
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
    metadata_tags(t.metadata) AS tags,
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
    -- the request's own messages (no system ones), for its semantic-cache sketch (never stored)
    request_text(CAST(coalesce(req.messages, req.input, req.prompt) AS VARCHAR)) AS query_text,
    try_cast(coalesce(t.cost_usd, meta.cost_usd) AS DECIMAL(38,18)) AS reported_cost_usd,
    -- billed quantities beyond the token columns
    list_filter([
        charge('input_audio_tokens', audio_in_t, 'token', NULL, in_name || '_details.audio_tokens'),
        charge('input_image_tokens', image_in_t, 'token', NULL, in_name || '_details.image_tokens'),
        charge('output_audio_tokens', audio_out_t, 'token', NULL, out_name || '_details.audio_tokens'),
        -- newer responses count the searches in tool_usage; else each web_search_call item is one
        charge('web_search', coalesce(parse_tokens(tool_use.web_search.num_requests),
                                      len(list_filter(tool_items, lambda i: i.type = 'web_search_call'))), 'call',
               -- web_search_preview on non-reasoning models has its own price
               CASE WHEN list_contains(list_transform(coalesce(resp.tools, []), lambda x: x.type),
                                       'web_search_preview') THEN 'preview' END,
               CASE WHEN tool_use.web_search.num_requests IS NOT NULL THEN 'tool_usage.web_search.num_requests'
                    ELSE 'output[type=web_search_call]' END),
        charge('file_search', len(list_filter(tool_items, lambda i: i.type = 'file_search_call')), 'call', NULL,
               'output[type=file_search_call]'),
        charge('container_session',
               len(list_distinct(list_transform(list_filter(tool_items, lambda i: i.type = 'code_interpreter_call'),
                                                lambda i: coalesce(i.container_id, '?')))), 'session', NULL,
               'output[type=code_interpreter_call].container_id'),
        charge('hidden_tokens', greatest(coalesce(parse_tokens(u.total_tokens), 0) - coalesce(in_t, 0)
                                         - coalesce(out_t, 0), 0), 'token', NULL, 'usage.total_tokens', false)]
      || list_transform(list_filter(tool_items, lambda i: i.type = 'image_generation_call'),
                        lambda i: charge('image_generation', 1, 'image',
                                         CASE WHEN i.quality IS NOT NULL AND i.size IS NOT NULL
                                              THEN i.quality || '/' || i.size END,
                                         'output[type=image_generation_call]')),
        lambda c: c.quantity > 0) AS charges,
    -- usage fields nothing above reads (never silent)
    unread_usage(u_json, ['prompt_tokens', 'completion_tokens', 'total_tokens', 'input_tokens', 'output_tokens',
        'prompt_tokens_details.cached_tokens', 'prompt_tokens_details.audio_tokens',
        'prompt_tokens_details.image_tokens', 'prompt_tokens_details.text_tokens',
        'input_tokens_details.cached_tokens', 'input_tokens_details.cache_write_tokens',
        'input_tokens_details.audio_tokens',
        'input_tokens_details.image_tokens', 'input_tokens_details.text_tokens',
        'completion_tokens_details.reasoning_tokens', 'completion_tokens_details.audio_tokens',
        'completion_tokens_details.text_tokens', 'completion_tokens_details.accepted_prediction_tokens',
        'completion_tokens_details.rejected_prediction_tokens', 'output_tokens_details.reasoning_tokens',
        'output_tokens_details.audio_tokens', 'output_tokens_details.text_tokens'])
    -- the image model's own tokens of image generation calls are priced per image (image_generation)
    || list_transform(unread_usage(resp.tool_usage, ['web_search.num_requests', 'image_gen.input_tokens',
           'image_gen.output_tokens', 'image_gen.total_tokens']), lambda l: {'field': 'tool_usage.' || l.field,
           'quantity': l.quantity}) AS unpriced_fields,
    CASE WHEN skip_n IS NULL THEN
        CASE
            WHEN doc IS NULL THEN 'not valid JSON'
            WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
            -- a time outside 2000-01-01 … a year from now (9999-12-31, an epoch 0) is damage, never a period
            WHEN ts_window_problem('line time', ts_raw_n) IS NOT NULL
                THEN ts_window_problem(CASE WHEN t.timestamp IS NOT NULL THEN 'timestamp'
                                            WHEN t.ts IS NOT NULL THEN 'ts' WHEN t.time IS NOT NULL THEN 'time'
                                            WHEN t.start_time IS NOT NULL THEN 'start_time'
                                            WHEN t.started_at IS NOT NULL THEN 'started_at'
                                            WHEN is_wrapper AND t.created_at IS NOT NULL THEN 'created_at'
                                            WHEN resp.created IS NOT NULL THEN 'response created'
                                            ELSE 'response created_at' END, ts_raw_n)
            WHEN NOT is_error AND resp IS NULL
                THEN 'no OpenAI response (expected a chat.completion / response object, or a wrapper with "response" or "error")'
            WHEN NOT is_error AND usage_json IS NULL THEN 'response has no usage object, so its tokens are unknown'
            WHEN NOT is_error AND in_raw IS NULL AND out_raw IS NULL
                THEN 'usage has no token counts (expected prompt_tokens / completion_tokens or input_tokens / output_tokens)'
            -- text, NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
            WHEN count_problem IS NOT NULL THEN count_problem
            WHEN cached_t > 0 AND coalesce(in_t, 0) >= 0 AND cached_t > coalesce(in_t, 0)
                THEN 'cached_tokens exceed usage.' || in_name || ', which must include them'
            WHEN cached_t + cache_write_t + audio_in_t + image_in_t > coalesce(in_t, 0) AND coalesce(in_t, 0) > 0
                THEN 'cached, audio and image tokens exceed usage.' || in_name || ', which must include them'
            WHEN audio_out_t > coalesce(out_t, 0) AND coalesce(out_t, 0) > 0
                THEN 'audio tokens exceed usage.' || out_name || ', which must include them'
            WHEN is_error AND model_n IS NULL
                THEN 'failed call names no model (log request.model with the error)'
        END
    END AS reject_reason,
    skip_n AS skip_reason
FROM checked;
