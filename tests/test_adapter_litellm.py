"""LiteLLM proxy exports (LiteLLM_SpendLogs, LiteLLM_ErrorLogs) → calls: golden rows for CSV, JSON, an API page
and Parquet, every trap (metadata as a JSON string, spend as float text, provider-prefixed models, cache usage
only in metadata, response-cache hits), quarantine, detection and re-ingest."""

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

LITELLM = FIXTURES / "litellm"
SPEND_CSV = LITELLM / "spend_logs.csv"
SPEND_JSON = LITELLM / "spend_logs.json"
SPEND_PAGE = LITELLM / "spend_logs_page.json"
ERRORS_CSV = LITELLM / "error_logs.csv"
ERRORS_JSONL = LITELLM / "error_logs.jsonl"

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
KEY_TAGS = {"api_key_alias": "support-bot-key", "litellm_user": "u-admin"}


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


def csv_rows(path: Path) -> dict[int, dict]:
    """The fixture read independently with Python's csv module, keyed by line number (header = line 1)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {line: row for line, row in enumerate(csv.DictReader(handle), start=2)}


# Hand-computed canonical rows of spend_logs.csv (see the comments in the fixture generator's rows):
# prompt_tokens INCLUDE cache reads and writes; the split comes from metadata.additional_usage_values.
GOLDEN_CSV = [
    # Anthropic via LiteLLM: prompt 3700 = 200 uncached + 3000 read + 500 written (300 for 5 min, 200 for 1 h)
    expected_row(
        source_row=3,
        call_id="msg_01LL2",
        ts=datetime(2025, 10, 1, 12, 5),
        latency_ms=4500.0,
        provider="anthropic",
        model="claude-sonnet-4-5-20250929",
        request_model="claude-sonnet",
        input_tokens=200,
        cache_read_tokens=3000,
        cache_write_5m_tokens=300,
        cache_write_1h_tokens=200,
        output_tokens=400,
        task_id="doc-42",
        session_id="sess-2",
        trace_id="sess-2",
        feature="summarizer",
        team="team-ml",
        environment="staging",
        tags={"nightly": "", "api_key_alias": "batch-key", "litellm_user": "u-admin"},
        reported_cost_usd=Decimal("0.009825000000000001"),
    ),
    # a failed request (status failure): error class and HTTP code from metadata.error_information
    expected_row(
        source_row=4,
        call_id="6f1c2d9e-0a4b-4c55-9d3e-7a1b2c3d4e5f",
        ts=datetime(2025, 10, 1, 12, 6),
        latency_ms=120.0,
        model="gpt-4o",
        request_model="gpt-4o",
        status="error",
        error_type="RateLimitError",
        http_status=429,
        task_id="sess-1",
        session_id="sess-1",
        trace_id="sess-1",
        feature="support-bot",
        team="cx",
        customer="acme",
        user_id="acme",
        tags=KEY_TAGS,
        reported_cost_usd=Decimal("0"),
    ),
    # embeddings with no custom_llm_provider: the provider comes from api_base; spend written as 2e-07
    expected_row(
        source_row=8,
        call_id="emb-LL8",
        ts=datetime(2025, 10, 1, 12, 13),
        latency_ms=80.0,
        model="text-embedding-3-small",
        request_model="embeddings",
        operation="embeddings",
        input_tokens=10,
        feature="search-index",
        team="cx",
        tags=KEY_TAGS,
        reported_cost_usd=Decimal("0.0000002"),
    ),
    # Azure: model "azure/gpt-4.1-mini" loses its prefix; feature=, team:, customer:, env: tags
    expected_row(
        source_row=9,
        call_id="chatcmpl-LL9",
        ts=datetime(2025, 10, 1, 12, 14),
        latency_ms=2000.0,
        provider="azure.openai",
        model="gpt-4.1-mini",
        request_model="gpt-4.1-mini",
        input_tokens=800,
        output_tokens=100,
        feature="classifier",
        team="ml-platform",
        customer="globex",
        user_id="user-9",
        environment="production",
        tags=KEY_TAGS,
        reported_cost_usd=Decimal("0.00048"),
    ),
    # Vertex AI Gemini: 1000 prompt tokens include 400 cached; 120 of the 300 output tokens are reasoning
    expected_row(
        source_row=10,
        call_id="vtx-LL10",
        ts=datetime(2025, 10, 1, 12, 15),
        latency_ms=3000.0,
        provider="gcp.vertex_ai",
        model="gemini-2.5-flash",
        request_model="gemini-flash",
        input_tokens=600,
        cache_read_tokens=400,
        output_tokens=300,
        reasoning_tokens=120,
        team="cx",
        tags=KEY_TAGS,
        reported_cost_usd=Decimal("0.000942"),
    ),
    # an older LiteLLM that added only the cache reads into prompt_tokens: 3200 = 200 + 3000 (+ 500 written)
    expected_row(
        source_row=13,
        call_id="msg_01LL13",
        ts=datetime(2025, 10, 1, 12, 18),
        latency_ms=5000.0,
        provider="anthropic",
        model="claude-sonnet-4-5-20250929",
        request_model="claude-sonnet",
        input_tokens=200,
        cache_read_tokens=3000,
        cache_write_5m_tokens=500,
        output_tokens=400,
        team="cx",
        tags=KEY_TAGS,
        reported_cost_usd=Decimal("0.009375"),
    ),
    # row 2 and its copy on row 14 (an overlapping export): one call, the last copy kept.
    # OpenAI: prompt 2000 includes 1536 cached tokens → 464 uncached.
    expected_row(
        source_row=14,
        call_id="chatcmpl-LL1",
        ts=datetime(2025, 10, 1, 12, 0, 0, 250000),
        latency_ms=850.0,
        model="gpt-4o-2024-08-06",
        request_model="gpt-4o",
        input_tokens=464,
        cache_read_tokens=1536,
        output_tokens=150,
        finish_reason="stop",
        task_id="sess-1",
        session_id="sess-1",
        trace_id="sess-1",
        feature="support-bot",
        team="cx",
        customer="acme",
        user_id="acme",
        tags={
            "User-Agent": "OpenAI/Python 1.99.1",
            "prod": "",
            "prompt_version": "v3",
            **KEY_TAGS,
            "organization_id": "org-1",
        },
        reported_cost_usd=Decimal("0.00458"),
    ),
    # a finished Batch API job's usage (call_type aretrieve_batch)
    expected_row(
        source_row=15,
        call_id="b0e1c2a3f4d5e6f708192a3b4c5d6e7f",
        ts=datetime(2025, 10, 1, 13, 0),
        latency_ms=1000.0,
        model="gpt-4o-mini",
        request_model="gpt-4o-mini",
        operation="batch",
        service_tier="batch",
        is_batch=True,
        input_tokens=5000,
        output_tokens=1000,
        feature="nightly-eval",
        team="cx",
        tags=KEY_TAGS,
        reported_cost_usd=Decimal("0.000675"),
    ),
]

QUARANTINE_CSV = [
    (5, "skipped", "LiteLLM response-cache hit: served from the proxy cache, the provider was not called (not billed)"),
    (6, "rejected", "spend is not a number: '0.0012 USD'"),
    (
        7,
        "rejected",
        "metadata is not valid JSON, so its cache usage (additional_usage_values) cannot be read: "
        "'{'status': 'success'}'",
    ),
    (11, "skipped", "not a model call (call_type acreate_file, no tokens or spend)"),
    (12, "rejected", "cache read tokens (500) exceed prompt_tokens (100), which must include them"),
]


@pytest.fixture(scope="module")
def spend_csv():
    """spend_logs.csv ingested once (no --format: detected from the header) for the read-only tests."""
    from costlens import db
    from costlens.ingest.runner import ingest_paths

    connection = db.connect(":memory:")
    result = ingest_paths(connection, [str(SPEND_CSV)], Config())
    yield connection, result
    connection.close()


@pytest.mark.slow
def test_golden_spend_logs_csv(spend_csv):
    con, result = spend_csv
    (file,) = result.files

    assert (file.status, file.format, file.target) == ("ingested", "litellm", "calls"), file.message
    # 14 rows = 8 loaded + 1 duplicate + 3 rejected + 2 skipped
    assert (file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined, file.rows_skipped) == (
        14,
        8,
        1,
        3,
        2,
    )
    assert calls(con) == GOLDEN_CSV
    assert quarantine(con) == [
        (str(SPEND_CSV), row, disposition, reason, "litellm") for row, disposition, reason in QUARANTINE_CSV
    ]


def test_csv_money_is_the_spend_text_exactly(spend_csv):
    con, _ = spend_csv
    source = csv_rows(SPEND_CSV)
    loaded = con.execute("SELECT source_row, reported_cost_usd, typeof(reported_cost_usd) FROM calls").fetchall()
    assert loaded
    for row, cost, kind in loaded:
        assert kind == "DECIMAL(38,18)"
        assert cost == Decimal(source[row]["spend"]), row  # "0.009825000000000001", "2e-07": no float rounding
    total = con.execute("SELECT sum(reported_cost_usd) FROM calls").fetchone()[0]
    assert total == sum(Decimal(source[row]["spend"]) for row, _, _ in loaded)


def test_csv_tokens_add_up_to_litellm_prompt_tokens(spend_csv):
    """Independently of the golden table: for every loaded row the canonical input kinds add up to LiteLLM's
    prompt_tokens (which include cache reads and writes), except the old-version row whose prompt_tokens
    carry only the reads."""
    con, _ = spend_csv
    source = csv_rows(SPEND_CSV)
    rows = con.execute(
        "SELECT source_row, input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens, "
        "cache_write_5m_tokens + cache_write_1h_tokens, output_tokens, status FROM calls"
    ).fetchall()
    for row, all_input, writes, output, _status in rows:
        prompt = int(source[row]["prompt_tokens"])
        assert output == int(source[row]["completion_tokens"]), row
        if row == 13:
            assert all_input == prompt + writes
        else:
            assert all_input == prompt, row


def test_litellm_spend_matches_genai_prices_for_the_canonical_tokens(spend_csv):
    """The fixture's spend values are the providers' list prices for these requests: pricing the canonical
    tokens with genai-prices gives them back, so the cache split (and the 1-hour writes) are right."""
    from genai_prices import Usage, calc_price

    con, _ = spend_csv
    rows = con.execute(
        "SELECT call_id, provider, model, ts, input_tokens, cache_read_tokens, cache_write_5m_tokens, "
        "cache_write_1h_tokens, output_tokens, reported_cost_usd FROM calls "
        "WHERE call_id IN ('chatcmpl-LL1', 'msg_01LL2', 'vtx-LL10', 'msg_01LL13', 'chatcmpl-LL9', 'emb-LL8')"
    ).fetchall()
    assert len(rows) == 6
    catalog_provider = {
        "openai": "openai",
        "anthropic": "anthropic",
        "gcp.vertex_ai": "google",
        "azure.openai": "openai",
    }
    for call_id, provider, model, ts, inp, cr, cw5, cw1h, out, reported in rows:
        price = calc_price(
            Usage(
                input_tokens=inp + cr + cw5 + cw1h,
                cache_read_tokens=cr,
                cache_write_tokens=cw5 + cw1h,
                cache_write_1h_tokens=cw1h,
                output_tokens=out,
            ),
            model,
            provider_id=catalog_provider[provider],
            genai_request_timestamp=ts.replace(tzinfo=UTC),
        ).total_price
        assert Decimal(price).quantize(Decimal("1e-12")) == reported.quantize(Decimal("1e-12")), call_id


def test_content_is_fingerprinted_never_stored(spend_csv):
    con, _ = spend_csv
    prompt_hash, prefix_hash = con.execute(
        "SELECT prompt_hash, prefix_hash FROM calls WHERE call_id = 'chatcmpl-LL1'"
    ).fetchone()
    messages = [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "Where is my order?"},
    ]
    compact = json.dumps(messages, separators=(",", ":"))
    assert prompt_hash == hashlib.sha256(f"\x1f\x1f{compact}".encode()).hexdigest()
    system = json.dumps(messages[0], separators=(",", ":"))
    assert prefix_hash == hashlib.sha256(f"\x1f\x1f{system}".encode()).hexdigest()
    stored = " ".join(str(v) for v in con.execute("SELECT * FROM calls").fetchall())
    assert "Where is my order" not in stored and "support agent" not in stored


@pytest.mark.slow
def test_prompt_fingerprints_match_the_openai_app_log_adapter(con, ingest, tmp_path):
    """The same request seen through the proxy and in the application's own log has the same fingerprints."""
    messages = json.loads(csv_rows(SPEND_CSV)[2]["messages"])
    app_log = tmp_path / "app.jsonl"
    app_log.write_text(
        json.dumps(
            {
                "timestamp": "2025-10-01T12:00:00Z",
                "request": {"model": "gpt-4o", "messages": messages},
                "response": {
                    "id": "chatcmpl-APP",
                    "object": "chat.completion",
                    "created": 1759320000,
                    "model": "gpt-4o",
                    "choices": [{"index": 0, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 5},
                },
            }
        )
        + "\n",
        encoding="utf-8",
    )
    ingest(SPEND_CSV)
    ingest(app_log, fmt="openai")
    hashes = con.execute(
        "SELECT call_id, prompt_hash, prefix_hash FROM calls "
        "WHERE call_id IN ('chatcmpl-LL1', 'chatcmpl-APP') ORDER BY call_id"
    ).fetchall()
    assert hashes[0][1:] == hashes[1][1:] and hashes[0][1] is not None


# --------------------------------------------------------------------------------------------- JSON, page


def _as(expected: dict, **changes) -> dict:
    return {**expected, **changes}


@pytest.mark.slow
def test_golden_spend_logs_json(con, ingest):
    """A JSON array dump: metadata and request_tags as JSON values, or as JSON strings (row 2); spend as a
    JSON number; one element that is not an object; one prompt_tokens that is not a number."""
    (file,) = ingest(SPEND_JSON).files

    assert (file.status, file.format) == ("ingested", "litellm"), file.message
    assert (file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined, file.rows_skipped) == (
        6,
        3,
        0,
        2,
        1,
    )
    by_id = {row["call_id"]: row for row in GOLDEN_CSV}
    assert calls(con) == [
        _as(by_id["chatcmpl-LL1"], source_row=1),
        # spend 0.009825000000000001 is the same binary float as 0.009825: a JSON number reads as its
        # shortest decimal (Python's json reads the same value)
        _as(by_id["msg_01LL2"], source_row=2, reported_cost_usd=Decimal("0.009825")),
        _as(by_id["emb-LL8"], source_row=4),
    ]
    doc = json.loads(SPEND_JSON.read_text(encoding="utf-8"))
    assert Decimal(str(doc[1]["spend"])) == Decimal("0.009825")
    assert isinstance(doc[1]["metadata"], str) and isinstance(doc[1]["request_tags"], str)
    assert quarantine(con) == [
        (
            str(SPEND_JSON),
            3,
            "skipped",
            "LiteLLM response-cache hit: served from the proxy cache, the provider was not called (not billed)",
            "litellm",
        ),
        (str(SPEND_JSON), 5, "rejected", "not a JSON object", "litellm"),
        (str(SPEND_JSON), 6, "rejected", "prompt_tokens is not a number: 'one thousand'", "litellm"),
    ]


@pytest.mark.slow
def test_spend_logs_api_page(con, ingest):
    (file,) = ingest(SPEND_PAGE).files
    assert (file.status, file.format, file.rows_read, file.rows_loaded) == ("ingested", "litellm", 2, 2)
    by_id = {row["call_id"]: row for row in GOLDEN_CSV}
    assert calls(con) == [
        _as(by_id["chatcmpl-LL9"], source_row=1),
        _as(by_id["b0e1c2a3f4d5e6f708192a3b4c5d6e7f"], source_row=2),
    ]


@pytest.mark.slow
def test_parquet_export_reads_like_the_csv(con, ingest, tmp_path):
    import duckdb

    parquet = tmp_path / "spend_logs.parquet"
    writer = duckdb.connect()  # its own connection: the module-level default one is shared by every test
    writer.execute(f"COPY (SELECT * FROM read_csv('{SPEND_CSV}', all_varchar = true)) TO '{parquet}' (FORMAT parquet)")
    writer.close()
    (file,) = ingest(parquet).files
    assert (file.status, file.format, file.rows_read, file.rows_loaded) == ("ingested", "litellm", 14, 8)
    # Parquet rows are numbered from 1, CSV lines from 2 (after the header)
    assert calls(con) == [_as(row, source_row=row["source_row"] - 1) for row in GOLDEN_CSV]


# ------------------------------------------------------------------------------------------------- ErrorLogs

GOLDEN_ERRORS = [
    expected_row(
        source_row=2,
        call_id="0b8e6a44-5c8e-4a58-9d55-1f2a3b4c5d6e",
        ts=datetime(2025, 10, 2, 9, 0),
        latency_ms=30000.0,
        provider="anthropic",
        model="claude-sonnet-4-5-20250929",
        request_model="claude-sonnet",
        status="error",
        error_type="Timeout",
        http_status=408,
        max_tokens=1024,
    ),
    expected_row(
        source_row=3,
        call_id="1c9f7b55-6d9f-4b69-8e66-2a3b4c5d6e7f",
        ts=datetime(2025, 10, 2, 9, 1),
        latency_ms=400.0,
        provider="azure.openai",
        model="gpt-4.1-mini",
        request_model="gpt-4.1-mini",
        status="error",
        error_type="ContextWindowExceededError",
        http_status=400,
        max_tokens=256,
    ),
]


@pytest.mark.slow
def test_golden_error_logs_csv(con, ingest):
    (file,) = ingest(ERRORS_CSV).files
    assert (file.status, file.format) == ("ingested", "litellm"), file.message
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (3, 2, 1)
    assert calls(con) == GOLDEN_ERRORS
    assert quarantine(con) == [
        (str(ERRORS_CSV), 4, "rejected", "missing or unparseable timestamp (use ISO 8601 or epoch time)", "litellm")
    ]


@pytest.mark.slow
def test_golden_error_logs_jsonl_with_request_kwargs_as_json_string(con, ingest):
    first = json.loads(ERRORS_JSONL.read_text(encoding="utf-8").splitlines()[0])
    assert isinstance(first["request_kwargs"], str)  # LiteLLM json.dumps the optional params
    (file,) = ingest(ERRORS_JSONL).files
    assert (file.status, file.format, file.rows_read, file.rows_loaded) == ("ingested", "litellm", 2, 2)
    assert calls(con) == [_as(row, source_row=row["source_row"] - 1) for row in GOLDEN_ERRORS]


# ----------------------------------------------------------------------------------------------------- traps

HEADER = [
    "request_id",
    "call_type",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "model",
    "model_group",
    "custom_llm_provider",
    "api_base",
    "metadata",
    "cache_hit",
    "request_tags",
    "status",
]


def _spend_csv(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "spend.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    "call_type": "acompletion",
                    "spend": "0.001",
                    "total_tokens": "15",
                    "prompt_tokens": "10",
                    "completion_tokens": "5",
                    "startTime": "2025-10-03 10:00:00+00",
                    "endTime": "2025-10-03 10:00:01+00",
                    "metadata": "{}",
                    "cache_hit": "False",
                    "request_tags": "[]",
                    "status": "success",
                    **row,
                }
            )
    return path


