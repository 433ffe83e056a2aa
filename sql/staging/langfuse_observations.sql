-- requires: charge, count_problem, is_bad_number, langfuse_meta_tags, langfuse_records, money_problem,
--   normalize_provider, normalize_tier, nullif_blank, parse_tokens, parse_ts, request_text, safe_tags,
--   ts_window_problem
-- creates: langfuse_model_provider, langfuse_usage_has, langfuse_usage_kind, langfuse_usage_sum, staged
-- Langfuse observations → canonical calls. Input: langfuse_records (staging/langfuse_records.sql), ingest_ctx.
--
-- Which observations are calls: GENERATION (operation chat) and EMBEDDING (operation embeddings). SPAN,
-- EVENT and the agent types (AGENT, TOOL, CHAIN, RETRIEVER, EVALUATOR, GUARDRAIL) are skipped with a reason.
-- call_id = the observation id; trace_id = traceId; task_id = a task id in the observation's metadata, else
-- the trace id. feature / session / user come from the observation's own metadata, else from its trace when the
-- file holds it (a downloaded trace or GET /traces/{id}: `_trace`, see langfuse_records.sql; a v2 observations
-- page: traceName / sessionId / userId on the observation); else NULL, so the report fills them from the trace
-- (trace_context, loaded from the traces export) by trace_id. The model is `model`, else `providedModelName`
-- (observations API v2).
-- A usageDetails total larger than the tokens read (Gemini thinking that only the total shows) is flagged as
-- hidden tokens (a call_charges row that is not counted in the cost); unknown usage keys are unread usage.
--
-- Tokens. Langfuse stores usageDetails as ADDITIVE usage types (it prices each key and sums them):
--   * OpenAI-style usage is normalised at ingestion (Langfuse server, ingestion/types.ts): `input` =
--     prompt_tokens minus every prompt_tokens_details entry (→ input_cached_tokens, input_audio_tokens),
--     `output` = completion_tokens minus every completion_tokens_details entry (→ output_reasoning_tokens, …);
--   * Anthropic-style keys (cache_read_input_tokens, cache_creation_input_tokens, input_cache_creation_1h …)
--     sit beside Anthropic's own input_tokens, which already excludes them;
--   * OTel GenAI spans are split the same way (input = gen_ai.usage.input_tokens − cache read − cache write).
-- So canonical input = the input-kind keys; cache read / write = the cache keys; output = the output keys PLUS
-- reasoning (Langfuse took reasoning out of `output`); reasoning_tokens = the reasoning keys.
-- Key kinds (free keys, matched on the lower-cased name, first rule wins): total* → total;
-- *cache_read* / *cached* / *cache_hit* → cache read; *cache_creation* / *cache_write* → cache write (1h when
-- the name has "1h", else 5m); *reasoning* / *thought* / *thinking* → reasoning; prompt* → prompt (a raw
-- provider count: OpenAI prompt_tokens, Gemini promptTokenCount — INCLUDES the cache); completion* →
-- completion (raw OpenAI completion_tokens, INCLUDES reasoning); *input* → input; *output* / *candidates* →
-- output (Gemini candidatesTokenCount excludes thoughts); anything else → a tag, not tokens.
-- Decided per the keys present: raw prompt* / completion* counts (kept as sent when Langfuse could not
-- normalise them) include the cache / reasoning keys beside them (tag langfuse.usage_convention =
-- raw_inclusive). An ingested `total` that equals the sum WITHOUT the cache (or reasoning) keys shows a
-- producer that put the inclusive count in `input` (`output`): those keys are then taken out of it (tag
-- langfuse.usage_convention = input_includes_cache | output_includes_reasoning | inclusive). Otherwise —
-- no total, a total equal to the full sum, or one matching nothing — the additive convention holds.
-- Legacy `usage{input, output, total, unit}` is only read when usageDetails has no token keys: Langfuse derives
-- it by summing every key containing "input" / "output" (cache included), so using it beside usageDetails
-- would count cache tokens twice. Alone it is the best there is: all its input is read as uncached input,
-- tagged langfuse.usage_source = legacy_usage. A legacy unit other than TOKENS is skipped (not priced per token).
--
-- Cost: reported_cost_usd = costDetails.total, else the sum of the costDetails entries, else legacy
-- usage.totalCost / calculatedTotalCost / totalCost. inputPrice / outputPrice / totalPrice are unit PRICES,
-- never costs. Langfuse writes 0 when it has no price for the model: a zero cost on a call with tokens is
-- read as unknown (NULL), not free. Text goes straight to DECIMAL(38,18).
-- Status: level ERROR → status error; error_type = the 'code' / 'type' found in statusMessage (OpenAI and
-- Anthropic SDK error texts), else its first line; http_status from "Error code: 429"-style texts.
-- Time: ts = startTime; latency_ms = endTime − startTime (the API's `latency` field changed unit between
-- versions, so it is not read).
-- Provider: metadata provider / ls_provider / gen_ai.provider.name / gen_ai.system, else from the model name
-- (claude → anthropic, gpt / o1… → openai, gemini → google, anthropic.* → aws.bedrock, claude…@date → vertex);
-- a routing prefix such as "openai/" is taken off the model name.
-- Fingerprints: prompt_hash = sha256 of the minified `input`; prefix_hash = sha256 of its system / developer
-- messages and tools. Content itself is never kept.

