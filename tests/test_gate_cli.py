"""`costlens check` as a user runs it, on the sample month (sample_logs/, 2026-10): every rule PASS / WARN / FAIL /
SKIP, the summary line, exit 0 with warnings, exit 4 on a hard budget breach, --strict, the Markdown and GitHub
formats, the gate on a saved JSON report, a missing config file and a budget whose feature has no calls.

Sample figures (sample_logs/README.md): coding-agent $524.79 (of $600: 87.5%, past the 80% soft alert),
doc-extractor 90.8% of $300, search-summarizer 87.8% of $2, ticket-classifier 80.1% of $12, marketing-copy 12.7% of
$5, support-bot 50.4% of $30; 26,138 calls, all priced; the bill reconciles within 1%; no September data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT, SAMPLE_LOGS, copy_sample_db

pytestmark = pytest.mark.slow

CONFIG = SAMPLE_LOGS / "costlens.toml"


def costlens(*args: str, cwd: Path = PROJECT, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})}
    for name in ("COSTLENS_DB", "COSTLENS_PERIOD"):
        environ.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "costlens", *args], capture_output=True, text=True, cwd=cwd, env=environ, timeout=600
    )


@pytest.fixture(scope="module")
def sample_db(sample_month_db, tmp_path_factory) -> Path:
    return copy_sample_db(sample_month_db, tmp_path_factory.mktemp("gate"))


@pytest.fixture(scope="module")
def saved(sample_db) -> Path:
    """The month's JSON report: most rules are checked on it (`--report`: no second build of the report); the
    test below shows the gate on it prints exactly what the gate on the database does."""
    out = sample_db.parent / "report.json"
    proc = costlens(
        "report",
        "--db",
        str(sample_db),
        "--config",
        str(CONFIG),
        "--period",
        "2026-10",
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    return out


def check_saved(saved: Path, *args: str, config: Path = CONFIG) -> subprocess.CompletedProcess:
    return costlens("check", "--report", str(saved), "--baseline", "none", "--config", str(config), *args)


def check(db: Path, *args: str, config: Path | None = CONFIG, cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    options = ["check", "--db", str(db), "--period", "2026-10"] + (["--config", str(config)] if config else [])
    return costlens(*options, *args, cwd=cwd)


@pytest.mark.subprocess
def test_sample_month_passes_with_warnings(sample_db):
    proc = check(sample_db)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == ("costlens check · 2026-10-01 → 2026-11-01 (end exclusive) vs baseline 2026-09-01 → 2026-10-01")
    assert lines[1:5] == [
        "WARN budget[coding-agent]: warning: 87.5% of the budget $600.00 used (soft alert at 80%)",
        "WARN budget[doc-extractor]: warning: 90.8% of the budget $300.00 used (soft alert at 80%)",
        "WARN budget[search-summarizer]: warning: 87.8% of the budget $2.00 used (soft alert at 80%)",
        "WARN budget[ticket-classifier]: warning: 80.1% of the budget $12.00 used (soft alert at 80%)",
    ]
    assert lines[5] == "SKIP cpao_regression[total]: not compared: the baseline 2026-09-01 → 2026-10-01 has no calls"
    assert "PASS priced_coverage: 100.0% of 26,138 calls priced (at or above 95%)" in lines
    assert "PASS budget[support-bot]: ok: 50.4% of the budget $30.00 used" in lines
    assert any(line.startswith("PASS reconciliation: reconciled within 1 %") for line in lines)
    assert lines[-1] == "PASS=4 WARN=4 FAIL=0 SKIP=1 → exit 0"


@pytest.mark.subprocess
def test_hard_budget_breach_exits_4(sample_db, tmp_path):
    """The same month with coding-agent's budget at $450: spend $524.79 is over it → FAIL, exit 4."""
    tight = tmp_path / "costlens.toml"
    tight.write_text(
        CONFIG.read_text(encoding="utf-8").replace("monthly_budget_usd = 600", "monthly_budget_usd = 450"),
        encoding="utf-8",
    )
    proc = check(sample_db, config=tight)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert (
        proc.stdout.splitlines()[1]
        == "FAIL budget[coding-agent]: over: spend $524.79 is over the budget $450.00 (116.6%)"
    )
    assert proc.stdout.splitlines()[-1] == "PASS=4 WARN=3 FAIL=1 SKIP=1 → exit 4"
    annotations = costlens(
        "check", "--db", str(sample_db), "--period", "2026-10", "--config", str(tight), "--format", "github"
    )
    assert annotations.returncode == 4
    assert annotations.stdout.splitlines()[0] == (
        "::error title=costlens budget[coding-agent]::FAIL "
        "budget[coding-agent]: over: spend $524.79 is over the budget "
        "$450.00 (116.6%25)"
    )


