"""Reference figures for the span corpus written by setups.py.

For every call of a setup's scenario this computes:

- ``truth``: the usage the mock's recorded response body reports (what the provider billed), in costlens's
  additive convention — ``input`` = uncached input at the base rate, ``cache_read``, ``cache_write_5m``,
  ``cache_write_1h``, ``output`` (includes reasoning), ``reasoning`` (informational subset of output) — plus
  ``web_searches``; and its genai-prices cost.
- per instrumentation *layer* present in the file (the library under test, the anthropic SDK's own spans, a
  framework stacked on an SDK instrumentation…): the span that carries the call, the usage read from it with
  the attribute names that library uses (``LAYERS``), where each figure came from, and its cost.
- ``reference``: the primary layer's usage and cost — what the spans of the library under test carry, which
  is the most an OTel adapter can recover from them — and ``gaps``: how it differs from ``truth``.

``KNOWN_GAPS`` states, per layer, which figures the library does not carry (or carries differently); the
tests check the spans against it, so a library upgrade that changes what it emits shows up as a failure.

``reference(setup, outdir)`` condenses ``compute`` into the totals a test compares an adapter's result with.

Usage (from the repository root, any interpreter with requirements.txt installed)::

    python tests/realworld/otel/expected.py OUTDIR [SETUP ...]   # writes OUTDIR/SETUP.expected.json
    python tests/realworld/otel/expected.py --reference OUTDIR SETUP   # prints reference(SETUP, OUTDIR) as JSON
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from mockapi import load_fixtures  # noqa: E402
from setups import GROUPS, SCENARIOS, SETUPS  # noqa: E402

TOKEN_KINDS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")


# ---------------------------------------------------------------------------------------------------------
# Ground truth from the recorded bodies
# ---------------------------------------------------------------------------------------------------------


def _sse_events(sse: str) -> list[dict[str, Any]]:
    out = []
    for block in sse.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data:"):
                data = line[5:].strip()
                if data and data != "[DONE]":
                    try:
                        out.append(json.loads(data))
                    except ValueError:
                        pass
    return out


def _final_body(fx: dict[str, Any]) -> dict[str, Any] | None:
    """The response object (with its usage) that a JSON body or an SSE stream amounts to."""
    if fx["status"] >= 400:
        return None
    if "json" in fx:
        return fx["json"]
    events = _sse_events(fx["sse"])
    if fx["api"] == "chat":
        body = dict(events[0])
        for ev in events:
            if ev.get("usage"):
                body["usage"] = ev["usage"]
        return body
    if fx["api"] == "responses":
        for ev in events:
            if ev.get("type") == "response.completed":
                return ev["response"]
        raise ValueError("no response.completed in " + fx["name"])
    # Anthropic: message_start carries the input side, message_delta the final output count
    body: dict[str, Any] = {}
    for ev in events:
        if ev.get("type") == "message_start":
            body = dict(ev["message"])
            body["usage"] = dict(body["usage"])
        elif ev.get("type") == "message_delta":
            body["usage"]["output_tokens"] = ev["usage"]["output_tokens"]
            if "output_tokens_details" in ev["usage"]:
                body["usage"]["output_tokens_details"] = ev["usage"]["output_tokens_details"]
            body["stop_reason"] = ev["delta"].get("stop_reason")
    return body


def truth(fixture: dict[str, Any]) -> dict[str, Any]:
    body = _final_body(fixture)
    provider = "anthropic" if fixture["api"] == "messages" else "openai"
    if body is None:
        return {
            "provider": provider,
            "model": None,
            "response_id": None,
            "status": "error",
            "http_status": fixture["status"],
            **{k: 0 for k in TOKEN_KINDS},
            "web_searches": 0,
        }
    u = body["usage"]
    if fixture["api"] == "chat":
        pd, cd = u.get("prompt_tokens_details") or {}, u.get("completion_tokens_details") or {}
        cr, cw = pd.get("cached_tokens") or 0, pd.get("cache_write_tokens") or 0
        tokens = dict(
            input=u["prompt_tokens"] - cr - cw,
            cache_read=cr,
            cache_write_5m=cw,
            cache_write_1h=0,
            output=u["completion_tokens"],
            reasoning=cd.get("reasoning_tokens") or 0,
        )
        web = 0
    elif fixture["api"] == "responses":
        idt, odt = u.get("input_tokens_details") or {}, u.get("output_tokens_details") or {}
        cr, cw = idt.get("cached_tokens") or 0, idt.get("cache_write_tokens") or 0
        tokens = dict(
            input=u["input_tokens"] - cr - cw,
            cache_read=cr,
            cache_write_5m=cw,
            cache_write_1h=0,
            output=u["output_tokens"],
            reasoning=odt.get("reasoning_tokens") or 0,
        )
        web = 0
    else:
        cc = u.get("cache_creation_input_tokens") or 0
        split = u.get("cache_creation") or {}
        one_h = split.get("ephemeral_1h_input_tokens") or 0
        tokens = dict(
            input=u["input_tokens"],
            cache_read=u.get("cache_read_input_tokens") or 0,
            cache_write_5m=cc - one_h,
            cache_write_1h=one_h,
            output=u["output_tokens"],
            reasoning=(u.get("output_tokens_details") or {}).get("thinking_tokens") or 0,
        )
        web = (u.get("server_tool_use") or {}).get("web_search_requests") or 0
    return {
        "provider": provider,
        "model": body.get("model"),
        "response_id": body.get("id"),
        "status": "ok",
        "http_status": fixture["status"],
        **tokens,
        "web_searches": web,
    }


def price(
    provider: str, model: str | None, t: dict[str, Any], at: datetime | None = None, with_tools: bool = False
) -> float | None:
    """genai-prices ``calc_price`` of additive usage ``t`` (as the project's own tests call it)."""
    if not model or t.get("status") == "error":
        return 0.0 if t.get("status") == "error" else None
    from genai_prices import Usage, calc_price

    cw5, cw1 = t.get("cache_write_5m") or 0, t.get("cache_write_1h") or 0
    kwargs: dict[str, Any] = dict(
        input_tokens=(t.get("input") or 0) + (t.get("cache_read") or 0) + cw5 + cw1,
        cache_read_tokens=t.get("cache_read") or 0,
        cache_write_tokens=cw5 + cw1,
        cache_write_1h_tokens=cw1,
        output_tokens=t.get("output") or 0,
    )
    if with_tools and t.get("web_searches"):
        kwargs["web_searches"] = t["web_searches"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(
                calc_price(Usage(**kwargs), model, provider_id=provider, genai_request_timestamp=at).total_price
            )
    except LookupError:
        return None


# ---------------------------------------------------------------------------------------------------------
# Reading the spans
# ---------------------------------------------------------------------------------------------------------


def _attr_value(v: dict[str, Any]) -> Any:
    if not v:
        return None
    kind, x = next(iter(v.items()))
    if kind == "arrayValue":
        return [_attr_value(i) for i in x.get("values", [])]
    if kind == "kvlistValue":
        return {i["key"]: _attr_value(i["value"]) for i in x.get("values", [])}
    if kind == "intValue":
        return int(x)
    return x


@dataclass
class Span:
    name: str
    span_id: str
    parent_id: str | None
    trace_id: str
    scope: str
    kind: int
    start: int
    end: int
    status_code: int
    attrs: dict[str, Any]
    resource: dict[str, Any]
    events: list[str] = field(default_factory=list)


def read_otlp(path: Path) -> list[Span]:
    spans = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        for rs in doc.get("resourceSpans", []):
            res = {a["key"]: _attr_value(a["value"]) for a in rs.get("resource", {}).get("attributes", [])}
            for ss in rs.get("scopeSpans", []):
                scope = ss.get("scope", {}).get("name", "")
                for sp in ss.get("spans", []):
                    spans.append(
                        Span(
                            name=sp["name"],
                            span_id=sp["spanId"],
                            parent_id=sp.get("parentSpanId"),
                            trace_id=sp["traceId"],
                            scope=scope,
                            kind=sp.get("kind", 0),
                            start=int(sp["startTimeUnixNano"]),
                            end=int(sp["endTimeUnixNano"]),
                            status_code=(sp.get("status") or {}).get("code", 0),
                            attrs={a["key"]: _attr_value(a["value"]) for a in sp.get("attributes", [])},
                            resource=res,
                            events=[e["name"] for e in sp.get("events", [])],
                        )
                    )
    spans.sort(key=lambda s: (s.start, s.end))
    return spans


def _json_attr(span: Span, key: str) -> Any:
    v = span.attrs.get(key)
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return None
    return v


def _dig(obj: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


@dataclass(frozen=True)
class Field:
    """Where a layer keeps one figure: the first attribute present wins; ``json`` reads a JSON-valued
    attribute (``(attribute, path...)``) and marks the figure as carried only inside JSON."""

    attrs: tuple[str, ...] = ()
    json: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Layer:
    name: str
    description: str
    is_scope: Callable[[str], bool]
    is_call: Callable[[Span], bool]
    fields: dict[str, Field]
    # input_total includes cache reads and writes (as OTel GenAI says): every library here does
    usage_span: Callable[[Span], bool] | None = None  # logfire streams: usage on a separate log span


def _gen_ai_fields(**over: Field) -> dict[str, Field]:
    base = {
        "provider": Field(("gen_ai.provider.name", "gen_ai.system")),
        "request_model": Field(("gen_ai.request.model",)),
        "response_model": Field(("gen_ai.response.model",)),
        "response_id": Field(("gen_ai.response.id",)),
        "input_total": Field(("gen_ai.usage.input_tokens",)),
        "cache_read": Field(("gen_ai.usage.cache_read.input_tokens",)),
        "cache_write": Field(("gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens")),
        "cache_write_1h": Field(),
        "output": Field(("gen_ai.usage.output_tokens",)),
        "reasoning": Field(("gen_ai.usage.reasoning.output_tokens",)),
        "web_searches": Field(),
        "error_type": Field(("error.type",)),
    }
    base.update(over)
    return base


LAYERS: dict[str, Layer] = {
    "official": Layer(
        "official",
        "OTel official GenAI instrumentation (opentelemetry-instrumentation-genai-*, openai-v2)",
        lambda s: (
            s.startswith("opentelemetry.instrumentation.genai.")
            or s == "opentelemetry.util.genai.handler"
            or s.startswith("opentelemetry.instrumentation.openai_v2")
        ),
        lambda sp: sp.attrs.get("gen_ai.operation.name") == "chat",
        _gen_ai_fields(),
    ),
    "anthropic_sdk": Layer(
        "anthropic_sdk",
        "anthropic SDK built-in tracing (scope com.anthropic.sdk.python)",
        lambda s: s == "com.anthropic.sdk.python",
        lambda sp: sp.name in ("anthropic.messages.create",),
        _gen_ai_fields(cache_write_1h=Field(("anthropic.usage.cache_creation.ephemeral_1h_input_tokens",))),
    ),
    "traceloop": Layer(
        "traceloop",
        "Traceloop / OpenLLMetry",
        lambda s: s in ("opentelemetry.instrumentation.openai.v1", "opentelemetry.instrumentation.anthropic"),
        lambda sp: True,
        _gen_ai_fields(
            cache_write=Field(("gen_ai.usage.cache_creation.input_tokens",)),
            reasoning=Field(("gen_ai.usage.reasoning_tokens",)),
        ),
    ),
    "openinference": Layer(
        "openinference",
        "Arize OpenInference",
        lambda s: s.startswith("openinference.instrumentation."),
        lambda sp: sp.attrs.get("openinference.span.kind") == "LLM",
        {
            "provider": Field(("llm.provider", "llm.system")),
            "request_model": Field(("llm.request.model_name",), json=(("llm.invocation_parameters", "model"),)),
            "response_model": Field(("llm.response.model_name", "llm.model_name")),
            "response_id": Field((), json=(("output.value", "id"),)),
            "input_total": Field(("llm.token_count.prompt",)),
            "cache_read": Field(("llm.token_count.prompt_details.cache_read",)),
            "cache_write": Field(("llm.token_count.prompt_details.cache_write",)),
            "cache_write_1h": Field(),
            "output": Field(("llm.token_count.completion",)),
            "reasoning": Field(("llm.token_count.completion_details.reasoning",)),
            "web_searches": Field((), json=(("metadata", "server_tool_use", "web_search_requests"),)),
            "error_type": Field(()),
        },
    ),
    "logfire": Layer(
        "logfire",
        "Pydantic Logfire instrument_openai / instrument_anthropic",
        lambda s: s in ("logfire.openai", "logfire.anthropic"),
        lambda sp: sp.attrs.get("logfire.span_type") == "span",
        _gen_ai_fields(
            cache_write=Field(("gen_ai.usage.cache_creation.input_tokens",)),
            cache_write_1h=Field((), json=(("gen_ai.usage.raw", "cache_creation", "ephemeral_1h_input_tokens"),)),
            reasoning=Field(
                (),
                json=(
                    ("gen_ai.usage.raw", "completion_tokens_details", "reasoning_tokens"),
                    ("gen_ai.usage.raw", "output_tokens_details", "reasoning_tokens"),
                    ("gen_ai.usage.raw", "output_tokens_details", "thinking_tokens"),
                ),
            ),
            web_searches=Field((), json=(("gen_ai.usage.raw", "server_tool_use", "web_search_requests"),)),
        ),
        usage_span=lambda sp: sp.attrs.get("logfire.span_type") == "log",
    ),
    "pydantic_ai": Layer(
        "pydantic_ai",
        "pydantic-ai model request spans (`chat MODEL`)",
        lambda s: s == "pydantic-ai",
        lambda sp: sp.attrs.get("gen_ai.operation.name") == "chat",
        _gen_ai_fields(
            cache_write=Field(("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.details.cache_write_tokens")),
            cache_write_1h=Field(("gen_ai.usage.details.ephemeral_1h_input_tokens",)),
            reasoning=Field(("gen_ai.usage.details.reasoning_tokens", "gen_ai.usage.details.thinking_tokens")),
            web_searches=Field(("gen_ai.usage.details.web_search_requests",)),
        ),
    ),
}

# The layer of the library under test, and the other layers each setup's file holds.
SETUP_LAYERS: dict[str, tuple[str, ...]] = {
    "otel_openai_v2_chat": ("official",),
    "otel_genai_openai_chat": ("official",),
    "otel_genai_openai_responses": ("official",),
    "otel_genai_anthropic": ("official", "anthropic_sdk"),
    "otel_genai_anthropic_sdk_off": ("official",),
    "anthropic_sdk_native": ("anthropic_sdk",),
    "traceloop_openai_chat": ("traceloop",),
    "traceloop_openai_responses": ("traceloop",),
    "traceloop_anthropic": ("traceloop", "anthropic_sdk"),
    "traceloop_anthropic_sdk_off": ("traceloop",),
    "openinference_openai_chat": ("openinference",),
    "openinference_openai_responses": ("openinference",),
    "openinference_anthropic": ("openinference", "anthropic_sdk"),
    "openinference_anthropic_sdk_off": ("openinference",),
    "logfire_openai_chat": ("logfire",),
    "logfire_openai_responses": ("logfire",),
    # logfire suppresses other instrumentation inside its spans: no anthropic SDK spans even with SDK tracing on
    "logfire_anthropic": ("logfire",),
    "pydantic_ai_openai_chat": ("pydantic_ai",),
    "pydantic_ai_openai_responses": ("pydantic_ai",),
    "pydantic_ai_anthropic": ("pydantic_ai",),
    "pydantic_ai_openai_chat_stacked": ("pydantic_ai", "official"),
    "pydantic_ai_anthropic_stacked": ("pydantic_ai", "anthropic_sdk"),
}

# What each layer does not carry, by (api, call label) → {figure: what the span holds instead}; "*" = any
# call. Figures: input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, web_searches
# (compared in the additive convention, so a dropped cache read shows as a larger `input`).
KNOWN_GAPS: dict[str, dict[tuple[str, str], dict[str, str]]] = {
    "official": {
        # Anthropic: no 1h split (all cache writes look like 5m writes)
        ("messages", "cache_write"): {"cache_write_5m": "418 (all writes)", "cache_write_1h": "0"},
        ("messages", "ticket_2"): {"web_searches": "not carried"},
    },
    "official@openai-v2": {  # opentelemetry-instrumentation-openai-v2 2.4b0 + util-genai 1.1b0
        ("chat", "cached"): {"input": "4020 (cached tokens counted as uncached)", "cache_read": "0"},
        ("chat", "cache_write"): {"input": "4020", "cache_write_5m": "0"},
        ("chat", "reasoning"): {"reasoning": "0"},
    },
    "anthropic_sdk": {
        ("messages", "ticket_2"): {"web_searches": "not carried"},
    },
    "traceloop": {
        ("chat", "cache_write"): {"input": "4020 (writes counted as uncached input)", "cache_write_5m": "0"},
        ("messages", "cache_write"): {"cache_write_5m": "418 (all writes)", "cache_write_1h": "0"},
        ("messages", "reasoning"): {"reasoning": "0"},
        ("messages", "ticket_2"): {"web_searches": "not carried"},
        # sums message_start's placeholder output_tokens (1) and message_delta's final count (5)
        ("messages", "summary_stream"): {"output": "6 (recorded: 5)"},
    },
    "openinference": {
        ("messages", "cache_write"): {"cache_write_5m": "418 (all writes)", "cache_write_1h": "0"},
    },
    "logfire": {},
    "pydantic_ai": {},
}


def _read_field(span: Span | None, f: Field) -> tuple[Any, str | None, bool]:
    """(value, source, json_only)."""
    if span is None:
        return None, None, False
    for a in f.attrs:
        if a in span.attrs and span.attrs[a] is not None:
            return span.attrs[a], a, False
    for path in f.json:
        v = _dig(_json_attr(span, path[0]), *path[1:])
        if v is not None:
            return v, f"{path[0]}→{'.'.join(path[1:])} (JSON)", True
    return None, None, False


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def layer_usage(layer: Layer, call_span: Span, usage_span: Span | None) -> dict[str, Any]:
    """The usage one layer's span(s) carry for a call, in the additive convention."""
    src = usage_span or call_span
    got: dict[str, Any] = {}
    sources: dict[str, str] = {}
    json_only: list[str] = []
    for name, f in layer.fields.items():
        span = call_span if name in ("request_model", "error_type") else src
        v, where, in_json = _read_field(span, f)
        if v is None and span is not call_span:
            v, where, in_json = _read_field(call_span, f)
        got[name] = v
        if where:
            sources[name] = where
        if in_json:
            json_only.append(name)
    total, cr, cw, cw1 = (
        _int(got["input_total"]),
        _int(got["cache_read"]),
        _int(got["cache_write"]),
        _int(got["cache_write_1h"]),
    )
    ok = call_span.status_code != 2 and got["input_total"] is not None
    tokens = dict(
        input=total - cr - cw,
        cache_read=cr,
        cache_write_5m=cw - cw1,
        cache_write_1h=cw1,
        output=_int(got["output"]),
        reasoning=_int(got["reasoning"]),
    )
    return {
        "span_name": call_span.name,
        "span_id": call_span.span_id,
        "scope": call_span.scope,
        "usage_span": None if usage_span is None else {"span_name": usage_span.name, "span_id": usage_span.span_id},
        "status": "ok" if ok else "error",
        "provider": got["provider"],
        "request_model": got["request_model"],
        "response_model": got["response_model"],
        "response_id": got["response_id"],
        "error_type": got["error_type"],
        **(tokens if ok else {k: 0 for k in TOKEN_KINDS}),
        "web_searches": _int(got["web_searches"]),
        "sources": sources,
        "json_only": json_only,
    }


def match_layer(layer: Layer, spans: list[Span], calls: list) -> tuple[list[tuple[Span, Span | None]], str | None]:
    """The layer's call spans in start order, one per scenario call, with the usage span of a logfire stream."""
    mine = [s for s in spans if layer.is_scope(s.scope)]
    call_spans = [s for s in mine if layer.is_call(s)]
    usage_spans = [s for s in mine if layer.usage_span and layer.usage_span(s)]
    if len(call_spans) != len(calls):
        return [], f"layer {layer.name}: {len(call_spans)} call spans for {len(calls)} calls"
    out: list[tuple[Span, Span | None]] = []
    for call, sp in zip(calls, call_spans):
        usage = None
        if call.stream and layer.usage_span:
            later = [u for u in usage_spans if u.start >= sp.start and u.trace_id == sp.trace_id]
            usage = later[0] if later else None
        out.append((sp, usage))
    return out, None


# ---------------------------------------------------------------------------------------------------------
# Per setup
# ---------------------------------------------------------------------------------------------------------


def _gap_key(setup: str, layer: str, run: dict[str, Any]) -> str:
    if layer == "official" and setup.startswith("otel_openai_v2"):
        return "official@openai-v2"
    return layer


def compute(setup: str, outdir: Path) -> dict[str, Any]:
    run = json.loads((outdir / f"{setup}.run.json").read_text())
    spans = read_otlp(outdir / f"{setup}.otlp.jsonl")
    fixtures = load_fixtures()
    calls = SCENARIOS[SETUPS[setup].api]
    layers = SETUP_LAYERS[setup]
    primary = layers[0]
    at = datetime.fromtimestamp(run["started_unix"], tz=UTC)
    matched: dict[str, list[tuple[Span, Span | None]]] = {}
    problems: list[str] = []
    for name in layers:
        m, err = match_layer(LAYERS[name], spans, calls)
        matched[name] = m
        if err:
            problems.append(err)
    out_calls = []
    for i, call in enumerate(calls):
        t = truth(fixtures[call.fixture])
        group = GROUPS.get(call.group or "", {})
        entry: dict[str, Any] = {
            "label": call.label,
            "fixture": call.fixture,
            "stream": call.stream,
            "kind": call.kind,
            "parent_span": call.group,
            "feature": group.get("costlens.feature"),
            "task_id": group.get("costlens.task_id"),
            "truth": {
                **t,
                "cost_usd": price(t["provider"], t["model"], t, at),
                "cost_with_tools_usd": price(t["provider"], t["model"], t, at, with_tools=True),
            },
            "layers": {},
        }
        for name in layers:
            if not matched[name]:
                continue
            sp, usage_span = matched[name][i]
            lu = layer_usage(LAYERS[name], sp, usage_span)
            model = lu["response_model"] or lu["request_model"]
            provider = t["provider"]
            lu["cost_usd"] = price(provider, model, lu, at)
            lu["cost_with_tools_usd"] = price(provider, model, lu, at, with_tools=True)
            diff = {k: lu[k] for k in (*TOKEN_KINDS, "web_searches") if lu[k] != t[k]}
            if lu["status"] != t["status"]:
                diff["status"] = lu["status"]
            lu["differs_from_truth"] = diff
            known = KNOWN_GAPS.get(_gap_key(setup, name, run), {})
            expected_gap = {**known.get((SETUPS[setup].api, call.label), {}), **known.get((SETUPS[setup].api, "*"), {})}
            if set(diff) != set(expected_gap):
                problems.append(
                    f"{call.label}/{name}: differs from truth in {sorted(diff)} "
                    f"but KNOWN_GAPS says {sorted(expected_gap)}"
                )
            entry["layers"][name] = lu
        ref = entry["layers"].get(primary)
        if ref:
            entry["reference"] = {
                **{k: ref[k] for k in (*TOKEN_KINDS, "web_searches", "status")},
                "provider": t["provider"],
                "model": ref["response_model"] or ref["request_model"],
                "response_id": ref["response_id"],
                "cost_usd": ref["cost_usd"],
                "cost_with_tools_usd": ref["cost_with_tools_usd"],
            }
            entry["gaps"] = ref["differs_from_truth"]
        # spans that carry this request: every layer's span (the nested/sibling duplicates)
        entry["spans_for_this_request"] = [
            {
                "layer": n,
                "span_name": entry["layers"][n]["span_name"],
                "span_id": entry["layers"][n]["span_id"],
                "carries_usage": entry["layers"][n]["status"] == "ok",
            }
            for n in layers
            if n in entry["layers"]
        ]
        out_calls.append(entry)

    def total(key: str, part: str = "reference") -> float:
        return round(sum((c.get(part) or {}).get(key) or 0.0 for c in out_calls), 12)

    by_feature: dict[str, dict[str, Any]] = {}
    for c in out_calls:
        f = c["feature"] or "(none)"
        d = by_feature.setdefault(f, {"calls": 0, "reference_cost_usd": 0.0})
        d["calls"] += 1
        d["reference_cost_usd"] = round(d["reference_cost_usd"] + ((c.get("reference") or {}).get("cost_usd") or 0), 12)
    usage_spans = [
        s
        for s in spans
        if any(
            k in s.attrs
            for k in ("gen_ai.usage.input_tokens", "llm.token_count.prompt", "gen_ai.aggregated_usage.input_tokens")
        )
    ]
    return {
        "setup": setup,
        "api": SETUPS[setup].api,
        "library": SETUPS[setup].library,
        "layers": list(layers),
        "primary_layer": primary,
        "versions": run["versions"],
        "priced_at": at.isoformat(),
        "calls": out_calls,
        "totals": {
            "calls": len(out_calls),
            "ok_calls": sum(1 for c in out_calls if c["truth"]["status"] == "ok"),
            "failed_calls": sum(1 for c in out_calls if c["truth"]["status"] == "error"),
            "reference_cost_usd": total("cost_usd"),
            "reference_cost_with_tools_usd": total("cost_with_tools_usd"),
            "truth_cost_usd": total("cost_usd", "truth"),
            "truth_cost_with_tools_usd": total("cost_with_tools_usd", "truth"),
            "spans": len(spans),
            "spans_with_usage_attributes": len(usage_spans),
            "by_feature": by_feature,
        },
        "problems": problems,
    }


def reference(setup: str, outdir: str | Path) -> dict[str, Any]:
    """The reference totals of one setup's span files, for a test to compare an adapter's result with.

    ``outdir`` must hold ``SETUP.run.json`` and ``SETUP.otlp.jsonl`` as written by ``setups.py SETUP OUTDIR``
    (the figures are read from the spans, so they are exact for that run). Returns::

        {
          "setup": "otel_genai_openai_chat", "api": "chat", "primary_layer": "official",
          "calls": 7, "ok_calls": 6, "failed_calls": 1,     # status as the layer-under-test's spans carry it
          "by_label": {                                      # one entry per scenario call label
            "ticket_1": {
              "status": "ok" | "error",
              "provider": "openai" | "anthropic",
              "model": "gpt-4o-2024-08-06",                 # response model on the span, else request model
              "feature": "support-bot" | "summarizer" | None,  # ticket_1/ticket_2, summary_stream, root calls
              "task_id": "task-1" | None,
              "tokens": {"input": 14, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0,
                         "output": 8, "reasoning": 0},      # costlens's additive convention (below)
              "web_searches": 0,
              "cost_usd": 0.000115 | None,                  # genai-prices; None when it does not know the model
            }, ...
          },
          "tokens": {"input": ..., "cache_read": ..., ...},  # summed over all calls
          "cost_usd": 0.022528,                             # sum of the priced calls' cost_usd (failed calls: 0)
          "cost_by_feature": {"support-bot": ..., "summarizer": ..., None: ...},
          "unpriced": ["label", ...],                       # calls whose model genai-prices does not know
          "problems": [],                                   # non-empty: the spans do not match KNOWN_GAPS
        }

    Tokens are additive: ``input`` = uncached input at the base rate (the span's inclusive input count minus
    cache reads and writes), ``cache_read``, ``cache_write_5m``, ``cache_write_1h``, ``output`` (includes
    reasoning) and ``reasoning`` (informational subset of output); failed calls carry zeros. The cost is
    genai-prices ``calc_price`` of exactly those figures (without web-search charges), priced at the run's start
    time — what the spans of the library under test allow, not what the provider billed (``compute``'s
    ``truth`` has that; ``KNOWN_GAPS`` says where the two differ).
    """
    doc = compute(setup, Path(outdir))
    by_label: dict[str, dict[str, Any]] = {}
    tokens = {k: 0 for k in TOKEN_KINDS}
    cost = 0.0
    cost_by_feature: dict[str | None, float] = {}
    unpriced: list[str] = []
    for c in doc["calls"]:
        ref = c.get("reference") or {}
        status = ref.get("status") or c["truth"]["status"]
        call_tokens = {k: int(ref.get(k) or 0) for k in TOKEN_KINDS}
        call_cost = ref.get("cost_usd") if ref else None
        if status == "error":
            call_cost = 0.0
        by_label[c["label"]] = {
            "status": status,
            "provider": c["truth"]["provider"],
            "model": ref.get("model") or c["truth"]["model"],
            "feature": c["feature"],
            "task_id": c["task_id"],
            "tokens": call_tokens,
            "web_searches": int(ref.get("web_searches") or 0),
            "cost_usd": call_cost,
        }
        for k in TOKEN_KINDS:
            tokens[k] += call_tokens[k]
        if call_cost is None:
            unpriced.append(c["label"])
        else:
            cost += call_cost
            cost_by_feature[c["feature"]] = round(cost_by_feature.get(c["feature"], 0.0) + call_cost, 12)
    statuses = [v["status"] for v in by_label.values()]
    return {
        "setup": setup,
        "api": doc["api"],
        "primary_layer": doc["primary_layer"],
        "calls": len(statuses),
        "ok_calls": statuses.count("ok"),
        "failed_calls": statuses.count("error"),
        "by_label": by_label,
        "tokens": tokens,
        "cost_usd": round(cost, 12),
        "cost_by_feature": cost_by_feature,
        "unpriced": unpriced,
        "problems": doc["problems"],
    }


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--reference":
        print(json.dumps(reference(argv[2], argv[1]), indent=1, default=str))
        return 0
    if not argv:
        print("usage: expected.py OUTDIR [SETUP ...]", file=sys.stderr)
        return 2
    outdir = Path(argv[0])
    names = argv[1:] or [n for n in SETUPS if (outdir / f"{n}.run.json").exists()]
    bad = 0
    for n in names:
        if not (outdir / f"{n}.otlp.jsonl").exists():
            print(f"{n}: no span file, skipped")
            continue
        doc = compute(n, outdir)
        (outdir / f"{n}.expected.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
        t = doc["totals"]
        print(
            f"{n:36s} calls={t['calls']} reference=${t['reference_cost_usd']:.6f} truth=${t['truth_cost_usd']:.6f}"
            + (f"  PROBLEMS: {doc['problems']}" if doc["problems"] else "")
        )
        bad += bool(doc["problems"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
