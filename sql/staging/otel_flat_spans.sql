-- Flat span JSON / JSONL (one span object per line or array element, attributes as a key → value object).
-- Same output columns as otel_otlp_spans.sql. Input: the file itself, or raw_json (see costlens/ingest/otel.py).
CREATE TEMP VIEW otel_spans AS
-- Speed: each line is parsed once into a typed STRUCT with its attributes object inside (the adapter reads
-- the file straight into it, or json_transform parses the careful reader's lines), its resource once more;
-- never one JSON parse per field. {span_docs}: (source_row, doc_ok, d) — see costlens/ingest/otel.py.
WITH docs AS ({span_docs}),
spans AS (
    SELECT source_row, doc_ok, d,
           coalesce(d.attributes, json_transform(d.span_attributes, {attribute_spec}),
                    json_transform(d.attrs, {attribute_spec})) AS a,
           -- the resource's attributes: nested in `attributes`, else flat on the resource, else resource_attributes
           CASE WHEN d.resource.attributes IS NOT NULL THEN d.resource.attributes
                WHEN d.resource IS NOT NULL THEN {
                    'costlens.team': d.resource."costlens.team",
                    'deployment.environment': d.resource."deployment.environment",
                    'deployment.environment.name': d.resource."deployment.environment.name",
                    'service.name': d.resource."service.name",
                    'team': d.resource.team}
                ELSE json_transform(d.resource_attributes, {resource_spec}) END AS ra
    FROM docs
),
typed AS (
    SELECT *, a AS sa FROM spans
)
SELECT
    source_row,
    CASE WHEN NOT doc_ok THEN 'not valid JSON'
         WHEN a IS NULL THEN 'span has no attributes object' END AS reject_reason,
    coalesce(d.trace_id, d.traceId, d.context.trace_id) AS trace_id,
    coalesce(d.span_id, d.spanId, d.context.span_id) AS span_id,
    d.name AS span_name,
    coalesce(d.start_time, d.startTime, d.start_time_unix_nano, d.startTimeUnixNano, d.timestamp) AS start_raw,
    coalesce(d.end_time, d.endTime, d.end_time_unix_nano, d.endTimeUnixNano) AS end_raw,
    CASE WHEN upper(coalesce(d.status->>'$', d.status->>'$.status_code', d.status->>'$.code', d.status_code, ''))
              IN ('ERROR', 'STATUS_CODE_ERROR', '2') THEN 'error' ELSE 'ok' END AS span_status,
    coalesce(d.status->>'$.message', d.status->>'$.description', d.status_message) AS status_message,
    ra['service.name'] AS service_name,
    coalesce(ra['deployment.environment.name'], ra['deployment.environment'])
        AS resource_environment,
    sa['gen_ai.operation.name'] AS operation,
    coalesce(sa['gen_ai.provider.name'], sa['gen_ai.system']) AS provider,
    sa['gen_ai.request.model'] AS request_model,
    sa['gen_ai.response.model'] AS response_model,
    coalesce(sa['gen_ai.usage.input_tokens'], sa['gen_ai.usage.prompt_tokens'])
        AS input_tokens,
    coalesce(sa['gen_ai.usage.output_tokens'],
             sa['gen_ai.usage.completion_tokens']) AS output_tokens,
    sa['gen_ai.usage.cache_read.input_tokens'] AS cache_read_tokens,
    sa['gen_ai.usage.cache_creation.input_tokens'] AS cache_creation_tokens,
    coalesce(sa['costlens.cache_creation_1h.input_tokens'],
             sa['gen_ai.usage.cache_creation.ephemeral_1h_input_tokens']) AS cache_creation_1h_tokens,
    sa['gen_ai.usage.reasoning.output_tokens'] AS reasoning_tokens,
    sa['gen_ai.conversation.id'] AS conversation_id,
    sa['gen_ai.agent.name'] AS agent_name,
    sa['gen_ai.response.id'] AS response_id,
    coalesce(sa['gen_ai.response.finish_reasons']->>'$[0]', sa['gen_ai.response.finish_reasons']->>'$') AS finish_reason,
    sa['gen_ai.request.max_tokens'] AS max_tokens,
    sa['error.type'] AS error_type,
    coalesce(sa['http.response.status_code'], sa['http.status_code'])
        AS http_status,
    coalesce(sa['openai.response.service_tier'], sa['openai.request.service_tier'],
             sa['gen_ai.response.service_tier'], sa['costlens.service_tier'])
        AS service_tier,
    coalesce(sa['costlens.batch'], sa['gen_ai.request.batch']) AS is_batch,
    coalesce(sa['costlens.feature'], sa['feature'],
             sa['app.feature'], sa['use_case']) AS explicit_feature,
    coalesce(sa['costlens.task_id'], sa['task_id'],
             sa['task.id']) AS explicit_task_id,
    coalesce(sa['costlens.team'], sa['team'],
             ra['costlens.team'], ra['team']) AS team,
    coalesce(sa['costlens.customer'], sa['customer'],
             sa['customer.id']) AS customer,
    coalesce(sa['user.id'], sa['enduser.id'],
             sa['costlens.user_id']) AS user_id,
    coalesce(sa['costlens.environment'], sa['deployment.environment.name'])
        AS span_environment,
    sa['costlens.cost_usd'] AS reported_cost,
    CASE WHEN json_type(sa['gen_ai.input.messages']) IN ('ARRAY', 'OBJECT')
         THEN sa['gen_ai.input.messages']::VARCHAR
         ELSE sa['gen_ai.input.messages']->>'$' END AS input_messages,
    CASE WHEN json_type(sa['gen_ai.system_instructions']) IN ('ARRAY', 'OBJECT')
         THEN sa['gen_ai.system_instructions']::VARCHAR
         ELSE sa['gen_ai.system_instructions']->>'$' END AS system_instructions,
    sa['costlens.prompt_hash'] AS given_prompt_hash,
    sa['costlens.prefix_hash'] AS given_prefix_hash,
    sa['costlens.prefix_tokens'] AS given_prefix_tokens
FROM typed;
