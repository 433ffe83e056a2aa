"""Real-world OpenTelemetry GenAI span corpus: the instrumentation libraries' own code, run against mockapi.py.

Each setup instruments one library (or a stack of them), runs the fixed scenario below against the local mock
API (recorded response bodies, see PROVENANCE.md), un-instruments, and writes what the SDK exporter received.

Run one setup (from the repository root, with any Python that has requirements.txt installed, e.g. the
project's own virtualenv; a fresh process per setup, because instrumentors monkeypatch the SDK clients and set
the global tracer provider)::

    python tests/realworld/otel/setups.py SETUP_NAME OUTDIR
    python tests/realworld/otel/setups.py all OUTDIR     # each in its own subprocess (same interpreter)
    python tests/realworld/otel/setups.py list

Exit status: 0 ok, 3 the setup cannot run in this environment (a library is missing), anything else a failure.

Files written for a setup NAME:

- ``NAME.otlp.jsonl``   OTLP/JSON as the collector's file exporter writes it: one ExportTraceServiceRequest per
  line (here: one per trace), camelCase fields, hex trace/span ids, integer enums, compact.
- ``NAME.spans.jsonl``  ``ReadableSpan.to_json()`` of each finished span, one compact JSON object per line.
- ``NAME.logs.jsonl``   OTel log records (GenAI events some libraries emit through the Logs API), if any.
- ``NAME.run.json``     versions, the calls made (label, fixture served, outcome), and the served requests.

The scenario (per API; every call's prompt carries ``[[mock:FIXTURE]]`` so the mock answers it with that
recorded body):

- parent span ``handle_ticket`` {costlens.feature=support-bot, costlens.task_id=task-1} wrapping 2 calls;
- parent span ``summarize`` {costlens.feature=summarizer} wrapping 1 streamed call;
- 1 failed call (HTTP 429 / 500, SDK retries off) with no parent;
- with no parent: a cached-prompt call, a cache-write call (OpenAI chat: ``cache_write_tokens``; Anthropic:
  5m + 1h cache writes), and a reasoning call.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from mockapi import MockAPI  # noqa: E402

APP_SCOPE = "costlens.realworld.app"
SYSTEM_PROMPT = "You are a helpful support assistant for an online shop. Answer briefly."


# ---------------------------------------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    label: str  # stable name of the call within the scenario
    api: str  # chat | responses | messages
    fixture: str  # which recorded body answers it (mockapi fixtures/NAME.json)
    model: str  # the model the client requests
    group: str | None = None  # parent span, or None for a root call
    stream: bool = False
    kind: str = "plain"  # plain | web_search | error | cached | cache_write | reasoning
    prompt: str = "Where is my order #1234?"


GROUPS: dict[str, dict[str, str]] = {
    "handle_ticket": {"costlens.feature": "support-bot", "costlens.task_id": "task-1"},
    "summarize": {"costlens.feature": "summarizer"},
}

SCENARIOS: dict[str, list[Call]] = {
    "chat": [
        Call("ticket_1", "chat", "chat_plain_a", "gpt-4o", "handle_ticket"),
        Call("ticket_2", "chat", "chat_plain_b", "gpt-5", "handle_ticket", prompt="And when will it arrive?"),
        Call(
            "summary_stream",
            "chat",
            "chat_stream",
            "gpt-4o-mini",
            "summarize",
            stream=True,
            prompt="Summarize the ticket.",
        ),
        Call("failed", "chat", "chat_error", "gpt-4o", kind="error"),
        Call("cached", "chat", "chat_cached", "gpt-5.6-sol", kind="cached"),
        Call("cache_write", "chat", "chat_cache_write", "gpt-5.6-sol", kind="cache_write"),
        Call("reasoning", "chat", "chat_reasoning", "o3-mini", kind="reasoning", prompt="hello"),
    ],
    "responses": [
        Call("ticket_1", "responses", "resp_plain_a", "gpt-4o", "handle_ticket"),
        Call("ticket_2", "responses", "resp_plain_b", "gpt-4.1", "handle_ticket", prompt="And when will it arrive?"),
        Call(
            "summary_stream",
            "responses",
            "resp_stream",
            "gpt-4.1",
            "summarize",
            stream=True,
            prompt="Summarize the ticket.",
        ),
        Call("failed", "responses", "resp_error", "gpt-4.1", kind="error"),
        Call("cached", "responses", "resp_cached", "gpt-5.6-sol", kind="cached"),
        Call(
            "reasoning", "responses", "resp_reasoning", "o3-mini", kind="reasoning", prompt="How do I cross the street?"
        ),
    ],
    "messages": [
        Call("ticket_1", "messages", "msg_plain_a", "claude-sonnet-4-5", "handle_ticket"),
        Call(
            "ticket_2",
            "messages",
            "msg_web_search",
            "claude-sonnet-4-0",
            "handle_ticket",
            kind="web_search",
            prompt="What is the weather in San Francisco today?",
        ),
        Call(
            "summary_stream",
            "messages",
            "msg_stream",
            "claude-sonnet-4-5",
            "summarize",
            stream=True,
            prompt="Summarize the ticket.",
        ),
        Call("failed", "messages", "msg_error", "claude-sonnet-4-5", kind="error"),
        Call("cached", "messages", "msg_cached", "claude-sonnet-4-5", kind="cached"),
        Call("cache_write", "messages", "msg_cache_1h", "claude-sonnet-4-5", kind="cache_write"),
        Call("reasoning", "messages", "msg_reasoning", "claude-opus-5", kind="reasoning", prompt="What is 2+2?"),
    ],
}


def prompt_of(call: Call) -> str:
    return f"[[mock:{call.fixture}]] {call.prompt}"


# ---------------------------------------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------------------------------------


@dataclass
class CallResult:
    label: str
    fixture: str
    model: str
    group: str | None
    stream: bool
    kind: str
    ok: bool
    error: str | None = None


@dataclass
class Context:
    name: str
    api: MockAPI
    anthropic_sdk_tracing: bool
    results: list[CallResult] = field(default_factory=list)
    provider: Any = None
    exporter: Any = None
    log_exporter: Any = None
    logger_provider: Any = None
    notes: list[str] = field(default_factory=list)

    # -- OTel SDK ----------------------------------------------------------------------------------------
    def install_sdk(self) -> None:
        """An isolated TracerProvider with an in-memory exporter, made the global provider (as an app does:
        SDK-native tracing, e.g. the Anthropic SDK's, uses the global one)."""
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(resource=Resource.create({"service.name": f"realworld-{self.name}"}))
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        trace.set_tracer_provider(self.provider)
        self._install_logs()

    def _install_logs(self) -> None:
        from opentelemetry import _logs
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

        try:
            from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter as _InMem
        except ImportError:  # older SDKs
            from opentelemetry.sdk._logs.export import InMemoryLogExporter as _InMem  # type: ignore
        self.log_exporter = _InMem()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))
        _logs.set_logger_provider(self.logger_provider)

    def tracer(self):
        from opentelemetry import trace

        return trace.get_tracer(APP_SCOPE)

    # -- clients -----------------------------------------------------------------------------------------
    def openai(self, async_: bool = False):
        import openai

        cls = openai.AsyncOpenAI if async_ else openai.OpenAI
        return cls(base_url=self.api.openai_base_url, api_key="test", max_retries=0)

    def anthropic(self, async_: bool = False):
        import anthropic

        cls = anthropic.AsyncAnthropic if async_ else anthropic.Anthropic
        kwargs: dict[str, Any] = {}
        if not self.anthropic_sdk_tracing:
            kwargs["open_telemetry"] = False
        elif "open_telemetry" in _init_params(cls):
            kwargs["open_telemetry"] = None  # the SDK default: on, through the global tracer provider
        return cls(base_url=self.api.base_url, api_key="test", max_retries=0, **kwargs)


