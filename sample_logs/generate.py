#!/usr/bin/env python3
"""Generate one month (October 2026, UTC) of LLM traffic for the fictional company Northwind Labs.

The files written next to this script are the costlens sample data set: six request-log files in five
producer formats, two outcome files, one FOCUS 1.2 cloud bill, a costlens.toml and a README.md whose
figures (row counts, planted leaks, reconciliation gaps) are computed here from the same data.

Run:  python sample_logs/generate.py        (standard library + pyarrow only)

Everything is derived from one seeded random.Random(20261031): no wall-clock time, no set/hash
ordering, gzip mtime 0, Parquet written from Arrow arrays. Re-running gives byte-identical files
(the .gz and .parquet files assume the same zlib / pyarrow versions).

Token conventions (the ingest tests rely on them):
  * OTel spans (OTLP and flat):   gen_ai.usage.input_tokens INCLUDES cache read + cache creation tokens.
  * OpenAI Chat Completions:      usage.prompt_tokens INCLUDES prompt_tokens_details.cached_tokens.
  * OpenAI Responses API:         usage.input_tokens INCLUDES input_tokens_details.cached_tokens.
  * warehouse CSV (classifier):   tokens_in INCLUDES cached_in.
  * Anthropic Messages (raw):     usage.input_tokens EXCLUDES cache reads and cache writes.
  * reasoning tokens are always a subset of output tokens.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# ───────────────────────────── constants ─────────────────────────────

SEED = 20261031
OUT_DIR = Path(__file__).resolve().parent

UTC = UTC
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 31
US = 1_000_000  # all internal times are integer microseconds since the Unix epoch
START_US = (MONTH_START - EPOCH) // timedelta(microseconds=1)
END_US = START_US + DAYS * 86_400 * US
FIVE_MIN_US = 300 * US
ONE_HOUR_US = 3_600 * US

# Answered model ids (what the provider reports back; costlens prices the answered model).
SONNET, HAIKU, OPUS = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"
GPT4O, GPT4O_MINI = "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"
GPT41, GPT41_NANO = "gpt-4.1-2025-04-14", "gpt-4.1-nano-2025-04-14"
GPT5_MINI, GEMINI_FLASH = "gpt-5-mini-2025-08-07", "gemini-2.5-flash"
REQUEST_ALIAS = {
    SONNET: "claude-sonnet-4-5",
    HAIKU: "claude-haiku-4-5",
    OPUS: "claude-opus-4-1",
    GPT4O: "gpt-4o",
    GPT4O_MINI: "gpt-4o-mini",
    GPT41: "gpt-4.1",
    GPT41_NANO: "gpt-4.1-nano",
    GPT5_MINI: "gpt-5-mini",
    GEMINI_FLASH: "gemini-2.5-flash",
}

# List prices, USD per million tokens: input, output, cache read, cache write 5m, cache write 1h.
# Used only for the README figures and the FOCUS bill; costlens has its own price book.
D = Decimal
PRICES = {
    SONNET: (D("3"), D("15"), D("0.30"), D("3.75"), D("6")),
    HAIKU: (D("1"), D("5"), D("0.10"), D("1.25"), D("2")),
    OPUS: (D("15"), D("75"), D("1.50"), D("18.75"), D("30")),
    GPT4O: (D("2.50"), D("10"), D("1.25"), D(0), D(0)),
    GPT4O_MINI: (D("0.15"), D("0.60"), D("0.075"), D(0), D(0)),
    GPT41: (D("2"), D("8"), D("0.50"), D(0), D(0)),
    GPT41_NANO: (D("0.10"), D("0.40"), D("0.025"), D(0), D(0)),
    GPT5_MINI: (D("0.25"), D("2"), D("0.025"), D(0), D(0)),
    GEMINI_FLASH: (D("0.30"), D("2.50"), D("0.03"), D(0), D(0)),
}
FLEX_FACTOR = D("0.5")  # OpenAI flex processing is half the standard price
BATCH_FACTOR = D("0.5")  # OpenAI / Azure global batch is half the standard price
AZURE_DISCOUNT = D("0.9")  # Northwind's negotiated Azure OpenAI rate: 10 % off list

# Fictional tenants of Northwind's products (Zipf-weighted: a few big customers dominate).
CUSTOMERS = [
    "cus-alderbank",
    "cus-brightwell",
    "cus-cobalt-health",
    "cus-dunmore",
    "cus-eastgate",
    "cus-fernhill",
    "cus-greyline",
    "cus-harbor-foods",
    "cus-ironleaf",
    "cus-juniper-air",
    "cus-kestrel",
    "cus-lumen-retail",
    "cus-marlow",
    "cus-northpeak",
    "cus-oakridge",
    "cus-pinecrest",
    "cus-quarry-ins",
    "cus-redfern",
    "cus-saltmarsh",
    "cus-tidewater",
    "cus-upland",
    "cus-vantage",
    "cus-westbrook",
    "cus-yardley",
    "cus-zephyr",
    "cus-ashford",
    "cus-bellweather",
    "cus-copperline",
    "cus-driftwood",
    "cus-evergreen",
]
CUSTOMER_WEIGHTS = [1 / (i + 1) ** 0.8 for i in range(len(CUSTOMERS))]

# Seasonality. Hours are UTC: EU mornings from 07:00, EU afternoon + US morning peak 13–17,
# US afternoons until ~23:00. Weekday weights Mon..Sun.
HOURS_BUSINESS = [
    0.15,
    0.10,
    0.08,
    0.07,
    0.07,
    0.10,
    0.20,
    0.45,
    0.75,
    0.90,
    0.95,
    1.00,
    1.00,
    1.10,
    1.25,
    1.30,
    1.25,
    1.10,
    0.95,
    0.80,
    0.65,
    0.50,
    0.35,
    0.22,
]
HOURS_CONSUMER = [
    0.40,
    0.30,
    0.25,
    0.20,
    0.20,
    0.25,
    0.35,
    0.50,
    0.65,
    0.75,
    0.80,
    0.85,
    0.90,
    0.90,
    0.90,
    0.95,
    1.00,
    1.05,
    1.10,
    1.15,
    1.20,
    1.10,
    0.85,
    0.60,
]
HOURS_ENGINEERING = [
    0.05,
    0.03,
    0.02,
    0.02,
    0.02,
    0.05,
    0.15,
    0.50,
    0.90,
    1.00,
    1.00,
    0.85,
    0.80,
    1.10,
    1.20,
    1.20,
    1.10,
    0.90,
    0.60,
    0.40,
    0.25,
    0.15,
    0.10,
    0.07,
]
WEEK_BUSINESS = [1.00, 1.08, 1.06, 1.02, 0.90, 0.25, 0.20]
WEEK_CONSUMER = [0.90, 0.95, 0.95, 0.95, 1.00, 1.15, 1.10]
WEEK_ENGINEERING = [1.00, 1.10, 1.10, 1.05, 0.80, 0.08, 0.05]
WEEK_OFFICE = [1.00, 1.05, 1.05, 1.00, 0.85, 0.0, 0.0]  # marketing works weekdays only

# Volumes (tuned so the month has ~27k calls and the files total 2–6 MB).
SUPPORT_CONVERSATIONS = 130
DOCS_PER_BUSINESS_DAY = 510
CLASSIFIER_TICKETS = 9_400
AGENT_SESSIONS = 56
SUMMARIZER_QUERIES = 450
MARKETING_TASKS = 100

# Planted-pattern knobs.
SUPPORT_BLOAT_SHARE = 0.10  # conversations whose context is never trimmed
SUPPORT_HAIKU_SHARE = 0.15  # of tasks (user turns)
SUPPORT_FAIL_RATE = 0.025  # per attempt; ≈2 % of calls fail
DOCX_MINI_SHARE = 0.30
DOCX_CONTEXT_EXCEEDED_RATE = 0.006
DOCX_SERVER_ERROR_RATE = 0.009
DOCX_REPEATED_TASKS = 12
CLASSIFIER_PREMIUM_SHARE = 0.40
AGENT_LOOP_SHARE = 0.05
AGENT_STEP_BUDGET = 60
SUMMARIZER_VERBOSE_SHARE = 0.08
UNLOGGED_GPT4O_SHARE = D("0.04")  # batch-reindex-dev: extra gpt-4o tokens no log contains

ACCEPTANCE = {
    "support-bot": 0.78,
    "doc-extractor": 0.92,
    "ticket-classifier": 0.95,
    "coding-agent": 0.60,
    "search-summarizer": 0.88,
    "marketing-copy": 0.70,
}
HUMAN_REVIEW = {
    "support-bot": 0.08,
    "doc-extractor": 0.25,
    "ticket-classifier": 0.04,
    "coding-agent": 0.90,
    "search-summarizer": 0.02,
    "marketing-copy": 0.85,
}
OUTCOME_COVERAGE = 0.85

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# ───────────────────────────── helpers ─────────────────────────────


@dataclass
class Call:
    """One model invocation, in the canonical (additive) token convention, before serialisation."""

    feature: str
    task_id: str
    model: str  # answered model
    start_us: int
    latency_ms: int
    ok: bool = True
    error_type: str | None = None
    http_status: int | None = None
    has_usage: bool = True  # False: the request never reached the model, no usage is logged
    total_input: int = 0  # all input tokens, cached or not
    breakpoint: int = 0  # Anthropic: tokens up to the last cache_control breakpoint
    prefix: int = 0  # Anthropic: shared system/tools prefix length
    input_uncached: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0
    reasoning: int = 0
    finish_reason: str | None = None
    max_tokens: int | None = None
    service_tier: str = "standard"
    billed_unlogged_input: int = 0  # input tokens billed although the log has no usage
    tags: set = field(default_factory=set)  # planted-pattern labels, for the README figures
    extra: dict = field(default_factory=dict)  # producer-specific fields

    @property
    def end_us(self) -> int:
        return self.start_us + self.latency_ms * 1000


@dataclass
class Task:
    feature: str
    task_id: str
    accept_p: float
    flags: set = field(default_factory=set)


def hexid(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def b62(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALNUM) for _ in range(n))


def lognorm(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, round(median * math.exp(sigma * rng.gauss(0.0, 1.0))))))


def iso_ms(us: int) -> str:
    d = EPOCH + timedelta(microseconds=us)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def iso_us(us: int) -> str:
    d = EPOCH + timedelta(microseconds=us)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}Z"


def iso_day(day: int) -> str:
    return (MONTH_START + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_of(us: int) -> int:
    return (us - START_US) // (86_400 * US)


def day_weights(week: list[float], growth: float) -> list[float]:
    """Weekday shape times a gentle month-long growth trend."""
    first = MONTH_START.weekday()
    return [week[(first + d) % 7] * (1 + growth * d / (DAYS - 1)) for d in range(DAYS)]


def sample_start(rng: random.Random, days: list[float], hours: list[float]) -> int:
    d = rng.choices(range(DAYS), weights=days)[0]
    h = rng.choices(range(24), weights=hours)[0]
    return START_US + (d * 24 + h) * ONE_HOUR_US + rng.randrange(ONE_HOUR_US)


def fit_in_month(calls: list[Call], margin_us: int = 60 * US) -> None:
    """Shift a task / conversation back if it would run past the end of October."""
    if not calls:
        return
    overflow = max(c.end_us for c in calls) - (END_US - margin_us)
    if overflow > 0:
        for c in calls:
            c.start_us -= overflow


def customer(rng: random.Random) -> str:
    return rng.choices(CUSTOMERS, weights=CUSTOMER_WEIGHTS)[0]


def dumps(obj) -> str:
    # Compact and deterministic: key order is construction order, which never varies.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def call_cost(c: Call) -> Decimal:
    """List cost in USD of one call (standard, flex per its service tier)."""
    p_in, p_out, p_cr, p_w5, p_w1 = PRICES[c.model]
    usd = (
        c.input_uncached * p_in
        + c.output * p_out
        + c.cache_read * p_cr
        + c.cache_write_5m * p_w5
        + c.cache_write_1h * p_w1
    ) / D(1_000_000)
    return usd * FLEX_FACTOR if c.service_tier == "flex" else usd


def simulate_anthropic_cache(calls: list[Call], conv_key, prefix_ttl_us, use_1h) -> None:
    """Replay calls in time order through Anthropic prompt-caching rules.

    Each call has a shared prefix (system + tools, identical for every call on a model) and a
    breakpoint at the end of its conversation history. A call reads the longest still-live cached
    prefix (the conversation's previous breakpoint, else the shared prefix), writes the rest up to
    its breakpoint, and everything after the breakpoint is uncached input. Reads refresh the TTL.
    Requests rejected before reaching the model (429/529) touch nothing.
    """
    prefix_state: dict[str, tuple[int, int]] = {}  # model -> (expiry, ttl)
    conv_state: dict[tuple, tuple[int, int]] = {}  # (model, conversation, epoch) -> (cached length, expiry)
    for c in sorted(calls, key=lambda c: (c.start_us, c.task_id)):
        if not c.has_usage:
            continue
        now, key = c.start_us, (c.model, conv_key(c))
        read = 0
        conv = conv_state.get(key)
        p_exp, p_ttl = prefix_state.get(c.model, (-1, FIVE_MIN_US))
        if conv and conv[1] >= now and conv[0] <= c.breakpoint:
            read = conv[0]
        elif p_exp >= now:
            read = c.prefix
        w1h = 0
        if read < c.prefix and use_1h(c):
            w1h = c.prefix - read  # the shared prefix is written with a 1-hour TTL
            prefix_state[c.model] = (now + ONE_HOUR_US, ONE_HOUR_US)
        elif read < c.prefix:
            prefix_state[c.model] = (now + prefix_ttl_us, prefix_ttl_us)
        else:
            prefix_state[c.model] = (max(p_exp, now + p_ttl), p_ttl)
        c.cache_read = read
        c.cache_write_1h = w1h
        c.cache_write_5m = c.breakpoint - read - w1h
        c.input_uncached = c.total_input - c.breakpoint
        conv_state[key] = (c.breakpoint, now + FIVE_MIN_US)


# ───────────────────────────── 1. support-bot (OTLP JSON) ─────────────────────────────

SUPPORT_PREFIX = 4_600  # system prompt + tool definitions; above Haiku 4.5's 4,096-token cache minimum
SUPPORT_ERRORS = [("timeout", 0.4), ("rate_limit_exceeded", 0.3), ("overloaded_error", 0.3)]
SUPPORT_ERROR_MESSAGES = {
    "timeout": "Request timed out after 20s (stream interrupted)",
    "rate_limit_exceeded": "Error code: 429 - rate_limit_error: This request would exceed the rate limit "
    "for your organization of 400,000 input tokens per minute",
    "overloaded_error": "Error code: 529 - overloaded_error: Overloaded",
}


def support_latency(rng: random.Random, model: str, total_input: int, output: int) -> int:
    tps = rng.uniform(120, 160) if model == HAIKU else rng.uniform(55, 75)
    seconds = rng.uniform(0.35, 0.8) + total_input / 45_000 + output / tps
    return int(min(19.5, max(0.8, seconds)) * 1000)


def gen_support_bot(rng: random.Random) -> tuple[list[Call], list[Task], dict]:
    """Multi-turn support chats. Task = one user turn (1 call, 2 with a tool lookup, + retries).

    Planted: ~10 % of conversations never trim their history and keep every retrieved document in
    the transcript, so input grows turn after turn (context bloat); ~2 % of attempts fail and are
    retried inside the same task. Caching is used properly (5m writes, a daily 1h warm-up write).
    """
    days = day_weights(WEEK_BUSINESS, growth=0.08)
    bloated = set(rng.sample(range(SUPPORT_CONVERSATIONS), round(SUPPORT_CONVERSATIONS * SUPPORT_BLOAT_SHARE)))
    turn_weights = [28, 24, 17, 12, 8, 5, 4, 2]  # short chats: 1..8 turns
    n_turns_of = [
        rng.randint(10, 22) if i in bloated else rng.choices(range(1, 9), weights=turn_weights)[0]
        for i in range(SUPPORT_CONVERSATIONS)
    ]
    # Self-serve (short) chats are routed to Haiku until it serves ~15 % of turns; long chats stay on Sonnet.
    short = [i for i in range(SUPPORT_CONVERSATIONS) if i not in bloated]
    rng.shuffle(short)
    on_haiku: set[int] = set()
    for i in short:
        if sum(n_turns_of[j] for j in on_haiku) + n_turns_of[i] > SUPPORT_HAIKU_SHARE * sum(n_turns_of):
            break
        on_haiku.add(i)
    calls: list[Call] = []
    tasks: list[Task] = []
    for conv_no in range(SUPPORT_CONVERSATIONS):
        is_bloated = conv_no in bloated
        model = HAIKU if conv_no in on_haiku else SONNET
        conv_id = "conv_" + hexid(rng, 24)
        cust = customer(rng)
        user = "usr_" + hexid(rng, 10)
        n_turns = n_turns_of[conv_no]
        t = sample_start(rng, days, HOURS_BUSINESS)
        history = 0
        conv_calls: list[Call] = []
        for turn in range(1, n_turns + 1):
            task_id = f"sb-{conv_no + 1:05d}-t{turn:02d}"
            trace_id, http_span = hexid(rng, 32), hexid(rng, 16)
            user_msg = rng.randint(15, 260)
            rag = lognorm(rng, 2_200, 0.45, 600, 7_000)
            breakpoint = SUPPORT_PREFIX + history
            # A quarter of turns first call a lookup tool (order status, account), then answer.
            steps = ["tool_use", "end_turn"] if rng.random() < 0.25 else ["end_turn"]
            total_input = breakpoint + rag + user_msg
            tool_tokens = 0
            for step in steps:
                attempt = 0
                while True:
                    attempt += 1
                    failed = rng.random() < SUPPORT_FAIL_RATE
                    c = Call(
                        "support-bot",
                        task_id,
                        model,
                        t,
                        0,
                        total_input=total_input,
                        breakpoint=breakpoint,
                        prefix=SUPPORT_PREFIX,
                        max_tokens=2_048,
                    )
                    c.extra = {
                        "conv": conv_id,
                        "customer": cust,
                        "user": user,
                        "trace": trace_id,
                        "parent": http_span,
                        "span": hexid(rng, 16),
                        "retry": attempt > 1,
                        "msg_id": "msg_01" + b62(rng, 22),
                    }
                    if is_bloated:
                        c.tags.add("bloat")
                    if failed:
                        err = rng.choices([e for e, _ in SUPPORT_ERRORS], weights=[w for _, w in SUPPORT_ERRORS])[0]
                        c.ok, c.error_type = False, err
                        c.tags.add("failed")
                        if err == "timeout":  # usage arrived in message_start, then the stream stalled
                            c.output = rng.randint(0, 30)
                            c.latency_ms = rng.randint(19_990, 20_000)
                        else:  # rejected before reaching the model: no usage, no response id
                            c.has_usage, c.total_input, c.breakpoint = False, 0, 0
                            c.latency_ms = rng.randint(800, 2_200)
                        conv_calls.append(c)
                        t = c.end_us + rng.randint(500_000, 3_000_000)  # client back-off, then retry
                        continue
                    if step == "tool_use":
                        c.output = rng.randint(40, 160)
                    else:
                        c.output = lognorm(rng, 230, 0.55, 30, 2_048)
                    c.finish_reason = "max_tokens" if c.output >= 2_048 else step
                    c.latency_ms = support_latency(rng, model, total_input, c.output)
                    conv_calls.append(c)
                    t = c.end_us
                    break
                if step == "tool_use":
                    tool_tokens = conv_calls[-1].output + rng.randint(150, 900)
                    total_input += tool_tokens
                    t += rng.randint(300_000, 2_000_000)  # tool execution
            answer = conv_calls[-1].output
            # Normal conversations keep only the user/assistant text; bloated ones keep everything.
            history += user_msg + answer + ((rag + tool_tokens) if is_bloated else 0)
            p = 0.70 if is_bloated else 0.83  # bloated chats resolve less often; overall ≈ 0.78
            tasks.append(Task("support-bot", task_id, p, {"bloat"} if is_bloated else set()))
            # User think time; 15 % of the time the user comes back after the 5-minute cache expired.
            t += rng.randint(360, 1_800) * US if rng.random() < 0.15 else rng.randint(20, 200) * US
        fit_in_month(conv_calls)
        calls.extend(conv_calls)

    warmed_days: set[int] = set()

    def daily_warmup(c: Call) -> bool:
        # The support API warms the Sonnet prefix with a 1h TTL on the first call of each UTC day.
        d = day_of(c.start_us)
        if c.model == SONNET and d not in warmed_days:
            warmed_days.add(d)
            return True
        return False

    simulate_anthropic_cache(calls, lambda c: c.extra["conv"], FIVE_MIN_US, daily_warmup)
    info = {"bloated_conversations": sorted(f"sb-{i + 1:05d}" for i in bloated)}
    return calls, tasks, info


def otlp_attr(key: str, value) -> dict:
    if isinstance(value, bool):
        v = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}  # OTLP JSON: 64-bit integers are strings
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, list):
        v = {"arrayValue": {"values": [{"stringValue": s} for s in value]}}
    else:
        v = {"stringValue": value}
    return {"key": key, "value": v}


def support_span(rng: random.Random, c: Call) -> dict:
    x = c.extra
    attrs = [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "anthropic"),
        ("gen_ai.request.model", REQUEST_ALIAS[c.model]),
        ("gen_ai.request.max_tokens", c.max_tokens),
        ("gen_ai.request.temperature", 0.3),
    ]
    if c.has_usage:
        attrs += [
            ("gen_ai.response.model", c.model),
            ("gen_ai.response.id", x["msg_id"]),
            ("gen_ai.usage.input_tokens", c.total_input),
            ("gen_ai.usage.output_tokens", c.output),
            ("gen_ai.usage.cache_read.input_tokens", c.cache_read),
            ("gen_ai.usage.cache_creation.input_tokens", c.cache_write_5m + c.cache_write_1h),
        ]
        if c.cache_write_1h:
            attrs.append(("costlens.cache_creation_1h.input_tokens", c.cache_write_1h))
    if c.finish_reason:
        attrs.append(("gen_ai.response.finish_reasons", [c.finish_reason]))
    if not c.ok:
        attrs.append(("error.type", c.error_type))
    attrs += [
        ("gen_ai.conversation.id", x["conv"]),
        ("costlens.feature", "support-bot"),
        ("costlens.task_id", c.task_id),
        ("costlens.team", "customer-experience"),
        ("costlens.customer", x["customer"]),
        ("user.id", x["user"]),
    ]
    if x["retry"]:
        attrs.append(("costlens.retry", True))
    start_ns = c.start_us * 1000 + rng.randrange(1000)
    end_ns = c.end_us * 1000 + rng.randrange(1000)
    status = {"code": 1} if c.ok else {"code": 2, "message": SUPPORT_ERROR_MESSAGES[c.error_type]}
    return {
        "traceId": x["trace"],
        "spanId": x["span"],
        "parentSpanId": x["parent"],
        "name": f"chat {REQUEST_ALIAS[c.model]}",
        "kind": 3,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(end_ns),
        "attributes": [otlp_attr(k, v) for k, v in attrs],
        "status": status,
    }


def write_support_otlp(rng: random.Random, calls: list[Call], path: Path) -> int:
    """The collector's file exporter writes one export request (a batch of 20–50 spans) per line."""
    spans = [support_span(rng, c) for c in sorted(calls, key=lambda c: (c.end_us, c.extra["span"]))]
    resource = {
        "attributes": [
            otlp_attr("service.name", "support-api"),
            otlp_attr("service.version", "3.14.2"),
            otlp_attr("deployment.environment.name", "production"),
        ]
    }
    scope = {"name": "opentelemetry.instrumentation.anthropic", "version": "0.47.1"}
    lines, i = [], 0
    while i < len(spans):
        n = rng.randint(20, 50)
        left = len(spans) - i
        if left - n < 20:  # never leave a short tail batch
            n = left if left <= 50 else left // 2
        batch = spans[i : i + n]
        i += n
        lines.append(
            dumps({"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": scope, "spans": batch}]}]})
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


