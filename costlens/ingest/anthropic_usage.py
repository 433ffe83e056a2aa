"""Anthropic Messages responses logged by an application: bare `message` objects, Message Batches result
lines, or the app wrapper {timestamp, latency_ms, metadata, request, response | null, error}.

Claude Code session logs (lines with `type` user / assistant, `sessionId` and `message.usage`) are not
claimed: they belong to their own adapter. Record classification and staging are shared with the OpenAI
adapter (see openai_usage.py), so a log that mixes both providers is read whole by either.
"""

from __future__ import annotations

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.openai_usage import detect_score, stage_provider_usage
from costlens.ingest.sources import Source


class AnthropicUsageAdapter(Adapter):
    name = "anthropic"
    target = "calls"
    stages_outside_transaction = True  # a large file is converted a slice at a time (stage_provider_usage)
    description = "Anthropic Messages responses logged by an app (bare, wrapped, or Message Batches results)"

    def detect(self, src: Source, ctx: IngestContext) -> int:
        return detect_score(src, "anthropic")

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        stage_provider_usage(con, src, "anthropic")


ADAPTER = AnthropicUsageAdapter()
