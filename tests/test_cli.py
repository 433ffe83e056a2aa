"""The CLI as a user runs it: real subprocesses, exit codes, one-line errors, never a traceback."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from conftest import SAMPLE_LOGS

CLI = [sys.executable, "-m", "costlens"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + list(args), capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("costlens: error:")]
    assert errors, proc.stderr
    for needle in needles:
        assert any(needle in line for line in errors), (needle, errors)
    return errors[0]


@pytest.mark.subprocess
def test_version_and_help():
    assert run("--version").stdout.strip().startswith("costlens ")
    help_text = run("--help").stdout
    for command in ("ingest", "report", "prices", "quarantine", "demo"):
        assert command in help_text


@pytest.mark.subprocess
@pytest.mark.slow
def test_truncated_gzip_is_one_line_error(tmp_path):
    data = gzip.compress(
        b"".join(
            json.dumps(
                {
                    "object": "chat.completion",
                    "id": f"c{i}",
                    "model": "gpt-4o",
                    "created": 1759492800,
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5},
                }
            ).encode()
            + b"\n"
            for i in range(5000)
        )
    )
    broken = tmp_path / "calls.jsonl.gz"
    broken.write_bytes(data[: len(data) // 2])
    proc = run("ingest", str(broken), "--db", str(tmp_path / "db.duckdb"))
    assert proc.returncode == 3
    assert_one_line_error(proc, str(broken), "gzip")
    # all-or-nothing: nothing from the broken file is in the database
    report = run("report", "--db", str(tmp_path / "db.duckdb"), "--format", "json", "--period", "2025-10")
    assert json.loads(report.stdout)["totals"]["calls"] == 0


@pytest.mark.subprocess
@pytest.mark.slow
def test_non_json_line_is_quarantined_with_row(tmp_path):
    good = {
        "object": "chat.completion",
        "id": "chatcmpl-1",
        "model": "gpt-4o-2024-08-06",
        "created": 1759492800,
        "usage": {"prompt_tokens": 100, "completion_tokens": 20},
    }
    file = tmp_path / "mixed.jsonl"
    file.write_text(json.dumps(good) + "\n{this is not json\n" + json.dumps({**good, "id": "chatcmpl-2"}) + "\n")
    db = str(tmp_path / "db.duckdb")
    proc = run("ingest", str(file), "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert "loaded 2" in proc.stdout and "quarantined 1" in proc.stdout
    listing = run("quarantine", "--db", db).stdout
    assert f"{file}:2: rejected: not valid JSON" in listing


@pytest.mark.subprocess
@pytest.mark.slow
def test_negative_tokens_quarantined(tmp_path):
    file = tmp_path / "neg.jsonl"
    record = {
        "object": "chat.completion",
        "id": "chatcmpl-9",
        "model": "gpt-4o",
        "created": 1759492800,
        "usage": {"prompt_tokens": -5, "completion_tokens": 20},
    }
    file.write_text(json.dumps(record) + "\n")
    db = str(tmp_path / "db.duckdb")
    proc = run("ingest", str(file), "--db", db)
    assert proc.returncode == 0
    assert "usage.prompt_tokens is negative: -5" in run("quarantine", "--db", db).stdout  # named (issue 14)


@pytest.mark.subprocess
@pytest.mark.slow
def test_csv_missing_mapped_column_is_one_line_error(tmp_path):
    file = tmp_path / "trace.csv"
    file.write_text("TIMESTAMP,ContextTokens\n2023-11-16 18:15:46.6805900,374\n")
    proc = run(
        "ingest",
        str(file),
        "--db",
        str(tmp_path / "db.duckdb"),
        "--map",
        "ts=TIMESTAMP",
        "--map",
        "input_tokens=ContextTokens",
        "--map",
        "output_tokens=GeneratedTokens",
        "--set",
        "model=gpt-4",
    )
    assert proc.returncode == 3
    assert_one_line_error(proc, str(file), "GeneratedTokens")


@pytest.mark.subprocess
@pytest.mark.slow
def test_unknown_format_is_one_line_error(tmp_path):
    file = tmp_path / "notes.csv"
    file.write_text("colour,size\nred,3\n")
    proc = run("ingest", str(file), "--db", str(tmp_path / "db.duckdb"))
    assert proc.returncode == 3
    assert_one_line_error(proc, str(file), "format not recognised")
    forced = run("ingest", str(file), "--db", str(tmp_path / "db.duckdb"), "--format", "nonsense")
    assert forced.returncode == 2
    assert_one_line_error(forced, "unknown format")


@pytest.mark.subprocess
def test_bad_config_is_usage_error(tmp_path):
    config = tmp_path / "costlens.toml"
    config.write_text("[features.bot]\nmonthly_budjet_usd = 5\n")
    proc = run("report", "--db", str(tmp_path / "db.duckdb"), "--config", str(config))
    assert proc.returncode == 2
    assert_one_line_error(proc, "monthly_budjet_usd")


@pytest.mark.subprocess
@pytest.mark.slow
def test_missing_path_and_bad_period(tmp_path):
    proc = run("ingest", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "db.duckdb"))
    assert proc.returncode == 2
    assert_one_line_error(proc, "nope.jsonl")
    proc = run("report", "--db", str(tmp_path / "db.duckdb"), "--period", "October")
    assert proc.returncode == 2
    assert_one_line_error(proc, "YYYY-MM")


@pytest.mark.subprocess
def test_report_on_missing_database_is_clear(tmp_path):
    proc = run("quarantine", "--db", str(tmp_path / "absent.duckdb"))
    assert proc.returncode == 5
    assert_one_line_error(proc, "does not exist")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("sample") / "sample.duckdb")
    proc = run("ingest", str(SAMPLE_LOGS), "--db", db, "--config", str(SAMPLE_LOGS / "costlens.toml"))
    assert proc.returncode == 0, proc.stderr
    return db, proc


@pytest.mark.subprocess
@pytest.mark.slow
def test_sample_directory_routes_every_file(sample_db):
    db, proc = sample_db
    expected = {
        "support_bot_otlp.jsonl": "otel",
        "search_summarizer_spans.jsonl": "otel",
        "doc_extractor_openai.jsonl.gz": "openai",
        "marketing_copy_openai.jsonl": "openai",
        "coding_agent_anthropic.jsonl": "anthropic",
        "ticket_classifier_warehouse.csv": "generic",
        "outcomes.csv": "outcomes",
        "outcomes_classifier.parquet": "outcomes",
        "focus_billing_2026-10.csv": "focus",
    }
    import duckdb

    con = duckdb.connect(db, read_only=True)
    routed = dict(
        con.execute("SELECT regexp_extract(source_file, '[^/]+$'), source_format FROM ingested_files").fetchall()
    )
    accounted = con.execute(
        "SELECT sum(rows_read) = sum(rows_loaded + rows_duplicate + rows_quarantined + rows_skipped) FROM ingested_files"
    ).fetchone()[0]
    con.close()
    assert routed == expected
    assert accounted
    again = run("ingest", str(SAMPLE_LOGS), "--db", db, "--config", str(SAMPLE_LOGS / "costlens.toml"))
    assert again.returncode == 0
    assert "0 ingested, 9 unchanged" in again.stdout


def _shown_feature_cents(data: dict) -> list:
    """The by-feature Spend cells as tables show them: cents that add up to the shown total."""
    from decimal import Decimal

    from costlens.showback import allocate_cents

    return allocate_cents(
        [Decimal(str(r["cost_usd"])) for r in data["unit_economics"]], Decimal(str(data["totals"]["cost_usd"]))
    )


@pytest.mark.subprocess
@pytest.mark.slow
def test_report_terminal_and_json_agree(sample_db):
    db, _ = sample_db
    config = str(SAMPLE_LOGS / "costlens.toml")
    data = json.loads(run("report", "--db", db, "--config", config, "--format", "json").stdout)
    terminal = run("report", "--db", db, "--config", config).stdout
    total = data["totals"]["cost_usd"]
    assert f"${total:,.2f}" in terminal
    for spend in _shown_feature_cents(data):
        assert f"${spend:,.2f}" in terminal
    assert data["totals"]["priced_coverage_pct"] == 100.0
    assert data["period"] == {
        "start": "2026-10-01",
        "end": "2026-11-01",
        "last_day": "2026-10-31",
        "days": 31,
        "label": "2026-10",
    }


@pytest.mark.subprocess
@pytest.mark.slow
def test_prices_command_explains_and_lists(sample_db, tmp_path):
    db, _ = sample_db
    proc = run(
        "prices", "claude-sonnet-4-5", "--provider", "anthropic", "--at", "2026-10-15", "--db", db, "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["explanation"]["catalog_model"].startswith("claude-sonnet-4")
    assert {k["model"] for k in data["keys"]} >= {"gpt-4o-2024-08-06", "claude-opus-4-1-20250805"}
    assert data["unpriced"] == []


@pytest.mark.subprocess
@pytest.mark.slow
def test_leaks_levers_and_whatif_commands(sample_db):
    db, _ = sample_db
    config = str(SAMPLE_LOGS / "costlens.toml")
    report = json.loads(run("report", "--db", db, "--config", config, "--format", "json").stdout)
    spend = report["totals"]["cost_usd"]
    levers = json.loads(run("levers", "--db", db, "--config", config, "--format", "json").stdout)
    assert levers["levers"] == report["levers"]
    assert sum(lv["est_monthly_savings_usd"] for lv in levers["levers"]) <= levers["lever_summary"]["monthly_spend_usd"]
    assert [lv["rank"] for lv in levers["levers"]] == list(range(1, len(levers["levers"]) + 1))
    leaks = json.loads(run("leaks", "--db", db, "--config", config, "--format", "json").stdout)["leaks"]
    found = {(f["kind"], f["feature"]) for f in leaks}
    # patterns planted in sample_logs (see sample_logs/README.md)
    assert {
        ("premium_overuse", "ticket-classifier"),
        ("batchable", "doc-extractor"),
        ("agent_loops", "coding-agent"),
        ("output_verbosity", "search-summarizer"),
        ("context_bloat", "support-bot"),
    } <= found
    # the clean feature stays clean
    assert not [f for f in leaks if f["feature"] == "marketing-copy" and f["severity"] != "low"]
    terminal = run("levers", "--db", db, "--config", config).stdout
    assert "Levers, ranked by savings per effort" in terminal
    whatif = run(
        "whatif", "route feature=ticket-classifier to=gpt-4.1-nano", "--db", db, "--config", config, "--format", "json"
    )
    assert whatif.returncode == 0, whatif.stderr
    data = json.loads(whatif.stdout)
    assert data["before_usd"] == pytest.approx(spend)
    assert 0 < data["savings_usd"] < data["before_usd"]
    bad = run("whatif", "teleport feature=x", "--db", db)
    assert bad.returncode == 2
    assert_one_line_error(bad, "unknown change")


@pytest.mark.subprocess
@pytest.mark.slow
def test_report_on_missing_database_does_not_create_it(tmp_path):
    missing = tmp_path / "typo.duckdb"
    proc = run("report", "--db", str(missing))
    assert proc.returncode == 5
    assert_one_line_error(proc, "does not exist")
    assert not missing.exists()


@pytest.mark.subprocess
@pytest.mark.slow
def test_terminal_json_markdown_html_agree_on_headlines(sample_db, tmp_path):
    import re

    db, _ = sample_db
    config = str(SAMPLE_LOGS / "costlens.toml")
    data = json.loads(run("report", "--db", db, "--config", config, "--format", "json").stdout)
    terminal = run("report", "--db", db, "--config", config).stdout
    markdown = run("report", "--db", db, "--config", config, "--format", "md").stdout
    html_file = tmp_path / "report.html"
    assert run("report", "--db", db, "--config", config, "--format", "html", "--out", str(html_file)).returncode == 0
    html = html_file.read_text()
    t = data["totals"]
    headlines = [
        f"${t['cost_usd']:,.2f}",
        f"{t['calls']:,}",
        f"{t['tasks']:,}",
        f"${t['cost_per_accepted_outcome_usd']:,.4f}",
        f"${t['cost_per_task_usd']:,.4f}",
    ]
    for text in headlines:
        assert text in terminal, text
        assert text in markdown, text
        assert text in html, text
    metric = dict(
        re.findall(r'data-metric="(total_cost_usd|calls|cost_per_accepted_outcome_usd)"[^>]*data-value="([^"]+)"', html)
    )
    if metric:  # exact values carried by the HTML
        assert float(metric["total_cost_usd"]) == pytest.approx(t["cost_usd"], abs=1e-9)
    for row, cents in zip(data["unit_economics"], _shown_feature_cents(data)):
        spend = f"${cents:,.2f}"  # tables show largest-remainder cents, so rows add up to the shown total
        assert spend in terminal and spend in html, row["feature"]
    for row, cents in list(zip(data["unit_economics"], _shown_feature_cents(data)))[:3]:  # Markdown: the top ones
        assert f"${cents:,.2f}" in markdown, row["feature"]
    # the levers' total is the sum of the levers as shown (each half up to the cent), so the table adds up
    shown = data["lever_summary"]["shown_total_monthly_savings_usd"]
    assert Decimal(str(shown)) == sum(
        Decimal(str(lv["est_monthly_savings_usd"])).quantize(Decimal("0.01"), ROUND_HALF_UP) for lv in data["levers"]
    )
    savings = f"${shown:,.2f}"
    assert savings in terminal and savings in markdown and savings in html