CREATE OR REPLACE TEMP MACRO langfuse_usage_kind(k) AS (
    CASE
        WHEN regexp_matches(lower(k), '^total') THEN 'total'
        WHEN regexp_matches(lower(k), 'cache_?read|cached|cache_?hit') THEN 'cache_read'
        WHEN regexp_matches(lower(k), 'cache_?(creation|write)') THEN
            CASE WHEN regexp_matches(lower(k), '1h') THEN 'cache_write_1h' ELSE 'cache_write_5m' END
        WHEN regexp_matches(lower(k), 'reasoning|thought|thinking') THEN 'reasoning'
        WHEN regexp_matches(lower(k), '^prompt') THEN 'prompt'
        WHEN regexp_matches(lower(k), '^completion') THEN 'completion'
        WHEN regexp_matches(lower(k), 'input') THEN 'input'
        WHEN regexp_matches(lower(k), 'output|candidates') THEN 'output'
        ELSE 'other'
    END
);

CREATE OR REPLACE TEMP MACRO langfuse_usage_sum(entries, wanted) AS (
    coalesce(list_sum(list_transform(list_filter(entries, lambda e: langfuse_usage_kind(e.key) = wanted),
                                     lambda e: parse_tokens(e.value))), 0)
);

CREATE OR REPLACE TEMP MACRO langfuse_usage_has(entries, wanted) AS (
    coalesce(len(list_filter(entries, lambda e: langfuse_usage_kind(e.key) = wanted)) > 0, false)
);

CREATE OR REPLACE TEMP MACRO langfuse_model_provider(m) AS (
    CASE
        WHEN m IS NULL THEN NULL
        WHEN regexp_matches(lower(m), '^(bedrock/)?([a-z]{2,6}\.)?anthropic\.') THEN 'aws.bedrock'
        WHEN regexp_matches(lower(m), '^(vertex_ai/)?claude[^@]*@') THEN 'gcp.vertex_ai'
        WHEN regexp_matches(lower(m), '^(anthropic/)?claude') THEN 'anthropic'
        WHEN regexp_matches(lower(m), '^(openai/)?(gpt|chatgpt|o[1-9]|text-embedding|davinci|babbage|codex|computer-use|omni-moderation)')
            THEN 'openai'
        WHEN regexp_matches(lower(m), '^(google/|gemini/|models/)?gemini') THEN 'google'
        WHEN regexp_matches(lower(m), '^(mistral/|mistralai/)?(mistral|mixtral|codestral|ministral|pixtral|magistral|devstral)')
            THEN 'mistral'
        WHEN regexp_matches(lower(m), '^(deepseek/)?deepseek') THEN 'deepseek'
        WHEN regexp_matches(lower(m), '^(xai/|x-ai/)?grok') THEN 'x_ai'
    END
);

