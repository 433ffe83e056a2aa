"""OpenTelemetry spans of model calls: OTLP JSON (collector file exporter lines) and flat span JSON / JSONL
(`ReadableSpan.to_json()`, and the similar shapes of other exporters).

Every convention the instrumentation libraries write is read (README "Producers"): the OTel GenAI semantic
conventions (old, current and latest-experimental names), OpenInference (`llm.*`), OpenLLMetry / Traceloop,
vendor namespaces (`anthropic.usage.*`, `gen_ai.usage.details.*`, `gen_ai.usage.raw`) and frameworks' span
layouts (logfire's streamed log spans, pydantic-ai's agent spans, vLLM's `llm_request`). Both file forms are
reduced to one row per span with its attributes as a JSON object (staging/otel_span_rows_*.sql); one staging
file then applies the conventions, inherits attribution from ancestor spans and keeps one call per request
(staging/otel_spans_to_calls.sql).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.ingest.base import Adapter, IngestContext, record_keys
from costlens.ingest.readers import (
    FastReadFailed,
    json_transform_spec,
    load_json_batch,
    load_json_records,
    no_reader_rejects,
    typed_json_rows,
)
from costlens.ingest.sources import MAX_JSON_DEPTH, Source
from costlens.sqlfiles import render_sql

if TYPE_CHECKING:
    import duckdb

# Every span attribute a convention below reads (text; JSON values come back as their JSON text).
SPAN_ATTRIBUTES = (
    # what the span is
    "gen_ai.operation.name",
    "openinference.span.kind",
    "llm.request.type",
    "logfire.span_type",
    # provider and model
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.provider",
    "llm.system",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm.model_name",
    "llm.request.model_name",
    "llm.response.model_name",
    "llm.request.model",
    "llm.response.model",
    "llm.invocation_parameters",
    # tokens: input (the OTel convention counts cache reads and writes inside it)
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "llm.usage.prompt_tokens",
    # output (reasoning inside)
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "llm.usage.completion_tokens",
    # cache reads
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
    "gen_ai.usage.details.cache_read_tokens",
    "gen_ai.usage.details.cache_read_input_tokens",
    "gen_ai.usage.cached_tokens",
    # cache writes, all of them
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
    "gen_ai.usage.details.cache_write_tokens",
    "gen_ai.usage.details.cache_creation_input_tokens",
    # cache writes by time to live
    "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
    "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
    "gen_ai.usage.details.ephemeral_1h_input_tokens",
    "gen_ai.usage.details.ephemeral_5m_input_tokens",
    "gen_ai.usage.cache_creation.ephemeral_1h_input_tokens",
    "costlens.cache_creation_1h.input_tokens",
    # reasoning (informational: inside output)
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.usage.details.reasoning_tokens",
    "gen_ai.usage.details.thinking_tokens",
    "gen_ai.usage.details.thoughts_tokens",
    "llm.token_count.completion_details.reasoning",
    # server-side tools and the provider's raw usage object (logfire)
    "gen_ai.usage.details.web_search_requests",
    "gen_ai.usage.raw",
    "metadata",
    # the request
    "gen_ai.response.id",
    "gen_ai.request.id",  # vLLM's request span: the id its OpenAI-compatible server answered with
    "gen_ai.response.finish_reasons",
    "gen_ai.request.max_tokens",
    "llm.request.max_tokens",
    "gen_ai.request.stream",
    "error.type",
    "http.response.status_code",
    "http.status_code",
    "openai.response.service_tier",
    "openai.request.service_tier",
    "gen_ai.response.service_tier",
    "gen_ai.openai.response.service_tier",
    "gen_ai.openai.request.service_tier",
    "anthropic.response.service_tier",
    "costlens.service_tier",
    "costlens.batch",
    "gen_ai.request.batch",
    "output.value",
    # a cost the producer computed itself
    "costlens.cost_usd",
    "operation.cost",
    # attribution (on the span or an ancestor)
    "costlens.feature",
    "feature",
    "app.feature",
    "use_case",
    "costlens.task_id",
    "task_id",
    "task.id",
    "costlens.team",
    "team",
    "costlens.customer",
    "customer",
    "customer.id",
    "user.id",
    "enduser.id",
    "costlens.user_id",
    "session.id",
    "gen_ai.conversation.id",
    "costlens.environment",
    "deployment.environment.name",
    "gen_ai.agent.name",
    # content (fingerprints only, unless --keep-content)
    "gen_ai.input.messages",
    "gen_ai.system_instructions",
    "costlens.prompt_hash",
    "costlens.prefix_hash",
    "costlens.prefix_tokens",
)
RESOURCE_ATTRIBUTES = (
    "service.name",
    "deployment.environment",
    "deployment.environment.name",
    "costlens.team",
    "team",
    "costlens.feature",
)

# The top level of a flat span; attributes and resource stay JSON (one parse, then one typed transform).
FLAT_SPAN = {
    "trace_id": "VARCHAR",
    "traceId": "VARCHAR",
    "span_id": "VARCHAR",
    "spanId": "VARCHAR",
    "context": {"trace_id": "VARCHAR", "span_id": "VARCHAR"},
    "parent_id": "VARCHAR",
    "parentSpanId": "VARCHAR",
    "parent_span_id": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "start_time": "VARCHAR",
    "startTime": "VARCHAR",
    "start_time_unix_nano": "VARCHAR",
    "startTimeUnixNano": "VARCHAR",
    "timestamp": "VARCHAR",
    "end_time": "VARCHAR",
    "endTime": "VARCHAR",
    "end_time_unix_nano": "VARCHAR",
    "endTimeUnixNano": "VARCHAR",
    "status": "JSON",
    "status_code": "VARCHAR",
    "status_message": "VARCHAR",
    "attributes": "JSON",
    "span_attributes": "JSON",
    "attrs": "JSON",
    "resource": "JSON",
    "resource_attributes": "JSON",
    "instrumentation_scope": "JSON",
    "instrumentationScope": "JSON",
    "scope": "JSON",
}


def _is_otlp(record: object) -> bool:
    return isinstance(record, dict) and "resourceSpans" in record


def _is_flat_span(record: object) -> bool:
    if not isinstance(record, dict):
        return False
    attrs = record.get("attributes")
    if not isinstance(attrs, dict):
        return False
    return any(str(key).startswith(("gen_ai.", "llm.", "openinference.")) for key in attrs)


class OtelAdapter(Adapter):
    name = "otel"
    target = "calls"
    description = "OpenTelemetry spans of model calls (OTLP JSON lines or flat span JSON/JSONL), every GenAI convention"

    def detect(self, src: Source, ctx: IngestContext) -> int:
        if any(_is_otlp(r) for r in src.records[:5]):
            return 90
        if src.records and sum(_is_flat_span(r) for r in src.records) >= max(1, len(src.records) // 2):
            return 80
        keys = record_keys(src)
        if {"attributes"} <= keys and ({"trace_id", "span_id"} <= keys or "context" in keys):
            return 40
        return 0

    # Collectors and exporters rotate spans into many small files: the runner loads them in batches (runner.py),
    # OTLP files and flat span files apart.
    batch_files = True

    def batch_key(self, src: Source) -> str:
        return "otlp" if _is_otlp_file(src) else "flat"

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        otlp = _is_otlp_file(src)
        fast = None if otlp or ctx.careful else typed_json_rows(src, FLAT_SPAN)
        # the staging numbers the rows of a typed read itself (its span_no, in file order)
        if fast is None:
            load_json_records(con, src)
            con.execute(
                "CREATE OR REPLACE TEMP VIEW otel_lines AS SELECT source_row, doc, '' AS file_key FROM raw_json"
            )
        else:
            no_reader_rejects(con)
        _stage_spans(con, otlp, fast, batch=False)

    def stage_batch(self, con: duckdb.DuckDBPyConnection, srcs: list[Source], ctx: IngestContext) -> None:
        """Several small span files of one kind (OTLP or flat), read line by line by one statement; spans are
        linked (parents, one request's spans) only within their own file, as when the files load one by one."""
        load_json_batch(con, srcs)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW otel_lines AS SELECT r.source_row, r.doc, f.source_sha256 AS file_key "
            "FROM raw_json r JOIN ingest_files f USING (source_file)"
        )
        _stage_spans(con, self.batch_key(srcs[0]) == "otlp", None, batch=True)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE staged AS SELECT s.* EXCLUDE (file_key), f.source_file, f.source_sha256 "
            "FROM staged s JOIN ingest_files f ON f.source_sha256 = s.file_key"
        )


