"""The GitHub Actions examples cannot rot: the monthly workflow's costlens commands are the ones
examples/github-actions/run-locally.sh runs, and the script runs end to end on sample_logs/ (ingest, the JSON and
HTML reports, the gate's Markdown summary, the gate itself) and ends green with its documented variables; a hard
budget breach still fails it with exit 4, after the reports. Every install step installs this project's
distribution (pyproject's name) from COSTLENS_SOURCE, never `costlens` from an index. The pull-request workflow's
pricing step runs as written against the sample month's database in a throwaway git repository."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib

import pytest

from conftest import PROJECT, SAMPLE_LOGS

EXAMPLE = PROJECT / "examples" / "github-actions"
WORKFLOW = EXAMPLE / "costlens-monthly.yml"
PR_WORKFLOW = EXAMPLE / "costlens-pr.yml"
SCRIPT = EXAMPLE / "run-locally.sh"
COMMAND = re.compile(r"(?<![\w/.-])costlens (?:ingest|report|check|diff|whatif|init|export)\b[^;|&\n]*")
needs_bash = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("git") is None, reason="needs bash, git")


def workflow_steps(text: str) -> list[dict[str, str]]:
    """Each step's name and its `run:` commands (single-line or `|` block), without YAML comments. No YAML
    library: the examples keep to the simple forms this reads."""
    steps: list[dict[str, str]] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^\s*-\s+(name|uses):", line):
            steps.append({"name": line.split(":", 1)[1].strip(), "run": ""})
        match = re.match(r"^(\s*)(?:-\s+)?run:\s*(.*)$", line)
        if not match:
            continue
        indent, value = len(match.group(1)), match.group(2).strip()
        if value in ("|", "|-", ">", ">-"):
            block = []
            for body in lines[index + 1 :]:
                if body.strip() and len(body) - len(body.lstrip()) <= indent:
                    break
                if body.strip() and not body.strip().startswith("#"):
                    block.append(body.strip())
            steps[-1]["run"] = "\n".join(block)
        else:
            steps[-1]["run"] = re.sub(r"\s+#.*$", "", value)
    return steps


def workflow_runs(text: str) -> list[str]:
    return [line for step in workflow_steps(text) for line in step["run"].splitlines()]


def costlens_commands(lines: list[str]) -> list[str]:
    """Every `costlens <command> …` invocation, cut at ; | && (so `… || [ $? -eq 4 ]` and `if …; then …; fi`
    compare by the command itself)."""
    return [m.group(0).strip() for line in lines if not line.strip().startswith("#") for m in COMMAND.finditer(line)]


def project_name() -> str:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]


def pip_installs(text: str) -> list[list[str]]:
    """The arguments of every `pip install` in a workflow or script (after the options)."""
    out = []
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        for match in re.finditer(r"pip(?:3)?\"?\s+install\s+([^;|&\n]+)", line):
            out.append([a for a in shlex.split(match.group(1)) if not a.startswith("-")])
    return out


def test_monthly_workflow_shape():
    text = WORKFLOW.read_text(encoding="utf-8")
    assert re.search(r"^on:\s*$", text, re.M) and re.search(r"^\s+schedule:\s*$", text, re.M)
    assert re.search(r"cron:\s*\"[^\"]+\"", text) and "workflow_dispatch:" in text
    for step in ("actions/checkout@", "actions/setup-python@", "actions/upload-artifact@"):
        assert step in text, step
    assert "COSTLENS_SOURCE: ${{ vars.COSTLENS_SOURCE }}" in text and "actions: read" in text
    runs = workflow_runs(text)
    assert "${{" not in "\n".join(runs)  # inputs reach the shell through env, never by substitution
    steps = {s["name"]: s["run"] for s in workflow_steps(text)}
    install = steps["Install costlens"]
    assert (
        install.startswith(
            'if [ -z "$COSTLENS_SOURCE" ]; then echo "::error::set the repository variable COSTLENS_SOURCE'
        )
        and "exit 2" in install
    )
    baseline = steps["Last month's report (the baseline)"]
    assert "gh run download" in baseline and "--name costlens-report" in baseline
    assert 'echo "COSTLENS_BASELINE=baseline/costlens-report.json" >> "$GITHUB_ENV"' in baseline
    commands = costlens_commands(runs)
    reports = [c for c in commands if c.startswith("costlens report")]
    assert [r.split("--format ")[1].split()[0] for r in reports] == ["json", "html"]  # no third build for Markdown
    summary = steps["Job summary (the gate, and the change vs last month)"]
    assert '--format md >> "$GITHUB_STEP_SUMMARY" || [ $? -eq 4 ]' in summary  # a breach is the gate's to report
    assert 'costlens diff "$COSTLENS_BASELINE" costlens-report.json --format md' in summary
    assert commands[-1] == (
        'costlens check --report costlens-report.json --config "$COSTLENS_CONFIG" --baseline '
        '"$COSTLENS_BASELINE" --format github'
    )
    order = [s["name"] for s in workflow_steps(text)]
    assert order.index("Upload the report") < order.index("Cost gate")  # uploaded even when the gate fails
    assert order.index("Last month's report (the baseline)") < order.index("Ingest logs and bills")
    upload = text.index("name: costlens-report")
    assert "costlens-report.html" in text[upload:] and "costlens-report.json" in text[upload:]
    assert "name: costlens-database" in text and "path: costlens.duckdb" in text


def test_script_runs_the_workflow_commands():
    in_workflow = costlens_commands(workflow_runs(WORKFLOW.read_text(encoding="utf-8")))
    in_script = costlens_commands(SCRIPT.read_text(encoding="utf-8").splitlines())
    assert in_workflow == in_script
    assert len(in_workflow) == 6
    assert os.access(SCRIPT, os.X_OK)


def test_install_steps_point_at_this_project():
    """pip refuses a source whose name differs from the requirement's, so the name is the guard: it must be
    pyproject's project.name, and nothing may install `costlens` (an unrelated PyPI project) from an index."""
    name = project_name()
    assert name == "llm-costlens"
    from costlens import DISTRIBUTION

    assert DISTRIBUTION == name
    for path in (WORKFLOW, PR_WORKFLOW, SCRIPT):
        installs = pip_installs(path.read_text(encoding="utf-8"))
        assert installs, path
        for args in installs:
            assert args == [f"{name} @ $COSTLENS_SOURCE"], (path, args)
    # the guard itself: a requirement naming another distribution is not what these files install
    assert pip_installs("pip install costlens") == [["costlens"]] != [[f"{name} @ $COSTLENS_SOURCE"]]
    assert pip_installs('run: pip install -q "costlens @ git+https://x/y"') == [["costlens @ git+https://x/y"]]


