"""Langfuse public API exports: observations → calls, traces → trace_context, scores → outcomes.

Golden values are computed by hand from the fixtures (tests/fixtures/langfuse, one file per export kind and
container) following Langfuse's own conventions, found in its source (langfuse/langfuse):
- ingestion/types.ts: OpenAI-style usage is normalised at ingestion — `input` = prompt_tokens minus every
  prompt_tokens_details entry (kept as input_cached_tokens, input_audio_tokens…), `output` = completion_tokens
  minus every completion_tokens_details entry (output_reasoning_tokens…). The OTel path does the same
  (input = gen_ai.usage.input_tokens − cache read − cache creation). Anthropic keys sit beside Anthropic's own
  input_tokens, which excludes them. usageDetails are therefore additive, and Langfuse prices each key.
- observations_converters.ts (reduceUsageOrCostDetails): the legacy `usage.input` is the sum of every key
  containing "input" — cache included — so it must never be added to, or used beside, usageDetails.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlens.config import Config, OutcomesConfig, OutcomeScoresConfig
from costlens.ingest.base import IngestContext
from costlens.ingest.langfuse import ADAPTER, LangfuseAdapter, record_kind, sniff_kind
from costlens.ingest.sources import open_source

from conftest import FIXTURES, REALDATA

LF = FIXTURES / "langfuse"
OBS_PAGE = LF / "observations_page.json"
OBS_JSONL = LF / "observations.jsonl"
TRACES_PAGE = LF / "traces_page.json"
TRACES_JSONL = LF / "traces.jsonl"
SCORES_PAGE = LF / "scores_page.json"
SCORES_JSONL = LF / "scores.jsonl"
ALL_FIXTURES = [OBS_PAGE, OBS_JSONL, TRACES_PAGE, TRACES_JSONL, SCORES_PAGE, SCORES_JSONL]

COLUMNS = (
    "source_row",
    "call_id",
    "ts",
    "latency_ms",
    "provider",
    "model",
    "request_model",
    "operation",
    "service_tier",
    "is_batch",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "status",
    "error_type",
    "http_status",
    "finish_reason",
    "max_tokens",
    "task_id",
    "session_id",
    "trace_id",
    "feature",
    "team",
    "customer",
    "user_id",
    "environment",
    "tags",
    "reported_cost_usd",
)
DEFAULTS = dict(
    latency_ms=None,
    provider="openai",
    request_model=None,
    operation="chat",
    service_tier="standard",
    is_batch=False,
    input_tokens=0,
    cache_read_tokens=0,
    cache_write_5m_tokens=0,
    cache_write_1h_tokens=0,
    output_tokens=0,
    reasoning_tokens=0,
    status="ok",
    error_type=None,
    http_status=None,
    finish_reason=None,
    max_tokens=None,
    session_id=None,
    feature=None,
    team=None,
    customer=None,
    user_id=None,
    environment="production",
    tags=None,
    reported_cost_usd=None,
)


def call(trace_id: str, **values) -> dict:
    row = {**DEFAULTS, "task_id": trace_id, "trace_id": trace_id, **values}
    return {column: row[column] for column in COLUMNS}


def calls(con, where: str = "true") -> list[dict]:
    cursor = con.execute(f"SELECT {', '.join(COLUMNS)} FROM calls WHERE {where} ORDER BY source_file, source_row")
    return [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]


def quarantine(con) -> list[tuple]:
    return con.execute(
        "SELECT source_file, source_row, disposition, reason, source_format FROM quarantine "
        "ORDER BY source_file, source_row"
    ).fetchall()


def counts(file) -> tuple:
    return file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined, file.rows_skipped


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def generation(id: str = "g-1", trace: str = "t-1", **fields) -> dict:
    """A minimal GENERATION observation as the public API returns it."""
    return {
        "id": id,
        "traceId": trace,
        "type": "GENERATION",
        "name": "llm",
        "startTime": "2025-11-10T09:00:00Z",
        "endTime": "2025-11-10T09:00:01Z",
        "model": "gpt-4o",
        "level": "DEFAULT",
        "statusMessage": None,
        "metadata": {},
        "usageDetails": {},
        "costDetails": {},
        **fields,
    }


def sha(value) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# Observations → calls
# ---------------------------------------------------------------------------------------------------------------

# Reported costs are Langfuse's own figures from the fixture (gpt-4o: 464 × $2.50 + 1536 × $1.25 + 150 × $10 per
# Mtok = $0.00458; o3-mini: 300 × $1.10 + 1200 × $4.40 = $0.00561; Sonnet 4.5: 50 × $3 + 12000 × $0.30
# + 3000 × $3.75 + 400 × $15 = $0.021).
GOLDEN_PAGE = [
    # OpenAI via Langfuse: input already excludes input_cached_tokens. TRAP: the legacy usage.input beside it is
    # 2000 (= 464 + 1536) and must not be used. Nested metadata (resourceAttributes) is not copied to tags.
    call(
        "tr-1",
        source_row=1,
        call_id="obs-gen-1",
        ts=datetime(2025, 11, 3, 10, 0),
        latency_ms=1250.0,
        model="gpt-4o-2024-08-06",
        input_tokens=464,
        cache_read_tokens=1536,
        output_tokens=150,
        max_tokens=512,
        tags={
            "prompt_variant": "b",
            "langfuse.name": "draft-reply",
            "langfuse.prompt_name": "support-reply",
            "langfuse.prompt_version": "3",
        },
        reported_cost_usd=Decimal("0.00458"),
    ),
    # Reasoning was taken out of `output` by Langfuse: output = 176 + 1024. The routing prefix "openai/" is taken
    # off the model. The observation names its own feature in metadata.
    call(
        "tr-6",
        source_row=2,
        call_id="obs-gen-2",
        ts=datetime(2025, 11, 3, 10, 5),
        latency_ms=4000.0,
        model="o3-mini",
        input_tokens=300,
        output_tokens=1200,
        reasoning_tokens=1024,
        max_tokens=2000,
        feature="triage",
        tags={"langfuse.name": "classify"},
        reported_cost_usd=Decimal("0.00561"),
    ),
    # Anthropic keys: input excludes cache reads / writes. No costDetails: the legacy usage.totalCost is the cost
    # (its usage.input 15050 includes the cache and is NOT the input).
    call(
        "tr-2",
        source_row=3,
        call_id="obs-gen-3",
        ts=datetime(2025, 11, 4, 8, 0),
        latency_ms=9500.0,
        provider="anthropic",
        model="claude-sonnet-4-5-20250929",
        input_tokens=50,
        cache_read_tokens=12000,
        cache_write_5m_tokens=3000,
        output_tokens=400,
        max_tokens=4096,
        tags={"langfuse.name": "plan"},
        reported_cost_usd=Decimal("0.021"),
    ),
    # 1h cache writes split out (Langfuse's OTel path writes input_cache_creation 0 beside the split).
    call(
        "tr-2",
        source_row=4,
        call_id="obs-gen-4",
        ts=datetime(2025, 11, 4, 8, 0, 10),
        latency_ms=2000.0,
        provider="anthropic",
        model="claude-haiku-4-5",
        input_tokens=20,
        cache_write_5m_tokens=2000,
        cache_write_1h_tokens=3000,
        output_tokens=600,
        tags={"langfuse.name": "summarize-sources"},
    ),
    # level ERROR → a failed call; type and HTTP status from the OpenAI SDK error text.
    call(
        "tr-2",
        source_row=5,
        call_id="obs-err-5",
        ts=datetime(2025, 11, 4, 8, 0, 13),
        latency_ms=120.0,
        model="gpt-4o",
        status="error",
        error_type="rate_limit_exceeded",
        http_status=429,
        tags={"langfuse.name": "plan-retry"},
    ),
    # Rows 6 (SPAN) and 7 (EVENT) are skipped. Row 8: an export from before usageDetails — legacy usage only;
    # totalPrice (a unit price, 0.0) is not a cost, calculatedTotalCost / usage.totalCost is.
    call(
        "tr-1",
        source_row=8,
        call_id="obs-gen-8",
        ts=datetime(2025, 11, 3, 10, 1),
        latency_ms=2000.0,
        model="gpt-4o",
        input_tokens=1000,
        output_tokens=200,
        tags={"langfuse.name": "legacy-call", "langfuse.usage_source": "legacy_usage"},
        reported_cost_usd=Decimal("0.0045"),
    ),
    # Free keys: input_audio_tokens is input, input_cached_tokens cache, output_reasoning_tokens output AND
    # reasoning; web_search_requests is not tokens (kept as a tag).
    call(
        "tr-1",
        source_row=9,
        call_id="obs-gen-9",
        ts=datetime(2025, 11, 3, 10, 2),
        latency_ms=3000.0,
        provider="google",
        model="gemini-2.5-flash",
        input_tokens=800,
        cache_read_tokens=200,
        output_tokens=150,
        reasoning_tokens=60,
        tags={"langfuse.name": "voice-answer", "langfuse.usage.web_search_requests": "2"},
    ),
    # TRAP: a producer put the inclusive prompt count in `input`; total (2100 = 2000 + 100) shows it.
    call(
        "tr-1",
        source_row=10,
        call_id="obs-gen-10",
        ts=datetime(2025, 11, 3, 10, 3),
        latency_ms=1000.0,
        model="gpt-4o-mini",
        input_tokens=500,
        cache_read_tokens=1500,
        output_tokens=100,
        tags={"langfuse.name": "rewrite", "langfuse.usage_convention": "input_includes_cache"},
    ),
    # Row 11 is rejected (usageDetails.input = "lots").
    call(
        "tr-1",
        source_row=12,
        call_id="obs-emb-12",
        ts=datetime(2025, 11, 3, 10, 0, 0, 100000),
        latency_ms=80.0,
        model="text-embedding-3-small",
        operation="embeddings",
        input_tokens=512,
        tags={"langfuse.name": "embed-question"},
    ),
    # Langfuse had no price for the model and wrote cost 0: unknown, not free.
    call(
        "tr-1",
        source_row=13,
        call_id="obs-gen-13",
        ts=datetime(2025, 11, 3, 10, 6),
        latency_ms=1000.0,
        provider=None,
        model="acme-finetune-7b",
        input_tokens=100,
        output_tokens=10,
        tags={"langfuse.name": "custom-model"},
        reported_cost_usd=None,
    ),
]


@pytest.mark.slow
def test_observations_api_page_golden(con, ingest):
    (file,) = ingest(OBS_PAGE).files

    assert (file.status, file.format, file.target) == ("ingested", "langfuse", "calls"), file.message
    assert counts(file) == (13, 10, 0, 1, 2)
    assert calls(con) == GOLDEN_PAGE
    assert quarantine(con) == [
        (str(OBS_PAGE), 6, "skipped", "not a model call (SPAN observation)", "langfuse"),
        (str(OBS_PAGE), 7, "skipped", "not a model call (EVENT observation)", "langfuse"),
        (str(OBS_PAGE), 11, "rejected", "usageDetails.input is not a token count", "langfuse"),
    ]
    page = json.loads(OBS_PAGE.read_text())["data"]
    hashes = dict(con.execute("SELECT call_id, prompt_hash FROM calls WHERE prompt_hash IS NOT NULL").fetchall())
    assert hashes == {"obs-gen-1": sha(page[0]["input"]), "obs-gen-3": sha(page[2]["input"])}
    prefixes = dict(con.execute("SELECT call_id, prefix_hash FROM calls WHERE prefix_hash IS NOT NULL").fetchall())
    assert set(prefixes) == {"obs-gen-1", "obs-gen-3"} and all(
        re.fullmatch("[0-9a-f]{64}", h) for h in prefixes.values()
    )


GOLDEN_JSONL = [
    # Raw OpenAI keys kept as sent: prompt_tokens INCLUDES cached_tokens, completion_tokens INCLUDES reasoning.
    # A task id in the observation's metadata wins over the trace id. "+01:00" → UTC.
    call(
        "tr-3",
        source_row=1,
        call_id="obs-j1",
        ts=datetime(2025, 11, 5, 7, 0),
        latency_ms=2000.0,
        model="gpt-4.1-mini",
        input_tokens=176,
        cache_read_tokens=1024,
        output_tokens=300,
        reasoning_tokens=100,
        task_id="doc-77",
        tags={"langfuse.name": "summarize", "langfuse.usage_convention": "raw_inclusive"},
    ),
    # WARNING is not a failure. costDetails without total: the sum of its entries (0.0009 + 0.00175).
    call(
        "tr-3",
        source_row=2,
        call_id="obs-j2",
        ts=datetime(2025, 11, 5, 7, 0, 3),
        latency_ms=1000.0,
        provider="anthropic",
        model="claude-haiku-4-5-20251001",
        input_tokens=900,
        output_tokens=350,
        tags={"langfuse.name": "title"},
        reported_cost_usd=Decimal("0.00265"),
    ),
    # Lines 3 and 5 are the same observation (a page overlap): the last one is kept, the other is a duplicate.
    call(
        "tr-4",
        source_row=5,
        call_id="obs-j3",
        ts=datetime(2025, 11, 5, 9, 0),
        latency_ms=900.0,
        model="gpt-4o-mini",
        input_tokens=400,
        output_tokens=50,
        environment="staging",
        tags={"langfuse.name": "answer"},
        reported_cost_usd=Decimal("0.00009"),
    ),
    # Anthropic SDK error text: the inner error type, not "error".
    call(
        "tr-5",
        source_row=6,
        call_id="obs-j5",
        ts=datetime(2025, 11, 6, 12, 0),
        latency_ms=30000.0,
        provider="anthropic",
        model="claude-haiku-4-5",
        status="error",
        error_type="overloaded_error",
        http_status=529,
        tags={"langfuse.name": "reply"},
    ),
    call(
        "tr-5",
        source_row=7,
        call_id="obs-j6",
        ts=datetime(2025, 11, 6, 12, 0, 31),
        latency_ms=2000.0,
        model="gpt-4o",
        input_tokens=1000,
        output_tokens=100,
        tags={"langfuse.name": "reply"},
        reported_cost_usd=Decimal("0.0035"),
    ),
]


@pytest.mark.slow
def test_observations_jsonl_golden(con, ingest):
    (file,) = ingest(OBS_JSONL).files

    assert (file.status, file.format, file.target) == ("ingested", "langfuse", "calls"), file.message
    # 9 read = 5 loaded + 1 duplicate + 1 rejected + 2 skipped
    assert counts(file) == (9, 5, 1, 1, 2)
    assert calls(con) == GOLDEN_JSONL
    assert quarantine(con) == [
        (str(OBS_JSONL), 4, "rejected", "not valid JSON", "langfuse"),
        (str(OBS_JSONL), 8, "skipped", "generation without model or usage: nothing was billed", "langfuse"),
        (str(OBS_JSONL), 9, "skipped", "not a model call (AGENT observation)", "langfuse"),
    ]


# (usageDetails, legacy usage) → (input, cache_read, cache_write_5m, cache_write_1h, output, reasoning)
TOKEN_CASES = {
    "openai normalised by Langfuse": (
        {"input": 464, "input_cached_tokens": 1536, "output": 150, "total": 2150},
        None,
        (464, 1536, 0, 0, 150, 0),
    ),
    "openai reasoning taken out of output": (
        {"input": 300, "output": 176, "output_reasoning_tokens": 1024, "total": 1500},
        None,
        (300, 0, 0, 0, 1200, 1024),
    ),
    "openai audio details": (
        {"input": 70, "input_audio_tokens": 30, "input_cached_tokens": 0, "output": 5, "output_audio_tokens": 15},
        None,
        (100, 0, 0, 0, 20, 0),
    ),
    "anthropic keys": (
        {"input": 50, "cache_read_input_tokens": 12000, "cache_creation_input_tokens": 3000, "output": 400},
        None,
        (50, 12000, 3000, 0, 400, 0),
    ),
    "anthropic input_tokens / output_tokens spelling": (
        {"input_tokens": 900, "output_tokens": 350, "cache_read_input_tokens": 100},
        None,
        (900, 100, 0, 0, 350, 0),
    ),
    "anthropic ttl split (otel path)": (
        {
            "input": 2,
            "input_cached_tokens": 47105,
            "input_cache_creation": 0,
            "input_cache_creation_5m": 0,
            "input_cache_creation_1h": 1076,
            "output": 714,
        },
        None,
        (2, 47105, 0, 1076, 714, 0),
    ),
    "langchain keys": (
        {"input": 100, "input_cache_read": 900, "input_cache_creation": 50, "output": 20, "total": 1070},
        None,
        (100, 900, 50, 0, 20, 0),
    ),
    "raw openai keys include cache and reasoning": (
        {
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "total_tokens": 1500,
            "cached_tokens": 1024,
            "reasoning_tokens": 100,
        },
        None,
        (176, 1024, 0, 0, 300, 100),
    ),
    "raw gemini counts: prompt includes cache, candidates exclude thoughts": (
        {
            "promptTokenCount": 1000,
            "cachedContentTokenCount": 600,
            "candidatesTokenCount": 80,
            "thoughtsTokenCount": 40,
            "totalTokenCount": 1120,
        },
        None,
        (400, 600, 0, 0, 120, 40),
    ),
    "total shows input includes cache": (
        {"input": 2000, "input_cached_tokens": 1500, "output": 100, "total": 2100},
        None,
        (500, 1500, 0, 0, 100, 0),
    ),
    "total shows output includes reasoning": (
        {"input": 100, "output": 500, "output_reasoning_tokens": 300, "total": 600},
        None,
        (100, 0, 0, 0, 500, 300),
    ),
    "total shows both inclusive": (
        {"input": 1000, "input_cached_tokens": 400, "output": 500, "output_reasoning_tokens": 300, "total": 1500},
        None,
        (600, 400, 0, 0, 500, 300),
    ),
    "total matching nothing: additive": (
        {"input": 100, "input_cached_tokens": 50, "output": 10, "total": 999},
        None,
        (100, 50, 0, 0, 10, 0),
    ),
    "input smaller than cache cannot include it": (
        {"input": 10, "cache_read_input_tokens": 500, "output": 5, "total": 15},
        None,
        (10, 500, 0, 0, 5, 0),
    ),
    "legacy usage alone": (
        None,
        {"input": 1000, "output": 200, "total": 1200, "unit": "TOKENS"},
        (1000, 0, 0, 0, 200, 0),
    ),
    "legacy usage beside usageDetails is ignored": (
        {
            "input": 2,
            "cache_read_input_tokens": 10692,
            "cache_creation_input_tokens": 592,
            "output": 13,
            "total": 11299,
        },
        {"input": 11286, "output": 13, "total": 11299, "unit": "TOKENS"},
        (2, 10692, 592, 0, 13, 0),
    ),
    "free keys": (
        {
            "input": 700,
            "input_audio_tokens": 100,
            "input_cached_tokens": 200,
            "output": 90,
            "output_reasoning_tokens": 60,
            "web_search_requests": 2,
            "total": 1150,
        },
        None,
        (800, 200, 0, 0, 150, 60),
    ),
}


@pytest.mark.slow
def test_token_conventions(con, ingest, tmp_path):
    """One generation per case, in one file (one ingest keeps the test fast)."""
    records = []
    for number, (details, legacy, _) in enumerate(TOKEN_CASES.values()):
        record = generation(f"case-{number}")
        if details is None:
            record.pop("usageDetails")
        else:
            record["usageDetails"] = details
        if legacy is not None:
            record["usage"] = legacy
        records.append(record)
    (file,) = ingest(write_jsonl(tmp_path / "obs.jsonl", records)).files

    assert file.rows_loaded == len(TOKEN_CASES), quarantine(con)
    got = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT call_id, input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, "
            "output_tokens, reasoning_tokens FROM calls"
        ).fetchall()
    }
    assert {case: got[f"case-{n}"] for n, case in enumerate(TOKEN_CASES)} == {
        case: expected for case, (_, _, expected) in TOKEN_CASES.items()
    }


@pytest.mark.slow
def test_reported_cost_sources(con, ingest, tmp_path):
    records = [
        generation(
            "c-1", usageDetails={"input": 10, "output": 1}, costDetails={"input": 0.1, "total": 0.123456789012345}
        ),
        generation("c-2", usageDetails={"input": 10, "output": 1}, costDetails={"input": 0.00025, "output": "0.00001"}),
        generation("c-3", usageDetails={"input": 10, "output": 1}, usage={"totalCost": 0.5}),
        generation("c-4", usageDetails={"input": 10, "output": 1}, calculatedTotalCost=0.25, totalPrice=99.0),
        generation("c-5", usageDetails={"input": 10, "output": 1}, totalPrice=0.00001, inputPrice=0.000001),
        generation("c-6", usageDetails={"input": 10, "output": 1}, costDetails={"total": 0}),
        generation("c-7", level="ERROR", statusMessage="boom", costDetails={"total": 0}),
        generation("c-8", usageDetails={"input": 10}, costDetails={"total": "n/a"}),
    ]
    (file,) = ingest(write_jsonl(tmp_path / "costs.jsonl", records)).files

    got = dict(con.execute("SELECT call_id, reported_cost_usd FROM calls").fetchall())
    assert got == {
        "c-1": Decimal("0.123456789012345"),  # costDetails.total, exactly
        "c-2": Decimal("0.00026"),  # no total: the sum of the entries
        "c-3": Decimal("0.5"),  # legacy usage.totalCost
        "c-4": Decimal("0.25"),  # calculatedTotalCost; totalPrice is a unit price
        "c-5": None,  # only prices, no cost
        "c-6": None,  # 0 with tokens: Langfuse could not price it
        "c-7": Decimal("0"),  # a failed call with no tokens really cost nothing
    }
    assert quarantine(con) == [
        (str(tmp_path / "costs.jsonl"), 8, "rejected", "costDetails.total is not a number", "langfuse")
    ]


@pytest.mark.slow
def test_unusable_usage(con, ingest, tmp_path):
    chars = generation("u-1", usage={"input": 5000, "output": 300, "unit": "CHARACTERS"})
    chars.pop("usageDetails")
    overlap = generation("u-2", usageDetails={"prompt_tokens": 100, "cached_tokens": 500, "completion_tokens": 5})
    path = write_jsonl(tmp_path / "unusable.jsonl", [chars, overlap])
    (file,) = ingest(path).files

    assert counts(file) == (2, 0, 0, 1, 1)
    assert quarantine(con) == [
        (str(path), 1, "skipped", "usage is counted in CHARACTERS, not tokens: cannot be priced per token", "langfuse"),
        (
            str(path),
            2,
            "rejected",
            "usageDetails cache tokens exceed the prompt count, which must include them",
            "langfuse",
        ),
    ]


@pytest.mark.slow
def test_error_level_and_status_messages(con, ingest, tmp_path):
    records = [
        generation(
            "e-1",
            level="ERROR",
            model="gpt-4o-mini",
            statusMessage="Error code: 400 - {'error': {'message': \"This model's maximum context length is "
            "128000 tokens.\", 'type': 'invalid_request_error', 'param': 'messages', "
            "'code': 'context_length_exceeded'}}",
        ),
        generation("e-2", level="ERROR", statusMessage="Request timed out.\nTraceback: ..."),
        generation("e-3", level="ERROR", statusMessage=None),
        generation(
            "e-4", level="WARNING", statusMessage="Error code: 500 - retried", usageDetails={"input": 10, "output": 2}
        ),
    ]
    ingest(write_jsonl(tmp_path / "errors.jsonl", records))

    got = con.execute("SELECT call_id, status, error_type, http_status FROM calls ORDER BY call_id").fetchall()
    assert got == [
        ("e-1", "error", "context_length_exceeded", 400),
        ("e-2", "error", "Request timed out.", None),
        ("e-3", "error", "error", None),
        ("e-4", "ok", None, None),
    ]


@pytest.mark.slow
def test_prefix_hash_follows_the_stable_part_of_the_input(con, ingest, tmp_path):
    system = {"role": "system", "content": "You are a careful assistant. " * 20}
    records = [
        generation("p-1", input=[system, {"role": "user", "content": "first question"}]),
        generation("p-2", input=[system, {"role": "user", "content": "second question"}]),
        generation("p-3", input="just a string prompt"),
    ]
    ingest(write_jsonl(tmp_path / "prompts.jsonl", records))

    rows = dict((r[0], r[1:]) for r in con.execute("SELECT call_id, prompt_hash, prefix_hash FROM calls").fetchall())
    assert rows["p-1"][1] == rows["p-2"][1] is not None
    assert rows["p-1"][0] != rows["p-2"][0]
    assert rows["p-3"] == (sha("just a string prompt"), None)


@pytest.mark.slow
def test_provider_from_metadata_and_model_name(con, ingest, tmp_path):
    records = [
        generation("m-1", model="us.anthropic.claude-3-5-haiku-20241022-v1:0"),
        generation("m-2", model="claude-sonnet-4-5@20250929"),
        generation("m-3", model="mistral-large-latest"),
        generation("m-4", model="gpt-4o", metadata={"ls_provider": "azure"}),
        generation("m-5", model="my-llama", metadata={"provider": "groq"}),
    ]
    ingest(write_jsonl(tmp_path / "providers.jsonl", records))

    assert con.execute("SELECT call_id, provider FROM calls ORDER BY call_id").fetchall() == [
        ("m-1", "aws.bedrock"),
        ("m-2", "gcp.vertex_ai"),
        ("m-3", "mistral"),
        ("m-4", "azure.openai"),
        ("m-5", "groq"),
    ]


def test_records_of_another_kind_are_rejected(con, ingest, tmp_path):
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            generation("x-1", usageDetails={"input": 1, "output": 1}),
            generation("x-2", usageDetails={"input": 1, "output": 1}),
            generation("x-3", usageDetails={"input": 1, "output": 1}),
            {"id": "tr-9", "timestamp": "2025-11-10T09:00:00Z", "name": "bot", "sessionId": "s", "tags": []},
            {"id": "sc-9", "traceId": "tr-9", "name": "quality", "value": 1, "dataType": "NUMERIC"},
            {"hello": "world"},
        ],
    )
    (file,) = ingest(path).files

    assert counts(file) == (6, 3, 0, 3, 0)  # the majority kind decides the file
    assert [r[3] for r in quarantine(con)] == [
        "a Langfuse trace record, not an observation (ingest each export kind as its own file)",
        "a Langfuse score record, not an observation (ingest each export kind as its own file)",
        "not a Langfuse observation (expected id, traceId, type and startTime)",
    ]


@pytest.mark.slow
def test_json_array_container(con, ingest, tmp_path):
    page = json.loads(OBS_PAGE.read_text())["data"]
    path = tmp_path / "observations.json"
    path.write_text(json.dumps(page))
    (file,) = ingest(path).files

    assert counts(file) == (13, 10, 0, 1, 2)
    assert calls(con) == GOLDEN_PAGE


@pytest.mark.slow
def test_large_page_beyond_the_sniff_window(con, ingest, tmp_path):
    """An API page bigger than the sniffed head still routes here (text sniff) and loads whole."""
    filler = "x" * 3000
    page = {
        "data": [
            generation(
                f"big-{i}", input=[{"role": "user", "content": filler}], usageDetails={"input": 100, "output": 10}
            )
            for i in range(120)
        ],
        "meta": {"page": 1, "limit": 120, "totalItems": 120, "totalPages": 1},
    }
    path = tmp_path / "big_page.json"
    path.write_text(json.dumps(page, indent=2))
    src = open_source(path)
    assert src.records == [] and src.size > 256 * 1024

    assert sniff_kind(src) == ("observations", 70)
    gz = tmp_path / "big_page.json.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert sniff_kind(open_source(gz)) == ("observations", 70)
    (file,) = ingest(path).files
    assert (file.format, file.target, counts(file)) == ("langfuse", "calls", (120, 120, 0, 0, 0))
    assert con.execute("SELECT min(source_row), max(source_row) FROM calls").fetchone() == (1, 120)


# ---------------------------------------------------------------------------------------------------------------
# Traces → trace_context
# ---------------------------------------------------------------------------------------------------------------

TC_COLUMNS = (
    "source_row",
    "trace_id",
    "ts",
    "feature",
    "task_id",
    "session_id",
    "user_id",
    "team",
    "customer",
    "environment",
    "tags",
)


def trace_context(con) -> list[dict]:
    cursor = con.execute(f"SELECT {', '.join(TC_COLUMNS)} FROM trace_context ORDER BY source_file, source_row")
    return [dict(zip(TC_COLUMNS, row)) for row in cursor.fetchall()]


def tc(**values) -> dict:
    row = {
        **dict(
            session_id=None, user_id=None, team=None, customer=None, environment="production", tags=None, feature=None
        ),
        **values,
    }
    row.setdefault("task_id", row["trace_id"])
    return {c: row[c] for c in TC_COLUMNS}


def test_traces_api_page_golden(con, ingest):
    (file,) = ingest(TRACES_PAGE).files

    assert (file.status, file.format, file.target) == ("ingested", "langfuse", "trace_context"), file.message
    assert counts(file) == (4, 3, 0, 1, 0)
    assert trace_context(con) == [
        # feature = the trace name; team from a "team:x" tag; customer from metadata; scalar metadata → tags
        tc(
            source_row=1,
            trace_id="tr-1",
            ts=datetime(2025, 11, 3, 10, 0),
            feature="support-bot",
            session_id="sess-1",
            user_id="u-1",
            team="cx",
            customer="acme",
            tags={"tier": "gold", "langfuse.release": "v1.4.0", "production": "true", "team": "cx"},
        ),
        # a feature in metadata beats the name
        tc(source_row=2, trace_id="tr-2", ts=datetime(2025, 11, 4, 8, 0), feature="deep-research", user_id="u-2"),
        # a "feature:x" tag beats the name; the first of a repeated tag key wins
        tc(
            source_row=3,
            trace_id="tr-3",
            ts=datetime(2025, 11, 5, 7, 0),
            feature="summarizer",
            tags={"feature": "summarizer", "beta": "true"},
        ),
    ]
    assert quarantine(con) == [
        (str(TRACES_PAGE), 4, "rejected", "timestamp is not a timestamp: 'yesterday'", "langfuse")
    ]


def test_traces_jsonl_golden(con, ingest):
    (file,) = ingest(TRACES_JSONL).files

    assert (file.format, file.target, counts(file)) == ("langfuse", "trace_context", (4, 2, 0, 2, 0))
    assert trace_context(con) == [
        tc(
            source_row=1,
            trace_id="tr-4",
            ts=datetime(2025, 11, 5, 9, 0),
            session_id="sess-4",
            user_id="u-4",
            environment="staging",
        ),
        tc(
            source_row=2,
            trace_id="tr-5",
            ts=datetime(2025, 11, 6, 11, 59, 58),
            feature="support-bot",
            user_id="u-5",
            team="cx",
            customer="globex",
            tags={"team": "cx"},
        ),
    ]
    assert quarantine(con) == [
        (str(TRACES_JSONL), 3, "rejected", "not valid JSON", "langfuse"),
        (
            str(TRACES_JSONL),
            4,
            "rejected",
            "a Langfuse score record, not a trace (ingest each export kind as its own file)",
            "langfuse",
        ),
    ]


def test_jsonl_of_api_pages_numbers_records_through_the_file(con, ingest, tmp_path):
    traces = json.loads(TRACES_PAGE.read_text())["data"][:3]
    path = write_jsonl(
        tmp_path / "trace_pages.jsonl",
        [
            {"data": traces[:2], "meta": {"page": 1, "limit": 2, "totalItems": 3, "totalPages": 2}},
            {"data": traces[2:], "meta": {"page": 2, "limit": 2, "totalItems": 3, "totalPages": 2}},
        ],
    )
    (file,) = ingest(path).files

    assert (file.target, counts(file)) == ("trace_context", (3, 3, 0, 0, 0))
    assert con.execute("SELECT source_row, trace_id FROM trace_context ORDER BY 1").fetchall() == [
        (1, "tr-1"),
        (2, "tr-2"),
        (3, "tr-3"),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Scores → outcomes
# ---------------------------------------------------------------------------------------------------------------


def outcomes(con) -> list[tuple]:
    return con.execute(
        "SELECT task_id, accepted, quality_score, human_review, source_row FROM outcomes ORDER BY task_id"
    ).fetchall()


def test_scores_api_page_golden(con, ingest):
    (file,) = ingest(SCORES_PAGE).files

    assert (file.status, file.format, file.target) == ("ingested", "langfuse", "outcomes"), file.message
    # 9 read = 3 outcomes (one per trace) + 3 rows merged into them + 1 rejected + 2 skipped
    assert counts(file) == (9, 3, 3, 1, 2)
    assert outcomes(con) == [
        # user_feedback BOOLEAN 1 → accepted; quality = mean(0.8, 0.6) — "Quality" matches ignoring case
        ("tr-1", True, pytest.approx(0.7), None, 3),
        # the ANNOTATION "rejected" outranks the later API thumbs-up
        ("tr-2", False, None, None, 5),
        # quality 4.5 is rejected; the review score alone makes the outcome
        ("tr-3", None, None, True, 9),
    ]
    assert quarantine(con) == [
        (
            str(SCORES_PAGE),
            6,
            "skipped",
            "score 'helpfulness' is not configured as an outcome (add it to "
            "[outcomes.scores] accepted, quality or human_review)",
            "langfuse",
        ),
        (
            str(SCORES_PAGE),
            7,
            "skipped",
            "score 'user_feedback' is not attached to a trace (session or dataset-run score)",
            "langfuse",
        ),
        (
            str(SCORES_PAGE),
            8,
            "rejected",
            "score 'quality' (quality) is 4.5, outside 0..1 (quality scores must be fractions; rescale the evaluator)",
            "langfuse",
        ),
    ]


def test_scores_jsonl_golden(con, ingest):
    (file,) = ingest(SCORES_JSONL).files

    assert (file.format, file.target, counts(file)) == ("langfuse", "outcomes", (4, 2, 0, 2, 0))
    assert outcomes(con) == [
        ("tr-4", False, None, None, 1),  # thumbs NUMERIC 0.3 < accept_threshold 0.5
        ("tr-5", True, None, None, 2),  # user-feedback CATEGORICAL "thumbs_up"
    ]
    assert quarantine(con) == [
        (str(SCORES_JSONL), 3, "rejected", "not valid JSON", "langfuse"),
        (
            str(SCORES_JSONL),
            4,
            "rejected",
            "score 'accepted' (acceptance) has value 'meh', which is not a yes/no answer or a number",
            "langfuse",
        ),
    ]


def test_score_names_and_threshold_come_from_config(con, ingest, tmp_path):
    config = Config(
        outcomes=OutcomesConfig(
            scores=OutcomeScoresConfig(
                accepted=["CSAT"], accept_threshold=4, quality=["grade"], human_review=["escalated"]
            )
        )
    )

    def sc(trace, name, value, data_type="NUMERIC", **extra):
        return {
            "id": f"{trace}-{name}",
            "traceId": trace,
            "name": name,
            "value": value,
            "dataType": data_type,
            "source": "API",
            "timestamp": "2025-11-10T10:00:00Z",
            **extra,
        }

    path = write_jsonl(
        tmp_path / "scores.jsonl",
        [
            sc("t-1", "csat", 4),
            sc("t-1", "grade", 0.25),
            sc("t-2", "csat", 3),
            sc("t-2", "escalated", None, "CATEGORICAL", stringValue="yes"),
            sc("t-3", "user_feedback", 1, "BOOLEAN"),  # a default name, not configured here
        ],
    )
    (file,) = ingest(path, config=config).files

    assert counts(file) == (5, 2, 2, 0, 1)
    assert outcomes(con) == [("t-1", True, 0.25, None, 2), ("t-2", False, None, True, 4)]
    assert quarantine(con)[0][3] == (
        "score 'user_feedback' is not configured as an outcome (add it to "
        "[outcomes.scores] accepted, quality or human_review)"
    )


# ---------------------------------------------------------------------------------------------------------------
# Detection, target per file, re-ingest
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, kind, target",
    [
        (OBS_PAGE, "observations", "calls"),
        (OBS_JSONL, "observations", "calls"),
        (TRACES_PAGE, "traces", "trace_context"),
        (TRACES_JSONL, "traces", "trace_context"),
        (SCORES_PAGE, "scores", "outcomes"),
        (SCORES_JSONL, "scores", "outcomes"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_detection_routes_each_kind_to_its_target(path, kind, target):
    from costlens.ingest.runner import choose_adapter

    src = open_source(path)
    ctx = IngestContext(config=Config())
    chosen = choose_adapter(src, ctx).for_source(src, ctx)  # as the runner resolves it
    assert (chosen.name, chosen.target) == ("langfuse", target)
    assert sniff_kind(src)[0] == kind
    per_file = ADAPTER.for_source(src, ctx)  # the proposed per-file hook: a fresh adapter, target fixed
    assert isinstance(per_file, LangfuseAdapter) and per_file is not ADAPTER and per_file.target == target


def _other_json_files() -> list[Path]:
    files = [p for p in sorted(FIXTURES.rglob("*")) if p.is_file() and LF not in p.parents]
    files += [p for p in sorted(REALDATA.rglob("*.json*")) if p.is_file()] if REALDATA.exists() else []
    return [p for p in files if p.suffix in (".json", ".jsonl", ".gz")]


@pytest.mark.parametrize("path", _other_json_files(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_detection_leaves_other_formats_alone(path):
    src = open_source(path)
    if src.container not in ADAPTER.containers:
        pytest.skip("not a JSON container")
    assert LangfuseAdapter().detect(src, IngestContext(config=Config())) == 0


def test_record_kind_rules():
    assert record_kind({"id": "o", "traceId": "t", "type": "GENERATION", "startTime": "x"}) == "observations"
    assert record_kind({"id": "o", "traceId": "t", "type": "generation", "startTime": "x"}) == "observations"
    assert record_kind({"traceId": "t", "name": "q", "value": 1, "source": "EVAL"}) == "scores"
    assert record_kind({"id": "t", "timestamp": "x", "sessionId": "s", "userId": "u"}) == "traces"
    # a generic log line with an id and a timestamp is not a trace; an OTel span is not an observation
    assert record_kind({"id": "t", "timestamp": "x", "name": "n", "tags": []}) is None
    assert record_kind({"traceId": "t", "spanId": "s", "name": "chat", "startTime": "x"}) is None


@pytest.mark.slow
def test_reingest_loads_nothing(con, ingest):
    first = ingest(*ALL_FIXTURES)
    before = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("calls", "trace_context", "outcomes", "quarantine")
    }

    again = ingest(*ALL_FIXTURES)

    assert [f.status for f in first.files] == ["ingested"] * 6
    assert [(f.status, f.format, f.rows_loaded) for f in again.files] == [("unchanged", "langfuse", 0)] * 6
    assert before == {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
    assert before == {"calls": 15, "trace_context": 5, "outcomes": 5, "quarantine": 14}
    assert sorted(con.execute("SELECT target_table, count(*) FROM ingested_files GROUP BY 1").fetchall()) == [
        ("calls", 2),
        ("outcomes", 2),
        ("trace_context", 2),
    ]


@pytest.mark.slow
def test_forced_format_sets_the_target_from_content(con, ingest):
    ingest(OBS_PAGE, fmt="langfuse")
    ingest(SCORES_PAGE, fmt="langfuse")  # the previous file was observations: the kind is found again

    assert con.execute("SELECT target_table FROM ingested_files ORDER BY run_id").fetchall() == [
        ("calls",),
        ("outcomes",),
    ]
    assert con.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 3


def test_forced_format_on_a_foreign_file_fails_clearly(con, ingest):
    (file,) = ingest(FIXTURES / "otel" / "otlp_small.jsonl", fmt="langfuse").files

    assert file.status == "failed"
    assert "is not a Langfuse observations, traces or scores export" in file.message
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0


# ---------------------------------------------------------------------------------------------------------------
# End to end: observations + traces + scores → the report
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_end_to_end_report_uses_trace_features_and_score_acceptance(con, ingest):
    from costlens.model.report import Period
    from costlens.report.build import build_report

    result = ingest(LF)  # the directory: all six files, each routed by content
    assert sorted((Path(f.path).name, f.target) for f in result.files) == [
        ("observations.jsonl", "calls"),
        ("observations_page.json", "calls"),
        ("scores.jsonl", "outcomes"),
        ("scores_page.json", "outcomes"),
        ("traces.jsonl", "trace_context"),
        ("traces_page.json", "trace_context"),
    ]
    # the observation rows carry no feature unless their own metadata names one (obs-gen-2: triage)
    assert con.execute("SELECT count(*) FROM calls WHERE feature IS NOT NULL").fetchone()[0] == 1

    report = build_report(con, Config(), Period(date(2025, 11, 1), date(2025, 12, 1)))
    features = {u.key: u for u in report.unit_economics}

    assert set(features) == {"support-bot", "deep-research", "summarizer", "triage", "(unattributed)"}
    # support-bot: traces tr-1 (6 calls) and tr-5 (2 calls, one failed); both accepted by their scores
    bot = features["support-bot"]
    assert (bot.calls, bot.tasks, bot.tasks_with_outcome, bot.accepted_tasks, bot.acceptance_rate) == (8, 2, 2, 2, 1.0)
    # deep-research (metadata feature of tr-2): the annotator rejected it
    research = features["deep-research"]
    assert (research.calls, research.tasks, research.accepted_tasks, research.acceptance_rate) == (3, 1, 0, 0.0)
    # computed by hand from list prices (Sonnet 4.5: 50×$3 + 12000×$0.30 + 3000×$3.75 + 400×$15 per Mtok =
    # $0.021; Haiku 4.5: 20×$1 + 2000×$1.25 + 3000×$2 (1h write) + 600×$5 = $0.01152; the failed call: $0)
    assert research.cost_usd == Decimal("0.03252")
    # summarizer (tr-3's "feature:summarizer" tag): two tasks — obs-j1 names its own task doc-77 — and tr-3 was
    # sent to human review
    summarizer = features["summarizer"]
    assert (summarizer.calls, summarizer.tasks, summarizer.human_review_rate) == (2, 2, 1.0)
    # triage: the observation's own feature; o3-mini 300×$1.10 + (176 + 1024 reasoning)×$4.40 per Mtok
    assert features["triage"].cost_usd == Decimal("0.00561")
    # tr-4's trace has no name: unattributed, and its thumbs score (0.3) is below the threshold
    assert (features["(unattributed)"].calls, features["(unattributed)"].accepted_tasks) == (1, 0)
    assert report.totals.calls == 15 and report.totals.accepted_tasks == 2