def _is_otlp_file(src: Source) -> bool:
    return any(_is_otlp(r) for r in src.records[:5])


def _stage_spans(con: duckdb.DuckDBPyConnection, otlp: bool, fast: str | None, *, batch: bool) -> None:
    """`staged` from otel_lines, or from the typed read `fast` of one flat file; a batch's rows keep their
    file_key (the file's content hash), which stage_batch turns into the row's file."""
    import duckdb

    for relation in ("otel_span_rows", "otel_spans"):
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ? AND table_catalog = 'temp'",
            [relation],
        ).fetchone()
        if kind:
            con.execute(f"DROP {'VIEW' if kind[0] == 'VIEW' else 'TABLE'} {relation}")
    if otlp:
        Adapter.run_sql(con, "staging/otel_span_rows_otlp.sql")
    else:
        con.execute(_flat_rows_sql(fast))
    try:  # with the typed read, the first statement that reads the file
        con.execute(_spans_to_calls_sql(batch))
    except duckdb.Error as exc:
        if fast is None:
            raise
        raise FastReadFailed(str(exc)) from exc


def _flat_rows_sql(typed_read: str | None) -> str:
    """staging/otel_span_rows_flat.sql over the file read straight into FLAT_SPAN (typed_read), or over the
    careful reader's raw_json lines (each parsed by json_transform into the same STRUCT)."""
    if typed_read is None:
        docs = (
            f"SELECT source_row, doc IS NOT NULL AS doc_ok, json_transform(doc, {json_transform_spec(FLAT_SPAN)}) "
            "AS d, file_key FROM otel_lines"
        )
    else:
        # DuckDB's typed read refuses deep nesting in typed fields but keeps JSON fields (attributes, resource)
        # as they are: a span that may nest deeper than the readers allow gives the typed read up, so the
        # careful reader measures it and quarantines it (one strlen and two replaces per span otherwise)
        deep = " OR ".join(
            f"json_brackets_over(d.{key}, {MAX_JSON_DEPTH})"
            for key in ("attributes", "span_attributes", "attrs", "resource", "resource_attributes")
        )
        docs = (
            f"SELECT CAST(NULL AS BIGINT) AS source_row, true AS doc_ok, d, '' AS file_key FROM {typed_read} d "
            f"WHERE coalesce(CASE WHEN {deep} THEN error('a span may nest too deeply for the typed read') END, "
            f"true)"
        )
    return render_sql("staging/otel_span_rows_flat.sql", span_docs=docs)


def _spans_to_calls_sql(batch: bool) -> str:
    attributes = json_transform_spec({key: "VARCHAR" for key in SPAN_ATTRIBUTES})
    resource = json_transform_spec({key: "VARCHAR" for key in RESOURCE_ATTRIBUTES})
    known = "[" + ", ".join("'" + key.replace("'", "''") + "'" for key in SPAN_ATTRIBUTES) + "]"
    return render_sql(
        "staging/otel_spans_to_calls.sql",
        attribute_spec=attributes,
        resource_spec=resource,
        known_attributes=known,
        file_key_column="file_key," if batch else "",
    )


ADAPTER = OtelAdapter()
