-- requires: otel_id, otel_kind, otel_lines, otel_parent_id, otlp_value
-- creates: otel_span_rows, otlp_attributes_json
-- OTLP JSON (the collector's file exporter: one ExportTraceServiceRequest per line) → otel_span_rows, one row
-- per span with the same columns as otel_span_rows_flat.sql: its attribute list {key, value{stringValue |
-- intValue | doubleValue | boolValue | arrayValue}} becomes one JSON object of text values, so both forms
-- go through the same typed transform. Input: otel_lines(source_row, doc, file_key) (costlens/ingest/otel.py: one
-- file's lines, or a batch's, file_key telling the files apart). Lines that hold no span are rows too (rejected).
-- An OTLP attribute list as one JSON object of text values (a key a producer repeats: its first value; an
-- entry without a key is left out).
CREATE OR REPLACE TEMP MACRO otlp_attributes_json(attrs) AS (
    CAST(to_json(map_from_entries(list_transform(
        list_filter(attrs, lambda e, i: e.key IS NOT NULL
                                       AND list_position(list_transform(attrs, lambda x: x.key), e.key) = i),
        lambda e: {'key': e.key, 'value': otlp_value(e.value)}))) AS JSON)
);

CREATE OR REPLACE TEMP TABLE otel_span_rows AS
WITH requests AS (
    SELECT source_row, file_key,
           json_transform(doc, '{"resourceSpans":[{"resource":{"attributes":[{"key":"VARCHAR","value":"JSON"}]},
               "scopeSpans":[{"scope":{"name":"VARCHAR"},"spans":[{"traceId":"VARCHAR","spanId":"VARCHAR",
               "parentSpanId":"VARCHAR","name":"VARCHAR","kind":"VARCHAR","startTimeUnixNano":"VARCHAR",
               "endTimeUnixNano":"VARCHAR","attributes":[{"key":"VARCHAR","value":"JSON"}],
               "status":{"code":"VARCHAR","message":"VARCHAR"}}]}]}]}') AS req,
           doc IS NULL AS not_json
    FROM otel_lines
),
resources AS (
    SELECT source_row, file_key, unnest(req.resourceSpans) AS rs FROM requests WHERE NOT not_json
),
scopes AS (
    SELECT source_row, file_key, rs.resource.attributes AS res_attrs, unnest(rs.scopeSpans) AS ss FROM resources
),
spans AS (
    SELECT source_row, file_key, res_attrs, ss.scope.name AS scope_name, unnest(ss.spans) AS s FROM scopes
)
SELECT
    source_row,
    file_key,
    true AS doc_ok,
    otel_id(s.traceId) AS trace_id,
    otel_id(s.spanId) AS span_id,
    otel_parent_id(s.parentSpanId) AS parent_id,
    s.name,
    otel_kind(s.kind) AS kind,
    scope_name,
    s.startTimeUnixNano AS start_raw,
    s.endTimeUnixNano AS end_raw,
    CASE WHEN s.status.code IN ('2', 'STATUS_CODE_ERROR', 'ERROR') THEN 'ERROR' ELSE coalesce(s.status.code, '') END
        AS status_code,
    s.status.message AS status_message,
    otlp_attributes_json(s.attributes) AS attrs,
    otlp_attributes_json(res_attrs) AS res
FROM spans
UNION ALL BY NAME
SELECT source_row, file_key, NOT not_json AS doc_ok,
       CASE WHEN not_json THEN 'not valid JSON'
            ELSE 'no spans in this OTLP line (expected resourceSpans[].scopeSpans[].spans[])' END AS reject_reason
FROM requests
WHERE not_json OR coalesce(len(req.resourceSpans), 0) = 0;
