"""Outputs never overwrite what costlens reads, and are never left half-written (issue 14, item 1).

Every command that writes a file refuses a path that resolves (symlinks, hard links) to the database, its WAL,
the config file in use or a file in the ingested_files manifest: exit 2, one line naming the output and what it
would replace, and that file is untouched. Every output goes to a temporary file in its own folder and is renamed
into place, so a failed write (a full disk, a folder you may not write) leaves nothing behind — no 0-byte file, an
existing file unchanged — and the error names the output, not the database. --out creates missing folders.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from costlens.errors import EXIT_DATABASE, EXIT_USAGE

from conftest import PROJECT

CLI = [sys.executable, "-m", "costlens"]
ENV = {
    **os.environ,
    "PYTHONPATH": str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "COSTLENS_LOCK_WAIT": "0",
}
ENV.pop("COSTLENS_DB", None)


def run(*args: str, cwd: Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, *CLI, *args], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300)


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


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder as a user has it: costlens.toml, two inputs (ingested by relative path), costlens.duckdb."""
    folder = tmp_path_factory.mktemp("outputs")
    (folder / "costlens.toml").write_text("[economics]\nloaded_hourly_rate_usd = 60\n")
    (folder / "calls.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "object": "chat.completion",
                    "id": f"chatcmpl-{i}",
                    "model": "gpt-4o-2024-08-06",
                    "created": 1759492800 + i,
                    "usage": {"prompt_tokens": 100 + i, "completion_tokens": 20},
                }
            )
            + "\n"
            for i in range(5)
        )
    )
    inputs = folder / "in"
    inputs.mkdir()
    # an input that a table export into in/ would replace (outcomes: a CSV keyed by task_id)
    (inputs / "unit_economics.csv").write_text("task_id,accepted\nt1,true\nt2,false\n")
    proc = run("ingest", "calls.jsonl", "in/unit_economics.csv", "-q", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder


def calls_in(work: Path) -> int:
    proc = run("runs", "--format", "json", cwd=work)
    assert proc.returncode == 0, proc.stderr
    return sum(r["rows_loaded"] for r in json.loads(proc.stdout))


PROTECTED_CASES = [
    (["report", "--format", "json", "--out", "costlens.duckdb"], "costlens.duckdb", "the database costlens.duckdb"),
    (["report", "--format", "md", "--out", "costlens.toml"], "costlens.toml", "the config file in use"),
    (["report", "--format", "html", "--out", "costlens.duckdb.wal"], None, "write-ahead log"),
    (["report", "--format", "terminal", "--out", "calls.jsonl"], "calls.jsonl", "the ingested file calls.jsonl"),
    (["report", "--format", "json", "--out", "./sub/../calls.jsonl"], "calls.jsonl", "the ingested file"),
    (["report", "--format", "csv", "--out", "in"], "in/unit_economics.csv", "the ingested file in/unit_economics.csv"),
    (["report", "--format", "json", "--out", "db-link.json"], "costlens.duckdb", "the database costlens.duckdb"),
    (["report", "--format", "json", "--out", "hard-link.jsonl"], "calls.jsonl", "the ingested file calls.jsonl"),
    (["export", "focus", "--out", "costlens.duckdb", "--format", "csv"], "costlens.duckdb", "the database"),
    (["export", "focus", "--out", "calls.csv-link.csv"], "in/unit_economics.csv", "the ingested file"),
    (["quarantine", "--export", "calls.jsonl"], "calls.jsonl", "the ingested file calls.jsonl"),
    (["init", "--out", "costlens.duckdb", "--force"], "costlens.duckdb", "the database costlens.duckdb"),
    (
        ["init", "--config", "costlens.toml", "--out", "costlens.toml", "--force"],
        "costlens.toml",
        "the config file in use",
    ),
]


@pytest.mark.subprocess
@pytest.mark.slow
@pytest.mark.parametrize("args, victim, what", PROTECTED_CASES, ids=[" ".join(a) for a, _, _ in PROTECTED_CASES])
def test_an_output_never_replaces_the_database_config_or_an_input(work, args, victim, what):
    links = {"db-link.json": "costlens.duckdb", "calls.csv-link.csv": "in/unit_economics.csv"}
    for name, target in links.items():
        if not (work / name).is_symlink():
            (work / name).symlink_to(target)
    if not (work / "hard-link.jsonl").exists():
        os.link(work / "calls.jsonl", work / "hard-link.jsonl")
    (work / "sub").mkdir(exist_ok=True)
    before = {p: digest(work / p) for p in ("costlens.toml", "calls.jsonl", "in/unit_economics.csv")}
    loaded = calls_in(work)
    files = listing(work)
    proc = run(*args, cwd=work)
    one_line_error(proc, EXIT_USAGE, "would overwrite", what, "write to another file")
    assert {p: digest(work / p) for p in before} == before  # config and inputs untouched
    assert calls_in(work) == loaded  # the database is still the database, whole
    assert listing(work) == files and listing(work / "in") == ["unit_economics.csv"]  # nothing left behind
    assert not (work / "costlens.duckdb.wal").exists()


@pytest.mark.subprocess
@pytest.mark.slow
def test_ingest_and_demo_never_turn_an_input_or_the_config_into_their_database(work, tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("")  # a valid (empty) config that DuckDB would happily have made a database of
    proc = run("ingest", "calls.jsonl", "--config", str(empty), "--db", str(empty), cwd=work)
    one_line_error(proc, EXIT_USAGE, f"--db {empty} would overwrite the config file in use")
    assert empty.read_text() == ""
    notes = tmp_path / "notes.md"
    notes.write_text("# not a database\n")
    proc = run("demo", str(PROJECT / "sample_logs"), "--db", str(notes), cwd=work)
    one_line_error(proc, EXIT_USAGE, f"--db {notes} is not a DuckDB database", "--db costlens-demo.duckdb")
    assert notes.read_text() == "# not a database\n"
    config = PROJECT / "sample_logs" / "costlens.toml"
    before = digest(config)
    proc = run("demo", str(PROJECT / "sample_logs"), "--db", str(config), cwd=work)
    one_line_error(proc, EXIT_USAGE, "would overwrite the demo config")
    assert digest(config) == before


EXPORT_TABLES = (
    "budgets",
    "by_day",
    "by_model",
    "by_team",
    "customers",
    "feature_costs",
    "infrastructure",
    "self_hosted",
    "leaks",
    "levers",
    "plans",
    "showback",
    "showback_invoice",
    "unit_economics",
)
WRITERS = [
    (["report", "--format", "json", "--out", "new/a/report.json"], ["new/a/report.json"]),
    (["report", "--format", "md", "--out", "new/b/report.md"], ["new/b/report.md"]),
    (["report", "--format", "html", "--out", "new/c/report.html"], ["new/c/report.html"]),
    (["report", "--format", "terminal", "--out", "new/d/report.txt"], ["new/d/report.txt"]),
    (["report", "--format", "csv", "--out", "new/e/"], [f"new/e/{t}.csv" for t in EXPORT_TABLES]),
    (
        ["report", "--format", "parquet", "--out", "new/f/tables.parquet"],
        [f"new/f/tables.{t}.parquet" for t in EXPORT_TABLES],
    ),
    (["export", "focus", "--out", "new/g/costs.focus.csv"], ["new/g/costs.focus.csv"]),
    (["quarantine", "--export", "new/h/rows.jsonl"], ["new/h/rows.jsonl"]),
    (["init", "--out", "new/i/costlens.toml"], ["new/i/costlens.toml"]),
]


@pytest.mark.subprocess
@pytest.mark.slow
@pytest.mark.parametrize("args, written", WRITERS, ids=[" ".join(a[:3]) for a, _ in WRITERS])
def test_out_creates_its_folders_and_leaves_only_the_finished_files(work, args, written):
    proc = run(*args, cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    folder = (work / written[0]).parent
    assert listing(folder) == sorted(Path(w).name for w in written)  # no temporary file left beside them
    for name in written:
        path = work / name
        assert path.stat().st_size > 0 or name.endswith(".jsonl"), name
        assert oct(path.stat().st_mode & 0o777) != oct(0o600), name  # the umask's mode, not mkstemp's
    if written[0].endswith(".json"):
        assert json.loads((work / written[0]).read_text())["schema_version"] == "1"


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
def test_a_folder_you_may_not_write_names_the_output_and_leaves_nothing(work):
    prefix = _without_root_privileges()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot be enforced")
    locked = work / "locked"
    locked.mkdir(exist_ok=True)
    (locked / "report.json").write_text("previous report\n")
    locked.chmod(0o555)
    try:
        for args in (
            ["report", "--format", "json", "--out", "locked/report.json"],
            ["report", "--format", "csv", "--out", "locked/"],
            ["export", "focus", "--out", "locked/costs.focus.parquet"],
            ["quarantine", "--export", "locked/rows.csv"],
        ):
            proc = run(*args, cwd=work, prefix=prefix)
            line = one_line_error(proc, EXIT_USAGE, "cannot write locked/", "permission denied", "nothing was written")
            assert "database" not in line, line
    finally:
        locked.chmod(0o755)
    assert listing(locked) == ["report.json"] and (locked / "report.json").read_text() == "previous report\n"


@pytest.fixture
def tiny_disk(tmp_path):
    """A small tmpfs (root only); skipped where mounting is not allowed."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


@pytest.mark.subprocess
@pytest.mark.slow
def test_a_full_disk_under_out_names_the_output_not_the_database(work, tiny_disk):
    old = tiny_disk / "report.html"
    old.write_text("last month's report\n")
    filler = tiny_disk / "filler"
    with filler.open("wb", buffering=0) as handle:  # fill the disk, then free one page: less than a report needs
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    os.truncate(filler, filler.stat().st_size - 4096)
    for args in (
        ["report", "--format", "html", "--out", str(old)],
        ["report", "--format", "csv", "--out", str(tiny_disk / "tables")],
    ):
        proc = run(*args, cwd=work)
        line = one_line_error(
            proc,
            EXIT_DATABASE,
            f"cannot write {tiny_disk}",
            "no space left on device",
            "nothing was written",
            "free space on that disk",
        )
        assert "database" not in line, line
    assert old.read_text() == "last month's report\n"  # the previous file is untouched
    assert sorted(listing(tiny_disk)) == ["filler", "report.html"] or sorted(listing(tiny_disk)) == [
        "filler",
        "report.html",
        "tables",
    ]
    if (tiny_disk / "tables").exists():
        assert listing(tiny_disk / "tables") == []  # the folder --out asked for, but no file in it


@pytest.mark.subprocess
@pytest.mark.slow
def test_simulated_full_disk_under_out_is_the_outputs_error(work, tmp_path, monkeypatch):
    """Where mounting is impossible (CI): the write of the temporary file fails as a full disk does.
    Before, an OSError ENOSPC under --out was blamed on the database."""
    from typer.testing import CliRunner

    from costlens import cli, outputs

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", no_space)
    monkeypatch.chdir(work)
    out = tmp_path / "deep" / "report.json"
    result = CliRunner().invoke(cli.app, ["report", "--format", "json", "--out", str(out)])
    errors = [line for line in result.output.splitlines() if line.startswith("costlens: error:")]
    assert result.exit_code == EXIT_DATABASE, result.output
    assert errors == [
        f"costlens: error: cannot write {out}: no space left on device; nothing was written — free "
        "space on that disk, or write to another disk with --out"
    ]
    assert listing(out.parent) == []  # the folder was created, no 0-byte file and no temporary file in it


def test_write_outputs_is_all_or_nothing(tmp_path):
    from costlens.errors import OutputError
    from costlens.outputs import write_outputs

    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("old a\n")

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError(errno.EACCES, "Permission denied")

    with pytest.raises(OutputError) as err:
        write_outputs({first: lambda tmp: tmp.write_text("new a\n"), second: fail})
    assert str(err.value) == (
        f"cannot write {second}: permission denied; nothing was written — write to a folder "
        "you may write to, or fix its permissions"
    )
    assert first.read_text() == "old a\n" and listing(tmp_path) == ["a.csv"]
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C mid-write: the temporary file goes too
        write_outputs({second: lambda tmp: (_ for _ in ()).throw(KeyboardInterrupt())})
    assert listing(tmp_path) == ["a.csv"]
    assert write_outputs({first: lambda tmp: tmp.write_text("new a\n")}) == [first]
    assert first.read_text() == "new a\n" and listing(tmp_path) == ["a.csv"]
