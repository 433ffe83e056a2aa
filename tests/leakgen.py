"""Planted-leak generator: a month of otherwise clean LLM traffic with every leak kind planted at a known size.

`generate(out_dir, seed)` writes, for November 2026, several features in the formats the ingest reads:

  otel_spans.jsonl     flat OTel GenAI spans (costlens.prompt_hash / prefix_hash / prefix_tokens attributes)
  control_otlp.jsonl   OTLP JSON export requests (the control feature)
  openai_app.jsonl     OpenAI app-log wrappers {timestamp, metadata, request{messages}, response | error}
  anthropic_app.jsonl  Anthropic app-log wrappers {timestamp, metadata, request{system, messages}, response}
  outcomes.csv         task outcomes

and returns a `LeakDataset` with the planted truth: for each leak its kind, feature, sub-kind and wasted_usd,
priced here with genai_prices.calc_price (not with costlens). Where the leak is tokens added on top of clean
calls (oversized input, resent history, verbose output) the truth is those planted tokens × price, so the
detector's estimate from the feature's typical size is really tested; elsewhere it is the rule of
docs/definitions.md#leaks applied to the planted calls (the premium calls at the cheaper model's prices, the batch
price, the repeats, the calls past the step budget, …). Fingerprints: OTel spans carry the app's own hashes as
attributes; app logs carry the (placeholder) message text, which the OpenAI / Anthropic staging hashes itself —
same prompt, same hash.

Features (one leak each, none in the control):
  support-chat        otel       gpt-4.1-mini       context_bloat / growing_history (conversations resend history)
  doc-qa              openai     gpt-4.1-mini       context_bloat / oversized_input (whole documents stuffed in)
  ticket-classifier   anthropic  claude-sonnet-4-5  premium_overuse / short_output_work (→ claude-haiku-4-5)
  email-drafter       openai     gpt-4o + 4o-mini   premium_overuse / cheaper_model_same_feature (equal acceptance)
  nightly-enrichment  otel       gpt-4o-mini        batchable / traffic_pattern (01–05 h UTC, no user, no session)
  summarizer          openai     gpt-4.1-mini       output_verbosity (no max_tokens, some answers 10x too long)
  research-agent      otel       gpt-4.1-mini       agent_loops (a few tasks loop 25–40 steps; step_budget 15)
  faq-bot             anthropic  claude-haiku-4-5   cache_miss / response_cache (popular questions asked again)
  contract-review     otel       claude-sonnet-4-5  cache_miss / prompt_caching (4000-token prefix, bursts, no reads)
  code-assist         otel       gpt-4.1-mini       retries (billed timeouts, same-prompt repeats)
  form-filler         otel       gpt-4o-mini        input_quality (context length exceeded, resent unchanged)
  control-assistant   otlp       gpt-4.1-mini       none: natural noise only (rare 429s / timeouts, working caching)
  kb-assistant        otel       gpt-4.1-mini       context_bloat / upper_mode (a third of calls carry 2–4x context)
  report-writer       otel       gpt-4.1-mini       none: a wide single mode of context size (a look-alike control)
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import genai_prices
from genai_prices import Usage

from costlens.config import Config, FeatureConfig
from costlens.model.report import Period

MONTH_START = datetime(2026, 11, 1)
PERIOD = Period(date(2026, 11, 1), date(2026, 12, 1))
CONTROL = "control-assistant"

# The detector defaults the planted sizes are computed with (costlens.settings.leaks.DEFAULT_THRESHOLDS).
K_CONTEXT, MIN_CONTEXT = 4.0, 4000
GROWTH_TURNS, GROWTH_RATIO = 6, 2.0
K_OUTPUT, MIN_OUTPUT = 4.0, 1000
STEP_BUDGET = 15
RESPONSE_TTL_S = 7 * 86400
PROMPT_CACHE_TTL_S = 300


@dataclass
class PlantedLeak:
    kind: str
    feature: str
    sub_kind: str | None
    wasted_usd: Decimal
    calls: int
    model: str | None = None


@dataclass
class LeakDataset:
    seed: int
    files: list[Path]
    config: Config
    period: Period
    planted: list[PlantedLeak]
    control_feature: str
    calls: int
    formats: dict[str, str]  # feature → format
    fingerprints: dict[str, tuple[str | None, str | None, int | None]] = field(default_factory=dict)


@dataclass
class Call:
    call_id: str
    fmt: str
    feature: str
    provider: str
    model: str
    ts: datetime
    context: int  # all input tokens (uncached + cache read)
    output: int
    cache_read: int = 0
    status: str = "ok"
    error_type: str | None = None
    http_status: int | None = None
    max_tokens: int | None = None
    task_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    prompt_id: str = ""
    prefix_id: str | None = None
    prefix_tokens: int | None = None
    trace_id: str = ""
    span_id: str = ""
    latency_ms: int = 800

    @property
    def uncached(self) -> int:
        return self.context - self.cache_read

    @property
    def prompt_hash(self) -> str:
        return hashlib.sha256(f"{self.prefix_id}|{self.prompt_id}".encode()).hexdigest()

    @property
    def prefix_hash(self) -> str | None:
        return hashlib.sha256(self.prefix_id.encode()).hexdigest() if self.prefix_id else None


# ------------------------------------------------------------------------------------------ prices


@cache
def _unit_prices(provider: str, model: str, batch: bool, day: date) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """USD per token of (uncached input, cache read, cache write, output) from genai_prices.calc_price."""
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    context = {"processing": "batch"} if batch else None
    n = 100_000  # below every long-context tier threshold

    def price(usage: Usage) -> Decimal:
        calc = genai_prices.calc_price(
            usage, model, provider_id=provider, genai_request_timestamp=at, price_context=context
        )
        return Decimal(calc.total_price) / n

    return (
        price(Usage(input_tokens=n)),
        price(Usage(input_tokens=n, cache_read_tokens=n)),
        price(Usage(input_tokens=n, cache_write_tokens=n)),
        price(Usage(output_tokens=n)),
    )


def unit_prices(call: Call, model: str | None = None, batch: bool = False) -> tuple[Decimal, ...]:
    return _unit_prices(call.provider, model or call.model, batch, call.ts.date())


def cost(call: Call, model: str | None = None, batch: bool = False) -> Decimal:
    assert call.context < 128_000 or call.provider == "openai"  # no long-context tier in play
    inp, cr, _, out = unit_prices(call, model, batch)
    return call.uncached * inp + call.cache_read * cr + call.output * out


# --------------------------------------------------------------------------------------- generator


class _Gen:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.calls: list[Call] = []
        self.planted: list[PlantedLeak] = []
        self.outcomes: list[tuple[str, bool]] = []
        self.n = 0

    # helpers ---------------------------------------------------------------------------------
    def lognorm(self, median: float, sigma: float) -> int:
        return max(1, int(round(self.rng.lognormvariate(0, sigma) * median)))

    def when(self, hours: tuple[int, int] = (7, 22)) -> datetime:
        day = self.rng.randrange(0, 30)
        seconds = self.rng.uniform(hours[0] * 3600, hours[1] * 3600 - 1200)
        return MONTH_START + timedelta(days=day, seconds=seconds)

    def hex(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def call(
        self,
        fmt: str,
        feature: str,
        provider: str,
        model: str,
        ts: datetime,
        context: int,
        output: int,
        trace_id: str | None = None,
        **kw,
    ) -> Call:
        self.n += 1
        prefix = {"otel": "otel", "otlp": "otel", "openai": "chatcmpl", "anthropic": "msg"}[fmt]
        trace_id = trace_id or self.hex(128)
        span_id = self.hex(64)
        if fmt in ("otel", "otlp"):
            call_id = f"otel:{trace_id}:{span_id}"
        elif kw.get("status", "ok") == "error":
            call_id = f"req-{self.seed}-{self.n}"
        else:
            call_id = f"{prefix}-{self.seed}-{self.n}"
        kw.setdefault("prompt_id", f"{feature}:{self.n}")
        c = Call(
            call_id,
            fmt,
            feature,
            provider,
            model,
            ts,
            context,
            output,
            trace_id=trace_id,
            span_id=span_id,
            latency_ms=self.rng.randint(300, 4000),
            **kw,
        )
        self.calls.append(c)
        return c

    def plant(
        self, kind: str, feature: str, sub_kind: str | None, wasted: Decimal, calls: int, model: str | None = None
    ) -> None:
        assert wasted > 0 and calls > 0, (kind, feature)
        self.planted.append(PlantedLeak(kind, feature, sub_kind, wasted, calls, model))

    # features --------------------------------------------------------------------------------
    def support_chat(self) -> None:
        """Conversations; a share of them resend the whole history, so context grows every turn."""
        f, m = "support-chat", "gpt-4.1-mini"
        clean, growing = [], []
        for s in range(70):
            ts, user = self.when(), f"u{self.rng.randrange(400)}"
            for turn in range(self.rng.randint(1, 3)):
                ts += timedelta(seconds=self.rng.uniform(30, 150))
                clean.append(
                    self.call(
                        "otel",
                        f,
                        "openai",
                        m,
                        ts,
                        self.lognorm(2500, 0.25),
                        self.lognorm(200, 0.3),
                        max_tokens=1024,
                        task_id=f"sc-{s}-{turn}",
                        session_id=f"sc-s{s}",
                        user_id=user,
                        prefix_id="support-v1",
                        prefix_tokens=900,
                    )
                )
        planted = Decimal(0)
        for s in range(12):
            # the turn itself is as large as a clean one; the whole history is resent on top of it
            ts, user, base, history = self.when(), f"u{self.rng.randrange(400)}", self.lognorm(2500, 0.15), 0
            run = []
            for turn in range(self.rng.randint(8, 14)):
                ts += timedelta(seconds=self.rng.uniform(30, 150))
                c = self.call(
                    "otel",
                    f,
                    "openai",
                    m,
                    ts,
                    base + history,
                    self.lognorm(200, 0.3),
                    max_tokens=1024,
                    task_id=f"sc-g{s}-{turn}",
                    session_id=f"sc-g{s}",
                    user_id=user,
                    prefix_id="support-v1",
                    prefix_tokens=900,
                )
                run.append(c)
                planted += history * unit_prices(c)[0]
                history += self.rng.randint(600, 1000)
            assert len(run) >= GROWTH_TURNS and run[-1].context >= GROWTH_RATIO * run[0].context
            growing += run
        self.plant("context_bloat", f, "growing_history", planted, len(growing))

    def doc_qa(self) -> None:
        """Retrieval QA where some calls stuff whole documents into the prompt."""
        f, m = "doc-qa", "gpt-4.1-mini"
        calls, planted, stuffed_calls = [], Decimal(0), 0
        for i in range(250):
            extra = self.rng.randint(17_000, 57_000) if self.rng.random() < 0.08 else 0
            c = self.call(
                "openai",
                f,
                "openai",
                m,
                self.when(),
                self.lognorm(3000, 0.3) + extra,
                self.lognorm(250, 0.3),
                max_tokens=800,
                task_id=f"dq-{i}",
                user_id=f"u{self.rng.randrange(400)}",
                prefix_id="docqa-v2",
            )
            calls.append(c)
            if extra:
                planted += extra * unit_prices(c)[0]
                stuffed_calls += 1
        # the rule flags exactly the stuffed calls (clean ones stay below k x p50)
        limit = max(K_CONTEXT * statistics.median(c.context for c in calls), MIN_CONTEXT)
        assert sum(c.context > limit for c in calls) == stuffed_calls
        self.plant("context_bloat", f, "oversized_input", planted, stuffed_calls)

    def ticket_classifier(self) -> None:
        """A premium model answering with a label of a few tokens."""
        f, m, cheap = "ticket-classifier", "claude-sonnet-4-5", "claude-haiku-4-5"
        calls = [
            self.call(
                "anthropic",
                f,
                "anthropic",
                m,
                self.when((0, 24)),
                self.lognorm(1200, 0.3),
                self.rng.randint(3, 40),
                max_tokens=64,
                task_id=f"tc-{i}",
                user_id=f"c{self.rng.randrange(900)}",
                prefix_id="classifier-v1",
            )
            for i in range(200)
        ]
        self.plant(
            "premium_overuse", f, "short_output_work", sum(cost(c) - cost(c, cheap) for c in calls), len(calls), m
        )

    def email_drafter(self) -> None:
        """Half the tasks on gpt-4o, half on gpt-4o-mini, accepted equally often."""
        f = "email-drafter"
        for model in ("gpt-4o", "gpt-4o-mini"):
            accepted = [True] * 340 + [False] * 60  # 85% each
            self.rng.shuffle(accepted)
            premium = []
            for i, ok in enumerate(accepted):
                task = f"ed-{model}-{i}"
                premium.append(
                    self.call(
                        "openai",
                        f,
                        "openai",
                        model,
                        self.when(),
                        self.lognorm(1500, 0.3),
                        self.lognorm(400, 0.3),
                        max_tokens=1024,
                        task_id=task,
                        user_id=f"u{self.rng.randrange(400)}",
                        prefix_id="drafter-v1",
                    )
                )
                self.outcomes.append((task, ok))
            if model == "gpt-4o":
                self.plant(
                    "premium_overuse",
                    f,
                    "cheaper_model_same_feature",
                    sum(cost(c) - cost(c, "gpt-4o-mini") for c in premium),
                    len(premium),
                    model,
                )

    def nightly_enrichment(self) -> None:
        """A nightly job: 01–05 h UTC, no user, no session, synchronous API."""
        f, m = "nightly-enrichment", "gpt-4o-mini"
        calls = [
            self.call(
                "otel",
                f,
                "openai",
                m,
                self.when((1, 5)),
                self.lognorm(2000, 0.3),
                self.lognorm(300, 0.3),
                max_tokens=512,
                task_id=f"ne-{i}",
                prefix_id="enrich-v1",
                prefix_tokens=600,
            )
            for i in range(200)
        ]
        self.plant("batchable", f, "traffic_pattern", sum(cost(c) - cost(c, batch=True) for c in calls), len(calls))

    def summarizer(self) -> None:
        """No max_tokens; a few answers run ten times longer than usual."""
        f, m = "summarizer", "gpt-4.1-mini"
        calls, planted, verbose_calls = [], Decimal(0), 0
        for i in range(250):
            extra = self.rng.randint(2200, 5700) if self.rng.random() < 0.06 else 0
            c = self.call(
                "openai",
                f,
                "openai",
                m,
                self.when(),
                self.lognorm(4000, 0.3),
                self.lognorm(300, 0.25) + extra,
                task_id=f"su-{i}",
                user_id=f"u{self.rng.randrange(400)}",
                prefix_id="summ-v1",
            )
            calls.append(c)
            if extra:
                planted += extra * unit_prices(c)[3]
                verbose_calls += 1
        limit = max(K_OUTPUT * statistics.median(c.output for c in calls), MIN_OUTPUT)
        assert sum(c.output > limit for c in calls) == verbose_calls
        self.plant("output_verbosity", f, None, planted, verbose_calls)

    def research_agent(self) -> None:
        """Agent tasks of 2–6 steps; a few loop for 25–40 steps (step_budget = 15)."""
        f, m = "research-agent", "gpt-4.1-mini"
        loops = [True] * 4 + [False] * 60
        self.rng.shuffle(loops)
        past_budget = []
        for i, loop in enumerate(loops):
            ts, trace, user = self.when(), self.hex(128), f"u{self.rng.randrange(400)}"
            for step in range(1, (self.rng.randint(25, 40) if loop else self.rng.randint(2, 6)) + 1):
                ts += timedelta(seconds=self.rng.uniform(3, 20))
                c = self.call(
                    "otel",
                    f,
                    "openai",
                    m,
                    ts,
                    self.lognorm(5000, 0.25),
                    self.lognorm(250, 0.3),
                    trace_id=trace,
                    max_tokens=1024,
                    task_id=f"ra-{i}",
                    user_id=user,
                    prefix_id="agent-v3",
                    prefix_tokens=700,
                )
                if step > STEP_BUDGET:
                    past_budget.append(c)
        self.plant("agent_loops", f, None, sum(cost(c) for c in past_budget), len(past_budget))

    def faq_bot(self) -> None:
        """Popular questions are asked again and again; each is answered from scratch."""
        f, m = "faq-bot", "claude-haiku-4-5"
        popular = {f"faq:{q}": self.lognorm(1800, 0.2) for q in range(12)}
        calls = []
        for i in range(300):
            if self.rng.random() < 0.3:
                prompt = self.rng.choice(sorted(popular))
                context = popular[prompt]
            else:
                prompt, context = f"faq-bot:q{i}", self.lognorm(1800, 0.2)
            calls.append(
                self.call(
                    "anthropic",
                    f,
                    "anthropic",
                    m,
                    self.when(),
                    context,
                    self.lognorm(180, 0.3),
                    max_tokens=512,
                    task_id=f"fq-{i}",
                    user_id=f"u{self.rng.randrange(400)}",
                    prompt_id=prompt,
                    prefix_id="faq-v1",
                )
            )
        repeats, last_seen = [], {}
        for c in sorted(calls, key=lambda c: (c.ts, c.call_id)):
            previous = last_seen.get(c.prompt_id)
            if previous is not None and (c.ts - previous).total_seconds() <= RESPONSE_TTL_S:
                repeats.append(c)
            last_seen[c.prompt_id] = c.ts
        self.plant("cache_miss", f, "response_cache", sum(cost(c) for c in repeats), len(repeats))

    def contract_review(self) -> None:
        """Bursts of reviews sharing a 4000-token system prompt and tools, sent without cache_control."""
        f, m, prefix = "contract-review", "claude-sonnet-4-5", 4000
        calls = []
        for b in range(30):
            ts, user = self.when((8, 18)), f"u{self.rng.randrange(400)}"
            for k in range(self.rng.randint(3, 8)):
                ts += timedelta(seconds=self.rng.uniform(20, 240))
                calls.append(
                    self.call(
                        "otel",
                        f,
                        "anthropic",
                        m,
                        ts,
                        prefix + self.lognorm(3000, 0.3),
                        self.lognorm(1200, 0.3),
                        max_tokens=4096,
                        task_id=f"cr-{b}-{k}",
                        user_id=user,
                        prefix_id="contract-v4",
                        prefix_tokens=prefix,
                    )
                )
        saving, premium, missed, previous = Decimal(0), Decimal(0), 0, None
        for c in sorted(calls, key=lambda c: (c.ts, c.call_id)):
            inp, cr, cw, _ = unit_prices(c)
            if previous is None or (c.ts - previous).total_seconds() > PROMPT_CACHE_TTL_S:
                premium += prefix * (cw - inp)  # a new cache window starts with a write
            else:
                saving += prefix * (inp - cr)
                missed += 1
            previous = c.ts
        self.plant("cache_miss", f, "prompt_caching", saving - premium, missed)

    def code_assist(self) -> None:
        """Billed timeouts retried, answers re-requested with the same prompt, a few 429s."""
        f, m = "code-assist", "gpt-4.1-mini"
        wasted = []
        for i in range(250):
            ts, trace, user, prompt = self.when(), self.hex(128), f"u{self.rng.randrange(400)}", f"{f}:p{i}"
            context, r = self.lognorm(3500, 0.3), self.rng.random()
            common = dict(
                trace_id=trace,
                max_tokens=2048,
                task_id=f"ca-{i}",
                user_id=user,
                prompt_id=prompt,
                prefix_id="code-v2",
                prefix_tokens=800,
            )
            if r < 0.08:
                wasted.append(
                    self.call(
                        "otel",
                        f,
                        "openai",
                        m,
                        ts,
                        context,
                        self.rng.randint(50, 400),
                        status="error",
                        error_type="timeout",
                        http_status=504,
                        **common,
                    )
                )
                ts += timedelta(seconds=self.rng.uniform(31, 60))
            elif r < 0.14:
                wasted.append(self.call("otel", f, "openai", m, ts, context, self.lognorm(300, 0.3), **common))
                ts += timedelta(seconds=self.rng.uniform(5, 40))
            elif r < 0.16:
                self.call(
                    "otel",
                    f,
                    "openai",
                    m,
                    ts,
                    0,
                    0,
                    status="error",
                    error_type="rate_limit_exceeded",
                    http_status=429,
                    **common,
                )
                ts += timedelta(seconds=2)
            self.call("otel", f, "openai", m, ts, context, self.lognorm(300, 0.3), **common)
        self.plant("retries", f, None, sum(cost(c) for c in wasted), len(wasted))

    def form_filler(self) -> None:
        """Some requests exceed the context window and are resent unchanged before being trimmed."""
        f, m = "form-filler", "gpt-4o-mini"
        wasted = []
        for i in range(200):
            ts, trace, user = self.when(), self.hex(128), f"u{self.rng.randrange(400)}"
            common = dict(
                trace_id=trace, max_tokens=512, task_id=f"ff-{i}", user_id=user, prefix_id="form-v1", prefix_tokens=500
            )
            if self.rng.random() < 0.06:
                too_long, prompt = self.rng.randint(130_000, 160_000), f"{f}:long{i}"
                for _ in range(1 + self.rng.randint(1, 2)):
                    wasted.append(
                        self.call(
                            "otel",
                            f,
                            "openai",
                            m,
                            ts,
                            too_long,
                            0,
                            status="error",
                            error_type="context_length_exceeded",
                            http_status=400,
                            prompt_id=prompt,
                            **common,
                        )
                    )
                    ts += timedelta(seconds=self.rng.uniform(1, 5))
            self.call("otel", f, "openai", m, ts, self.lognorm(2500, 0.3), self.lognorm(200, 0.3), **common)
        self.plant("input_quality", f, None, sum(cost(c) for c in wasted), len(wasted))

    def kb_assistant(self) -> None:
        """A third of the calls carry a pasted knowledge base: 2–4x the feature's typical context, below the
        oversized multiple, so only the search for a second mode of context size finds them."""
        f, m = "kb-assistant", "gpt-4.1-mini"
        planted, bloated = Decimal(0), 0
        for i in range(450):
            base = self.lognorm(2500, 0.25)
            extra = round(2500 * self.rng.uniform(1.0, 3.0)) if self.rng.random() < 1 / 3 else 0
            c = self.call(
                "otel",
                f,
                "openai",
                m,
                self.when(),
                base + extra,
                self.lognorm(300, 0.3),
                task_id=f"kb-{i}",
                user_id=f"u{self.rng.randrange(400)}",
            )
            if extra:
                planted += extra * unit_prices(c)[0]
                bloated += 1
        self.plant("context_bloat", f, "upper_mode", planted, bloated)

    def report_writer(self) -> None:
        """No leak: context sizes vary widely around one mode (sources of any length), which a fixed 2x rule
        would flag as bloat."""
        f, m = "report-writer", "gpt-4.1-mini"
        for i in range(450):
            self.call(
                "otel",
                f,
                "openai",
                m,
                self.when(),
                self.lognorm(3000, 0.5),
                self.lognorm(500, 0.3),
                task_id=f"rw-{i}",
                user_id=f"u{self.rng.randrange(400)}",
            )

    def control(self) -> None:
        """Clean: short conversations, caching working, rare 429s and timeouts retried once, outcomes logged."""
        f, m = CONTROL, "gpt-4.1-mini"
        calls = []
        for s in range(120):
            ts, user = self.when(), f"u{self.rng.randrange(400)}"
            for turn in range(self.rng.randint(1, 4)):
                ts += timedelta(seconds=self.rng.uniform(40, 200))
                task, trace, prompt = f"ctl-{s}-{turn}", self.hex(128), f"{f}:{s}:{turn}"
                common = dict(
                    trace_id=trace,
                    task_id=task,
                    session_id=f"ctl-s{s}",
                    user_id=user,
                    prompt_id=prompt,
                    prefix_id="control-v1",
                    prefix_tokens=1500,
                )
                context, r = 1500 + self.lognorm(1500, 0.4), self.rng.random()
                if r < 0.01:
                    calls.append(
                        self.call(
                            "otlp",
                            f,
                            "openai",
                            m,
                            ts,
                            0,
                            0,
                            status="error",
                            error_type="rate_limit_exceeded",
                            http_status=429,
                            **common,
                        )
                    )
                    ts += timedelta(seconds=2)
                elif r < 0.015:
                    calls.append(
                        self.call(
                            "otlp",
                            f,
                            "openai",
                            m,
                            ts,
                            context,
                            self.rng.randint(20, 100),
                            status="error",
                            error_type="timeout",
                            http_status=504,
                            **common,
                        )
                    )
                    ts += timedelta(seconds=30)
                calls.append(self.call("otlp", f, "openai", m, ts, context, self.lognorm(250, 0.35), **common))
                self.outcomes.append((task, self.rng.random() < 0.9))
        # OpenAI caches a repeated >= 1024-token prefix automatically: a call within the cache lifetime of the
        # previous answered call reads it (in 128-token blocks)
        previous = None
        for c in sorted((c for c in calls if c.status == "ok"), key=lambda c: (c.ts, c.call_id)):
            if previous is not None and (c.ts - previous).total_seconds() <= PROMPT_CACHE_TTL_S:
                c.cache_read = 1408
            previous = c.ts


# ------------------------------------------------------------------------------------------ writers


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds") + "Z"


def _otel_attributes(c: Call) -> dict[str, object]:
    attrs: dict[str, object] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": c.provider,
        "gen_ai.request.model": c.model,
        "gen_ai.response.model": c.model,
        # OTel input tokens include cache reads
        "gen_ai.usage.input_tokens": c.context,
        "gen_ai.usage.output_tokens": c.output,
        "costlens.feature": c.feature,
        "costlens.prompt_hash": c.prompt_hash,
    }
    optional = {
        "gen_ai.usage.cache_read.input_tokens": c.cache_read or None,
        "costlens.task_id": c.task_id,
        "gen_ai.conversation.id": c.session_id,
        "user.id": c.user_id,
        "gen_ai.request.max_tokens": c.max_tokens,
        "error.type": c.error_type,
        "http.response.status_code": c.http_status,
        "costlens.prefix_hash": c.prefix_hash,
        "costlens.prefix_tokens": c.prefix_tokens,
    }
    attrs.update({k: v for k, v in optional.items() if v is not None})
    return attrs


def _flat_span(c: Call) -> dict:
    return {
        "trace_id": c.trace_id,
        "span_id": c.span_id,
        "name": f"chat {c.model}",
        "start_time": _iso(c.ts),
        "end_time": _iso(c.ts + timedelta(milliseconds=c.latency_ms)),
        "status": "ERROR" if c.status == "error" else "OK",
        "attributes": _otel_attributes(c),
        "resource": {"service.name": "leakgen"},
    }


def _otlp_value(value: object) -> dict:
    return {"intValue": str(value)} if isinstance(value, int) else {"stringValue": str(value)}


def _otlp_span(c: Call) -> dict:
    nanos = int((c.ts.replace(tzinfo=UTC)).timestamp() * 1000) * 1_000_000
    return {
        "traceId": c.trace_id,
        "spanId": c.span_id,
        "parentSpanId": "",
        "name": f"chat {c.model}",
        "kind": 3,
        "startTimeUnixNano": str(nanos),
        "endTimeUnixNano": str(nanos + c.latency_ms * 1_000_000),
        "attributes": [{"key": k, "value": _otlp_value(v)} for k, v in _otel_attributes(c).items()],
        "status": {"code": 2, "message": c.error_type} if c.status == "error" else {"code": 1},
    }


def _otlp_line(spans: list[Call]) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "control-api"}}]},
                "scopeSpans": [{"scope": {"name": "leakgen"}, "spans": [_otlp_span(c) for c in spans]}],
            }
        ]
    }


def _metadata(c: Call) -> dict:
    meta = {"feature": c.feature, "task_id": c.task_id, "session_id": c.session_id, "user_id": c.user_id}
    return {k: v for k, v in meta.items() if v is not None}


def _openai_line(c: Call) -> dict:
    request: dict[str, object] = {
        "model": c.model,
        "messages": [
            {"role": "system", "content": f"[system prompt {c.prefix_id}]"},
            {"role": "user", "content": f"[prompt {c.prompt_id}]"},
        ],
    }
    if c.max_tokens is not None:
        request["max_tokens"] = c.max_tokens
    line: dict[str, object] = {
        "timestamp": _iso(c.ts),
        "latency_ms": c.latency_ms,
        "metadata": _metadata(c),
        "request": request,
    }
    if c.status == "error":
        line.update(
            request_id=c.call_id,
            response=None,
            error={"type": "invalid_request_error", "code": c.error_type, "http_status": c.http_status},
        )
    else:
        line["response"] = {
            "id": c.call_id,
            "object": "chat.completion",
            "created": int(c.ts.replace(tzinfo=UTC).timestamp()),
            "model": c.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "[redacted]"}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": c.context,
                "completion_tokens": c.output,
                "total_tokens": c.context + c.output,
                "prompt_tokens_details": {"cached_tokens": c.cache_read},
            },
        }
        line["error"] = None
    return line


def _anthropic_line(c: Call) -> dict:
    assert c.status == "ok"
    return {
        "timestamp": _iso(c.ts),
        "latency_ms": c.latency_ms,
        "metadata": _metadata(c),
        "request": {
            "model": c.model,
            "max_tokens": c.max_tokens,
            "system": f"[system prompt {c.prefix_id}]",
            "messages": [{"role": "user", "content": f"[prompt {c.prompt_id}]"}],
        },
        "response": {
            "id": c.call_id,
            "type": "message",
            "role": "assistant",
            "model": c.model,
            "content": [{"type": "text", "text": "[redacted]"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            # Anthropic input_tokens exclude cache reads and writes
            "usage": {
                "input_tokens": c.uncached,
                "output_tokens": c.output,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": c.cache_read,
            },
        },
        "error": None,
    }


def _write_jsonl(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- API


def generate(out_dir: Path | str, seed: int) -> LeakDataset:
    """Write the month's files under out_dir and return them with the planted truth."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = _Gen(seed)
    for feature in (
        g.support_chat,
        g.doc_qa,
        g.ticket_classifier,
        g.email_drafter,
        g.nightly_enrichment,
        g.summarizer,
        g.research_agent,
        g.faq_bot,
        g.contract_review,
        g.code_assist,
        g.form_filler,
        g.control,
        g.kb_assistant,  # after the others: their random draws stay as they were
        g.report_writer,
    ):
        feature()
    by_format: dict[str, list[Call]] = {}
    for c in sorted(g.calls, key=lambda c: (c.ts, c.call_id)):
        by_format.setdefault(c.fmt, []).append(c)
    otlp = by_format.get("otlp", [])
    files = [
        _write_jsonl(out / "otel_spans.jsonl", [_flat_span(c) for c in by_format.get("otel", [])]),
        _write_jsonl(out / "control_otlp.jsonl", [_otlp_line(otlp[i : i + 50]) for i in range(0, len(otlp), 50)]),
        _write_jsonl(out / "openai_app.jsonl", [_openai_line(c) for c in by_format.get("openai", [])]),
        _write_jsonl(out / "anthropic_app.jsonl", [_anthropic_line(c) for c in by_format.get("anthropic", [])]),
    ]
    with (out / "outcomes.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["task_id", "accepted"])
        writer.writerows((task, "true" if ok else "false") for task, ok in g.outcomes)
    files.append(out / "outcomes.csv")
    config = Config(
        features={
            "support-chat": FeatureConfig(interactive=True),
            "research-agent": FeatureConfig(step_budget=STEP_BUDGET),
            CONTROL: FeatureConfig(interactive=True, owner="platform"),
        }
    )
    return LeakDataset(
        seed=seed,
        files=files,
        config=config,
        period=PERIOD,
        planted=g.planted,
        control_feature=CONTROL,
        calls=len(g.calls),
        formats={c.feature: c.fmt for c in g.calls},
        fingerprints={c.call_id: (c.prompt_hash, c.prefix_hash, c.prefix_tokens) for c in g.calls},
    )