PREFIXED_MODELS = [
    # (model, custom_llm_provider, api_base) → (provider, model without prefix)
    ("anthropic/claude-haiku-4-5-20251001", "", "", "anthropic", "claude-haiku-4-5-20251001"),
    (
        "bedrock/converse/anthropic.claude-3-5-sonnet-20240620-v1:0",
        "bedrock",
        "",
        "aws.bedrock",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
    ),
    ("openrouter/anthropic/claude-3.5-sonnet", "openrouter", "", "openrouter", "anthropic/claude-3.5-sonnet"),
    ("gemini/gemini-2.5-pro", "gemini", "", "google", "gemini-2.5-pro"),
    ("mistral/mistral-large-latest", "", "", "mistral", "mistral-large-latest"),
    ("text-completion-openai/gpt-3.5-turbo-instruct", "text-completion-openai", "", "openai", "gpt-3.5-turbo-instruct"),
    ("my-finetune", "", "https://my-resource.openai.azure.com/", "azure.openai", "my-finetune"),
    ("claude-opus-4-1", "", "", "anthropic", "claude-opus-4-1"),
    ("vertex_ai/claude-sonnet-4@20250514", "vertex_ai", "", "gcp.vertex_ai", "claude-sonnet-4@20250514"),
]


def test_provider_prefixed_models(con, ingest, tmp_path):
    path = _spend_csv(
        tmp_path,
        [
            dict(request_id=f"r{i}", model=model, custom_llm_provider=custom, api_base=base)
            for i, (model, custom, base, _, _) in enumerate(PREFIXED_MODELS)
        ],
    )
    (file,) = ingest(path).files
    assert file.rows_loaded == len(PREFIXED_MODELS), quarantine(con)
    got = con.execute("SELECT provider, model FROM calls ORDER BY source_row").fetchall()
    assert got == [(provider, bare) for _, _, _, provider, bare in PREFIXED_MODELS]


