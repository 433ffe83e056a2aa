-- requires: charge, count_problem, metadata_tags, normalize_provider, nullif_blank, parse_bool, parse_tokens,
--   parse_ts, provider_lines, request_text, ts_window_problem, unread_usage, wrapper_attribution
-- creates: staged_google
-- Logged Gemini API / Vertex AI generateContent responses, step 2 (after staging/provider_lines.sql) →
-- canonical calls, in `staged_google`. Input: provider_lines (owner 'google', or unknown shape when Gemini
-- is the primary).
--
-- usageMetadata: promptTokenCount INCLUDES cachedContentTokenCount; toolUsePromptTokenCount (tool results fed
-- back) is input on top of it; thoughtsTokenCount (thinking) is billed as output on top of
-- candidatesTokenCount. So canonical input = prompt + tool-use prompt − cached − uncached audio; cache reads =
-- cached text; output = candidates + thoughts − audio output; reasoning = thoughts. Audio input and cached
-- audio (promptTokensDetails / cacheTokensDetails with modality AUDIO), image input and audio output are
-- charges priced at the model's own rates. A totalTokenCount larger than its parts is flagged as hidden
-- tokens (not billed into the total).
CREATE OR REPLACE TEMP TABLE staged_google AS
WITH mine AS (
    SELECT *,
           json_transform(usage_json, '{"promptTokenCount":"VARCHAR","candidatesTokenCount":"VARCHAR",
               "totalTokenCount":"VARCHAR","thoughtsTokenCount":"VARCHAR","cachedContentTokenCount":"VARCHAR",
               "toolUsePromptTokenCount":"VARCHAR",
               "promptTokensDetails":[{"modality":"VARCHAR","tokenCount":"VARCHAR"}],
               "cacheTokensDetails":[{"modality":"VARCHAR","tokenCount":"VARCHAR"}],
               "candidatesTokensDetails":[{"modality":"VARCHAR","tokenCount":"VARCHAR"}]}') AS u
    FROM provider_lines
    WHERE owner = 'google' OR (owner IS NULL AND primary_provider = 'google')
),
raw AS (
    SELECT *,
           CASE WHEN is_wrapper AND json_type(t.response) IS DISTINCT FROM 'OBJECT' THEN NULL ELSE r END AS resp,
           nullif_blank(coalesce(r.modelVersion, req.model, t.model)) AS model_n,
           nullif_blank(coalesce(t.timestamp, t.ts, t.time, t.start_time, t.started_at, t.created_at, r.createTime))
               AS line_ts_raw,
           coalesce(nullif_blank(e_outer.error.type), nullif_blank(e_outer.error.code), nullif_blank(e_outer.type),
                    nullif_blank(e_outer.status), nullif_blank(e_outer.code), e_text,
                    CASE WHEN is_wrapper AND lower(t.status) IN ('error', 'failed', 'failure') THEN 'error' END)
               AS error_type_n,
           list_sum(list_transform(list_filter(u.promptTokensDetails, lambda d: d.modality = 'AUDIO'),
                                   lambda d: coalesce(parse_tokens(d.tokenCount), 0))) AS audio_in_raw,
           list_sum(list_transform(list_filter(u.promptTokensDetails, lambda d: d.modality = 'IMAGE'),
                                   lambda d: coalesce(parse_tokens(d.tokenCount), 0))) AS image_in_raw,
           list_sum(list_transform(list_filter(u.cacheTokensDetails, lambda d: d.modality = 'AUDIO'),
                                   lambda d: coalesce(parse_tokens(d.tokenCount), 0))) AS audio_cached_raw,
           list_sum(list_transform(list_filter(u.cacheTokensDetails, lambda d: d.modality = 'IMAGE'),
                                   lambda d: coalesce(parse_tokens(d.tokenCount), 0))) AS image_cached_raw,
           list_sum(list_transform(list_filter(u.candidatesTokensDetails, lambda d: d.modality = 'AUDIO'),
                                   lambda d: coalesce(parse_tokens(d.tokenCount), 0))) AS audio_out_raw
    FROM mine
),
typed AS (
    SELECT *,
           error_type_n IS NOT NULL OR e_outer IS NOT NULL AS is_error,
           parse_tokens(u.promptTokenCount) AS prompt_t,
           coalesce(parse_tokens(u.toolUsePromptTokenCount), 0) AS tool_prompt_t,
           coalesce(parse_tokens(u.cachedContentTokenCount), 0) AS cached_t,
           parse_tokens(u.candidatesTokenCount) AS candidates_t,
           coalesce(parse_tokens(u.thoughtsTokenCount), 0) AS thoughts_t,
           coalesce(audio_in_raw, 0) AS audio_in_t,
           coalesce(image_in_raw, 0) AS image_in_t,
           coalesce(audio_cached_raw, 0) AS audio_cached_t,
           coalesce(image_cached_raw, 0) AS image_cached_t,
           coalesce(audio_out_raw, 0) AS audio_out_t,
           coalesce(try_cast(e_outer.http_status AS INTEGER), try_cast(e_outer.status_code AS INTEGER),
                    try_cast(e_outer.code AS INTEGER), try_cast(e_outer.error.code AS INTEGER),
                    CASE WHEN is_wrapper THEN try_cast(t.http_status AS INTEGER) END,
                    CASE WHEN is_wrapper THEN try_cast(t.status_code AS INTEGER) END) AS http_status_n
    FROM raw
)
SELECT
    source_row,
    source_file,  -- lineage per row: a batch of files stages them together
    source_sha256,
    coalesce(nullif_blank(resp.responseId),
             CASE WHEN is_wrapper THEN nullif_blank(coalesce(t.request_id, t.id)) END,
             NULL) AS call_id,
    -- a line without any id is identified by its content (the runner numbers identical lines); a line with an id
    -- carries none, so the runner's numbering never compares the text of millions of identified lines
    CASE WHEN call_id IS NULL THEN CAST(json(doc) AS VARCHAR) END AS identity_content,
    'google' AS identity_prefix,
    -- a response without a time of its own takes the file's modification time (tagged)
    CASE WHEN line_ts_raw IS NULL THEN file_mtime ELSE parse_ts(line_ts_raw) END AS ts,
    try_cast(coalesce(t.latency_ms, t.duration_ms, t.elapsed_ms) AS DOUBLE) AS latency_ms,
    coalesce(normalize_provider(coalesce(meta.provider, t.provider)), 'google') AS provider,
    model_n AS model,
    nullif_blank(req.model) AS request_model,
    'chat' AS operation,
    'standard' AS service_tier,
    coalesce(parse_bool(coalesce(meta.batch, meta.is_batch, t.batch, t.is_batch)), false) AS is_batch,
    prompt_t + tool_prompt_t - cached_t - (audio_in_t - audio_cached_t) - (image_in_t - image_cached_t)
        AS input_tokens,
    cached_t - audio_cached_t - image_cached_t AS cache_read_tokens,
    0 AS cache_write_5m_tokens,
    0 AS cache_write_1h_tokens,
    coalesce(candidates_t, 0) + thoughts_t - audio_out_t AS output_tokens,
    thoughts_t AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(error_type_n, 'error') END AS error_type,
    http_status_n AS http_status,
    resp.candidates[1].finishReason AS finish_reason,
    parse_tokens(req.generationConfig.maxOutputTokens) AS max_tokens,
    unnest(wrapper_attribution(meta, t)),  -- task_id, session_id, trace_id, feature, team, customer, user_id, environment
    nullif(map_concat(coalesce(metadata_tags(t.metadata), MAP {}),
        CASE WHEN line_ts_raw IS NULL THEN MAP {'costlens.ts_source': 'file_mtime'} ELSE MAP {} END), MAP {}) AS tags,
    CASE WHEN req.contents IS NOT NULL THEN
        sha256(concat_ws(chr(31), coalesce(CAST(req.systemInstruction AS VARCHAR), ''),
                         coalesce(CAST(req.tools AS VARCHAR), ''), CAST(req.contents AS VARCHAR))) END AS prompt_hash,
    CASE WHEN req.systemInstruction IS NOT NULL OR req.tools IS NOT NULL THEN
        sha256(concat_ws(chr(31), coalesce(CAST(req.systemInstruction AS VARCHAR), ''),
                         coalesce(CAST(req.tools AS VARCHAR), ''))) END AS prefix_hash,
    CASE WHEN req.systemInstruction IS NOT NULL OR req.tools IS NOT NULL THEN
        concat_ws(chr(31), coalesce(CAST(req.systemInstruction AS VARCHAR), ''), coalesce(CAST(req.tools AS VARCHAR), ''))
    END AS prefix_text,
    -- the request's own messages (no system ones), for its semantic-cache sketch (never stored)
    request_text(CAST(req.contents AS VARCHAR)) AS query_text,
    try_cast(coalesce(t.cost_usd, meta.cost_usd) AS DECIMAL(38,18)) AS reported_cost_usd,
    list_filter([
        charge('input_audio_tokens', audio_in_t - audio_cached_t, 'token', NULL, 'promptTokensDetails[AUDIO]'),
        charge('cache_audio_read_tokens', audio_cached_t, 'token', NULL, 'cacheTokensDetails[AUDIO]'),
        charge('input_image_tokens', image_in_t - image_cached_t, 'token', NULL, 'promptTokensDetails[IMAGE]'),
        charge('cache_image_read_tokens', image_cached_t, 'token', NULL, 'cacheTokensDetails[IMAGE]'),
        charge('output_audio_tokens', audio_out_t, 'token', NULL, 'candidatesTokensDetails[AUDIO]'),
        charge('hidden_tokens', greatest(coalesce(parse_tokens(u.totalTokenCount), 0) - coalesce(prompt_t, 0)
                                         - tool_prompt_t - coalesce(candidates_t, 0) - thoughts_t, 0),
               'token', NULL, 'usageMetadata.totalTokenCount', false),
        -- a prompt grounded with Google Search is billed per grounded prompt
        charge('search_grounding', CASE WHEN len(list_filter(resp.candidates, lambda c:
                   len(c.groundingMetadata.webSearchQueries) > 0)) > 0 THEN 1 ELSE 0 END, 'call', NULL,
               'candidates[].groundingMetadata.webSearchQueries')],
        lambda c: c.quantity > 0) AS charges,
    unread_usage(CASE WHEN resp IS NOT NULL THEN usage_json END, ['promptTokenCount', 'candidatesTokenCount',
        'totalTokenCount', 'thoughtsTokenCount', 'cachedContentTokenCount', 'toolUsePromptTokenCount'])
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
                                        WHEN t.created_at IS NOT NULL THEN 'created_at' ELSE 'createTime' END, line_ts_raw)
        WHEN NOT is_error AND resp IS NULL
            THEN 'no Gemini response (expected a generateContent response with usageMetadata, or a wrapper with "response" or "error")'
        WHEN NOT is_error AND usage_json IS NULL THEN 'response has no usageMetadata, so its tokens are unknown'
        -- text, NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
        WHEN coalesce(count_problem('usageMetadata.promptTokenCount', u.promptTokenCount),
                      count_problem('usageMetadata.candidatesTokenCount', u.candidatesTokenCount),
                      count_problem('usageMetadata.thoughtsTokenCount', u.thoughtsTokenCount),
                      count_problem('usageMetadata.cachedContentTokenCount', u.cachedContentTokenCount),
                      count_problem('usageMetadata.toolUsePromptTokenCount', u.toolUsePromptTokenCount)) IS NOT NULL
            THEN coalesce(count_problem('usageMetadata.promptTokenCount', u.promptTokenCount),
                          count_problem('usageMetadata.candidatesTokenCount', u.candidatesTokenCount),
                          count_problem('usageMetadata.thoughtsTokenCount', u.thoughtsTokenCount),
                          count_problem('usageMetadata.cachedContentTokenCount', u.cachedContentTokenCount),
                          count_problem('usageMetadata.toolUsePromptTokenCount', u.toolUsePromptTokenCount))
        WHEN cached_t > coalesce(prompt_t, 0) AND NOT is_error
            THEN 'cachedContentTokenCount exceeds promptTokenCount, which must include it'
        WHEN is_error AND model_n IS NULL THEN 'failed call names no model (log request.model with the error)'
        WHEN model_n IS NULL THEN 'response names no model (expected modelVersion, or request.model in a wrapper)'
    END AS reject_reason,
    CAST(NULL AS VARCHAR) AS skip_reason
FROM typed;
