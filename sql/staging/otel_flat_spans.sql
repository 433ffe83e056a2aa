-- Flat span JSON / JSONL (one span object per line or array element, attributes as a key → value object).
-- Same output columns as otel_otlp_spans.sql. Input: raw_json.
CREATE OR REPLACE TEMP TABLE otel_spans AS
WITH spans AS (
    SELECT source_row, doc,
           coalesce(doc->'attributes', doc->'span_attributes', doc->'attrs') AS a,
           coalesce(doc->'resource'->'attributes', doc->'resource', doc->'resource_attributes') AS r
    FROM raw_json
)
SELECT
    source_row,
    CASE WHEN doc IS NULL THEN 'not valid JSON'
         WHEN a IS NULL THEN 'span has no attributes object' END AS reject_reason,
    coalesce(doc->>'trace_id', doc->>'traceId', doc->>'$.context.trace_id') AS trace_id,
    coalesce(doc->>'span_id', doc->>'spanId', doc->>'$.context.span_id') AS span_id,
    doc->>'name' AS span_name,
    coalesce(doc->>'start_time', doc->>'startTime', doc->>'start_time_unix_nano', doc->>'startTimeUnixNano',
             doc->>'timestamp') AS start_raw,
    coalesce(doc->>'end_time', doc->>'endTime', doc->>'end_time_unix_nano', doc->>'endTimeUnixNano') AS end_raw,
    CASE WHEN upper(coalesce(doc->>'status', doc->>'$.status.status_code', doc->>'$.status.code', doc->>'status_code', ''))
              IN ('ERROR', 'STATUS_CODE_ERROR', '2') THEN 'error' ELSE 'ok' END AS span_status,
    coalesce(doc->>'$.status.message', doc->>'$.status.description', doc->>'status_message') AS status_message,
    json_extract_string(r, '$."service.name"') AS service_name,
    coalesce(json_extract_string(r, '$."deployment.environment.name"'), json_extract_string(r, '$."deployment.environment"'))
        AS resource_environment,
    json_extract_string(a, '$."gen_ai.operation.name"') AS operation,
    coalesce(json_extract_string(a, '$."gen_ai.provider.name"'), json_extract_string(a, '$."gen_ai.system"')) AS provider,
    json_extract_string(a, '$."gen_ai.request.model"') AS request_model,
    json_extract_string(a, '$."gen_ai.response.model"') AS response_model,
    coalesce(json_extract_string(a, '$."gen_ai.usage.input_tokens"'), json_extract_string(a, '$."gen_ai.usage.prompt_tokens"'))
        AS input_tokens,
    coalesce(json_extract_string(a, '$."gen_ai.usage.output_tokens"'),
             json_extract_string(a, '$."gen_ai.usage.completion_tokens"')) AS output_tokens,
    json_extract_string(a, '$."gen_ai.usage.cache_read.input_tokens"') AS cache_read_tokens,
    json_extract_string(a, '$."gen_ai.usage.cache_creation.input_tokens"') AS cache_creation_tokens,
    coalesce(json_extract_string(a, '$."costlens.cache_creation_1h.input_tokens"'),
             json_extract_string(a, '$."gen_ai.usage.cache_creation.ephemeral_1h_input_tokens"')) AS cache_creation_1h_tokens,
    json_extract_string(a, '$."gen_ai.usage.reasoning.output_tokens"') AS reasoning_tokens,
    json_extract_string(a, '$."gen_ai.conversation.id"') AS conversation_id,
    json_extract_string(a, '$."gen_ai.agent.name"') AS agent_name,
    json_extract_string(a, '$."gen_ai.response.id"') AS response_id,
    coalesce(json_extract_string(a, '$."gen_ai.response.finish_reasons"[0]'),
             json_extract_string(a, '$."gen_ai.response.finish_reasons"')) AS finish_reason,
    json_extract_string(a, '$."gen_ai.request.max_tokens"') AS max_tokens,
    json_extract_string(a, '$."error.type"') AS error_type,
    coalesce(json_extract_string(a, '$."http.response.status_code"'), json_extract_string(a, '$."http.status_code"'))
        AS http_status,
    coalesce(json_extract_string(a, '$."openai.response.service_tier"'), json_extract_string(a, '$."openai.request.service_tier"'),
             json_extract_string(a, '$."gen_ai.response.service_tier"'), json_extract_string(a, '$."costlens.service_tier"'))
        AS service_tier,
    coalesce(json_extract_string(a, '$."costlens.batch"'), json_extract_string(a, '$."gen_ai.request.batch"')) AS is_batch,
    coalesce(json_extract_string(a, '$."costlens.feature"'), json_extract_string(a, '$."feature"'),
             json_extract_string(a, '$."app.feature"'), json_extract_string(a, '$."use_case"')) AS explicit_feature,
    coalesce(json_extract_string(a, '$."costlens.task_id"'), json_extract_string(a, '$."task_id"'),
             json_extract_string(a, '$."task.id"')) AS explicit_task_id,
    coalesce(json_extract_string(a, '$."costlens.team"'), json_extract_string(a, '$."team"'),
             json_extract_string(r, '$."costlens.team"'), json_extract_string(r, '$."team"')) AS team,
    coalesce(json_extract_string(a, '$."costlens.customer"'), json_extract_string(a, '$."customer"'),
             json_extract_string(a, '$."customer.id"')) AS customer,
    coalesce(json_extract_string(a, '$."user.id"'), json_extract_string(a, '$."enduser.id"'),
             json_extract_string(a, '$."costlens.user_id"')) AS user_id,
    coalesce(json_extract_string(a, '$."costlens.environment"'), json_extract_string(a, '$."deployment.environment.name"'))
        AS span_environment,
    json_extract_string(a, '$."costlens.cost_usd"') AS reported_cost,
    CASE WHEN json_type(a, '$."gen_ai.input.messages"') IN ('ARRAY', 'OBJECT')
         THEN json_extract(a, '$."gen_ai.input.messages"')::VARCHAR
         ELSE json_extract_string(a, '$."gen_ai.input.messages"') END AS input_messages,
    CASE WHEN json_type(a, '$."gen_ai.system_instructions"') IN ('ARRAY', 'OBJECT')
         THEN json_extract(a, '$."gen_ai.system_instructions"')::VARCHAR
         ELSE json_extract_string(a, '$."gen_ai.system_instructions"') END AS system_instructions,
    json_extract_string(a, '$."costlens.prompt_hash"') AS given_prompt_hash,
    json_extract_string(a, '$."costlens.prefix_hash"') AS given_prefix_hash,
    json_extract_string(a, '$."costlens.prefix_tokens"') AS given_prefix_tokens
FROM spans;