def test_response_cache_hits_are_skipped_not_billed(con, ingest, tmp_path):
    values = ["True", "true", "False", "None", ""]
    path = _spend_csv(
        tmp_path,
        [dict(request_id=f"r{i}", model="gpt-4o", cache_hit=value, spend="0.0") for i, value in enumerate(values)],
    )
    (file,) = ingest(path).files
    assert (file.rows_loaded, file.rows_skipped) == (3, 2)
    assert con.execute("SELECT call_id FROM calls ORDER BY call_id").fetchall() == [("r2",), ("r3",), ("r4",)]
    assert [row[1:3] for row in quarantine(con)] == [(2, "skipped"), (3, "skipped")]


CACHE_METADATA = [
    # (metadata, prompt_tokens = 1000) → (input, cache read, cache write 5m, cache write 1h)
    # Anthropic-style keys only
    (
        {"additional_usage_values": {"cache_read_input_tokens": 600, "cache_creation_input_tokens": 100}},
        (300, 600, 100, 0),
    ),
    # OpenAI-style cached_tokens only
    ({"additional_usage_values": {"prompt_tokens_details": {"cached_tokens": 600}}}, (400, 600, 0, 0)),
    # both spellings of the same reads are not counted twice
    (
        {"additional_usage_values": {"cache_read_input_tokens": 600, "prompt_tokens_details": {"cached_tokens": 600}}},
        (400, 600, 0, 0),
    ),
    # 1-hour writes at the top level of additional_usage_values
    (
        {
            "additional_usage_values": {
                "cache_creation_input_tokens": 400,
                "cache_creation_token_details": {"ephemeral_1h_input_tokens": 400},
            }
        },
        (600, 0, 0, 400),
    ),
    # batch cost rows carry the usage in usage_object
    ({"usage_object": {"prompt_tokens": 1000, "prompt_tokens_details": {"cached_tokens": 250}}}, (750, 250, 0, 0)),
    # no additional_usage_values: everything is uncached input
    ({"status": "success"}, (1000, 0, 0, 0)),
]


