"""Helicone request exports → calls: the `/v1/request/query-clickhouse` rows as written by `@helicone/export`
(JSON, JSON lines or CSV) or any CSV / Parquet with Helicone's column names.

The file is read in bulk into a temp view `helicone_src` (the same text columns whatever the container);
sql/staging/helicone.sql converts it. Conventions (details in the SQL):
- Helicone stores prompt_tokens WITHOUT the cache tokens: its OpenAI body processor subtracts
  prompt_tokens_details.cached_tokens (and audio tokens) before storing, Anthropic's input_tokens already
  exclude cache reads and writes, and Helicone prices prompt_tokens, prompt_cache_read_tokens and
  prompt_cache_write_tokens as separate, additive quantities. So canonical input = prompt_tokens. One
  exception is recognised from the row itself: an OpenAI-style provider row whose total_tokens equals
  prompt + completion while it has cache reads was stored before that normalisation (prompt still includes
  the cache) and gets the cache subtracted.
- costUSD → reported_cost_usd (DECIMAL straight from text); response_status ≥ 400 → failed call.
- request_properties (custom properties, `Helicone-Property-<Name>` headers) give feature / team / task /
  session / customer / environment, keys matched without regard to case, `-` / `_` or the
  `Helicone-Property-` prefix; the rest become tags. request_body / response_body are read only for the
  finish reason, max_tokens, error type and content fingerprints — never stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.readers import stage_field_view
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

FIELDS: dict[str, tuple[str, ...]] = {
    "request_id": ("request_id",),
    "response_id": ("response_id",),
    "request_created_at": ("request_created_at",),
    "response_created_at": ("response_created_at",),
    "request_user_id": ("request_user_id",),
    "request_path": ("request_path",),
    "request_model": ("request_model",),
    "response_model": ("response_model",),
    "model": ("model",),
    "provider": ("provider",),
    "response_status": ("response_status",),
    "delay_ms": ("delay_ms", "latency"),
    "total_tokens": ("total_tokens",),
    "prompt_tokens": ("prompt_tokens",),
    "prompt_cache_write_tokens": ("prompt_cache_write_tokens",),
    "prompt_cache_read_tokens": ("prompt_cache_read_tokens",),
    "completion_tokens": ("completion_tokens",),
    "cost_usd": ("costUSD", "costusd", "cost_usd"),
    "feedback_rating": ("feedback_rating",),
    # JSON-valued columns
    "request_properties": ("request_properties", "properties"),
    "scores": ("scores",),
    "request_body": ("request_body",),
    "response_body": ("response_body",),
}
JSON_FIELDS = {"request_properties", "scores", "request_body", "response_body"}

_HINTS = {
    "request_properties",
    "request_user_id",
    "response_status",
    "delay_ms",
    "costusd",
    "cost_usd",
    "prompt_cache_read_tokens",
    "prompt_cache_write_tokens",
    "request_model",
    "response_model",
    "time_to_first_token",
    "helicone_user",
    "request_path",
    "feedback_rating",
    "signed_body_url",
    "response_created_at",
    "model_override",
}


def _score(keys: set[str]) -> int:
    keys = {k.lower() for k in keys}
    if not keys & {"request_id", "response_id"}:
        return 0
    if "request_created_at" not in keys and "response_created_at" not in keys:
        return 0
    if not keys & {"prompt_tokens", "completion_tokens", "total_tokens", "costusd", "cost_usd"}:
        return 0
    return 90 if len(keys & _HINTS) >= 2 else 0


class HeliconeAdapter(Adapter):
    name = "helicone"
    target = "calls"
    description = "Helicone request exports (JSON, JSONL, CSV, Parquet)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        if src.container in ("csv", "parquet"):
            return _score(set(src.header))
        records = [r for r in src.records if isinstance(r, dict)]
        if not records:
            return 0
        scores = [_score(set(r)) for r in records]
        return 90 if sum(s > 0 for s in scores) >= max(1, (len(records) + 1) // 2) else 0

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        stage_field_view(con, src, "helicone_src", FIELDS, JSON_FIELDS)
        self.run_sql(con, "staging/helicone.sql")


ADAPTER = HeliconeAdapter()
