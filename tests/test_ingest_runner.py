"""The ingest runner's guarantees, for any adapter: accounting, idempotency, atomicity, large files."""

from __future__ import annotations

import json

import duckdb
import pytest


def _openai_line(i: int, prompt: int = 100) -> str:
    return json.dumps(
        {
            "object": "chat.completion",
            "id": f"chatcmpl-{i}",
            "model": "gpt-4o-2024-08-06",
            "created": 1759492800 + i,
            "usage": {"prompt_tokens": prompt, "completion_tokens": 20},
        }
    )


@pytest.mark.slow
def test_large_file_loads_every_row(tmp_path, con, ingest):
    # 130,000 rows: above DuckDB's 122,880-row group size, where a staged table once read back empty.
    rows = 130_000
    file = tmp_path / "big.jsonl"
    file.write_text("\n".join(_openai_line(i, 100 + i % 7) for i in range(rows)) + "\n")
    result = ingest(file)
    f = result.files[0]
    assert (f.status, f.rows_read, f.rows_loaded) == ("ingested", rows, rows)
    count, tokens = con.execute("SELECT count(*), sum(input_tokens) FROM calls").fetchone()
    assert count == rows
    assert tokens == sum(100 + i % 7 for i in range(rows))


@pytest.mark.slow
def test_accounting_identity_and_duplicates(tmp_path, con, ingest):
    first = tmp_path / "a.jsonl"
    first.write_text("\n".join(_openai_line(i) for i in range(10)) + "\n")
    # overlaps a.jsonl on ids 5..9, repeats id 12 twice, and has one broken line
    second = tmp_path / "b.jsonl"
    second.write_text("\n".join([_openai_line(i) for i in range(5, 15)] + [_openai_line(12), "{oops"]) + "\n")
    result = ingest(first, second)
    a, b = result.files
    assert (a.rows_read, a.rows_loaded, a.rows_duplicate, a.rows_quarantined) == (10, 10, 0, 0)
    assert (b.rows_read, b.rows_loaded, b.rows_duplicate, b.rows_quarantined) == (12, 5, 6, 1)
    for f in result.files:
        assert f.rows_read == f.rows_loaded + f.rows_duplicate + f.rows_quarantined + f.rows_skipped
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 15
    run = con.execute("SELECT rows_read, rows_loaded, rows_duplicate, rows_quarantined FROM ingest_runs").fetchone()
    assert run == (22, 15, 6, 1)


@pytest.mark.slow
def test_reingest_in_any_order_changes_nothing(tmp_path, con, ingest):
    files = []
    for part in range(3):
        file = tmp_path / f"part{part}.jsonl"
        file.write_text("\n".join(_openai_line(part * 100 + i) for i in range(20)) + "\n")
        files.append(file)
    ingest(*files)
    before = con.execute("SELECT count(*), sum(input_tokens) FROM calls").fetchone()
    again = ingest(*reversed(files))
    assert [f.status for f in again.files] == ["unchanged"] * 3
    # the same content under a new name is caught by row ids
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(files[1].read_bytes() + b"\n")
    dup = ingest(copy).files[0]
    assert (dup.rows_loaded, dup.rows_duplicate) == (0, 20)
    assert con.execute("SELECT count(*), sum(input_tokens) FROM calls").fetchone() == before


@pytest.mark.slow
def test_failed_file_leaves_nothing_behind(tmp_path, con, ingest, monkeypatch):
    file = tmp_path / "calls.jsonl"
    file.write_text("\n".join(_openai_line(i) for i in range(50)) + "\n")
    from costlens.ingest import runner

    def explode(*args, **kwargs):
        raise duckdb.IOException("disk full (simulated)")

    monkeypatch.setattr(runner, "_conform_staged", explode)
    from costlens.errors import DatabaseError

    with pytest.raises(DatabaseError, match="disk full|no space left"):  # the disk, not the file: the run stops
        ingest(file)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM ingested_files").fetchone()[0] == 0
    monkeypatch.undo()
    retry = ingest(file).files[0]
    assert (retry.status, retry.rows_loaded) == ("ingested", 50)


@pytest.mark.subprocess
@pytest.mark.slow
def test_second_writer_gets_clear_message(tmp_path):
    from costlens import db
    from costlens.errors import DatabaseError

    path = tmp_path / "shared.duckdb"
    holder = db.connect(path)
    try:
        import subprocess
        import sys

        proc = subprocess.run(
            [sys.executable, "-m", "costlens", "ingest", str(tmp_path), "--db", str(path)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 5
        assert "in use by another costlens process" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        holder.close()
    assert DatabaseError.exit_code == 5


def test_empty_file_is_reported(tmp_path, ingest):
    file = tmp_path / "empty.jsonl"
    file.write_text("")
    result = ingest(file)
    assert result.files[0].status == "failed"
    assert "is empty" in result.files[0].message
