"""Azure cost exports (Azure OpenAI meters). (Placeholder: not implemented yet; never claims a file.)"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.sources import Source


class AzureCostAdapter(Adapter):
    name = "azure_cost"
    target = "billing_lines"
    description = "Azure cost exports (Azure OpenAI meters)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        raise NotImplementedError


ADAPTER = AzureCostAdapter()
