"""OpenAI app-logged responses: golden canonical rows, quarantine, re-ingest, detection."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from costlens.config import Config
from costlens.ingest.base import IngestContext
from costlens.ingest.sources import file_sha256, open_source

from conftest import FIXTURES, realdata

APP_LOG = FIXTURES / "openai" / "app_log.jsonl"
ARRAY = FIXTURES / "openai" / "responses.json"
MIXED = FIXTURES / "openai" / "mixed_providers.jsonl"

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


def expected_row(**values):
    row = {**DEFAULTS, **values}
    return {column: row[column] for column in COLUMNS}


def calls(con, where: str = "true") -> list[dict]:
    cursor = con.execute(f"SELECT {', '.join(COLUMNS)} FROM calls WHERE {where} ORDER BY source_file, source_row")
    return [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]


def lineage_hash(path: Path, row: int, prefix: str = "openai", occurrence: int = 1) -> str:
    """The id of a line without an id of its own: its content (minified JSON) and its occurrence among
    identical lines of the file — never the file itself (README "Identity")."""
    import duckdb

    line = [text for text in path.read_text(encoding="utf-8").splitlines() if text.strip()][row - 1]
    content = duckdb.connect().execute("SELECT CAST(json(?) AS VARCHAR)", [line]).fetchone()[0]
    return f"{prefix}:" + hashlib.sha256(f"{content}\x1f{occurrence}".encode()).hexdigest()[:32]


def quarantine(con) -> list[tuple]:
    return con.execute(
        "SELECT source_file, source_row, disposition, reason, source_format FROM quarantine ORDER BY source_row"
    ).fetchall()


GOLDEN = [
    expected_row(
        source_row=1,
        call_id="chatcmpl-OA1",
        ts=datetime(2025, 10, 1, 12, 0, 0, 250000),
        latency_ms=850.0,
        model="gpt-4o-2024-08-06",
        request_model="gpt-4o",
        input_tokens=464,
        cache_read_tokens=1536,
        output_tokens=150,
        finish_reason="stop",
        max_tokens=512,
        task_id="t-100",
        session_id="s-1",
        feature="support-bot",
        team="cx",
        customer="acme",
        user_id="u-1",
        environment="production",
        tags={"prompt_version": "v3"},
    ),
    expected_row(
        source_row=2,
        call_id=lineage_hash(APP_LOG, 2),
        ts=datetime(2025, 10, 1, 12, 0, 5),
        latency_ms=120.0,
        model="gpt-4o",
        request_model="gpt-4o",
        status="error",
        error_type="rate_limit_exceeded",
        http_status=429,
        max_tokens=512,
        task_id="t-100",
        session_id="s-1",
        feature="support-bot",
        team="cx",
    ),
    expected_row(
        source_row=3,
        call_id="chatcmpl-OA3",
        ts=datetime(2025, 10, 1, 13, 0),
        model="o3-mini-2025-01-31",
        service_tier="flex",
        input_tokens=300,
        output_tokens=1200,
        reasoning_tokens=1024,
        finish_reason="length",
    ),
    expected_row(
        source_row=4,
        call_id="resp_OA4",
        ts=datetime(2025, 10, 1, 14, 0),
        latency_ms=3000.0,
        model="gpt-5-mini-2025-08-07",
        input_tokens=904,
        cache_read_tokens=4096,
        output_tokens=900,
        reasoning_tokens=512,
        finish_reason="completed",
        max_tokens=2000,
        feature="summarizer",
    ),
    expected_row(
        source_row=9,
        call_id="chatcmpl-OA8",
        ts=datetime(2025, 10, 1, 16, 0, 2),
        latency_ms=2100.0,
        model="gpt-4o-mini-2024-07-18",
        request_model="gpt-4o-mini",
        input_tokens=800,
        output_tokens=240,
        finish_reason="stop",
        task_id="t-200",
        feature="chat-ui",
    ),
    expected_row(
        source_row=11,
        call_id="chatcmpl-OA11",
        ts=datetime(2025, 10, 1, 17, 0),
        provider="azure.openai",
        model="gpt-4.1-2025-04-14",
        request_model="gpt-4.1",
        service_tier="batch",
        is_batch=True,
        input_tokens=1000,
        output_tokens=50,
        finish_reason="stop",
        max_tokens=100,
        feature="nightly-eval",
        team="ml",
    ),
    expected_row(
        source_row=12,
        call_id="chatcmpl-OA12",
        ts=datetime(2025, 10, 1, 18, 0),
        model="gpt-4o-mini-2024-07-18",
        service_tier="batch",
        is_batch=True,
        input_tokens=400,
        output_tokens=100,
        http_status=200,
        finish_reason="stop",
        task_id="doc-42",
    ),
]

GOLDEN_QUARANTINE = [
    (5, "rejected", "not valid JSON"),
    (6, "rejected", "usage.prompt_tokens is not a number"),
    (7, "skipped", "streaming chunk without usage (only the final chunk carries it)"),
    (10, "rejected", "response has no usage object, so its tokens are unknown"),
    (13, "skipped", "batch request failed before reaching a model (not billed)"),
    (14, "rejected", "cached_tokens exceed usage.prompt_tokens, which must include them"),
    (
        15,
        "rejected",
        'no OpenAI response (expected a chat.completion / response object, or a wrapper with "response" or "error")',
    ),
]


def test_golden_app_log(con, ingest):
    result = ingest(APP_LOG)

    (file,) = result.files
    assert (file.status, file.format, file.target) == ("ingested", "openai", "calls"), file.message
    # every line accounted for: 15 read = 7 loaded + 1 streaming duplicate + 5 rejected + 2 skipped
    assert (file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined, file.rows_skipped) == (
        15,
        7,
        1,
        5,
        2,
    )
    assert calls(con) == GOLDEN
    assert quarantine(con) == [
        (str(APP_LOG), row, disposition, reason, "openai") for row, disposition, reason in GOLDEN_QUARANTINE
    ]


def test_lineage_and_fingerprints(con, ingest):
    ingest(APP_LOG)
    rows = con.execute(
        "SELECT source_row, source_format, source_file, source_sha256, prompt_hash, prefix_hash FROM calls "
        "ORDER BY source_row"
    ).fetchall()
    sha = file_sha256(APP_LOG)
    assert {(r[1], r[2], r[3]) for r in rows} == {("openai", str(APP_LOG), sha)}
    by_row = {r[0]: r for r in rows}
    # The request content of row 1 is fingerprinted (full prompt, and the system prefix), never stored.
    assert len(by_row[1][4]) == 64 and len(by_row[1][5]) == 64 and by_row[1][4] != by_row[1][5]
    assert by_row[3][4] is None and by_row[3][5] is None
    stored = " ".join(str(v) for v in con.execute("SELECT * FROM calls").fetchall())
    assert "Where is my order" not in stored and "support agent" not in stored


def test_reingest_same_file_loads_nothing(con, ingest):
    ingest(APP_LOG)
    before = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]

    again = ingest(APP_LOG)

    assert [(f.status, f.format, f.rows_loaded) for f in again.files] == [("unchanged", "openai", 0)]
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == before == 7
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == quarantined


@pytest.mark.slow
def test_same_calls_in_another_file_are_duplicates(con, ingest, tmp_path):
    ingest(APP_LOG)
    copy = tmp_path / "copy.jsonl"
    copy.write_text(APP_LOG.read_text() + "\n", encoding="utf-8")  # different bytes, same calls

    (file,) = ingest(copy, fmt="openai").files

    # calls with a response id are recognised, and so are failures without one: by their content
    assert (file.status, file.rows_loaded, file.rows_duplicate) == ("ingested", 0, 8)
    assert con.execute("SELECT count(*) FROM calls WHERE status = 'ok'").fetchone()[0] == 6


def test_json_array_of_bare_responses(con, ingest):
    (file,) = ingest(ARRAY).files
    assert (file.status, file.format, file.rows_loaded) == ("ingested", "openai", 2), file.message
    assert calls(con) == [
        expected_row(
            source_row=1,
            call_id="chatcmpl-ARR1",
            ts=datetime(2025, 10, 2, 12, 0),
            model="gpt-4o-mini-2024-07-18",
            input_tokens=176,
            cache_read_tokens=1024,
            output_tokens=60,
            finish_reason="stop",
        ),
        expected_row(
            source_row=2,
            call_id="resp_ARR2",
            ts=datetime(2025, 10, 2, 12, 1),
            model="gpt-4.1-mini",
            input_tokens=700,
            output_tokens=256,
            finish_reason="max_output_tokens",
        ),
    ]


def _one_line(tmp_path, record) -> Path:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("usage", "reason"),
    [
        ({"prompt_tokens": 10, "completion_tokens": -5}, "usage.completion_tokens is negative: -5"),
        ({"prompt_tokens": -5, "completion_tokens": 20}, "usage.prompt_tokens is negative: -5"),
        (
            {"prompt_tokens": -5, "completion_tokens": 20, "prompt_tokens_details": {"cached_tokens": 3}},
            "usage.prompt_tokens is negative: -5",
        ),
    ],
    ids=["negative-completion", "negative-prompt", "negative-prompt-with-cache"],
)
def test_negative_tokens_are_rejected_by_name(con, ingest, tmp_path, usage, reason):
    path = _one_line(
        tmp_path,
        {"id": "chatcmpl-neg", "object": "chat.completion", "created": 1759320000, "model": "gpt-4o", "usage": usage},
    )
    (file,) = ingest(path).files
    assert (file.rows_loaded, file.rows_quarantined) == (0, 1)
    assert quarantine(con)[0][3] == reason  # the field is named (issue 14), not the runner's generic check


def test_embeddings_and_wrapper_variants(con, ingest, tmp_path):
    path = tmp_path / "variants.jsonl"
    lines = [
        # embeddings: prompt tokens only
        {
            "timestamp": "2025-10-05T10:00:00+02:00",
            "metadata": {"feature": "search-index"},
            "request": {"model": "text-embedding-3-small"},
            "response": {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}],
                "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": 42, "total_tokens": 42},
            },
        },
        # error body as the SDK raises it, status in the outer object, Responses API request limit
        {
            "timestamp": "2025-10-05T10:01:00Z",
            "request": {"model": "gpt-4.1", "max_output_tokens": 300},
            "response": None,
            "error": {"status": 400, "error": {"type": "invalid_request_error", "code": "context_length_exceeded"}},
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    (file,) = ingest(path).files

    assert file.rows_loaded == 2, quarantine(con)
    assert calls(con) == [
        expected_row(
            source_row=1,
            call_id=lineage_hash(path, 1),
            ts=datetime(2025, 10, 5, 8, 0),
            model="text-embedding-3-small",
            request_model="text-embedding-3-small",
            operation="embeddings",
            input_tokens=42,
            feature="search-index",
        ),
        expected_row(
            source_row=2,
            call_id=lineage_hash(path, 2),
            ts=datetime(2025, 10, 5, 10, 1),
            model="gpt-4.1",
            request_model="gpt-4.1",
            status="error",
            error_type="context_length_exceeded",
            http_status=400,
            max_tokens=300,
        ),
    ]


@pytest.mark.slow
def test_mixed_provider_log_is_read_whole_by_either_adapter(con, ingest, tmp_path):
    expected = [
        ("chatcmpl-M1", "openai", "gpt-4o-mini-2024-07-18", "ok", 488, 512, 20),
        ("msg_M2", "anthropic", "claude-haiku-4-5-20251001", "ok", 200, 800, 30),
        (lineage_hash(MIXED, 3, "anthropic"), "anthropic", "claude-haiku-4-5", "error", 0, 0, 0),
        (lineage_hash(MIXED, 4, "openai"), "openai", "gpt-4o-mini", "error", 0, 0, 0),
    ]
    query = (
        "SELECT call_id, provider, model, status, input_tokens, cache_read_tokens, output_tokens FROM calls "
        "ORDER BY source_row"
    )
    for fmt in ("openai", "anthropic"):
        con.execute("DELETE FROM calls; DELETE FROM ingested_files")
        (file,) = ingest(MIXED, fmt=fmt).files
        assert (file.status, file.rows_loaded) == ("ingested", 4), file.message
        assert con.execute(query).fetchall() == expected


# --- detection -----------------------------------------------------------------------------------------------


def _scores(path: Path) -> dict[str, int]:
    from costlens.ingest import anthropic_usage, openai_usage

    src = open_source(path)
    ctx = IngestContext(config=Config())
    return {"openai": openai_usage.ADAPTER.detect(src, ctx), "anthropic": anthropic_usage.ADAPTER.detect(src, ctx)}


@pytest.mark.parametrize("path", [APP_LOG, ARRAY], ids=["app_log", "json_array"])
def test_detect_claims_openai_fixtures(path):
    scores = _scores(path)
    assert scores["openai"] >= 80 and scores["anthropic"] == 0


def test_detect_ignores_other_formats(tmp_path):
    assert _scores(FIXTURES / "otel" / "otlp_small.jsonl") == {"openai": 0, "anthropic": 0}
    litellm = tmp_path / "spend.jsonl"
    litellm.write_text(
        json.dumps(
            {
                "request_id": "r1",
                "call_type": "acompletion",
                "spend": 0.01,
                "model": "gpt-4o",
                "response": {"object": "chat.completion", "usage": {"prompt_tokens": 1}},
            }
        )
        + "\n"
    )
    assert _scores(litellm)["openai"] == 0


def test_detect_failure_only_log_is_a_weak_guess(tmp_path):
    path = _one_line(
        tmp_path,
        {
            "timestamp": "2025-10-01T00:00:00Z",
            "request": {"model": "gpt-4o"},
            "response": None,
            "error": {"type": "timeout"},
        },
    )
    assert 0 < _scores(path)["openai"] < 50 and _scores(path)["anthropic"] == 0


def test_detect_never_claims_claude_code_logs():
    assert _scores(realdata("claude-code-logs/crud.jsonl")) == {"openai": 0, "anthropic": 0}


def _runner_choice(path: Path) -> str:
    from costlens.ingest.runner import choose_adapter

    return choose_adapter(open_source(path), IngestContext(config=Config())).name


@pytest.mark.parametrize("path", [APP_LOG, ARRAY], ids=["app_log", "json_array"])
def test_runner_routes_fixture_to_openai(path):
    assert _runner_choice(path) == "openai"


@pytest.mark.slow
def test_runner_reads_mixed_log_without_format(con, ingest):
    assert _runner_choice(MIXED) in {"openai", "anthropic"}  # a tie: either adapter reads both providers
    (file,) = ingest(MIXED).files
    assert (file.rows_read, file.rows_loaded) == (4, 4)
    assert con.execute("SELECT provider, count(*) FROM calls GROUP BY 1 ORDER BY 1").fetchall() == [
        ("anthropic", 2),
        ("openai", 2),
    ]
