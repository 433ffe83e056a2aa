"""OpenAI responses logged by an application: bare Chat Completions / Responses / Embeddings objects,
Batch API output lines, or an app wrapper {timestamp, latency_ms, metadata, request, response | null, error}.

The same app wrapper is used for Anthropic (anthropic_usage.py), and one log file may hold both providers'
calls. Both adapters therefore share the record classification below and `stage_provider_usage`: each line
is converted by the staging SQL of the provider whose shape it has, whichever adapter was chosen for the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from costlens.db import one_row
from costlens.ingest.base import Adapter, IngestContext, nested
from costlens.ingest.readers import load_json_batch, load_json_records, sql_string
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

Provider = Literal["openai", "anthropic", "google", "bedrock"]

OPENAI_OBJECTS = {"chat.completion", "chat.completion.chunk", "response", "text_completion"}
ANTHROPIC_STREAM_EVENTS = {
    "message_start",
    "message_delta",
    "message_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
}
# Claude Code session logs (left for their own adapter) and other producers that embed response objects.
CLAUDE_CODE_TYPES = {"user", "assistant", "progress", "system", "summary", "file-history-snapshot", "queue-operation"}
OPENAI_MODEL_PREFIXES = (
    "gpt",
    "chatgpt",
    "o1",
    "o3",
    "o4",
    "text-embedding",
    "davinci",
    "babbage",
    "codex",
    "computer-use",
)


def _obj(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def _probe(record: dict) -> dict:
    """The candidate response object of a line (same rule as the `probe` column in the staging SQL)."""
    response = _obj(record.get("response"))
    if response is not None:
        return _obj(response.get("body")) or response
    message = _obj(nested(record, "result", "message"))
    if message is not None:
        return message
    if record.get("type") == "message_start" and _obj(record.get("message")) is not None:
        return record["message"]
    return record


def classify_record(record: Any) -> tuple[str | None, bool]:
    """(owner, strong): owner is 'openai', 'anthropic', 'foreign' (a format another adapter owns) or None;
    strong is True when the response itself shows it, False for a hint from the model / provider name only."""
    if not isinstance(record, dict):
        return None, False
    if "resourceSpans" in record:
        return "foreign", True
    if record.get("type") in CLAUDE_CODE_TYPES and {"sessionId", "uuid", "leafUuid", "messageId"} & record.keys():
        return "foreign", True
    if {"spend", "call_type"} <= record.keys() or "usageDetails" in record or "response_body" in record:
        return "foreign", True  # LiteLLM spend logs, Langfuse observations, Helicone exports
    probe = _probe(record)
    usage = _obj(probe.get("usage")) or _obj(probe.get("usageMetadata")) or {}
    if (
        probe.get("object") in OPENAI_OBJECTS
        or (probe.get("object") == "list" and "prompt_tokens" in usage)
        or {"prompt_tokens", "completion_tokens", "input_tokens_details", "output_tokens_details"} & usage.keys()
        or ("custom_id" in record and isinstance(nested(record, "response", "status_code"), (int, str)))
        or str(record.get("type", "")).startswith("response.")
    ):
        return "openai", True
    if (
        probe.get("type") == "message"
        or {"cache_read_input_tokens", "cache_creation_input_tokens"} & usage.keys()
        or ("custom_id" in record and _obj(record.get("result")) is not None)
        or record.get("type") in ANTHROPIC_STREAM_EVENTS
        or str(probe.get("id", "")).startswith("msg_")
    ):
        return "anthropic", True
    if "usageMetadata" in probe or "modelVersion" in probe or isinstance(probe.get("candidates"), list):
        return "google", True
    if {"inputTokens", "outputTokens"} & usage.keys() or "stopReason" in probe or _obj(probe.get("metrics")):
        return "bedrock", True
    # A failed call has no response: only the request model or the provider can tell.
    if not any(key in record for key in ("response", "error", "request")):
        return None, False
    model = str(nested(record, "request", "model") or record.get("model") or "").lower()
    provider = str(nested(record, "metadata", "provider") or record.get("provider") or "").lower()
    if "anthropic" in provider or model.startswith("claude") or "anthropic" in model:
        return "anthropic", False
    if provider in {"openai", "azure.openai", "azure", "azure_openai", "azure.ai.openai"} or model.startswith(
        OPENAI_MODEL_PREFIXES
    ):
        return "openai", False
    if provider in {"google", "gemini", "vertex_ai", "gcp.vertex_ai"} or model.startswith("gemini"):
        return "google", False
    if "bedrock" in provider or nested(record, "request", "modelId"):
        return "bedrock", False
    return None, False


def detect_score(src: Source, me: Provider) -> int:
    """Confidence that the sniffed records are provider `me`'s app-logged responses (0 = not this format)."""
    records = [r for r in src.records if isinstance(r, dict)]
    if not records:
        return 0
    owners = src.derived.get("provider_owners")
    if owners is None:  # the four provider adapters read the same classification
        owners = src.derived["provider_owners"] = [classify_record(r) for r in records]
    if any(owner == "foreign" for owner, _ in owners):
        return 0
    strong = sum(owner == me and is_strong for owner, is_strong in owners)
    mine = sum(owner == me for owner, _ in owners)
    other_strong = sum(owner not in (me, None) and is_strong for owner, is_strong in owners)
    if strong == 0:
        # Only failed calls: a weak guess from the model name, and never against the other provider's records.
        return 20 if mine and not other_strong else 0
    return 50 + round(40 * mine / len(records))


