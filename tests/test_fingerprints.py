"""Prompt fingerprints: hashes and prefix token counts at ingest, offline, without storing the text."""

from __future__ import annotations

import hashlib
import json
import socket

import pytest

from costlens.config import Config


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/nonexistent-costlens-cache")


@pytest.mark.slow
def test_bundled_encodings_work_offline(no_network):
    from costlens.fingerprint import tokenizer

    tokenizer.get_encoding.cache_clear()
    o200k = tokenizer.get_encoding("o200k_base")
    cl100k = tokenizer.get_encoding("cl100k_base")
    # reference ids published for these encodings
    assert o200k.encode("hello world") == [24912, 2375]
    assert cl100k.encode("hello world") == [15339, 1917]
    assert o200k.n_vocab == 200019 and cl100k.n_vocab == 100277


@pytest.mark.slow
def test_parallel_counts_equal_single_thread(no_network):
    from costlens.fingerprint.tokenizer import count_tokens, get_encoding

    texts = [f"System prompt number {i}: " + "lorem ipsum dolor sit amet " * (i % 50) for i in range(400)]
    single = [len(get_encoding().encode_ordinary(t)) for t in texts]
    assert count_tokens(texts, threads=2) == single


def test_tampered_encoding_is_refused(monkeypatch):
    from costlens.fingerprint import tokenizer

    with pytest.raises(tokenizer.EncodingIntegrityError):
        tokenizer._bundled_ranks("o200k_base", "0" * 64)


def _span(span_id: str, system: str, user: str) -> str:
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": system}]},
        {"role": "user", "parts": [{"type": "text", "content": user}]},
    ]
    return json.dumps(
        {
            "trace_id": "t1",
            "span_id": span_id,
            "start_time": "2026-10-01T00:00:00Z",
            "end_time": "2026-10-01T00:00:01Z",
            "attributes": {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 500,
                "gen_ai.usage.output_tokens": 5,
                "gen_ai.input.messages": json.dumps(messages),
            },
        }
    )


@pytest.mark.slow
def test_otel_content_becomes_fingerprints_not_text(tmp_path, con, ingest, no_network):
    from costlens.fingerprint.tokenizer import get_encoding

    secret = "SECRET-CANARY-7f3a"
    system = "You are a support assistant. " * 40
    file = tmp_path / "spans.jsonl"
    file.write_text(
        "\n".join(
            [
                _span("a", system, f"question one {secret}"),
                _span("b", system, "question two"),
                _span("c", system, f"question one {secret}"),
            ]
        )
        + "\n"
    )
    ingest(file)
    rows = con.execute("SELECT call_id, prompt_hash, prefix_hash, prefix_tokens FROM calls ORDER BY call_id").fetchall()
    assert len(rows) == 3
    a, b, c = rows
    assert a[1] == c[1] != b[1]  # identical prompts share a hash
    assert a[2] == b[2] == c[2]  # one stable prefix
    expected_prefix = json.dumps({"role": "system", "parts": [{"type": "text", "content": system}]})
    prefix_json = con.execute(
        "SELECT json_extract(?::VARCHAR, '$[0]')::VARCHAR",
        [json.dumps(json.loads(json.loads(file.read_text().splitlines()[0])["attributes"]["gen_ai.input.messages"]))],
    ).fetchone()[0]
    assert a[2] == hashlib.sha256(prefix_json.strip().encode()).hexdigest()
    assert a[3] == len(get_encoding().encode_ordinary(prefix_json))
    assert json.loads(expected_prefix) == json.loads(prefix_json)
    # the text is not stored anywhere by default
    assert con.execute("SELECT count(*) FROM call_content").fetchone()[0] == 0


@pytest.mark.slow
def test_keep_content_opt_in(tmp_path, con):
    from costlens.ingest.runner import ingest_paths

    file = tmp_path / "spans.jsonl"
    file.write_text(_span("a", "sys", "hello") + "\n")
    ingest_paths(con, [str(file)], Config(), keep_content=True)
    assert con.execute("SELECT count(*) FROM call_content WHERE prompt_text LIKE '%hello%'").fetchone()[0] == 1


@pytest.mark.subprocess
@pytest.mark.slow
def test_database_file_holds_no_prompt_text(tmp_path):
    import subprocess
    import sys

    secret = "SECRET-CANARY-91bd"
    file = tmp_path / "spans.jsonl"
    file.write_text(_span("a", "system text", f"my password is {secret}") + "\n")
    db = tmp_path / "privacy.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "costlens", "ingest", str(file), "--db", str(db)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    report = subprocess.run(
        [sys.executable, "-m", "costlens", "report", "--db", str(db), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert secret not in report.stdout
    for path in tmp_path.iterdir():
        if path.is_file() and path.suffix != ".jsonl":
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.slow
@pytest.mark.parametrize(
    "fixture",
    [
        "openai/app_log.jsonl",
        "anthropic/app_log.jsonl",
        "litellm/spend_logs.csv",
        "helicone/requests.jsonl",
        "langfuse/observations_page.json",
    ],
)
def test_every_content_producer_counts_prefix_tokens(fixture, con, ingest, no_network):
    from conftest import FIXTURES

    ingest(FIXTURES / fixture)
    with_prefix, counted = con.execute(
        "SELECT count(*) FILTER (WHERE prefix_hash IS NOT NULL), "
        "count(*) FILTER (WHERE prefix_hash IS NOT NULL AND prefix_tokens > 0) FROM calls"
    ).fetchone()
    assert with_prefix > 0, fixture
    assert counted == with_prefix
    assert con.execute("SELECT count(*) FROM call_content").fetchone()[0] == 0
    # and a semantic-cache sketch of each request with text of its own (never for another file's call)
    sketched, with_prompt, orphans = con.execute(
        "SELECT (SELECT count(*) FROM call_sketches), (SELECT count(*) FROM calls WHERE prompt_hash IS NOT NULL), "
        "(SELECT count(*) FROM call_sketches WHERE call_id NOT IN (SELECT call_id FROM calls))"
    ).fetchone()
    assert 0 < sketched <= with_prompt, fixture
    assert orphans == 0
