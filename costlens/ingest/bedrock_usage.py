"""Amazon Bedrock Converse / ConverseStream responses logged by an application. A Converse response does not
name its model, so it is read from the app wrapper's request.modelId (or a top-level modelId).

Record classification and staging are shared with the other provider-response adapters (openai_usage.py), so
a log that mixes providers is read whole by any of them.
"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.openai_usage import detect_score, stage_provider_usage
from costlens.ingest.sources import Source


class BedrockUsageAdapter(Adapter):
    name = "bedrock"
    target = "calls"
    stages_outside_transaction = True  # a large file is converted a slice at a time (stage_provider_usage)
    description = "Amazon Bedrock Converse responses logged by an app (wrapped with request.modelId)"

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return detect_score(src, "bedrock")

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        stage_provider_usage(con, src, "bedrock")


ADAPTER = BedrockUsageAdapter()
