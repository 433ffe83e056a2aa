"""Langfuse public API exports: observations → calls, traces → trace_context, scores → outcomes.

Each export kind is its own file: a JSON array of records, JSON lines, or API pages {"data": [...], "meta": {...}}
(one per file or one per line). One adapter reads all three; the kind — and so the target table — is decided
per file from its content (`record_kind` below, mirrored by `langfuse_record_kind` in
sql/staging/langfuse_records.sql):

- observations (id, traceId, type GENERATION | SPAN | EVENT | …, startTime) → calls (staging/langfuse_observations.sql:
  GENERATION / EMBEDDING only; Langfuse's additive usageDetails convention is documented there);
- traces (id, timestamp, sessionId / userId / tags / release …) → trace_context (staging/langfuse_traces.sql:
  the trace name names the feature);
- scores (traceId, name, value, dataType NUMERIC | CATEGORICAL | BOOLEAN, source API | EVAL | ANNOTATION) → outcomes
  (staging/langfuse_scores.sql, with the score names of [outcomes.scores] in the config).

An Adapter has one `target`, read by the runner after it chose the adapter (and again after `stage`). Here
`target` is a property that follows the kind found by the latest `detect` / `stage`: `choose_adapter` calls
`detect` on this file just before the runner reads `target`, and `stage` re-derives the kind from the file
itself, so the rows always go to the right table (with --format langfuse, only the FileResult.target read
before `stage` can be the previous file's). `for_source` returns a fresh per-file adapter with the kind fixed,
for a runner hook `adapter = (forced or choose_adapter(src, ctx)).for_source(src, ctx)` that removes the
shared state.
"""

from __future__ import annotations

import gzip
import re
import zlib
from typing import TYPE_CHECKING, Any, Literal

from costlens.db import one_row
from costlens.errors import InputError
from costlens.ingest.base import Adapter, IngestContext, Target
from costlens.ingest.readers import load_json_records
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

Kind = Literal["observations", "traces", "scores"]

TARGETS: dict[Kind, Target] = {"observations": "calls", "traces": "trace_context", "scores": "outcomes"}
STAGING: dict[Kind, str] = {
    "observations": "staging/langfuse_observations.sql",
    "traces": "staging/langfuse_traces.sql",
    "scores": "staging/langfuse_scores.sql",
}
# Confidence per kind: observations and scores have Langfuse-only enums; a trace is a weaker shape.
CONFIDENCE: dict[Kind, int] = {"observations": 90, "scores": 85, "traces": 75}

OBSERVATION_TYPES = {
    "GENERATION",
    "SPAN",
    "EVENT",
    "AGENT",
    "TOOL",
    "CHAIN",
    "RETRIEVER",
    "EVALUATOR",
    "EMBEDDING",
    "GUARDRAIL",
}
SCORE_DATA_TYPES = {"NUMERIC", "CATEGORICAL", "BOOLEAN"}
SCORE_SOURCES = {"API", "EVAL", "ANNOTATION"}
TRACE_ONLY_FIELDS = {
    "sessionId",
    "userId",
    "release",
    "tags",
    "public",
    "htmlPath",
    "bookmarked",
    "externalId",
    "observations",
    "scores",
    "totalCost",
}

# For a large single-document export (an API page beyond the sniff window, so no parsed records): the
# record shapes seen in the first bytes of text.
_TEXT_SNIFF_BYTES = 64 * 1024
_TEXT_PATTERNS: dict[Kind, tuple[re.Pattern[str], ...]] = {
    "observations": (
        re.compile(r'"traceId"\s*:'),
        re.compile(r'"startTime"\s*:'),
        re.compile(r'"type"\s*:\s*"(GENERATION|SPAN|EVENT|EMBEDDING|AGENT|TOOL|CHAIN)"'),
    ),
    "scores": (
        re.compile(r'"traceId"\s*:'),
        re.compile(r'"value"\s*:'),
        re.compile(r'"dataType"\s*:\s*"(NUMERIC|CATEGORICAL|BOOLEAN)"'),
    ),
    "traces": (
        re.compile(r'"timestamp"\s*:'),
        re.compile(r'"htmlPath"\s*:|"sessionId"\s*:'),
        re.compile(r'"(observations|scores|bookmarked|public)"\s*:'),
    ),
}


