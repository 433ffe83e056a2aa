"""Feedback on long work: where an ingest is inside a file, which step a report is on — drawn on stderr for a
person at a terminal, never in a pipe, a CI log or with -q."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from costlens import api
from costlens.config import Config
from costlens.progress import QueryPoller, StepProgress

from conftest import PROJECT

CLI = [sys.executable, "-m", "costlens"]
ENV = {**os.environ, "PYTHONPATH": str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "120"}
ENV.pop("CI", None)
MIB = 1 << 20


def _openai_lines(path: Path, rows: int) -> Path:
    with path.open("w") as handle:
        for i in range(rows):
            handle.write(
                json.dumps(
                    {
                        "object": "chat.completion",
                        "id": f"chatcmpl-{i}",
                        "model": "gpt-4o-2024-08-06",
                        "created": 1791072000 + i,
                        "usage": {"prompt_tokens": 100 + i % 7, "completion_tokens": 20},
                        "choices": [{"message": {"role": "assistant", "content": "x" * 300}}],
                    }
                )
                + "\n"
            )
    return path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    """~6.6 MB of OpenAI responses: several 1 MiB hash blocks, one file loaded on its own."""
    return _openai_lines(tmp_path_factory.mktemp("progress") / "responses.jsonl", 14_000)


@pytest.mark.slow
def test_ingest_reports_increasing_byte_positions_inside_one_file(big_file, tmp_path):
    events = []
    result = api.ingest([str(big_file)], db=str(tmp_path / "db.duckdb"), config=Config(), on_progress=events.append)
    assert result.files[0].rows_loaded == 14_000
    size = big_file.stat().st_size
    assert size > 6 * MIB
    mine = [e for e in events if e.subject == str(big_file)]
    assert {e.total for e in mine} == {size}
    positions = [e.done for e in mine]
    assert positions == sorted(positions)  # never backwards
    assert all(isinstance(p, int) for p in positions)
    # the steps in order, each once
    steps = [e.step for e in mine]
    assert [s for i, s in enumerate(steps) if i == 0 or steps[i - 1] != s] == [
        "hashing",
        "reading",
        "checking",
        "inserting",
        "done",
    ]
    # hashing: 2% of the bytes, moved by each 1 MiB block hashed (0.02 × 1,048,576 = 20,971.52 per block)
    hashing = [e.done for e in mine if e.step == "hashing"]
    assert hashing[:5] == [0, 20971, 41943, 62914, 83886]
    assert hashing[-1] == int(0.02 * size)
    # each step starts where its slice starts: 2%, 57%, 67% of the file; the file ends at its size
    first = {step: next(e.done for e in mine if e.step == step) for step in ("reading", "checking", "inserting")}
    assert first == {"reading": int(0.02 * size), "checking": int(0.57 * size), "inserting": int(0.67 * size)}
    assert (mine[-1].step, mine[-1].done) == ("done", size)
    inside = {p for p in positions if 0 < p < size}
    assert len(inside) >= 6 + 3  # at least one per MiB hashed and one per step, whatever DuckDB reports
    # then the price book, after the last file
    assert events[-1].step == "pricing"


def test_a_step_moves_with_each_statement_and_never_back():
    events = []
    steps = StepProgress(events.append, "report", ("metrics", "leaks"))
    steps.step("metrics")
    steps.query(0.5)  # first statement half done: half of the step's first half
    steps.query(1.0)
    steps.query(None)  # idle: that statement is over
    steps.query(0.5)  # the second fills half of what is left: 0.5 + 0.25 × 0.5
    steps.query(0.2)  # a drop: the third statement, 0.75 + 0.125 × 0.2
    steps.query(0.18)  # a small dip is still the third statement: the position stays
    steps.step("leaks")
    steps.query(0.4)
    steps.finish()
    assert [(e.step, e.done, e.total) for e in events] == [
        ("metrics", 0.0, 2.0),
        ("metrics", 0.25, 2.0),
        ("metrics", 0.5, 2.0),
        ("metrics", 0.625, 2.0),
        ("metrics", 0.775, 2.0),
        ("leaks", 1.0, 2.0),
        ("leaks", 1.2, 2.0),
        ("done", 2.0, 2.0),
    ]


class _ScriptedConnection:
    def __init__(self, values):
        self.values = list(values)
        self.statements = []

    def query_progress(self):
        return self.values.pop(0)

    def execute(self, sql):
        self.statements.append(sql)


def test_the_poller_turns_duckdb_percentages_into_fractions():
    heard = []
    con = _ScriptedConnection([42.0, -1.0, 250.0])
    poller = QueryPoller(con, heard.append, interval=3600)
    for _ in range(3):
        poller.poll_once()
    assert heard == [0.42, None, 1.0]
    with poller:  # progress is tracked (never printed) only while polling
        pass
    assert con.statements == [
        "SET enable_progress_bar_print = false",
        "SET enable_progress_bar = true",
        "SET enable_progress_bar = false",
    ]


def test_duckdb_reports_the_progress_of_a_running_statement():
    """The installed DuckDB tracks a statement's progress with the settings the poller uses. The statement
    cannot finish on its own (10^12 rows): it is interrupted once a reading between 0 and 100% is seen."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    seen: list[float] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            con.execute("SELECT count(*) FROM range(1000000000000) WHERE range % 7 = 3").fetchall()
        except duckdb.Error as exc:
            failure.append(exc)

    with QueryPoller(con, lambda f: f is not None and seen.append(f), interval=0.05):
        worker = threading.Thread(target=run)
        worker.start()
        for _ in range(600):
            if any(0 < f < 1 for f in seen):
                break
            worker.join(0.05)
        con.interrupt()
        worker.join(60)
    assert any(0 < f < 1 for f in seen), seen[:20]
    assert failure and "interrupt" in str(failure[0]).lower()
    con.close()


