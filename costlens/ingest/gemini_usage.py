"""Gemini API / Vertex AI generateContent responses logged by an application: bare responses (usageMetadata,
modelVersion, responseId) or the app wrapper {timestamp, metadata, request, response | null, error}.

Record classification and staging are shared with the other provider-response adapters (openai_usage.py), so
a log that mixes providers is read whole by any of them.
"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.openai_usage import detect_score, stage_provider_usage
from costlens.ingest.sources import Source


class GeminiUsageAdapter(Adapter):
    name = "gemini"
    target = "calls"
    stages_outside_transaction = True  # a large file is converted a slice at a time (stage_provider_usage)
    description = "Gemini API / Vertex AI generateContent responses logged by an app (bare or wrapped)"

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return detect_score(src, "google")

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        stage_provider_usage(con, src, "google")


ADAPTER = GeminiUsageAdapter()
