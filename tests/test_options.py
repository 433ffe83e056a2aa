"""One set of options (README "Options"): -h on every command, an Examples block in each help, commands
grouped in `costlens -h`, -j/--json wherever there is JSON output, -q/--quiet and --no-color everywhere, --out
creating its folder, shell completion, and one JSON shape for the period in every output that has one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE_LOGS, copy_sample_db

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "costlens"]
ENV = {**os.environ, "COLUMNS": "120"}
ENV.pop("NO_COLOR", None)
COMMANDS = [
    "ingest",
    "report",
    "leaks",
    "levers",
    "daily",
    "whatif",
    "check",
    "diff",
    "init",
    "prices",
    "quarantine",
    "demo",
    "runs",
    "reconcile",
    "export focus",
]
WITH_JSON = [
    "ingest",
    "report",
    "leaks",
    "levers",
    "daily",
    "whatif",
    "check",
    "diff",
    "prices",
    "quarantine",
    "runs",
    "reconcile",
]
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-9]|38;)")


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env or ENV, timeout=600)


@pytest.fixture(scope="module")
def sample(sample_month_db, tmp_path_factory) -> tuple[str, str]:
    dbfile = str(copy_sample_db(sample_month_db, tmp_path_factory.mktemp("options")))
    return dbfile, str(SAMPLE_LOGS / "costlens.toml")


@pytest.mark.subprocess
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_short_help_examples_and_the_output_options(command):
    short, long = run(*command.split(), "-h"), run(*command.split(), "--help")
    assert short.returncode == 0 and short.stdout == long.stdout, short.stderr
    assert "Examples" in short.stdout and f"costlens {command}" in short.stdout.split("Examples", 1)[1]
    for option in ("--quiet", "--no-color"):
        assert option in short.stdout, (command, option)
    assert ("--json" in short.stdout) == (command in WITH_JSON), command
    assert "<text>" not in short.stdout.split("Examples")[0].replace("<text>]", ""), command
    if "--config" in short.stdout:  # rich markup must not swallow the bracketed table name
        assert "[tool.costlens]" in " ".join(short.stdout.split()), command


@pytest.mark.subprocess
def test_commands_are_grouped_and_completion_is_offered():
    top = run("-h")
    assert top.returncode == 0
    panels = [name for name in ("Load data", "Analyse", "Finance and CI") if f"─ {name} " in top.stdout]
    assert panels == ["Load data", "Analyse", "Finance and CI"]
    assert "--install-completion" in top.stdout
    # The shell named, not detected: detection walks the parent processes, which a detached CI job may not have
    named = {**ENV, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = run("--show-completion", "bash", env=named)
    assert script.returncode == 0 and "complete" in script.stdout and "costlens" in script.stdout


@pytest.mark.subprocess
def test_json_flag_is_the_json_format_and_refuses_a_second_format(sample, tmp_path):
    dbfile, config = sample
    for args in (
        ["runs"],
        ["prices"],
        ["leaks", "-p", "2026-10", "-c", config],
        ["reconcile", "-p", "2026-10", "-c", config],
    ):
        flag, option = run(*args, "--db", dbfile, "-j"), run(*args, "--db", dbfile, "--format", "json")
        assert flag.returncode == option.returncode == 0, (args, flag.stderr)
        assert json.loads(flag.stdout) == json.loads(option.stdout), args
    both = run("report", "--db", dbfile, "-j", "--format", "md")
    assert both.returncode == 2 and both.stdout == ""
    assert both.stderr.strip() == "costlens: error: -j/--json and --format md ask for two formats — pass one of them"
    ingest = run("ingest", str(SAMPLE_LOGS / "outcomes.csv"), "--db", str(tmp_path / "i.duckdb"), "-j")
    data = json.loads(ingest.stdout)
    assert ingest.returncode == 0 and [f["status"] for f in data["files"]] == ["ingested"]
    assert data["totals"]["rows_read"] == data["files"][0]["rows_read"] > 0


@pytest.mark.subprocess
def test_quiet_drops_notes_but_never_warnings(sample, tmp_path):
    dbfile, config = sample
    noisy = run("report", "--db", dbfile, "-c", config, "-p", "2026-10", "-j", "-o", str(tmp_path / "r.json"))
    quiet = run("report", "--db", dbfile, "-c", config, "-p", "2026-10", "-j", "-o", str(tmp_path / "q.json"), "-q")
    assert noisy.returncode == quiet.returncode == 0
    assert noisy.stderr.strip() == f"report written to {tmp_path / 'r.json'}" and quiet.stderr == ""
    empty = run("report", "--db", dbfile, "-p", "2025-01", "-q", "-j")
    assert empty.returncode == 0 and empty.stderr.startswith("costlens: warning: no calls in")


@pytest.mark.subprocess
def test_no_color_removes_colour_even_when_forced(sample):
    dbfile, config = sample
    env = {**ENV, "FORCE_COLOR": "1"}
    coloured = run("report", "--db", dbfile, "-c", config, "-p", "2026-10", env=env)
    plain = run("report", "--db", dbfile, "-c", config, "-p", "2026-10", "--no-color", env=env)
    assert coloured.returncode == plain.returncode == 0
    assert COLOUR.search(coloured.stdout) and not COLOUR.search(plain.stdout)
    assert "$824.41" in plain.stdout


@pytest.mark.subprocess
def test_out_creates_its_folder(sample, tmp_path):
    dbfile, config = sample
    targets = {
        ("report", "-p", "2026-10", "-j", "-o"): tmp_path / "a" / "b" / "report.json",
        ("report", "-p", "2026-10", "-f", "html", "-o"): tmp_path / "c" / "report.html",
        ("export", "focus", "-p", "2026-10", "-o"): tmp_path / "d" / "e" / "costs.focus.csv",
        ("init", "-o"): tmp_path / "f" / "costlens.toml",
        ("quarantine", "-o"): tmp_path / "g" / "rows.csv",
    }
    for args, target in targets.items():
        with_config = [] if args[0] == "quarantine" else ["-c", config]  # quarantine reads no config
        done = run(*args, str(target), "--db", dbfile, *with_config)
        assert done.returncode == 0, (args, done.stderr)
        assert target.is_file() and target.stat().st_size > 0, args
    report = json.loads((tmp_path / "a" / "b" / "report.json").read_text())
    assert report["totals"]["cost_usd"] == pytest.approx(824.41389225)


@pytest.mark.subprocess
def test_one_period_shape_in_every_json_output(sample, tmp_path):
    dbfile, config = sample
    expected = {"start": "2026-10-01", "end": "2026-11-01", "last_day": "2026-10-31", "days": 31, "label": "2026-10"}
    for args in (
        ["report"],
        ["leaks"],
        ["levers"],
        ["daily"],
        ["check"],
        ["reconcile"],
        ["whatif", "batch feature=doc-extractor"],
    ):
        done = run(*args, "--db", dbfile, "-c", config, "-p", "2026-10", "-j")
        assert done.returncode == 0, (args, done.stderr)
        assert json.loads(done.stdout)["period"] == expected, args
