"""AWS Cost and Usage Report 2.0 (Bedrock lines). (Placeholder: not implemented yet; never claims a file.)"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.sources import Source


class AwsCurAdapter(Adapter):
    name = "aws_cur"
    target = "billing_lines"
    description = "AWS Cost and Usage Report 2.0 (Bedrock lines)"
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        raise NotImplementedError


ADAPTER = AwsCurAdapter()
