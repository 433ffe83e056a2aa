"""OpenTelemetry GenAI spans: OTLP JSON (collector file exporter lines) and flat span JSON / JSONL."""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext, record_keys
from costlens.ingest.readers import (FastReadFailed, json_transform_spec, load_json_records,
                                     no_reader_rejects,                                      typed_json_rows)
from costlens.ingest.sources import Source
from costlens.sqlfiles import load_sql

# The attributes a flat span may carry that staging/otel_flat_spans.sql reads (JSON = kept as JSON text).
SPAN_ATTRIBUTES = {
    "app.feature": "VARCHAR", "costlens.batch": "VARCHAR", "costlens.cache_creation_1h.input_tokens": "VARCHAR",
    "costlens.cost_usd": "VARCHAR", "costlens.customer": "VARCHAR", "costlens.environment": "VARCHAR",
    "costlens.feature": "VARCHAR", "costlens.prefix_hash": "VARCHAR", "costlens.prefix_tokens": "VARCHAR",
    "costlens.prompt_hash": "VARCHAR", "costlens.service_tier": "VARCHAR", "costlens.task_id": "VARCHAR",
    "costlens.team": "VARCHAR", "costlens.user_id": "VARCHAR", "customer": "VARCHAR", "customer.id": "VARCHAR",
    "deployment.environment.name": "VARCHAR", "enduser.id": "VARCHAR", "error.type": "VARCHAR",
    "feature": "VARCHAR", "gen_ai.agent.name": "VARCHAR", "gen_ai.conversation.id": "VARCHAR",
    "gen_ai.input.messages": "JSON", "gen_ai.operation.name": "VARCHAR", "gen_ai.provider.name": "VARCHAR",
    "gen_ai.request.batch": "VARCHAR", "gen_ai.request.max_tokens": "VARCHAR", "gen_ai.request.model": "VARCHAR",
    "gen_ai.response.finish_reasons": "JSON", "gen_ai.response.id": "VARCHAR", "gen_ai.response.model": "VARCHAR",
    "gen_ai.response.service_tier": "VARCHAR", "gen_ai.system": "VARCHAR", "gen_ai.system_instructions": "JSON",
    "gen_ai.usage.cache_creation.ephemeral_1h_input_tokens": "VARCHAR",
    "gen_ai.usage.cache_creation.input_tokens": "VARCHAR", "gen_ai.usage.cache_read.input_tokens": "VARCHAR",
    "gen_ai.usage.completion_tokens": "VARCHAR", "gen_ai.usage.input_tokens": "VARCHAR",
    "gen_ai.usage.output_tokens": "VARCHAR", "gen_ai.usage.prompt_tokens": "VARCHAR",
    "gen_ai.usage.reasoning.output_tokens": "VARCHAR", "http.response.status_code": "VARCHAR",
    "http.status_code": "VARCHAR", "openai.request.service_tier": "VARCHAR",
    "openai.response.service_tier": "VARCHAR", "task.id": "VARCHAR", "task_id": "VARCHAR", "team": "VARCHAR",
    "use_case": "VARCHAR", "user.id": "VARCHAR"
}
# The resource attributes read, as a nested `attributes` object or flat on the resource.
RESOURCE_ATTRIBUTES = {
    "costlens.team": "VARCHAR", "deployment.environment": "VARCHAR", "deployment.environment.name": "VARCHAR",
    "service.name": "VARCHAR", "team": "VARCHAR",
}
# The top level of a flat span; its `attributes` object is read into a STRUCT in the same parse.
FLAT_SPAN = {
    "trace_id": "VARCHAR", "traceId": "VARCHAR", "span_id": "VARCHAR", "spanId": "VARCHAR", "name": "VARCHAR",
    "context": {"trace_id": "VARCHAR", "span_id": "VARCHAR"}, "start_time": "VARCHAR", "startTime": "VARCHAR",
    "start_time_unix_nano": "VARCHAR", "startTimeUnixNano": "VARCHAR", "timestamp": "VARCHAR",
    "end_time": "VARCHAR", "endTime": "VARCHAR", "end_time_unix_nano": "VARCHAR", "endTimeUnixNano": "VARCHAR",
    "status": "JSON", "status_code": "VARCHAR", "status_message": "VARCHAR", "attributes": SPAN_ATTRIBUTES,
    "span_attributes": "JSON", "attrs": "JSON", "resource": {"attributes": RESOURCE_ATTRIBUTES, **RESOURCE_ATTRIBUTES}, "resource_attributes": "JSON"
}


def _is_otlp(record: object) -> bool:
    return isinstance(record, dict) and "resourceSpans" in record


def _is_flat_span(record: object) -> bool:
    if not isinstance(record, dict):
        return False
    attrs = record.get("attributes")
    if not isinstance(attrs, dict):
        return False
    return any(str(key).startswith("gen_ai.") for key in attrs)


class OtelAdapter(Adapter):
    name = "otel"
    target = "calls"
    description = "OpenTelemetry GenAI spans (OTLP JSON lines or flat span JSON/JSONL)"

    def detect(self, src: Source, ctx: IngestContext) -> int:
        if any(_is_otlp(r) for r in src.records[:5]):
            return 90
        if src.records and sum(_is_flat_span(r) for r in src.records) >= max(1, len(src.records) // 2):
            return 80
        if {"trace_id", "span_id", "attributes"} <= record_keys(src):
            return 40
        return 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        otlp = any(_is_otlp(r) for r in src.records[:5])
        fast = None if otlp or ctx.careful else typed_json_rows(src, FLAT_SPAN)
        if fast is None:
            load_json_records(con, src)
        else:
            no_reader_rejects(con)
            ctx.rows_by_position = True
        # flat spans are a view (parsed once, inside the `staged` statement), OTLP spans a table: clear
        # whichever an earlier file of the run left
        kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'otel_spans' "
                           "AND table_catalog = 'temp'").fetchone()
        if kind:
            con.execute("DROP VIEW otel_spans" if kind[0] == "VIEW" else "DROP TABLE otel_spans")
        if otlp:
            self.run_sql(con, "staging/otel_otlp_spans.sql")
            self.run_sql(con, "staging/otel_spans_to_calls.sql")
            return
        con.execute(_flat_spans_sql(fast))
        import duckdb

        try:  # with the typed read, the only statement that reads the file
            self.run_sql(con, "staging/otel_spans_to_calls.sql")
        except duckdb.Error as exc:
            if fast is None:
                raise
            ctx.rows_by_position = False
            raise FastReadFailed(str(exc)) from exc


def _flat_spans_sql(typed_read: str | None) -> str:
    """staging/otel_flat_spans.sql over the file read straight into FLAT_SPAN (typed_read), or over the
    careful reader's raw_json lines (each parsed by json_transform into the same STRUCT)."""
    if typed_read is None:
        docs = (f"SELECT source_row, doc IS NOT NULL AS doc_ok, json_transform(doc, {json_transform_spec(FLAT_SPAN)}) "
                "AS d FROM raw_json")
    else:
        docs = f"SELECT CAST(NULL AS BIGINT) AS source_row, true AS doc_ok, d FROM {typed_read} d"
    return (load_sql("staging/otel_flat_spans.sql").replace("{span_docs}", docs)
            .replace("{attribute_spec}", json_transform_spec(SPAN_ATTRIBUTES))
            .replace("{resource_spec}", json_transform_spec(RESOURCE_ATTRIBUTES)))


ADAPTER = OtelAdapter()
