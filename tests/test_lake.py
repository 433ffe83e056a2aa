"""The lake (costlens/lake.py): `costlens export lake` writes every table as Parquet, calls and bill lines by
month, committed whole; `--warehouse` reads it. On DuckDB the report from the lake is the report from the
database; a lake left part way by a stopped write is refused; a folder that is not a lake is never written
into. (Spark reading the same lake: tests/test_spark_engine.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLE_CONFIG, copy_sample_db

MONTH = "2026-10"


def costlens(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COSTLENS_")}
    return subprocess.run(
        [sys.executable, "-m", "costlens", *args], capture_output=True, text=True, timeout=600, env=env, cwd=cwd
    )


@pytest.fixture(scope="module")
def lake(sample_month_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lake")
    db = copy_sample_db(sample_month_db, folder)
    warehouse = folder / "warehouse"
    done = costlens("export", "lake", "--warehouse", str(warehouse), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db, warehouse, done.stderr


def test_the_lake_holds_every_table_and_row_calls_and_bill_lines_by_month(lake):
    db, warehouse, said = lake
    manifest = json.loads((warehouse / "_costlens_lake.json").read_text("utf-8"))
    con = duckdb.connect(str(db), read_only=True)
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
    counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
    con.close()
    assert manifest["tables"] == counts
    assert counts["calls"] == 26_138 and counts["billing_lines"] == 351
    assert sorted(p.name for p in (warehouse / "calls").iterdir()) == ["_commit", f"costlens_month={MONTH}"]
    assert (warehouse / "billing_lines" / f"costlens_month={MONTH}").is_dir()
    assert all((warehouse / t / "_commit").read_text() == manifest["commit"] for t in tables)
    assert not list(warehouse.glob("_staging-*"))  # the staging folder is gone once committed
    # the month's files hold exactly its calls, with their exact money
    files = str(warehouse / "calls" / "**" / "*.parquet")
    read = duckdb.connect()
    in_lake = read.execute(
        f"SELECT count(*), sum(stored_cost_usd), min(costlens_month) FROM read_parquet('{files}', hive_partitioning = true)"
    ).fetchall()[0]
    source = duckdb.connect(str(db), read_only=True)
    in_db = source.execute("SELECT count(*), sum(stored_cost_usd) FROM calls").fetchall()[0]
    source.close()
    assert in_lake == (*in_db, MONTH)
    assert f"{len(tables)} tables" in said and "1 month partition" in said


def test_a_report_from_the_lake_is_the_report_from_the_database(lake):
    db, warehouse, _ = lake
    common = ["report", "-p", MONTH, "--config", str(SAMPLE_CONFIG), "-j"]
    from_db = costlens(*common, "--db", str(db))
    from_lake = costlens(*common, "--warehouse", str(warehouse))
    assert from_db.returncode == from_lake.returncode == 0, from_lake.stderr
    first, second = json.loads(from_db.stdout), json.loads(from_lake.stdout)
    first.pop("generated_at"), second.pop("generated_at")
    assert second == first
    assert second["engine"] == "duckdb" and second["totals"]["cost_usd"] == first["totals"]["cost_usd"]


def test_a_lake_written_again_replaces_the_old_one_whole(lake, tmp_path):
    db, warehouse, _ = lake
    copy = tmp_path / "warehouse"
    subprocess.run(["cp", "-r", str(warehouse), str(copy)], check=True)
    before = json.loads((copy / "_costlens_lake.json").read_text())["commit"]
    again = costlens("export", "lake", "-w", str(copy), "--db", str(db))
    assert again.returncode == 0, again.stderr
    after = json.loads((copy / "_costlens_lake.json").read_text())["commit"]
    assert after != before
    assert {
        (copy / t / "_commit").read_text() for t in json.loads((copy / "_costlens_lake.json").read_text())["tables"]
    } == {after}
    assert not [p.name for p in copy.iterdir() if p.name.startswith("_staging")]


def test_a_lake_left_part_way_is_refused_with_the_fix(lake, tmp_path):
    _, warehouse, _ = lake
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(warehouse), str(broken)], check=True)
    (broken / "outcomes" / "_commit").write_text("20260101T000000Z-older")  # one table from an older write
    done = costlens("report", "--warehouse", str(broken), "--config", str(SAMPLE_CONFIG), "-j")
    assert done.returncode == 5
    assert "outcomes: commit 20260101T000000Z-older is not the lake's" in done.stderr
    assert "export lake" in done.stderr and "Traceback" not in done.stderr


def test_a_folder_that_is_not_a_lake_is_neither_read_nor_written(lake, tmp_path):
    db, _, _ = lake
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    written = costlens("export", "lake", "-w", str(mine), "--db", str(db))
    assert written.returncode == 2 and "is not a costlens lake" in written.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    read = costlens("reconcile", "--warehouse", str(mine), "--config", str(SAMPLE_CONFIG))
    assert read.returncode == 2 and "no costlens lake there" in read.stderr


@pytest.mark.parametrize(
    ("engine_table", "args", "said"),
    [
        ('[engine]\nmaster = "local[2]"\nremote = "sc://spark:15002"\n', [], "not both"),
        ('[engine]\nremote = "spark:15002"\n', [], "not a Spark Connect address"),
        ("", ["--engine", "flink"], "--engine 'flink' is not known"),
    ],
)
def test_an_engine_misconfigured_is_a_usage_error(lake, tmp_path, engine_table, args, said):
    db, _, _ = lake
    config = tmp_path / "costlens.toml"
    config.write_text(SAMPLE_CONFIG.read_text("utf-8") + "\n" + engine_table, encoding="utf-8")
    done = costlens("report", "--db", str(db), "--config", str(config), "-j", *args)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