# provider_lines.owner → the staging file that converts that provider's lines
PROVIDER_STAGING = {
    "openai": "staging/openai_usage.sql",
    "anthropic": "staging/anthropic_usage.sql",
    "google": "staging/gemini_usage.sql",
    "bedrock": "staging/bedrock_usage.sql",
}


# Lines converted per pass. provider_lines holds every line's text with its parsed parts, several times the
# file's size: a 10M-line file converted in one pass spilled past 50 GB of disk. Passes of this many lines
# bound that to one pass's worth; the result is the same rows as one pass (tests/test_provider_slices.py).
PROVIDER_SLICE_LINES = 1_000_000


def stage_provider_usage(con: duckdb.DuckDBPyConnection, src: Source, primary: str) -> None:
    """Load the file and build `staged`: every line parsed and classified once (staging/provider_lines.sql),
    then converted by its own provider's staging SQL; lines of unknown shape by the primary's, which says why
    they cannot be read. A file of more than PROVIDER_SLICE_LINES lines is converted a slice of lines at a time."""
    load_json_records(con, src)
    # Anthropic and Bedrock objects carry no time of their own: the file's modification time is the fallback.
    con.execute(
        "CREATE OR REPLACE TEMP VIEW provider_input AS SELECT r.source_row, r.doc, c.source_file, c.source_sha256, "
        f"make_timestamp(c.mtime_ns // 1000) AS file_mtime, {sql_string(primary)} AS primary_provider "
        "FROM raw_json r CROSS JOIN ingest_ctx c"
    )
    last_row = int(one_row(con.execute("SELECT coalesce(max(source_row), 0) FROM raw_json"))[0])
    if last_row <= PROVIDER_SLICE_LINES:
        _stage_provider_lines(con, "staged", primary)
        return
    con.execute("DROP TABLE IF EXISTS raw_json_all")
    con.execute("ALTER TABLE raw_json RENAME TO raw_json_all")
    parts: list[str] = []
    carried: int | None = None  # the last message_start line before this slice (a delta in it may belong to it)
    for first in range(1, last_row + 1, PROVIDER_SLICE_LINES):
        last = first + PROVIDER_SLICE_LINES - 1
        carry = f" OR source_row = {carried}" if carried is not None else ""
        con.execute(
            "CREATE OR REPLACE TEMP VIEW raw_json AS SELECT * FROM raw_json_all "
            f"WHERE source_row BETWEEN {first} AND {last}{carry}"
        )
        part = f"staged_slice_{len(parts)}"
        _stage_provider_lines(con, part, primary)
        con.execute(f"DELETE FROM {part} WHERE source_row < {first}")  # the carried line is its own slice's
        parts.append(part)
        started = one_row(con.execute("SELECT max(source_row) FROM provider_lines WHERE t.type = 'message_start'"))[0]
        carried = int(started) if started is not None else carried
    con.execute("DROP VIEW raw_json")
    con.execute("ALTER TABLE raw_json_all RENAME TO raw_json")
    con.execute("DROP TABLE IF EXISTS staged")
    con.execute("CREATE TEMP TABLE staged AS " + " UNION ALL BY NAME ".join(f"SELECT * FROM {p}" for p in parts))
    for part in parts:
        con.execute(f"DROP TABLE {part}")


