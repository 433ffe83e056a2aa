"""The whole cost of a feature: model tokens, tool charges, infrastructure (bill lines that are not model usage,
attributed by [[infrastructure.rules]] or by a tag naming the feature) and human review
(sql/metrics/feature_costs.sql, costlens/feature_costs.py)."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from costlens import db
from costlens.config import Config, InfrastructureConfig, InfrastructureRule
from costlens.model.report import Period

ROOT = Path(__file__).resolve().parents[1]
NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1))


def _focus(path: Path, lines: list[dict[str, str]]) -> Path:
    """FOCUS 1.x rows in the columns of the sample month's Azure export, one per dict (the rest as a VM line)."""
    with (ROOT / "sample_logs" / "focus_billing_2026-10.csv").open(newline="") as handle:
        template = next(row for row in csv.DictReader(handle) if row["ServiceName"] == "Virtual Machines")
    template["ResourceId"] = ""  # a FOCUS column that export leaves out
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(template))
        writer.writeheader()
        for line in lines:
            cost = line.pop("cost")
            writer.writerow(
                {
                    **template,
                    "BilledCost": cost,
                    "EffectiveCost": cost,
                    "ListCost": cost,
                    "ContractedCost": cost,
                    "BillingPeriodStart": "2026-11-01T00:00:00Z",
                    "BillingPeriodEnd": "2026-12-01T00:00:00Z",
                    **line,
                }
            )
    return path


def _day(day: int) -> dict[str, str]:
    return {"ChargePeriodStart": f"2026-11-{day:02d}T00:00:00Z", "ChargePeriodEnd": f"2026-11-{day + 1:02d}T00:00:00Z"}


# the bill: a vector database tagged with its feature, GPUs a rule names, storage tagged with an app that is no
# feature, a VM tagged with the feature but claimed by a rule for another, and a line of another month
BILL = [
    {
        "cost": "12.50",
        "ServiceName": "Pinecone",
        "ServiceCategory": "Databases",
        "ChargeDescription": "Serverless read units",
        "Tags": '{"feature":"support-bot","env":"production"}',
        **_day(3),
    },
    {"cost": "40.00", "SkuMeter": "NC24ads A100 v4", "Tags": '{"app":"gpu-pool"}', **_day(5)},
    {"cost": "7.25", "ServiceName": "Storage", "ServiceCategory": "Storage", "Tags": '{"app":"crm"}', **_day(5)},
    {
        "cost": "3.10",
        "SkuMeter": "D4s v5",
        "Tags": '{"feature":"support-bot"}',
        "ResourceId": "vm-search-01",
        **_day(6),
    },
    {"cost": "99.00", "ServiceName": "Pinecone", "Tags": '{"feature":"support-bot"}', **_day(3)}
    | {"ChargePeriodStart": "2026-10-03T00:00:00Z", "ChargePeriodEnd": "2026-10-04T00:00:00Z"},
]
RULES = InfrastructureConfig(
    rules=[
        InfrastructureRule(feature="support-bot", kind="gpu", sku="*a100*"),
        InfrastructureRule(feature="search", kind="search", resource="vm-search-*"),
    ]
)


