"""Anthropic usage and cost reports (API JSON, console CSV). (Placeholder: not implemented yet; never claims a file.)"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.sources import Source


class AnthropicBillingAdapter(Adapter):
    name = "anthropic_billing"
    target = "billing_lines"
    description = "Anthropic usage and cost reports (API JSON, console CSV)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        raise NotImplementedError


ADAPTER = AnthropicBillingAdapter()
