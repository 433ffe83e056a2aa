"""`costlens ingest DIR` on a folder mixing every format: each file goes to the right adapter, and the
summary says which adapter took each file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, realdata

pytestmark = pytest.mark.slow

# one file per adapter (a copy of each adapter's own fixture), named so that names give nothing away
EXPECTED = {
    "otel/otlp_small.jsonl": "otel",
    "openai/app_log.jsonl": "openai",
    "anthropic/app_log.jsonl": "anthropic",
    "outcomes/outcomes.csv": "outcomes",
    "focus/focus_1_2_azure_openai.csv": "focus",
    "litellm/spend_logs.csv": "litellm",
    "helicone/requests.jsonl": "helicone",
    "langfuse/observations.jsonl": "langfuse",
    "langfuse/traces_page.json": "langfuse",
    "openai_billing/costs_page.json": "openai_billing",
    "openai_billing/usage_export.csv": "openai_billing",
    "anthropic_billing/cost_report_page.json": "anthropic_billing",
    "anthropic_billing/console_usage.csv": "anthropic_billing",
    "aws_cur/cur2_bedrock.csv": "aws_cur",
    "azure_cost/ea_actual_cost.csv": "azure_cost",
    "gcp_billing/detailed_export.jsonl": "gcp_billing",
}


@pytest.mark.subprocess
def test_every_format_in_one_folder_is_routed(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    names = {}
    for index, (relative, adapter) in enumerate(sorted(EXPECTED.items())):
        source = FIXTURES / relative
        target = drop / f"export_{index:02d}{''.join(source.suffixes)}"
        shutil.copy(source, target)
        names[target.name] = adapter
    claude = realdata("claude-code-logs")
    shutil.copy(claude / "crud.jsonl", drop / "export_99.jsonl")
    names["export_99.jsonl"] = "claude_code"

    db = tmp_path / "mixed.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "costlens", "ingest", str(drop), "--db", str(db)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # the summary names the adapter of every file
    for name, adapter in names.items():
        line = next(line for line in proc.stdout.splitlines() if name in line)
        assert adapter in line, (name, adapter, line)

    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    routed = dict(
        con.execute("SELECT regexp_extract(source_file, '[^/]+$'), source_format FROM ingested_files").fetchall()
    )
    con.close()
    assert routed == names

    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "costlens",
            "report",
            "--db",
            str(db),
            "--format",
            "json",
            "--since",
            "2020-01-01",
            "--until",
            "2030-01-01",
        ],
        capture_output=True,
        text=True,
    )
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    producers = {row["producer"] for row in data["reported_vs_computed"]}
    assert {"litellm", "helicone", "langfuse"} <= producers
