"""Amazon Bedrock Converse / ConverseStream responses logged by an application. A Converse response does not
name its model, so it is read from the app wrapper's request.modelId (or a top-level modelId).

Record classification and staging are shared with the other provider-response adapters (openai_usage.py), so
a log that mixes providers is read whole by any of them.
"""

from __future__ import annotations

from costlens.ingest.openai_usage import ProviderUsageAdapter


class BedrockUsageAdapter(ProviderUsageAdapter):
    name = "bedrock"
    primary = "bedrock"
    description = "Amazon Bedrock Converse responses logged by an app (wrapped with request.modelId)"


ADAPTER = BedrockUsageAdapter()
