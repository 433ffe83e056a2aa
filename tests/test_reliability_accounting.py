"""Accounting: every row read is loaded, a duplicate, quarantined (rejected) or skipped — printed by
`costlens ingest`, stored per run and per file, listed by `costlens runs`, and every row not loaded is in
`costlens quarantine` with file, row and reason, exportable as CSV or JSONL."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costlens import api, cli, db
from costlens.config import Config
from costlens.ingest.runner import ingest_paths

from conftest import FIXTURES

SUMMARY = re.compile(
    r"rows read ([\d,]+) = loaded ([\d,]+) \+ duplicate ([\d,]+) \+ quarantined ([\d,]+) "
    r"\+ skipped ([\d,]+)"
)


def invoke(*args: str):
    result = CliRunner().invoke(cli.app, list(args))
    assert "Traceback" not in result.output
    return result


def numbers(text: str) -> tuple[int, ...]:
    match = SUMMARY.search(text)
    assert match, text
    return tuple(int(g.replace(",", "")) for g in match.groups())


def chat(call: str, prompt: int) -> str:
    return json.dumps(
        {
            "object": "chat.completion",
            "id": call,
            "model": "gpt-4o-2024-08-06",
            "created": 1759492800,
            "usage": {"prompt_tokens": prompt, "completion_tokens": 3},
        }
    )


def crafted_file(folder: Path) -> tuple[Path, dict]:
    """A file whose accounting is known by construction: 10 good calls, 2 repeats, 2 bad rows."""
    lines = [chat(f"chatcmpl-acc-{i}", 10 + i) for i in range(10)]
    lines.insert(4, chat("chatcmpl-acc-1", 11))  # line 5: a repeat of line 2
    lines.insert(7, "{not json")  # line 8: quarantined
    lines.append(chat("chatcmpl-acc-neg", -4))  # line 13: negative tokens, quarantined
    lines.append(chat("chatcmpl-acc-9", 19))  # line 14: a repeat of line 12
    path = folder / "crafted.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, {"read": 14, "loaded": 10, "duplicate": 2, "quarantined": 2, "skipped": 0, "rejected_rows": {8, 13}}


def non_blank_lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def records(path: Path) -> int:
    """Rows as costlens reads them, counted independently: one per JSON line, except OTLP, where each span
    of an export request is a row (and a line that is not JSON is one rejected row)."""
    if "otlp" not in path.name:
        return non_blank_lines(path)
    count = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            count += 1
            continue
        count += sum(
            len(scope.get("spans", []))
            for resource in request.get("resourceSpans", [])
            for scope in resource.get("scopeSpans", [])
        )
    return count


@pytest.fixture(scope="module")
def ingested_once(tmp_path_factory):
    folder = tmp_path_factory.mktemp("accounting")
    crafted, known = crafted_file(folder)
    files = [crafted, FIXTURES / "openai" / "app_log.jsonl", FIXTURES / "otel" / "otlp_small.jsonl"]
    database = folder / "acc.duckdb"
    result = invoke("ingest", *map(str, files), "--db", str(database))
    assert result.exit_code == 0, result.output
    return database, files, known, result.output


@pytest.fixture
def ingested(ingested_once, tmp_path):
    """A private copy of the database after one ingest run, so each test may add runs of its own."""
    import shutil

    source, files, known, output = ingested_once
    database = tmp_path / "acc.duckdb"
    shutil.copyfile(source, database)
    return str(database), files, known, output


@pytest.mark.slow
def test_printed_stored_and_listed_accounting_agree(ingested):
    database, files, known, output = ingested
    read, loaded, duplicate, quarantined, skipped = numbers(output)
    # independent: every record of every file is read
    assert read == sum(records(f) for f in files) == 14 + 15 + 5
    assert read == loaded + duplicate + quarantined + skipped
    assert "costlens quarantine --run 1" in output

    runs = json.loads(invoke("runs", "--db", database, "--format", "json").stdout)
    assert len(runs) == 1
    run = runs[0]
    assert (run["run_id"], run["status"], run["balanced"]) == (1, "finished", True)
    assert (run["files_seen"], run["files_ingested"], run["files_unchanged"], run["files_failed"]) == (3, 3, 0, 0)
    assert (
        run["rows_read"],
        run["rows_loaded"],
        run["rows_duplicate"],
        run["rows_quarantined"],
        run["rows_skipped"],
    ) == (read, loaded, duplicate, quarantined, skipped)

    con = db.connect(database, read_only=True)
    try:
        per_file = {
            Path(path).name: counts
            for path, *counts in con.execute(
                "SELECT source_file, rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_skipped "
                "FROM ingested_files"
            ).fetchall()
        }
        calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    finally:
        con.close()
    assert per_file["crafted.jsonl"] == [known[k] for k in ("read", "loaded", "duplicate", "quarantined", "skipped")]
    assert calls == loaded
    for path in files:
        assert per_file[path.name][0] == records(path)

    # every row read and not loaded (other than duplicates) is listed, with file, row and reason
    rows = api.quarantine(db=database)
    assert len(rows) == quarantined + skipped
    for path in files:
        mine = [r for r in rows if r["source_file"] == str(path)]
        counts = per_file[path.name]
        assert sum(r["disposition"] == "rejected" for r in mine) == counts[3]
        assert sum(r["disposition"] == "skipped" for r in mine) == counts[4]
        assert all(1 <= r["source_row"] <= non_blank_lines(path) and r["reason"].strip() for r in mine)
    crafted_rows = {(r["source_row"], r["disposition"]) for r in rows if r["source_file"].endswith("crafted.jsonl")}
    assert crafted_rows == {(row, "rejected") for row in known["rejected_rows"]}


@pytest.mark.slow
def test_runs_lists_every_run_newest_first_in_three_formats(ingested):
    database, files, _, _ = ingested
    again = invoke("ingest", *map(str, files), "--db", database)
    assert again.exit_code == 0
    assert numbers(again.output) == (0, 0, 0, 0, 0)
    assert "3 files: 0 ingested, 3 unchanged, 0 failed" in again.output

    as_json = json.loads(invoke("runs", "--db", database, "-f", "json").stdout)
    assert [r["run_id"] for r in as_json] == [2, 1]
    assert (as_json[0]["files_unchanged"], as_json[0]["rows_read"]) == (3, 0)
    as_csv = list(csv.DictReader(invoke("runs", "--db", database, "-f", "csv").stdout.splitlines()))
    assert [int(r["run_id"]) for r in as_csv] == [2, 1]
    for row, data in zip(as_csv, as_json):
        for key in (
            "files_seen",
            "files_ingested",
            "rows_read",
            "rows_loaded",
            "rows_duplicate",
            "rows_quarantined",
            "rows_skipped",
        ):
            assert int(row[key]) == data[key], key
    terminal = invoke("runs", "--db", database).stdout
    assert "rows read = loaded + duplicate + quarantined + skipped" in terminal
    first = next(line for line in terminal.splitlines() if re.match(r"\W*1\s", line))
    assert f"{as_json[1]['rows_read']:,}" in first
    assert invoke("runs", "--db", database, "--limit", "1", "-f", "json").stdout.count('"run_id"') == 1
    bad = invoke("runs", "--db", database, "-f", "xml")
    assert bad.exit_code == 2 and "use terminal, json or csv" in bad.output


@pytest.mark.slow
def test_quarantine_filters_and_exports(ingested, tmp_path):
    database, files, known, _ = ingested
    only_crafted = api.quarantine(db=database, file="crafted.jsonl")
    assert {r["source_row"] for r in only_crafted} == known["rejected_rows"]
    assert api.quarantine(db=database, file="*/otel/*") == [
        r for r in api.quarantine(db=database) if "/otel/" in r["source_file"]
    ]
    assert api.quarantine(db=database, run_id=2) == []
    skipped = api.quarantine(db=database, disposition="skipped")
    assert skipped and all(r["disposition"] == "skipped" for r in skipped)

    listing = invoke("quarantine", "--db", database, "--file", "crafted.jsonl").stdout
    assert f"{files[0]}:8: rejected: not valid JSON" in listing

    out_csv, out_jsonl = tmp_path / "q.csv", tmp_path / "q.jsonl"
    for out in (out_csv, out_jsonl):
        result = invoke("quarantine", "--db", database, "--run", "1", "--export", str(out))
        assert result.exit_code == 0, result.output
    from_csv = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    from_jsonl = [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines()]
    everything = api.quarantine(db=database)
    assert len(from_csv) == len(from_jsonl) == len(everything)
    assert (
        [(r["source_file"], int(r["source_row"]), r["reason"]) for r in from_csv]
        == [(r["source_file"], r["source_row"], r["reason"]) for r in from_jsonl]
        == [(r["source_file"], r["source_row"], r["reason"]) for r in everything]
    )
    bad = invoke("quarantine", "--db", database, "--export", str(tmp_path / "q.xlsx"))
    assert bad.exit_code == 2 and "name the file .csv or .jsonl" in bad.output


@pytest.mark.slow
def test_quarantine_csv_export_cannot_run_formulas(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostile = Path("=HYPERLINK(1).jsonl")  # a relative path is stored as given: the cell starts with "="
    hostile.write_text(chat("chatcmpl-h", 5) + "\n{broken\n")
    assert invoke("ingest", str(hostile), "--db", "h.duckdb", "-q").exit_code == 0
    assert invoke("quarantine", "--db", "h.duckdb", "--export", "q.csv").exit_code == 0
    assert invoke("quarantine", "--db", "h.duckdb", "--export", "q.jsonl").exit_code == 0
    (row,) = list(csv.DictReader(Path("q.csv").open(encoding="utf-8")))
    assert row["source_file"] == "'=HYPERLINK(1).jsonl"
    assert json.loads(Path("q.jsonl").read_text())["source_file"] == "=HYPERLINK(1).jsonl"  # data, not a sheet


@pytest.mark.slow
def test_interrupted_run_is_listed_with_what_it_committed(tmp_path):
    """A run killed before its end has no totals in ingest_runs; `runs` shows it as interrupted, with the
    counts of the files it did commit (those files are whole)."""
    crafted, known = crafted_file(tmp_path)
    database = tmp_path / "int.duckdb"
    con = db.connect(database)
    try:
        result = ingest_paths(con, [str(crafted)], Config())
        con.execute(
            "UPDATE ingest_runs SET finished_at = NULL, files_seen = NULL, files_ingested = NULL, "
            "files_skipped = NULL, rows_read = NULL, rows_loaded = NULL, rows_duplicate = NULL, "
            "rows_quarantined = NULL, rows_skipped = NULL WHERE run_id = ?",
            [result.run_id],
        )
    finally:
        con.close()
    (run,) = api.runs(db=str(database))
    assert (run.status, run.files_ingested, run.rows_read, run.rows_loaded, run.rows_quarantined) == (
        "interrupted",
        1,
        known["read"],
        known["loaded"],
        known["quarantined"],
    )
    assert run.balanced
    assert "interrupted" in invoke("runs", "--db", str(database)).stdout


def test_runs_on_an_empty_and_a_missing_database(tmp_path):
    database = tmp_path / "empty.duckdb"
    db.connect(database).close()
    assert "no ingest runs yet" in invoke("runs", "--db", str(database)).stdout
    missing = invoke("runs", "--db", str(tmp_path / "absent.duckdb"))
    assert missing.exit_code == 5 and "does not exist" in missing.output