def test_cache_usage_only_in_metadata(con, ingest, tmp_path):
    path = _spend_csv(
        tmp_path,
        [
            dict(
                request_id=f"r{i}",
                model="claude-sonnet-4-5",
                custom_llm_provider="anthropic",
                prompt_tokens="1000",
                metadata=json.dumps(metadata),
            )
            for i, (metadata, _) in enumerate(CACHE_METADATA)
        ],
    )
    (file,) = ingest(path).files
    assert file.rows_loaded == len(CACHE_METADATA), quarantine(con)
    assert con.execute(
        "SELECT input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens "
        "FROM calls ORDER BY source_row"
    ).fetchall() == [tokens for _, tokens in CACHE_METADATA]


def test_spend_float_text(con, ingest, tmp_path):
    values = [
        ("1.5e-05", Decimal("0.000015")),
        ("7.000000000000001e-06", Decimal("0.000007000000000000")),  # 18 decimal places kept
        (" 0.25 ", Decimal("0.25")),
        ("3E-7", Decimal("0.0000003")),
        ("", None),
    ]
    path = _spend_csv(
        tmp_path, [dict(request_id=f"r{i}", model="gpt-4o", spend=spend) for i, (spend, _) in enumerate(values)]
    )
    ingest(path)
    assert con.execute("SELECT reported_cost_usd FROM calls ORDER BY source_row").fetchall() == [
        (expected,) for _, expected in values
    ]


