"""OpenTelemetry GenAI spans: OTLP JSON (collector file exporter lines) and flat span JSON / JSONL."""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext, record_keys
from costlens.ingest.readers import load_json_records
from costlens.ingest.sources import Source


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
        load_json_records(con, src)
        otlp = any(_is_otlp(r) for r in src.records[:5])
        # flat spans are a view (parsed once, inside the `staged` statement), OTLP spans a table: clear
        # whichever an earlier file of the run left
        kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'otel_spans' "
                           "AND table_catalog = 'temp'").fetchone()
        if kind:
            con.execute("DROP VIEW otel_spans" if kind[0] == "VIEW" else "DROP TABLE otel_spans")
        self.run_sql(con, "staging/otel_otlp_spans.sql" if otlp else "staging/otel_flat_spans.sql")
        self.run_sql(con, "staging/otel_spans_to_calls.sql")


ADAPTER = OtelAdapter()
