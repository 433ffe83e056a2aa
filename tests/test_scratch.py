"""The period's large tables live in a scratch database per connection (costlens.db.scratch_database): in
memory while they fit memory_limit, else a compressed file in the spill folder that the process deletes. Where
they live never changes a figure."""

from __future__ import annotations

import json
import subprocess
import sys

from costlens import api, db
from costlens.config import load_config
from costlens.report.render_json import render_json

from conftest import SAMPLE_CONFIG, copy_sample_db


def _report_json(database) -> dict:
    report = api.report(db=str(database), config=load_config(SAMPLE_CONFIG), period="2026-10")
    data = json.loads(render_json(report))
    data.pop("generated_at")
    return data


def test_a_report_whose_tables_are_stored_on_disk_is_the_report_in_memory(sample_month_db, tmp_path, monkeypatch):
    database = copy_sample_db(sample_month_db, tmp_path)
    spill = tmp_path / ".costlens_tmp"
    in_memory = _report_json(database)
    assert not list(spill.glob("costlens_scratch_*"))  # the sample month fits: nothing written
    # as if the month were larger than memory_limit: the tables go to a file
    monkeypatch.setattr(db, "_PERIOD_TABLE_BYTES_PER_CALL", 10**15)
    on_disk = _report_json(database)
    assert on_disk == in_memory and in_memory["totals"]["calls"] > 0 and in_memory["leaks"]
    files = list(spill.glob("costlens_scratch_*.duckdb"))
    assert len(files) >= 1 and all(f.stat().st_size > 0 for f in files)
    db.remove_scratch_files()  # what the CLI does as it leaves (cli._exit_now), and atexit for the library
    assert not list(spill.glob("costlens_scratch_*"))


def test_each_connection_and_cursor_has_its_own_scratch_database(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "_period_tables_fit_in_memory", lambda con: False)  # as if the calls were many
    con = db.connect(str(tmp_path / "c.duckdb"))
    try:
        cursor = con.cursor()
        first, again, other = db.scratch_database(con), db.scratch_database(con), db.scratch_database(cursor)
        assert first == again != other
        path = dict(con.execute("SELECT database_name, path FROM duckdb_databases()").fetchall())[first]
        assert path.startswith(str(tmp_path / ".costlens_tmp" / "costlens_scratch_"))
    finally:
        con.close()
        db.remove_scratch_files()


def test_an_in_memory_database_keeps_its_scratch_in_memory():
    con = db.connect(":memory:")
    try:
        name = db.scratch_database(con)
        assert dict(con.execute("SELECT database_name, coalesce(path, '') FROM duckdb_databases()").fetchall())[
            name
        ] in ("", ":memory:")
    finally:
        con.close()


def test_the_scratch_file_of_a_killed_process_is_removed_by_the_next(tmp_path, monkeypatch):
    spill = tmp_path / ".costlens_tmp"
    spill.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = spill / f"costlens_scratch_{int(dead.stdout)}_0123456789ab.duckdb"
    orphan.write_bytes(b"left by a killed process")
    alive = spill / "costlens_scratch_1_0123456789ab.duckdb"  # pid 1 runs: not this process's to remove
    alive.write_bytes(b"in use")
    monkeypatch.setattr(db, "_period_tables_fit_in_memory", lambda con: False)  # as if the calls were many
    con = db.connect(str(tmp_path / "c.duckdb"))
    try:
        db.scratch_database(con)
    finally:
        con.close()
        db.remove_scratch_files()
    assert not orphan.exists() and alive.exists()
