-- requires: charge, count_problem, model_family, normalize_provider, normalize_tier, nullif_blank, otel_span_rows,
--   parse_bool, parse_tokens, parse_ts, request_text, ts_window_problem
-- creates: otel_ancestors, otel_duplicates, otel_facts, otel_inherited, otel_spans, staged
-- OTel spans → canonical calls. Input: otel_span_rows (staging/otel_span_rows_flat.sql or _otlp.sql).
-- Placeholders filled by costlens/ingest/otel.py: {attribute_spec}, {resource_spec} (the attributes read),
-- {known_attributes} (the names read: any other name with "token" or "usage" in it is an unread usage field),
-- {file_key_column} ("file_key," for a batch of files, else nothing).
--
-- 1. Conventions. Each canonical figure is the first attribute present, in this order (README "Producers"):
--    operation  gen_ai.operation.name; OpenInference openinference.span.kind (LLM → chat, EMBEDDING →
--               embeddings); Traceloop's legacy llm.request.type
--    provider   gen_ai.provider.name, gen_ai.system, llm.provider, llm.system; vllm for vLLM's own spans (scope vllm.*)
--    model      gen_ai.response.model, llm.response.model_name, llm.response.model, llm.model_name; else the
--               request model: gen_ai.request.model, llm.request.model_name, llm.request.model, the model in
--               llm.invocation_parameters
--    input      gen_ai.usage.input_tokens, gen_ai.usage.prompt_tokens, llm.token_count.prompt,
--               llm.usage.prompt_tokens — INCLUDING cache reads and writes (the OTel convention, which every
--               library observed follows; an Anthropic span whose input is smaller than its cache tokens was
--               written by an older instrumentation that copied Anthropic's exclusive count)
--    output     gen_ai.usage.output_tokens, gen_ai.usage.completion_tokens, llm.token_count.completion,
--               llm.usage.completion_tokens (reasoning inside)
--    cache read gen_ai.usage.cache_read.input_tokens, gen_ai.usage.cache_read_input_tokens,
--               llm.token_count.prompt_details.cache_read, gen_ai.usage.details.cache_read_tokens,
--               gen_ai.usage.details.cache_read_input_tokens, gen_ai.usage.cached_tokens (SGLang)
--    cache write gen_ai.usage.cache_write.input_tokens (current name), gen_ai.usage.cache_creation.input_tokens,
--               gen_ai.usage.cache_creation_input_tokens, llm.token_count.prompt_details.cache_write,
--               gen_ai.usage.details.cache_write_tokens, gen_ai.usage.details.cache_creation_input_tokens
--    1h / 5m    anthropic.usage.cache_creation.ephemeral_{1h,5m}_input_tokens (Anthropic SDK),
--               gen_ai.usage.details.ephemeral_{1h,5m}_input_tokens (pydantic-ai),
--               gen_ai.usage.cache_creation.ephemeral_1h_input_tokens, costlens.cache_creation_1h.input_tokens,
--               cache_creation.ephemeral_{1h,5m}_input_tokens inside gen_ai.usage.raw (logfire)
--    reasoning  gen_ai.usage.reasoning.output_tokens, gen_ai.usage.reasoning_tokens (Traceloop),
--               gen_ai.usage.details.{reasoning,thinking,thoughts}_tokens, llm.token_count.completion_details.reasoning,
--               the reasoning / thinking count inside gen_ai.usage.raw
--    web search gen_ai.usage.details.web_search_requests, server_tool_use.web_search_requests in gen_ai.usage.raw
--               (logfire) or in OpenInference's metadata attribute
--    response id gen_ai.response.id; OpenInference has none as an attribute: the "id" of its output.value JSON
--    own cost   costlens.cost_usd, operation.cost (logfire, pydantic-ai) → reported_cost_usd
-- 2. Attribution is inherited. feature, task, team, customer, user, session and environment set on the span win;
--    else the nearest ancestor span of the same trace in the file that sets them (an app's `handle_ticket`
--    span with costlens.feature / costlens.task_id); then, for the feature, gen_ai.agent.name (the span's, else
--    an ancestor's), then the resource's costlens.feature and service.name; the task falls back to the trace id.
-- 3. One request is one call however many spans carry it:
--    * spans with the same response id are one request: the one with the most usage detail wins (the
--      Anthropic SDK's span, with the 1h cache split), then the one nearest the provider call (the deepest);
--    * a model span with a model-call descendant of the same model (a framework's span over the SDK's, or
--      one failed request traced twice) is that descendant's request: the descendant wins;
--    * a model span without usage and without an error (logfire's streamed request) whose usage another span of
--      the same trace, model and time carries (logfire's "streaming response … took" log span) is that span's
--      request.
--    The losers are duplicates, each with the reason and the span that was kept (costlens quarantine).
-- 4. Never silent: a span with model or token attributes is never skipped without saying why; usage-like
--    attributes no convention reads are unread usage fields (coverage); a model span with no usage and no error
--    is rejected (its cost is unknown, not $0).

-- Each span parsed once: its attributes into the typed struct `a`; the usage-like attributes no convention reads,
-- with their values, kept apart (the attribute text itself is not kept).
CREATE OR REPLACE TEMP TABLE otel_spans AS
SELECT r.* EXCLUDE (attrs, res),
       -- spans are linked only within their file (file_key: the file's content hash in a batch; '' for one file)
       r.file_key || ':' || r.trace_id || ':' || r.span_id AS span_key,
       r.file_key || ':' || r.trace_id || ':' || r.parent_id AS parent_key,
       json_transform(r.attrs, {attribute_spec}) AS a,
       json_transform(r.res, {resource_spec}) AS ra,
       list_transform(
           list_filter(json_keys(r.attrs), lambda k: (contains(lower(k), 'token') OR contains(lower(k), 'usage'))
                       AND NOT list_contains({known_attributes}, k)
                       -- vLLM's and SGLang's latencies (time_to_first_token: seconds, not a count)
                       AND NOT starts_with(k, 'gen_ai.latency.')),
           lambda k: {'field': k, 'value': json_extract_string(r.attrs, '$."' || k || '"')}) AS unread,
       coalesce(json_extract_string(r.attrs, '$."gen_ai.usage.total_tokens"'),
                json_extract_string(r.attrs, '$."llm.token_count.total"')) AS total_raw
FROM otel_span_rows r;

CREATE OR REPLACE TEMP TABLE otel_facts AS
WITH base AS (
    SELECT
        s.rowid AS span_no,
        s.source_row, s.file_key, s.trace_id, s.span_id, s.parent_id, s.span_key, s.parent_key, s.name, s.kind, s.scope_name,
        s.start_raw, s.end_raw, s.status_code, s.status_message, s.reject_reason, s.unread, s.total_raw, s.a, s.ra,
        CASE WHEN json_valid(s.a."gen_ai.usage.raw") THEN json(s.a."gen_ai.usage.raw") END AS rawu,
        coalesce(nullif_blank(s.a."gen_ai.operation.name"),
                 CASE upper(s.a."openinference.span.kind") WHEN 'LLM' THEN 'chat' WHEN 'EMBEDDING' THEN 'embeddings'
                      ELSE lower(nullif_blank(s.a."openinference.span.kind")) END,
                 nullif_blank(s.a."llm.request.type")) AS operation,
        coalesce(nullif_blank(s.a."gen_ai.provider.name"), nullif_blank(s.a."gen_ai.system"),
                 nullif_blank(s.a."llm.provider"), nullif_blank(s.a."llm.system"),
                 -- vLLM's own request span names no provider: it is the server (tracer vllm.llm_engine)
                 CASE WHEN starts_with(lower(coalesce(s.scope_name, '')), 'vllm') THEN 'vllm' END) AS provider_raw,
        coalesce(nullif_blank(s.a."gen_ai.request.model"), nullif_blank(s.a."llm.request.model_name"),
                 nullif_blank(s.a."llm.request.model"),
                 CASE WHEN json_valid(s.a."llm.invocation_parameters")
                      THEN nullif_blank(json_extract_string(s.a."llm.invocation_parameters", '$.model')) END)
            AS request_model,
        coalesce(nullif_blank(s.a."gen_ai.response.model"), nullif_blank(s.a."llm.response.model_name"),
                 nullif_blank(s.a."llm.response.model"), nullif_blank(s.a."llm.model_name")) AS response_model,
        coalesce(nullif_blank(s.a."gen_ai.response.id"),
                 CASE WHEN s.a."openinference.span.kind" IS NOT NULL AND starts_with(ltrim(s.a."output.value"), '{')
                           AND json_valid(s.a."output.value")
                      THEN nullif_blank(json_extract_string(s.a."output.value", '$.id')) END,
                 -- vLLM's request span: gen_ai.request.id is the external request id, the `id` its
                 -- OpenAI-compatible server answers with (chatcmpl-…): the client's span of the same request
                 -- names it as gen_ai.response.id, so the two producers give one call
                 CASE WHEN starts_with(lower(coalesce(s.scope_name, '')), 'vllm')
                      THEN nullif_blank(s.a."gen_ai.request.id") END) AS response_id
    FROM otel_spans s
),
raw_figures AS (
    SELECT *,
        coalesce(a."gen_ai.usage.input_tokens", a."gen_ai.usage.prompt_tokens", a."llm.token_count.prompt",
                 a."llm.usage.prompt_tokens") AS in_raw,
        coalesce(a."gen_ai.usage.output_tokens", a."gen_ai.usage.completion_tokens", a."llm.token_count.completion",
                 a."llm.usage.completion_tokens") AS out_raw,
        coalesce(a."gen_ai.usage.cache_read.input_tokens", a."gen_ai.usage.cache_read_input_tokens",
                 a."llm.token_count.prompt_details.cache_read", a."gen_ai.usage.details.cache_read_tokens",
                 a."gen_ai.usage.details.cache_read_input_tokens", a."gen_ai.usage.cached_tokens") AS cr_raw,
        coalesce(a."gen_ai.usage.cache_write.input_tokens", a."gen_ai.usage.cache_creation.input_tokens",
                 a."gen_ai.usage.cache_creation_input_tokens", a."llm.token_count.prompt_details.cache_write",
                 a."gen_ai.usage.details.cache_write_tokens", a."gen_ai.usage.details.cache_creation_input_tokens")
            AS cw_raw,
        coalesce(a."anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
                 a."gen_ai.usage.details.ephemeral_1h_input_tokens",
                 a."gen_ai.usage.cache_creation.ephemeral_1h_input_tokens", a."costlens.cache_creation_1h.input_tokens",
                 rawu->>'$.cache_creation.ephemeral_1h_input_tokens') AS cw1_raw,
        coalesce(a."anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
                 a."gen_ai.usage.details.ephemeral_5m_input_tokens",
                 rawu->>'$.cache_creation.ephemeral_5m_input_tokens') AS cw5_raw,
        coalesce(a."gen_ai.usage.reasoning.output_tokens", a."gen_ai.usage.reasoning_tokens",
                 a."gen_ai.usage.details.reasoning_tokens", a."gen_ai.usage.details.thinking_tokens",
                 a."gen_ai.usage.details.thoughts_tokens", a."llm.token_count.completion_details.reasoning",
                 rawu->>'$.completion_tokens_details.reasoning_tokens', rawu->>'$.output_tokens_details.reasoning_tokens',
                 rawu->>'$.output_tokens_details.thinking_tokens') AS rs_raw,
        coalesce(a."gen_ai.usage.details.web_search_requests", rawu->>'$.server_tool_use.web_search_requests',
                 -- OpenInference keeps Anthropic's server tool use in its metadata attribute
                 CASE WHEN a."openinference.span.kind" IS NOT NULL AND json_valid(a.metadata)
                      THEN json_extract_string(a.metadata, '$.server_tool_use.web_search_requests') END) AS web_raw
    FROM base
)
SELECT *,
    normalize_provider(provider_raw) AS provider_n,
    coalesce(response_model, request_model) AS model_n,
    parse_tokens(in_raw) AS in_t,
    parse_tokens(out_raw) AS out_t,
    coalesce(parse_tokens(cr_raw), 0) AS cr_t,
    -- the writes: their total, else the sum of the split
    coalesce(parse_tokens(cw_raw), parse_tokens(cw5_raw) + coalesce(parse_tokens(cw1_raw), 0),
             parse_tokens(cw1_raw), 0) AS cw_t,
    coalesce(parse_tokens(cw1_raw), 0) AS cw1_t,
    coalesce(parse_tokens(rs_raw), 0) AS rs_t,
    coalesce(parse_tokens(web_raw), 0) AS web_t,
    in_raw IS NOT NULL OR out_raw IS NOT NULL AS has_usage,
    coalesce(
        count_problem(CASE WHEN a."gen_ai.usage.input_tokens" IS NOT NULL THEN 'gen_ai.usage.input_tokens'
                           WHEN a."gen_ai.usage.prompt_tokens" IS NOT NULL THEN 'gen_ai.usage.prompt_tokens'
                           WHEN a."llm.token_count.prompt" IS NOT NULL THEN 'llm.token_count.prompt'
                           ELSE 'llm.usage.prompt_tokens' END, in_raw),
        count_problem(CASE WHEN a."gen_ai.usage.output_tokens" IS NOT NULL THEN 'gen_ai.usage.output_tokens'
                           WHEN a."gen_ai.usage.completion_tokens" IS NOT NULL THEN 'gen_ai.usage.completion_tokens'
                           WHEN a."llm.token_count.completion" IS NOT NULL THEN 'llm.token_count.completion'
                           ELSE 'llm.usage.completion_tokens' END, out_raw),
        count_problem(CASE WHEN a."gen_ai.usage.cache_read.input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.cache_read.input_tokens'
                           WHEN a."gen_ai.usage.cache_read_input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.cache_read_input_tokens'
                           WHEN a."llm.token_count.prompt_details.cache_read" IS NOT NULL
                                THEN 'llm.token_count.prompt_details.cache_read'
                           WHEN a."gen_ai.usage.details.cache_read_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.details.cache_read_tokens'
                           WHEN a."gen_ai.usage.details.cache_read_input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.details.cache_read_input_tokens'
                           ELSE 'gen_ai.usage.cached_tokens' END, cr_raw),
        count_problem(CASE WHEN a."gen_ai.usage.cache_write.input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.cache_write.input_tokens'
                           WHEN a."gen_ai.usage.cache_creation.input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.cache_creation.input_tokens'
                           WHEN a."gen_ai.usage.cache_creation_input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.cache_creation_input_tokens'
                           WHEN a."llm.token_count.prompt_details.cache_write" IS NOT NULL
                                THEN 'llm.token_count.prompt_details.cache_write'
                           WHEN a."gen_ai.usage.details.cache_write_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.details.cache_write_tokens'
                           ELSE 'gen_ai.usage.details.cache_creation_input_tokens' END, cw_raw),
        count_problem(CASE WHEN a."anthropic.usage.cache_creation.ephemeral_1h_input_tokens" IS NOT NULL
                                THEN 'anthropic.usage.cache_creation.ephemeral_1h_input_tokens'
                           WHEN a."gen_ai.usage.details.ephemeral_1h_input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.details.ephemeral_1h_input_tokens'
                           WHEN a."gen_ai.usage.cache_creation.ephemeral_1h_input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens'
                           WHEN a."costlens.cache_creation_1h.input_tokens" IS NOT NULL
                                THEN 'costlens.cache_creation_1h.input_tokens'
                           ELSE 'gen_ai.usage.raw cache_creation.ephemeral_1h_input_tokens' END, cw1_raw),
        count_problem(CASE WHEN a."anthropic.usage.cache_creation.ephemeral_5m_input_tokens" IS NOT NULL
                                THEN 'anthropic.usage.cache_creation.ephemeral_5m_input_tokens'
                           WHEN a."gen_ai.usage.details.ephemeral_5m_input_tokens" IS NOT NULL
                                THEN 'gen_ai.usage.details.ephemeral_5m_input_tokens'
                           ELSE 'gen_ai.usage.raw cache_creation.ephemeral_5m_input_tokens' END, cw5_raw),
        count_problem('the reasoning token count (' || CASE
                           WHEN a."gen_ai.usage.reasoning.output_tokens" IS NOT NULL THEN 'gen_ai.usage.reasoning.output_tokens'
                           WHEN a."gen_ai.usage.reasoning_tokens" IS NOT NULL THEN 'gen_ai.usage.reasoning_tokens'
                           WHEN a."llm.token_count.completion_details.reasoning" IS NOT NULL
                                THEN 'llm.token_count.completion_details.reasoning'
                           ELSE 'gen_ai.usage.details reasoning' END || ')', rs_raw),
        count_problem('web search requests', web_raw)) AS count_problem,
    status_code = 'ERROR' OR nullif_blank(a."error.type") IS NOT NULL AS is_error,
    -- how much of a request a span tells: the ranking among spans of one request
    CAST(in_raw IS NOT NULL AS INTEGER) + CAST(out_raw IS NOT NULL AS INTEGER) + CAST(cr_raw IS NOT NULL AS INTEGER)
        + CAST(cw_raw IS NOT NULL AS INTEGER) + 2 * CAST(cw1_raw IS NOT NULL AS INTEGER)
        + CAST(rs_raw IS NOT NULL AS INTEGER) + CAST(web_raw IS NOT NULL AS INTEGER) AS detail_score,
    CASE
        WHEN reject_reason IS NOT NULL THEN NULL
        WHEN lower(coalesce(operation, '')) IN ('execute_tool', 'invoke_agent', 'create_agent', 'agent', 'chain',
                                                'tool', 'retriever', 'reranker', 'guardrail', 'evaluator',
                                                'invoke_workflow', 'workflow', 'task')
            THEN 'not a model call (' || operation || ' span'
                 || CASE WHEN in_raw IS NOT NULL OR out_raw IS NOT NULL
                              OR len(list_filter(unread, lambda u: contains(u.field, 'aggregated_usage'))) > 0
                         THEN '; its usage is the sum of the model calls under it, which are counted' ELSE '' END
                 || ')'
        WHEN coalesce(response_model, request_model) IS NULL AND in_raw IS NULL AND out_raw IS NULL
            THEN 'not a model call (no model or token attributes)'
    END AS not_a_call
FROM raw_figures;

-- The ancestors of every model-call span, nearest first (spans of the same trace in this file).
CREATE OR REPLACE TEMP TABLE otel_ancestors AS
WITH RECURSIVE up(span_key, anc_key, depth) AS (
    SELECT f.span_key, f.parent_key, 1
    FROM otel_facts f
    WHERE f.not_a_call IS NULL AND f.reject_reason IS NULL AND f.parent_id IS NOT NULL
    UNION ALL
    SELECT up.span_key, p.parent_key, up.depth + 1
    FROM up JOIN otel_facts p ON p.span_key = up.anc_key
    WHERE p.parent_id IS NOT NULL AND up.depth < 64
)
SELECT u.span_key, u.anc_key, u.depth
FROM up u
WHERE u.anc_key IN (SELECT span_key FROM otel_facts);

CREATE OR REPLACE TEMP TABLE otel_inherited AS
SELECT
    u.span_key,
    arg_min(coalesce(nullif_blank(p.a."costlens.feature"), nullif_blank(p.a.feature), nullif_blank(p.a."app.feature"),
                     nullif_blank(p.a.use_case)), u.depth)
        FILTER (WHERE coalesce(nullif_blank(p.a."costlens.feature"), nullif_blank(p.a.feature),
                               nullif_blank(p.a."app.feature"), nullif_blank(p.a.use_case)) IS NOT NULL) AS feature,
    arg_min(coalesce(nullif_blank(p.a."costlens.task_id"), nullif_blank(p.a.task_id), nullif_blank(p.a."task.id")), u.depth)
        FILTER (WHERE coalesce(nullif_blank(p.a."costlens.task_id"), nullif_blank(p.a.task_id),
                               nullif_blank(p.a."task.id")) IS NOT NULL) AS task_id,
    arg_min(coalesce(nullif_blank(p.a."costlens.team"), nullif_blank(p.a.team)), u.depth)
        FILTER (WHERE coalesce(nullif_blank(p.a."costlens.team"), nullif_blank(p.a.team)) IS NOT NULL) AS team,
    arg_min(coalesce(nullif_blank(p.a."costlens.customer"), nullif_blank(p.a.customer), nullif_blank(p.a."customer.id")),
            u.depth)
        FILTER (WHERE coalesce(nullif_blank(p.a."costlens.customer"), nullif_blank(p.a.customer),
                               nullif_blank(p.a."customer.id")) IS NOT NULL) AS customer,
    arg_min(coalesce(nullif_blank(p.a."user.id"), nullif_blank(p.a."enduser.id"), nullif_blank(p.a."costlens.user_id")),
            u.depth)
        FILTER (WHERE coalesce(nullif_blank(p.a."user.id"), nullif_blank(p.a."enduser.id"),
                               nullif_blank(p.a."costlens.user_id")) IS NOT NULL) AS user_id,
    arg_min(coalesce(nullif_blank(p.a."gen_ai.conversation.id"), nullif_blank(p.a."session.id")), u.depth)
        FILTER (WHERE coalesce(nullif_blank(p.a."gen_ai.conversation.id"), nullif_blank(p.a."session.id")) IS NOT NULL)
        AS session_id,
    arg_min(coalesce(nullif_blank(p.a."costlens.environment"), nullif_blank(p.a."deployment.environment.name")), u.depth)
        FILTER (WHERE coalesce(nullif_blank(p.a."costlens.environment"),
                               nullif_blank(p.a."deployment.environment.name")) IS NOT NULL) AS environment,
    arg_min(nullif_blank(p.a."gen_ai.agent.name"), u.depth) FILTER (WHERE nullif_blank(p.a."gen_ai.agent.name") IS NOT NULL)
        AS agent_name
FROM otel_ancestors u
JOIN otel_facts p ON p.span_key = u.anc_key
GROUP BY u.span_key;

-- One request, one call: which spans are another span's request (the reasons are the quarantine's).
CREATE OR REPLACE TEMP TABLE otel_duplicates AS
WITH calls AS (
    SELECT f.*, coalesce((SELECT max(depth) FROM otel_ancestors x WHERE x.span_key = f.span_key), 0) AS depth
    FROM otel_facts f
    WHERE f.not_a_call IS NULL AND f.reject_reason IS NULL
),
-- a framework's model span over the SDK's (or one failed request traced twice): the descendant is the call
nested AS (
    SELECT DISTINCT ON (up.span_key) up.span_key, d.span_key AS kept_key,
           'a model span over another span of the same request (' || coalesce(d.name, 'span') || ' '
               || d.span_id || ', nearer the provider call) that was kept' AS reason
    FROM otel_ancestors x
    JOIN calls d ON d.span_key = x.span_key
    JOIN calls up ON up.span_key = x.anc_key
    WHERE (d.model_n IS NULL OR up.model_n IS NULL OR model_family(d.model_n) = model_family(up.model_n)
           OR d.request_model = up.request_model)
      AND (d.has_usage OR NOT up.has_usage OR d.response_id = up.response_id)
    ORDER BY up.span_key, x.depth
),
-- spans that name the same response id: the most detailed, then the deepest, wins
repeated_ids AS (
    SELECT file_key, response_id FROM calls WHERE response_id IS NOT NULL GROUP BY ALL HAVING count(*) > 1
),
by_response AS (
    SELECT span_key, response_id,
           first_value(span_key) OVER w AS kept_key,
           first_value(coalesce(name, 'span') || ' ' || span_id) OVER w AS kept_name,
           first_value(detail_score) OVER w AS kept_score, detail_score
    FROM calls
    WHERE file_key || ':' || response_id IN (SELECT file_key || ':' || response_id FROM repeated_ids)
      AND span_key NOT IN (SELECT span_key FROM nested)
    WINDOW w AS (PARTITION BY file_key, response_id ORDER BY detail_score DESC, depth DESC, kind = 'CLIENT' DESC, span_no)
),
-- a streamed request span without usage and the span of the same trace and model that carries its usage
streamed AS (
    SELECT DISTINCT ON (q.span_key) q.span_key, u.span_key AS kept_key,
           'the request span of a streamed call whose usage is on another span (' || coalesce(u.name, 'span') || ' '
               || u.span_id || '), which was kept' AS reason
    FROM calls q
    JOIN calls u ON u.trace_id = q.trace_id AND u.file_key = q.file_key
        AND u.span_key <> q.span_key AND u.has_usage
        AND coalesce(u.request_model, u.model_n) = coalesce(q.request_model, q.model_n)
        AND parse_ts(u.start_raw) >= parse_ts(q.start_raw)
        AND parse_ts(u.start_raw) <= parse_ts(q.end_raw) + INTERVAL 1 MINUTE
    WHERE NOT q.has_usage AND NOT q.is_error AND q.span_key NOT IN (SELECT span_key FROM nested)
    ORDER BY q.span_key, parse_ts(u.start_raw)
)
SELECT span_key, kept_key, reason FROM nested
UNION ALL
SELECT span_key, kept_key,
       'another span of the same request (gen_ai.response.id ' || response_id || ') was kept: ' || kept_name
           || CASE WHEN kept_score > detail_score THEN ', which carries more usage detail'
                   ELSE ', nearer the provider call' END
FROM by_response WHERE span_key <> kept_key
UNION ALL
SELECT span_key, kept_key, reason FROM streamed;

CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT f.*,
        parse_ts(f.start_raw) AS start_ts,
        parse_ts(f.end_raw) AS end_ts,
        -- an Anthropic span whose input is smaller than its cache tokens copied Anthropic's exclusive count
        coalesce(f.provider_n = 'anthropic' AND f.in_t < f.cr_t + f.cw_t, false) AS input_exclusive,
        i.feature AS inherited_feature, i.task_id AS inherited_task_id, i.team AS inherited_team,
        i.customer AS inherited_customer, i.user_id AS inherited_user_id, i.session_id AS inherited_session_id,
        i.environment AS inherited_environment, i.agent_name AS inherited_agent,
        dup.reason AS dup_reason,
        CASE WHEN json_type(f.a."gen_ai.input.messages") IN ('ARRAY', 'OBJECT')
             THEN f.a."gen_ai.input.messages" END AS input_messages,
        f.a."gen_ai.system_instructions" AS system_instructions
    FROM otel_facts f
    LEFT JOIN otel_inherited i USING (span_key)
    LEFT JOIN otel_duplicates dup USING (span_key)
),
merged AS (
    -- the kept span of a request takes what only another of its spans carries (pydantic-ai's span counts the
    -- web searches, the SDK's beneath it does not)
    SELECT t.* REPLACE (greatest(t.web_t, coalesce(g.web_t, 0)) AS web_t)
    FROM typed t
    LEFT JOIN (SELECT d.kept_key AS span_key, max(f.web_t) AS web_t
               FROM otel_duplicates d JOIN otel_facts f ON f.span_key = d.span_key
               GROUP BY d.kept_key) g USING (span_key)
)
SELECT
    coalesce(source_row, span_no - (SELECT min(span_no) FROM otel_facts) + 1) AS source_row,
    {file_key_column}  -- a batch's rows keep their file (costlens/ingest/otel.py turns the key into the file)
    -- the provider's id of the request when a span names it (the same call from another producer is then
    -- recognised), else the span's own identity
    coalesce(response_id, 'otel:' || coalesce(trace_id, '') || ':' || span_id) AS call_id,
    start_ts AS ts,
    CAST(date_diff('microsecond', start_ts, end_ts) AS DOUBLE) / 1000.0 AS latency_ms,
    provider_n AS provider,
    model_n AS model,
    request_model,
    operation,
    normalize_tier(coalesce(a."openai.response.service_tier", a."openai.request.service_tier",
                            a."gen_ai.response.service_tier", a."gen_ai.openai.response.service_tier",
                            a."gen_ai.openai.request.service_tier", a."anthropic.response.service_tier",
                            a."costlens.service_tier")) AS service_tier,
    coalesce(parse_bool(coalesce(a."costlens.batch", a."gen_ai.request.batch")), false)
        OR lower(coalesce(a."openai.response.service_tier", a."costlens.service_tier", '')) = 'batch' AS is_batch,
    CASE WHEN input_exclusive THEN in_t ELSE in_t - cr_t - cw_t END AS input_tokens,
    cr_t AS cache_read_tokens,
    cw_t - least(cw1_t, cw_t) AS cache_write_5m_tokens,
    least(cw1_t, cw_t) AS cache_write_1h_tokens,
    out_t AS output_tokens,
    least(rs_t, coalesce(out_t, 0)) AS reasoning_tokens,
    CASE WHEN is_error THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN is_error THEN coalesce(nullif_blank(a."error.type"), left(nullif_blank(status_message), 200), 'error') END
        AS error_type,
    try_cast(coalesce(a."http.response.status_code", a."http.status_code") AS INTEGER) AS http_status,
    -- a list of reasons (flat JSON) or its first element (OTLP arrayValue)
    CASE WHEN json_valid(a."gen_ai.response.finish_reasons") AND starts_with(a."gen_ai.response.finish_reasons", '[')
         THEN json_extract_string(a."gen_ai.response.finish_reasons", '$[0]')
         ELSE a."gen_ai.response.finish_reasons" END AS finish_reason,
    parse_tokens(coalesce(a."gen_ai.request.max_tokens", a."llm.request.max_tokens")) AS max_tokens,
    coalesce(nullif_blank(coalesce(a."costlens.task_id", a.task_id, a."task.id")), inherited_task_id, trace_id)
        AS task_id,
    coalesce(nullif_blank(coalesce(a."gen_ai.conversation.id", a."session.id")), inherited_session_id) AS session_id,
    trace_id,
    coalesce(nullif_blank(coalesce(a."costlens.feature", a.feature, a."app.feature", a.use_case)), inherited_feature,
             nullif_blank(a."gen_ai.agent.name"), inherited_agent, nullif_blank(ra."costlens.feature"),
             nullif_blank(ra."service.name")) AS feature,
    coalesce(nullif_blank(coalesce(a."costlens.team", a.team)), inherited_team,
             nullif_blank(coalesce(ra."costlens.team", ra.team))) AS team,
    coalesce(nullif_blank(coalesce(a."costlens.customer", a.customer, a."customer.id")), inherited_customer) AS customer,
    coalesce(nullif_blank(coalesce(a."user.id", a."enduser.id", a."costlens.user_id")), inherited_user_id) AS user_id,
    coalesce(nullif_blank(coalesce(a."costlens.environment", a."deployment.environment.name")), inherited_environment,
             nullif_blank(coalesce(ra."deployment.environment.name", ra."deployment.environment"))) AS environment,
    try_cast(coalesce(a."costlens.cost_usd", a."operation.cost") AS DECIMAL(38,18)) AS reported_cost_usd,
    -- Opt-in content (gen_ai.input.messages / gen_ai.system_instructions) becomes fingerprints in the runner;
    -- the prefix is the system instructions, or a leading system message. Apps may also send their own hashes.
    CASE WHEN input_messages IS NOT NULL OR system_instructions IS NOT NULL
         THEN coalesce(system_instructions, '') || coalesce(input_messages, '') END AS prompt_text,
    coalesce(system_instructions,
             CASE WHEN json_valid(input_messages) AND json_extract_string(input_messages, '$[0].role') = 'system'
                  THEN json_extract(input_messages, '$[0]')::VARCHAR END) AS prefix_text,
    -- the request's own messages (no system message): its semantic-cache sketch (load/prompt_sketches.sql)
    request_text(CAST(input_messages AS VARCHAR)) AS query_text,
    nullif_blank(a."costlens.prompt_hash") AS prompt_hash,
    nullif_blank(a."costlens.prefix_hash") AS prefix_hash,
    parse_tokens(a."costlens.prefix_tokens") AS prefix_tokens,
    list_filter([charge('web_search', web_t, 'call', NULL, 'web search requests'),
                 charge('hidden_tokens', greatest(coalesce(parse_tokens(total_raw), 0) - coalesce(in_t, 0)
                                                  - coalesce(out_t, 0), 0), 'token', NULL, 'total tokens', false)],
                lambda c: c.quantity > 0) AS charges,
    list_filter(list_transform(unread, lambda u: {'field': u.field,
                                                  'quantity': try_cast(u.value AS DECIMAL(38, 6))}),
                lambda u: u.quantity IS NOT NULL AND u.quantity <> 0
                          AND NOT regexp_matches(u.field, '(total_tokens|token_count\.total|aggregated_usage)$|aggregated_usage\.'))
        AS unpriced_fields,
    coalesce(scope_name, 'otel') AS producer,
    coalesce(reject_reason, CASE
        WHEN not_a_call IS NOT NULL THEN NULL
        WHEN span_id IS NULL THEN 'span has no spanId'
        -- a time outside 2000-01-01 … a year from now (9999-12-31, an epoch 0) is damage, never a period
        WHEN ts_window_problem('the span start time', start_raw) IS NOT NULL
            THEN ts_window_problem('the span start time', start_raw)
        -- text, NaN, Infinity, 1e19 or a negative count is rejected with the attribute's name, never read as 0
        WHEN count_problem IS NOT NULL THEN count_problem
        WHEN cw1_t > cw_t THEN '1h cache writes exceed the cache writes'
        WHEN NOT input_exclusive AND in_t < cr_t + cw_t
            THEN 'cache tokens exceed the input tokens, which must include them'
        WHEN NOT has_usage AND NOT is_error AND dup_reason IS NULL
            THEN 'a model call span without token usage: its cost is unknown (is usage captured for streamed calls?)'
    END) AS reject_reason,
    CASE WHEN reject_reason IS NULL THEN not_a_call END AS skip_reason,
    CASE WHEN reject_reason IS NULL AND not_a_call IS NULL THEN dup_reason END AS duplicate_reason
FROM merged;

DROP TABLE otel_spans;
DROP TABLE otel_ancestors;
DROP TABLE otel_inherited;
DROP TABLE otel_duplicates;
DROP TABLE otel_facts;
