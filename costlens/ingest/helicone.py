"""Helicone request exports. (Placeholder: not implemented yet; never claims a file.)"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.sources import Source


class HeliconeAdapter(Adapter):
    name = "helicone"
    target = "calls"
    description = "Helicone request exports"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        raise NotImplementedError


ADAPTER = HeliconeAdapter()