@pytest.mark.slow
def test_request_tags_variants_and_lineage_call_id(con, ingest, tmp_path):
    path = _spend_csv(
        tmp_path,
        [
            dict(request_id="r1", model="gpt-4o", request_tags='["jobID:214590dsff09fds", "use_case:triage", "beta"]'),
            dict(request_id="r2", model="gpt-4o", request_tags='{"feature": "search", "owner": "ana"}'),
            dict(request_id="r3", model="gpt-4o", request_tags='["task:t-9", "reporting", "reporting"]'),
            dict(request_id="r4", model="gpt-4o", request_tags='["a", "b'),
            # no request id: the call id comes from the row's content (and its occurrence), not from the file
            dict(
                request_id="",
                model="gpt-4o",
                request_tags='["ops", "nightly"]',
                metadata=json.dumps({"spend_logs_metadata": {"feature": "digest", "env": "prod", "owner": "ops"}}),
            ),
        ],
    )
    (file,) = ingest(path).files
    assert (file.rows_loaded, file.rows_quarantined) == (4, 1)
    lineage = con.execute("SELECT call_id FROM calls WHERE source_row = 6").fetchone()[0]
    assert lineage.startswith("litellm:") and len(lineage) == len("litellm:") + 32
    assert con.execute(
        "SELECT call_id, feature, task_id, environment, tags FROM calls ORDER BY source_row"
    ).fetchall() == [
        ("r1", "triage", None, None, {"jobID": "214590dsff09fds", "beta": ""}),
        ("r2", "search", None, None, {"owner": "ana"}),
        ("r3", "reporting", "t-9", None, None),  # a repeated plain tag is the feature once, not also a tag
        # the caller's metadata names the feature: the plain tags all stay tags
        (lineage, "digest", None, "prod", {"ops": "", "nightly": "", "owner": "ops"}),
    ]
    assert quarantine(con)[0][1:4] == (5, "rejected", 'request_tags is not valid JSON: \'["a", "b\'')
    # the same rows in another file, with one more appended: the id-less row is recognised by its content
    appended = tmp_path / "spend_appended.csv"
    appended.write_text(path.read_text() + path.read_text().splitlines()[2].replace("r2", "r9") + "\n")
    (again,) = ingest(appended).files
    assert (again.rows_loaded, again.rows_duplicate) == (1, 4)


