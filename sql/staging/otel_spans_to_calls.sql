-- OTel GenAI spans (from either OTLP or flat JSON) → canonical calls. Input: otel_spans.
-- Tokens: OTel's gen_ai.usage.input_tokens SHOULD include cache reads and writes; canonical input is the
-- uncached part. An Anthropic span whose input is smaller than its cache tokens was written by an older
-- instrumentation that copied Anthropic's exclusive count: it is taken as already uncached.
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT *,
        parse_tokens(input_tokens) AS in_t,
        coalesce(parse_tokens(cache_read_tokens), 0) AS cr_t,
        coalesce(parse_tokens(cache_creation_tokens), 0) AS cc_t,
        coalesce(parse_tokens(cache_creation_1h_tokens), 0) AS cc1h_t,
        parse_tokens(output_tokens) AS out_t,
        coalesce(parse_tokens(reasoning_tokens), 0) AS rs_t,
        parse_ts(start_raw) AS start_ts,
        parse_ts(end_raw) AS end_ts,
        normalize_provider(provider) AS provider_n,
        coalesce(nullif_blank(response_model), nullif_blank(request_model)) AS model_n
    FROM otel_spans
)
SELECT
    source_row,
    'otel:' || coalesce(trace_id, '') || ':' || span_id AS call_id,
    start_ts AS ts,
    CAST(date_diff('microsecond', start_ts, end_ts) AS DOUBLE) / 1000.0 AS latency_ms,
    provider_n AS provider,
    model_n AS model,
    nullif_blank(request_model) AS request_model,
    operation,
    normalize_tier(service_tier) AS service_tier,
    coalesce(parse_bool(is_batch), false) OR lower(service_tier) = 'batch' AS is_batch,
    CASE WHEN provider_n = 'anthropic' AND in_t < cr_t + cc_t THEN in_t ELSE in_t - cr_t - cc_t END AS input_tokens,
    cr_t AS cache_read_tokens,
    cc_t - cc1h_t AS cache_write_5m_tokens,
    cc1h_t AS cache_write_1h_tokens,
    out_t AS output_tokens,
    rs_t AS reasoning_tokens,
    CASE WHEN span_status = 'error' OR nullif_blank(error_type) IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
    coalesce(nullif_blank(error_type), CASE WHEN span_status = 'error' THEN coalesce(status_message, 'error') END)
        AS error_type,
    try_cast(http_status AS INTEGER) AS http_status,
    finish_reason,
    parse_tokens(max_tokens) AS max_tokens,
    coalesce(nullif_blank(explicit_task_id), trace_id) AS task_id,
    conversation_id AS session_id,
    trace_id,
    coalesce(nullif_blank(explicit_feature), nullif_blank(agent_name), nullif_blank(service_name)) AS feature,
    team,
    customer,
    user_id,
    coalesce(span_environment, resource_environment) AS environment,
    try_cast(reported_cost AS DECIMAL(38,18)) AS reported_cost_usd,
    -- Opt-in content (gen_ai.input.messages / gen_ai.system_instructions) becomes fingerprints in the runner;
    -- the prefix is the system instructions, or a leading system message. Apps may also send their own hashes.
    CASE WHEN input_messages IS NOT NULL OR system_instructions IS NOT NULL
         THEN coalesce(system_instructions, '') || coalesce(input_messages, '') END AS prompt_text,
    coalesce(system_instructions,
             CASE WHEN json_valid(input_messages) AND json_extract_string(input_messages, '$[0].role') = 'system'
                  THEN json_extract(input_messages, '$[0]')::VARCHAR END) AS prefix_text,
    nullif_blank(given_prompt_hash) AS prompt_hash,
    nullif_blank(given_prefix_hash) AS prefix_hash,
    parse_tokens(given_prefix_tokens) AS prefix_tokens,
    coalesce(reject_reason, CASE
        WHEN span_id IS NULL THEN 'span has no spanId'
        WHEN input_tokens IS NOT NULL AND in_t IS NULL THEN 'gen_ai.usage.input_tokens is not a number'
        WHEN output_tokens IS NOT NULL AND out_t IS NULL THEN 'gen_ai.usage.output_tokens is not a number'
        WHEN cc1h_t > cc_t THEN '1h cache writes exceed gen_ai.usage.cache_creation.input_tokens'
        WHEN provider_n IS DISTINCT FROM 'anthropic' AND in_t < cr_t + cc_t
            THEN 'cache tokens exceed gen_ai.usage.input_tokens, which must include them'
    END) AS reject_reason,
    CASE
        WHEN reject_reason IS NOT NULL THEN NULL
        WHEN operation IN ('execute_tool', 'invoke_agent', 'create_agent')
            THEN 'not a model call (' || operation || ' span)'
        WHEN model_n IS NULL AND in_t IS NULL AND out_t IS NULL
            THEN 'not a model call (no gen_ai model or usage attributes)'
    END AS skip_reason
FROM typed;