# ───────────────────────────── 2. doc-extractor (OpenAI Chat Completions, gzip) ─────────────────────────────

DOCX_PREFIX = 1_460  # extraction instructions + JSON schema; 1,408 = 11 × 128 tokens cacheable


def docx_latency(rng: random.Random, model: str, prompt: int, completion: int) -> int:
    if model == GPT4O_MINI:
        s = rng.uniform(0.3, 0.6) + prompt / 40_000 + completion / rng.uniform(90, 130)
    else:
        s = rng.uniform(0.4, 0.9) + prompt / 25_000 + completion / rng.uniform(60, 90)
    return int(s * 1000)


def gen_doc_extractor(rng: random.Random) -> tuple[list[Call], list[Task], dict]:
    """Nightly invoice extraction (01:00–04:00 UTC) on synchronous Azure OpenAI deployments.

    Planted: the whole feature is non-interactive yet pays synchronous prices (batchable);
    ~0.6 % of documents exceed the context window (400, half retried identically: input quality);
    ~0.9 % hit a 500 and are retried; 12 documents are extracted twice in the same task (repeat).
    Failed calls log no usage but their input tokens are billed (see the FOCUS file).
    """
    first = MONTH_START.weekday()
    docs: list[tuple[int, int]] = []  # (night, start_us)
    for night in range(DAYS):
        source_weekday = (first + night - 1) % 7  # each night processes the previous day's invoices
        factor = 1.0 if source_weekday < 5 else 0.2
        n = max(0, round(DOCS_PER_BUSINESS_DAY * factor * (1 + 0.08 * rng.gauss(0, 1))))
        night_start = START_US + night * 86_400 * US + ONE_HOUR_US
        docs += [(night, night_start + rng.randrange(3 * ONE_HOUR_US)) for _ in range(n)]
    docs.sort()
    repeated = set(rng.sample(range(len(docs)), DOCX_REPEATED_TASKS))
    calls: list[Call] = []
    tasks: list[Task] = []
    seq_per_night: dict[int, int] = {}
    for i, (night, t) in enumerate(docs):
        seq_per_night[night] = seq_per_night.get(night, 0) + 1
        date = (MONTH_START + timedelta(days=night)).strftime("%Y%m%d")
        task_id = f"dx-{date}-{seq_per_night[night]:04d}"
        model = GPT4O_MINI if rng.random() < DOCX_MINI_SHARE else GPT4O
        cust = customer(rng)
        meta = {"customer": cust}
        flags: set = set()
        roll = rng.random()
        if roll < DOCX_CONTEXT_EXCEEDED_RATE:
            # A giant scanned statement: over the 128k window. The app retries half of them unchanged.
            prompt = rng.randint(130_000, 175_000)
            for _attempt in range(2 if rng.random() < 0.5 else 1):
                c = Call(
                    "doc-extractor",
                    task_id,
                    model,
                    t,
                    rng.randint(180, 900),
                    ok=False,
                    error_type="context_length_exceeded",
                    http_status=400,
                    has_usage=False,
                    max_tokens=1_024,
                    billed_unlogged_input=prompt,
                    extra=dict(meta),
                )
                c.tags.update({"failed", "input_quality"})
                calls.append(c)
                t = c.end_us + rng.randint(1, 5) * US
            tasks.append(Task("doc-extractor", task_id, 0.0, {"gave_up"}))
            continue
        prompt = min(30_000, max(3_000, DOCX_PREFIX + lognorm(rng, 7_500, 0.6, 1_500, 28_540)))
        if roll < DOCX_CONTEXT_EXCEEDED_RATE + DOCX_SERVER_ERROR_RATE:
            c = Call(
                "doc-extractor",
                task_id,
                model,
                t,
                rng.randint(4_000, 30_000),
                ok=False,
                error_type="server_error",
                http_status=500,
                has_usage=False,
                max_tokens=1_024,
                billed_unlogged_input=prompt,
                extra=dict(meta),
            )
            c.tags.update({"failed"})
            calls.append(c)
            t = c.end_us + rng.randint(2, 10) * US
        n_ok = 2 if i in repeated else 1
        for k in range(n_ok):
            completion = lognorm(rng, 420, 0.4, 120, 1_024)
            c = Call(
                "doc-extractor",
                task_id,
                model,
                t,
                docx_latency(rng, model, prompt, completion),
                total_input=prompt,
                output=completion,
                max_tokens=1_024,
                extra=dict(meta),
            )
            c.finish_reason = "length" if completion >= 1_024 else "stop"
            if k == 1:  # the repeat runs seconds later, so nearly the whole prompt is a cache hit
                c.cache_read = ((prompt - 1) // 128) * 128
                c.tags.add("repeat")
                flags.add("repeat")
            elif rng.random() < 0.15:
                c.cache_read = (DOCX_PREFIX // 128) * 128
            c.input_uncached = prompt - c.cache_read
            calls.append(c)
            t = c.end_us + rng.randint(3, 40) * US
        tasks.append(Task("doc-extractor", task_id, 0.93, flags))  # with the gave-up docs: ≈ 0.92
    info = {"repeated_tasks": sorted(c.task_id for c in calls if "repeat" in c.tags)}
    return calls, tasks, info


def openai_wrapper(c: Call, metadata: dict, request: dict, response: dict | None, error: dict | None) -> dict:
    line = {
        "timestamp": iso_ms(c.start_us),
        "latency_ms": c.latency_ms,
        "metadata": metadata,
        "request": request,
        "response": response,
    }
    if error is not None:
        line["error"] = error
    return line


def write_doc_extractor(rng: random.Random, calls: list[Call], path: Path) -> int:
    lines = []
    for c in sorted(calls, key=lambda c: (c.start_us, c.task_id)):
        metadata = {
            "feature": "doc-extractor",
            "task_id": c.task_id,
            "team": "finance-ops",
            "customer": c.extra["customer"],
            "environment": "production",
            "provider": "azure.openai",
        }
        request = {"model": REQUEST_ALIAS[c.model], "max_tokens": c.max_tokens}
        if c.ok:
            response = {
                "id": "chatcmpl-" + b62(rng, 29),
                "object": "chat.completion",
                "created": c.start_us // US,
                "model": c.model,
                "service_tier": "default",
                "system_fingerprint": "fp_" + hexid(rng, 10),
                "choices": [
                    {"index": 0, "finish_reason": c.finish_reason, "message": {"role": "assistant", "content": None}}
                ],
                "usage": {
                    "prompt_tokens": c.total_input,
                    "completion_tokens": c.output,
                    "total_tokens": c.total_input + c.output,
                    "prompt_tokens_details": {"cached_tokens": c.cache_read, "audio_tokens": 0},
                    "completion_tokens_details": {
                        "reasoning_tokens": 0,
                        "audio_tokens": 0,
                        "accepted_prediction_tokens": 0,
                        "rejected_prediction_tokens": 0,
                    },
                },
            }
            lines.append(openai_wrapper(c, metadata, request, response, None))
        elif c.error_type == "context_length_exceeded":
            lines.append(
                openai_wrapper(
                    c,
                    metadata,
                    request,
                    None,
                    {"type": "invalid_request_error", "code": "context_length_exceeded", "http_status": 400},
                )
            )
        else:
            lines.append(openai_wrapper(c, metadata, request, None, {"type": "server_error", "http_status": 500}))
    payload = ("\n".join(dumps(x) for x in lines) + "\n").encode("utf-8")
    with open(path, "wb") as f:  # mtime=0 and no file name in the header: reproducible bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz:
            gz.write(payload)
    return len(lines)


# ───────────────────────────── 3. ticket-classifier (warehouse CSV) ─────────────────────────────

CLASSIFIER_PREFIX = 1_150  # label taxonomy + instructions; 1,024 tokens cacheable
CLASSIFIER_COLUMNS = [
    "event_time",
    "req_id",
    "llm_model",
    "vendor",
    "tokens_in",
    "tokens_out",
    "cached_in",
    "duration_ms",
    "ticket_id",
    "team_name",
    "outcome_status",
]


def gen_ticket_classifier(rng: random.Random) -> tuple[list[Call], list[Task], dict]:
    """Routes each new support ticket to a queue: a 2–12 token label.

    Planted: 40 % of tickets still go to premium gpt-4.1 (a forgotten A/B arm) although gpt-4.1-nano
    is accepted just as often (0.95 both) — premium overuse.
    """
    days = day_weights(WEEK_BUSINESS, growth=0.08)
    starts = sorted(sample_start(rng, days, HOURS_BUSINESS) for _ in range(CLASSIFIER_TICKETS))
    calls: list[Call] = []
    tasks: list[Task] = []
    last_call: dict[str, int] = {}
    for i, t in enumerate(starts):
        ticket = f"TCK-{104_000 + i}"
        model = GPT41 if rng.random() < CLASSIFIER_PREMIUM_SHARE else GPT41_NANO
        prompt = CLASSIFIER_PREFIX + lognorm(rng, 280, 0.7, 40, 3_000)
        while True:
            if rng.random() < 0.012:  # timeout or 5xx; the warehouse records no tokens for them
                timeout = rng.random() < 0.5
                c = Call(
                    "ticket-classifier",
                    ticket,
                    model,
                    t,
                    30_000 if timeout else rng.randint(150, 700),
                    ok=False,
                    error_type="error",
                    has_usage=False,
                )
                c.extra = {"req": "req_" + hexid(rng, 12)}
                c.tags.add("failed")
                calls.append(c)
                t = c.end_us + rng.randint(1, 5) * US
                continue
            warm = t - last_call.get(model, -FIVE_MIN_US * 2) <= FIVE_MIN_US and rng.random() < 0.85
            cached = 1_024 if warm else 0
            out = rng.randint(2, 12)
            lat = (
                int((rng.uniform(0.18, 0.35) + prompt / 30_000 + out / 150) * 1000)
                if model == GPT41_NANO
                else int((rng.uniform(0.35, 0.8) + prompt / 15_000 + out / 80) * 1000)
            )
            c = Call(
                "ticket-classifier",
                ticket,
                model,
                t,
                lat,
                total_input=prompt,
                cache_read=cached,
                input_uncached=prompt - cached,
                output=out,
            )
            c.extra = {"req": "req_" + hexid(rng, 12)}
            if model == GPT41:
                c.tags.add("premium")
            last_call[model] = t
            calls.append(c)
            break
        tasks.append(Task("ticket-classifier", ticket, ACCEPTANCE["ticket-classifier"], {model}))
    return calls, tasks, {}


def write_ticket_classifier(calls: list[Call], path: Path) -> int:
    rows = sorted(calls, key=lambda c: (c.start_us, c.extra["req"]))
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CLASSIFIER_COLUMNS)
        for c in rows:
            w.writerow(
                [
                    iso_ms(c.start_us),
                    c.extra["req"],
                    REQUEST_ALIAS[c.model],
                    "openai",
                    c.total_input,
                    c.output,
                    c.cache_read,
                    c.latency_ms,
                    c.task_id,
                    "customer-experience",
                    "ok" if c.ok else "error",
                ]
            )
    return len(rows)


# ───────────────────────────── 4. coding-agent (Anthropic Messages) ─────────────────────────────

AGENT_PREFIX = 21_500  # system prompt + 30 tool schemas + repo conventions; written with a 1h TTL
AGENT_CONTEXT_LIMIT = 170_000  # the agent compacts its transcript before this
AGENT_MAX_TOKENS = 8_192
ENGINEERS = [f"eng-{i:02d}" for i in range(1, 25)]


def gen_coding_agent(rng: random.Random) -> tuple[list[Call], list[Task], dict]:
    """Internal coding agent: each task is one agent run of 5–40 tool-using steps.

    Planted: 5 % of runs loop (90–160 steps, re-running the same failing tests), far past the
    60-step budget. Heavy cache reads are normal here (every step re-reads the transcript).
    """
    days = day_weights(WEEK_ENGINEERING, growth=0.12)
    eng_weights = [1 / (i + 1) ** 0.5 for i in range(len(ENGINEERS))]
    plan = []  # (session_no, task_in_session)
    for s in range(AGENT_SESSIONS):
        plan += [(s, k) for k in range(rng.choices([1, 2, 3], weights=[45, 35, 20])[0])]
    loops = set(rng.sample(range(len(plan)), round(len(plan) * AGENT_LOOP_SHARE)))
    calls: list[Call] = []
    tasks: list[Task] = []
    session_calls: list[Call] = []
    t = 0
    for n, (_s, k) in enumerate(plan):
        if k == 0:
            fit_in_month(session_calls)
            calls.extend(session_calls)
            session_calls = []
            session_id = "sess_" + hexid(rng, 20)
            user = rng.choices(ENGINEERS, weights=eng_weights)[0]
            t = sample_start(rng, days, HOURS_ENGINEERING)
        else:
            t += rng.randint(120, 1_200) * US  # the engineer reviews the diff, then asks for more
        task_id = f"ag-{n + 1:04d}"
        model = OPUS if rng.random() < 0.7 else SONNET
        is_loop = n in loops
        steps = rng.randint(90, 160) if is_loop else int(rng.triangular(5, 40, 12))
        context = AGENT_PREFIX + rng.randint(150, 1_500)  # + the engineer's request
        epoch = 0
        tps = (38, 48) if model == OPUS else (60, 80)
        for step in range(1, steps + 1):
            final = step == steps
            while True:
                c = Call("coding-agent", task_id, model, t, 0, max_tokens=AGENT_MAX_TOKENS, prefix=AGENT_PREFIX)
                c.extra = {
                    "session": session_id,
                    "user": user,
                    "epoch": epoch,
                    "step": step,
                    "msg_id": "msg_01" + b62(rng, 22),
                }
                if rng.random() < 0.012:  # 529 overloaded: nothing processed, retried after back-off
                    c.ok, c.error_type, c.http_status, c.has_usage = False, "overloaded_error", 529, False
                    c.latency_ms = rng.randint(300, 1_500)
                    c.tags.add("failed")
                    session_calls.append(c)
                    t = c.end_us + rng.randint(2, 12) * US
                    continue
                break
            tail = rng.randint(1, 12)  # tokens after the last cache breakpoint
            c.total_input = context + tail
            c.breakpoint = context
            if final:
                c.output, c.finish_reason = lognorm(rng, 450, 0.5, 80, 2_500), "end_turn"
            elif rng.random() < 0.004:
                c.output, c.finish_reason = AGENT_MAX_TOKENS, "max_tokens"
            else:
                c.output, c.finish_reason = lognorm(rng, 480, 0.8, 40, 6_000), "tool_use"
            seconds = rng.uniform(0.9, 2.2) + context / 60_000 + c.output / rng.uniform(*tps)
            c.latency_ms = int(seconds * 1000)
            if is_loop:
                c.tags.add("loop")
                if step > AGENT_STEP_BUDGET:
                    c.tags.add("past_budget")
            session_calls.append(c)
            t = c.end_us + lognorm(rng, 3_000_000, 0.9, 300_000, 90_000_000)  # tool execution
            # Loops re-run the same failing test: small tool results. Normal work reads files.
            result = lognorm(rng, 900, 0.5, 100, 4_000) if is_loop else lognorm(rng, 5_000, 0.9, 60, 30_000)
            context += tail + c.output + result
            if context > AGENT_CONTEXT_LIMIT:  # compaction: a new, shorter transcript (cache restarts)
                context = AGENT_PREFIX + rng.randint(8_000, 15_000)
                epoch += 1
        p = 0.12 if is_loop else 0.64  # loops rarely land a usable change; overall ≈ 0.60
        tasks.append(Task("coding-agent", task_id, p, {"loop"} if is_loop else set()))
    fit_in_month(session_calls)
    calls.extend(session_calls)
    simulate_anthropic_cache(calls, lambda c: (c.task_id, c.extra["epoch"]), ONE_HOUR_US, lambda c: True)
    info = {"loop_tasks": sorted(f"ag-{n + 1:04d}" for n in loops)}
    return calls, tasks, info


def write_coding_agent(calls: list[Call], path: Path) -> int:
    lines = []
    for c in sorted(calls, key=lambda c: (c.start_us, c.extra["msg_id"])):
        metadata = {
            "feature": "coding-agent",
            "task_id": c.task_id,
            "session_id": c.extra["session"],
            "team": "platform-eng",
            "user_id": c.extra["user"],
        }
        request = {"model": REQUEST_ALIAS[c.model], "max_tokens": c.max_tokens}
        line = {"timestamp": iso_ms(c.start_us), "latency_ms": c.latency_ms, "metadata": metadata, "request": request}
        if c.ok:
            line["response"] = {
                "id": c.extra["msg_id"],
                "type": "message",
                "role": "assistant",
                "model": c.model,
                "stop_reason": c.finish_reason,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": c.input_uncached,  # Anthropic: EXCLUDES cache reads and writes
                    "cache_creation_input_tokens": c.cache_write_5m + c.cache_write_1h,
                    "cache_read_input_tokens": c.cache_read,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": c.cache_write_5m,
                        "ephemeral_1h_input_tokens": c.cache_write_1h,
                    },
                    "output_tokens": c.output,
                    "service_tier": "standard",
                },
            }
        else:
            line["response"] = None
            line["error"] = {"type": "overloaded_error", "message": "Overloaded", "http_status": 529}
        lines.append(dumps(line))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