CREATE OR REPLACE TEMP TABLE staged AS
WITH obs AS (
    SELECT r.source_row, r.doc, r.kind,
           CASE WHEN r.kind = 'observations' THEN json_transform(r.doc, '{"id":"VARCHAR","traceId":"VARCHAR",
               "type":"VARCHAR","name":"VARCHAR","startTime":"VARCHAR","endTime":"VARCHAR","model":"VARCHAR",
               "modelParameters":"JSON","input":"JSON","metadata":"JSON","level":"VARCHAR","statusMessage":"VARCHAR",
               "promptName":"VARCHAR","promptVersion":"VARCHAR","usageDetails":"JSON","costDetails":"JSON",
               "usage":"JSON","environment":"VARCHAR","calculatedTotalCost":"VARCHAR","totalCost":"VARCHAR",
               "promptTokens":"VARCHAR","completionTokens":"VARCHAR","inputUsage":"VARCHAR","outputUsage":"VARCHAR",
               "providedModelName":"VARCHAR","traceName":"VARCHAR","sessionId":"VARCHAR","userId":"VARCHAR",
               "_trace":{"name":"VARCHAR","sessionId":"VARCHAR","userId":"VARCHAR","environment":"VARCHAR",
                         "metadata":"JSON"}}')
           END AS o
    FROM langfuse_records r
),
meta_docs AS (
    -- OTel-ingested observations keep their metadata as a JSON string: read it as the object it holds
    SELECT * REPLACE (CASE WHEN json_type(o.metadata) = 'VARCHAR' AND json_valid(o.metadata->>'$')
                                AND json_type(json(o.metadata->>'$')) = 'OBJECT'
                           THEN struct_update(o, metadata := json(o.metadata->>'$')) ELSE o END AS o)
    FROM obs
),
parsed AS (
    SELECT *,
           CASE WHEN json_type(o.usageDetails) = 'OBJECT' THEN list_filter(
               map_entries(json_transform(o.usageDetails, '"MAP(VARCHAR, VARCHAR)"')), lambda e: e.value IS NOT NULL)
           END AS ud,
           CASE WHEN json_type(o.costDetails) = 'OBJECT' THEN list_filter(
               map_entries(json_transform(o.costDetails, '"MAP(VARCHAR, VARCHAR)"')), lambda e: e.value IS NOT NULL)
           END AS cd,
           CASE WHEN json_type(o.usage) = 'OBJECT' THEN json_transform(o.usage, '{"input":"VARCHAR","output":"VARCHAR",
               "total":"VARCHAR","unit":"VARCHAR","totalCost":"VARCHAR"}') END AS lu,
           CASE WHEN json_type(o.modelParameters) = 'OBJECT' THEN json_transform(o.modelParameters,
               '{"max_tokens":"VARCHAR","max_completion_tokens":"VARCHAR","max_output_tokens":"VARCHAR",
                 "maxTokens":"VARCHAR","max_tokens_to_sample":"VARCHAR","service_tier":"VARCHAR"}') END AS mp,
           CASE WHEN json_type(o.metadata) = 'OBJECT' THEN json_transform(o.metadata, '{"feature":"VARCHAR",
               "costlens.feature":"VARCHAR","app.feature":"VARCHAR","use_case":"VARCHAR","task_id":"VARCHAR",
               "costlens.task_id":"VARCHAR","task.id":"VARCHAR","session_id":"VARCHAR","sessionId":"VARCHAR",
               "langfuse_session_id":"VARCHAR","conversation_id":"VARCHAR","gen_ai.conversation.id":"VARCHAR",
               "user_id":"VARCHAR","userId":"VARCHAR","langfuse_user_id":"VARCHAR","team":"VARCHAR",
               "customer":"VARCHAR","customer_id":"VARCHAR","provider":"VARCHAR","ls_provider":"VARCHAR",
               "gen_ai.provider.name":"VARCHAR","gen_ai.system":"VARCHAR","finish_reason":"VARCHAR",
               "stop_reason":"VARCHAR","service_tier":"VARCHAR"}') END AS meta,
           -- a reasoning count only the span attributes carry (inside output: informational only)
           parse_tokens(coalesce(o.metadata->>'$.attributes."gen_ai.usage.details.thoughts_tokens"',
                                 o.metadata->>'$.attributes."gen_ai.usage.details.reasoning_tokens"',
                                 o.metadata->>'$.attributes."gen_ai.usage.reasoning.output_tokens"')) AS attr_reasoning,
           upper(o.type) AS obs_type,
           upper(o.level) = 'ERROR' AS is_error,
           nullif_blank(coalesce(o.model, o.providedModelName)) AS model_raw,
           CASE WHEN json_type(o._trace.metadata) = 'OBJECT' THEN json_transform(o._trace.metadata,
               '{"feature":"VARCHAR","costlens.feature":"VARCHAR","app.feature":"VARCHAR","use_case":"VARCHAR",
                 "team":"VARCHAR","customer":"VARCHAR","customer_id":"VARCHAR","task_id":"VARCHAR",
                 "costlens.task_id":"VARCHAR"}') END AS tmeta
    FROM meta_docs
),
sums AS (
    SELECT *,
           langfuse_usage_sum(ud, 'input') AS u_in,
           langfuse_usage_sum(ud, 'prompt') AS u_prompt,
           langfuse_usage_sum(ud, 'cache_read') AS u_cr,
           langfuse_usage_sum(ud, 'cache_write_5m') AS u_cw5,
           langfuse_usage_sum(ud, 'cache_write_1h') AS u_cw1,
           langfuse_usage_sum(ud, 'output') AS u_out,
           langfuse_usage_sum(ud, 'completion') AS u_completion,
           langfuse_usage_sum(ud, 'reasoning') AS u_rs,
           parse_tokens(list_filter(ud, lambda e: langfuse_usage_kind(e.key) = 'total')[1].value) AS u_total,
           langfuse_usage_has(ud, 'prompt') AS has_prompt,
           langfuse_usage_has(ud, 'completion') AS has_completion,
           coalesce(len(list_filter(ud, lambda e: langfuse_usage_kind(e.key) NOT IN ('total', 'other'))) > 0, false)
               AS has_details,
           -- NaN, Infinity, 1e19 or a negative count is rejected by name, never read as 0
           list_filter(ud, lambda e: count_problem('', e.value) IS NOT NULL)[1] AS bad_usage,
           list_filter(ud, lambda e: langfuse_usage_kind(e.key) = 'other') AS usage_other,
           list_filter(cd, lambda e: money_problem('', e.value) IS NOT NULL)[1] AS bad_cost,
           try_cast(list_filter(cd, lambda e: lower(e.key) = 'total')[1].value AS DECIMAL(38,18)) AS cost_total,
           list_sum(list_transform(list_filter(cd, lambda e: lower(e.key) <> 'total'),
                                   lambda e: try_cast(e.value AS DECIMAL(38,18)))) AS cost_parts
    FROM parsed
),
convention AS (
    SELECT *,
           u_cr + u_cw5 + u_cw1 AS u_cache,
           CASE
               WHEN NOT has_details THEN NULL
               WHEN has_prompt OR has_completion THEN 'raw_inclusive'
               WHEN u_total IS NULL OR u_total = u_in + u_cr + u_cw5 + u_cw1 + u_out + u_rs THEN 'additive'
               WHEN u_cr + u_cw5 + u_cw1 > 0 AND u_in >= u_cr + u_cw5 + u_cw1 AND u_total = u_in + u_out + u_rs
                   THEN 'input_includes_cache'
               WHEN u_rs > 0 AND u_out >= u_rs AND u_total = u_in + u_cr + u_cw5 + u_cw1 + u_out
                   THEN 'output_includes_reasoning'
               WHEN u_cr + u_cw5 + u_cw1 > 0 AND u_in >= u_cr + u_cw5 + u_cw1 AND u_rs > 0 AND u_out >= u_rs
                    AND u_total = u_in + u_out
                   THEN 'inclusive'
               ELSE 'additive'
           END AS usage_convention,
           NOT has_details AND (lu.input IS NOT NULL OR lu.output IS NOT NULL OR o.inputUsage IS NOT NULL
                                OR o.outputUsage IS NOT NULL OR o.promptTokens IS NOT NULL
                                OR o.completionTokens IS NOT NULL) AS use_legacy
    FROM sums
),
tokens AS (
    SELECT *,
           CASE
               WHEN has_details THEN u_in + u_prompt
                   - CASE WHEN has_prompt OR usage_convention IN ('input_includes_cache', 'inclusive') THEN u_cache ELSE 0 END
               WHEN use_legacy THEN parse_tokens(coalesce(lu.input, o.inputUsage, o.promptTokens))
           END AS in_t,
           CASE
               WHEN has_details THEN u_out + u_completion
                   + CASE WHEN has_completion OR usage_convention IN ('output_includes_reasoning', 'inclusive') THEN 0
                          ELSE u_rs END
               WHEN use_legacy THEN parse_tokens(coalesce(lu.output, o.outputUsage, o.completionTokens))
           END AS out_t,
           CASE WHEN use_legacy THEN coalesce(lu.input, o.inputUsage, o.promptTokens) END AS legacy_in_raw,
           CASE WHEN use_legacy THEN coalesce(lu.output, o.outputUsage, o.completionTokens) END AS legacy_out_raw,
           regexp_replace(model_raw, '^(openai|anthropic|google|gemini|mistral|mistralai|deepseek|xai|x-ai|models)/', '')
               AS model_n,
           CASE json_type(o.input) WHEN 'ARRAY' THEN o.input WHEN 'OBJECT' THEN o.input->'$.messages' END AS msgs
    FROM convention
),
described AS (
    SELECT *,
           coalesce(in_t, 0) + u_cr + u_cw5 + u_cw1 + coalesce(out_t, 0) AS all_tokens,
           CASE WHEN json_type(msgs) = 'ARRAY' THEN list_filter(CAST(json_extract(msgs, '$[*]') AS JSON[]),
               lambda m: json_type(m) = 'OBJECT' AND lower(m->>'$.role') IN ('system', 'developer')) END AS system_msgs,
           CASE WHEN json_type(o.input) = 'OBJECT' THEN o.input->'$.system' END AS system_field,
           CASE WHEN json_type(o.input) = 'OBJECT' THEN o.input->'$.tools' END AS tools_field,
           regexp_extract_all(o.statusMessage, '[''"]code[''"]\s*:\s*[''"]([A-Za-z0-9_.\-]+)[''"]', 1) AS msg_codes,
           list_filter(regexp_extract_all(o.statusMessage, '[''"]type[''"]\s*:\s*[''"]([A-Za-z0-9_.\-]+)[''"]', 1),
                       lambda x: x <> 'error') AS msg_types
    FROM tokens
),
checked AS (
    SELECT *,
           CASE
               WHEN doc IS NULL THEN 'not valid JSON'
               WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
               WHEN kind IS NULL
                   THEN 'not a Langfuse observation (expected id, traceId, type and startTime)'
               WHEN kind <> 'observations'
                   THEN 'a Langfuse ' || rtrim(kind, 's') || ' record, not an observation (ingest each export kind as its own file)'
               WHEN nullif_blank(o.id) IS NULL THEN 'observation has no id'
               WHEN obs_type NOT IN ('GENERATION', 'EMBEDDING') THEN NULL
               WHEN bad_usage.key IS NOT NULL AND is_bad_number(bad_usage.value)
                   THEN 'usageDetails.' || bad_usage.key || ' is not a token count'
               WHEN bad_usage.key IS NOT NULL THEN count_problem('usageDetails.' || bad_usage.key, bad_usage.value)
               WHEN bad_cost.key IS NOT NULL AND is_bad_number(bad_cost.value)
                   THEN 'costDetails.' || bad_cost.key || ' is not a number'
               WHEN bad_cost.key IS NOT NULL THEN money_problem('costDetails.' || bad_cost.key, bad_cost.value)
               WHEN is_bad_number(legacy_in_raw) THEN 'usage.input is not a number'
               WHEN is_bad_number(legacy_out_raw) THEN 'usage.output is not a number'
               WHEN count_problem('legacy', legacy_in_raw) IS NOT NULL
                   THEN count_problem(CASE WHEN lu.input IS NOT NULL THEN 'usage.input'
                                           WHEN o.inputUsage IS NOT NULL THEN 'inputUsage' ELSE 'promptTokens' END,
                                      legacy_in_raw)
               WHEN count_problem('legacy', legacy_out_raw) IS NOT NULL
                   THEN count_problem(CASE WHEN lu.output IS NOT NULL THEN 'usage.output'
                                           WHEN o.outputUsage IS NOT NULL THEN 'outputUsage' ELSE 'completionTokens' END,
                                      legacy_out_raw)
               -- the legacy costs are read when costDetails has none: NaN there is not "no cost"
               WHEN coalesce(cost_total, cost_parts) IS NULL
                    AND coalesce(money_problem('usage.totalCost', lu.totalCost),
                                 money_problem('calculatedTotalCost', o.calculatedTotalCost),
                                 money_problem('totalCost', o.totalCost)) IS NOT NULL
                   THEN coalesce(money_problem('usage.totalCost', lu.totalCost),
                                 money_problem('calculatedTotalCost', o.calculatedTotalCost),
                                 money_problem('totalCost', o.totalCost))
               WHEN has_prompt AND in_t < 0
                   THEN 'usageDetails cache tokens exceed the prompt count, which must include them'
               -- a time outside 2000-01-01 … a year from now (9999-12-31, an epoch 0) is damage, never a period
               WHEN ts_window_problem('startTime', o.startTime) IS NOT NULL THEN ts_window_problem('startTime', o.startTime)
               WHEN nullif_blank(o.startTime) IS NOT NULL AND parse_ts(o.startTime) IS NULL
                   THEN 'startTime is not a timestamp: ''' || left(o.startTime, 40) || ''''
           END AS reject_n,
           CASE
               WHEN kind IS DISTINCT FROM 'observations' OR nullif_blank(o.id) IS NULL THEN NULL
               WHEN obs_type NOT IN ('GENERATION', 'EMBEDDING')
                   THEN 'not a model call (' || obs_type || ' observation)'
               WHEN use_legacy AND nullif_blank(lu.unit) IS NOT NULL AND upper(lu.unit) <> 'TOKENS'
                   THEN 'usage is counted in ' || upper(lu.unit) || ', not tokens: cannot be priced per token'
               WHEN model_n IS NULL AND all_tokens = 0 AND coalesce(cost_total, cost_parts) IS NULL AND NOT is_error
                   THEN 'generation without model or usage: nothing was billed'
           END AS skip_n
    FROM described
)
SELECT
    source_row,
    nullif_blank(o.id) AS call_id,
    parse_ts(o.startTime) AS ts,
    CASE WHEN parse_ts(o.endTime) >= parse_ts(o.startTime)
         THEN CAST(date_diff('microsecond', parse_ts(o.startTime), parse_ts(o.endTime)) AS DOUBLE) / 1000.0 END
        AS latency_ms,
    coalesce(normalize_provider(coalesce(meta.provider, meta.ls_provider, meta."gen_ai.provider.name",
                                         meta."gen_ai.system")),
             langfuse_model_provider(model_raw)) AS provider,
    model_n AS model,
    CASE obs_type WHEN 'EMBEDDING' THEN 'embeddings' ELSE 'chat' END AS operation,
    normalize_tier(coalesce(mp.service_tier, meta.service_tier)) AS service_tier,
    coalesce(lower(coalesce(mp.service_tier, meta.service_tier)) = 'batch', false) AS is_batch,
    in_t AS input_tokens,
    u_cr AS cache_read_tokens,
    u_cw5 AS cache_write_5m_tokens,
    u_cw1 AS cache_write_1h_tokens,
    out_t AS output_tokens,
    CASE WHEN u_rs > 0 THEN u_rs ELSE least(coalesce(attr_reasoning, 0), coalesce(out_t, 0)) END AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(nullif(msg_codes[1], 'None'), msg_types[-1],
                                     left(nullif_blank(split_part(trim(o.statusMessage), chr(10), 1)), 200), 'error')
    END AS error_type,
    CASE WHEN is_error THEN try_cast(regexp_extract(o.statusMessage,
        '(?i)(?:error code|status code|status|http)\s*[:=]?\s*([1-5][0-9][0-9])\b', 1) AS INTEGER) END AS http_status,
    nullif_blank(coalesce(meta.finish_reason, meta.stop_reason)) AS finish_reason,
    parse_tokens(coalesce(mp.max_tokens, mp.max_completion_tokens, mp.max_output_tokens, mp.maxTokens,
                          mp.max_tokens_to_sample)) AS max_tokens,
    coalesce(nullif_blank(coalesce(meta."costlens.task_id", meta.task_id, meta."task.id", tmeta."costlens.task_id",
                                   tmeta.task_id)), nullif_blank(o.traceId))
        AS task_id,
    nullif_blank(coalesce(meta.session_id, meta.sessionId, meta.langfuse_session_id, meta.conversation_id,
                          meta."gen_ai.conversation.id", o._trace.sessionId, o.sessionId)) AS session_id,
    nullif_blank(o.traceId) AS trace_id,
    nullif_blank(coalesce(meta."costlens.feature", meta.feature, meta."app.feature", meta.use_case,
                          tmeta."costlens.feature", tmeta.feature, tmeta."app.feature", tmeta.use_case,
                          o._trace.name, o.traceName)) AS feature,
    nullif_blank(coalesce(meta.team, tmeta.team)) AS team,
    nullif_blank(coalesce(meta.customer, meta.customer_id, tmeta.customer, tmeta.customer_id)) AS customer,
    nullif_blank(coalesce(meta.user_id, meta.userId, meta.langfuse_user_id, o._trace.userId, o.userId)) AS user_id,
    nullif_blank(coalesce(o.environment, o._trace.environment)) AS environment,
    -- secrets redacted, prompt text dropped (safe_tags, sql/schema/002_macros.sql)
    safe_tags(map_concat(
        coalesce(langfuse_meta_tags(o.metadata), MAP {}),
        map_from_entries(list_filter([
            {'key': 'langfuse.name', 'value': nullif_blank(o.name)},
            {'key': 'langfuse.prompt_name', 'value': nullif_blank(o.promptName)},
            {'key': 'langfuse.prompt_version', 'value': nullif_blank(o.promptVersion)},
            {'key': 'langfuse.usage_source', 'value': CASE WHEN use_legacy THEN 'legacy_usage' END},
            {'key': 'langfuse.usage_convention',
             'value': CASE WHEN usage_convention <> 'additive' THEN usage_convention END}],
            lambda kv: kv.value IS NOT NULL)),
        coalesce(map_from_entries(list_transform(usage_other,
            lambda e: {'key': 'langfuse.usage.' || e.key, 'value': e.value})), MAP {}))) AS tags,
    CASE WHEN o.input IS NOT NULL AND json_type(o.input) <> 'NULL' THEN sha256(CAST(json(o.input) AS VARCHAR)) END
        AS prompt_hash,
    CASE WHEN len(system_msgs) > 0 OR system_field IS NOT NULL OR tools_field IS NOT NULL
         THEN sha256(concat_ws(chr(31), coalesce(CAST(json(system_field) AS VARCHAR), ''),
                               coalesce(CAST(system_msgs AS VARCHAR), ''), coalesce(CAST(json(tools_field) AS VARCHAR), '')))
    END AS prefix_hash,
    -- the same prefix as text, for the runner to count its tokens once per distinct prefix (never stored)
    CASE WHEN len(system_msgs) > 0 OR system_field IS NOT NULL OR tools_field IS NOT NULL
         THEN (concat_ws(chr(31), coalesce(CAST(json(system_field) AS VARCHAR), ''),
                               coalesce(CAST(system_msgs AS VARCHAR), ''), coalesce(CAST(json(tools_field) AS VARCHAR), '')))
    END AS prefix_text,
    -- the request's own messages (no system ones), for its semantic-cache sketch (never stored)
    CASE WHEN o.input IS NOT NULL AND json_type(o.input) <> 'NULL' THEN request_text(CAST(json(o.input) AS VARCHAR)) END
        AS query_text,
    CASE WHEN coalesce(cost_total, cost_parts, try_cast(lu.totalCost AS DECIMAL(38,18)),
                       try_cast(o.calculatedTotalCost AS DECIMAL(38,18)), try_cast(o.totalCost AS DECIMAL(38,18))) = 0
              AND all_tokens > 0 THEN NULL
         ELSE coalesce(cost_total, cost_parts, try_cast(lu.totalCost AS DECIMAL(38,18)),
                       try_cast(o.calculatedTotalCost AS DECIMAL(38,18)), try_cast(o.totalCost AS DECIMAL(38,18)))
    END AS reported_cost_usd,
    list_filter([charge('hidden_tokens',
                        CASE WHEN has_details AND u_total IS NOT NULL
                             THEN greatest(u_total - coalesce(in_t, 0) - u_cr - u_cw5 - u_cw1 - coalesce(out_t, 0), 0)
                             ELSE 0 END,
                        'token', NULL, 'usageDetails.total', false)], lambda c: c.quantity > 0) AS charges,
    list_transform(list_filter(usage_other, lambda e: try_cast(e.value AS DECIMAL(38, 6)) <> 0),
                   lambda e: {'field': 'usageDetails.' || e.key, 'quantity': try_cast(e.value AS DECIMAL(38, 6))})
        AS unpriced_fields,
    reject_n AS reject_reason,
    CASE WHEN reject_n IS NULL THEN skip_n END AS skip_reason
FROM checked;