def is_page(record: Any) -> bool:
    """An API list page {"data": [...], "meta": {...}} (not a record that happens to hold `data`)."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("data"), list)
        and "id" not in record
        and "traceId" not in record
    )


def unwrap(records: list[Any]) -> list[Any]:
    """The records themselves: API pages replaced by their `data` elements."""
    out: list[Any] = []
    for record in records:
        out.extend(record["data"] if is_page(record) else [record])
    return out


def is_trace_document(record: Any) -> bool:
    """A whole trace with its observations: the UI's "download trace" file {"trace", "observations"}, or one
    trace from GET /api/public/traces/{id} with the observations embedded as objects (langfuse_trace_of)."""
    if not isinstance(record, dict) or not isinstance(record.get("observations"), list):
        return False
    if isinstance(record.get("trace"), dict):
        return True
    first = record["observations"][:1]
    return bool(first) and isinstance(first[0], dict) and "id" in record and "traceId" not in record


def record_kind(record: Any) -> Kind | None:
    """What one Langfuse record is (same rules as langfuse_record_kind in sql/staging/langfuse_records.sql;
    a whole trace with its observations is read as observations)."""
    if not isinstance(record, dict):
        return None
    if is_trace_document(record):
        return "observations"
    keys = record.keys()
    if "traceId" in keys and "startTime" in keys and str(record.get("type") or "").upper() in OBSERVATION_TYPES:
        return "observations"
    if (
        "name" in keys
        and ("value" in keys or "stringValue" in keys)
        and (
            str(record.get("dataType") or "").upper() in SCORE_DATA_TYPES
            or str(record.get("source") or "").upper() in SCORE_SOURCES
        )
    ):
        return "scores"
    if "id" in keys and "timestamp" in keys and "traceId" not in keys and len(TRACE_ONLY_FIELDS & keys) >= 2:
        return "traces"
    return None


def sniff_kind(src: Source) -> tuple[Kind | None, int]:
    """(kind, confidence) from the sniffed records; (None, 0) if this is not a Langfuse export."""
    records = [r for r in unwrap(src.records) if r is not None]
    if records:
        kinds = [record_kind(r) for r in records]
        counts = {k: kinds.count(k) for k in TARGETS}
        best = max(counts, key=lambda k: counts[k])
        if counts[best] == 0 or counts[best] * 2 < len(records):
            return None, 0
        return best, CONFIDENCE[best]
    if src.container == "json" and not any(is_page(r) for r in src.records):
        return _sniff_text(src)
    return None, 0


def _sniff_text(src: Source) -> tuple[Kind | None, int]:
    """A single JSON document too large for record sniffing: look for a Langfuse page in its first bytes."""
    opener = gzip.open if src.compression == "gzip" else open
    try:
        with opener(src.path, "rb") as handle:
            head = handle.read(_TEXT_SNIFF_BYTES).decode("utf-8", errors="replace")
    except (OSError, EOFError, zlib.error):
        return None, 0
    if not re.match(r'\s*(\[|\{\s*"(data|meta)"\s*:)', head):
        return None, 0
    for kind, patterns in _TEXT_PATTERNS.items():
        if all(p.search(head) for p in patterns):
            return kind, CONFIDENCE[kind] - 20
    return None, 0


class LangfuseAdapter(Adapter):
    name = "langfuse"
    description = "Langfuse public API exports: observations → calls, traces → trace context, scores → outcomes"
    containers = ("jsonl", "json")

    def __init__(self, kind: Kind | None = None) -> None:
        self.kind: Kind | None = kind

    @property
    def target(self) -> Target:  # type: ignore[override]  # Adapter's ClassVar; here the file's kind decides it
        return TARGETS[self.kind or "observations"]

    def for_source(self, src: Source, ctx: IngestContext) -> LangfuseAdapter:
        """A per-file adapter with the file's kind fixed (for a runner that resolves adapters per file)."""
        kind, _ = sniff_kind(src)
        return LangfuseAdapter(kind)

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return sniff_kind(src)[1]

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        load_json_records(con, src)
        self.run_sql(con, "staging/langfuse_records.sql")
        kind = sniff_kind(src)[0] or self._kind_in_db(con)
        if kind is None and not one_row(con.execute("SELECT count(*) FROM langfuse_records"))[0]:
            kind = "observations"  # an empty export (no records at all): nothing to load
        if kind is None:
            raise InputError(
                src.display,
                "is not a Langfuse observations, traces or scores export",
                fix="export observations, traces or scores from the Langfuse public API, one kind per file",
            )
        self.kind = kind
        if kind == "scores":
            self._score_config(con, ctx)
        self.run_sql(con, STAGING[kind])

    @staticmethod
    def _kind_in_db(con: duckdb.DuckDBPyConnection) -> Kind | None:
        """The most common record kind in the file (when sniffing saw no records: a large single page)."""
        row = con.execute(
            "SELECT kind, count(*) AS n FROM langfuse_records WHERE kind IS NOT NULL "
            "GROUP BY kind ORDER BY n DESC, kind LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    @staticmethod
    def _score_config(con: duckdb.DuckDBPyConnection, ctx: IngestContext) -> None:
        """langfuse_score_names(role, name) and langfuse_score_settings from [outcomes.scores], as data."""
        scores = ctx.config.outcomes.scores
        pairs = [
            (role, name.strip().lower())
            for role, names in (
                ("accepted", scores.accepted),
                ("quality", scores.quality),
                ("human_review", scores.human_review),
            )
            for name in names
            if name.strip()
        ]
        con.execute(
            "CREATE OR REPLACE TEMP TABLE langfuse_score_names AS "
            "SELECT CAST(unnest(?) AS VARCHAR) AS role, CAST(unnest(?) AS VARCHAR) AS name",
            [[role for role, _ in pairs], [name for _, name in pairs]],
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE langfuse_score_settings AS SELECT CAST(? AS DOUBLE) AS accept_threshold",
            [scores.accept_threshold],
        )


ADAPTER = LangfuseAdapter()