# ───────────────────────────── 5. search-summarizer (flat OTel spans) ─────────────────────────────


def gen_search_summarizer(rng: random.Random) -> tuple[list[Call], list[Task], dict]:
    """Summarises web search results for end users (consumer traffic: evenings and weekends).

    Planted: 8 % of calls come from an old code path that sets no max_tokens and writes essays
    (2,500–6,500 visible output tokens) — output verbosity.
    """
    days = day_weights(WEEK_CONSUMER, growth=0.05)
    verbose = set(rng.sample(range(SUMMARIZER_QUERIES), round(SUMMARIZER_QUERIES * SUMMARIZER_VERBOSE_SHARE)))
    calls: list[Call] = []
    tasks: list[Task] = []
    for q in range(SUMMARIZER_QUERIES):
        task_id = "ss-" + hexid(rng, 12)
        trace, parent = hexid(rng, 32), hexid(rng, 16)
        t = sample_start(rng, days, HOURS_CONSUMER)
        prompt = lognorm(rng, 5_500, 0.5, 1_500, 20_000)
        task_calls = []
        while True:
            c = Call("search-summarizer", task_id, GEMINI_FLASH, t, 0)
            c.extra = {"trace": trace, "parent": parent, "span": hexid(rng, 16), "resp": b62(rng, 22)}
            if rng.random() < 0.01:  # 503 from the API; nothing generated, retried once more
                c.ok, c.error_type, c.has_usage = False, "UNAVAILABLE", False
                c.latency_ms = rng.randint(200, 4_000)
                c.tags.add("failed")
                task_calls.append(c)
                t = c.end_us + rng.randint(1, 3) * US
                continue
            break
        if q in verbose:
            visible, reasoning, c.max_tokens = rng.randint(2_500, 6_500), rng.randint(200, 1_200), None
            c.tags.add("verbose")
        else:
            visible, reasoning, c.max_tokens = rng.randint(120, 420), rng.randint(0, 360), 800
        c.total_input = c.input_uncached = prompt
        c.output, c.reasoning, c.finish_reason = visible + reasoning, reasoning, "STOP"
        c.latency_ms = int((rng.uniform(0.3, 0.7) + prompt / 60_000 + c.output / rng.uniform(160, 220)) * 1000)
        task_calls.append(c)
        fit_in_month(task_calls)
        calls.extend(task_calls)
        tasks.append(
            Task("search-summarizer", task_id, ACCEPTANCE["search-summarizer"], {"verbose"} if q in verbose else set())
        )
    return calls, tasks, {}