def stage_provider_batch(con: duckdb.DuckDBPyConnection, srcs: list[Source]) -> None:
    """`staged` for a batch of small app-log files, read and converted by one statement per step: each line
    names its file, its file's modification time is its fallback time, and its file's format (the adapter
    chosen for it: files of a mixed log may differ) its primary provider."""
    from costlens.ingest.registry import get_adapter

    load_json_batch(con, srcs)
    formats = [row[0] for row in con.execute("SELECT DISTINCT source_format FROM ingest_files ORDER BY 1").fetchall()]
    primaries = {name: _primary_of(get_adapter(name)) for name in formats}
    primary = " ".join(f"WHEN {sql_string(name)} THEN {sql_string(value)}" for name, value in primaries.items())
    con.execute(
        "CREATE OR REPLACE TEMP VIEW provider_input AS SELECT r.source_row, r.doc, r.source_file, f.source_sha256, "
        f"make_timestamp(f.mtime_ns // 1000) AS file_mtime, CASE f.source_format {primary} END AS primary_provider "
        "FROM raw_json r JOIN ingest_files f USING (source_file)"
    )
    _stage_provider_lines(con, "staged", next(iter(primaries.values())))


def _primary_of(adapter: Adapter) -> str:
    if not isinstance(adapter, ProviderUsageAdapter):
        raise TypeError(f"{adapter.name} is not an app-log format")  # the runner batches one family only
    return adapter.primary


def _stage_provider_lines(con: duckdb.DuckDBPyConnection, target: str, empty: str) -> None:
    """provider_input → table `target`: the lines classified, then each owner's lines (a line of unknown shape:
    its file's primary provider's) converted by its staging SQL; no line at all: `empty`'s, for the columns."""
    Adapter.run_sql(con, "staging/provider_lines.sql")
    owners = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT coalesce(owner, primary_provider) FROM provider_lines ORDER BY 1"
        ).fetchall()
    ] or [empty]
    for owner in owners:
        Adapter.run_sql(con, PROVIDER_STAGING[owner])
    con.execute(f"DROP TABLE IF EXISTS {target}")
    if len(owners) == 1:  # the common case: no copy, the provider's table becomes the target
        con.execute(f"ALTER TABLE staged_{owners[0]} RENAME TO {target}")
        return
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM staged_{owner}" for owner in owners)
    con.execute(f"CREATE TEMP TABLE {target} AS {union}")
    for owner in owners:
        con.execute(f"DROP TABLE staged_{owner}")


class ProviderUsageAdapter(Adapter):
    """Responses of one provider logged by an app. The four provider adapters differ only in their primary
    provider (which converts lines of unknown shape, and so says why they cannot be read)."""

    target = "calls"
    stages_outside_transaction = True  # a large file is converted a slice at a time (stage_provider_usage)
    # Apps and proxies rotate logs into many small files: the runner loads them in batches (runner.py), files of
    # a mixed log read as different providers together.
    batch_files = True
    batch_family = "provider_usage"
    primary: ClassVar[Provider]

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return detect_score(src, self.primary)

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        stage_provider_usage(con, src, self.primary)

    def stage_batch(self, con: duckdb.DuckDBPyConnection, srcs: list[Source], ctx: IngestContext) -> None:
        stage_provider_batch(con, srcs)


class OpenAIUsageAdapter(ProviderUsageAdapter):
    name = "openai"
    primary = "openai"
    description = "OpenAI responses logged by an app (Chat Completions / Responses / Batch output, bare or wrapped)"


ADAPTER = OpenAIUsageAdapter()
