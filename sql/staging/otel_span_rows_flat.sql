-- requires: otel_id, otel_kind, otel_parent_id
-- creates: otel_span_rows
-- Flat span JSON / JSONL (ReadableSpan.to_json() and similar: one span object per line or array element,
-- attributes as an object) → otel_span_rows, one row per span, the same columns as otel_span_rows_otlp.sql.
-- Input: the file read straight into the FLAT_SPAN struct, or the careful reader's raw_json lines
-- ({span_docs}: source_row, doc_ok, d, file_key — see costlens/ingest/otel.py). A view: the file is parsed once, inside
-- the statement that builds `staged`.
CREATE TEMP VIEW otel_span_rows AS
WITH docs AS ({span_docs})
SELECT
    source_row,
    file_key,
    doc_ok,
    otel_id(coalesce(d.trace_id, d.traceId, d.context.trace_id)) AS trace_id,
    otel_id(coalesce(d.span_id, d.spanId, d.context.span_id)) AS span_id,
    otel_parent_id(coalesce(d.parent_id, d.parentSpanId, d.parent_span_id)) AS parent_id,
    d.name,
    otel_kind(d.kind) AS kind,
    coalesce(d.instrumentation_scope->>'$.name', d.instrumentationScope->>'$.name', d.scope->>'$.name') AS scope_name,
    coalesce(d.start_time, d.startTime, d.start_time_unix_nano, d.startTimeUnixNano, d.timestamp) AS start_raw,
    coalesce(d.end_time, d.endTime, d.end_time_unix_nano, d.endTimeUnixNano) AS end_raw,
    -- the status as an object ({"status_code": "ERROR", "description": …}) or as text
    upper(coalesce(d.status->>'$.status_code', d.status->>'$.code', d.status->>'$.statusCode',
                   CASE WHEN json_type(d.status) = 'VARCHAR' THEN d.status->>'$' END, d.status_code, ''))
        AS status_code,
    coalesce(d.status->>'$.description', d.status->>'$.message', d.status_message) AS status_message,
    coalesce(d.attributes, d.span_attributes, d.attrs) AS attrs,
    -- the resource's attributes: nested in `attributes`, else flat on the resource, else resource_attributes
    coalesce(d.resource->'$.attributes', d.resource, d.resource_attributes) AS res,
    CASE WHEN NOT doc_ok THEN 'not valid JSON'
         WHEN coalesce(d.attributes, d.span_attributes, d.attrs) IS NULL THEN 'span has no attributes object'
    END AS reject_reason
FROM docs;
