"""Anthropic Messages responses logged by an application: bare `message` objects, Message Batches result
lines, or the app wrapper {timestamp, latency_ms, metadata, request, response | null, error}.

Claude Code session logs (lines with `type` user / assistant, `sessionId` and `message.usage`) are not
claimed: they belong to their own adapter. Record classification and staging are shared with the OpenAI
adapter (see openai_usage.py), so a log that mixes both providers is read whole by either.
"""

from __future__ import annotations

from costlens.ingest.openai_usage import ProviderUsageAdapter


class AnthropicUsageAdapter(ProviderUsageAdapter):
    name = "anthropic"
    primary = "anthropic"
    description = "Anthropic Messages responses logged by an app (bare, wrapped, or Message Batches results)"


ADAPTER = AnthropicUsageAdapter()