def write_search_summarizer(calls: list[Call], path: Path) -> int:
    lines = []
    for c in sorted(calls, key=lambda c: (c.end_us, c.extra["span"])):
        a = {
            "gen_ai.operation.name": "generate_content",
            "gen_ai.provider.name": "gcp.gemini",
            "gen_ai.request.model": GEMINI_FLASH,
        }
        if c.max_tokens is not None:
            a["gen_ai.request.max_tokens"] = c.max_tokens
        if c.ok:
            a.update(
                {
                    "gen_ai.response.model": GEMINI_FLASH,
                    "gen_ai.response.id": c.extra["resp"],
                    "gen_ai.response.finish_reasons": [c.finish_reason],
                    "gen_ai.usage.input_tokens": c.total_input,
                    "gen_ai.usage.output_tokens": c.output,
                    "gen_ai.usage.reasoning.output_tokens": c.reasoning,
                }
            )
        else:
            a["error.type"] = c.error_type
        a.update({"costlens.feature": "search-summarizer", "costlens.task_id": c.task_id, "costlens.team": "growth"})
        span = {
            "trace_id": c.extra["trace"],
            "span_id": c.extra["span"],
            "parent_span_id": c.extra["parent"],
            "name": f"generate_content {GEMINI_FLASH}",
            "kind": "CLIENT",
            "start_time": iso_us(c.start_us),
            "end_time": iso_us(c.end_us),
            "status": "OK" if c.ok else "ERROR",
            "attributes": a,
            "resource": {"service.name": "search-api", "deployment.environment.name": "production"},
        }
        if not c.ok:
            span["status_message"] = "503 UNAVAILABLE. The model is overloaded. Please try again later."
        lines.append(dumps(span))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


