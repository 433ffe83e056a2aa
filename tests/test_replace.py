"""Config that takes effect: `ingest --replace` loads files already ingested again in place of their earlier rows
(one transaction per file), a generic file that fails names the costlens.toml beside it, and COSTLENS_CONFIG is
read."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE_LOGS

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "costlens"]
TOML = SAMPLE_LOGS / "costlens.toml"
BILL = SAMPLE_LOGS / "focus_billing_2026-10.csv"


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + list(args), capture_output=True, text=True, timeout=600, cwd=cwd, env={**os.environ, **(env or {})}
    )


def state(dbfile: Path) -> dict:
    """What a user would compare: the report's totals and the row accounting of the database."""
    import duckdb

    con = duckdb.connect(str(dbfile), read_only=True)
    try:
        counts = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "calls",
                "call_charges",
                "outcomes",
                "billing_lines",
                "quarantine",
                "ingested_files",
                "unpriced_usage",
                "trace_context",
            )
        }
        counts["current_bill_lines"] = con.execute(
            "SELECT count(*) FROM billing_lines WHERE superseded_by IS NULL"
        ).fetchone()[0]
        counts["features"] = sorted(r[0] or "" for r in con.execute("SELECT DISTINCT feature FROM calls").fetchall())
    finally:
        con.close()
    report = json.loads(run("report", "--db", str(dbfile), "--config", str(TOML), "-f", "json").stdout)
    counts["cost_usd"] = report["totals"]["cost_usd"]
    counts["tasks"] = report["totals"]["tasks"]
    return counts


