"""The GitHub Actions example cannot rot: its `run:` commands are the ones examples/github-actions/run-locally.sh
runs, and the script runs end to end on sample_logs/ (ingest, HTML / JSON / Markdown reports, the gate)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import PROJECT, SAMPLE_LOGS

EXAMPLE = PROJECT / "examples" / "github-actions"
WORKFLOW = EXAMPLE / "costlens-monthly.yml"
SCRIPT = EXAMPLE / "run-locally.sh"


def workflow_runs(text: str) -> list[str]:
    """The commands of every `run:` step (single-line or `|` block), without YAML comments. No YAML library:
    the example keeps to the simple forms this reads."""
    commands: list[str] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^(\s*)(?:-\s+)?run:\s*(.*)$", line)
        if not match:
            continue
        indent, value = len(match.group(1)), match.group(2).strip()
        if value in ("|", "|-", ">", ">-"):
            for block in lines[index + 1:]:
                if block.strip() and len(block) - len(block.lstrip()) <= indent:
                    break
                if block.strip() and not block.strip().startswith("#"):
                    commands.append(block.strip())
        else:
            commands.append(re.sub(r"\s+#.*$", "", value))
    return commands


def script_commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("costlens ")]


def test_workflow_shape():
    text = WORKFLOW.read_text(encoding="utf-8")
    assert re.search(r"^on:\s*$", text, re.M) and re.search(r"^\s+schedule:\s*$", text, re.M)
    assert re.search(r"cron:\s*\"[^\"]+\"", text) and "workflow_dispatch:" in text
    for step in ("actions/checkout@", "actions/setup-python@", "actions/upload-artifact@"):
        assert step in text, step
    runs = workflow_runs(text)
    assert runs[0].startswith("pip install")
    assert any("--format html --out costlens-report.html" in r for r in runs)
    assert any(r.endswith('--format md >> "$GITHUB_STEP_SUMMARY"') for r in runs)
    assert runs[-1].startswith("costlens check") and "--baseline previous" in runs[-1]
    assert "${{" not in "\n".join(runs)  # inputs reach the shell through env, never by substitution
    upload = text.index("actions/upload-artifact@")
    assert text.index("run: costlens report") < upload < text.index("run: costlens check")  # uploaded even if the gate fails
    assert "costlens-report.html" in text[upload:]


def test_script_runs_the_workflow_commands():
    runs = [r for r in workflow_runs(WORKFLOW.read_text(encoding="utf-8")) if r.startswith("costlens ")]
    assert runs == script_commands(SCRIPT.read_text(encoding="utf-8"))
    assert len(runs) == 5
    assert os.access(SCRIPT, os.X_OK)




@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_script_runs_on_sample_logs(tmp_path):
    """sample_logs/: coding-agent is over its $450 budget, so the gate fails with exit 4 — after the reports."""
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "costlens").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m costlens "$@"\n', encoding="utf-8")
    (shim / "costlens").chmod(0o755)
    work = tmp_path / "work"
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}", "COSTLENS_PERIOD": "2026-10",
           "PYTHONPATH": str(PROJECT)}
    for name in ("COSTLENS_DB", "COSTLENS_CONFIG", "COSTLENS_LOGS", "GITHUB_STEP_SUMMARY"):
        env.pop(name, None)
    result = subprocess.run(["bash", str(SCRIPT), str(SAMPLE_LOGS), str(work)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "FAIL budget[coding-agent]" in result.stdout
    html = work / "costlens-report.html"
    assert html.is_file() and html.stat().st_size > 10_000
    summary = (work / "step-summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## costlens · 2026-10-01 → 2026-10-31") and "coding-agent" in summary
    assert (work / "costlens-report.json").is_file() and (work / "costlens.duckdb").is_file()