def shim(tmp_path):
    """`costlens` on PATH running this checkout, as an installed console script would."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    (folder / "costlens").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m costlens "$@"\n', encoding="utf-8")
    (folder / "costlens").chmod(0o755)
    return folder


def script_env(tmp_path, **extra):
    env = {
        **os.environ,
        "PATH": f"{shim(tmp_path)}{os.pathsep}{os.environ.get('PATH', '')}",
        "COSTLENS_PERIOD": "2026-10",
        "PYTHONPATH": str(PROJECT),
    }
    for name in (
        "COSTLENS_DB",
        "COSTLENS_CONFIG",
        "COSTLENS_LOGS",
        "GITHUB_STEP_SUMMARY",
        "COSTLENS_BASELINE",
        "COSTLENS_SOURCE",
    ):
        env.pop(name, None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """The documented local run on the sample month: run-locally.sh sample_logs WORK with COSTLENS_PERIOD=2026-10."""
    tmp = tmp_path_factory.mktemp("ci")
    work = tmp / "work"
    result = subprocess.run(
        ["bash", str(SCRIPT), str(SAMPLE_LOGS), str(work)],
        capture_output=True,
        text=True,
        env=script_env(tmp),
        timeout=600,
    )
    return result, work


@pytest.mark.subprocess
@pytest.mark.slow
@needs_bash
def test_script_ends_green_on_the_sample_month(sample_run):
    """coding-agent spends $524.79 of its $600 budget (87.5%, past the 80% soft alert) and three more features
    pass their soft alert: WARN, not FAIL, so the run ends with exit 0; no September logs: regression SKIP."""
    result, work = sample_run
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "::notice title=costlens check::PASS=4 WARN=4 FAIL=0 SKIP=1 → exit 0"
    assert (
        "::warning title=costlens budget[coding-agent]::WARN budget[coding-agent]: warning: 87.5%25 of the "
        "budget $600.00 used (soft alert at 80%25)"
    ) in lines
    assert not any(line.startswith("::error") for line in lines)
    summary = (work / "step-summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## costlens check · 2026-10-01 → 2026-10-31 · passed with warnings\n")
    assert "**PASS=4 WARN=4 FAIL=0 SKIP=1** → exit 0 · baseline: 2026-09-01 → 2026-10-01" in summary
    assert "| WARN | budget\\[coding-agent\\] | warning: 87.5% of the budget $600.00 used" in summary
    assert "costlens diff" not in summary  # no earlier JSON report: nothing to diff
    html = work / "costlens-report.html"
    assert html.is_file() and html.stat().st_size > 10_000
    import json

    report = json.loads((work / "costlens-report.json").read_text(encoding="utf-8"))
    assert report["period"]["start"] == "2026-10-01" and report["totals"]["calls"] == 26138
    assert report["usage_by_kind"]  # next month's diff can split the change
    assert (work / "costlens.duckdb").is_file()


@pytest.mark.subprocess
@pytest.mark.slow
@needs_bash
def test_hard_breach_fails_after_the_reports_and_a_baseline_is_diffed(sample_run, tmp_path):
    """The same month with coding-agent's budget at $450 ($524.79 is over it) and last month's JSON report as
    COSTLENS_BASELINE (here the run above, standing in for it): exit 4 with an ::error:: annotation, the reports
    written before the gate, the change diffed into the summary."""
    first, first_work = sample_run
    tight = tmp_path / "costlens.toml"
    tight.write_text(
        (SAMPLE_LOGS / "costlens.toml")
        .read_text(encoding="utf-8")
        .replace("monthly_budget_usd = 600", "monthly_budget_usd = 450"),
        encoding="utf-8",
    )
    baseline = first_work / "costlens-report.json"
    work = tmp_path / "work"
    env = script_env(
        tmp_path,
        COSTLENS_CONFIG=str(tight),
        COSTLENS_BASELINE=str(baseline),
        COSTLENS_DB=str(first_work / "costlens.duckdb"),
    )  # logs already loaded: ingest skips them
    result = subprocess.run(
        ["bash", str(SCRIPT), str(SAMPLE_LOGS), str(work)], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 4, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("::")]  # the gate's annotations
    assert lines[0] == (
        "::error title=costlens budget[coding-agent]::FAIL budget[coding-agent]: over: spend $524.79 "
        "is over the budget $450.00 (116.6%25)"
    )
    assert lines[-1] == "::notice title=costlens check::PASS=11 WARN=3 FAIL=1 SKIP=0 → exit 4"
    summary = (work / "step-summary.md").read_text(encoding="utf-8")
    assert "**PASS=11 WARN=3 FAIL=1 SKIP=0** → exit 4 · baseline: 2026-10-01 → 2026-11-01" in summary
    assert "## costlens diff · 2026-10 → 2026-10" in summary
    assert (
        "spend $824.41 → $824.41: ±$0.00 (+0.0%) = volume ±$0.00, efficiency ±$0.00, mix ±$0.00, price ±$0.00"
        in summary
    )
    assert (work / "costlens-report.html").is_file() and (work / "costlens-report.json").is_file()


@pytest.mark.subprocess
@needs_bash
def test_script_without_costlens_or_source_says_how(tmp_path):
    env = script_env(tmp_path, PATH="/usr/bin:/bin")
    result = subprocess.run(
        ["bash", str(SCRIPT), str(SAMPLE_LOGS), str(tmp_path / "w")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        "run-locally.sh: error: costlens is not on PATH and COSTLENS_SOURCE is unset — set COSTLENS_SOURCE to "
        "the llm-costlens source"
    ) in result.stderr


def test_pr_workflow_shape():
    text = PR_WORKFLOW.read_text(encoding="utf-8")
    assert re.search(r"^on:\s*\n\s+pull_request:\s*\n\s+paths:\s*\n\s+- \"prompts/\*\*\"", text, re.M)
    assert "fetch-depth: 0" in text and "actions: read" in text
    runs = workflow_runs(text)
    assert "${{" not in "\n".join(runs)
    steps = {s["name"]: s["run"] for s in workflow_steps(text)}
    assert (
        'gh run download "$run" --name costlens-database' in steps["Last month's database (from the monthly workflow)"]
    )
    assert costlens_commands(runs) == [
        'costlens whatif "prompt feature=$feature file=$file" --config '
        '"$COSTLENS_CONFIG" --format md >> "$GITHUB_STEP_SUMMARY"'
    ]


@pytest.mark.subprocess
@pytest.mark.slow
@needs_bash
def test_pr_pricing_step_runs_on_a_changed_prompt(sample_run, tmp_path):
    """The 'Price the changed prompts' step, as written, in a repository where a PR changes support-bot's prompt
    and adds one for a feature with no calls: the first is priced on the sample month's support-bot calls that
    sent a prompt, the second is a warning, and the step succeeds."""
    _, work = sample_run
    step = {s["name"]: s["run"] for s in workflow_steps(PR_WORKFLOW.read_text(encoding="utf-8"))}
    script = step["Price the changed prompts"]
    repo = tmp_path / "repo"
    (repo / "prompts").mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "prompts" / "support-bot.md").write_text("You are Northwind's support assistant.\n" * 40, encoding="utf-8")
    (repo / "README.md").write_text("x\n", encoding="utf-8")
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "base"], check=True)
    base = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (repo / "prompts" / "support-bot.md").write_text(
        "You are Northwind's support assistant. Be brief.\n", encoding="utf-8"
    )
    (repo / "prompts" / "brand-new.md").write_text("Hello.\n", encoding="utf-8")
    (repo / "README.md").write_text("changed, not a prompt\n", encoding="utf-8")
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "pr"], check=True)
    summary = tmp_path / "summary.md"
    env = script_env(
        tmp_path,
        COSTLENS_BASE=base,
        COSTLENS_PROMPTS_DIR="prompts",
        COSTLENS_CONFIG=str(SAMPLE_LOGS / "costlens.toml"),
        COSTLENS_DB=str(work / "costlens.duckdb"),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    env.pop("COSTLENS_PERIOD")  # as in the workflow: the latest month in the database
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "::warning::prompts/brand-new.md: not priced (feature brand-new has no calls last month, or the change "
        "was refused: see the log)"
    ) in result.stdout
    text = summary.read_text(encoding="utf-8")
    assert text.count("## costlens what-if") == 1
    assert "## costlens what-if · prompt feature=support-bot file=prompts/support-bot.md" in text
    assert "Over 2026-10-01 → 2026-11-01 (end exclusive): $824.41 → $" in text
    assert "659 of 26,138 calls affected" in text  # 670 support-bot calls, 11 failed ones logged no input
    assert "estimated as the feature's smallest input per call, 5,273 tokens" in text
