"""Never silent: quantities costlens cannot price, files that yield nothing and bills in other currencies are
said, with the figures, never turned into $0 or added to USD."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from costlens import api
from costlens.config import Config

from conftest import SAMPLE_LOGS

pytestmark = pytest.mark.slow

REALWORLD = Path(__file__).resolve().parent / "realworld"


def _span(**attributes) -> str:
    return json.dumps(
        {
            "trace_id": "0x" + "a" * 32,
            "span_id": "0x" + "b" * 16,
            "name": "chat",
            "start_time": "2026-10-05T10:00:00Z",
            "end_time": "2026-10-05T10:00:01Z",
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                **attributes,
            },
        }
    )


def test_an_unread_usage_attribute_is_counted_in_coverage(tmp_path):
    path = tmp_path / "spans.jsonl"
    path.write_text(
        _span(
            **{
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 100,
                "gen_ai.usage.image_generation_tokens": 4160,
            }
        )
        + "\n"
    )
    db = str(tmp_path / "c.duckdb")
    api.ingest([str(path)], db=db, config=Config())
    report = api.report(db=db, config=Config(), period="2026-10")
    # 1,000 × $2.50/M + 100 × $10/M by hand; the unknown field is listed, not priced and not dropped
    assert report.totals.cost_usd == Decimal("0.0035")
    (usage,) = report.coverage.unpriced_usage
    assert (usage.kind, usage.field, usage.calls, usage.quantity) == (
        "unread_field",
        "gen_ai.usage.image_generation_tokens",
        1,
        4160,
    )


@pytest.mark.parametrize("doubled", [False, True])
def test_unread_app_log_usage_fields_are_counted_whatever_their_keys(tmp_path, doubled):
    # a usage key with a quote in it (once failed the whole file), nested or not; an object with a key written
    # twice is read member by member (the first value, as JSON readers do)
    usage = (
        '{"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100, "odd\\"key": 7, '
        '"prompt_tokens_details": {"cached_tokens": 0, "new/kind": 3}' + (', "odd\\"key": 9' if doubled else "") + "}"
    )
    line = (
        '{"timestamp": "2026-10-05T10:00:00Z", "request": {"model": "gpt-4o"}, "response": {"id": "chatcmpl-q", '
        '"object": "chat.completion", "model": "gpt-4o-2024-08-06", "usage": ' + usage + "}}"
    )
    path = tmp_path / "app.jsonl"
    path.write_text(line + "\n")
    db = str(tmp_path / "c.duckdb")
    api.ingest([str(path)], db=db, config=Config())
    report = api.report(db=db, config=Config(), period="2026-10")
    assert report.totals.calls == 1
    # 1,000 × $2.50/M + 100 × $10/M by hand: the unknown fields are listed, not priced
    assert report.totals.cost_usd == Decimal("0.0035")
    fields = sorted((u.field, u.quantity) for u in report.coverage.unpriced_usage)
    assert fields == [('odd"key', 7), ("prompt_tokens_details.new/kind", 3)]


def test_a_model_span_without_usage_is_rejected_not_zero(tmp_path):
    path = tmp_path / "spans.jsonl"
    path.write_text(_span() + "\n")
    db = str(tmp_path / "c.duckdb")
    (file,) = api.ingest([str(path)], db=db, config=Config()).files
    assert (file.rows_loaded, file.rows_quarantined) == (0, 1)
    assert "no call loaded" in file.warning and "without token usage" in file.warning


@pytest.mark.subprocess
def test_a_file_that_yields_no_call_warns_on_the_command_line(tmp_path):
    path = tmp_path / "agents.jsonl"
    path.write_text(
        json.dumps(
            {
                "trace_id": "t",
                "span_id": "s",
                "name": "agent",
                "attributes": {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"},
            }
        )
        + "\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "costlens", "ingest", str(path), "--db", str(tmp_path / "c.duckdb")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    assert (
        f"costlens: warning: {path}: 1 rows read but no call loaded (0 quarantined, 1 skipped) — most rows: "
        "not a model call (invoke_agent span) (1)"
    ) in proc.stderr


def _eur_bill(tmp_path: Path) -> Path:
    """The sample month's FOCUS bill with its amounts stated in EUR (BillingCurrency EUR)."""
    rows = list(csv.DictReader((SAMPLE_LOGS / "focus_billing_2026-10.csv").open()))
    out = tmp_path / "focus_eur.csv"
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "BillingCurrency": "EUR"})
    return out


def test_a_bill_in_euros_is_never_reconciled_as_dollars(tmp_path):
    logs = tmp_path / "logs"
    shutil.copytree(SAMPLE_LOGS, logs, ignore=shutil.ignore_patterns("focus_*", "*.py", "*.md"))
    db = str(tmp_path / "c.duckdb")
    config = api.load_config(str(SAMPLE_LOGS / "costlens.toml"))
    api.ingest([str(logs), str(_eur_bill(tmp_path))], db=db, config=config)
    report = api.report(db=db, config=config, period="2026-10")
    rc = report.reconciliation
    assert rc.status == "not_compared" and rc.ai_billed_usd == 0
    (bill,) = rc.unconverted
    # the bill's own AI total (Σ BilledCost of its AI lines, by hand from the file), in EUR
    assert (bill.currency, bill.ai_billed) == ("EUR", Decimal("279.2899422"))
    assert "not compared" in rc.verdict and "[[currency.rates]]" in rc.verdict

    # with a dated rate the same bill is converted line by line: 279.29 EUR × 1.08 (to the cent)
    rated = Config.model_validate(
        {
            **config.model_dump(exclude={"path"}),
            "currency": {"rates": [{"currency": "EUR", "valid_from": "2026-01-01", "usd": 1.08}]},
        }
    )
    converted = api.report(db=db, config=rated, period="2026-10").reconciliation
    assert converted.status in ("reconciled", "outside_tolerance")
    assert converted.ai_billed_usd == Decimal("279.2899422") * Decimal("1.08")
    assert "converted to USD: EUR via config 2026-01-01" in converted.notes


def test_langfuse_single_trace_with_embedded_observations(tmp_path):
    # GET /api/public/traces/{id} returns the trace with its observations inside: the real downloaded trace,
    # reshaped that way, gives the same calls and attribution
    doc = json.loads((REALWORLD / "langfuse" / "langfuse_trace_langgraph-js-2025-10-30.json").read_text())
    single = {**doc["trace"], "observations": doc["observations"]}
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(single))
    db = str(tmp_path / "c.duckdb")
    (file,) = api.ingest([str(path)], db=db, config=Config()).files
    assert file.format == "langfuse" and file.rows_loaded == 2
    report = api.report(db=db, config=Config(), period="2025-10")
    assert [(u.key, u.calls) for u in report.unit_economics] == [("LangGraph", 2)]
