"""Clear failures: each problem a user can hit is one line on stderr naming the thing and the fix, with the
exit code the README documents — never a traceback.

| problem                              | exit |
|--------------------------------------|------|
| unreadable input file                | 3    |
| unknown input format                 | 3    |
| wrong config (bad key, bad type, syntax) | 2 |
| full disk while writing the database | 5    |
| database from a newer costlens       | 5    |
| damaged database / not a database    | 5    |
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from costlens import db
from costlens.errors import EXIT_DATABASE, EXIT_INPUT, EXIT_USAGE

from conftest import PROJECT

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "costlens"]
ENV = {
    **os.environ,
    "PYTHONPATH": str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "COSTLENS_LOCK_WAIT": "0",
}


def run(*args: str, prefix: tuple[str, ...] = (), cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, *CLI, *args], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300)


def one_line_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """The whole of stderr is one `costlens: error:` line with every needle in it."""
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("costlens: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    assert proc.returncode == code, (proc.returncode, line)
    return line


def calls_file(path: Path, n: int = 3) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "object": "chat.completion",
                    "id": f"chatcmpl-{path.stem}-{i}",
                    "model": "gpt-4o-2024-08-06",
                    "created": 1759492800 + i,
                    "usage": {"prompt_tokens": 10 + i, "completion_tokens": 2},
                }
            )
            + "\n"
            for i in range(n)
        )
    )
    return path


def calls_in(database: Path) -> int:
    con = db.connect(database, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM calls").fetchone()[0]
    finally:
        con.close()


# --- unreadable file ----------------------------------------------------------------------------------------


def _without_root_privileges() -> tuple[str, ...] | None:
    """A command prefix under which file permissions apply: none needed for a normal user; for root, drop
    the capabilities that bypass them (setpriv). None when neither is possible."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return None
    probe = subprocess.run(
        [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--", "true"], capture_output=True
    )
    return (setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--") if probe.returncode == 0 else None


@pytest.mark.subprocess
def test_unreadable_file_is_exit_3_and_the_others_still_load(tmp_path):
    prefix = _without_root_privileges()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot be enforced")
    locked = calls_file(tmp_path / "locked.jsonl")
    locked.chmod(0)
    readable = calls_file(tmp_path / "readable.jsonl", 4)
    database = tmp_path / "db.duckdb"
    try:
        proc = run("ingest", str(locked), str(readable), "--db", str(database), "-q", prefix=prefix)
    finally:
        locked.chmod(0o644)
    line = one_line_error(proc, EXIT_INPUT, str(locked), "cannot be read", "Permission denied", "check permissions")
    assert "readable.jsonl" not in line
    assert "1 failed" in proc.stdout
    assert calls_in(database) == 4
    # once readable, the file loads whole
    again = run("ingest", str(locked), str(readable), "--db", str(database), "-q")
    assert again.returncode == 0, again.stderr
    assert calls_in(database) == 7


# --- unknown format ------------------------------------------------------------------------------------------


@pytest.mark.subprocess
def test_unknown_format_is_exit_3_with_the_fix(tmp_path):
    notes = tmp_path / "inventory.csv"
    notes.write_text("colour,size\nred,3\n")
    proc = run("ingest", str(notes), "--db", str(tmp_path / "db.duckdb"))
    one_line_error(proc, EXIT_INPUT, str(notes), "format not recognised", "pass --format NAME")
    forced = run("ingest", str(notes), "--db", str(tmp_path / "db.duckdb"), "--format", "excel")
    one_line_error(forced, EXIT_USAGE, "excel")


# --- wrong config --------------------------------------------------------------------------------------------


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "text, needles",
    [
        ("[features.bot]\nmonthly_budjet_usd = 5\n", ("monthly_budjet_usd", "correct or remove that setting")),
        ('[economics]\nloaded_hourly_rate_usd = "lots"\n', ("economics.loaded_hourly_rate_usd", "correct or remove")),
        ("[features\nbot = 1\n", ("not valid TOML", "fix the syntax")),
    ],
    ids=["bad key", "bad type", "bad syntax"],
)
def test_wrong_config_is_exit_2_naming_the_setting(tmp_path, text, needles):
    config = tmp_path / "costlens.toml"
    config.write_text(text)
    file = calls_file(tmp_path / "calls.jsonl")
    proc = run("ingest", str(file), "--db", str(tmp_path / "db.duckdb"), "--config", str(config))
    one_line_error(proc, EXIT_USAGE, str(config), *needles)
    assert not (tmp_path / "db.duckdb").exists()  # nothing was touched


@pytest.mark.subprocess
def test_missing_config_and_bad_lock_wait_are_exit_2(tmp_path):
    file = calls_file(tmp_path / "calls.jsonl")
    proc = run("ingest", str(file), "--db", str(tmp_path / "db.duckdb"), "--config", str(tmp_path / "nope.toml"))
    one_line_error(proc, EXIT_USAGE, "nope.toml", "not found", "check the --config path")
    bad = subprocess.run(
        [*CLI, "ingest", str(file), "--db", str(tmp_path / "db.duckdb")],
        capture_output=True,
        text=True,
        env={**ENV, "COSTLENS_LOCK_WAIT": "soon"},
        timeout=300,
    )
    one_line_error(bad, EXIT_USAGE, "COSTLENS_LOCK_WAIT", "use e.g. 30")


# --- database from a newer costlens, damaged, or not a database ----------------------------------------------


@pytest.mark.subprocess
def test_database_from_a_newer_costlens_is_refused_untouched(tmp_path):
    database = tmp_path / "future.duckdb"
    con = db.connect(database)
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.execute("UPDATE meta SET value = '9.0.0' WHERE key = 'costlens_version'")
    con.close()
    before = database.read_bytes()
    file = calls_file(tmp_path / "calls.jsonl")
    from costlens import __version__

    expected = (
        f"database {database} was created by costlens 9.0.0 (schema 999); this is costlens {__version__} "
        f"(schema {db.SCHEMA_VERSION}) — upgrade costlens (reinstall the llm-costlens distribution, README "
        f'"Install"; `costlens` on PyPI is another project), or use another --db'
    )
    for args in (("ingest", str(file)), ("report",), ("runs",), ("quarantine",)):
        proc = run(*args, "--db", str(database))
        assert one_line_error(proc, EXIT_DATABASE) == f"costlens: error: {expected}", args
    assert database.read_bytes() == before
    assert not Path(str(database) + ".wal").exists()


@pytest.mark.subprocess
def test_damaged_database_and_a_file_that_is_not_one(tmp_path):
    database = tmp_path / "damaged.duckdb"
    con = db.connect(database)
    con.close()
    data = bytearray(database.read_bytes())
    data[12] ^= 0xFF  # the storage version inside the checksummed main header
    database.write_bytes(bytes(data))
    proc = run("runs", "--db", str(database))
    one_line_error(proc, EXIT_DATABASE, f"database {database} is damaged", "restore it from a backup")
    not_db = tmp_path / "export.csv"
    not_db.write_text("a,b\n1,2\n")
    proc = run("ingest", str(calls_file(tmp_path / "calls.jsonl")), "--db", str(not_db))
    one_line_error(proc, EXIT_DATABASE, f"{not_db} is not a DuckDB database", "pass the costlens database with --db")
    assert not_db.read_text() == "a,b\n1,2\n"


# --- full disk -----------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MB tmpfs (root only); skipped where mounting is not allowed."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


@pytest.mark.subprocess
def test_full_disk_is_exit_5_naming_the_database_and_the_next_run_loads_whole(tiny_disk, tmp_path):
    big = tmp_path / "big.jsonl"
    calls_file(big, 20_000)  # ~3 MB of input, far more than fits a 1 MB database
    database = tiny_disk / "costlens.duckdb"
    proc = run("ingest", str(big), "--db", str(database), "-q")
    one_line_error(
        proc,
        EXIT_DATABASE,
        f"cannot write database {database}",
        "no space left on device",
        "free space where the database",
        "ingested whole next time",
    )
    # more room, same database: nothing half-written, and the file now loads whole
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)
    con = db.connect(database)
    try:
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM ingested_files").fetchone()[0] == 0
    finally:
        con.close()
    again = run("ingest", str(big), "--db", str(database), "-q")
    assert again.returncode == 0, again.stderr
    assert calls_in(database) == 20_000