@pytest.mark.subprocess
def test_replace_after_a_config_fix_equals_a_fresh_load(tmp_path):
    # first without the sample's config: the warehouse CSV fails and the feature mappings are missing
    first = tmp_path / "first.duckdb"
    proc = run("ingest", str(SAMPLE_LOGS), "--db", str(first), cwd=tmp_path)
    assert proc.returncode == 3
    assert (
        f"ticket_classifier_warehouse.csv: format not recognised (csv content) — pass --config {TOML} (its "
        f"mapping 'ticket-classifier-warehouse' matches this file), or --format NAME / --map for a generic file"
        in proc.stderr
    )
    before = state(first)
    # without --replace the fixed config changes nothing for the files already loaded
    proc = run("ingest", str(SAMPLE_LOGS), "--db", str(first), "--config", str(TOML), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "8 unchanged" in proc.stdout
    # with --replace: every file is loaded again under the config, the same as a fresh load with it
    proc = run("ingest", str(SAMPLE_LOGS), "--db", str(first), "--config", str(TOML), "--replace", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "9 files: 9 ingested (9 reloaded in place of 46,335 earlier rows), 0 unchanged, 0 failed" in proc.stdout
    fresh = tmp_path / "fresh.duckdb"
    assert run("ingest", str(SAMPLE_LOGS), "--db", str(fresh), "--config", str(TOML), cwd=tmp_path).returncode == 0
    after, expected = state(first), state(fresh)
    assert after == expected
    assert before["calls"] == 16_611 and after["calls"] == 26_138  # the warehouse CSV's 9,527 calls arrived
    assert before["features"] != after["features"]


def _generic(path: Path) -> Path:
    rows = [
        {
            "ts": f"2026-10-0{d}T10:00:00Z",
            "model": "gpt-4o-mini",
            "prompt": str(1000 * d),
            "completion": "100",
            "feature": "triage",
        }
        for d in range(1, 6)
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue())
    return path


@pytest.mark.subprocess
def test_replace_applies_a_fixed_mapping(tmp_path):
    data = _generic(tmp_path / "requests.csv")
    dbfile = tmp_path / "m.duckdb"
    wrong = ["--map", "input_tokens=completion", "--map", "output_tokens=prompt", "--set", "provider=openai"]
    right = ["--map", "input_tokens=prompt", "--map", "output_tokens=completion", "--set", "provider=openai"]
    assert run("ingest", str(data), "--db", str(dbfile), *wrong).returncode == 0
    import duckdb

    def tokens():
        con = duckdb.connect(str(dbfile), read_only=True)
        try:
            return con.execute("SELECT sum(input_tokens), sum(output_tokens), count(*) FROM calls").fetchone()
        finally:
            con.close()

    assert tokens() == (500, 15_000, 5)
    proc = run("ingest", str(data), "--db", str(dbfile), *right)
    assert "1 unchanged" in proc.stdout and tokens() == (500, 15_000, 5)  # the manifest knows the file
    proc = run("ingest", str(data), "--db", str(dbfile), *right, "--replace")
    assert proc.returncode == 0, proc.stderr
    assert "1 files: 1 ingested (1 reloaded in place of 5 earlier rows)" in proc.stdout
    assert tokens() == (15_000, 500, 5)  # 1000+2000+…+5000 prompt tokens, 5 × 100 completion tokens


@pytest.mark.subprocess
def test_a_replace_that_fails_keeps_the_earlier_rows(tmp_path):
    data = _generic(tmp_path / "requests.csv")
    dbfile = tmp_path / "f.duckdb"
    mapping = ["--map", "input_tokens=prompt", "--map", "output_tokens=completion", "--set", "provider=openai"]
    assert run("ingest", str(data), "--db", str(dbfile), *mapping).returncode == 0
    proc = run("ingest", str(data), "--db", str(dbfile), "--format", "focus", "--replace")
    assert proc.returncode == 3
    assert proc.stderr.endswith(
        f"costlens: error: {data}: --replace would drop the 5 rows loaded earlier and load "
        "none (5 quarantined as focus) — check --format and the mapping; the earlier rows "
        "are kept\n"
    ), proc.stderr
    import duckdb

    con = duckdb.connect(str(dbfile), read_only=True)
    try:
        assert con.execute("SELECT count(*), sum(input_tokens) FROM calls").fetchone() == (5, 15_000)
        assert con.execute("SELECT count(*) FROM ingested_files").fetchone()[0] == 1
    finally:
        con.close()


@pytest.mark.subprocess
def test_replacing_a_newer_bill_export_restores_then_redecides_the_older_one(tmp_path):
    header = BILL.read_text().splitlines()[0]
    lines = BILL.read_text().splitlines()[1:]
    older = tmp_path / "older.csv"
    older.write_text("\n".join([header] + lines[:100]) + "\n")
    os.utime(older, (1_760_000_000, 1_760_000_000))
    newer = tmp_path / "newer.csv"
    shutil.copy(BILL, newer)
    os.utime(newer, (1_760_500_000, 1_760_500_000))
    dbfile = tmp_path / "b.duckdb"
    assert run("ingest", str(older), "--db", str(dbfile)).returncode == 0
    assert run("ingest", str(newer), "--db", str(dbfile)).returncode == 0
    before = state(dbfile)
    proc = run("ingest", str(newer), "--db", str(dbfile), "--replace")
    assert proc.returncode == 0, proc.stderr
    assert (
        "(1 reloaded in place of 251 earlier rows)" in proc.stdout
    )  # 100 of its lines came first from the older export
    assert state(dbfile) == before
    import duckdb

    con = duckdb.connect(str(dbfile), read_only=True)
    try:
        replaced = con.execute("SELECT source_file, replaced_file FROM replacements").fetchall()
    finally:
        con.close()
    assert set(replaced) <= {(str(newer), str(older))}


@pytest.mark.subprocess
def test_costlens_config_is_read(tmp_path):
    dbfile = tmp_path / "e.duckdb"
    proc = run(
        "ingest",
        str(SAMPLE_LOGS / "ticket_classifier_warehouse.csv"),
        "--db",
        str(dbfile),
        cwd=tmp_path,
        env={"COSTLENS_CONFIG": str(TOML)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 ingested" in proc.stdout
    proc = run("report", "--db", str(dbfile), cwd=tmp_path, env={"COSTLENS_CONFIG": str(tmp_path / "nope.toml")})
    assert proc.returncode == 2
    assert proc.stderr == (
        f"costlens: error: COSTLENS_CONFIG='{tmp_path / 'nope.toml'}': config file not found — "
        "point it at a costlens.toml, or unset it\n"
    )
