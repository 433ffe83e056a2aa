"""Every `totals` and `unit_economics` field (docs/json-contract.md#totals, docs/json-contract.md#worksheet-rows)
against values computed by hand.

Fixture (tests/fixtures/economics): 9 flat OTel spans over two features, prices set by config overrides
(acme-large $10 in / $30 out / $1 cache read per Mtok; acme-small $1 / $2 / $0.1), one unpriced model,
and outcomes for 4 of the 5 tasks. Loaded hourly rate $60, delay $0.10 per minute.

Per call (uncached input × in + cache read × cr + output × out):
  A1: large 600·10 + 400·1 + 100·30 = 9,400 µ$ ; small 2000·1 + 200·2 = 2,400 µ$
  A2: small 500 + 100 = 600 µ$        A3: large failed 300·10 = 3,000 µ$ ; large 3,000 + 3,000 = 6,000 µ$
  B1: 3 × small (1,000 + 200) = 3,600 µ$        B2: mystery-model, unpriced
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from conftest import FIXTURES

ECON = FIXTURES / "economics"

CONTRACT_TOTALS = {
    "cost_usd",
    "calls",
    "tasks",
    "accepted_tasks",
    "unpriced_calls",
    "priced_coverage_pct",
    "cost_per_call_usd",
    "cost_per_task_usd",
    "quality_adjusted_cost_per_task_usd",
    "cost_per_accepted_outcome_usd",
}
CONTRACT_UE = {
    "feature",
    "calls",
    "tasks",
    "cost_usd",
    "cost_per_call_usd",
    "calls_per_task",
    "cost_per_task_usd",
    "acceptance_rate",
    "quality_adjusted_cost_per_task_usd",
    "cost_per_accepted_outcome_usd",
    "retry_rate",
    "avg_input_tokens",
    "premium_spend_share",
    "p95_latency_ms",
    "human_review_rate",
    "cache_hit_rate",
}
TOP_LEVEL = {
    "schema_version",
    "generated_at",
    "period",
    "price_book",
    "totals",
    "unit_economics",
    "by_model",
    "leaks",
    "levers",
    "budgets",
    "reconciliation",
    "warnings",
}


@pytest.fixture(scope="module")
def report_json(tmp_path_factory):
    work = tmp_path_factory.mktemp("econ")
    db = str(work / "econ.duckdb")
    cli = [sys.executable, "-m", "costlens"]
    config = str(ECON / "costlens.toml")
    ingest = subprocess.run(
        cli + ["ingest", str(ECON / "spans.jsonl"), str(ECON / "outcomes.csv"), "--db", db, "--config", config],
        capture_output=True,
        text=True,
    )
    assert ingest.returncode == 0, ingest.stderr
    report = subprocess.run(
        cli + ["report", "--db", db, "--config", config, "--period", "2026-10", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert report.returncode == 0, report.stderr
    return json.loads(report.stdout)


@pytest.mark.subprocess
@pytest.mark.slow
def test_contract_fields_present(report_json):
    assert TOP_LEVEL <= set(report_json)
    assert report_json["schema_version"] == "1"
    assert report_json["period"] == {
        "start": "2026-10-01",
        "end": "2026-11-01",
        "last_day": "2026-10-31",
        "days": 31,
        "label": "2026-10",
    }
    assert set(report_json["price_book"]) >= {"source", "version"}
    assert CONTRACT_TOTALS <= set(report_json["totals"])
    for row in report_json["unit_economics"]:
        assert CONTRACT_UE <= set(row)


@pytest.mark.subprocess
@pytest.mark.slow
def test_totals_by_hand(report_json):
    t = report_json["totals"]
    assert Decimal(str(t["cost_usd"])) == Decimal("0.025")
    assert t["calls"] == 9
    assert t["tasks"] == 5
    assert t["accepted_tasks"] == 3
    assert t["unpriced_calls"] == 1
    assert t["priced_coverage_pct"] == pytest.approx(800 / 9)
    assert t["cost_per_call_usd"] == pytest.approx(0.025 / 8)
    assert t["cost_per_task_usd"] == pytest.approx(0.005)
    assert t["quality_adjusted_cost_per_task_usd"] == pytest.approx(0.005 / 0.75)
    # (inference 0.025 + rework 6 min × $60/h + delay 10 min × $0.10) / 3 accepted
    assert t["cost_per_accepted_outcome_usd"] == pytest.approx((0.025 + 6 + 1) / 3)


@pytest.mark.subprocess
@pytest.mark.slow
def test_unit_economics_by_hand(report_json):
    rows = {r["feature"]: r for r in report_json["unit_economics"]}
    assert set(rows) == {"alpha", "beta"}
    a, b = rows["alpha"], rows["beta"]
    assert a["calls"] == 5 and a["tasks"] == 3
    assert Decimal(str(a["cost_usd"])) == Decimal("0.0214")
    assert a["cost_per_call_usd"] == pytest.approx(0.0214 / 5)
    assert a["calls_per_task"] == pytest.approx(5 / 3)
    assert a["cost_per_task_usd"] == pytest.approx(0.0214 / 3)
    assert a["acceptance_rate"] == pytest.approx(2 / 3)
    assert a["quality_adjusted_cost_per_task_usd"] == pytest.approx(0.0214 / 3 / (2 / 3))
    assert a["cost_per_accepted_outcome_usd"] == pytest.approx((0.0214 + 6) / 2)
    assert a["retry_rate"] == pytest.approx(1 / 5)
    assert a["avg_input_tokens"] == pytest.approx(4100 / 5)
    assert a["premium_spend_share"] == pytest.approx(0.0184 / 0.0214)
    assert a["p95_latency_ms"] == pytest.approx(2800)  # [500, 1000, 1500, 2000, 3000] at 0.95
    assert a["human_review_rate"] == pytest.approx(1 / 3)
    assert a["cache_hit_rate"] == pytest.approx(400 / 4100)

    assert b["calls"] == 4 and b["tasks"] == 2
    assert Decimal(str(b["cost_usd"])) == Decimal("0.0036")
    assert b["cost_per_call_usd"] == pytest.approx(0.0036 / 3)  # the unpriced call does not dilute it
    assert b["calls_per_task"] == pytest.approx(2)
    assert b["cost_per_task_usd"] == pytest.approx(0.0018)
    assert b["acceptance_rate"] == pytest.approx(1.0)
    assert b["quality_adjusted_cost_per_task_usd"] == pytest.approx(0.0018)
    assert b["cost_per_accepted_outcome_usd"] == pytest.approx(0.0036 + 1)
    assert b["retry_rate"] == pytest.approx(0)
    assert b["avg_input_tokens"] == pytest.approx(3100 / 4)
    assert b["premium_spend_share"] == pytest.approx(0)
    assert b["p95_latency_ms"] == pytest.approx(985)  # [700, 800, 900, 1000] at 0.95
    assert b["human_review_rate"] == pytest.approx(0)
    assert b["cache_hit_rate"] == pytest.approx(0)
    assert b["unpriced_calls"] == 1


@pytest.mark.subprocess
@pytest.mark.slow
def test_feature_costs_add_up_to_total(report_json):
    total = Decimal(str(report_json["totals"]["cost_usd"]))
    assert sum(Decimal(str(r["cost_usd"])) for r in report_json["unit_economics"]) == total
    assert sum(Decimal(str(r["cost_usd"])) for r in report_json["by_model"]) == total


@pytest.mark.subprocess
@pytest.mark.slow
def test_unpriced_model_is_listed_not_zero(report_json):
    models = {r["model"]: r for r in report_json["by_model"]}
    assert models["mystery-model"]["unpriced_calls"] == 1
    assert models["mystery-model"]["cost_per_call_usd"] is None
    assert any("mystery-model" in w for w in report_json["warnings"])
