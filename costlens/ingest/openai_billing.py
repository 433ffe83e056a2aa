"""OpenAI usage and cost exports (dashboard CSV, API pages). (Placeholder: not implemented yet; never claims a file.)"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.sources import Source


class OpenAIBillingAdapter(Adapter):
    name = "openai_billing"
    target = "billing_lines"
    description = "OpenAI usage and cost exports (dashboard CSV, API pages)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        raise NotImplementedError


ADAPTER = OpenAIBillingAdapter()
