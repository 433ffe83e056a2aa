"""LiteLLM proxy exports → calls: the `LiteLLM_SpendLogs` table (one row per request, with LiteLLM's own cost
estimate `spend`) and the `LiteLLM_ErrorLogs` table (failed requests), dumped as CSV, Parquet, JSON (array),
JSON lines, or a `/spend/logs` API page `{"data": [...]}`.

The file is read in bulk into a temp view `litellm_src` holding the same text columns whatever the container
(positional CSV / Parquet columns, or one json_transform per JSON line); sql/staging/litellm.sql converts it.
Conventions (see the SQL for the details):
- prompt_tokens follows OpenAI: it INCLUDES cache reads and cache writes (LiteLLM adds Anthropic's
  cache_read / cache_creation tokens into prompt_tokens); the cache split is only in
  metadata.additional_usage_values. Canonical input = prompt − cache reads − cache writes.
- A LiteLLM response-cache hit (`cache_hit` true) never reached a provider and is not billed: it is skipped
  (accounted for in the quarantine table as 'skipped'), not loaded as a $0 call.
- `spend` → reported_cost_usd, parsed from text straight to DECIMAL (float text like 1.5e-05 included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.readers import load_json_records, stage_field_view
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

# view column → source names (CSV / Parquet headers match without regard to case; JSON keys exactly, so the
# usual spellings are listed). Scalars are read as text; JSON_FIELDS keep their JSON text.
FIELDS: dict[str, tuple[str, ...]] = {
    "request_id": ("request_id",),
    "call_type": ("call_type",),
    "api_key": ("api_key",),
    "spend": ("spend",),
    "total_tokens": ("total_tokens",),
    "prompt_tokens": ("prompt_tokens",),
    "completion_tokens": ("completion_tokens",),
    "start_time": ("startTime", "starttime", "start_time"),
    "end_time": ("endTime", "endtime", "end_time"),
    "completion_start_time": ("completionStartTime", "completionstarttime", "completion_start_time"),
    "request_duration_ms": ("request_duration_ms",),
    "model": ("model",),
    "model_id": ("model_id",),
    "model_group": ("model_group",),
    "custom_llm_provider": ("custom_llm_provider",),
    "api_base": ("api_base",),
    "litellm_user": ("user",),
    "cache_hit": ("cache_hit",),
    "cache_key": ("cache_key",),
    "team_id": ("team_id",),
    "organization_id": ("organization_id",),
    "end_user": ("end_user",),
    "session_id": ("session_id",),
    "status": ("status",),
    "agent_id": ("agent_id",),
    # LiteLLM_ErrorLogs
    "litellm_model_name": ("litellm_model_name",),
    "exception_type": ("exception_type",),
    "status_code": ("status_code",),
    # JSON-valued columns
    "metadata": ("metadata",),
    "request_tags": ("request_tags",),
    "messages": ("messages",),
    "response": ("response",),
    "request_kwargs": ("request_kwargs",),
}
JSON_FIELDS = {"metadata", "request_tags", "messages", "response", "request_kwargs"}

SPEND_MARKERS = {"request_id", "call_type", "spend"}
SPEND_HINTS = {
    "starttime",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "model_group",
    "api_key",
    "cache_hit",
    "request_tags",
    "custom_llm_provider",
    "metadata",
    "endtime",
}
ERROR_MARKERS = {"request_id", "exception_type"}
ERROR_HINTS = {"litellm_model_name", "request_kwargs", "exception_string", "model_group", "starttime", "status_code"}


def _score(keys: set[str]) -> int:
    keys = {k.lower() for k in keys}
    if SPEND_MARKERS <= keys and len(keys & SPEND_HINTS) >= 2:
        return 95
    if ERROR_MARKERS <= keys and len(keys & ERROR_HINTS) >= 2:
        return 95
    return 0


def _is_page(record: Any) -> bool:
    """A /spend/logs API page: {"data": [spend log, ...], "total": ...}."""
    if not isinstance(record, dict) or not isinstance(record.get("data"), list):
        return False
    rows = [r for r in record["data"][:5] if isinstance(r, dict)]
    return bool(rows) and all(_score(set(r)) for r in rows)


class LiteLLMAdapter(Adapter):
    name = "litellm"
    target = "calls"
    description = "LiteLLM proxy SpendLogs / ErrorLogs exports (CSV, Parquet, JSON, JSONL)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        if src.container in ("csv", "parquet"):
            return _score(set(src.header))
        records = [r for r in src.records if isinstance(r, dict)]
        if records and all(_is_page(r) for r in records):
            return 95
        if not records:
            return 0
        # every sniffed record must be a log row (a stray invalid line is quarantined, not a reason to refuse)
        scores = [_score(set(r)) for r in records]
        return 95 if sum(s > 0 for s in scores) >= max(1, (len(records) + 1) // 2) else 0

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        is_json = src.container not in ("csv", "parquet")
        if is_json:  # raw_json first: API pages are unwrapped into one row per log entry
            load_json_records(con, src)
            records = [r for r in src.records if isinstance(r, dict)]
            if records and all(_is_page(r) for r in records):
                unwrap_pages(con)
        stage_field_view(con, src, "litellm_src", FIELDS, JSON_FIELDS, json_loaded=is_json)
        self.run_sql(con, "staging/litellm.sql")


def unwrap_pages(con: duckdb.DuckDBPyConnection) -> None:
    """API pages → one raw_json row per element of `data`, numbered in file order."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE raw_json AS
           SELECT row_number() OVER (ORDER BY r.source_row, CAST(e.key AS BIGINT)) AS source_row, e.value AS doc
           FROM raw_json r, json_each(r.doc, '$.data') e"""
    )


ADAPTER = LiteLLMAdapter()