def _on_a_terminal(args: list[str], cwd: Path, env: dict | None = None) -> tuple[int, str, bytes]:
    """Run the CLI with stderr on a pseudo-terminal (what a person sees) and stdout in a file."""
    master, slave = pty.openpty()
    stdout = cwd / "stdout.bin"
    with stdout.open("wb") as out:
        proc = subprocess.Popen(CLI + args, stdout=out, stderr=slave, cwd=cwd, env=env or ENV)
        os.close(slave)
        chunks = []
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed its end
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=300)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace"), stdout.read_bytes()


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("progress-cli")
    calls = _openai_lines(folder / "calls.jsonl", 3_000)
    proc = subprocess.run(
        CLI + ["ingest", str(calls), "--db", str(folder / "db.duckdb"), "-q"],
        env=ENV,
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return folder, calls


@pytest.mark.subprocess
@pytest.mark.slow
def test_progress_is_drawn_on_a_terminal_only(small_db, tmp_path):
    folder, calls = small_db
    db = str(tmp_path / "db.duckdb")
    code, terminal, stdout = _on_a_terminal(["ingest", str(calls), "--db", db], tmp_path)
    assert code == 0
    assert "ingest" in terminal and "MB" in terminal  # the bar, in bytes
    assert b"1 ingested" in stdout and b"MB" not in stdout
    # the same command in a pipe (a CI log, `2> file`): not one character of progress
    proc = subprocess.run(
        CLI + ["ingest", str(calls), "--db", str(tmp_path / "db2.duckdb")],
        env=ENV,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    # -q, or a CI job with a terminal: no progress either
    code, terminal, _ = _on_a_terminal(["ingest", str(calls), "--db", str(tmp_path / "db3.duckdb"), "-q"], tmp_path)
    assert code == 0 and terminal == ""
    code, terminal, _ = _on_a_terminal(
        ["ingest", str(calls), "--db", str(tmp_path / "db4.duckdb")], tmp_path, env={**ENV, "CI": "true"}
    )
    assert code == 0 and terminal == ""


@pytest.mark.subprocess
@pytest.mark.slow
def test_report_steps_on_a_terminal_and_nothing_in_a_pipe(small_db, tmp_path):
    folder, _ = small_db
    db = str(folder / "db.duckdb")
    code, terminal, stdout = _on_a_terminal(["report", "--db", db, "--period", "2026-10", "-f", "json"], tmp_path)
    assert code == 0, terminal
    assert "report" in terminal and "pricing" in terminal
    assert json.loads(stdout)["totals"]["calls"] == 3_000  # stdout holds the JSON and nothing else
    proc = subprocess.run(
        CLI + ["report", "--db", db, "--period", "2026-10", "-f", "json"],
        env=ENV,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)["totals"]["calls"] == 3_000


@pytest.mark.subprocess
@pytest.mark.slow
def test_report_hook_hears_every_step_in_order(small_db):
    folder, _ = small_db
    events = []
    report = api.report(db=str(folder / "db.duckdb"), config=Config(), period="2026-10", on_progress=events.append)
    assert report.totals.calls == 3_000
    steps = [e.step for e in events]
    assert [s for i, s in enumerate(steps) if i == 0 or steps[i - 1] != s] == [
        "pricing",
        "metrics",
        "reconciling",
        "budgets",
        "leaks",
        "levers",
        "trends",
        "done",
    ]
    assert [e.done for e in events] == sorted(e.done for e in events)
    assert (events[-1].done, events[-1].total) == (7.0, 7.0)
