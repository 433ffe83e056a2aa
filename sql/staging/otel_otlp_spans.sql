-- OTLP JSON (collector file exporter): one ExportTraceServiceRequest per line → one row per span, with
-- the GenAI attributes as text columns. Feeds staging/otel_spans_to_calls.sql. Input: raw_json.
CREATE OR REPLACE TEMP TABLE otel_spans AS
WITH requests AS (
    SELECT source_row,
           json_transform(doc, '{"resourceSpans":[{"resource":{"attributes":[{"key":"VARCHAR","value":"JSON"}]},
               "scopeSpans":[{"spans":[{"traceId":"VARCHAR","spanId":"VARCHAR","parentSpanId":"VARCHAR",
               "name":"VARCHAR","startTimeUnixNano":"VARCHAR","endTimeUnixNano":"VARCHAR",
               "attributes":[{"key":"VARCHAR","value":"JSON"}],"status":{"code":"VARCHAR","message":"VARCHAR"}}]}]}]}'
           ) AS req,
           doc IS NULL AS not_json
    FROM raw_json
),
bad_lines AS (
    SELECT source_row,
           CASE WHEN not_json THEN 'not valid JSON'
                ELSE 'no spans in this OTLP line (expected resourceSpans[].scopeSpans[].spans[])' END AS reject_reason
    FROM requests
    WHERE not_json OR coalesce(len(req.resourceSpans), 0) = 0
),
resources AS (
    SELECT source_row, unnest(req.resourceSpans) AS rs FROM requests WHERE NOT not_json
),
scopes AS (
    SELECT source_row, rs.resource.attributes AS res_attrs, unnest(rs.scopeSpans) AS ss FROM resources
),
spans AS (
    SELECT source_row, res_attrs, unnest(ss.spans) AS s FROM scopes
)
SELECT
    source_row,
    CAST(NULL AS VARCHAR) AS reject_reason,
    s.traceId AS trace_id,
    s.spanId AS span_id,
    s.name AS span_name,
    s.startTimeUnixNano AS start_raw,
    s.endTimeUnixNano AS end_raw,
    CASE WHEN s.status.code IN ('2', 'STATUS_CODE_ERROR', 'ERROR') THEN 'error' ELSE 'ok' END AS span_status,
    s.status.message AS status_message,
    otlp_attr(res_attrs, 'service.name') AS service_name,
    coalesce(otlp_attr(res_attrs, 'deployment.environment.name'), otlp_attr(res_attrs, 'deployment.environment'))
        AS resource_environment,
    otlp_attr(s.attributes, 'gen_ai.operation.name') AS operation,
    coalesce(otlp_attr(s.attributes, 'gen_ai.provider.name'), otlp_attr(s.attributes, 'gen_ai.system')) AS provider,
    otlp_attr(s.attributes, 'gen_ai.request.model') AS request_model,
    otlp_attr(s.attributes, 'gen_ai.response.model') AS response_model,
    coalesce(otlp_attr(s.attributes, 'gen_ai.usage.input_tokens'), otlp_attr(s.attributes, 'gen_ai.usage.prompt_tokens'))
        AS input_tokens,
    coalesce(otlp_attr(s.attributes, 'gen_ai.usage.output_tokens'), otlp_attr(s.attributes, 'gen_ai.usage.completion_tokens'))
        AS output_tokens,
    otlp_attr(s.attributes, 'gen_ai.usage.cache_read.input_tokens') AS cache_read_tokens,
    otlp_attr(s.attributes, 'gen_ai.usage.cache_creation.input_tokens') AS cache_creation_tokens,
    coalesce(otlp_attr(s.attributes, 'costlens.cache_creation_1h.input_tokens'),
             otlp_attr(s.attributes, 'gen_ai.usage.cache_creation.ephemeral_1h_input_tokens')) AS cache_creation_1h_tokens,
    otlp_attr(s.attributes, 'gen_ai.usage.reasoning.output_tokens') AS reasoning_tokens,
    otlp_attr(s.attributes, 'gen_ai.conversation.id') AS conversation_id,
    otlp_attr(s.attributes, 'gen_ai.agent.name') AS agent_name,
    otlp_attr(s.attributes, 'gen_ai.response.id') AS response_id,
    otlp_attr(s.attributes, 'gen_ai.response.finish_reasons') AS finish_reason,
    otlp_attr(s.attributes, 'gen_ai.request.max_tokens') AS max_tokens,
    otlp_attr(s.attributes, 'error.type') AS error_type,
    coalesce(otlp_attr(s.attributes, 'http.response.status_code'), otlp_attr(s.attributes, 'http.status_code')) AS http_status,
    coalesce(otlp_attr(s.attributes, 'openai.response.service_tier'), otlp_attr(s.attributes, 'openai.request.service_tier'),
             otlp_attr(s.attributes, 'gen_ai.response.service_tier'), otlp_attr(s.attributes, 'costlens.service_tier'))
        AS service_tier,
    coalesce(otlp_attr(s.attributes, 'costlens.batch'), otlp_attr(s.attributes, 'gen_ai.request.batch')) AS is_batch,
    coalesce(otlp_attr(s.attributes, 'costlens.feature'), otlp_attr(s.attributes, 'feature'),
             otlp_attr(s.attributes, 'app.feature'), otlp_attr(s.attributes, 'use_case')) AS explicit_feature,
    coalesce(otlp_attr(s.attributes, 'costlens.task_id'), otlp_attr(s.attributes, 'task_id'),
             otlp_attr(s.attributes, 'task.id')) AS explicit_task_id,
    coalesce(otlp_attr(s.attributes, 'costlens.team'), otlp_attr(s.attributes, 'team'),
             otlp_attr(res_attrs, 'costlens.team'), otlp_attr(res_attrs, 'team')) AS team,
    coalesce(otlp_attr(s.attributes, 'costlens.customer'), otlp_attr(s.attributes, 'customer'),
             otlp_attr(s.attributes, 'customer.id')) AS customer,
    coalesce(otlp_attr(s.attributes, 'user.id'), otlp_attr(s.attributes, 'enduser.id'),
             otlp_attr(s.attributes, 'costlens.user_id')) AS user_id,
    coalesce(otlp_attr(s.attributes, 'costlens.environment'), otlp_attr(s.attributes, 'deployment.environment.name'))
        AS span_environment,
    otlp_attr(s.attributes, 'costlens.cost_usd') AS reported_cost,
    otlp_attr(s.attributes, 'gen_ai.input.messages') AS input_messages,
    otlp_attr(s.attributes, 'gen_ai.system_instructions') AS system_instructions,
    otlp_attr(s.attributes, 'costlens.prompt_hash') AS given_prompt_hash,
    otlp_attr(s.attributes, 'costlens.prefix_hash') AS given_prefix_hash,
    otlp_attr(s.attributes, 'costlens.prefix_tokens') AS given_prefix_tokens
FROM spans
UNION ALL BY NAME
SELECT source_row, reject_reason FROM bad_lines;
