"""Every way out of costlens is a documented exit code with at most one line on stderr (issue 14, item 2).

| situation                                                    | exit |
|--------------------------------------------------------------|------|
| Ctrl-C, wherever it lands (Python, DuckDB, a library)        | 130  |
| typer / click usage error (unknown option, missing argument) | 2    |
| bad COSTLENS_* value                                         | 2    |
| valid database on a read-only disk / without permission      | 5, said so (not "not a DuckDB database") |
| stdout closed by its reader (`costlens report | head -1`)    | 141, nothing on stderr |
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costlens import db
from costlens.errors import EXIT_DATABASE, EXIT_USAGE

from conftest import PROJECT

CLI = [sys.executable, "-m", "costlens"]
ENV = {
    **os.environ,
    "PYTHONPATH": str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "COSTLENS_LOCK_WAIT": "0",
}
for _name in ("COSTLENS_DB", "COSTLENS_MEMORY_LIMIT", "COSTLENS_TEMP_DIR", "COSTLENS_DEBUG"):
    ENV.pop(_name, None)


def run(*args: str, env: dict | None = None, prefix: tuple[str, ...] = (), cwd: Path | None = None):
    return subprocess.run([*prefix, *CLI, *args], capture_output=True, text=True, env=env or ENV, cwd=cwd, timeout=300)


def one_line_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("costlens: error: ") and " — " in line, line
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


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exits")
    database = folder / "small.duckdb"
    proc = run("ingest", str(calls_file(folder / "calls.jsonl", 40)), "--db", str(database), "-q")
    assert proc.returncode == 0, proc.stderr
    return database


# --- usage errors: typer's own, as one line ------------------------------------------------------------------

USAGE = [
    (["report", "--bogus"], "report: no such option: --bogus", "`costlens report --help`"),
    (["report", "--formt", "json"], "report: no such option: --formt", "--format"),
    (["ingest"], "ingest: missing argument", "`costlens ingest --help`"),
    (["runs", "--limit", "abc"], "runs: invalid value for '--limit'", "`costlens runs --help`"),
    (["check", "--max-cpao-regression-pct", "lots"], "invalid value for '--max-cpao-regression-pct'", "--help"),
    (["export", "focus"], "export focus: missing option '--out'", "`costlens export focus --help`"),
    (["frobnicate"], "no such command 'frobnicate'", "`costlens --help`"),
]


@pytest.mark.subprocess
@pytest.mark.parametrize("args, what, fix", USAGE, ids=[" ".join(a) for a, _, _ in USAGE])
def test_typer_usage_errors_are_one_line_exit_2(args, what, fix):
    proc = run(*args)
    line = one_line_error(proc, EXIT_USAGE, what, fix)
    assert "╭" not in proc.stderr and "Usage:" not in proc.stderr and proc.stdout == "", line


def test_usage_errors_are_one_line_under_clirunner_too():
    from typer.testing import CliRunner

    from costlens import cli

    result = CliRunner().invoke(cli.app, ["report", "--bogus"])
    assert result.exit_code == EXIT_USAGE
    assert result.output.strip() == (
        "costlens: error: report: no such option: --bogus (Possible options: --out) — see `costlens report --help`"
    )


@pytest.mark.subprocess
@pytest.mark.slow
def test_help_and_version_are_unchanged():
    assert run("--version").returncode == 0
    bare = run()
    assert bare.returncode == EXIT_USAGE and "Usage:" in bare.stdout + bare.stderr  # no arguments: the help
    helped = run("report", "--help")
    assert helped.returncode == 0 and "--format" in helped.stdout


# --- COSTLENS_* environment values ---------------------------------------------------------------------------


@pytest.mark.subprocess
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, value, needles",
    [
        ("COSTLENS_MEMORY_LIMIT", "abc", ("COSTLENS_MEMORY_LIMIT='abc' is not a memory size", "use e.g. 2GB")),
        ("COSTLENS_MEMORY_LIMIT", "100000000", ("is not a memory size",)),  # DuckDB wants a unit
        ("COSTLENS_MEMORY_LIMIT", "1KB", ("is too small", "64MB or more")),
        ("COSTLENS_LOCK_WAIT", "nan", ("COSTLENS_LOCK_WAIT='nan' is not a number of seconds",)),
        ("COSTLENS_LOCK_WAIT", "inf", ("COSTLENS_LOCK_WAIT='inf'",)),
        ("COSTLENS_TEMP_DIR", "<file>", ("COSTLENS_TEMP_DIR=", "is a file, not a folder")),
    ],
    ids=["memory abc", "memory no unit", "memory tiny", "lock nan", "lock inf", "temp dir is a file"],
)
def test_bad_environment_values_are_exit_2_and_touch_nothing(tmp_path, name, value, needles):
    if value == "<file>":
        value = str(calls_file(tmp_path / "not-a-folder.jsonl"))
    database = tmp_path / "never.duckdb"
    env = {**ENV, name: value}
    for args in (
        ("ingest", str(calls_file(tmp_path / "calls.jsonl")), "--db", str(database)),
        ("report", "--db", str(database)),
        ("runs", "--db", str(database)),
    ):
        one_line_error(run(*args, env=env), EXIT_USAGE, *needles)
    assert not database.exists()


@pytest.mark.subprocess
@pytest.mark.slow
def test_a_good_memory_limit_still_works(small_db):
    assert run("runs", "--db", str(small_db), env={**ENV, "COSTLENS_MEMORY_LIMIT": "1.5 GiB"}).returncode == 0


# --- file-system errors say what they are --------------------------------------------------------------------


def test_open_errors_are_not_all_called_not_a_database():
    """`if "not a valid duckdb database" or …` was always true: every unrecognised open error told the user to
    remove a valid database."""
    unknown = db._open_error("x.duckdb", "IO Error: something nobody anticipated")
    assert "not a DuckDB database" not in str(unknown) and "cannot open database x.duckdb" in str(unknown)
    assert "not a DuckDB database" in str(db._open_error("x.duckdb", "IO Error: not a valid DuckDB database file"))


def _without_root_privileges() -> tuple[str, ...] | None:
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
@pytest.mark.slow
def test_a_database_you_may_not_write_says_permission_denied(small_db, tmp_path):
    prefix = _without_root_privileges()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot be enforced")
    folder = tmp_path / "shared"
    folder.mkdir()
    database = folder / "team.duckdb"
    shutil.copy(small_db, database)
    database.chmod(0o444)
    proc = run("report", "--db", str(database), prefix=prefix)
    line = one_line_error(
        proc, EXIT_DATABASE, f"cannot open database {database} for writing: permission denied", "ask for write access"
    )
    assert "not a DuckDB database" not in line and "remove" not in line
    assert run("runs", "--db", str(database), prefix=prefix).returncode == 0  # reading needs no write access
    database.chmod(0o644)
    folder.chmod(0o555)  # the file is writable, its folder is not: DuckDB cannot create the WAL
    try:
        proc = run("report", "--db", str(database), prefix=prefix)
    finally:
        folder.chmod(0o755)
    one_line_error(
        proc,
        EXIT_DATABASE,
        f"cannot write database {database}: permission denied",
        "team.duckdb.wal",
        "ask for write access to the database and its folder",
    )
    database.chmod(0o000)
    try:
        proc = run("runs", "--db", str(database), prefix=prefix)
    finally:
        database.chmod(0o644)
    one_line_error(proc, EXIT_DATABASE, f"cannot open database {database} for reading: permission denied")


@pytest.mark.subprocess
@pytest.mark.slow
def test_a_database_on_a_read_only_disk_says_so(small_db, tmp_path):
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "ro"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.copy(small_db, disk / "costlens.duckdb")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        database = disk / "costlens.duckdb"
        proc = run("report", "--db", str(database))
        line = one_line_error(
            proc,
            EXIT_DATABASE,
            f"cannot open database {database} for writing",
            "read-only file system",
            "copy it to a writable disk",
        )
        assert "not a DuckDB database" not in line
        readable = run("quarantine", "--db", str(database))
        assert readable.returncode == 0, readable.stderr
        new = run("ingest", str(calls_file(tmp_path / "calls.jsonl")), "--db", str(disk / "new.duckdb"))
        one_line_error(
            new,
            EXIT_DATABASE,
            "(creating it): it is on a read-only file system",
            "pass --db with a path in a folder you may write to",
        )
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# --- broken pipe ----------------------------------------------------------------------------------------------


@pytest.mark.subprocess
@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["report", "--format", "json"],
        ["report"],
        ["report", "--format", "md"],
        ["runs", "--format", "csv"],
        ["leaks", "--format", "json"],
        ["quarantine"],
        ["--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_a_closed_stdout_exits_quietly(small_db, args):
    """`costlens report | head -1`: the reader is gone before costlens writes (closed at once here, so the
    race is always lost): exit 0 or 141, nothing on stderr — no traceback, no BrokenPipeError."""
    if args != ["--help"]:
        args = [*args, "--db", str(small_db)]
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, 141), (proc.returncode, err)
    assert err.decode() == "", err


# --- Ctrl-C --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_input(tmp_path_factory) -> Path:
    """200,000 OpenAI-style calls (about 120 MB): an ingest and a report that run for seconds."""
    out = tmp_path_factory.mktemp("sigint")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.generate",
            "--calls",
            "200000",
            "--out",
            str(out),
            "--formats",
            "openai",
            "--seed",
            "11",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env=ENV,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return out / "openai" / "calls.jsonl"


def interrupt(args: list[str], delay: float) -> tuple[int | None, str]:
    """Start costlens, send SIGINT after `delay` seconds; (exit code, stderr), or (None, "") when the command
    had already finished."""
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    time.sleep(delay)
    if proc.poll() is not None:
        proc.communicate()
        return None, ""
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def assert_interrupted(code: int | None, err: str, what: str) -> None:
    assert code == 130, (what, code, err)
    assert "Traceback" not in err and "internal error" not in err, (what, err)
    assert err.strip().splitlines() == [
        "costlens: interrupted — files already committed stay whole; run the command again to finish"
    ], (what, err)


# Sends SIGINT from inside DuckDB's extension-module initialisation: the first call into Python's enum module
# after `_duckdb` starts loading (nanobind builds its enums there), then runs the command line as installed.
SIGINT_INSIDE_ENGINE_IMPORT = """
import os, signal, sys
state = {"loading": False, "sent": False}
def audit(event, args):
    if event == "import" and args[0].endswith("_duckdb"):
        state["loading"] = True