# ───────────────────────────── 6. marketing-copy (OpenAI Responses API) — the clean feature ─────────────

MARKETING_PREFIX = 2_300  # brand voice guide; 2,176 = 17 × 128 tokens cacheable


def gen_marketing_copy(rng: random.Random) -> tuple[list[Call], list[Task], dict]:
    """Draft → variants → polish for campaign copy. No planted leaks: right-sized model, bounded
    output, working prompt cache, no failures; flex tier for the non-urgent variant calls."""
    days = day_weights(WEEK_OFFICE, growth=0.0)
    calls: list[Call] = []
    tasks: list[Task] = []
    for n in range(MARKETING_TASKS):
        task_id = f"mk-{n + 1:04d}"
        t = sample_start(rng, days, HOURS_BUSINESS)
        brief = rng.randint(150, 900)
        context = MARKETING_PREFIX + brief
        task_calls = []
        for k in range(rng.choices([1, 2, 3], weights=[30, 40, 30])[0]):
            c = Call("marketing-copy", task_id, GPT5_MINI, t, 0, max_tokens=4_000)
            c.service_tier = "flex" if rng.random() < 0.30 else "default"
            c.total_input = context
            c.reasoning = rng.choice([64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768])
            c.output = rng.randint(350, 1_400) + c.reasoning
            c.finish_reason = "completed"
            slow = 1.6 if c.service_tier == "flex" else 1.0
            c.latency_ms = int((rng.uniform(0.8, 1.6) + context / 30_000 + c.output / 90) * slow * 1000)
            c.extra = {"resp": "resp_" + hexid(rng, 48), "k": k}
            task_calls.append(c)
            t = c.end_us + rng.randint(20, 150) * US  # the marketer reads the draft, asks for more
            context += c.output - c.reasoning + rng.randint(30, 200)
        fit_in_month(task_calls)
        calls.extend(task_calls)
        tasks.append(Task("marketing-copy", task_id, ACCEPTANCE["marketing-copy"]))
    # OpenAI prefix caching: a repeat of the brand-guide prefix within ~5 minutes is a cache hit;
    # within a task the whole previous conversation is cached.
    last_seen = -10 * ONE_HOUR_US
    prev_in_task: dict[str, Call] = {}
    for c in sorted(calls, key=lambda c: (c.start_us, c.task_id)):
        prev = prev_in_task.get(c.task_id)
        if prev is not None and c.start_us - prev.start_us <= FIVE_MIN_US:
            c.cache_read = (prev.total_input // 128) * 128
        elif c.start_us - last_seen <= FIVE_MIN_US:
            c.cache_read = (MARKETING_PREFIX // 128) * 128
        c.input_uncached = c.total_input - c.cache_read
        prev_in_task[c.task_id] = c
        last_seen = c.start_us
    return calls, tasks, {}


def write_marketing_copy(calls: list[Call], path: Path) -> int:
    lines = []
    for c in sorted(calls, key=lambda c: (c.start_us, c.extra["resp"])):
        metadata = {
            "feature": "marketing-copy",
            "task_id": c.task_id,
            "team": "marketing",
            "environment": "production",
            "provider": "azure.openai",
        }
        request = {"model": REQUEST_ALIAS[c.model], "max_output_tokens": c.max_tokens, "service_tier": c.service_tier}
        response = {
            "id": c.extra["resp"],
            "object": "response",
            "created_at": c.start_us // US,
            "status": "completed",
            "model": c.model,
            "service_tier": c.service_tier,
            "usage": {
                "input_tokens": c.total_input,  # INCLUDES cached_tokens
                "input_tokens_details": {"cached_tokens": c.cache_read},
                "output_tokens": c.output,
                "output_tokens_details": {"reasoning_tokens": c.reasoning},
                "total_tokens": c.total_input + c.output,
            },
        }
        lines.append(dumps(openai_wrapper(c, metadata, request, response, None)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


# ───────────────────────────── 7. outcomes ─────────────────────────────

REWORK_MINUTES = {  # (share of rejected tasks with rework, low, high)
    "support-bot": (0.6, 4, 20),
    "doc-extractor": (1.0, 3, 12),
    "ticket-classifier": (1.0, 1, 3),
    "coding-agent": (0.7, 15, 120),
    "search-summarizer": (0.0, 0, 0),
    "marketing-copy": (1.0, 10, 40),
}
DELAY_MINUTES = {"support-bot": (0.6, 20, 240), "doc-extractor": (1.0, 120, 600)}


def gen_outcomes(rng: random.Random, tasks: list[Task]) -> list[dict]:
    """~85 % of tasks get an outcome: accepted, a 0–1 quality score, review and rework effort."""
    rows = []
    for task in tasks:
        if rng.random() >= OUTCOME_COVERAGE:
            continue
        accepted = rng.random() < task.accept_p
        quality = rng.uniform(0.70, 1.0) if accepted else rng.uniform(0.10, 0.60)
        review = rng.random() < (HUMAN_REVIEW[task.feature] * (1.0 if accepted else 1.5))
        rework = delay = None
        if not accepted:
            share, lo, hi = REWORK_MINUTES[task.feature]
            if rng.random() < share:
                rework = rng.randint(lo, hi)
            if task.feature in DELAY_MINUTES:
                share, lo, hi = DELAY_MINUTES[task.feature]
                if rng.random() < share:
                    delay = rng.randint(lo, hi)
        rows.append(
            {
                "task_id": task.task_id,
                "feature": task.feature,
                "accepted": accepted,
                "quality_score": round(quality, 2),
                "human_review": review,
                "rework_minutes": rework,
                "delay_minutes": delay,
                "flags": task.flags,
            }
        )
    return rows


def write_outcomes(rows: list[dict], csv_path: Path, parquet_path: Path) -> tuple[int, int]:
    csv_rows = [r for r in rows if r["feature"] != "ticket-classifier"]
    pq_rows = [r for r in rows if r["feature"] == "ticket-classifier"]
    with open(csv_path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["task_id", "accepted", "quality_score", "human_review", "rework_minutes", "delay_minutes"])
        for r in csv_rows:
            w.writerow(
                [
                    r["task_id"],
                    str(r["accepted"]).lower(),
                    f"{r['quality_score']:.2f}",
                    str(r["human_review"]).lower(),
                    "" if r["rework_minutes"] is None else r["rework_minutes"],
                    "" if r["delay_minutes"] is None else r["delay_minutes"],
                ]
            )
    table = pa.table(
        {
            "task_id": pa.array([r["task_id"] for r in pq_rows], pa.string()),
            "accepted": pa.array([r["accepted"] for r in pq_rows], pa.bool_()),
            "quality_score": pa.array([r["quality_score"] for r in pq_rows], pa.float64()),
            "human_review": pa.array([r["human_review"] for r in pq_rows], pa.bool_()),
            "rework_minutes": pa.array([r["rework_minutes"] for r in pq_rows], pa.int32()),
            "delay_minutes": pa.array([r["delay_minutes"] for r in pq_rows], pa.int32()),
        }
    )
    pq.write_table(table, parquet_path, compression="zstd", write_statistics=True)
    return len(csv_rows), len(pq_rows)


# ───────────────────────────── 8. FOCUS 1.2 bill (Azure) ─────────────────────────────

FOCUS_COLUMNS = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "ServiceCategory",
    "ServiceSubcategory",
    "ServiceName",
    "SkuId",
    "SkuMeter",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_UsageType",
]

# (model, tier, token type) -> (Azure meter name, pricing unit, block size, list price per block)
AZURE_METERS = {
    (GPT4O, "default", "input"): ("gpt 4o 0806 Inp glbl Tokens", "1K Tokens", 1_000, D("0.0025")),
    (GPT4O, "default", "output"): ("gpt 4o 0806 Outp glbl Tokens", "1K Tokens", 1_000, D("0.01")),
    (GPT4O, "default", "cache_read"): ("gpt 4o 0806 cached Inp glbl Tokens", "1K Tokens", 1_000, D("0.00125")),
    (GPT4O_MINI, "default", "input"): ("gpt 4o mini 0718 Inp glbl Tokens", "1K Tokens", 1_000, D("0.00015")),
    (GPT4O_MINI, "default", "output"): ("gpt 4o mini 0718 Outp glbl Tokens", "1K Tokens", 1_000, D("0.0006")),
    (GPT4O_MINI, "default", "cache_read"): (
        "gpt 4o mini 0718 cached Inp glbl Tokens",
        "1K Tokens",
        1_000,
        D("0.000075"),
    ),
    (GPT5_MINI, "default", "input"): ("gpt 5 mini 0807 Inp glbl Tokens", "1M Tokens", 1_000_000, D("0.25")),
    (GPT5_MINI, "default", "output"): ("gpt 5 mini 0807 Outp glbl Tokens", "1M Tokens", 1_000_000, D("2.00")),
    (GPT5_MINI, "default", "cache_read"): (
        "gpt 5 mini 0807 cached Inp glbl Tokens",
        "1M Tokens",
        1_000_000,
        D("0.025"),
    ),
    (GPT5_MINI, "flex", "input"): ("gpt 5 mini 0807 Inp glbl Flex Tokens", "1M Tokens", 1_000_000, D("0.125")),
    (GPT5_MINI, "flex", "output"): ("gpt 5 mini 0807 Outp glbl Flex Tokens", "1M Tokens", 1_000_000, D("1.00")),
    (GPT5_MINI, "flex", "cache_read"): (
        "gpt 5 mini 0807 cached Inp glbl Flex Tokens",
        "1M Tokens",
        1_000_000,
        D("0.0125"),
    ),
}
USAGE_TYPE = {"input": "Tokens-Input", "output": "Tokens-Output", "cache_read": "Tokens-CachedInput"}
BILLING_ACCOUNT_ID = "/providers/Microsoft.Billing/billingAccounts/71829364"
SUBSCRIPTIONS = {  # SubAccountName -> (SubAccountId, RegionId)
    "northwind-prod": ("/subscriptions/5d2f6c8a-3b1e-4f7a-9c0d-2e8b4a6f1c93", "eastus2"),
    "batch-reindex-dev": ("/subscriptions/a93c07e1-6d4b-42f8-8e15-7b0c9d3e5f24", "swedencentral"),
}
AZURE_RESOURCE_TAGS = {  # which Azure OpenAI resource serves which traffic
    "doc-extractor": {"app": "doc-extractor", "env": "production", "team": "finance-ops"},
    "marketing-copy": {"app": "marketing-copy", "env": "production", "team": "marketing"},
    "unlogged": {"app": "search-reindex", "env": "dev", "team": "search"},
}


def dec(x: Decimal) -> str:
    s = format(x.quantize(D("0.0000000001")), "f").rstrip("0").rstrip(".")
    return s if s else "0"


def sku_ids(rng: random.Random) -> dict[str, tuple[str, str]]:
    ids = {}
    for key in AZURE_METERS:
        meter = AZURE_METERS[key][0]
        sku = "DZH318Z0" + b62(rng, 4).upper()
        ids[meter] = (sku, f"{sku}/{hexid(rng, 4).upper()}")
    return ids


def gen_focus_bill(rng: random.Random, calls: list[Call]) -> tuple[list[list[str]], dict]:
    """Daily Azure rows per resource × meter for the two Azure OpenAI features, plus planted gaps:
    failed doc-extractor calls' input billed, and unlogged dev traffic (+4 % of gpt-4o tokens)."""
    skus = sku_ids(rng)
    usage: dict[tuple, int] = {}  # (day, subaccount, resource, model, tier, token type) -> tokens
    info = {"failed_billed_input": {}, "failed_billed_calls": 0, "logged": {}}

    def add(day, sub, res, model, tier, kind, n):
        if n:
            k = (day, sub, res, model, tier, kind)
            usage[k] = usage.get(k, 0) + n

    for c in calls:
        if c.feature not in ("doc-extractor", "marketing-copy"):
            continue
        d = day_of(c.start_us)
        tier = c.service_tier if c.service_tier == "flex" else "default"
        if c.billed_unlogged_input:
            add(d, "northwind-prod", c.feature, c.model, tier, "input", c.billed_unlogged_input)
            info["failed_billed_input"][c.model] = info["failed_billed_input"].get(c.model, 0) + c.billed_unlogged_input
            info["failed_billed_calls"] += 1
            continue
        for kind, n in (("input", c.input_uncached), ("cache_read", c.cache_read), ("output", c.output)):
            add(d, "northwind-prod", c.feature, c.model, tier, kind, n)
            lk = (c.model, tier, kind)
            info["logged"][lk] = info["logged"].get(lk, 0) + n

    # Unlogged: a dev re-index job ran on Oct 12–16 against gpt-4o with a key no app logs.
    gpt4o_in = sum(c.total_input for c in calls if c.model == GPT4O and c.has_usage)
    gpt4o_out = sum(c.output for c in calls if c.model == GPT4O and c.has_usage)
    extra = {
        "input": int((gpt4o_in * UNLOGGED_GPT4O_SHARE).to_integral_value()),
        "output": int((gpt4o_out * UNLOGGED_GPT4O_SHARE).to_integral_value()),
    }
    job_days = list(range(11, 16))
    for kind, total in extra.items():
        weights = [rng.uniform(0.5, 1.5) for _ in job_days]
        parts = [int(total * w / sum(weights)) for w in weights]
        parts[-1] += total - sum(parts)  # exact total
        for d, n in zip(job_days, parts):
            add(d, "batch-reindex-dev", "unlogged", GPT4O, "default", kind, n)
    info["unlogged_tokens"] = extra

    rows = []
    for (d, sub, res, model, tier, kind), n in sorted(usage.items()):
        meter, unit, block, unit_price = AZURE_METERS[(model, tier, kind)]
        qty = D(n) / D(block)
        list_cost = qty * unit_price
        billed = list_cost * AZURE_DISCOUNT
        sku, price_id = skus[meter]
        sub_id, region = SUBSCRIPTIONS[sub]
        tags = json.dumps(AZURE_RESOURCE_TAGS[res], sort_keys=True, separators=(",", ":"))
        rows.append(
            [
                dec(billed),
                BILLING_ACCOUNT_ID,
                "Northwind Labs",
                "USD",
                iso_day(0),
                iso_day(DAYS),
                "Usage",
                "",
                f"Azure OpenAI {meter}",
                iso_day(d),
                iso_day(d + 1),
                str(n),
                "Tokens",
                dec(billed),
                dec(billed),
                "Microsoft",
                dec(list_cost),
                "Standard",
                dec(qty),
                unit,
                "Microsoft",
                "Microsoft",
                region,
                "AI and Machine Learning",
                "Generative AI",
                "Azure OpenAI Service",
                sku,
                meter,
                price_id,
                sub_id,
                sub,
                tags,
                USAGE_TYPE[kind],
            ]
        )
    rows += non_ai_rows(rng)
    rows.sort(key=lambda r: (r[9], r[25], r[27], r[30]))  # charge period, service, meter, sub-account
    return rows, info


def non_ai_rows(rng: random.Random) -> list[list[str]]:
    """40 ordinary Azure rows (a VM and blob storage) that must never count as AI spend."""
    sub_id, region = SUBSCRIPTIONS["northwind-prod"]
    rows = []
    tags = json.dumps({"app": "costlens-ci", "env": "production"}, sort_keys=True, separators=(",", ":"))
    for d in range(DAYS):  # one D4s v5 build runner, billed daily
        hours = D(24)
        cost = hours * D("0.192")
        rows.append(
            [
                dec(cost),
                BILLING_ACCOUNT_ID,
                "Northwind Labs",
                "USD",
                iso_day(0),
                iso_day(DAYS),
                "Usage",
                "",
                "D4s v5 Linux - Pay as you go",
                iso_day(d),
                iso_day(d + 1),
                "24",
                "Hours",
                dec(cost),
                dec(cost),
                "Microsoft",
                dec(cost),
                "Standard",
                "24",
                "1 Hour",
                "Microsoft",
                "Microsoft",
                region,
                "Compute",
                "Virtual Machines",
                "Virtual Machines",
                "DZH318Z0BQ4V",
                "D4s v5",
                "DZH318Z0BQ4V/00TG",
                sub_id,
                "northwind-prod",
                tags,
                "Compute Hours",
            ]
        )
    storage = [
        ("Hot LRS Data Stored", "GB/Month", "1 GB/Month", D("0.0184"), (800, 2_400)),
        ("Hot LRS Write Operations", "Operations", "10K", D("0.055"), (20, 90)),
        ("Hot Read Operations", "Operations", "10K", D("0.0044"), (50, 300)),
    ]
    for account in ("nwlogsarchive", "nwinvoices", "nwmodelcache"):
        for meter, consumed_unit, unit, price, (lo, hi) in storage:
            qty = D(rng.randint(lo, hi))
            consumed = qty * (10_000 if unit == "10K" else 1)
            cost = qty * price
            rows.append(
                [
                    dec(cost),
                    BILLING_ACCOUNT_ID,
                    "Northwind Labs",
                    "USD",
                    iso_day(0),
                    iso_day(DAYS),
                    "Usage",
                    "",
                    f"{meter} ({account})",
                    iso_day(0),
                    iso_day(DAYS),
                    dec(consumed),
                    consumed_unit,
                    dec(cost),
                    dec(cost),
                    "Microsoft",
                    dec(cost),
                    "Standard",
                    dec(qty),
                    unit,
                    "Microsoft",
                    "Microsoft",
                    region,
                    "Storage",
                    "Object Storage",
                    "Storage",
                    "DZH318Z0BNVX",
                    meter,
                    f"DZH318Z0BNVX/{account[-4:].upper()}",
                    sub_id,
                    "northwind-prod",
                    json.dumps({"account": account, "env": "production"}, sort_keys=True, separators=(",", ":")),
                    "Storage",
                ]
            )
    return rows


def write_focus(rows: list[list[str]], path: Path) -> int:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FOCUS_COLUMNS)
        w.writerows(rows)
    return len(rows)


# ───────────────────────────── 9. costlens.toml ─────────────────────────────

COSTLENS_TOML = f"""\
# costlens configuration for the Northwind Labs sample month (written by generate.py).

[economics]
loaded_hourly_rate_usd = 85

# The warehouse CSV has its own column names; map them onto canonical call fields.
[[ingest.mappings]]
name = "ticket-classifier-warehouse"
match = "ticket_classifier_warehouse*"         # file-name glob
input_tokens_include_cached = true
[ingest.mappings.columns]   # canonical = source column
ts = "event_time"
call_id = "req_id"
model = "llm_model"
provider = "vendor"
input_tokens = "tokens_in"
output_tokens = "tokens_out"
cache_read_tokens = "cached_in"
latency_ms = "duration_ms"
task_id = "ticket_id"
team = "team_name"
status = "outcome_status"
[ingest.mappings.constants]
feature = "ticket-classifier"

[features.support-bot]
owner = "maya.okafor@northwind.example"
team = "customer-experience"
cost_center = "CC-410-SUPPORT"
criticality = "critical"
monthly_budget_usd = 30
interactive = true

[features.doc-extractor]
owner = "lars.berg@northwind.example"
team = "finance-ops"
cost_center = "CC-220-FINOPS"
criticality = "important"
monthly_budget_usd = 300
interactive = false          # nightly batch: a candidate for the Batch API

[features.ticket-classifier]
owner = "maya.okafor@northwind.example"
team = "customer-experience"
cost_center = "CC-410-SUPPORT"
criticality = "mass"
monthly_budget_usd = 12
interactive = true

[features.coding-agent]
owner = "dev.patel@northwind.example"
team = "platform-eng"
cost_center = "CC-300-ENG"
criticality = "important"
monthly_budget_usd = 600          # past the 80 % soft alert this month (a WARN, not a breach)
interactive = true
step_budget = {AGENT_STEP_BUDGET}

[features.search-summarizer]
owner = "ines.duarte@northwind.example"
team = "growth"
cost_center = "CC-510-GROWTH"
criticality = "mass"
monthly_budget_usd = 2            # past the 80 % soft alert
interactive = true

[features.marketing-copy]
owner = "sam.whitfield@northwind.example"
team = "marketing"
cost_center = "CC-520-MKT"
criticality = "mass"
monthly_budget_usd = 5
interactive = true

# The blob storage account that caches doc-extractor's page images is part of that feature's cost (the report's
# whole cost by feature); the other cloud lines serve no feature.
[[infrastructure.rules]]
feature = "doc-extractor"
kind = "storage"
tags = {{ account = "nwmodelcache" }}
"""


# ───────────────────────────── 10. README ─────────────────────────────


def usd(x: Decimal) -> str:
    return f"${x.quantize(D('0.01')):,}"


def feature_summary(calls: list[Call], tasks: list[Task], outcomes: list[dict]) -> list[str]:
    lines = [
        "| feature | calls | failed calls | tasks | tasks with outcome | accepted | list cost (USD) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total = D(0)
    for feat in ACCEPTANCE:
        fc = [c for c in calls if c.feature == feat]
        ft = [t for t in tasks if t.feature == feat]
        fo = [o for o in outcomes if o["feature"] == feat]
        acc = sum(o["accepted"] for o in fo)
        cost = sum((call_cost(c) for c in fc), D(0))
        total += cost
        lines.append(
            f"| {feat} | {len(fc):,} | {sum(not c.ok for c in fc):,} | {len(ft):,} | {len(fo):,} | "
            f"{acc / len(fo):.3f} | {usd(cost)} |"
        )
    lines.append(
        f"| **total** | **{len(calls):,}** | **{sum(not c.ok for c in calls):,}** | **{len(tasks):,}** | "
        f"**{len(outcomes):,}** | | **{usd(total)}** |"
    )
    return lines


def planted_figures(calls: list[Call], tasks: list[Task], outcomes: list[dict], infos: dict) -> list[str]:
    out: list[str] = []
    by = {f: [c for c in calls if c.feature == f] for f in ACCEPTANCE}

    # Context bloat
    sb = [c for c in by["support-bot"] if c.has_usage]
    normal_inputs = sorted(c.total_input for c in sb if "bloat" not in c.tags)
    typical = normal_inputs[len(normal_inputs) // 2]
    p95 = normal_inputs[int(len(normal_inputs) * 0.95)]
    bloat = [c for c in sb if "bloat" in c.tags]
    excess = sum(max(0, c.total_input - typical) for c in bloat)
    excess_usd = sum((D(max(0, c.total_input - typical)) * PRICES[c.model][0] / D(1_000_000) for c in bloat), D(0))
    bloat_cost = sum((call_cost(c) for c in bloat), D(0))
    # Pro-rata share of each bloated call's input cost (uncached + cache read + cache write) above the median.
    pro_rata = D(0)
    for c in bloat:
        p_in, _, p_cr, p_w5, p_w1 = PRICES[c.model]
        input_cost = (
            c.input_uncached * p_in + c.cache_read * p_cr + c.cache_write_5m * p_w5 + c.cache_write_1h * p_w1
        ) / D(1_000_000)
        pro_rata += input_cost * D(max(0, c.total_input - typical)) / D(c.total_input)
    max_in = max(c.total_input for c in bloat)
    out.append(
        f"- **context_bloat — support-bot.** {len(infos['support-bot']['bloated_conversations'])} of "
        f"{SUPPORT_CONVERSATIONS} conversations (task ids `sb-NNNNN-tTT` with these prefixes: "
        f"{', '.join('`' + x + '`' for x in infos['support-bot']['bloated_conversations'])}) never trim "
        f"their history and keep every retrieved document, so input grows turn after turn up to "
        f"{max_in:,} tokens. Their {len(bloat):,} calls cost {usd(bloat_cost)}; the median input of the "
        f"other calls is {typical:,} tokens (p95 {p95:,}); tokens above that median: {excess:,}, "
        f"{usd(pro_rata)} as a pro-rata share of what those calls' input actually cost (mostly cache "
        f"reads), {usd(excess_usd)} if valued at the base input price."
    )

    # Premium overuse
    prem = [c for c in by["ticket-classifier"] if c.model == GPT41 and c.has_usage]
    prem_cost = sum((call_cost(c) for c in prem), D(0))
    p_in, p_out, p_cr = PRICES[GPT41_NANO][:3]
    as_nano = sum(
        ((c.input_uncached * p_in + c.output * p_out + c.cache_read * p_cr) / D(1_000_000) for c in prem), D(0)
    )
    acc = {}
    for model in (GPT41, GPT41_NANO):
        o = [r for r in outcomes if r["feature"] == "ticket-classifier" and model in r["flags"]]
        acc[model] = sum(r["accepted"] for r in o) / len(o)
    n_cls = sum(c.has_usage for c in by["ticket-classifier"])
    out.append(
        f"- **premium_overuse — ticket-classifier.** {len(prem):,} of {n_cls:,} successful calls "
        f"({len(prem) / n_cls:.1%}) use `{REQUEST_ALIAS[GPT41]}` for a 2–12-token label; they cost {usd(prem_cost)}, "
        f"the same tokens on `{REQUEST_ALIAS[GPT41_NANO]}` cost {usd(as_nano)} (waste {usd(prem_cost - as_nano)}). "
        f"Acceptance: gpt-4.1 {acc[GPT41]:.3f}, gpt-4.1-nano {acc[GPT41_NANO]:.3f}."
    )

    # Retries
    parts = []
    for f in ACCEPTANCE:
        failed = [c for c in by[f] if not c.ok]
        if failed:
            cost = sum((call_cost(c) for c in failed if c.has_usage), D(0))
            kinds = {}
            for c in failed:
                kinds[c.error_type] = kinds.get(c.error_type, 0) + 1
            parts.append(
                f"{f} {len(failed)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; "
                f"logged cost {usd(cost)})"
            )
    timeouts = [c for c in by["support-bot"] if c.error_type == "timeout"]
    out.append(
        f"- **retries — failed attempts, all retried in the same task.** {'; '.join(parts)}. Only the "
        f"support-bot timeouts carry usage ({len(timeouts)} spans: the stream started, input was billed). "
        f"Doc-extractor repeats (same document extracted twice in one task, second call almost fully "
        f"cached): {', '.join('`' + t + '`' for t in infos['doc-extractor']['repeated_tasks'])}; "
        f"their second calls cost "
        f"{usd(sum((call_cost(c) for c in by['doc-extractor'] if 'repeat' in c.tags), D(0)))}."
    )

    # Batchable
    dx_cost = sum((call_cost(c) for c in by["doc-extractor"]), D(0))
    out.append(
        f"- **batchable — doc-extractor.** All {sum(c.ok for c in by['doc-extractor']):,} successful calls "
        f"run in the 01:00–04:00 UTC nightly window (`interactive = false` in costlens.toml) at "
        f"synchronous prices: {usd(dx_cost)} list; at the 50 % batch price {usd(dx_cost * BATCH_FACTOR)} "
        f"(saving {usd(dx_cost - dx_cost * BATCH_FACTOR)})."
    )

    # Verbosity
    ss = [c for c in by["search-summarizer"] if c.has_usage]
    normal_out = sorted(c.output for c in ss if "verbose" not in c.tags)
    typ_out = normal_out[len(normal_out) // 2]
    verb = [c for c in ss if "verbose" in c.tags]
    excess_out = sum(c.output - typ_out for c in verb)
    out.append(
        f"- **output_verbosity — search-summarizer.** {len(verb)} of {len(ss):,} calls "
        f"({len(verb) / len(ss):.1%}) have no `gen_ai.request.max_tokens` and {min(c.output for c in verb):,}–"
        f"{max(c.output for c in verb):,} output tokens (others: max_tokens 800, median output {typ_out}). "
        f"Output above that median: {excess_out:,} tokens = "
        f"{usd(D(excess_out) * PRICES[GEMINI_FLASH][1] / D(1_000_000))}; the verbose calls cost "
        f"{usd(sum((call_cost(c) for c in verb), D(0)))} in all."
    )

    # Agent loops
    ag = by["coding-agent"]
    steps = {}
    for c in ag:
        if c.ok:
            steps[c.task_id] = steps.get(c.task_id, 0) + 1
    loop_ids = infos["coding-agent"]["loop_tasks"]
    normal_steps = sorted(v for k, v in steps.items() if k not in loop_ids)
    past = [c for c in ag if "past_budget" in c.tags]
    out.append(
        f"- **agent_loops — coding-agent.** {len(loop_ids)} of {len(steps)} runs loop: "
        f"{', '.join(f'`{t}` ({steps[t]} steps)' for t in loop_ids)}; other runs take "
        f"{normal_steps[0]}–{normal_steps[-1]} steps (median {normal_steps[len(normal_steps) // 2]}). "
        f"Calls past the {AGENT_STEP_BUDGET}-step budget: {len(past):,}, costing "
        f"{usd(sum((call_cost(c) for c in past), D(0)))}; the loop runs cost "
        f"{usd(sum((call_cost(c) for c in ag if 'loop' in c.tags), D(0)))} in all."
    )

    # Input quality
    cle = [c for c in by["doc-extractor"] if c.error_type == "context_length_exceeded"]
    out.append(
        f"- **input_quality — doc-extractor.** {len(cle)} calls on "
        f"{len({c.task_id for c in cle})} documents fail with 400 `context_length_exceeded` "
        f"(inputs 130k–175k tokens; half the documents are retried unchanged and fail again). The log "
        f"has no usage for them, but Azure billed their {sum(c.billed_unlogged_input for c in cle):,} input "
        f"tokens (see reconciliation)."
    )
    out.append(
        "- **clean — marketing-copy.** `gpt-5-mini`, bounded output (max_output_tokens 4000, never "
        "reached), prompt cache hits on follow-up calls, no failures, no repeats, weekday office hours, "
        "30 % of calls on the flex tier. No finding above low severity should be reported for it."
    )
    return out


def reconciliation_figures(calls: list[Call], focus_info: dict) -> list[str]:
    lines = [
        "| model | tier | token type | tokens in logs | tokens billed | difference | why |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    billed = {}
    for (model, tier, kind), n in focus_info["logged"].items():
        billed[(model, tier, kind)] = n
    for model, n in focus_info["failed_billed_input"].items():
        billed[(model, "default", "input")] = billed.get((model, "default", "input"), 0) + n
    for kind, n in focus_info["unlogged_tokens"].items():
        billed[(GPT4O, "default", kind)] = billed.get((GPT4O, "default", kind), 0) + n
    for key in AZURE_METERS:
        logged = focus_info["logged"].get(key, 0)
        b = billed.get(key, 0)
        if not logged and not b:
            continue
        why = []
        if key[2] == "input" and key[0] in focus_info["failed_billed_input"]:
            why.append(f"{focus_info['failed_billed_input'][key[0]]:,} failed-call input")
        if key[0] == GPT4O and key[2] in focus_info["unlogged_tokens"]:
            why.append(f"{focus_info['unlogged_tokens'][key[2]]:,} unlogged (batch-reindex-dev)")
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {logged:,} | {b:,} | {b - logged:,} | {'; '.join(why) or 'matches'} |"
        )

    def price_in(model):
        return AZURE_METERS[(model, "default", "input")][3] / AZURE_METERS[(model, "default", "input")][2]

    unl = focus_info["unlogged_tokens"]
    unl_list = D(unl["input"]) * price_in(GPT4O) + D(unl["output"]) * AZURE_METERS[(GPT4O, "default", "output")][3] / D(
        1_000
    )
    fail_list = sum((D(n) * price_in(m) for m, n in focus_info["failed_billed_input"].items()), D(0))
    logged_list = D(0)
    for (model, tier, kind), n in focus_info["logged"].items():
        _, _, block, price = AZURE_METERS[(model, tier, kind)]
        logged_list += D(n) * price / D(block)
    lines += [
        "",
        f"- Logged Azure OpenAI traffic (doc-extractor + marketing-copy), priced at Azure list: "
        f"{usd(logged_list)} list, {usd(logged_list * AZURE_DISCOUNT)} billed (10 % negotiated discount: "
        f"BilledCost = EffectiveCost = ContractedCost = 0.9 × ListCost).",
        f"- **Unlogged traffic**: SubAccountName `batch-reindex-dev`, Oct 12–16, gpt-4o only: "
        f"{unl['input']:,} input + {unl['output']:,} output tokens (4 % of the month's logged gpt-4o "
        f"prompt tokens, cached included, and of its output tokens; all billed as uncached input / output) "
        f"= {usd(unl_list)} list, **{usd(unl_list * AZURE_DISCOUNT)} billed**. "
        f"Exact: list {dec(unl_list)}, billed {dec(unl_list * AZURE_DISCOUNT)}.",
        f"- **Billed failed requests**: {focus_info['failed_billed_calls']} failed doc-extractor calls "
        f"(400 context_length_exceeded and 500 server_error; `response: null`, no usage in the log) have "
        f"their input billed inside the production Inp meters: "
        f"{', '.join(f'{m} {n:,} tokens' for m, n in sorted(focus_info['failed_billed_input'].items()))} = "
        f"{usd(fail_list)} list, **{usd(fail_list * AZURE_DISCOUNT)} billed**. Exact: list {dec(fail_list)}, "
        f"billed {dec(fail_list * AZURE_DISCOUNT)}.",
        f"- Total AI BilledCost in the file: "
        f"{usd((logged_list + unl_list + fail_list) * AZURE_DISCOUNT)}; the 40 Compute/Storage rows are "
        f"not AI spend.",
    ]
    return lines


def write_readme(
    path: Path, counts: dict, calls: list[Call], tasks: list[Task], outcomes: list[dict], infos: dict, focus_info: dict
) -> None:
    files = [
        (
            "support_bot_otlp.jsonl",
            "OTLP JSON (collector file exporter), one export request of 20–50 spans per line",
            "support-bot",
            "OTLP nesting, ints and nanosecond times as strings, arrayValue / doubleValue / boolValue, "
            "input INCLUDING cache read + creation, 1h cache writes (`costlens.cache_creation_1h.input_tokens`), "
            "error spans without usage, conversations (sessions), context bloat, retries",
        ),
        (
            "doc_extractor_openai.jsonl.gz",
            "gzip JSONL: app wrapper around raw OpenAI Chat Completions responses",
            "doc-extractor",
            "`.gz`, prompt_tokens INCLUDING cached_tokens, `response: null` + `error` lines (400 / 500), "
            "provider from `metadata.provider` (azure.openai), batchable nightly traffic, input-quality failures, "
            "repeats",
        ),
        (
            "ticket_classifier_warehouse.csv",
            "generic CSV with its own column names (mapping in costlens.toml)",
            "ticket-classifier",
            "column mapping, constant feature, tokens_in INCLUDING cached_in, error rows, premium overuse",
        ),
        (
            "coding_agent_anthropic.jsonl",
            "JSONL: app wrapper around raw Anthropic Messages responses",
            "coding-agent",
            "input_tokens EXCLUDING cache, cache_creation split 5m / 1h, heavy cache reads, "
            "529 overloaded lines, sessions, agent loops",
        ),
        (
            "search_summarizer_spans.jsonl",
            "flat OTel span JSONL (one span per line, attributes as an object)",
            "search-summarizer",
            "flat spans, ISO times with microseconds, reasoning tokens inside output, "
            "missing max_tokens, output verbosity",
        ),
        (
            "marketing_copy_openai.jsonl",
            "JSONL: app wrapper around raw OpenAI Responses API objects",
            "marketing-copy",
            "Responses usage shape, input INCLUDING cached_tokens, flex service tier, the clean feature",
        ),
        (
            "outcomes.csv",
            "CSV `task_id,accepted,quality_score,human_review,rework_minutes,delay_minutes`",
            "all but ticket-classifier",
            "outcome join, empty = null, booleans as true/false",
        ),
        (
            "outcomes_classifier.parquet",
            "Parquet, same columns (bool, float64, nullable int32)",
            "ticket-classifier",
            "Parquet outcomes; no task overlaps outcomes.csv",
        ),
        (
            "focus_billing_2026-10.csv",
            "FOCUS 1.2 CSV (Azure), nulls as empty strings",
            "doc-extractor, marketing-copy (+ unlogged dev traffic)",
            "AI meters (`1K Tokens` and `1M Tokens`), "
            "model and token type from SkuMeter, discounts, non-AI rows, reconciliation gaps",
        ),
        (
            "costlens.toml",
            "costlens config",
            "all",
            "column mapping, feature metadata and budgets, step budget, loaded hourly rate",
        ),
    ]
    lines = [
        "# Northwind Labs — sample month (October 2026)",
        "",
        "Generated by `python sample_logs/generate.py` (standard library + pyarrow, seed 20261031). "
        "Do not edit the data files by hand: change the generator and re-run it. Re-running gives "
        "byte-identical files (same zlib / pyarrow versions for the `.gz` and `.parquet`). All times are UTC, "
        "all within 2026-10-01 … 2026-10-31. This README is written by the generator too, so every figure "
        "below matches the data.",
        "",
        "Northwind Labs runs six LLM features; each task (a unit of user work) is 1..N calls.",
        "",
        "## Files",
        "",
        "| file | format | feature(s) | rows | what it exercises |",
        "|---|---|---|---:|---|",
    ]
    for name, fmt, feats, what in files:
        lines.append(f"| `{name}` | {fmt} | {feats} | {counts.get(name, '—')} | {what} |")
    lines += [
        "",
        "Rows: lines for JSONL (OTLP: export requests, each holding 20–50 spans), data rows for CSV/Parquet.",
        "",
        "## Token conventions (what the ingest must convert)",
        "",
        "| file | input field | includes cached? | cache fields | reasoning |",
        "|---|---|---|---|---|",
        "| support_bot_otlp.jsonl | `gen_ai.usage.input_tokens` | yes: uncached + cache read + cache creation | "
        "`gen_ai.usage.cache_read.input_tokens`, `gen_ai.usage.cache_creation.input_tokens` (5m + 1h), "
        "`costlens.cache_creation_1h.input_tokens` (1h subset, only when > 0) | — |",
        "| doc_extractor_openai.jsonl.gz | `usage.prompt_tokens` | yes | `prompt_tokens_details.cached_tokens` | "
        "`completion_tokens_details.reasoning_tokens` (0) |",
        "| ticket_classifier_warehouse.csv | `tokens_in` | yes | `cached_in` | — |",
        "| coding_agent_anthropic.jsonl | `usage.input_tokens` | **no** (excludes reads and writes) | "
        "`cache_read_input_tokens`, `cache_creation_input_tokens` = `cache_creation.ephemeral_5m_input_tokens` + "
        "`ephemeral_1h_input_tokens` | — |",
        "| search_summarizer_spans.jsonl | `gen_ai.usage.input_tokens` | no caching used | — | "
        "`gen_ai.usage.reasoning.output_tokens` ⊂ output |",
        "| marketing_copy_openai.jsonl | `usage.input_tokens` | yes | `input_tokens_details.cached_tokens` | "
        "`output_tokens_details.reasoning_tokens` ⊂ output |",
        "",
        "Failed calls: support-bot `rate_limit_exceeded` / `overloaded_error` spans and all failed lines in the "
        "other files carry no usage (the request never produced a response); support-bot `timeout` spans carry "
        "full input usage and 0–30 output tokens (the stream started, then stalled). Wrapper `timestamp` and "
        "span start times are request start; `latency_ms` / end time give the duration.",
        "",
        "## Month at a glance (list prices used by the generator, USD per Mtok)",
        "",
    ]
    lines += feature_summary(calls, tasks, outcomes)
    lines += [
        "",
        "Prices: claude-sonnet-4-5 3 / 15 / read 0.30 / write-5m 3.75 / write-1h 6; claude-haiku-4-5 1 / 5 / 0.10 / "
        "1.25 / 2; claude-opus-4-1 15 / 75 / 1.50 / 18.75 / 30; gpt-4o 2.50 / 10 / cached 1.25; gpt-4o-mini 0.15 / "
        "0.60 / 0.075; gpt-4.1 2 / 8 / 0.50; gpt-4.1-nano 0.10 / 0.40 / 0.025; gpt-5-mini 0.25 / 2 / 0.025 "
        "(flex: half); gemini-2.5-flash 0.30 / 2.50. Seasonality: weekday peaks (weekends ~20–25 % of a "
        "weekday for business features), UTC business-hour peaks 13–17 h, consumer evenings for search, the "
        "doc-extractor only 01:00–04:00 UTC, processing the previous day's invoices (so its heavy nights are "
        "Tue–Sat, which makes Saturday busier than Monday in the all-feature totals).",
        "",
        "## Planted patterns",
        "",
    ]
    lines += planted_figures(calls, tasks, outcomes, infos)
    lines += [
        "",
        "## Billing reconciliation (focus_billing_2026-10.csv vs the logs)",
        "",
        "Only doc-extractor and marketing-copy run on Azure OpenAI, so only they appear in the FOCUS file. "
        "Token types: Azure `Inp` = uncached input, `cached Inp` = cache reads, `Outp` = output; flex "
        "traffic has its own meters at half price.",
        "",
    ]
    lines += reconciliation_figures(calls, focus_info)
    lines += [
        "",
        "## Regenerating",
        "",
        "```",
        "python sample_logs/generate.py   # rewrites every file in sample_logs/ except generate.py",
        "```",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


# ───────────────────────────── main ─────────────────────────────


def main() -> None:
    master = random.Random(SEED)
    # One child generator per feature, drawn in a fixed order: tuning one feature never
    # reshuffles the others.
    names = [
        "support-bot",
        "doc-extractor",
        "ticket-classifier",
        "coding-agent",
        "search-summarizer",
        "marketing-copy",
        "outcomes",
        "focus",
        "writers",
    ]
    rngs = {n: random.Random(master.getrandbits(64)) for n in names}
    generators = {
        "support-bot": gen_support_bot,
        "doc-extractor": gen_doc_extractor,
        "ticket-classifier": gen_ticket_classifier,
        "coding-agent": gen_coding_agent,
        "search-summarizer": gen_search_summarizer,
        "marketing-copy": gen_marketing_copy,
    }
    calls: list[Call] = []
    tasks: list[Task] = []
    infos: dict = {}
    by_feature: dict[str, list[Call]] = {}
    for feat, gen in generators.items():
        fc, ft, info = gen(rngs[feat])
        by_feature[feat] = fc
        calls += fc
        tasks += ft
        infos[feat] = info
    assert all(START_US <= c.start_us and c.end_us < END_US for c in calls), "call outside October 2026"

    w = rngs["writers"]
    counts = {
        "support_bot_otlp.jsonl": write_support_otlp(w, by_feature["support-bot"], OUT_DIR / "support_bot_otlp.jsonl"),
        "doc_extractor_openai.jsonl.gz": write_doc_extractor(
            w, by_feature["doc-extractor"], OUT_DIR / "doc_extractor_openai.jsonl.gz"
        ),
        "ticket_classifier_warehouse.csv": write_ticket_classifier(
            by_feature["ticket-classifier"], OUT_DIR / "ticket_classifier_warehouse.csv"
        ),
        "coding_agent_anthropic.jsonl": write_coding_agent(
            by_feature["coding-agent"], OUT_DIR / "coding_agent_anthropic.jsonl"
        ),
        "search_summarizer_spans.jsonl": write_search_summarizer(
            by_feature["search-summarizer"], OUT_DIR / "search_summarizer_spans.jsonl"
        ),
        "marketing_copy_openai.jsonl": write_marketing_copy(
            by_feature["marketing-copy"], OUT_DIR / "marketing_copy_openai.jsonl"
        ),
    }
    outcomes = gen_outcomes(rngs["outcomes"], tasks)
    counts["outcomes.csv"], counts["outcomes_classifier.parquet"] = write_outcomes(
        outcomes, OUT_DIR / "outcomes.csv", OUT_DIR / "outcomes_classifier.parquet"
    )
    focus_rows, focus_info = gen_focus_bill(rngs["focus"], calls)
    counts["focus_billing_2026-10.csv"] = write_focus(focus_rows, OUT_DIR / "focus_billing_2026-10.csv")
    (OUT_DIR / "costlens.toml").write_text(COSTLENS_TOML, encoding="utf-8")
    write_readme(
        OUT_DIR / "README.md", {k: f"{v:,}" for k, v in counts.items()}, calls, tasks, outcomes, infos, focus_info
    )

    total = sum((call_cost(c) for c in calls), D(0))
    print(f"{len(calls):,} calls, {len(tasks):,} tasks, {len(outcomes):,} outcomes, list cost {usd(total)}")
    for name, n in counts.items():
        print(f"  {name:34s} {n:>7,} rows  {(OUT_DIR / name).stat().st_size:>10,} bytes")


if __name__ == "__main__":
    main()