def _init_params(cls) -> set[str]:
    import inspect

    return set(inspect.signature(cls.__init__).parameters)


def run_scenario(ctx: Context, api: str, do_call: Callable[[Call], None]) -> None:
    """The fixed scenario: contiguous calls of one group share one parent span."""
    tracer = ctx.tracer()
    calls = SCENARIOS[api]
    i = 0
    while i < len(calls):
        group = calls[i].group
        batch = [calls[i]]
        while i + len(batch) < len(calls) and group is not None and calls[i + len(batch)].group == group:
            batch.append(calls[i + len(batch)])
        if group is None:
            _one(ctx, do_call, batch[0])
        else:
            with tracer.start_as_current_span(group, attributes=GROUPS[group]):
                for call in batch:
                    _one(ctx, do_call, call)
        i += len(batch)


def _one(ctx: Context, do_call: Callable[[Call], None], call: Call) -> None:
    result = CallResult(call.label, call.fixture, call.model, call.group, call.stream, call.kind, ok=True)
    try:
        do_call(call)
    except Exception as exc:  # the failed call is expected to raise; anything else is recorded too
        result.ok = False
        result.error = f"{type(exc).__module__}.{type(exc).__qualname__}: {str(exc)[:200]}"
    if (call.kind == "error") == result.ok:
        ctx.notes.append(f"UNEXPECTED outcome for {call.label}: ok={result.ok} error={result.error}")
    ctx.results.append(result)


