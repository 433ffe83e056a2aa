-- requires: count_problem, helicone_src, ingest_ctx, is_bad_number, normalize_provider, normalize_tier,
--   nullif_blank, parse_tokens, quoted_value, request_text, safe_tags, text_blank, text_count, text_ts,
--   ts_window_problem
-- creates: helicone_attr_sets, helicone_bare_model, helicone_json_text, helicone_key, helicone_models,
--   helicone_parse, helicone_parsed, helicone_provider, helicone_typed, staged
-- Helicone request export rows → canonical calls. Input: helicone_src (source_row, doc_problem and every
-- export column as text — JSON-valued columns as their JSON text; built by costlens/ingest/helicone.py the same
-- way for CSV, Parquet and JSON), ingest_ctx.
--
-- * Tokens: Helicone stores prompt_tokens WITHOUT cache tokens (its OpenAI body processor stores
--   prompt_tokens − cached_tokens − audio tokens; Anthropic's input_tokens exclude cache reads and writes) and
--   prices prompt_tokens, prompt_cache_read_tokens and prompt_cache_write_tokens additively. So:
--   input = prompt_tokens, cache_read = prompt_cache_read_tokens, cache_write_5m = prompt_cache_write_tokens.
--   Exception, decided per row: a provider whose own convention is inclusive (anything but Anthropic models)
--   with cache tokens and total_tokens = prompt + completion was stored before that normalisation — its
--   prompt_tokens still include the cache (the provider's total counts each token once), so
--   input = prompt − cache read − cache write. (A current row has total = prompt + cache + completion.)
--   An Anthropic row's total_tokens is input + output, so this test never applies to it.
-- * costUSD (or cost_usd) → reported_cost_usd, text → DECIMAL(38,18) directly (float text such as 1.2e-05
--   read exactly). Money is never parsed through DOUBLE.
-- * response_status: ≥ 400 → status error with http_status; error_type from the response body's
--   error.code / error.type when it has one, else http_<status>. 0 or negative (Helicone's markers for a
--   request that got no response: timeout, cancelled) → error 'no_response'. 1xx – 3xx → ok. No status and no
--   tokens: the request was still pending when exported → skipped.
-- * model = `model` (Helicone's pricing model: override, else response, else request model), else
--   response_model, else request_model, without a provider prefix; request_model as asked.
-- * provider: Helicone's provider name (OPENAI, ANTHROPIC, AZURE, AWS / BEDROCK, VERTEX, GOOGLE, X, …)
--   normalised; CUSTOM or none → from the model family.
-- * Attribution from request_properties (custom properties): keys compared lower-cased, with a leading
--   `helicone-property-` removed and `-` / ` ` read as `_`: feature | use_case → feature (else the session
--   name, Helicone-Session-Name), team, task | task_id, customer | customer_id, environment | env,
--   Helicone-Session-Id | session | session_id → session_id (and task_id when no task is named), trace_id.
--   request_user_id → user_id. Every
--   other property is kept in tags (its own key, prefix removed), with feedback_rating and scores
--   (score:<name>).
-- * request_body / response_body are read only for finish_reason, max_tokens, service_tier, error type and
--   content fingerprints (prompt_hash / prefix_hash); their text is never stored.
-- * Old @helicone/export CSVs name the columns response_id, latency and cost_usd, and double-escape JSON cells
--   ({""feature"":""x""} after CSV unquoting): read as JSON after collapsing the doubled quotes.

-- JSON text as exported → the document's text (a JSON string holding JSON is unwrapped; doubled quotes
-- collapsed when that is what makes it JSON), or NULL when blank. Invalid JSON comes back as it is.
CREATE OR REPLACE TEMP MACRO helicone_json_text(x) AS (
    CASE WHEN text_blank(x) THEN NULL
         WHEN json_valid(x) THEN
             CASE WHEN left(ltrim(left(x, 16)), 1) = '"' THEN coalesce(try(json_extract_string(x, '$')), x) ELSE x END
         WHEN contains(x, '""') AND json_valid(replace(x, '""', '"')) THEN replace(x, '""', '"')
         ELSE x END
);

-- a JSON column parsed into `spec` in one pass when it is a plain JSON document (the common case), else after
-- unwrapping (a JSON string holding JSON, doubled quotes); NULL when blank or not JSON
CREATE OR REPLACE TEMP MACRO helicone_parse(x, spec) AS (
    CASE WHEN text_blank(x) THEN NULL
         WHEN left(ltrim(left(x, 16)), 1) IN ('{', '[')
             THEN coalesce(try(json_transform(x, spec)), try(json_transform(helicone_json_text(x), spec)))
         ELSE try(json_transform(helicone_json_text(x), spec))
    END
);

-- property key → its canonical spelling for matching
CREATE OR REPLACE TEMP MACRO helicone_key(k) AS (
    regexp_replace(regexp_replace(lower(trim(k)), '^helicone-property-', ''), '[- ]', '_', 'g')
);

CREATE OR REPLACE TEMP MACRO helicone_provider(p, m) AS (
    CASE
        WHEN lower(trim(coalesce(p, ''))) IN ('', 'custom', 'helicone', 'local') THEN
            CASE
                WHEN m IS NULL THEN NULL
                WHEN regexp_matches(lower(m), '^(anthropic\.)?claude') THEN 'anthropic'
                WHEN regexp_matches(lower(m), '^(gpt|chatgpt|o[1-9]|text-embedding|davinci|babbage|dall-e|whisper|tts|omni-moderation|codex)') THEN 'openai'
                WHEN regexp_matches(lower(m), '^(gemini|gemma)') THEN 'google'
                WHEN regexp_matches(lower(m), '^(mistral|mixtral|codestral|ministral|magistral|pixtral|devstral)') THEN 'mistral'
                WHEN regexp_matches(lower(m), '^grok') THEN 'x_ai'
                WHEN regexp_matches(lower(m), '^deepseek') THEN 'deepseek'
            END
        WHEN lower(trim(p)) IN ('aws', 'bedrock', 'aws_bedrock', 'aws-bedrock') THEN 'aws.bedrock'
        WHEN lower(trim(p)) IN ('vertex', 'vertexai', 'vertex_ai', 'google_vertex', 'gcp') THEN 'gcp.vertex_ai'
        WHEN lower(trim(p)) IN ('x', 'xai', 'x_ai', 'x-ai', 'grok') THEN 'x_ai'
        WHEN lower(trim(p)) IN ('together', 'togetherai', 'together_ai') THEN 'together_ai'
        WHEN lower(trim(p)) IN ('google', 'gemini', 'google-ai-studio', 'google_ai_studio') THEN 'google'
        WHEN lower(trim(p)) IN ('azure', 'azure_openai', 'azure-openai', 'azureopenai') THEN 'azure.openai'
        ELSE normalize_provider(p)
    END
);

-- a provider prefix on a model name (the AI Gateway and OpenRouter style "openai/gpt-4o")
CREATE OR REPLACE TEMP MACRO helicone_bare_model(m) AS (
    CASE WHEN regexp_matches(lower(coalesce(m, '')), '^(openai|anthropic|azure|bedrock|vertex|google|gemini|mistral|groq|deepseek|xai|x-ai)/')
         THEN substr(m, strpos(m, '/') + 1) ELSE m END
);

-- step 1: bodies parsed once for the few fields read from them (never stored); narrow typed columns
CREATE OR REPLACE TEMP TABLE helicone_parsed AS
WITH parsed AS (
    SELECT s.*, c.source_sha256,
           -- the exported row itself: the identity of a row without a request or response id
           CAST(json_merge_patch(to_json(s), '{"source_row":null}') AS VARCHAR) AS record_text,
           helicone_parse(s.request_body, '{"model":"VARCHAR","max_tokens":"VARCHAR","max_completion_tokens":"VARCHAR",
               "max_output_tokens":"VARCHAR","service_tier":"VARCHAR","messages":"JSON","input":"JSON",
               "prompt":"JSON","system":"JSON","instructions":"JSON","tools":"JSON"}') AS req,
           helicone_parse(s.response_body, '{"object":"VARCHAR","service_tier":"VARCHAR","stop_reason":"VARCHAR",
               "choices":[{"finish_reason":"VARCHAR"}],"error":{"type":"VARCHAR","code":"VARCHAR"}}') AS resp
    FROM helicone_src s CROSS JOIN ingest_ctx c
),
fingerprinted AS (
    SELECT *,
           -- system / developer messages of a Chat Completions request: its stable prefix
           list_filter(coalesce(try(json_extract(req.messages, '$[*]')), []),
                       lambda m: m->>'role' IN ('system', 'developer')) AS system_messages
    FROM parsed
)
SELECT source_row, doc_problem, source_sha256, record_text, request_id, response_id, request_user_id, request_path,
       request_model, response_model, model, provider, response_status, delay_ms, total_tokens, prompt_tokens,
       prompt_cache_write_tokens, prompt_cache_read_tokens, completion_tokens, cost_usd, feedback_rating,
       request_properties, scores,
       text_ts(request_created_at) AS created_ts, request_created_at AS request_created_at_raw,
       response_created_at,
       req.model AS body_model,
       coalesce(req.max_tokens, req.max_completion_tokens, req.max_output_tokens) AS max_tokens_raw,
       coalesce(resp.service_tier, req.service_tier) AS tier_raw,
       resp.object AS resp_object,
       coalesce(resp.choices[1].finish_reason, resp.stop_reason) AS finish_reason_n,
       CASE WHEN try_cast(resp.error.code AS INTEGER) IS NULL THEN nullif_blank(resp.error.code) END AS error_code_n,
       nullif_blank(resp.error.type) AS error_type_n,
       -- content fingerprints, never the content: the same recipes as the OpenAI / Anthropic app-log adapters
       -- (Anthropic request: system + tools + messages; OpenAI: instructions + tools + messages | input)
       CASE WHEN coalesce(req.messages, req.input, req.prompt) IS NOT NULL THEN
           sha256(concat_ws(chr(31), coalesce(CAST(coalesce(req.system, req.instructions) AS VARCHAR), ''),
                            coalesce(CAST(req.tools AS VARCHAR), ''),
                            CAST(coalesce(req.messages, req.input, req.prompt) AS VARCHAR))) END AS prompt_hash_n,
       CASE WHEN req.system IS NOT NULL THEN
                sha256(concat_ws(chr(31), CAST(req.system AS VARCHAR), coalesce(CAST(req.tools AS VARCHAR), '')))
            WHEN req.instructions IS NOT NULL OR req.tools IS NOT NULL OR len(system_messages) > 0 THEN
                sha256(concat_ws(chr(31), coalesce(CAST(req.instructions AS VARCHAR), ''),
                                 coalesce(CAST(req.tools AS VARCHAR), ''),
                                 coalesce(array_to_string(system_messages, chr(30)), '')))
       END AS prefix_hash_n,
    -- the same prefix as text, for the runner to count its tokens once per distinct prefix (never stored)
    CASE WHEN req.system IS NOT NULL THEN
                (concat_ws(chr(31), CAST(req.system AS VARCHAR), coalesce(CAST(req.tools AS VARCHAR), '')))
            WHEN req.instructions IS NOT NULL OR req.tools IS NOT NULL OR len(system_messages) > 0 THEN
                (concat_ws(chr(31), coalesce(CAST(req.instructions AS VARCHAR), ''),
                                 coalesce(CAST(req.tools AS VARCHAR), ''),
                                 coalesce(array_to_string(system_messages, chr(30)), '')))
       END AS prefix_text_n,
       -- the request's own messages (no system ones), for its semantic-cache sketch (never stored)
       request_text(CAST(coalesce(req.messages, req.input, req.prompt) AS VARCHAR)) AS query_text_n
FROM fingerprinted;

-- step 2: custom properties, scores and feedback → attribution and tags, once per DISTINCT combination.
-- Property keys are compared lower-cased, without a `helicone-property-` prefix, with - and space as _.
CREATE OR REPLACE TEMP TABLE helicone_attr_sets AS
WITH sets AS (
    SELECT DISTINCT request_properties, scores, feedback_rating FROM helicone_parsed
),
parsed AS (
    SELECT *,
           helicone_parse(request_properties, '"MAP(VARCHAR, VARCHAR)"') AS props,
           helicone_parse(scores, '"MAP(VARCHAR, VARCHAR)"') AS score_map
    FROM sets
),
keyed AS (
    SELECT *,
           list_transform(map_entries(coalesce(props, MAP {})),
               lambda e: struct_pack(k := helicone_key(e.key),
                                     key := regexp_replace(trim(e.key), '(?i)^helicone-property-', ''),
                                     v := e.value)) AS kv
    FROM parsed
),
picked AS (
    SELECT *,
           list_filter(kv, lambda e: e.k IN ('feature', 'use_case', 'usecase', 'costlens.feature', 'app.feature'))[1].v
               AS p_feature,
           list_filter(kv, lambda e: e.k = 'helicone_session_name')[1].v AS p_session_name,
           list_filter(kv, lambda e: e.k IN ('team', 'costlens.team'))[1].v AS p_team,
           list_filter(kv, lambda e: e.k IN ('task', 'task_id', 'taskid', 'costlens.task_id', 'task.id'))[1].v
               AS p_task,
           list_filter(kv, lambda e: e.k IN ('customer', 'customer_id', 'customerid', 'costlens.customer'))[1].v
               AS p_customer,
           list_filter(kv, lambda e: e.k IN ('environment', 'env', 'costlens.environment'))[1].v AS p_env,
           list_filter(kv, lambda e: e.k IN ('helicone_session_id', 'session', 'session_id', 'sessionid',
                                             'conversation_id'))[1].v AS p_session,
           list_filter(kv, lambda e: e.k IN ('trace_id', 'traceid'))[1].v AS p_trace,
           list_filter(kv, lambda e: e.k IN ('helicone_user_id', 'user', 'user_id'))[1].v AS p_user
    FROM keyed
),
gathered AS (
    SELECT *,
           list_filter(
               list_concat(
                   list_transform(list_filter(kv, lambda e: e.k NOT IN (
                       'feature', 'use_case', 'usecase', 'costlens.feature', 'app.feature', 'team', 'costlens.team',
                       'task', 'task_id', 'taskid', 'costlens.task_id', 'task.id', 'customer', 'customer_id',
                       'customerid', 'costlens.customer', 'environment', 'env', 'costlens.environment',
                       'helicone_session_id', 'session', 'session_id', 'sessionid', 'conversation_id', 'trace_id',
                       'traceid', 'helicone_user_id', 'user', 'user_id')
                       -- the session name stays a tag when it is not the feature
                       AND NOT (e.k = 'helicone_session_name' AND p_feature IS NULL)),
                       lambda e: struct_pack(k := e.key, v := e.v)),
                   list_transform(map_entries(coalesce(score_map, MAP {})),
                       lambda e: struct_pack(k := 'score:' || e.key, v := e.value)),
                   [struct_pack(k := 'feedback_rating', v := nullif_blank(feedback_rating))]),
               lambda e: e.k IS NOT NULL AND e.v IS NOT NULL) AS entries
    FROM picked
)
SELECT request_properties, scores, feedback_rating, p_feature, p_session_name, p_team, p_task, p_customer, p_env,
       p_session, p_trace, p_user,
       NOT text_blank(request_properties) AND props IS NULL AS props_bad,
       -- secrets redacted, prompt text dropped (safe_tags, sql/schema/002_macros.sql)
       safe_tags(map_from_entries(list_filter(entries,
                  lambda e, i: list_position(list_transform(entries, lambda x: x.k), e.k) = i))) AS tags_n
FROM gathered;

-- step 3: model and provider, resolved once per DISTINCT (provider, model)
CREATE OR REPLACE TEMP TABLE helicone_models AS
SELECT provider, model_raw, model_n, provider_n,
       -- Anthropic models keep the exclusive convention everywhere (direct, Bedrock, Vertex)
       coalesce(provider_n = 'anthropic', false) OR regexp_matches(lower(coalesce(model_n, '')), '(^|[./])claude')
           AS anthropic_style
FROM (
    SELECT *, helicone_provider(provider, model_n) AS provider_n
    FROM (SELECT *, helicone_bare_model(model_raw) AS model_n
          FROM (SELECT DISTINCT provider,
                       nullif_blank(coalesce(nullif_blank(model), nullif_blank(response_model),
                                             nullif_blank(request_model))) AS model_raw
                FROM helicone_parsed))
);

-- step 4: tokens, status, cost as typed values
CREATE OR REPLACE TEMP TABLE helicone_typed AS
WITH typed AS (
    SELECT p.*, a.* EXCLUDE (request_properties, scores, feedback_rating),
           m.model_n, m.provider_n, m.anthropic_style,
           text_count(p.prompt_tokens) AS prompt_t,
           coalesce(text_count(p.prompt_cache_read_tokens), 0) AS cr_t,
           coalesce(text_count(p.prompt_cache_write_tokens), 0) AS cw_t,
           text_count(p.completion_tokens) AS completion_t,
           text_count(p.total_tokens) AS total_t,
           -- total_tokens decides the cache convention of a row (see above): it is checked like the others
           coalesce(count_problem('prompt_tokens', p.prompt_tokens), count_problem('completion_tokens', p.completion_tokens),
                    count_problem('prompt_cache_read_tokens', p.prompt_cache_read_tokens),
                    count_problem('prompt_cache_write_tokens', p.prompt_cache_write_tokens),
                    count_problem('total_tokens', p.total_tokens)) AS count_problem,
           try_cast(try_cast(trim(p.response_status) AS DOUBLE) AS INTEGER) AS status_i,
           trim(p.cost_usd) AS cost_s,
           try_cast(trim(p.cost_usd) AS DECIMAL(38,18)) AS cost_d,
           coalesce(p.created_ts, text_ts(p.response_created_at)) AS ts_n
    FROM helicone_parsed p
    LEFT JOIN helicone_attr_sets a
           ON a.request_properties IS NOT DISTINCT FROM p.request_properties
          AND a.scores IS NOT DISTINCT FROM p.scores AND a.feedback_rating IS NOT DISTINCT FROM p.feedback_rating
    LEFT JOIN helicone_models m
           ON m.provider IS NOT DISTINCT FROM p.provider
          AND m.model_raw IS NOT DISTINCT FROM nullif_blank(coalesce(nullif_blank(p.model),
                                                                     nullif_blank(p.response_model),
                                                                     nullif_blank(p.request_model)))
)
SELECT *,
       coalesce(status_i >= 400 OR status_i <= 0, false) AS is_error,
       CASE
           WHEN prompt_t IS NULL THEN NULL
           WHEN NOT anthropic_style AND cr_t + cw_t > 0 AND total_t IS NOT NULL
                AND total_t = prompt_t + coalesce(completion_t, 0) AND prompt_t >= cr_t + cw_t
               THEN prompt_t - cr_t - cw_t
           ELSE prompt_t
       END AS input_t
FROM typed;

-- step 5: the canonical columns and the checks
CREATE OR REPLACE TEMP TABLE staged AS
SELECT
    source_row,
    coalesce(nullif_blank(request_id), nullif_blank(response_id)) AS call_id,
    CASE WHEN coalesce(nullif_blank(request_id), nullif_blank(response_id)) IS NULL THEN record_text END
        AS identity_content,
    ts_n AS ts,
    try_cast(nullif_blank(delay_ms) AS DOUBLE) AS latency_ms,
    provider_n AS provider,
    model_n AS model,
    nullif_blank(coalesce(nullif_blank(request_model), body_model)) AS request_model,
    CASE
        WHEN request_path ILIKE '%embeddings%' OR resp_object = 'list' OR model_n ILIKE '%embedding%' THEN 'embeddings'
        WHEN request_path ILIKE '%/completions' AND request_path NOT ILIKE '%chat/completions' THEN 'text_completion'
        WHEN request_path ILIKE '%images%' THEN 'image_generation'
        WHEN request_path ILIKE '%audio/transcriptions%' THEN 'transcription'
        WHEN request_path ILIKE '%audio/speech%' THEN 'speech'
        ELSE 'chat'
    END AS operation,
    normalize_tier(tier_raw) AS service_tier,
    coalesce(lower(tier_raw) = 'batch', false) AS is_batch,
    input_t AS input_tokens,
    cr_t AS cache_read_tokens,
    cw_t AS cache_write_5m_tokens,
    0 AS cache_write_1h_tokens,
    completion_t AS output_tokens,
    0 AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE
        WHEN NOT is_error THEN NULL
        WHEN status_i <= 0 THEN 'no_response'
        ELSE coalesce(error_code_n, error_type_n, 'http_' || status_i)
    END AS error_type,
    CASE WHEN status_i > 0 THEN status_i END AS http_status,
    finish_reason_n AS finish_reason,
    parse_tokens(max_tokens_raw) AS max_tokens,
    nullif_blank(coalesce(p_task, p_session)) AS task_id,
    nullif_blank(p_session) AS session_id,
    nullif_blank(p_trace) AS trace_id,
    nullif_blank(coalesce(p_feature, p_session_name)) AS feature,
    nullif_blank(p_team) AS team,
    nullif_blank(p_customer) AS customer,
    nullif_blank(coalesce(nullif_blank(request_user_id), p_user)) AS user_id,
    nullif_blank(p_env) AS environment,
    tags_n AS tags,
    prompt_hash_n AS prompt_hash,
    prefix_hash_n AS prefix_hash,
    prefix_text_n AS prefix_text,
    query_text_n AS query_text,
    cost_d AS reported_cost_usd,
    CASE
        WHEN doc_problem IS NOT NULL THEN doc_problem
        WHEN props_bad THEN 'request_properties is not a JSON object: ' || quoted_value(request_properties)
        -- a time outside 2000-01-01 … a year from now (9999-12-31, an epoch 0) is damage, never a period
        WHEN created_ts IS NULL AND ts_window_problem('request_created_at', request_created_at_raw) IS NOT NULL
            THEN ts_window_problem('request_created_at', request_created_at_raw)
        WHEN ts_n IS NULL AND ts_window_problem('response_created_at', response_created_at) IS NOT NULL
            THEN ts_window_problem('response_created_at', response_created_at)
        WHEN NOT text_blank(cost_s) AND cost_d IS NULL THEN 'costUSD is not a number: ' || quoted_value(cost_usd)
        WHEN is_bad_number(prompt_tokens) THEN 'prompt_tokens is not a number: ' || quoted_value(prompt_tokens)
        WHEN is_bad_number(completion_tokens)
            THEN 'completion_tokens is not a number: ' || quoted_value(completion_tokens)
        WHEN is_bad_number(prompt_cache_read_tokens)
            THEN 'prompt_cache_read_tokens is not a number: ' || quoted_value(prompt_cache_read_tokens)
        WHEN is_bad_number(prompt_cache_write_tokens)
            THEN 'prompt_cache_write_tokens is not a number: ' || quoted_value(prompt_cache_write_tokens)
        -- NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
        WHEN count_problem IS NOT NULL THEN count_problem
        WHEN NOT text_blank(response_status) AND status_i IS NULL
            THEN 'response_status is not an HTTP status: ' || quoted_value(response_status)
    END AS reject_reason,
    CASE WHEN doc_problem IS NULL AND text_blank(response_status) AND prompt_t IS NULL AND completion_t IS NULL
              AND NOT is_bad_number(prompt_tokens) AND NOT is_bad_number(completion_tokens) AND count_problem IS NULL
         THEN 'no response recorded (the request was still pending when exported)' END AS skip_reason
FROM helicone_typed;
