-- requires: normalize_provider, nullif_blank, provider_input
-- creates: provider_lines, wrapper_attribution
-- Logged provider responses, step 1 of 2: every line parsed once and told which provider's shape it has.
-- Input: provider_input(source_row, doc, source_file, source_sha256, file_mtime, primary_provider): the lines of
-- one file, or of a batch of files (costlens/ingest/openai_usage.py), each naming its file and its primary.
-- Output: provider_lines — the typed top level `t`, the wrapper's metadata / request / error, the candidate
-- response `resp` (typed with the union of every provider's fields), the raw usage object `usage_json`, and
-- `owner` (openai | anthropic | google | bedrock | NULL). Step 2 is one file per provider
-- (staging/<provider>_usage.sql), each reading only its own lines; lines of unknown shape go to the file of the
-- adapter that was chosen (the primary), which says why they cannot be read.
--
-- One row per line, any of:
--   * a bare response: OpenAI Chat Completions / Responses / legacy completions / embeddings, an Anthropic
--     Messages object, a Gemini / Vertex AI generateContent response, a Bedrock Converse response;
--   * a batch output line: OpenAI Batch API {id, custom_id, response{status_code, request_id, body}, error},
--     Anthropic Message Batches {custom_id, result{type, message | error}};
--   * a streaming event that carries usage (OpenAI Responses `response.completed`, Anthropic `message_start`);
--   * an app wrapper {timestamp, latency_ms, metadata{feature, task_id, …, provider, batch}, request{…},
--     response{…} | null, error{…}} — metadata keys are also read from the wrapper's top level.
-- Speed: each JSON document is parsed once into typed STRUCTs (json_transform), never once per field.

-- The attribution an app wrapper gives a call (its metadata, else the same keys at its top level), for step-2
-- files with no provider-specific source of their own: SELECT unnest(wrapper_attribution(meta, t)).
CREATE OR REPLACE TEMP MACRO wrapper_attribution(meta, t) AS {
    'task_id': nullif_blank(coalesce(meta.task_id, meta."costlens.task_id", meta."task.id", t.task_id, meta.trace_id,
                                     t.trace_id)),
    'session_id': nullif_blank(coalesce(meta.session_id, meta.conversation_id, meta.thread_id,
                                        meta."gen_ai.conversation.id", t.session_id, t.conversation_id)),
    'trace_id': nullif_blank(coalesce(meta.trace_id, t.trace_id)),
    'feature': nullif_blank(coalesce(meta."costlens.feature", meta.feature, meta."app.feature", meta.use_case,
                                     t.feature, meta.agent_name, meta.agent, meta.service)),
    'team': nullif_blank(coalesce(meta.team, t.team)),
    'customer': nullif_blank(coalesce(meta.customer, meta.customer_id, t.customer, t.customer_id)),
    'user_id': nullif_blank(coalesce(meta.user_id, meta.user, t.user_id)),
    'environment': nullif_blank(coalesce(meta.environment, meta.env, t.environment))
};
CREATE OR REPLACE TEMP TABLE provider_lines AS
WITH lines AS (
    SELECT r.source_row, r.doc, r.source_file, r.source_sha256, r.file_mtime, r.primary_provider,
           json_transform(r.doc, '{"object":"VARCHAR","type":"VARCHAR","id":"VARCHAR","model":"VARCHAR",
               "modelId":"VARCHAR","custom_id":"VARCHAR","request_id":"VARCHAR","status":"VARCHAR",
               "sessionId":"VARCHAR","timestamp":"VARCHAR","ts":"VARCHAR","time":"VARCHAR","start_time":"VARCHAR",
               "started_at":"VARCHAR","created_at":"VARCHAR","latency_ms":"VARCHAR","duration_ms":"VARCHAR",
               "elapsed_ms":"VARCHAR","http_status":"VARCHAR","status_code":"VARCHAR","provider":"VARCHAR",
               "batch":"VARCHAR","is_batch":"VARCHAR","task_id":"VARCHAR","session_id":"VARCHAR",
               "conversation_id":"VARCHAR","trace_id":"VARCHAR","feature":"VARCHAR","team":"VARCHAR",
               "customer":"VARCHAR","customer_id":"VARCHAR","user_id":"VARCHAR","environment":"VARCHAR",
               "cost_usd":"VARCHAR","usage":"JSON","usageMetadata":"JSON","response":"JSON","request":"JSON",
               "metadata":"JSON","error":"JSON","result":{"type":"VARCHAR","message":"JSON","error":"JSON"},
               "message":"JSON","output":"JSON","stopReason":"VARCHAR"}') AS t
    FROM provider_input r
),
tops AS (
    SELECT *,
           coalesce(t.custom_id IS NOT NULL AND t.result IS NOT NULL, false) AS is_batch_line,
           t.object IS NULL AND t.usage IS NULL AND t.usageMetadata IS NULL AND t.type IS DISTINCT FROM 'message'
               AND t.stopReason IS NULL
               AND NOT coalesce(t.custom_id IS NOT NULL AND t.result IS NOT NULL, false)
               AND (t.response IS NOT NULL OR t.error IS NOT NULL OR t.request IS NOT NULL) AS is_wrapper,
           -- the candidate response object
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
           json_transform(t.request, '{"model":"VARCHAR","modelId":"VARCHAR","max_tokens":"VARCHAR",
               "max_completion_tokens":"VARCHAR","max_output_tokens":"VARCHAR","service_tier":"VARCHAR",
               "user":"VARCHAR","safety_identifier":"VARCHAR","messages":"JSON","input":"JSON","prompt":"JSON",
               "instructions":"JSON","tools":"JSON","system":"JSON","contents":"JSON","systemInstruction":"JSON",
               "toolConfig":"JSON","metadata":"JSON","inferenceConfig":{"maxTokens":"VARCHAR"},
               "generationConfig":{"maxOutputTokens":"VARCHAR"}}') AS req,
           json_transform(t.error, '{"type":"VARCHAR","code":"VARCHAR","name":"VARCHAR","http_status":"VARCHAR",
               "status_code":"VARCHAR","status":"VARCHAR","error":{"type":"VARCHAR","code":"VARCHAR",
               "name":"VARCHAR","http_status":"VARCHAR","status":"VARCHAR"}}') AS e_outer,
           CASE WHEN json_type(t.error) = 'VARCHAR' THEN nullif_blank(t.error->>'$') END AS e_text,
           json_transform(t.result.error, '{"type":"VARCHAR","error":{"type":"VARCHAR"}}') AS batch_error
    FROM lines
),
probed AS (
    SELECT *,
           CASE WHEN json_type(probe_json) = 'OBJECT' AND json_type(probe_json->'$.body') = 'OBJECT'
                     AND probe_json->>'$.status_code' IS NOT NULL
                THEN probe_json END AS envelope_json
    FROM tops
),
enveloped AS (
    SELECT *,
           -- an OpenAI Batch API line wraps the response as {status_code, request_id, body}: read the body
           CASE WHEN envelope_json IS NOT NULL THEN envelope_json->'$.body' ELSE probe_json END AS resp_json,
           json_transform(envelope_json, '{"status_code":"VARCHAR","request_id":"VARCHAR"}') AS envelope
    FROM probed
),
typed AS (
    SELECT *,
           json_transform(resp_json, '{"id":"VARCHAR","object":"VARCHAR","type":"VARCHAR","model":"VARCHAR",
               "created":"VARCHAR","created_at":"VARCHAR","completed_at":"VARCHAR","status":"VARCHAR",
               "service_tier":"VARCHAR","max_output_tokens":"VARCHAR","user":"VARCHAR","stop_reason":"VARCHAR",
               "error":"JSON","metadata":"JSON","prompt_filter_results":"JSON",
               "choices":[{"finish_reason":"VARCHAR","content_filter_results":"JSON"}],
               "incomplete_details":{"reason":"VARCHAR"},"conversation":{"id":"VARCHAR"},
               "output":"JSON","usage":"JSON","usageMetadata":"JSON","modelVersion":"VARCHAR",
               "responseId":"VARCHAR","createTime":"VARCHAR",
               "candidates":[{"finishReason":"VARCHAR","groundingMetadata":{"webSearchQueries":["VARCHAR"]}}],
               "tool_usage":"JSON","tools":[{"type":"VARCHAR"}],
               "content":[{"type":"VARCHAR","name":"VARCHAR"}],"container":{"id":"VARCHAR"},
               "stopReason":"VARCHAR","serviceTier":{"type":"VARCHAR"},"metrics":{"latencyMs":"VARCHAR"},
               "ResponseMetadata":{"RequestId":"VARCHAR","HTTPStatusCode":"VARCHAR"}}') AS r
    FROM enveloped
)
SELECT *,
       coalesce(r.usage, r.usageMetadata) AS usage_json,
       CASE
           WHEN t IS NULL THEN NULL
           WHEN r.object IN ('chat.completion', 'chat.completion.chunk', 'response', 'text_completion')
                OR (r.object = 'list' AND json_exists(r.usage, '$.prompt_tokens'))
                OR json_exists(r.usage, '$.prompt_tokens') OR json_exists(r.usage, '$.completion_tokens')
                OR json_exists(r.usage, '$.input_tokens_details') OR json_exists(r.usage, '$.output_tokens_details')
                OR (t.custom_id IS NOT NULL AND envelope_json IS NOT NULL)
                OR starts_with(t.type, 'response.')
               THEN 'openai'
           WHEN r.type = 'message'
                OR json_exists(r.usage, '$.cache_read_input_tokens')
                OR json_exists(r.usage, '$.cache_creation_input_tokens')
                OR (t.custom_id IS NOT NULL AND t.result IS NOT NULL)
                OR t.type IN ('message_start', 'message_delta', 'message_stop', 'content_block_start',
                              'content_block_delta', 'content_block_stop', 'ping')
                OR starts_with(r.id, 'msg_')
               THEN 'anthropic'
           WHEN r.usageMetadata IS NOT NULL OR r.modelVersion IS NOT NULL OR r.candidates IS NOT NULL
               THEN 'google'
           WHEN json_exists(r.usage, '$.inputTokens') OR json_exists(r.usage, '$.outputTokens')
                OR r.stopReason IS NOT NULL OR r.metrics.latencyMs IS NOT NULL
               THEN 'bedrock'
           -- a failed call has no response: only the provider or the request model can tell
           WHEN normalize_provider(coalesce(meta.provider, t.provider)) = 'anthropic'
                OR starts_with(lower(coalesce(req.model, t.model)), 'claude')
                OR lower(coalesce(req.model, t.model)) LIKE '%anthropic%'
               THEN 'anthropic'
           WHEN normalize_provider(coalesce(meta.provider, t.provider)) IN ('openai', 'azure.openai')
                OR regexp_matches(lower(coalesce(req.model, t.model)),
                                  '^(gpt|chatgpt|o[1-9]|text-embedding|davinci|babbage|codex|computer-use)')
               THEN 'openai'
           WHEN normalize_provider(coalesce(meta.provider, t.provider)) IN ('google', 'gcp.vertex_ai')
                OR starts_with(lower(coalesce(req.model, t.model)), 'gemini')
               THEN 'google'
           WHEN normalize_provider(coalesce(meta.provider, t.provider)) = 'aws.bedrock'
                OR coalesce(req.modelId, t.modelId) IS NOT NULL
               THEN 'bedrock'
       END AS owner
FROM typed;