# ---------------------------------------------------------------------------------------------------------
# How each API is called with the plain SDK clients (the instrumentors wrap these)
# ---------------------------------------------------------------------------------------------------------


def openai_chat_caller(client) -> Callable[[Call], None]:
    def do(call: Call) -> None:
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt_of(call)}]
        kwargs: dict[str, Any] = {}
        if call.kind == "reasoning":
            kwargs["max_completion_tokens"] = 100
        if call.kind in ("cached", "cache_write"):
            kwargs["prompt_cache_key"] = "support-bot-v1"
        if call.stream:
            stream = client.chat.completions.create(
                model=call.model, messages=messages, stream=True, stream_options={"include_usage": True}, **kwargs
            )
            for _ in stream:
                pass
        else:
            client.chat.completions.create(model=call.model, messages=messages, **kwargs)

    return do


def openai_responses_caller(client) -> Callable[[Call], None]:
    def do(call: Call) -> None:
        kwargs: dict[str, Any] = {}
        if call.kind == "reasoning":
            kwargs["reasoning"] = {"effort": "high"}
        if call.stream:
            stream = client.responses.create(
                model=call.model, instructions=SYSTEM_PROMPT, input=prompt_of(call), stream=True, **kwargs
            )
            for _ in stream:
                pass
        else:
            client.responses.create(model=call.model, instructions=SYSTEM_PROMPT, input=prompt_of(call), **kwargs)

    return do


def anthropic_messages_caller(client) -> Callable[[Call], None]:
    def do(call: Call) -> None:
        system: Any = SYSTEM_PROMPT
        kwargs: dict[str, Any] = {}
        if call.kind == "cached":
            system = [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}]
        if call.kind == "cache_write":
            system = [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
        if call.kind == "web_search":
            kwargs["tools"] = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 1}]
        if call.kind == "reasoning":  # as recorded: adaptive thinking with an effort level
            kwargs["thinking"] = {"type": "adaptive"}
            kwargs["output_config"] = {"effort": "high"}
        messages = [{"role": "user", "content": prompt_of(call)}]
        if call.stream:
            stream = client.messages.create(
                model=call.model, max_tokens=4096, system=system, messages=messages, stream=True, **kwargs
            )
            for _ in stream:
                pass
        else:
            client.messages.create(model=call.model, max_tokens=4096, system=system, messages=messages, **kwargs)

    return do