def test_metadata_as_json_string_inside_json_export(con, ingest, tmp_path):
    """Some dumps write the JSON columns as JSON strings (double-encoded): read the same."""
    record = {
        "request_id": "r1",
        "call_type": "acompletion",
        "spend": "0.0042",
        "prompt_tokens": 1000,
        "completion_tokens": 10,
        "total_tokens": 1010,
        "startTime": "2025-10-03T10:00:00Z",
        "endTime": "2025-10-03T10:00:01Z",
        "model": "gpt-4o",
        "custom_llm_provider": "openai",
        "metadata": json.dumps(
            {
                "additional_usage_values": {"prompt_tokens_details": {"cached_tokens": 256}},
                "spend_logs_metadata": {"feature": "faq"},
            }
        ),
        "request_tags": json.dumps(["team:web"]),
        "cache_hit": "False",
        "status": "success",
    }
    path = tmp_path / "spend.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (file,) = ingest(path).files
    assert (file.format, file.rows_loaded) == ("litellm", 1), quarantine(con)
    assert con.execute(
        "SELECT input_tokens, cache_read_tokens, feature, team, reported_cost_usd FROM calls"
    ).fetchone() == (744, 256, "faq", "web", Decimal("0.0042"))


# ------------------------------------------------------------------------------------------ re-ingest, detect


