"""Claude Code session logs: golden rows from a synthetic ~/.claude/projects tree, the real public logs
checked call by call against genai-prices, quarantine, re-ingest and detection."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlens.config import Config
from costlens.ingest.base import IngestContext
from costlens.ingest.sources import open_source

from conftest import FIXTURES, realdata

TREE = FIXTURES / "claude_code" / "projects"
WEBSHOP = TREE / "-Users-dev-acme-webshop"
LEGACY = TREE / "-Users-dev-legacy-tool"
S1 = "5f1c2a9e-0b7d-4c1e-9a53-2e8f6d4b7a10"  # main session, with a subagent
S2 = "c03e8b41-7d2a-4f5e-b6a9-1e4d7c2f9b38"  # an old (0.2.x) log with costUSD
S3 = "9a7d1e2c-4b6f-4e8a-8c3d-5f2b7a1e6d94"  # a file of summaries only
MAIN = WEBSHOP / f"{S1}.jsonl"
SUBAGENT = WEBSHOP / S1 / "subagents" / "agent-a7c3e21.jsonl"
SUMMARIES = WEBSHOP / f"{S3}.jsonl"
OLD = LEGACY / f"{S2}.jsonl"
MY_FIXTURES = [MAIN, SUBAGENT, SUMMARIES, OLD]
REL = Decimal("1e-9")
REAL_LOGS = ["compact.jsonl", "crud.jsonl", "images.jsonl", "subagent.jsonl", "todos.jsonl"]

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
SONNET_37 = "claude-3-7-sonnet-20250219"

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
    provider="anthropic",
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
    trace_id=None,
    team=None,
    customer=None,
    user_id=None,
    environment=None,
    reported_cost_usd=None,
)
WEBSHOP_TAGS = {"git_branch": "feature/cart", "claude_code_version": "2.0.30", "cwd": "/Users/dev/acme/webshop"}
SUBAGENT_TAGS = {**WEBSHOP_TAGS, "agent_id": "a7c3e21", "sidechain": "true"}
LEGACY_TAGS = {"git_branch": "main", "claude_code_version": "0.2.45", "cwd": "/Users/dev/legacy-tool"}


def row(**values) -> dict:
    full = {**DEFAULTS, **values}
    return {column: full[column] for column in COLUMNS}


def calls(con, path: Path) -> list[dict]:
    cursor = con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM calls WHERE source_file = ? ORDER BY source_row", [str(path)]
    )
    return [dict(zip(COLUMNS, r)) for r in cursor.fetchall()]


def quarantine(con, path: Path) -> list[tuple]:
    return con.execute(
        "SELECT source_row, disposition, reason, source_format FROM quarantine WHERE source_file = ? "
        "ORDER BY source_row",
        [str(path)],
    ).fetchall()


def stats(file) -> tuple:
    return (
        file.status,
        file.format,
        file.rows_read,
        file.rows_loaded,
        file.rows_duplicate,
        file.rows_quarantined,
        file.rows_skipped,
    )


# --- the synthetic projects tree, by hand ---------------------------------------------------------------------

GOLDEN_MAIN = [
    # rows 3-5 stream one request: the LAST line has the final output count (412), the first two say 5
    row(
        source_row=5,
        call_id="msg_01A:req_01A",
        ts=datetime(2025, 11, 3, 10, 0, 6, 300000),
        model=SONNET,
        input_tokens=3,
        cache_read_tokens=14000,
        cache_write_5m_tokens=1200,
        output_tokens=412,
        task_id=S1,
        session_id=S1,
        feature="webshop",
        tags=WEBSHOP_TAGS,
    ),
    # an API error line: model "<synthetic>" in the log; the call went to the session's model
    row(
        source_row=8,
        call_id="0c9d1a52-8a3e-4a4f-9a0b-3c1d2e4f5a6b:req_01B",
        ts=datetime(2025, 11, 3, 10, 0, 35),
        model=SONNET,
        status="error",
        error_type="server_error",
        http_status=529,
        task_id=S1,
        session_id=S1,
        feature="webshop",
        tags={**WEBSHOP_TAGS, "costlens.model_source": "session"},
    ),
    # a 1-hour cache write beside a 5-minute one (cache_creation split)
    row(
        source_row=10,
        call_id="msg_01C:req_01C",
        ts=datetime(2025, 11, 3, 10, 1, 5),
        model=SONNET,
        input_tokens=8,
        cache_read_tokens=15612,
        cache_write_5m_tokens=1000,
        cache_write_1h_tokens=4000,
        output_tokens=230,
        task_id=S1,
        session_id=S1,
        feature="webshop",
        tags=WEBSHOP_TAGS,
    ),
]
GOLDEN_MAIN_QUARANTINE = [
    (1, "skipped", "not a model call (file-history-snapshot line)"),
    (2, "skipped", "not a model call (user line)"),
    (6, "skipped", "not a model call (user line)"),
    (7, "skipped", "not a model call (system api_error line: a retry notice without usage)"),
    (9, "skipped", "not a model call (user line)"),
    (11, "skipped", "not a model call (a <synthetic> message written by Claude Code itself)"),
    (12, "skipped", "not a model call (user line)"),
    (13, "skipped", "not a model call (queue-operation line)"),
    (14, "skipped", "not a model call (progress line)"),
    (15, "rejected", "not valid JSON"),  # a line cut short when Claude Code was killed mid-write
    (16, "rejected", "message.usage.output_tokens is not a number"),
    (17, "skipped", "not a model call (summary line)"),
]
# The subagent's lines carry the parent's sessionId: its calls belong to the task that launched it.
GOLDEN_SUBAGENT = [
    row(
        source_row=3,
        call_id="msg_02A:req_02A",
        ts=datetime(2025, 11, 3, 10, 0, 10),
        model=HAIKU,
        input_tokens=12,
        cache_write_5m_tokens=3000,
        output_tokens=96,
        task_id=S1,
        session_id=S1,
        feature="webshop",
        tags=SUBAGENT_TAGS,
    ),
    row(
        source_row=5,
        call_id="msg_02B:req_02B",
        ts=datetime(2025, 11, 3, 10, 0, 14),
        model=HAIKU,
        input_tokens=6,
        cache_read_tokens=3000,
        cache_write_5m_tokens=250,
        output_tokens=180,
        task_id=S1,
        session_id=S1,
        feature="webshop",
        tags=SUBAGENT_TAGS,
    ),
]
# Old logs: no cache_creation split (all writes are 5-minute), costUSD and durationMs, a line without requestId.
GOLDEN_OLD = [
    row(
        source_row=2,
        call_id="msg_03A:req_03A",
        ts=datetime(2025, 3, 12, 8, 15, 6),
        latency_ms=5230.0,
        model=SONNET_37,
        input_tokens=4,
        cache_write_5m_tokens=2048,
        output_tokens=120,
        task_id=S2,
        session_id=S2,
        feature="legacy-tool",
        tags=LEGACY_TAGS,
        reported_cost_usd=Decimal("0.009492"),
    ),
    row(
        source_row=4,
        call_id="msg_03B",
        ts=datetime(2025, 3, 12, 8, 16, 3),
        latency_ms=2100.0,
        model=SONNET_37,
        input_tokens=10,
        cache_read_tokens=2048,
        output_tokens=55,
        task_id=S2,
        session_id=S2,
        feature="legacy-tool",
        tags=LEGACY_TAGS,
        reported_cost_usd=Decimal("0.0014694"),
    ),
]
# $/Mtok: sonnet 4.5 in 3, out 15, read 0.30, write 5m 3.75, 1h 6; haiku 4.5 1 / 5 / 0.10 / 1.25;
# sonnet 3.7 3 / 15 / 0.30 / 3.75.
HAND_COSTS = {
    "msg_01A:req_01A": Decimal("0.014889"),  # 3×3 + 14000×0.3 + 1200×3.75 + 412×15 = 14889 µ$
    "0c9d1a52-8a3e-4a4f-9a0b-3c1d2e4f5a6b:req_01B": Decimal("0"),  # failed, no tokens
    "msg_01C:req_01C": Decimal("0.0359076"),  # 8×3 + 15612×0.3 + 1000×3.75 + 4000×6 + 230×15 = 35907.6 µ$
    "msg_02A:req_02A": Decimal("0.004242"),  # 12×1 + 3000×1.25 + 96×5 = 4242 µ$
    "msg_02B:req_02B": Decimal("0.0015185"),  # 6×1 + 3000×0.1 + 250×1.25 + 180×5 = 1518.5 µ$
    "msg_03A:req_03A": Decimal("0.009492"),  # 4×3 + 2048×3.75 + 120×15 = 9492 µ$ (= its costUSD)
    "msg_03B": Decimal("0.0014694"),  # 10×3 + 2048×0.3 + 55×15 = 1469.4 µ$ (= its costUSD)
}


def test_golden_projects_tree(con, ingest):
    result = ingest(TREE)  # a whole projects tree: the runner expands it, each file on its own

    by_file = {Path(f.path): f for f in result.files}
    assert set(by_file) == set(MY_FIXTURES)
    # read = loaded + duplicate (streamed lines of a request already kept) + quarantined + skipped
    assert stats(by_file[MAIN]) == ("ingested", "claude_code", 17, 3, 2, 2, 10)
    assert stats(by_file[SUBAGENT]) == ("ingested", "claude_code", 5, 2, 1, 0, 2)
    assert stats(by_file[OLD]) == ("ingested", "claude_code", 4, 2, 0, 0, 2)
    assert stats(by_file[SUMMARIES]) == ("ingested", "claude_code", 2, 0, 0, 0, 2)
    assert calls(con, MAIN) == GOLDEN_MAIN
    assert calls(con, SUBAGENT) == GOLDEN_SUBAGENT
    assert calls(con, OLD) == GOLDEN_OLD
    assert quarantine(con, MAIN) == [(*q, "claude_code") for q in GOLDEN_MAIN_QUARANTINE]
    assert quarantine(con, SUBAGENT) == [
        (1, "skipped", "not a model call (user line)", "claude_code"),
        (4, "skipped", "not a model call (user line)", "claude_code"),
    ]
    assert quarantine(con, SUMMARIES) == [
        (1, "skipped", "not a model call (summary line)", "claude_code"),
        (2, "skipped", "not a model call (summary line)", "claude_code"),
    ]
    # one task per session: the subagent's calls are in the main session's task
    tasks = con.execute("SELECT task_id, count(*) FROM calls GROUP BY 1 ORDER BY 1").fetchall()
    assert tasks == sorted([(S1, 5), (S2, 2)])


@pytest.mark.slow
def test_priced_by_hand_and_by_genai_prices(con, ingest):
    from genai_prices import Usage, calc_price

    from costlens.engine import prepare_priced_calls

    ingest(TREE)
    prepare_priced_calls(con, Config())
    priced = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT call_id, priced, cost_usd, model, ts, input_tokens, cache_read_tokens, cache_write_5m_tokens, "
            "cache_write_1h_tokens, output_tokens FROM priced_calls"
        ).fetchall()
    }
    assert set(priced) == set(HAND_COSTS)
    for call_id, hand in HAND_COSTS.items():
        ok, cost, model, ts, inp, cr, cw5, cw1, out = priced[call_id]
        assert ok and cost == hand, call_id
        expected = calc_price(
            Usage(
                input_tokens=inp + cr + cw5 + cw1,
                cache_read_tokens=cr,
                cache_write_tokens=cw5 + cw1,
                cache_write_1h_tokens=cw1,
                output_tokens=out,
            ),
            model,
            provider_id="anthropic",
            genai_request_timestamp=ts.replace(tzinfo=UTC),
        ).total_price
        assert cost == pytest.approx(expected, rel=REL, abs=0), call_id
    # the legacy log's own estimate (costUSD) agrees with the computed cost
    reported = con.execute(
        "SELECT sum(cost_usd), sum(reported_cost_usd) FROM priced_calls WHERE session_id = ?", [S2]
    ).fetchone()
    assert reported == (Decimal("0.0109614"), Decimal("0.0109614"))


def test_reingest_same_tree_loads_nothing(con, ingest):
    ingest(TREE)

    again = ingest(TREE)

    assert sorted((f.status, f.format, f.rows_loaded) for f in again.files) == [("unchanged", "claude_code", 0)] * 4
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 7
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 18


@pytest.mark.slow
def test_resumed_session_copies_are_duplicates(con, ingest, tmp_path):
    """`claude --resume` starts a new file that repeats the conversation it resumes: same message ids and
    request ids, new sessionId. Those requests were billed once, so they load once."""
    ingest(MAIN)
    lines = MAIN.read_text(encoding="utf-8").splitlines()
    copied = [json.loads(line) for line in lines[2:5]]  # the three streamed lines of msg_01A
    new_call = {
        **copied[-1],
        "uuid": "r-09",
        "requestId": "req_09",
        "timestamp": "2025-11-04T09:00:00.000Z",
        "message": {**copied[-1]["message"], "id": "msg_09"},
    }
    resumed = tmp_path / "-Users-dev-acme-webshop" / "77777777-0000-4000-8000-000000000000.jsonl"
    resumed.parent.mkdir()
    resumed.write_text(
        "".join(
            json.dumps({**line, "sessionId": "77777777-0000-4000-8000-000000000000"}) + "\n"
            for line in [*copied, new_call]
        ),
        encoding="utf-8",
    )

    (file,) = ingest(resumed).files

    assert stats(file) == ("ingested", "claude_code", 4, 1, 3, 0, 0)
    assert con.execute(
        "SELECT call_id, task_id, feature FROM calls WHERE source_file = ?", [str(resumed)]
    ).fetchall() == [("msg_09:req_09", "77777777-0000-4000-8000-000000000000", "webshop")]


def _line(**values) -> str:
    return json.dumps(values) + "\n"


def _assistant(**values) -> dict:
    return {"type": "assistant", "uuid": values.pop("uuid", "x"), "timestamp": "2025-11-05T12:00:00Z", **values}


@pytest.mark.slow
def test_feature_and_task_from_the_path_when_lines_lack_them(con, ingest, tmp_path):
    project = tmp_path / "projects" / "-Users-dev-no-cwd"
    sub = project / "1111aaaa-0000-4000-8000-000000000001" / "subagents" / "agent-b1.jsonl"
    sub.parent.mkdir(parents=True)
    usage = {"input_tokens": 5, "output_tokens": 7}
    (project / "1111aaaa-0000-4000-8000-000000000001.jsonl").write_text(
        _line(
            **_assistant(
                uuid="m1",
                sessionId="1111aaaa-0000-4000-8000-000000000001",
                requestId="req_m1",
                message={"id": "msg_m1", "model": SONNET, "usage": usage},
            )
        ),
        encoding="utf-8",
    )
    # a subagent line with its own agent id but no sessionId: the folder names the parent session
    sub.write_text(
        _line(
            **_assistant(
                uuid="s1",
                agentId="b1",
                isSidechain=True,
                requestId="req_s1",
                message={"id": "msg_s1", "model": HAIKU, "usage": usage},
            )
        ),
        encoding="utf-8",
    )

    result = ingest(tmp_path / "projects", fmt="claude_code")

    assert [f.rows_loaded for f in result.files] == [1, 1]
    assert con.execute("SELECT call_id, task_id, session_id, feature FROM calls ORDER BY call_id").fetchall() == [
        (
            "msg_m1:req_m1",
            "1111aaaa-0000-4000-8000-000000000001",
            "1111aaaa-0000-4000-8000-000000000001",
            "-Users-dev-no-cwd",
        ),
        (
            "msg_s1:req_s1",
            "1111aaaa-0000-4000-8000-000000000001",
            "1111aaaa-0000-4000-8000-000000000001",
            "-Users-dev-no-cwd",
        ),
    ]


@pytest.mark.slow
def test_error_lines_without_status_field_and_without_any_model(con, ingest, tmp_path):
    text = (
        'API Error: 400 {"type":"error","error":{"type":"invalid_request_error",'
        '"message":"prompt is too long: 210000 tokens > 200000 maximum"}}'
    )
    synthetic = {
        "id": "e1",
        "model": "<synthetic>",
        "content": [{"type": "text", "text": text}],
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }
    with_model = tmp_path / "with_model.jsonl"
    with_model.write_text(
        _line(**_assistant(uuid="e1", sessionId="s", cwd="/w/app", isApiErrorMessage=True, message=synthetic))
        + _line(
            **_assistant(
                uuid="a1",
                sessionId="s",
                cwd="/w/app",
                requestId="req_a1",
                message={"id": "msg_a1", "model": SONNET, "usage": {"input_tokens": 1, "output_tokens": 2}},
            )
        ),
        encoding="utf-8",
    )
    no_model = tmp_path / "no_model.jsonl"
    no_model.write_text(
        _line(
            **_assistant(
                uuid="e2",
                sessionId="s2",
                cwd="/w/app",
                isApiErrorMessage=True,
                error="rate_limit",
                apiErrorStatus=429,
                message={**synthetic, "id": "e2"},
            )
        ),
        encoding="utf-8",
    )

    ingest(with_model, no_model)

    # the error precedes any real line: the model is the one that follows it in the file
    assert con.execute(
        "SELECT call_id, model, status, error_type, http_status, tags['costlens.model_source'] "
        "FROM calls WHERE status = 'error'"
    ).fetchall() == [("e1", SONNET, "error", "invalid_request_error", 400, "session")]
    assert quarantine(con, no_model) == [
        (
            1,
            "skipped",
            "API error line names no model and no other line of the file does: the model it failed on is unknown",
            "claude_code",
        )
    ]


@pytest.mark.slow
def test_assistant_line_without_usage_is_rejected(con, ingest, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(
        _line(
            **_assistant(
                uuid="a", sessionId="s", requestId="r", message={"id": "msg_x", "model": SONNET, "content": []}
            )
        )
        + _line(
            **_assistant(
                uuid="b",
                sessionId="s",
                timestamp="yesterday",
                requestId="r2",
                message={"id": "msg_y", "model": SONNET, "usage": {"input_tokens": 1, "output_tokens": 1}},
            )
        ),
        encoding="utf-8",
    )

    (file,) = ingest(path).files

    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (2, 0, 2)
    reasons = [r[2] for r in quarantine(con, path)]
    assert reasons[0] == "assistant line has no message.usage, so its tokens are unknown"
    assert reasons[1].startswith("missing or unparseable timestamp")


# --- the real public logs (tomjnsn/agentlogs fixtures) ---------------------------------------------------------


def _expected_calls(path: Path) -> tuple[int, int, dict]:
    """Independently of costlens: (lines, assistant lines, {(message.id, requestId): the final line})."""
    lines = [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines() if text.strip()]
    final: dict[tuple, tuple[int, int, dict]] = {}
    assistant = 0
    for number, line in enumerate(lines, start=1):
        message = line.get("message") or {}
        if line.get("type") != "assistant" or "usage" not in message:
            continue
        assert message["model"] != "<synthetic>" and not line.get("isApiErrorMessage")
        assistant += 1
        u = message["usage"]
        split = u.get("cache_creation") or {}
        tokens = dict(
            input=u["input_tokens"],
            read=u.get("cache_read_input_tokens", 0),
            w5=split.get("ephemeral_5m_input_tokens", u.get("cache_creation_input_tokens", 0)),
            w1=split.get("ephemeral_1h_input_tokens", 0),
            output=u["output_tokens"],
            model=message["model"],
            ts=line["timestamp"],
            session=line["sessionId"],
            row=number,
        )
        size = tokens["input"] + tokens["read"] + tokens["w5"] + tokens["w1"] + tokens["output"]
        key = (message["id"], line["requestId"])
        if key not in final or size >= final[key][0]:  # the largest usage; the later line on a tie
            final[key] = (size, number, tokens)
    return len(lines), assistant, {key: value[2] for key, value in final.items()}


REAL_FIGURES = {  # lines read, calls, streaming duplicates collapsed
    "compact.jsonl": (15, 1, 1),
    "crud.jsonl": (27, 10, 5),
    "images.jsonl": (29, 3, 4),
    "subagent.jsonl": (11, 3, 3),
    "todos.jsonl": (18, 6, 5),
}


@pytest.mark.slow
def test_real_logs_one_call_per_request_priced_like_genai_prices(con, ingest):
    from genai_prices import Usage, calc_price

    from costlens.engine import prepare_priced_calls

    paths = [realdata(f"claude-code-logs/{name}") for name in REAL_LOGS]
    result = ingest(*paths)
    prepare_priced_calls(con, Config())

    grand_total = Decimal(0)
    for path, file in zip(paths, result.files):
        n_lines, n_assistant, expected = _expected_calls(path)
        assert (file.status, file.format) == ("ingested", "claude_code"), file.message
        assert (file.rows_read, file.rows_loaded, file.rows_duplicate) == REAL_FIGURES[path.name]
        assert (file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined, file.rows_skipped) == (
            n_lines,
            len(expected),
            n_assistant - len(expected),
            0,
            n_lines - n_assistant,
        )
        got = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT call_id, source_row, ts, model, input_tokens, cache_read_tokens, cache_write_5m_tokens, "
                "cache_write_1h_tokens, output_tokens, task_id, session_id, feature, provider, status, priced, cost_usd "
                "FROM priced_calls WHERE source_file = ?",
                [str(path)],
            ).fetchall()
        }
        assert set(got) == {f"{mid}:{rid}" for mid, rid in expected}
        file_total, expected_total = Decimal(0), Decimal(0)
        for (mid, rid), e in expected.items():
            row_, ts, model, inp, cr, cw5, cw1, out, task, session, feature, provider, status, ok, cost = got[
                f"{mid}:{rid}"
            ]
            assert (row_, model, inp, cr, cw5, cw1, out) == (
                e["row"],
                e["model"],
                e["input"],
                e["read"],
                e["w5"],
                e["w1"],
                e["output"],
            )
            assert ts == datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).replace(tzinfo=None)
            assert (task, session, provider, status, ok) == (e["session"], e["session"], "anthropic", "ok", True)
            assert feature in ("studio", "claudecode", "vibeinsights")
            price = calc_price(
                Usage(
                    input_tokens=inp + cr + cw5 + cw1,
                    cache_read_tokens=cr,
                    cache_write_tokens=cw5 + cw1,
                    cache_write_1h_tokens=cw1,
                    output_tokens=out,
                ),
                model,
                provider_id="anthropic",
                genai_request_timestamp=ts.replace(tzinfo=UTC),
            ).total_price
            assert cost == pytest.approx(price, rel=REL, abs=0), (path.name, mid)
            file_total += cost
            expected_total += price
        assert file_total == pytest.approx(expected_total, rel=REL, abs=0), path.name
        grand_total += file_total
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 23
    assert grand_total == pytest.approx(Decimal("0.34521525"), rel=REL)


@pytest.mark.slow
def test_real_log_keeps_the_final_streamed_line_not_the_first(con, ingest):
    path = realdata("claude-code-logs/crud.jsonl")
    ingest(path)
    # lines 3 and 4 are one request: output 6 on the first line, 276 on the final one
    assert con.execute(
        "SELECT source_row, output_tokens, cache_write_5m_tokens FROM calls "
        "WHERE call_id = 'msg_017DQYxTBUopfF6hAzwhgCfu:req_011CU42MZZxZi2tXGPgfriYA'"
    ).fetchall() == [(4, 276, 8976)]


# --- detection -------------------------------------------------------------------------------------------------


def _detect(path: Path) -> int:
    from costlens.ingest.claude_code import ADAPTER

    return ADAPTER.detect(open_source(path), IngestContext(config=Config()))


def _choose(path: Path) -> str:
    from costlens.ingest.runner import choose_adapter

    return choose_adapter(open_source(path), IngestContext(config=Config())).name


@pytest.mark.parametrize("path", MY_FIXTURES, ids=lambda p: p.name)
def test_runner_routes_my_fixtures_here(path):
    assert _detect(path) > 0
    assert _choose(path) == "claude_code"


@pytest.mark.parametrize("name", REAL_LOGS)
def test_runner_routes_real_logs_here(name):
    path = realdata(f"claude-code-logs/{name}")
    assert _detect(path) >= 90
    assert _choose(path) == "claude_code"


def _other_fixtures() -> list[Path]:
    return sorted(
        p
        for p in FIXTURES.rglob("*")
        if p.is_file()
        and "claude_code" not in p.relative_to(FIXTURES).parts
        and p.suffix in {".jsonl", ".json", ".csv", ".parquet", ".gz"}
    )


@pytest.mark.parametrize("path", _other_fixtures(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_other_adapters_fixtures_are_not_mine(path):
    assert _detect(path) == 0


def test_anthropic_app_log_lines_with_a_session_are_not_mine(tmp_path):
    """The raw Anthropic app-log wrapper may carry a session in its metadata: still not a Claude Code log."""
    path = tmp_path / "app.jsonl"
    path.write_text(
        _line(
            timestamp="2025-10-02T09:00:00Z",
            metadata={"session_id": "c-1", "sessionId": "c-1"},
            request={"model": "claude-sonnet-4-5"},
            response={
                "id": "msg_1",
                "type": "message",
                "model": SONNET,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            },
        ),
        encoding="utf-8",
    )
    assert _detect(path) == 0