def sdk_caller(ctx: Context, api: str) -> Callable[[Call], None]:
    if api == "chat":
        return openai_chat_caller(ctx.openai())
    if api == "responses":
        return openai_responses_caller(ctx.openai())
    return anthropic_messages_caller(ctx.anthropic())


# ---------------------------------------------------------------------------------------------------------
# Setups
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    name: str
    api: str  # chat | responses | messages
    library: str  # what is being looked at
    packages: tuple[str, ...]  # distributions whose versions matter
    run: Callable[[Context], None]
    anthropic_sdk_tracing: bool = True  # the anthropic SDK's built-in tracing (on by default in the SDK)
    description: str = ""


def _instrumentor_setup(ctx: Context, api: str, make: Callable[[], Any], **kwargs: Any) -> None:
    ctx.install_sdk()
    inst = make()
    inst.instrument(tracer_provider=ctx.provider, logger_provider=ctx.logger_provider, **kwargs)
    try:
        run_scenario(ctx, api, sdk_caller(ctx, api))
    finally:
        inst.uninstrument()


class Unavailable(Exception):
    """The setup cannot run in this environment (a library is missing or cannot be imported)."""


def run_openai_v2(api: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        try:
            from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
        except ImportError as exc:
            # 2.4b0 (the last release; deprecated upstream for opentelemetry-instrumentation-genai-openai)
            # imports opentelemetry.util.genai.instruments, which opentelemetry-util-genai removed in 1.2b0,
            # while the genai-openai / genai-anthropic releases that work with anthropic 2.x need >= 1.3b0.
            raise Unavailable(
                f"opentelemetry-instrumentation-openai-v2 cannot be imported here: {exc!r}. "
                "It needs opentelemetry-util-genai<1.2 (see requirements-openai-v2.txt)."
            ) from exc

        _instrumentor_setup(ctx, api, OpenAIInstrumentor)

    return run


def run_genai_openai(api: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

        _instrumentor_setup(ctx, api, OpenAIInstrumentor)

    return run


def run_genai_anthropic(ctx: Context) -> None:
    from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

    _instrumentor_setup(ctx, "messages", AnthropicInstrumentor)


def run_anthropic_sdk_native(ctx: Context) -> None:
    ctx.install_sdk()
    run_scenario(ctx, "messages", sdk_caller(ctx, "messages"))


def run_traceloop_openai(api: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        _instrumentor_setup(ctx, api, OpenAIInstrumentor)

    return run


def run_traceloop_anthropic(ctx: Context) -> None:
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

    _instrumentor_setup(ctx, "messages", AnthropicInstrumentor)


def run_openinference_openai(api: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        from openinference.instrumentation.openai import OpenAIInstrumentor

        _instrumentor_setup(ctx, api, OpenAIInstrumentor)

    return run


def run_openinference_anthropic(ctx: Context) -> None:
    from openinference.instrumentation.anthropic import AnthropicInstrumentor

    _instrumentor_setup(ctx, "messages", AnthropicInstrumentor)


def _configure_logfire(ctx: Context) -> None:
    import logfire
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    ctx.exporter = InMemorySpanExporter()
    logfire.configure(
        send_to_logfire=False,
        console=False,
        service_name=f"realworld-{ctx.name}",
        additional_span_processors=[SimpleSpanProcessor(ctx.exporter)],
        inspect_arguments=False,
        metrics=False,
    )
    # logfire installs its own global TracerProvider (and LoggerProvider); ctx.tracer() (the global one) is
    # logfire's. Log records are not captured for logfire setups.


def run_logfire(api: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        import logfire

        _configure_logfire(ctx)
        if api == "messages":
            client = ctx.anthropic()
            instrumented = logfire.instrument_anthropic(client)
            caller = anthropic_messages_caller(client)
        else:
            client = ctx.openai()
            instrumented = logfire.instrument_openai(client)
            caller = openai_chat_caller(client) if api == "chat" else openai_responses_caller(client)
        try:
            with instrumented:  # leaving the context un-instruments the client
                run_scenario(ctx, api, caller)
        finally:
            logfire.force_flush()

    return run


# -- pydantic-ai --------------------------------------------------------------------------------------------


def _pydantic_ai_caller(ctx: Context, api: str) -> Callable[[Call], None]:
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import ModelHTTPError

    if api == "messages":
        from pydantic_ai.models.anthropic import AnthropicModel, AnthropicModelSettings
        from pydantic_ai.providers.anthropic import AnthropicProvider

        provider = AnthropicProvider(anthropic_client=ctx.anthropic(async_=True))

        def model_for(call: Call):
            return AnthropicModel(call.model, provider=provider)

        def settings_for(call: Call):
            s: dict[str, Any] = {"max_tokens": 4096}
            if call.kind == "cached":
                s["anthropic_cache_instructions"] = True
            if call.kind == "cache_write":
                s["anthropic_cache_instructions"] = "1h"
            if call.kind == "reasoning":
                s["anthropic_thinking"] = {"type": "adaptive"}
                s["anthropic_effort"] = "high"
            return AnthropicModelSettings(**s)
    else:
        from pydantic_ai.models.openai import (
            OpenAIChatModel,
            OpenAIChatModelSettings,
            OpenAIResponsesModel,
            OpenAIResponsesModelSettings,
        )
        from pydantic_ai.providers.openai import OpenAIProvider

        provider = OpenAIProvider(openai_client=ctx.openai(async_=True))
        cls = OpenAIChatModel if api == "chat" else OpenAIResponsesModel
        settings_cls = OpenAIChatModelSettings if api == "chat" else OpenAIResponsesModelSettings

        def model_for(call: Call):
            return cls(call.model, provider=provider)

        def settings_for(call: Call):
            s: dict[str, Any] = {}
            if call.kind == "reasoning":
                s["openai_reasoning_effort"] = "high"
            return settings_cls(**s)

    def capabilities(call: Call) -> list[Any]:
        if call.kind == "web_search":
            from pydantic_ai.capabilities import WebSearch

            return [WebSearch(max_uses=1)]
        return []

    agent = Agent(name="support_agent", instructions=SYSTEM_PROMPT)

    async def run(call: Call) -> None:
        kwargs = dict(model=model_for(call), model_settings=settings_for(call))
        caps = capabilities(call)
        if caps:
            kwargs["capabilities"] = caps
        if call.stream:
            async with agent.run_stream(prompt_of(call), **kwargs) as result:
                async for _ in result.stream_text():
                    pass
        else:
            await agent.run(prompt_of(call), **kwargs)

    loop = asyncio.new_event_loop()

    def do(call: Call) -> None:
        try:
            loop.run_until_complete(run(call))
        except ModelHTTPError:
            raise

    return do


def run_pydantic_ai(api: str, stack: str | None = None) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        from pydantic_ai import Agent
        from pydantic_ai.models.instrumented import InstrumentationSettings

        ctx.install_sdk()
        Agent.instrument_all(InstrumentationSettings(tracer_provider=ctx.provider))
        inst = None
        if stack == "genai_openai":
            from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

            inst = OpenAIInstrumentor()
            inst.instrument(tracer_provider=ctx.provider, logger_provider=ctx.logger_provider)
        try:
            run_scenario(ctx, api, _pydantic_ai_caller(ctx, api))
        finally:
            if inst is not None:
                inst.uninstrument()
            Agent.instrument_all(False)

    return run


OTEL_CORE = ("opentelemetry-api", "opentelemetry-sdk", "opentelemetry-semantic-conventions")
OFFICIAL = ("opentelemetry-instrumentation", "opentelemetry-util-genai")
TRACELOOP = ("opentelemetry-semantic-conventions-ai",)
OPENINF = ("openinference-instrumentation", "openinference-semantic-conventions")


def _setups() -> dict[str, Setup]:
    s: list[Setup] = [
        Setup(
            "otel_openai_v2_chat",
            "chat",
            "opentelemetry-instrumentation-openai-v2",
            ("opentelemetry-instrumentation-openai-v2", "openai", "httpx", *OFFICIAL),
            run_openai_v2("chat"),
            description="Official OTel contrib OpenAI instrumentation, deprecated upstream (Chat Completions "
            "only: it has no Responses API support). Cannot share a venv with the current "
            "genai-* packages: runs only with requirements-openai-v2.txt.",
        ),
        Setup(
            "otel_genai_openai_chat",
            "chat",
            "opentelemetry-instrumentation-genai-openai",
            ("opentelemetry-instrumentation-genai-openai", "openai", *OFFICIAL),
            run_genai_openai("chat"),
            description="Official OpenAI instrumentation from open-telemetry/opentelemetry-python-genai "
            "(successor of openai-v2).",
        ),
        Setup(
            "otel_genai_openai_responses",
            "responses",
            "opentelemetry-instrumentation-genai-openai",
            ("opentelemetry-instrumentation-genai-openai", "openai", *OFFICIAL),
            run_genai_openai("responses"),
        ),
        Setup(
            "otel_genai_anthropic",
            "messages",
            "opentelemetry-instrumentation-genai-anthropic",
            ("opentelemetry-instrumentation-genai-anthropic", "anthropic", *OFFICIAL),
            run_genai_anthropic,
            description="Official OTel Anthropic instrumentation (published from opentelemetry-python-genai "
            "as opentelemetry-instrumentation-genai-anthropic; the PyPI name "
            "opentelemetry-instrumentation-anthropic belongs to Traceloop).",
        ),
        Setup(
            "anthropic_sdk_native",
            "messages",
            "anthropic (built-in OpenTelemetry tracing)",
            ("anthropic",),
            run_anthropic_sdk_native,
            description="No instrumentor: the anthropic SDK's own spans (on by default when a global "
            "TracerProvider is set).",
        ),
        Setup(
            "traceloop_openai_chat",
            "chat",
            "opentelemetry-instrumentation-openai (Traceloop/OpenLLMetry)",
            ("opentelemetry-instrumentation-openai", "openai", *TRACELOOP),
            run_traceloop_openai("chat"),
        ),
        Setup(
            "traceloop_openai_responses",
            "responses",
            "opentelemetry-instrumentation-openai (Traceloop/OpenLLMetry)",
            ("opentelemetry-instrumentation-openai", "openai", *TRACELOOP),
            run_traceloop_openai("responses"),
        ),
        Setup(
            "traceloop_anthropic",
            "messages",
            "opentelemetry-instrumentation-anthropic (Traceloop/OpenLLMetry)",
            ("opentelemetry-instrumentation-anthropic", "anthropic", *TRACELOOP),
            run_traceloop_anthropic,
        ),
        Setup(
            "openinference_openai_chat",
            "chat",
            "openinference-instrumentation-openai",
            ("openinference-instrumentation-openai", "openai", *OPENINF),
            run_openinference_openai("chat"),
        ),
        Setup(
            "openinference_openai_responses",
            "responses",
            "openinference-instrumentation-openai",
            ("openinference-instrumentation-openai", "openai", *OPENINF),
            run_openinference_openai("responses"),
        ),
        Setup(
            "openinference_anthropic",
            "messages",
            "openinference-instrumentation-anthropic",
            ("openinference-instrumentation-anthropic", "anthropic", *OPENINF),
            run_openinference_anthropic,
        ),
        Setup("logfire_openai_chat", "chat", "logfire.instrument_openai", ("logfire", "openai"), run_logfire("chat")),
        Setup(
            "logfire_openai_responses",
            "responses",
            "logfire.instrument_openai",
            ("logfire", "openai"),
            run_logfire("responses"),
        ),
        Setup(
            "logfire_anthropic",
            "messages",
            "logfire.instrument_anthropic",
            ("logfire", "anthropic"),
            run_logfire("messages"),
        ),
        Setup(
            "pydantic_ai_openai_chat",
            "chat",
            "pydantic-ai (Agent.instrument_all)",
            ("pydantic-ai-slim", "openai"),
            run_pydantic_ai("chat"),
        ),
        Setup(
            "pydantic_ai_openai_responses",
            "responses",
            "pydantic-ai (Agent.instrument_all)",
            ("pydantic-ai-slim", "openai"),
            run_pydantic_ai("responses"),
        ),
        Setup(
            "pydantic_ai_anthropic",
            "messages",
            "pydantic-ai (Agent.instrument_all)",
            ("pydantic-ai-slim", "anthropic"),
            run_pydantic_ai("messages"),
            anthropic_sdk_tracing=False,
            description="pydantic-ai alone: the anthropic client is built with open_telemetry=False.",
        ),
        Setup(
            "pydantic_ai_openai_chat_stacked",
            "chat",
            "pydantic-ai + opentelemetry-instrumentation-genai-openai",
            ("pydantic-ai-slim", "opentelemetry-instrumentation-genai-openai", "openai", *OFFICIAL),
            run_pydantic_ai("chat", stack="genai_openai"),
            description="Framework span (pydantic-ai `chat MODEL`) with the SDK-level official OpenAI "
            "instrumentation span nested under it for the same request.",
        ),
        Setup(
            "pydantic_ai_anthropic_stacked",
            "messages",
            "pydantic-ai + anthropic SDK built-in tracing",
            ("pydantic-ai-slim", "anthropic"),
            run_pydantic_ai("messages"),
            anthropic_sdk_tracing=True,
            description="pydantic-ai with the anthropic SDK's default-on tracing: the SDK span nests under "
            "pydantic-ai's `chat MODEL` span for the same request.",
        ),
    ]
    out = {x.name: x for x in s}
    # The Anthropic instrumentor setups above run with the SDK's own tracing at its default (on), as an app
    # that sets a global TracerProvider gets it; the *_sdk_off twins show each library alone.
    # (logfire needs no twin: instrument_anthropic suppresses other instrumentation, the SDK spans included.)
    for base in ("otel_genai_anthropic", "traceloop_anthropic", "openinference_anthropic"):
        b = out[base]
        out[base + "_sdk_off"] = Setup(
            base + "_sdk_off",
            b.api,
            b.library,
            b.packages,
            b.run,
            anthropic_sdk_tracing=False,
            description=f"{base} with the anthropic client built with open_telemetry=False (the instrumentor alone).",
        )
    return out


SETUPS = _setups()


# ---------------------------------------------------------------------------------------------------------
# Writing the spans
# ---------------------------------------------------------------------------------------------------------


def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def otlp_json_lines(spans) -> list[str]:
    """One compact OTLP/JSON ExportTraceServiceRequest per trace, as the collector's file exporter writes:
    camelCase, hex ids (OTLP/JSON, not protobuf's base64), integer enums, int64 as strings."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    by_trace: dict[int, list] = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    lines = []
    for trace_spans in by_trace.values():
        doc = MessageToDict(encode_spans(trace_spans), use_integers_for_enums=True)
        for rs in doc.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if sp.get(key):
                            sp[key] = _b64_to_hex(sp[key])
                    for link in sp.get("links", []):
                        for key in ("traceId", "spanId"):
                            if link.get(key):
                                link[key] = _b64_to_hex(link[key])
        lines.append(json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
    return lines


def flat_span_lines(spans) -> list[str]:
    return [json.dumps(json.loads(span.to_json()), separators=(",", ":"), ensure_ascii=False) for span in spans]


def log_lines(log_exporter) -> list[str]:
    if log_exporter is None:
        return []
    out = []
    for item in log_exporter.get_finished_logs():
        rec = getattr(item, "log_record", item)
        try:
            doc = json.loads(rec.to_json())
        except Exception:  # noqa: BLE001 - to_json() differs between SDK versions
            doc = {"body": repr(getattr(rec, "body", None))}
        out.append(json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str))
    return out


def versions(packages: tuple[str, ...]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in (*packages, *OTEL_CORE, "opentelemetry-exporter-otlp-proto-common", "protobuf"):
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return dict(sorted(out.items()))


def run_setup(name: str, outdir: Path) -> dict[str, Any]:
    setup = SETUPS[name]
    outdir.mkdir(parents=True, exist_ok=True)
    with MockAPI() as api:
        ctx = Context(name=name, api=api, anthropic_sdk_tracing=setup.anthropic_sdk_tracing)
        started = time.time()
        error = None
        unavailable = None
        try:
            setup.run(ctx)
        except Unavailable as exc:
            unavailable = str(exc)
        except ModuleNotFoundError as exc:  # a library of requirements.txt is not installed here
            unavailable = f"{exc.name or exc} is not installed in this environment ({sys.executable})"
        except Exception:  # noqa: BLE001
            error = traceback.format_exc()
        served = [asdict(s) for s in api.served]
    if unavailable is not None:
        return {"setup": name, "unavailable": unavailable}
    if ctx.provider is not None:
        ctx.provider.force_flush()
    spans = list(ctx.exporter.get_finished_spans()) if ctx.exporter is not None else []
    spans.sort(key=lambda s: (s.start_time or 0, s.end_time or 0))
    (outdir / f"{name}.otlp.jsonl").write_text("".join(line + "\n" for line in otlp_json_lines(spans)))
    (outdir / f"{name}.spans.jsonl").write_text("".join(line + "\n" for line in flat_span_lines(spans)))
    logs = log_lines(ctx.log_exporter)
    log_path = outdir / f"{name}.logs.jsonl"
    if logs:
        log_path.write_text("".join(line + "\n" for line in logs))
    elif log_path.exists():
        log_path.unlink()
    run = {
        "setup": name,
        "api": setup.api,
        "library": setup.library,
        "description": setup.description,
        "anthropic_sdk_tracing": setup.anthropic_sdk_tracing if setup.api == "messages" else None,
        "python": sys.version.split()[0],
        "versions": versions(setup.packages),
        "started_unix": started,
        "calls": [asdict(r) for r in ctx.results],
        "served": served,
        "span_count": len(spans),
        "log_record_count": len(logs),
        "notes": ctx.notes,
        "error": error,
    }
    (outdir / f"{name}.run.json").write_text(json.dumps(run, indent=1) + "\n")
    return run


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "list":
        for name, s in SETUPS.items():
            print(f"{name:40s} {s.api:10s} {s.library}")
        return 0
    if len(argv) != 2:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        print("usage: setups.py SETUP_NAME|all|list OUTDIR", file=sys.stderr)
        return 2
    name, outdir = argv[0], Path(argv[1])
    if name == "all":
        failed = []
        for n in SETUPS:
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), n, str(outdir)],
                capture_output=True,
                text=True,
                timeout=300,
            )
            status = {0: "ok", 3: "unavailable (kept earlier output, if any)"}.get(
                proc.returncode, f"FAILED rc={proc.returncode}"
            )
            print(f"{n:40s} {status}", flush=True)
            if proc.returncode not in (0, 3):
                failed.append(n)
                sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        return 1 if failed else 0
    if name not in SETUPS:
        print(f"unknown setup {name!r}; try: setups.py list", file=sys.stderr)
        return 2
    run = run_setup(name, outdir)
    if "unavailable" in run:
        print(f"{name}: UNAVAILABLE: {run['unavailable']}")
        return 3
    ok = run["error"] is None and not run["notes"]
    print(
        f"{name}: {run['span_count']} spans, {run['log_record_count']} log records"
        + ("" if ok else f"\nerror: {run['error']}\nnotes: {run['notes']}")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
