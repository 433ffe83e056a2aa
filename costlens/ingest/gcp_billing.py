"""GCP billing export (Vertex AI SKUs). (Placeholder: not implemented yet; never claims a file.)"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.sources import Source


class GcpBillingAdapter(Adapter):
    name = "gcp_billing"
    target = "billing_lines"
    description = "GCP billing export (Vertex AI SKUs)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        raise NotImplementedError


ADAPTER = GcpBillingAdapter()