@pytest.mark.subprocess
def test_strict_and_its_alias_fail_on_warnings(saved):
    for flag in ("--strict", "--fail-on-warning"):
        proc = check_saved(saved, flag)
        assert proc.returncode == 4, flag
        assert proc.stdout.splitlines()[-1] == "PASS=4 WARN=0 FAIL=4 SKIP=1 → exit 4"  # no baseline: SKIP
        assert (
            "FAIL budget[coding-agent]: warning: 87.5% of the budget $600.00 used (soft alert at 80%) "
            "(a warning: failed under --strict)"
        ) in proc.stdout


@pytest.mark.subprocess
def test_json_markdown_and_github_formats(saved):
    data = json.loads(check_saved(saved, "--format", "json").stdout)
    assert data["summary"] == {"PASS": 4, "WARN": 4, "FAIL": 0, "SKIP": 1}
    assert data["exit_code"] == 0 and data["passed"] is True
    assert {r["name"]: r["status"] for r in data["rules"]}["budget[coding-agent]"] == "WARN"
    md = check_saved(saved, "--format", "md")
    assert md.returncode == 0
    assert md.stdout.splitlines()[:3] == [
        "## costlens check · 2026-10-01 → 2026-10-31 · passed with warnings",
        "",
        "**PASS=4 WARN=4 FAIL=0 SKIP=1** → exit 0 · baseline: none",
    ]
    assert len([line for line in md.stdout.splitlines() if line.startswith("| ")]) == 1 + 9  # header + 9 rules
    gh = check_saved(saved, "--format", "github").stdout.splitlines()
    assert len([line for line in gh if line.startswith("::warning title=costlens budget[")]) == 4
    assert not any(line.startswith("::error") for line in gh)
    assert gh[-1] == "::notice title=costlens check::PASS=4 WARN=4 FAIL=0 SKIP=1 → exit 0"
    bad = check_saved(saved, "--format", "xml")
    assert bad.returncode == 2 and bad.stderr.startswith("costlens: error: --format 'xml' is not supported")


@pytest.mark.subprocess
def test_gate_on_a_saved_report_equals_the_database_run(sample_db, saved, tmp_path):
    from_db = check(sample_db, "--baseline", "none")
    from_json = costlens(
        "check", "--db", str(sample_db), "--config", str(CONFIG), "--report", str(saved), "--baseline", "none"
    )
    assert from_json.returncode == from_db.returncode == 0
    assert from_json.stdout == from_db.stdout
    assert from_json.stdout.splitlines()[-1] == "PASS=4 WARN=4 FAIL=0 SKIP=1 → exit 0"
    # the saved report as its own baseline: compared, +0.0%
    same = costlens(
        "check",
        "--config",
        str(CONFIG),
        "--report",
        str(saved),
        "--baseline",
        str(saved),
        "--db",
        str(tmp_path / "unused.duckdb"),
    )
    assert same.returncode == 0
    assert (
        "PASS cpao_regression[total]: cost per accepted outcome $0.7949 → $0.7949 (+0.0%, within the 10% limit)"
        in same.stdout
    )
    period = costlens("check", "--report", str(saved), "--period", "2026-10", "--config", str(CONFIG))
    assert period.returncode == 2 and "period options do not apply" in period.stderr
    missing = costlens("check", "--report", str(tmp_path / "nope.json"), "--config", str(CONFIG))
    assert missing.returncode == 3 and "nope.json: file not found" in missing.stderr


@pytest.mark.subprocess
def test_missing_config_and_misnamed_budget_warn(sample_db, tmp_path):
    bare = check(sample_db, "--baseline", "none", config=None, cwd=tmp_path)  # no costlens.toml here
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout.splitlines()[1].startswith("WARN config: no config file found (no ./costlens.toml")
    assert bare.stdout.splitlines()[-1] == "PASS=2 WARN=1 FAIL=0 SKIP=1 → exit 0"
    typo = tmp_path / "typo.toml"
    typo.write_text(
        CONFIG.read_text(encoding="utf-8").replace("[features.support-bot]", "[features.suport-bot]"), encoding="utf-8"
    )
    proc = check(sample_db, "--baseline", "none", config=typo)
    assert proc.returncode == 0
    assert (
        "WARN budget[suport-bot]: budgeted but no calls in the period: the budget checks nothing — did you mean "
        "'support-bot'?"
    ) in proc.stdout.splitlines()
    assert check(sample_db, "--baseline", "none", "--strict", config=typo).returncode == 4
