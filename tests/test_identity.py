"""The same money once: a call, a bill line and an outcome keep their identity across re-exports, appends,
compression, renames, copies and a second producer (README "Identity")."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from costlens import api, db
from costlens.config import Config

from conftest import SAMPLE_LOGS

BILL = SAMPLE_LOGS / "focus_billing_2026-10.csv"
AI_BILLED = Decimal("279.2899422")  # Σ BilledCost of the sample bill's AI lines (by hand from the file)


def _ai_billed(dbfile: str) -> Decimal:
    config = api.load_config(str(SAMPLE_LOGS / "costlens.toml"))
    return api.report(db=dbfile, config=config, period="2026-10").reconciliation.ai_billed_usd


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict], newline: str = "\n") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), newline="")
    return path


def _logs(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    shutil.copytree(SAMPLE_LOGS, logs, ignore=shutil.ignore_patterns("focus_*", "*.py", "*.md", "*.toml"))
    return logs


@pytest.mark.slow
def test_a_re_exported_bill_counts_once(tmp_path):
    # the same FOCUS bill reordered, re-saved with CRLF line ends, and gzipped: one bill, not three
    header, rows = _rows(BILL)
    reordered = _write(tmp_path / "bill_reordered.csv", header, list(reversed(rows)))
    crlf = _write(tmp_path / "bill_crlf.csv", header, rows, newline="\r\n")
    gz = tmp_path / "bill.csv.gz"
    gz.write_bytes(gzip.compress(BILL.read_bytes()))
    dbfile = str(tmp_path / "c.duckdb")
    config = api.load_config(str(SAMPLE_LOGS / "costlens.toml"))
    files = api.ingest(
        [str(_logs(tmp_path)), str(BILL), str(reordered), str(crlf), str(gz)], db=dbfile, config=config
    ).files
    bills = [f for f in files if f.target == "billing_lines"]
    assert [(f.rows_loaded, f.rows_duplicate) for f in bills] == [(351, 0), (0, 351), (0, 351), (0, 351)]
    assert _ai_billed(dbfile) == AI_BILLED
    report = api.report(db=dbfile, config=config, period="2026-10")
    assert report.reconciliation.status == "reconciled"
    con = db.connect(dbfile)
    reasons = con.execute("SELECT DISTINCT reason FROM quarantine WHERE disposition = 'duplicate'").fetchall()
    con.close()
    assert reasons == [(f"the same bill line was already loaded from {BILL}",)]


@pytest.mark.slow
def test_overlapping_month_to_date_exports_count_the_overlap_once(tmp_path):
    # a month-to-date export of Oct 1–15, then a refreshed one of Oct 1–20 with one line's amount corrected:
    # the newer export is the bill for the days it covers; the older one's lines there are history
    header, rows = _rows(BILL)
    day = lambda r: r["ChargePeriodStart"][:10]  # noqa: E731
    first = [r for r in rows if day(r) <= "2026-10-15"]
    second = [dict(r) for r in rows if day(r) <= "2026-10-20"]
    corrected = next(r for r in second if r["ServiceName"].startswith("Azure OpenAI") and day(r) == "2026-10-03")
    corrected["BilledCost"] = str(Decimal(corrected["BilledCost"]) + Decimal("1.5"))
    older, newer = _write(tmp_path / "mtd_15.csv", header, first), _write(tmp_path / "mtd_20.csv", header, second)
    os.utime(older, (1_760_000_000, 1_760_000_000))
    os.utime(newer, (1_760_500_000, 1_760_500_000))  # exported later
    dbfile = str(tmp_path / "c.duckdb")
    config = api.load_config(str(SAMPLE_LOGS / "costlens.toml"))
    api.ingest([str(_logs(tmp_path))], db=dbfile, config=config)
    api.ingest([str(older)], db=dbfile, config=config)
    api.ingest([str(newer)], db=dbfile, config=config)
    ai = [r for r in second if r["ServiceCategory"] == "AI and Machine Learning"]
    assert _ai_billed(dbfile) == sum(Decimal(r["BilledCost"]) for r in ai)  # the newer export's AI total
    con = db.connect(dbfile)
    replaced = con.execute("SELECT target, source_file, replaced_file, rows_replaced FROM replacements").fetchall()
    current = con.execute("SELECT count(*) FROM billing_lines WHERE superseded_by IS NULL").fetchone()[0]
    con.close()
    assert replaced == [("billing_lines", str(newer), str(older), 1)]  # only the corrected line was replaced
    assert current == len(second)


@pytest.mark.slow
def test_an_older_export_ingested_after_a_newer_one_stays_history(tmp_path):
    header, rows = _rows(BILL)
    older = _write(tmp_path / "old.csv", header, [dict(r, BilledCost="0.01") for r in rows[:50]])
    os.utime(older, (1_700_000_000, 1_700_000_000))
    dbfile = str(tmp_path / "c.duckdb")
    api.ingest([str(BILL)], db=dbfile, config=Config())
    api.ingest([str(older)], db=dbfile, config=Config())
    con = db.connect(dbfile)
    history = con.execute(
        "SELECT count(*) FROM billing_lines WHERE source_file = ? AND superseded_by IS NOT NULL", [str(older)]
    ).fetchone()[0]
    con.close()
    assert history == 50 and _ai_billed(dbfile) == AI_BILLED


@pytest.mark.slow
def test_a_copy_of_an_earlier_export_delivered_last_is_the_bill_again(tmp_path):
    # export A (one line at $2), then B correcting it to $3, then a copy of A delivered after B (a re-run of the
    # old export job): the latest delivery is A's content, so A's line is the bill again — in separate runs and
    # in one run over the folder alike; an unchanged copy of the current export adds nothing
    header, rows = _rows(BILL)
    ai = [dict(r) for r in rows if r["ServiceCategory"] == "AI and Machine Learning"][:1]
    (tmp_path / "in").mkdir()
    a = _write(tmp_path / "in" / "a.csv", header, [dict(ai[0], BilledCost="2")])
    b = _write(tmp_path / "in" / "b.csv", header, [dict(ai[0], BilledCost="3")])
    c = tmp_path / "in" / "c.csv"
    shutil.copyfile(a, c)
    for clock, path in enumerate((a, b, c)):
        os.utime(path, (1_760_000_000 + clock * 100,) * 2)
    for one_run in (False, True):
        dbfile = str(tmp_path / f"c{one_run}.duckdb")
        results = (
            [f for path in (a, b, c) for f in api.ingest([str(path)], db=dbfile, config=Config()).files]
            if not one_run
            else api.ingest([str(tmp_path / "in")], db=dbfile, config=Config()).files
        )
        assert [f.status for f in results] == ["ingested"] * 3, one_run
        assert results[2].replaced_rows == 1
        con = db.connect(dbfile)
        current = con.execute(
            "SELECT sum(billed_cost), count(*) FROM billing_lines WHERE superseded_by IS NULL"
        ).fetchone()
        con.close()
        assert current == (Decimal(2), 1), one_run
    shutil.copyfile(c, tmp_path / "in" / "d.csv")
    os.utime(tmp_path / "in" / "d.csv", (1_760_001_000,) * 2)
    assert [f.status for f in api.ingest([str(tmp_path / "in" / "d.csv")], db=dbfile, config=Config()).files] == [
        "unchanged"
    ]


@pytest.mark.slow
def test_a_copy_of_earlier_outcomes_delivered_last_wins_again(tmp_path):
    first = tmp_path / "v1.csv"
    first.write_text("task_id,accepted\nt1,true\nt2,false\n")
    second = tmp_path / "v2.csv"
    second.write_text("task_id,accepted\nt2,true\n")
    again = tmp_path / "v1-again.csv"
    shutil.copyfile(first, again)
    for clock, path in enumerate((first, second, again)):
        os.utime(path, (1_760_000_000 + clock * 100,) * 2)
    dbfile = str(tmp_path / "c.duckdb")
    for path in (first, second, again):
        api.ingest([str(path)], db=dbfile, config=Config())
    con = db.connect(dbfile)
    verdicts = con.execute("SELECT task_id, accepted FROM outcomes ORDER BY task_id").fetchall()
    con.close()
    assert verdicts == [("t1", True), ("t2", False)]


@pytest.mark.slow
def test_rows_without_ids_keep_their_identity_when_a_file_grows_or_moves(tmp_path):
    # a generic CSV without a call id column: appended to, renamed, gzipped — each row counted once
    header = "ts,model,tokens_in,tokens_out\n"
    day1 = "".join(f"2026-10-01T10:00:{s:02d}Z,gpt-4o,100,10\n" for s in range(5))
    day1 += "2026-10-01T10:00:00Z,gpt-4o,100,10\n"  # a genuine second call identical to the first
    day2 = "".join(f"2026-10-02T10:00:{s:02d}Z,gpt-4o,200,20\n" for s in range(3))
    log = tmp_path / "requests.csv"
    log.write_text(header + day1)
    maps = ["ts=ts", "input_tokens=tokens_in", "output_tokens=tokens_out"]
    mapping = api.parse_mapping(maps, ["provider=openai"])
    dbfile = str(tmp_path / "c.duckdb")
    (first,) = api.ingest([str(log)], db=dbfile, config=Config(), mapping=mapping).files
    assert first.rows_loaded == 6
    log.write_text(header + day1 + day2)  # the daily log grew
    (grown,) = api.ingest([str(log)], db=dbfile, config=Config(), mapping=mapping).files
    assert (grown.rows_loaded, grown.rows_duplicate) == (3, 6)
    renamed = tmp_path / "archive" / "requests-2026-10.csv.gz"
    renamed.parent.mkdir()
    renamed.write_bytes(gzip.compress(log.read_bytes()))
    (moved,) = api.ingest([str(renamed)], db=dbfile, config=Config(), mapping=mapping).files
    assert (moved.rows_loaded, moved.rows_duplicate) == (0, 9)
    report = api.report(db=dbfile, config=Config(), period="2026-10")
    assert report.totals.calls == 9


@pytest.mark.slow
def test_one_request_from_two_producers_is_one_call(tmp_path):
    # an OTel span and the app's own log line for the same OpenAI response id
    response = {
        "id": "chatcmpl-same-1",
        "object": "chat.completion",
        "created": 1759658400,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100},
    }
    app = tmp_path / "app.jsonl"
    app.write_text(
        json.dumps(
            {
                "timestamp": "2026-10-05T10:00:00Z",
                "metadata": {"feature": "bot"},
                "request": {"model": "gpt-4o"},
                "response": response,
            }
        )
        + "\n"
    )
    span = tmp_path / "spans.jsonl"
    span.write_text(
        json.dumps(
            {
                "trace_id": "a" * 32,
                "span_id": "b" * 16,
                "start_time": "2026-10-05T10:00:00Z",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.response.id": "chatcmpl-same-1",
                    "gen_ai.usage.input_tokens": 1000,
                    "gen_ai.usage.output_tokens": 100,
                },
            }
        )
        + "\n"
    )
    dbfile = str(tmp_path / "c.duckdb")
    app_file, span_file = api.ingest([str(app), str(span)], db=dbfile, config=Config()).files
    assert (app_file.rows_loaded, span_file.rows_loaded, span_file.rows_duplicate) == (1, 0, 1)
    con = db.connect(dbfile)
    reason = con.execute("SELECT reason FROM quarantine WHERE disposition = 'duplicate'").fetchone()[0]
    con.close()
    assert reason == f"the same request was already loaded from {app} (openai)"
    assert api.report(db=dbfile, config=Config(), period="2026-10").totals.cost_usd == Decimal("0.0035")


@pytest.mark.slow
def test_a_file_edited_in_place_with_the_same_size_and_mtime_is_read_again(tmp_path):
    log = tmp_path / "requests.csv"
    log.write_text("ts,model,tokens_in,tokens_out\n2026-10-01T10:00:00Z,gpt-4o,100,10\n")
    mapping = api.parse_mapping(["ts=ts", "input_tokens=tokens_in", "output_tokens=tokens_out"], ["provider=openai"])
    dbfile = str(tmp_path / "c.duckdb")
    api.ingest([str(log)], db=dbfile, config=Config(), mapping=mapping)
    stat = log.stat()
    log.write_text("ts,model,tokens_in,tokens_out\n2026-10-01T10:00:00Z,gpt-4o,900,90\n")  # same size
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same modification time
    (again,) = api.ingest([str(log)], db=dbfile, config=Config(), mapping=mapping).files
    assert (again.status, again.rows_loaded) == ("ingested", 1)


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 4])
def test_line_ids_do_not_depend_on_the_thread_count(tmp_path, threads, monkeypatch):
    from conftest import FIXTURES

    page = FIXTURES / "openai_billing" / "costs_page.json"
    monkeypatch.setenv("COSTLENS_THREADS", str(threads))
    con = db.connect(":memory:")
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == threads
    from costlens.ingest.runner import ingest_paths

    ingest_paths(con, [str(page)], Config())
    ids = con.execute("SELECT source_row, line_id, billed_cost FROM billing_lines ORDER BY line_id").fetchall()
    con.close()
    monkeypatch.setenv("COSTLENS_THREADS", "2")
    reference = db.connect(":memory:")
    ingest_paths(reference, [str(page)], Config())
    assert (
        ids
        == reference.execute("SELECT source_row, line_id, billed_cost FROM billing_lines ORDER BY line_id").fetchall()
    )
    reference.close()


@pytest.mark.subprocess
@pytest.mark.slow
def test_the_sample_month_is_the_same_at_one_and_four_threads(tmp_path):
    import subprocess
    import sys

    reports = {}
    for threads in ("1", "4"):
        env = {**os.environ, "COSTLENS_THREADS": threads}
        dbfile = str(tmp_path / f"t{threads}.duckdb")
        cli = [sys.executable, "-m", "costlens"]
        ingest = subprocess.run(
            cli + ["ingest", str(SAMPLE_LOGS), "--db", dbfile, "--config", str(SAMPLE_LOGS / "costlens.toml")],
            env=env,
            capture_output=True,
            text=True,
        )
        assert ingest.returncode == 0, ingest.stderr
        out = subprocess.run(
            cli + ["report", "--db", dbfile, "--config", str(SAMPLE_LOGS / "costlens.toml"), "-f", "json"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        report = json.loads(out)
        report.pop("generated_at")
        reports[threads] = report
        con = db.connect(dbfile, read_only=True)
        reports[threads]["ids"] = con.execute(
            "SELECT md5(string_agg(call_id, ',' ORDER BY call_id)) FROM calls"
        ).fetchone()[0]
        con.close()
    assert reports["1"] == reports["4"]
    assert reports["1"]["totals"]["calls"] == 26_138


@pytest.mark.subprocess
def test_a_bad_thread_count_is_a_usage_error(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "costlens", "runs", "--db", str(tmp_path / "x.duckdb")],
        env={**os.environ, "COSTLENS_THREADS": "two"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "costlens: error: COSTLENS_THREADS='two' is not a thread count — use a whole number from 1, e.g. 2\n"
    )
