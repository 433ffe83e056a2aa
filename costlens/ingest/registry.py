"""Every adapter, by name. Adding a producer = one module + one line here."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

from costlens.errors import UsageError

if TYPE_CHECKING:
    from costlens.ingest.base import Adapter

# name → module (imported only when needed, so the CLI starts fast)
ADAPTER_MODULES: dict[str, str] = {
    "otel": "costlens.ingest.otel",
    "openai": "costlens.ingest.openai_usage",
    "anthropic": "costlens.ingest.anthropic_usage",
    "gemini": "costlens.ingest.gemini_usage",
    "bedrock": "costlens.ingest.bedrock_usage",
    "outcomes": "costlens.ingest.outcomes",
    "revenue": "costlens.ingest.revenue",
    "focus": "costlens.ingest.focus",
    "generic": "costlens.ingest.generic",
    "litellm": "costlens.ingest.litellm",
    "helicone": "costlens.ingest.helicone",
    "langfuse": "costlens.ingest.langfuse",
    "claude_code": "costlens.ingest.claude_code",
    "openai_billing": "costlens.ingest.openai_billing",
    "anthropic_billing": "costlens.ingest.anthropic_billing",
    "aws_cur": "costlens.ingest.aws_cur",
    "azure_cost": "costlens.ingest.azure_cost",
    "gcp_billing": "costlens.ingest.gcp_billing",
    "block_trace": "costlens.ingest.block_trace",
}


@cache
def get_adapter(name: str) -> Adapter:
    if name not in ADAPTER_MODULES:
        raise UsageError(f"unknown format {name!r}", fix=f"use one of: {', '.join(sorted(ADAPTER_MODULES))}")
    return import_module(ADAPTER_MODULES[name]).ADAPTER


def all_adapters() -> list[Adapter]:
    return [get_adapter(name) for name in ADAPTER_MODULES]
