"""Anthropic app-logged messages: golden canonical rows, quarantine, re-ingest, detection."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from test_adapter_openai import COLUMNS, DEFAULTS, calls, lineage_hash, quarantine

from costlens.config import Config
from costlens.ingest.base import IngestContext
from costlens.ingest.sources import open_source

from conftest import FIXTURES, realdata

APP_LOG = FIXTURES / "anthropic" / "app_log.jsonl"
BATCH = FIXTURES / "anthropic" / "batch_results.jsonl"
# Anthropic objects carry no time: lines without one take the file's modification time.
MTIME = datetime(2025, 10, 3, 6, 30)
MTIME_TAG = {"costlens.ts_source": "file_mtime"}


def expected_row(**values):
    row = {**DEFAULTS, "provider": "anthropic", **values}
    return {column: row[column] for column in COLUMNS}


def staged_copy(tmp_path: Path, fixture: Path) -> Path:
    """The fixture with a known modification time (it is the fallback timestamp)."""
    path = tmp_path / fixture.name
    shutil.copyfile(fixture, path)
    epoch = (MTIME - datetime(1970, 1, 1)).total_seconds()
    os.utime(path, (epoch, epoch))
    return path


def golden(path: Path) -> list[dict]:
    return [
        expected_row(
            source_row=1,
            call_id="msg_A1",
            ts=datetime(2025, 10, 2, 9, 0),
            latency_ms=1200.0,
            model="claude-haiku-4-5-20251001",
            request_model="claude-haiku-4-5",
            input_tokens=1500,
            output_tokens=80,
            finish_reason="end_turn",
            max_tokens=1024,
            task_id="tk-1",
            session_id="c-1",
            feature="triage",
            team="ops",
            customer="globex",
            user_id="u-9",
            environment="staging",
            tags={"experiment": "b"},
        ),
        expected_row(
            source_row=2,
            call_id="msg_A2",
            ts=datetime(2025, 10, 2, 9, 1),
            model="claude-sonnet-4-5-20250929",
            request_model="claude-sonnet-4-5",
            input_tokens=50,
            cache_read_tokens=12000,
            cache_write_5m_tokens=3000,
            output_tokens=400,
            finish_reason="end_turn",
            max_tokens=2048,
            task_id="tk-2",
            feature="triage",
        ),
        expected_row(
            source_row=3,
            call_id="msg_A3",
            ts=datetime(2025, 10, 2, 9, 2),
            model="claude-sonnet-4-5-20250929",
            request_model="claude-sonnet-4-5",
            service_tier="priority",
            input_tokens=20,
            cache_write_5m_tokens=2000,
            cache_write_1h_tokens=3000,
            output_tokens=600,
            finish_reason="tool_use",
            max_tokens=4096,
            task_id="tk-3",
            feature="research-agent",
        ),
        expected_row(
            source_row=4,
            call_id=lineage_hash(path, 4, "anthropic"),
            ts=datetime(2025, 10, 2, 9, 3),
            latency_ms=30000.0,
            model="claude-sonnet-4-5",
            request_model="claude-sonnet-4-5",
            status="error",
            error_type="overloaded_error",
            http_status=529,
            max_tokens=4096,
            task_id="tk-3",
            feature="research-agent",
        ),
        expected_row(
            source_row=8,
            call_id="msg_A7",
            ts=datetime(2025, 10, 2, 9, 6),
            latency_ms=4200.0,
            model="claude-sonnet-4-5-20250929",
            request_model="claude-sonnet-4-5",
            input_tokens=900,
            output_tokens=350,
            finish_reason="end_turn",
            max_tokens=1024,
            task_id="tk-7",
            feature="chat-ui",
        ),
        expected_row(
            source_row=9,
            call_id="msg_A9",
            ts=MTIME,
            model="claude-opus-4-1-20250805",
            input_tokens=3000,
            output_tokens=500,
            finish_reason="end_turn",
            tags=MTIME_TAG,
        ),
        expected_row(
            source_row=10,
            call_id="msg_A10",
            ts=MTIME,
            model="claude-haiku-4-5-20251001",
            service_tier="batch",
            is_batch=True,
            input_tokens=3000,
            output_tokens=200,
            finish_reason="end_turn",
            task_id="ticket-77",
            tags=MTIME_TAG,
        ),
        expected_row(
            source_row=12,
            call_id="msg_bdrk_A12",
            ts=datetime(2025, 10, 2, 10, 0),
            provider="aws.bedrock",
            model="claude-3-5-haiku-20241022",
            request_model="us.anthropic.claude-3-5-haiku-20241022-v1:0",
            input_tokens=700,
            output_tokens=40,
            finish_reason="end_turn",
            max_tokens=256,
            feature="triage",
        ),
    ]


GOLDEN_QUARANTINE = [
    (5, "rejected", "not valid JSON"),
    (6, "rejected", "usage.output_tokens is not a number"),
    (11, "skipped", "batch request errored (invalid_request_error): not billed"),
    (13, "rejected", "message has no usage object, so its tokens are unknown"),
]


@pytest.mark.slow
def test_golden_app_log(con, ingest, tmp_path):
    path = staged_copy(tmp_path, APP_LOG)

    (file,) = ingest(path).files

    assert (file.status, file.format, file.target) == ("ingested", "anthropic", "calls"), file.message
    # 13 read = 8 loaded + 1 streaming duplicate (message_start of msg_A7) + 3 rejected + 1 skipped
    assert (file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined, file.rows_skipped) == (
        13,
        8,
        1,
        3,
        1,
    )
    assert calls(con) == golden(path)
    # server-side web searches are a charge of the call, not a tag
    assert con.execute("SELECT call_id, kind, quantity, unit, source_field FROM call_charges").fetchall() == [
        ("msg_A9", "web_search", 2, "call", "server_tool_use.web_search_requests")
    ]
    assert quarantine(con) == [
        (str(path), row, disposition, reason, "anthropic") for row, disposition, reason in GOLDEN_QUARANTINE
    ]
    fingerprints = con.execute("SELECT prompt_hash, prefix_hash FROM calls WHERE call_id = 'msg_A1'").fetchone()
    assert all(len(h) == 64 for h in fingerprints)


@pytest.mark.slow
def test_reingest_same_file_loads_nothing(con, ingest, tmp_path):
    path = staged_copy(tmp_path, APP_LOG)
    ingest(path)

    again = ingest(path)

    assert [(f.status, f.format, f.rows_loaded) for f in again.files] == [("unchanged", "anthropic", 0)]
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 8
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 4


def test_batch_results_file(con, ingest, tmp_path):
    path = staged_copy(tmp_path, BATCH)

    (file,) = ingest(path).files

    assert (file.format, file.rows_read, file.rows_loaded, file.rows_skipped) == ("anthropic", 3, 2, 1)
    batch = dict(
        ts=MTIME,
        model="claude-sonnet-4-5-20250929",
        service_tier="batch",
        is_batch=True,
        finish_reason="end_turn",
        tags=MTIME_TAG,
    )
    assert calls(con) == [
        expected_row(source_row=1, call_id="msg_B1", input_tokens=4000, output_tokens=300, task_id="doc-1", **batch),
        expected_row(
            source_row=2,
            call_id="msg_B2",
            input_tokens=100,
            cache_read_tokens=3900,
            output_tokens=280,
            task_id="doc-2",
            **batch,
        ),
    ]
    assert quarantine(con) == [(str(path), 3, "skipped", "batch request expired: not billed", "anthropic")]


def test_metadata_overrides_batch_hint_and_provider(con, ingest, tmp_path):
    path = tmp_path / "vertex.jsonl"
    line = {
        "timestamp": "2025-10-04T08:00:00Z",
        "task_id": "explicit-task",
        "custom_id": "ignored",
        "metadata": {"provider": "gcp.vertex_ai", "batch": "true"},
        "request": {"model": "claude-sonnet-4-5@20250929"},
        "response": {
            "id": "msg_vrtx_1",
            "type": "message",
            "model": "claude-sonnet-4-5-20250929",
            "stop_reason": "max_tokens",
            "usage": {"input_tokens": 5, "output_tokens": 7},
        },
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")

    ingest(path)

    assert calls(con) == [
        expected_row(
            source_row=1,
            call_id="msg_vrtx_1",
            ts=datetime(2025, 10, 4, 8, 0),
            provider="gcp.vertex_ai",
            model="claude-sonnet-4-5-20250929",
            request_model="claude-sonnet-4-5@20250929",
            service_tier="batch",
            is_batch=True,
            input_tokens=5,
            output_tokens=7,
            finish_reason="max_tokens",
            task_id="explicit-task",
        )
    ]


def test_unparseable_timestamp_is_rejected_not_replaced(con, ingest, tmp_path):
    path = tmp_path / "badtime.jsonl"
    line = {
        "timestamp": "yesterday",
        "request": {"model": "claude-haiku-4-5"},
        "response": {
            "id": "msg_T",
            "type": "message",
            "model": "claude-haiku-4-5",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")

    (file,) = ingest(path).files

    assert file.rows_loaded == 0
    assert quarantine(con)[0][3].startswith("missing or unparseable timestamp")


def test_forced_on_a_claude_code_log_says_why(con, ingest):
    path = realdata("claude-code-logs/crud.jsonl")
    (file,) = ingest(path, fmt="anthropic").files
    assert file.rows_loaded == 0
    reasons = {r[3] for r in quarantine(con)}
    assert "a Claude Code session-log line, not an app-logged Anthropic response" in reasons


# --- detection -----------------------------------------------------------------------------------------------


def _scores(path: Path) -> dict[str, int]:
    from costlens.ingest import anthropic_usage, openai_usage

    src = open_source(path)
    ctx = IngestContext(config=Config())
    return {"openai": openai_usage.ADAPTER.detect(src, ctx), "anthropic": anthropic_usage.ADAPTER.detect(src, ctx)}


@pytest.mark.parametrize("path", [APP_LOG, BATCH], ids=["app_log", "batch_results"])
def test_detect_claims_anthropic_fixtures(path):
    scores = _scores(path)
    assert scores["anthropic"] >= 80 and scores["openai"] == 0


@pytest.mark.parametrize("name", ["crud.jsonl", "compact.jsonl", "images.jsonl", "subagent.jsonl", "todos.jsonl"])
def test_detect_leaves_claude_code_logs_alone(name):
    assert _scores(realdata(f"claude-code-logs/{name}")) == {"openai": 0, "anthropic": 0}


def test_detect_leaves_claude_code_shaped_lines_alone(tmp_path):
    path = tmp_path / "session.jsonl"
    line = {
        "type": "assistant",
        "sessionId": "s",
        "uuid": "u",
        "timestamp": "2025-10-01T00:00:00Z",
        "message": {
            "id": "msg_1",
            "type": "message",
            "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 1, "output_tokens": 1, "cache_read_input_tokens": 0},
        },
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert _scores(path) == {"openai": 0, "anthropic": 0}


def test_detect_ignores_otel():
    assert _scores(FIXTURES / "otel" / "otlp_small.jsonl") == {"openai": 0, "anthropic": 0}


@pytest.mark.parametrize("path", [APP_LOG, BATCH], ids=["app_log", "batch_results"])
def test_runner_routes_fixture_to_anthropic(path):
    from costlens.ingest.runner import choose_adapter

    assert choose_adapter(open_source(path), IngestContext(config=Config())).name == "anthropic"
