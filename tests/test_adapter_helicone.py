"""Helicone request exports → calls: golden rows for CSV, JSON lines and the older @helicone/export CSV (doubly
escaped JSON cells), the prompt-token convention (cache excluded, except rows stored before Helicone's
normalisation), custom-property key spellings, failed calls, quarantine, detection and re-ingest."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlens.config import Config
from costlens.ingest.base import IngestContext
from costlens.ingest.sources import open_source

from conftest import FIXTURES

HELICONE = FIXTURES / "helicone"
REQUESTS_CSV = HELICONE / "requests.csv"
REQUESTS_JSONL = HELICONE / "requests.jsonl"
OLD_CSV = HELICONE / "export_cli_old.csv"

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
    http_status=200,
    finish_reason=None,
    max_tokens=None,
    task_id=None,
    session_id=None,
    trace_id=None,
    feature=None,
    team=None,
    customer=None,
    user_id=None,
    environment=None,
    tags=None,
    reported_cost_usd=None,
)
ID = "5f2c1f0e-8a1b-4c2d-9e3f-0a1b2c3d4e"


def expected_row(**values):
    row = {**DEFAULTS, **values}
    return {column: row[column] for column in COLUMNS}


def calls(con, where: str = "true") -> list[dict]:
    cursor = con.execute(f"SELECT {', '.join(COLUMNS)} FROM calls WHERE {where} ORDER BY source_file, source_row")
    return [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]


def quarantine(con) -> list[tuple]:
    return con.execute(
        "SELECT source_file, source_row, disposition, reason, source_format FROM quarantine ORDER BY source_row"
    ).fetchall()


def _as(expected: dict, **changes) -> dict:
    return {**expected, **changes}


# Hand-computed canonical rows of requests.csv. Helicone's prompt_tokens exclude the cache tokens (its OpenAI
# processor subtracts cached_tokens before storing; Anthropic's input_tokens exclude reads and writes).
GOLDEN_CSV = [
    # OpenAI today: prompt_tokens 464 are already uncached; total 2150 = 464 + 1536 + 150
    expected_row(
        source_row=2,
        call_id=ID + "01",
        ts=datetime(2025, 10, 1, 12, 0, 0, 250000),
        latency_ms=850.0,
        model="gpt-4o-mini-2024-07-18",
        request_model="gpt-4o-mini",
        input_tokens=464,
        cache_read_tokens=1536,
        output_tokens=150,
        finish_reason="stop",
        max_tokens=512,
        task_id="s-1",
        session_id="s-1",
        feature="support-bot",
        user_id="u-1",
        environment="production",
        tags={
            "Helicone-Session-Name": "Support chat",
            "Helicone-Session-Path": "/triage",
            "prompt_version": "v3",
            "score:helpfulness": "0.9",
            "feedback_rating": "true",
        },
        reported_cost_usd=Decimal("0.0002748"),
    ),
    # Anthropic: 200 uncached + 3000 read + 500 written; total_tokens = input + output only
    expected_row(
        source_row=3,
        call_id=ID + "02",
        ts=datetime(2025, 10, 1, 12, 5),
        latency_ms=4500.0,
        provider="anthropic",
        model="claude-sonnet-4-5-20250929",
        request_model="claude-sonnet-4-5",
        input_tokens=200,
        cache_read_tokens=3000,
        cache_write_5m_tokens=500,
        output_tokens=400,
        finish_reason="end_turn",
        max_tokens=1024,
        task_id="doc-42",
        feature="summarizer",
        team="ml",
        customer="globex",
        user_id="u-2",
        reported_cost_usd=Decimal("0.009375000000000001"),
    ),
    # stored before Helicone normalised OpenAI prompts: total 2100 = prompt 2000 + completion 100, so the 2000
    # still include the 1536 cached tokens
    expected_row(
        source_row=4,
        call_id=ID + "03",
        ts=datetime(2024, 11, 20, 8, 0),
        latency_ms=1200.0,
        model="gpt-4o-2024-08-06",
        request_model="gpt-4o",
        input_tokens=464,
        cache_read_tokens=1536,
        output_tokens=100,
        feature="legacy-search",
        reported_cost_usd=Decimal("0.00408"),
    ),
    expected_row(
        source_row=5,
        call_id=ID + "04",
        ts=datetime(2025, 10, 1, 12, 6),
        latency_ms=95.0,
        model="gpt-4o-mini",
        request_model="gpt-4o-mini",
        status="error",
        error_type="rate_limit_exceeded",
        http_status=429,
        task_id="s-1",
        session_id="s-1",
        feature="support-bot",
        user_id="u-1",
        reported_cost_usd=Decimal("0"),
    ),
    expected_row(
        source_row=6,
        call_id=ID + "05",
        ts=datetime(2025, 10, 1, 12, 7),
        latency_ms=30000.0,
        provider="anthropic",
        model="claude-sonnet-4-5",
        request_model="claude-sonnet-4-5",
        status="error",
        error_type="overloaded_error",
        http_status=529,
        feature="summarizer",
    ),
    expected_row(
        source_row=9,
        call_id=ID + "08",
        ts=datetime(2025, 10, 1, 12, 10),
        latency_ms=40.0,
        model="text-embedding-3-small",
        request_model="text-embedding-3-small",
        operation="embeddings",
        input_tokens=42,
        feature="search-index",
        reported_cost_usd=Decimal("0.00000084"),
    ),
    # Azure: the request names the deployment, Helicone's model the answering model
    expected_row(
        source_row=10,
        call_id=ID + "09",
        ts=datetime(2025, 10, 1, 12, 11),
        latency_ms=700.0,
        provider="azure.openai",
        model="gpt-4o-2024-08-06",
        request_model="prod-gpt4o",
        input_tokens=800,
        output_tokens=100,
        feature="classifier",
        environment="staging",
        reported_cost_usd=Decimal("0.003"),
    ),
    # Claude on Bedrock (provider AWS): exclusive like Anthropic even though total = prompt + completion
    expected_row(
        source_row=12,
        call_id=ID + "11",
        ts=datetime(2025, 10, 1, 12, 12),
        latency_ms=900.0,
        provider="aws.bedrock",
        model="anthropic.claude-3-5-haiku-20241022-v1:0",
        request_model="anthropic.claude-3-5-haiku-20241022-v1:0",
        input_tokens=100,
        cache_read_tokens=2000,
        output_tokens=200,
        feature="summarizer",
        reported_cost_usd=Decimal("0.00104"),
    ),
    # provider CUSTOM: from the model name
    expected_row(
        source_row=13,
        call_id=ID + "12",
        ts=datetime(2025, 10, 1, 12, 13),
        latency_ms=500.0,
        provider="anthropic",
        model="claude-haiku-4-5",
        input_tokens=100,
        output_tokens=50,
        feature="chat-ui",
    ),
]

QUARANTINE_CSV = [
    (7, "rejected", "prompt_tokens is not a number: '12a'"),
    (8, "rejected", "request_properties is not a JSON object: '{feature: support-bot'"),
    (11, "rejected", "missing or unparseable timestamp (use ISO 8601 or epoch time)"),
]


@pytest.fixture(scope="module")
def requests_csv():
    """requests.csv ingested once (no --format: detected from the header) for the read-only tests."""
    from costlens import db
    from costlens.ingest.runner import ingest_paths

    connection = db.connect(":memory:")
    result = ingest_paths(connection, [str(REQUESTS_CSV)], Config())
    yield connection, result
    connection.close()


def test_golden_requests_csv(requests_csv):
    con, result = requests_csv
    (file,) = result.files

    assert (file.status, file.format, file.target) == ("ingested", "helicone", "calls"), file.message
    assert (file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined, file.rows_skipped) == (
        12,
        9,
        0,
        3,
        0,
    )
    assert calls(con) == GOLDEN_CSV
    assert quarantine(con) == [
        (str(REQUESTS_CSV), row, disposition, reason, "helicone") for row, disposition, reason in QUARANTINE_CSV
    ]


def test_cost_usd_is_the_text_exactly(requests_csv):
    con, _ = requests_csv
    with REQUESTS_CSV.open(newline="", encoding="utf-8") as handle:
        source = {line: row for line, row in enumerate(csv.DictReader(handle), start=2)}
    loaded = con.execute("SELECT source_row, reported_cost_usd, typeof(reported_cost_usd) FROM calls").fetchall()
    for row, cost, kind in loaded:
        text = source[row]["costUSD"]
        assert kind == "DECIMAL(38,18)"
        assert cost == (Decimal(text) if text else None), row  # "0.009375000000000001", "8.4e-07"


def test_costusd_confirms_the_token_convention(requests_csv):
    """Helicone's own costUSD is the list price of exactly the canonical tokens — and not of the other reading
    of prompt_tokens: the convention is decided by the data, row by row."""
    from genai_prices import Usage, calc_price

    con, _ = requests_csv
    rows = con.execute(
        "SELECT call_id, provider, model, ts, input_tokens, cache_read_tokens, cache_write_5m_tokens, output_tokens, "
        "reported_cost_usd FROM calls WHERE status = 'ok' AND reported_cost_usd IS NOT NULL ORDER BY source_row"
    ).fetchall()
    assert len(rows) == 6
    catalog = {"openai": "openai", "azure.openai": "openai", "anthropic": "anthropic", "aws.bedrock": "aws"}

    def price(provider, model, ts, inp, cr, cw, out):
        return calc_price(
            Usage(input_tokens=inp + cr + cw, cache_read_tokens=cr, cache_write_tokens=cw, output_tokens=out),
            model,
            provider_id=catalog[provider],
            genai_request_timestamp=ts.replace(tzinfo=UTC),
        ).total_price

    for call_id, provider, model, ts, inp, cr, cw, out, reported in rows:
        assert Decimal(price(provider, model, ts, inp, cr, cw, out)).quantize(Decimal("1e-12")) == (
            reported.quantize(Decimal("1e-12"))
        ), call_id
        if call_id == ID + "03":
            # read as already uncached (2000 input), the stored-before-normalisation row would cost more
            assert price(provider, model, ts, inp + cr, cr, cw, out) > reported
        elif cr:
            # read as including the cache, the current rows would have a negative uncached input
            assert inp < cr + cw, call_id


def test_content_is_fingerprinted_never_stored(requests_csv):
    con, _ = requests_csv
    prompt_hash, prefix_hash = con.execute(
        f"SELECT prompt_hash, prefix_hash FROM calls WHERE call_id = '{ID}01'"
    ).fetchone()
    system = {"role": "system", "content": "You are a support agent for Acme. Answer briefly."}
    messages = [system, {"role": "user", "content": "Where is my order?"}]
    compact = json.dumps(messages, separators=(",", ":"))
    assert prompt_hash == hashlib.sha256(f"\x1f\x1f{compact}".encode()).hexdigest()
    assert prefix_hash == hashlib.sha256(f"\x1f\x1f{json.dumps(system, separators=(',', ':'))}".encode()).hexdigest()
    stored = " ".join(str(v) for v in con.execute("SELECT * FROM calls").fetchall())
    assert "Where is my order" not in stored and "Acme" not in stored and "Shipped" not in stored


def test_reingest_same_file_loads_nothing(requests_csv):
    from costlens.ingest.runner import ingest_paths

    con, _ = requests_csv
    before = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    again = ingest_paths(con, [str(REQUESTS_CSV)], Config())
    assert [(f.status, f.format, f.rows_loaded) for f in again.files] == [("unchanged", "helicone", 0)]
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == before == 9
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 3


# ---------------------------------------------------------------------------------------------- JSON, old CSV


def test_golden_requests_jsonl(con, ingest):
    """@helicone/export JSON lines: properties as objects (or a JSON string, line 7), costUSD as numbers, one
    line that is not JSON."""
    (file,) = ingest(REQUESTS_JSONL).files

    assert (file.status, file.format) == ("ingested", "helicone"), file.message
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined, file.rows_skipped) == (8, 7, 1, 0)
    by_id = {row["call_id"]: row for row in GOLDEN_CSV}
    assert calls(con) == [
        _as(by_id[ID + "01"], source_row=1),
        # costUSD as a JSON number: read at its shortest round-trip decimal, as Python's json reads it
        _as(by_id[ID + "02"], source_row=2),
        _as(by_id[ID + "03"], source_row=3),
        _as(by_id[ID + "04"], source_row=4),
        _as(by_id[ID + "05"], source_row=5),
        _as(by_id[ID + "08"], source_row=7),
        _as(by_id[ID + "11"], source_row=8),
    ]
    lines = REQUESTS_JSONL.read_text(encoding="utf-8").splitlines()
    assert Decimal(str(json.loads(lines[1])["costUSD"])) == Decimal("0.009375000000000001")
    assert isinstance(json.loads(lines[6])["request_properties"], str)
    assert quarantine(con) == [(str(REQUESTS_JSONL), 6, "rejected", "not valid JSON", "helicone")]


@pytest.mark.slow
def test_old_export_csv_with_doubly_escaped_json(con, ingest):
    """The older @helicone/export CSV: response_id instead of request_id, latency, cost_usd, and JSON cells
    whose quotes were escaped twice ({""Feature"": ""onboarding""} after CSV unquoting)."""
    with OLD_CSV.open(newline="", encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    assert first["request_properties"].startswith('{""Feature""')

    (file,) = ingest(OLD_CSV).files

    assert (file.status, file.format, file.rows_read, file.rows_loaded) == ("ingested", "helicone", 2, 2)
    assert calls(con) == [
        expected_row(
            source_row=2,
            call_id="9a0b1c2d-0000-4000-8000-000000000001",
            ts=datetime(2025, 9, 30, 10, 0),
            latency_ms=640.0,
            model="gpt-4o-mini",
            request_model="gpt-4o-mini",
            input_tokens=12,
            output_tokens=30,
            feature="onboarding",
            team="growth",
            user_id="u-7",
            reported_cost_usd=Decimal("0.0000198"),
        ),
        expected_row(
            source_row=3,
            call_id="9a0b1c2d-0000-4000-8000-000000000002",
            ts=datetime(2025, 9, 30, 10, 5),
            latency_ms=500.0,
            model="gpt-4o-mini",
            status="error",
            error_type="http_500",
            http_status=500,
            feature="onboarding",
            user_id="u-8",
            reported_cost_usd=Decimal("0"),
        ),
    ]
    assert con.execute("SELECT prompt_hash IS NOT NULL FROM calls ORDER BY source_row").fetchall() == [
        (True,),
        (False,),
    ]


# ----------------------------------------------------------------------------------------------------- traps

HEADER = [
    "request_id",
    "request_created_at",
    "request_user_id",
    "request_properties",
    "request_model",
    "response_model",
    "model",
    "provider",
    "response_status",
    "delay_ms",
    "total_tokens",
    "prompt_tokens",
    "prompt_cache_write_tokens",
    "prompt_cache_read_tokens",
    "completion_tokens",
    "costUSD",
]


def _requests_csv(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "requests.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow(
                {
                    "request_id": f"h{i}",
                    "request_created_at": "2025-10-03 10:00:00",
                    "request_properties": "{}",
                    "model": "gpt-4o",
                    "provider": "OPENAI",
                    "response_status": "200",
                    "prompt_tokens": "10",
                    "completion_tokens": "5",
                    **row,
                }
            )
    return path


# (provider, model, prompt, cache read, cache write, completion, total) → (input, cache read, cache write)
CONVENTION = [
    # current OpenAI rows: prompt already uncached, total counts the cache separately
    ("OPENAI", "gpt-4o", 464, 1536, 0, 150, 2150, (464, 1536, 0)),
    # OpenAI rows stored before the normalisation: total = prompt + completion, the prompt includes the cache
    ("OPENAI", "gpt-4o", 2000, 1536, 0, 150, 2150, (464, 1536, 0)),
    # no total: Helicone's documented convention (cache excluded)
    ("OPENAI", "gpt-4o", 2000, 1536, 0, 150, None, (2000, 1536, 0)),
    # Anthropic: total = input + output, never read as inclusive
    ("ANTHROPIC", "claude-sonnet-4-5", 200, 3000, 500, 400, 600, (200, 3000, 500)),
    # Claude through Vertex: the model family decides
    ("VERTEX", "claude-sonnet-4@20250514", 200, 3000, 0, 400, 600, (200, 3000, 0)),
    # Gemini (inclusive provider) stored as given: total = prompt + completion → cache inside the prompt
    ("GOOGLE", "gemini-2.5-flash", 1000, 400, 0, 300, 1300, (600, 400, 0)),
    # a prompt smaller than its cache cannot include it
    ("OPENAI", "gpt-4o", 100, 1536, 0, 50, 150, (100, 1536, 0)),
    # no cache at all
    ("AZURE", "gpt-4o", 800, 0, 0, 100, 900, (800, 0, 0)),
]


@pytest.mark.slow
def test_prompt_token_convention_table(con, ingest, tmp_path):
    path = _requests_csv(
        tmp_path,
        [
            dict(
                provider=provider,
                model=model,
                prompt_tokens=str(prompt),
                prompt_cache_read_tokens=str(cr),
                prompt_cache_write_tokens=str(cw),
                completion_tokens=str(out),
                total_tokens="" if total is None else str(total),
            )
            for provider, model, prompt, cr, cw, out, total, _ in CONVENTION
        ],
    )
    (file,) = ingest(path).files
    assert file.rows_loaded == len(CONVENTION), quarantine(con)
    assert con.execute(
        "SELECT input_tokens, cache_read_tokens, cache_write_5m_tokens FROM calls ORDER BY source_row"
    ).fetchall() == [expected for *_, expected in CONVENTION]
    assert [p for (p,) in con.execute("SELECT provider FROM calls ORDER BY source_row").fetchall()] == [
        "openai",
        "openai",
        "openai",
        "anthropic",
        "gcp.vertex_ai",
        "google",
        "openai",
        "azure.openai",
    ]


PROPERTY_SPELLINGS = [
    ({"feature": "a"}, "a"),
    ({"Feature": "b"}, "b"),
    ({"helicone-property-feature": "c"}, "c"),
    ({"Helicone-Property-Feature": "d"}, "d"),
    ({"use-case": "e"}, "e"),
    ({"USE_CASE": "f"}, "f"),
    ({"Helicone-Session-Name": "Trip planner"}, "Trip planner"),  # a session name when nothing else names it
    ({"Helicone-Session-Name": "Trip planner", "App": "x", "feature": "g"}, "g"),
    ({}, None),
]


@pytest.mark.slow
def test_custom_property_spellings(con, ingest, tmp_path):
    path = _requests_csv(tmp_path, [dict(request_properties=json.dumps(props)) for props, _ in PROPERTY_SPELLINGS])
    (file,) = ingest(path).files
    assert file.rows_loaded == len(PROPERTY_SPELLINGS), quarantine(con)
    assert con.execute("SELECT feature FROM calls ORDER BY source_row").fetchall() == [
        (feature,) for _, feature in PROPERTY_SPELLINGS
    ]
    assert con.execute("SELECT tags FROM calls WHERE source_row = 9").fetchone()[0] == {
        "Helicone-Session-Name": "Trip planner",
        "App": "x",
    }


@pytest.mark.slow
def test_statuses_and_pending_rows(con, ingest, tmp_path):
    path = _requests_csv(
        tmp_path,
        [
            dict(response_status="200"),
            dict(response_status="400", prompt_tokens="0", completion_tokens="0"),
            dict(response_status="-1", prompt_tokens="", completion_tokens=""),  # no response received
            dict(response_status="", prompt_tokens="", completion_tokens=""),  # still pending when exported
            dict(response_status="OK"),
            dict(costUSD="0.5 USD"),
            dict(prompt_cache_read_tokens="many"),
        ],
    )
    (file,) = ingest(path).files
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined, file.rows_skipped) == (7, 3, 3, 1)
    assert con.execute(
        "SELECT source_row, status, error_type, http_status FROM calls ORDER BY source_row"
    ).fetchall() == [(2, "ok", None, 200), (3, "error", "http_400", 400), (4, "error", "no_response", None)]
    assert [row[1:4] for row in quarantine(con)] == [
        (5, "skipped", "no response recorded (the request was still pending when exported)"),
        (6, "rejected", "response_status is not an HTTP status: 'OK'"),
        (7, "rejected", "costUSD is not a number: '0.5 USD'"),
        (8, "rejected", "prompt_cache_read_tokens is not a number: 'many'"),
    ]


# ------------------------------------------------------------------------------------------------ detection


def _runner_choice(path: Path) -> str:
    from costlens.ingest.runner import choose_adapter

    return choose_adapter(open_source(path), IngestContext(config=Config())).name


MINE = [REQUESTS_CSV, REQUESTS_JSONL, OLD_CSV]


@pytest.mark.parametrize("path", MINE, ids=[p.name for p in MINE])
def test_runner_routes_fixture_to_helicone(path):
    assert _runner_choice(path) == "helicone"


def test_helicone_claims_no_other_fixture():
    from costlens.ingest.helicone import ADAPTER

    ctx = IngestContext(config=Config())
    others = [
        p
        for p in sorted(FIXTURES.rglob("*"))
        if p.is_file() and HELICONE not in p.parents and p.suffix not in {".md", ".toml", ".py"}
    ]
    assert any("litellm" in str(p) for p in others)
    claimed = []
    for path in others:
        src = open_source(path)
        if src.container in ADAPTER.containers and ADAPTER.detect(src, ctx):
            claimed.append(path.name)
    assert claimed == []


def test_detection_needs_helicone_columns():
    from costlens.ingest.helicone import ADAPTER
    from costlens.ingest.sources import Source

    ctx = IngestContext(config=Config())
    src = Source(path=Path("x.csv"), size=0, mtime_ns=0, container="csv")
    src.header = ["request_id", "request_created_at", "request_properties", "prompt_tokens", "costUSD"]
    assert ADAPTER.detect(src, ctx) == 90
    src.header = [
        "response_id",
        "response_created_at",
        "response_status",
        "request_created_at",
        "request_properties",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "latency",
        "cost_usd",
    ]
    assert ADAPTER.detect(src, ctx) == 90
    src.header = ["request_id", "call_type", "spend", "startTime", "prompt_tokens"]  # LiteLLM
    assert ADAPTER.detect(src, ctx) == 0
    src.header = ["request_id", "request_created_at", "model"]  # no tokens or cost
    assert ADAPTER.detect(src, ctx) == 0