def no_space_in(database: Path):
    """A stand-in that fails as DuckDB does when the disk under the database's WAL is full."""

    def fail(*args, **kwargs):
        import duckdb

        raise duckdb.IOException(f'IO Error: Could not write file "{database}.wal": No space left on device')

    return fail


def test_simulated_full_disk_at_commit_is_exit_5(tmp_path, monkeypatch):
    """Where mounting is impossible (CI), the same DuckDB error text raised after the file's load."""
    from typer.testing import CliRunner

    from costlens import cli
    from costlens.pricing import stored

    database = tmp_path / "db.duckdb"
    monkeypatch.setattr(stored, "price_calls", no_space_in(database))  # the step after the files' loads
    result = CliRunner().invoke(
        cli.app, ["ingest", str(calls_file(tmp_path / "calls.jsonl")), "--db", str(database), "-q"]
    )
    assert result.exit_code == EXIT_DATABASE, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("costlens: error:")]
    assert errors == [
        f"costlens: error: cannot write database {database}: no space left on device — free space "
        "where the database and COSTLENS_TEMP_DIR live, then run the command again (a file whose "
        "ingest did not finish is ingested whole next time)"
    ]


def test_simulated_full_disk_while_loading_a_file_blames_the_disk_not_the_file(tmp_path, monkeypatch):
    """A full disk in the middle of a file's load is the database's problem (exit 5), not the file's (exit 3):
    the input is fine and re-running after freeing space loads it whole. Needs the runner change proposed
    in the issue-8 notes (DatabaseError for storage failures, which stops the run)."""
    from typer.testing import CliRunner

    from costlens import cli
    from costlens.ingest import runner

    database = tmp_path / "db.duckdb"
    monkeypatch.setattr(runner, "_conform_staged", no_space_in(database))
    files = [str(calls_file(tmp_path / "a.jsonl")), str(calls_file(tmp_path / "b.jsonl"))]
    result = CliRunner().invoke(cli.app, ["ingest", *files, "--db", str(database), "-q"])
    errors = [line for line in result.output.splitlines() if line.startswith("costlens: error:")]
    assert result.exit_code == EXIT_DATABASE, result.output
    assert len(errors) == 1 and f"cannot write database {database}: no space left on device" in errors[0], errors
    monkeypatch.undo()
    assert calls_in(database) == 0
    again = CliRunner().invoke(cli.app, ["ingest", *files, "--db", str(database), "-q"])
    assert again.exit_code == 0, again.output
    assert calls_in(database) == 6
