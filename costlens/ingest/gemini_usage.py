"""Gemini API / Vertex AI generateContent responses logged by an application: bare responses (usageMetadata,
modelVersion, responseId) or the app wrapper {timestamp, metadata, request, response | null, error}.

Record classification and staging are shared with the other provider-response adapters (openai_usage.py), so
a log that mixes providers is read whole by any of them.
"""

from __future__ import annotations

from costlens.ingest.openai_usage import ProviderUsageAdapter


class GeminiUsageAdapter(ProviderUsageAdapter):
    name = "gemini"
    primary = "google"
    description = "Gemini API / Vertex AI generateContent responses logged by an app (bare or wrapped)"


ADAPTER = GeminiUsageAdapter()
