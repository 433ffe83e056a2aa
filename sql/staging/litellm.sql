-- requires: count_problem, ingest_ctx, is_bad_number, litellm_src, normalize_provider, nullif_blank, parse_bool,
--   parse_tokens, quoted_value, safe_tags, tag_has_credential, text_blank, text_count, text_ts, ts_window_problem
-- creates: litellm_attr_sets, litellm_attrs, litellm_bare_model, litellm_json_text, litellm_models, litellm_parsed,
--   litellm_prefix, litellm_provider, litellm_provider_from_base, litellm_provider_from_model, litellm_typed, staged
-- LiteLLM proxy LiteLLM_SpendLogs / LiteLLM_ErrorLogs rows → canonical calls.
-- Input: litellm_src (source_row, doc_problem and every export column as text — JSON-valued columns as their
-- JSON text; built by costlens/ingest/litellm.py the same way for CSV, Parquet and JSON), ingest_ctx.
--
-- SpendLogs (one row per proxied request):
-- * Tokens: prompt_tokens follows the OpenAI convention and INCLUDES cache reads and cache writes (LiteLLM adds
--   Anthropic's cache_read_input_tokens and cache_creation_input_tokens into prompt_tokens). The split is only
--   in metadata.additional_usage_values: cache_read_input_tokens | prompt_tokens_details.cached_tokens (reads),
--   cache_creation_input_tokens | prompt_tokens_details.cache_creation_tokens (writes), and
--   cache_creation_token_details.ephemeral_1h_input_tokens (1-hour writes, the rest are 5-minute writes).
--   Canonical input = prompt − reads − writes. Some LiteLLM versions added only the reads to prompt_tokens:
--   when prompt < reads + writes but ≥ reads, input = prompt − reads. prompt < reads is rejected.
--   completion_tokens includes reasoning (completion_tokens_details.reasoning_tokens, informational).
-- * spend (LiteLLM's estimate, USD) → reported_cost_usd: text → DECIMAL(38,18) directly, never via DOUBLE
--   (float text such as 1.5e-05 is read exactly).
-- * cache_hit true = a LiteLLM response-cache hit: the provider was never called and bills nothing. Such rows
--   are SKIPPED (quarantine disposition 'skipped'), not loaded as $0 calls that would dilute cost per call.
-- * status 'failure' (or metadata.status) → status error; error_type = metadata.error_information.error_class,
--   http_status = its error_code.
-- * model: the answered model without its LiteLLM provider prefix (anthropic/claude-… → claude-…);
--   request_model = model_group (the public name the client asked for). Provider: custom_llm_provider, else
--   the model prefix, else the api_base host, else the model family name.
-- * Attribution: request_tags (JSON list): a `feature:x` tag (also feature=x, use_case:x) gives the feature,
--   else the first plain tag; task:/team:/customer:/env: tags likewise; every other tag goes into tags
--   (key:value tags as key → value, plain tags as tag → ''). metadata.spend_logs_metadata (the caller's
--   metadata) can name feature / task_id / team / customer / environment too. team ← team tag, metadata team
--   alias, team_id. customer ← customer tag / metadata, end_user; user_id ← end_user. session_id (LiteLLM's
--   trace id) → session_id and trace_id; task_id ← task tag / metadata, else session_id.
-- * Management calls that are not model invocations (files, batches created / listed, fine-tuning, vector
--   stores, MCP) with no tokens and no spend are skipped. aretrieve_batch rows carry a finished batch's
--   usage and spend: loaded as batch calls.
-- ErrorLogs (failed requests only): status error, error_type = exception_type, http_status = status_code,
-- model = litellm_model_name (else model_group), 0 tokens, no cost; max_tokens from request_kwargs (the
-- optional params, stored by LiteLLM as a JSON string).

-- JSON text as exported (a JSON document, or a JSON string holding one) → the document's text, or NULL.
CREATE OR REPLACE TEMP MACRO litellm_json_text(x) AS (
    CASE WHEN text_blank(x) THEN NULL
         WHEN left(ltrim(left(x, 16)), 1) = '"' THEN try(json_extract_string(x, '$'))
         ELSE x END
);

-- LiteLLM's provider prefixes on model names (custom_llm_provider values).
CREATE OR REPLACE TEMP MACRO litellm_prefix(m) AS (
    CASE WHEN regexp_matches(lower(coalesce(m, '')),
        '^(openai|text-completion-openai|azure|azure_text|azure_ai|anthropic|anthropic_text|bedrock|bedrock_converse|sagemaker|vertex_ai|vertex_ai_beta|gemini|mistral|codestral|groq|deepseek|xai|cohere|cohere_chat|together_ai|fireworks_ai|openrouter|ollama|ollama_chat|perplexity|databricks|watsonx|hosted_vllm|vllm|nvidia_nim|cerebras|sambanova|deepinfra|anyscale|huggingface|replicate|ai21|ai21_chat|voyage|cloudflare|friendliai|github|dashscope|moonshot|volcengine|litellm_proxy|meta_llama|novita|nebius|lambda_ai|featherless_ai|nscale|snowflake|oci)/')
         THEN split_part(m, '/', 1) END
);

-- model without its provider prefix p (and Bedrock's route word: bedrock/converse/…, bedrock/invoke/…)
CREATE OR REPLACE TEMP MACRO litellm_bare_model(m, p) AS (
    CASE WHEN p IS NULL THEN m
         ELSE regexp_replace(substr(m, length(p) + 2), '^(converse|invoke|converse_like)/', '')
    END
);

-- custom_llm_provider / prefix → canonical provider (LiteLLM spellings first, then the shared macro).
CREATE OR REPLACE TEMP MACRO litellm_provider(p) AS (
    CASE lower(trim(p))
        WHEN 'text-completion-openai' THEN 'openai'
        WHEN 'azure_text' THEN 'azure.openai'
        WHEN 'anthropic_text' THEN 'anthropic'
        WHEN 'vertex_ai_beta' THEN 'gcp.vertex_ai'
        WHEN 'cohere_chat' THEN 'cohere'
        WHEN 'codestral' THEN 'mistral'
        WHEN 'ai21_chat' THEN 'ai21'
        WHEN 'ollama_chat' THEN 'ollama'
        ELSE normalize_provider(p)
    END
);

-- provider from the API host LiteLLM called
CREATE OR REPLACE TEMP MACRO litellm_provider_from_base(b) AS (
    CASE
        WHEN b IS NULL THEN NULL
        WHEN b ILIKE '%.openai.azure.com%' OR b ILIKE '%.cognitiveservices.azure.com%' THEN 'azure.openai'
        WHEN b ILIKE '%api.openai.com%' THEN 'openai'
        WHEN b ILIKE '%api.anthropic.com%' THEN 'anthropic'
        WHEN b ILIKE '%bedrock-runtime%' OR b ILIKE '%bedrock.%amazonaws.com%' THEN 'aws.bedrock'
        WHEN b ILIKE '%aiplatform.googleapis.com%' THEN 'gcp.vertex_ai'
        WHEN b ILIKE '%generativelanguage.googleapis.com%' THEN 'google'
        WHEN b ILIKE '%api.mistral.ai%' THEN 'mistral'
        WHEN b ILIKE '%api.groq.com%' THEN 'groq'
        WHEN b ILIKE '%api.deepseek.com%' THEN 'deepseek'
        WHEN b ILIKE '%api.x.ai%' THEN 'x_ai'
    END
);

-- provider from the model family, when nothing else names it
CREATE OR REPLACE TEMP MACRO litellm_provider_from_model(m) AS (
    CASE
        WHEN m IS NULL THEN NULL
        WHEN regexp_matches(lower(m), '^(claude)') THEN 'anthropic'
        WHEN regexp_matches(lower(m), '^(gpt|chatgpt|o[1-9]|text-embedding|davinci|babbage|dall-e|whisper|tts|omni-moderation|computer-use|codex)') THEN 'openai'
        WHEN regexp_matches(lower(m), '^(gemini|gemma)') THEN 'google'
        WHEN regexp_matches(lower(m), '^(mistral|mixtral|codestral|ministral|magistral|pixtral|devstral)') THEN 'mistral'
        WHEN regexp_matches(lower(m), '^(grok)') THEN 'x_ai'
        WHEN regexp_matches(lower(m), '^(deepseek)') THEN 'deepseek'
        WHEN regexp_matches(lower(m), '^(command|embed-)') THEN 'cohere'
    END
);

-- step 1: each JSON column parsed once, into flat text columns; the big JSON texts (metadata, messages,
-- response) are not carried into the next steps
CREATE OR REPLACE TEMP TABLE litellm_parsed AS
WITH src AS (
    SELECT s.*, c.source_sha256,
           -- the exported row itself: the identity of a row without a request id
           CAST(json_merge_patch(to_json(s), '{"source_row":null}') AS VARCHAR) AS record_text,
           s.call_type IS NULL
               AND (s.exception_type IS NOT NULL OR s.litellm_model_name IS NOT NULL OR s.status_code IS NOT NULL)
               AS is_error_log,
           litellm_json_text(s.metadata) AS metadata_j,
           litellm_json_text(s.request_tags) AS tags_j,
           CASE WHEN left(ltrim(left(s.messages, 16)), 1) IN ('[', '"')
                THEN litellm_json_text(s.messages) END AS messages_j,
           CASE WHEN length(s.response) > 2 THEN litellm_json_text(s.response) END AS response_j,
           litellm_json_text(s.request_kwargs) AS kwargs_j
    FROM litellm_src s CROSS JOIN ingest_ctx c
),
parsed AS (
    SELECT *,
           try(json_transform(metadata_j, '{"user_api_key_alias":"VARCHAR","user_api_key_team_alias":"VARCHAR",
               "user_api_key_team_id":"VARCHAR","user_api_key_org_id":"VARCHAR","user_api_key_user_id":"VARCHAR",
               "user_api_key_end_user_id":"VARCHAR","status":"VARCHAR","spend_logs_metadata":"JSON",
               "error_information":{"error_code":"VARCHAR","error_class":"VARCHAR"},
               "additional_usage_values":{"cache_read_input_tokens":"VARCHAR","cache_creation_input_tokens":"VARCHAR",
                   "prompt_tokens_details":{"cached_tokens":"VARCHAR","cache_creation_tokens":"VARCHAR",
                       "cache_creation_token_details":{"ephemeral_1h_input_tokens":"VARCHAR"}},
                   "cache_creation_token_details":{"ephemeral_1h_input_tokens":"VARCHAR"},
                   "cache_creation":{"ephemeral_1h_input_tokens":"VARCHAR"},
                   "completion_tokens_details":{"reasoning_tokens":"VARCHAR"}},
               "usage_object":{"cache_read_input_tokens":"VARCHAR","cache_creation_input_tokens":"VARCHAR",
                   "prompt_tokens_details":{"cached_tokens":"VARCHAR"},
                   "completion_tokens_details":{"reasoning_tokens":"VARCHAR"}}}')) AS meta,
           try(json_transform(kwargs_j, '{"max_tokens":"VARCHAR","max_completion_tokens":"VARCHAR",
               "max_output_tokens":"VARCHAR"}')) AS kwargs,
           try(json_transform(messages_j, '["JSON"]')) AS message_list,
           try(json_transform(messages_j, '[{"role":"VARCHAR"}]')) AS message_roles,
           try(json_transform(response_j, '{"choices":[{"finish_reason":"VARCHAR"}],"stop_reason":"VARCHAR"}')) AS resp
    FROM src
)
SELECT source_row, doc_problem, source_sha256, record_text, is_error_log, request_id, call_type, spend, prompt_tokens,
       completion_tokens, start_time, end_time, request_duration_ms, model, model_group, custom_llm_provider,
       api_base, litellm_user, cache_hit, team_id, organization_id, end_user, session_id, status, agent_id,
       litellm_model_name, exception_type, status_code, tags_j,
       CASE WHEN tags_j IS NOT NULL THEN left(request_tags, 40) END AS tags_head,
       meta.user_api_key_alias AS m_key_alias,
       meta.user_api_key_team_alias AS m_team_alias,
       meta.user_api_key_team_id AS m_team_id,
       meta.user_api_key_org_id AS m_org_id,
       meta.user_api_key_user_id AS m_user_id,
       meta.user_api_key_end_user_id AS m_end_user_id,
       meta.status AS m_status,
       CAST(meta.spend_logs_metadata AS VARCHAR) AS m_caller,
       meta.error_information.error_code AS m_error_code,
       meta.error_information.error_class AS m_error_class,
       -- cache reads (two spellings of the same count, in additional_usage_values or usage_object), writes,
       -- 1-hour writes, reasoning
       [meta.additional_usage_values.cache_read_input_tokens,
        meta.additional_usage_values.prompt_tokens_details.cached_tokens,
        meta.usage_object.cache_read_input_tokens,
        meta.usage_object.prompt_tokens_details.cached_tokens] AS cache_read_raw,
       [meta.additional_usage_values.cache_creation_input_tokens,
        meta.additional_usage_values.prompt_tokens_details.cache_creation_tokens,
        meta.usage_object.cache_creation_input_tokens] AS cache_write_raw,
       coalesce(meta.additional_usage_values.cache_creation_token_details.ephemeral_1h_input_tokens,
                meta.additional_usage_values.prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens,
                meta.additional_usage_values.cache_creation.ephemeral_1h_input_tokens) AS cache_write_1h_raw,
       coalesce(meta.additional_usage_values.completion_tokens_details.reasoning_tokens,
                meta.usage_object.completion_tokens_details.reasoning_tokens) AS reasoning_raw,
       coalesce(kwargs.max_tokens, kwargs.max_completion_tokens, kwargs.max_output_tokens) AS max_tokens_raw,
       metadata_j IS NOT NULL AND meta IS NULL AS metadata_bad,
       CASE WHEN metadata_j IS NOT NULL AND meta IS NULL THEN left(metadata, 40) END AS metadata_head,
       coalesce(resp.choices[1].finish_reason, resp.stop_reason) AS finish_reason_n,
       -- content fingerprints, never the content (same recipe as an OpenAI Chat Completions request):
       -- the whole message list, and the system / developer messages
       CASE WHEN len(message_list) > 0 THEN
           sha256(chr(31) || chr(31) || '[' || array_to_string(message_list, ',') || ']') END AS prompt_hash_n,
       CASE WHEN len(list_filter(message_roles, lambda m: m.role IN ('system', 'developer'))) > 0 THEN
           sha256(chr(31) || chr(31) || array_to_string(
               list_filter(message_list, lambda m, i: message_roles[i].role IN ('system', 'developer')), chr(30)))
       END AS prefix_hash_n,
    -- the same prefix as text, for the runner to count its tokens once per distinct prefix (never stored)
    CASE WHEN len(list_filter(message_roles, lambda m: m.role IN ('system', 'developer'))) > 0 THEN
           (chr(31) || chr(31) || array_to_string(
               list_filter(message_list, lambda m, i: message_roles[i].role IN ('system', 'developer')), chr(30)))
       END AS prefix_text_n,
    -- the request's own messages (no system ones), for its semantic-cache sketch (never stored)
    CASE WHEN len(message_list) > 0 THEN '[' || array_to_string(
        list_filter(message_list, lambda m, i: message_roles[i].role NOT IN ('system', 'developer')), ',') || ']'
    END AS query_text_n
FROM parsed;

-- step 2a: attribution from the request tags, the caller's metadata (spend_logs_metadata) and the virtual key
-- (alias, organisation, LiteLLM user, agent), worked out once per DISTINCT combination (they repeat across a
-- feature's requests): tags split into key:value pairs (first separator ':' or '='; plain tags kept apart),
-- attribution picked, everything else gathered as tags
CREATE OR REPLACE TEMP TABLE litellm_attr_sets AS
WITH sets AS (
    SELECT DISTINCT tags_j, m_caller, m_key_alias,
           nullif_blank(coalesce(nullif_blank(organization_id), m_org_id)) AS org_n,
           nullif_blank(coalesce(nullif_blank(litellm_user), m_user_id)) AS user_n,
           nullif_blank(agent_id) AS agent_n
    FROM litellm_parsed
),
parsed AS (
    SELECT *,
           -- a JSON list of tags; an object is read as key:value tags, a single string as one tag
           CASE WHEN tags_j IS NOT NULL AND tags_j NOT IN ('[]', '{}') THEN
               coalesce(try(json_transform(tags_j, '["VARCHAR"]')),
                        list_transform(map_entries(try(json_transform(tags_j, '"MAP(VARCHAR, VARCHAR)"'))),
                                       lambda e: e.key || ':' || coalesce(e.value, '')),
                        CASE WHEN try(json_type(tags_j)) = 'VARCHAR' THEN [json_extract_string(tags_j, '$')] END)
           END AS tag_list,
           try(json_transform(m_caller, '"MAP(VARCHAR, VARCHAR)"')) AS slm
    FROM sets
),
tagged AS (
    SELECT *,
           list_transform(
               list_transform(list_filter(coalesce(tag_list, []), lambda t: t IS NOT NULL AND trim(t) <> ''),
                              lambda t: struct_pack(t := trim(t),
                                                    m := regexp_extract(t, '^\s*([^:=\s][^:=]*)[:=](.*)$',
                                                                        ['key', 'value']))),
               lambda x: CASE WHEN x.m.key <> ''
                   THEN struct_pack(k := lower(trim(x.m.key)), key := trim(x.m.key), v := trim(x.m.value))
                   ELSE struct_pack(k := CAST(NULL AS VARCHAR), key := x.t, v := x.t) END) AS kv
    FROM parsed
),
picked AS (
    SELECT *,
           list_filter(kv, lambda e: e.k IN ('feature', 'use_case', 'usecase', 'costlens.feature', 'app.feature'))[1].v
               AS tag_feature,
           list_filter(kv, lambda e: e.k IN ('task', 'task_id', 'costlens.task_id', 'task.id'))[1].v AS tag_task,
           list_filter(kv, lambda e: e.k IN ('team', 'costlens.team'))[1].v AS tag_team,
           list_filter(kv, lambda e: e.k IN ('customer', 'customer_id', 'costlens.customer'))[1].v AS tag_customer,
           list_filter(kv, lambda e: e.k IN ('env', 'environment', 'costlens.environment'))[1].v AS tag_env,
           -- (a plain tag that is a credential never names the feature: safe_tags drops it from the tags)
           list_filter(kv, lambda e: e.k IS NULL AND NOT tag_has_credential(e.v))[1].v AS first_plain_tag,
           coalesce(slm['costlens.feature'], slm['feature'], slm['app.feature'], slm['use_case']) AS slm_feature
    FROM tagged
),
gathered AS (
    SELECT *,
           list_filter(
               list_concat(
                   list_transform(list_filter(kv, lambda e: e.k IS NOT NULL AND e.k NOT IN (
                       'feature', 'use_case', 'usecase', 'costlens.feature', 'app.feature', 'task', 'task_id',
                       'costlens.task_id', 'task.id', 'team', 'costlens.team', 'customer', 'customer_id',
                       'costlens.customer', 'env', 'environment', 'costlens.environment')),
                       lambda e: struct_pack(k := e.key, v := e.v)),
                   -- plain tags, but the one that became the feature
                   list_transform(list_filter(kv, lambda e: e.k IS NULL AND NOT (tag_feature IS NULL
                                                AND slm_feature IS NULL AND e.v = first_plain_tag)),
                       lambda e: struct_pack(k := e.key, v := '')),
                   list_transform(list_filter(map_entries(coalesce(slm, MAP {})), lambda e: e.key NOT IN (
                       'feature', 'costlens.feature', 'app.feature', 'use_case', 'task_id', 'costlens.task_id',
                       'task.id', 'team', 'customer', 'customer_id', 'environment', 'env')),
                       lambda e: struct_pack(k := e.key, v := e.value)),
                   -- who called: the virtual key's alias, organisation, LiteLLM user, agent
                   [struct_pack(k := 'api_key_alias', v := nullif_blank(m_key_alias)),
                    struct_pack(k := 'organization_id', v := org_n),
                    struct_pack(k := 'litellm_user', v := user_n),
                    struct_pack(k := 'agent_id', v := agent_n)]),
               lambda e: e.k IS NOT NULL AND e.v IS NOT NULL) AS entries
    FROM picked
)
SELECT tags_j, m_caller, m_key_alias, org_n, user_n, agent_n, tag_feature, tag_task, tag_team, tag_customer, tag_env, first_plain_tag, slm_feature,
       slm['task_id'] AS slm_task, slm['costlens.task_id'] AS slm_task2, slm['task.id'] AS slm_task3,
       slm['team'] AS slm_team, slm['customer'] AS slm_customer, slm['customer_id'] AS slm_customer2,
       slm['environment'] AS slm_env, slm['env'] AS slm_env2,
       tags_j IS NOT NULL AND tag_list IS NULL AND NOT coalesce(json_valid(tags_j), false) AS tags_bad,
       -- first occurrence of a key wins; secrets redacted, prompt text dropped (safe_tags, schema/002_macros.sql)
       safe_tags(map_from_entries(list_filter(entries,
                  lambda e, i: list_position(list_transform(entries, lambda x: x.k), e.k) = i))) AS tags_n
FROM gathered;

-- step 2b: each row's attribution
CREATE OR REPLACE TEMP TABLE litellm_attrs AS
SELECT p.* EXCLUDE (tags_j, m_caller, m_key_alias),
       a.* EXCLUDE (tags_j, m_caller, m_key_alias, org_n, user_n, agent_n)
FROM litellm_parsed p
LEFT JOIN litellm_attr_sets a
       ON a.tags_j IS NOT DISTINCT FROM p.tags_j AND a.m_caller IS NOT DISTINCT FROM p.m_caller
      AND a.m_key_alias IS NOT DISTINCT FROM p.m_key_alias
      AND a.org_n IS NOT DISTINCT FROM nullif_blank(coalesce(nullif_blank(p.organization_id), p.m_org_id))
      AND a.user_n IS NOT DISTINCT FROM nullif_blank(coalesce(nullif_blank(p.litellm_user), p.m_user_id))
      AND a.agent_n IS NOT DISTINCT FROM nullif_blank(p.agent_id);

-- step 3: model and provider, resolved once per DISTINCT (model, custom_llm_provider, api_base)
CREATE OR REPLACE TEMP TABLE litellm_models AS
SELECT model_raw, custom_llm_provider, api_base, model_n,
       coalesce(litellm_provider(nullif_blank(custom_llm_provider)), litellm_provider(model_prefix),
                litellm_provider_from_base(nullif_blank(api_base)), litellm_provider_from_model(model_n)) AS provider_n
FROM (
    SELECT *, litellm_bare_model(model_raw, model_prefix) AS model_n
    FROM (SELECT *, litellm_prefix(model_raw) AS model_prefix
          FROM (SELECT DISTINCT
                       nullif_blank(CASE WHEN is_error_log THEN coalesce(nullif_blank(litellm_model_name), model_group)
                                         ELSE coalesce(nullif_blank(model), model_group) END) AS model_raw,
                       custom_llm_provider, api_base
                FROM litellm_attrs))
);

-- step 4: tokens, times and flags as typed values
CREATE OR REPLACE TEMP TABLE litellm_typed AS
WITH typed AS (
    SELECT *,
           text_count(prompt_tokens) AS prompt_t,
           text_count(completion_tokens) AS completion_t,
           greatest(text_count(cache_read_raw[1]), text_count(cache_read_raw[2]),
                    text_count(cache_read_raw[3]), text_count(cache_read_raw[4]), 0) AS cr_t,
           greatest(text_count(cache_write_raw[1]), text_count(cache_write_raw[2]),
                    text_count(cache_write_raw[3]), 0) AS cw_t,
           coalesce(text_count(cache_write_1h_raw), 0) AS cw1h_t,
           coalesce(text_count(reasoning_raw), 0) AS reasoning_t,
           coalesce(count_problem('prompt_tokens', prompt_tokens), count_problem('completion_tokens', completion_tokens),
                    count_problem('metadata cache_read_input_tokens', cache_read_raw[1]),
                    count_problem('metadata cached_tokens', cache_read_raw[2]),
                    count_problem('metadata usage_object.cache_read_input_tokens', cache_read_raw[3]),
                    count_problem('metadata usage_object cached_tokens', cache_read_raw[4]),
                    count_problem('metadata cache_creation_input_tokens', cache_write_raw[1]),
                    count_problem('metadata cache_creation_tokens', cache_write_raw[2]),
                    count_problem('metadata usage_object.cache_creation_input_tokens', cache_write_raw[3]),
                    count_problem('metadata ephemeral_1h_input_tokens', cache_write_1h_raw),
                    count_problem('metadata reasoning_tokens', reasoning_raw)) AS count_problem,
           trim(spend) AS spend_s,
           try_cast(trim(spend) AS DECIMAL(38,18)) AS spend_d,
           text_ts(start_time) AS start_ts,
           text_ts(end_time) AS end_ts,
           lower(trim(call_type)) AS ct,
           nullif_blank(CASE WHEN is_error_log THEN coalesce(nullif_blank(litellm_model_name), model_group)
                             ELSE coalesce(nullif_blank(model), model_group) END) AS model_raw,
           parse_bool(CASE WHEN lower(trim(cache_hit)) = 'none' THEN NULL ELSE cache_hit END) AS is_cache_hit,
           is_error_log OR lower(trim(status)) IN ('failure', 'failed', 'error')
               OR lower(m_status) = 'failure' AS is_error
    FROM litellm_attrs
)
SELECT t.*, m.model_n, m.provider_n,
       CASE
           WHEN prompt_t IS NULL THEN NULL
           WHEN prompt_t >= cr_t + cw_t THEN prompt_t - cr_t - cw_t
           WHEN prompt_t >= cr_t THEN prompt_t - cr_t
       END AS input_t,
       coalesce(ct IN ('aretrieve_batch', 'retrieve_batch'), false) AS is_batch_n,
       regexp_matches(coalesce(ct, ''),
           '(file|batch|fine_tuning|finetuning|vector_store|assistant|thread|container|mcp|list_models|skill|realtime_client_secret)')
           AND ct NOT IN ('aretrieve_batch', 'retrieve_batch') AS is_management
FROM typed t
LEFT JOIN litellm_models m
       ON m.model_raw IS NOT DISTINCT FROM t.model_raw
      AND m.custom_llm_provider IS NOT DISTINCT FROM t.custom_llm_provider
      AND m.api_base IS NOT DISTINCT FROM t.api_base;

-- step 5: the canonical columns and the checks
CREATE OR REPLACE TEMP TABLE staged AS
SELECT
    source_row,
    nullif_blank(request_id) AS call_id,
    CASE WHEN nullif_blank(request_id) IS NULL THEN record_text END AS identity_content,
    start_ts AS ts,
    coalesce(try_cast(nullif_blank(request_duration_ms) AS DOUBLE),
             CAST(date_diff('microsecond', start_ts, end_ts) AS DOUBLE) / 1000.0) AS latency_ms,
    provider_n AS provider,
    model_n AS model,
    nullif_blank(model_group) AS request_model,
    CASE
        WHEN is_error_log THEN 'chat'
        WHEN ct IS NULL OR ct IN ('acompletion', 'completion', 'anthropic_messages', 'aresponses', 'responses',
                                  'agenerate_content', 'generate_content', 'agenerate_content_stream',
                                  'generate_content_stream', 'chat') THEN 'chat'
        WHEN ct LIKE '%embedding%' THEN 'embeddings'
        WHEN ct LIKE '%text_completion%' THEN 'text_completion'
        WHEN ct LIKE '%image_generation%' OR ct LIKE '%image_edit%' OR ct LIKE '%image_variation%'
            THEN 'image_generation'
        WHEN ct LIKE '%transcription%' THEN 'transcription'
        WHEN ct LIKE '%speech%' THEN 'speech'
        WHEN ct LIKE '%rerank%' THEN 'rerank'
        WHEN ct LIKE '%moderation%' THEN 'moderation'
        WHEN is_batch_n THEN 'batch'
        ELSE ct
    END AS operation,
    CASE WHEN is_batch_n THEN 'batch' ELSE 'standard' END AS service_tier,
    is_batch_n AS is_batch,
    CASE WHEN is_error_log THEN 0 ELSE input_t END AS input_tokens,
    CASE WHEN is_error_log THEN 0 ELSE cr_t END AS cache_read_tokens,
    CASE WHEN is_error_log THEN 0 ELSE cw_t - least(cw1h_t, cw_t) END AS cache_write_5m_tokens,
    CASE WHEN is_error_log THEN 0 ELSE least(cw1h_t, cw_t) END AS cache_write_1h_tokens,
    CASE WHEN is_error_log THEN 0 ELSE completion_t END AS output_tokens,
    CASE WHEN is_error_log THEN 0 ELSE reasoning_t END AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(nullif_blank(exception_type), nullif_blank(m_error_class), 'error') END
        AS error_type,
    CASE WHEN is_error THEN coalesce(try_cast(try_cast(trim(status_code) AS DOUBLE) AS INTEGER),
                                     try_cast(try_cast(trim(m_error_code) AS DOUBLE) AS INTEGER))
    END AS http_status,
    finish_reason_n AS finish_reason,
    parse_tokens(max_tokens_raw) AS max_tokens,
    nullif_blank(coalesce(tag_task, slm_task, slm_task2, slm_task3, nullif_blank(session_id))) AS task_id,
    nullif_blank(session_id) AS session_id,
    nullif_blank(session_id) AS trace_id,
    nullif_blank(coalesce(tag_feature, slm_feature, first_plain_tag)) AS feature,
    nullif_blank(coalesce(tag_team, slm_team, nullif_blank(m_team_alias), nullif_blank(team_id),
                          nullif_blank(m_team_id))) AS team,
    nullif_blank(coalesce(tag_customer, slm_customer, slm_customer2, nullif_blank(end_user),
                          nullif_blank(m_end_user_id))) AS customer,
    nullif_blank(coalesce(nullif_blank(end_user), nullif_blank(m_end_user_id))) AS user_id,
    nullif_blank(coalesce(tag_env, slm_env, slm_env2)) AS environment,
    tags_n AS tags,
    prompt_hash_n AS prompt_hash,
    prefix_hash_n AS prefix_hash,
    prefix_text_n AS prefix_text,
    query_text_n AS query_text,
    CASE WHEN is_error_log THEN NULL ELSE spend_d END AS reported_cost_usd,
    CASE
        WHEN doc_problem IS NOT NULL THEN doc_problem
        WHEN NOT is_error_log AND metadata_bad
            THEN 'metadata is not valid JSON, so its cache usage (additional_usage_values) cannot be read: '
                 || quoted_value(metadata_head)
        WHEN NOT is_error_log AND text_blank(call_type) THEN 'no call_type (not a LiteLLM_SpendLogs row)'
        -- a time outside 2000-01-01 … a year from now (9999-12-31, an epoch 0) is damage, never a period
        WHEN start_ts IS NULL AND ts_window_problem('startTime', start_time) IS NOT NULL
            THEN ts_window_problem('startTime', start_time)
        WHEN NOT is_error_log AND NOT text_blank(spend_s) AND spend_d IS NULL
            THEN 'spend is not a number: ' || quoted_value(spend)
        WHEN is_bad_number(prompt_tokens) THEN 'prompt_tokens is not a number: ' || quoted_value(prompt_tokens)
        WHEN is_bad_number(completion_tokens)
            THEN 'completion_tokens is not a number: ' || quoted_value(completion_tokens)
        -- NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
        WHEN count_problem IS NOT NULL THEN count_problem
        WHEN NOT is_error_log AND prompt_t IS NOT NULL AND cr_t > prompt_t
            THEN 'cache read tokens (' || cr_t || ') exceed prompt_tokens (' || prompt_t
                 || '), which must include them'
        WHEN NOT is_error_log AND tags_bad THEN 'request_tags is not valid JSON: ' || quoted_value(tags_head)
    END AS reject_reason,
    CASE
        WHEN doc_problem IS NOT NULL OR is_error_log THEN NULL
        WHEN is_cache_hit
            THEN 'LiteLLM response-cache hit: served from the proxy cache, the provider was not called (not billed)'
        WHEN is_management AND coalesce(spend_d, 0) = 0 AND coalesce(prompt_t, 0) + coalesce(completion_t, 0) = 0
            THEN 'not a model call (call_type ' || call_type || ', no tokens or spend)'
    END AS skip_reason
FROM litellm_typed;