def profile(frame, event, arg):
    if state["loading"] and not state["sent"] and event == "call" and frame.f_code.co_filename.endswith("enum.py"):
        state["sent"] = True
        sys.setprofile(None)
        os.kill(os.getpid(), signal.SIGINT)
sys.addaudithook(audit)
sys.setprofile(profile)
from costlens.cli import main
try:
    main()
finally:
    if not state["sent"]:
        sys.stderr.write("no SIGINT was sent: DuckDB was imported before the command ran, or not at all")
"""


@pytest.mark.subprocess
def test_ctrl_c_while_the_engine_is_imported_is_130(tmp_path):
    """Before: "Critical nanobind error: enum_create(...)" and SIGABRT (status -6) — a KeyboardInterrupt raised
    inside DuckDB's module initialisation cannot unwind; seen once in CI as a 0.7 s interrupt of `ingest`."""
    database = tmp_path / "x.duckdb"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SIGINT_INSIDE_ENGINE_IMPORT,
            "ingest",
            str(calls_file(tmp_path / "a.jsonl")),
            "--db",
            str(database),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert_interrupted(proc.returncode, proc.stderr, "SIGINT while DuckDB's extension module initialises")
    assert not database.exists()  # interrupted before anything was opened


DELAYS = (0.15, 0.2, 0.3, 0.45, 0.7, 1.0, 1.4, 2.0, 2.8, 3.8, 5.0)  # start-up, typer, imports, DuckDB


