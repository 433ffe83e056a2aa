"""Langfuse observations, traces and scores. (Placeholder: not implemented yet; never claims a file.)"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.sources import Source


class LangfuseAdapter(Adapter):
    name = "langfuse"
    target = "calls"
    description = "Langfuse observations, traces and scores"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        raise NotImplementedError


ADAPTER = LangfuseAdapter()