def _spans(path: Path) -> Path:
    """support-bot: 4 calls of gpt-4o-mini at $0.21 (1M input, 100k output tokens), tasks t0..t3; search: 1."""
    rows = []
    for i, feature in enumerate(["support-bot"] * 4 + ["search"]):
        rows.append(
            {
                "trace_id": f"{i + 1:032x}",
                "span_id": f"{i + 1:016x}",
                "name": "chat gpt-4o-mini",
                "start_time": f"2026-11-{4 + i:02d}T10:00:00.000Z",
                "end_time": f"2026-11-{4 + i:02d}T10:00:01.000Z",
                "status": "OK",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": 1_000_000,
                    "gen_ai.usage.output_tokens": 100_000,
                    "costlens.feature": feature,
                    "costlens.task_id": f"t{i}",
                },
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def report(tmp_path):
    from costlens.ingest.runner import ingest_paths
    from costlens.report.build import build_report

    bill = _focus(tmp_path / "focus.csv", [dict(line) for line in BILL])
    spans = _spans(tmp_path / "spans.jsonl")
    # support-bot: 3 tasks accepted, one with $2.00 of rework, one rejected
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("task_id,accepted,rework_cost_usd\nt0,true,2.00\nt1,true,\nt2,true,\nt3,false,\n")
    con = db.connect(":memory:")
    config = Config(infrastructure=RULES)
    result = ingest_paths(con, [str(bill), str(spans), str(outcomes)], config)
    assert not result.failed
    yield build_report(con, config, NOVEMBER, analyse=False)
    con.close()


@pytest.mark.slow
def test_infrastructure_is_attributed_by_rule_then_tag_and_adds_up(report):
    costs = report.feature_costs
    assert costs is not None
    spend = {(s.feature, s.kind, s.attributed_by): s.cost_usd for s in costs.infrastructure}
    assert spend == {
        ("support-bot", "gpu", "rule 1"): Decimal("40.00"),
        ("support-bot", "database", "tag feature"): Decimal("12.50"),  # Pinecone: ServiceCategory Databases
        ("search", "search", "rule 2"): Decimal("3.10"),  # the rule wins over the line's feature tag
    }
    # the storage line names no feature (app=crm), the October line is another period: neither counts
    assert costs.infrastructure_usd == Decimal("55.60")
    by = {f.feature: f for f in costs.features}
    assert sum(f.infrastructure_usd for f in costs.features) == costs.infrastructure_usd
    assert by["support-bot"].infrastructure_usd == Decimal("52.50")
    assert by["search"].infrastructure_usd == Decimal("3.10")


@pytest.mark.slow
def test_the_whole_cost_of_a_feature_and_per_accepted_outcome(report):
    by = {f.feature: f for f in report.feature_costs.features}
    bot = by["support-bot"]
    # 4 calls × $0.21 = $0.84 of tokens, $52.50 of infrastructure, $2.00 of rework
    assert (bot.model_tokens_usd, bot.tool_charges_usd, bot.infrastructure_usd, bot.human_review_usd) == (
        Decimal("0.84"),
        Decimal(0),
        Decimal("52.50"),
        Decimal("2.00"),
    )
    assert bot.total_usd == Decimal("55.34")
    assert bot.accepted_tasks == 3
    assert bot.inference_cost_per_accepted_outcome_usd == pytest.approx(0.84 / 3)
    assert bot.total_cost_per_accepted_outcome_usd == pytest.approx(55.34 / 3)
    # the calls' part equals the worksheet's cost: nothing is counted twice or lost
    ue = {u.key: u for u in report.unit_economics}
    assert all(f.model_tokens_usd + f.tool_charges_usd == ue[f.feature].cost_usd for f in by.values())
    assert report.feature_costs.total_usd == report.totals.cost_usd + Decimal("55.60") + Decimal("2.00")


@pytest.mark.slow
def test_every_output_shows_the_whole_cost(report):
    from costlens.report.render_html import render_html
    from costlens.report.render_json import report_to_dict
    from costlens.report.render_tables import report_tables

    data = report_to_dict(report)["feature_costs"]
    assert data["infrastructure_usd"] == Decimal("55.60")
    tables = report_tables(report)
    assert {r["feature"]: r["total_usd"] for r in tables["feature_costs"][1]}["support-bot"] == Decimal("55.34")
    assert len(tables["infrastructure"][1]) == 3
    html = render_html(report)
    assert 'data-metric="feature_infrastructure_usd" data-key="support-bot" data-value="52.5' in html


def test_a_rule_that_matches_everything_is_refused(tmp_path):
    import subprocess
    import sys

    config = tmp_path / "costlens.toml"
    config.write_text('[[infrastructure.rules]]\nfeature = "support-bot"\nkind = "gpu"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "costlens", "report", "--db", str(tmp_path / "x.duckdb"), "--config", str(config)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "matches every bill line" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_customer_filter_attributes_no_infrastructure(tmp_path):
    """A feature's infrastructure serves all its customers: a report of one customer's calls must not charge it
    whole to that customer."""
    from costlens.engine import CallFilter
    from costlens.ingest.runner import ingest_paths
    from costlens.report.build import build_report

    bill = _focus(tmp_path / "focus.csv", [dict(line) for line in BILL])
    spans = _spans(tmp_path / "spans.jsonl")
    con = db.connect(":memory:")
    config = Config(infrastructure=RULES)
    ingest_paths(con, [str(bill), str(spans)], config)
    report = build_report(con, config, NOVEMBER, analyse=False, call_filter=CallFilter(customers=("(no customer)",)))
    assert report.totals.calls == 5
    assert report.feature_costs.infrastructure_usd == 0 and report.feature_costs.infrastructure == []
    assert all(f.infrastructure_usd == 0 for f in report.feature_costs.features)