@pytest.mark.subprocess
@pytest.mark.slow
def test_ctrl_c_during_ingest_is_always_130(big_input, tmp_path):
    """Before: 'internal error: RuntimeError: Query interrupted' (exit 1) whenever the interrupt landed inside
    DuckDB. The file is then whole or absent."""
    small = calls_file(tmp_path / "after.jsonl", 3)  # the run stops: a file after the interrupted one waits
    hit = 0
    for i, delay in enumerate(DELAYS):
        database = tmp_path / f"ingest{i}.duckdb"
        code, err = interrupt(["ingest", str(big_input), str(small), "--db", str(database), "-q"], delay)
        if code is None:
            continue
        hit += 1
        assert_interrupted(code, err, f"ingest, SIGINT after {delay} s")
        if database.exists():  # interrupted while the schema was created: no calls table yet, also fine
            con = db.connect(database, read_only=True)
            try:
                has_calls = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'calls'").fetchone()[0]
                loaded = con.execute("SELECT count(*) FROM calls").fetchone()[0] if has_calls else 0
            finally:
                con.close()
            assert loaded in (0, 200_000), (delay, loaded)  # the big file whole or absent, the next one not begun
    assert hit >= 4, f"only {hit} ingests were still running when interrupted"


@pytest.mark.subprocess
@pytest.mark.slow
def test_ctrl_c_during_report_is_always_130(big_input, tmp_path):
    """Before: exit 1 (the interrupt inside DuckDB) or 0 (swallowed by a fallback) in about half the trials."""
    database = tmp_path / "report.duckdb"
    loaded = run("ingest", str(big_input), "--db", str(database), "-q")
    assert loaded.returncode == 0, loaded.stderr
    hit = 0
    for delay in DELAYS:
        code, err = interrupt(["report", "--db", str(database), "--format", "json"], delay)
        if code is None:
            continue
        hit += 1
        assert_interrupted(code, err, f"report, SIGINT after {delay} s")
    assert hit >= 4, f"only {hit} reports were still running when interrupted"