def test_reingest_same_file_loads_nothing(spend_csv):
    from costlens.ingest.runner import ingest_paths

    con, _ = spend_csv
    before = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]

    again = ingest_paths(con, [str(SPEND_CSV)], Config())

    assert [(f.status, f.format, f.rows_loaded) for f in again.files] == [("unchanged", "litellm", 0)]
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == before == 8
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == quarantined == 5


@pytest.mark.slow
def test_same_requests_in_another_export_are_duplicates(con, ingest):
    """The JSON dump repeats requests of the CSV dump: request ids make them the same calls."""
    ingest(SPEND_CSV)
    (file,) = ingest(SPEND_JSON).files
    assert (file.status, file.rows_loaded, file.rows_duplicate) == ("ingested", 0, 3)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 8


def _runner_choice(path: Path) -> str:
    from costlens.ingest.runner import choose_adapter

    return choose_adapter(open_source(path), IngestContext(config=Config())).name


MINE = [SPEND_CSV, SPEND_JSON, SPEND_PAGE, ERRORS_CSV, ERRORS_JSONL]


@pytest.mark.parametrize("path", MINE, ids=[p.name for p in MINE])
def test_runner_routes_fixture_to_litellm(path):
    assert _runner_choice(path) == "litellm"


def test_litellm_claims_no_other_fixture():
    from costlens.ingest.litellm import ADAPTER

    ctx = IngestContext(config=Config())
    others = [
        p
        for p in sorted(FIXTURES.rglob("*"))
        if p.is_file() and LITELLM not in p.parents and p.suffix not in {".md", ".toml", ".py"}
    ]
    assert len(others) > 10
    claimed = []
    for path in others:
        src = open_source(path)
        if src.container in ADAPTER.containers and ADAPTER.detect(src, ctx):
            claimed.append(path.name)
    assert claimed == []


def test_detection_needs_litellm_columns():
    from costlens.ingest.litellm import ADAPTER
    from costlens.ingest.sources import Source

    ctx = IngestContext(config=Config())
    src = Source(path=Path("x.csv"), size=0, mtime_ns=0, container="csv")
    src.header = ["request_id", "call_type", "spend", "startTime", "prompt_tokens"]
    assert ADAPTER.detect(src, ctx) == 95
    src.header = ["request_id", "startTime", "exception_type", "litellm_model_name", "status_code"]
    assert ADAPTER.detect(src, ctx) == 95
    src.header = ["request_id", "spend", "model"]  # no call_type
    assert ADAPTER.detect(src, ctx) == 0
    src.header = ["request_id", "request_created_at", "prompt_tokens", "costUSD", "request_properties"]
    assert ADAPTER.detect(src, ctx) == 0
