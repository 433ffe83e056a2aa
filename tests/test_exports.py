"""CSV / Parquet exports of the report tables (costlens/report/render_tables.py): formula injection neutralised,
numbers kept numbers, Parquet money exact."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest
from test_budgets import make_report, ue

from costlens.errors import UsageError
from costlens.inert import neutralise
from costlens.model.leaks import Finding
from costlens.model.levers import Lever
from costlens.model.report import Budget
from costlens.report.render_tables import MONEY, TEXT, csv_cell, export_tables

FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3", "@SUM(1)", "\tTAB", "\rCR", '  =HYPERLINK("x")']
TABLES = [
    "unit_economics",
    "by_model",
    "by_team",
    "by_day",
    "leaks",
    "levers",
    "budgets",
    "showback",
    "showback_invoice",
    "customers",
    "plans",
    "feature_costs",
    "infrastructure",
    "self_hosted",
]


def hostile_report():
    features = [
        ue(
            name,
            f"0.{i + 1}25",
            calls=3,
            tasks=2,
            cost_per_call_usd=-0.5 if i == 0 else 0.04,
            acceptance_rate=0.5,
            accepted_tasks=1,
        )
        for i, name in enumerate(FORMULAS + ["<script>alert(1)</script>", "plain"])
    ]
    report = make_report(features)
    report.by_model = [ue("=gpt|' /C calc'!A0", "1.000000000000000001", provider="@evil", calls=7)]
    report.leaks = [
        Finding(
            kind="retries",
            feature=FORMULAS[0],
            model="-gpt",
            task_class=None,
            calls_affected=4,
            wasted_usd=Decimal("0.000000001"),
            est_monthly_savings_usd=Decimal("12.5"),
            confidence="high",
            severity="medium",
            evidence={"example_call_ids": ["=c1", "c2"], "failed": 4},
            explanation="+x",
            lever="stability_guardrails",
            savings_low_usd=Decimal("6"),
            savings_high_usd=Decimal("12.5"),
            quality_risk="low",
            affected_cost_usd=Decimal("1"),
        )
    ]
    report.levers = [
        Lever(
            rank=1,
            lever="model_routing",
            est_monthly_savings_usd=Decimal("262.75"),
            savings_low_usd=Decimal("158"),
            savings_high_usd=Decimal("263"),
            share_of_spend=0.3,
            effort="days",
            quality_risk="medium",
            features=["@a", "b"],
            evidence={"k": Decimal("1.5")},
            first_action="=route",
            quality_reason="",
            savings_per_effort_day_usd=Decimal("87.58"),
            by_feature={},
            findings=2,
        )
    ]
    report.budgets = [
        Budget.from_json(b)
        for b in [
            {
                "feature": "=b",
                "owner": "+o",
                "status": "over",
                "spend_usd": Decimal("3"),
                "monthly_budget_usd": Decimal("2"),
                "used_pct": 150.0,
                "slo_status": "no_slo",
            }
        ]
    ]
    return report


def read(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_neutralises_formulas_and_keeps_numbers(tmp_path):
    paths = export_tables(hostile_report(), tmp_path / "out", "csv")
    assert [p.name for p in paths] == [f"{t}.csv" for t in TABLES]
    rows = read(tmp_path / "out" / "unit_economics.csv")
    features = [r["feature"] for r in rows]
    for raw in FORMULAS:
        assert "'" + raw in features, raw
    assert "<script>alert(1)</script>" in features and "plain" in features  # not a formula: unchanged
    for row in rows:
        for column in ("cost_usd", "calls", "tasks", "acceptance_rate", "cost_per_call_usd", "accepted_tasks"):
            float(row[column])  # every number parses as a number: no quote, no prefix
    first = rows[0]
    assert first["cost_usd"] == "0.125" and first["calls"] == "3" and first["cost_per_call_usd"] == "-0.5"
    assert first["cost_per_task_usd"] == ""  # None → empty
    model = read(tmp_path / "out" / "by_model.csv")[0]
    assert model["model"].startswith("'=") and model["provider"] == "'@evil"
    assert model["cost_usd"] == "1.000000000000000001"  # exact, no exponent
    leak = read(tmp_path / "out" / "leaks.csv")[0]
    assert leak["feature"] == "'" + FORMULAS[0] and leak["model"] == "'-gpt" and leak["explanation"] == "'+x"
    assert leak["wasted_usd"] == "0.000000001" and leak["example_call_ids"] == "'=c1; c2"
    assert json.loads(leak["evidence"]) == {"example_call_ids": ["=c1", "c2"], "failed": 4}
    lever = read(tmp_path / "out" / "levers.csv")[0]
    assert lever["features"] == "'@a; b" and lever["first_action"] == "'=route" and lever["share_of_spend"] == "0.3"
    assert json.loads(lever["evidence"]) == {"k": "1.5"}
    budget = read(tmp_path / "out" / "budgets.csv")[0]
    assert budget["feature"] == "'=b" and budget["owner"] == "'+o" and budget["used_pct"] == "150.0"


@pytest.mark.parametrize(
    "value, kind, expected",
    [
        (Decimal("-1.50"), MONEY, "-1.5"),
        (Decimal("0E-18"), MONEY, "0"),
        (Decimal("1E+3"), MONEY, "1000"),
        (-3, MONEY, "-3"),
        (float("nan"), MONEY, ""),
        (None, TEXT, ""),
        (True, TEXT, "true"),
        ("-x", TEXT, "'-x"),
        ("a-b", TEXT, "a-b"),
        (["=a", "b"], TEXT, "'=a; b"),
    ],
)
def test_csv_cell(value, kind, expected):
    assert csv_cell(value, kind) == expected


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1" and neutralise(" @x") == "' @x" and neutralise("") == ""
    assert neutralise("x=1") == "x=1"


def test_parquet_round_trip_keeps_decimals(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = export_tables(hostile_report(), tmp_path / "costlens.parquet", "parquet")
    assert [p.name for p in paths] == [f"costlens.{t}.parquet" for t in TABLES]
    table = pq.read_table(tmp_path / "costlens.unit_economics.parquet")
    assert table.schema.field("cost_usd").type == pa.decimal128(38, 18)
    assert table.schema.field("calls").type == pa.int64()
    assert table.schema.field("acceptance_rate").type == pa.float64()
    assert table.column("cost_usd").to_pylist()[:2] == [Decimal("0.125"), Decimal("0.225")]
    assert table.column("feature").to_pylist()[0] == FORMULAS[0]  # typed data: kept verbatim
    model = pq.read_table(tmp_path / "costlens.by_model.parquet").to_pylist()[0]
    assert model["cost_usd"] == Decimal("1.000000000000000001") and model["calls"] == 7
    leak = pq.read_table(tmp_path / "costlens.leaks.parquet").to_pylist()[0]
    assert leak["wasted_usd"] == Decimal("1E-9") and leak["calls_affected"] == 4
    budgets = pq.read_table(tmp_path / "costlens.budgets.parquet")
    assert budgets.schema.field("spend_usd").type == pa.decimal128(38, 18)
    assert budgets.to_pylist()[0]["monthly_budget_usd"] == Decimal("2")


def test_empty_report_writes_headers(tmp_path):
    paths = export_tables(make_report([]), tmp_path, "csv")
    assert all(p.read_text(encoding="utf-8").count("\n") == 1 for p in paths)
    import pyarrow.parquet as pq

    for path in export_tables(make_report([]), tmp_path / "pq", "parquet"):
        assert pq.read_table(path).num_rows == 0


def test_bad_format_and_mismatched_name(tmp_path):
    with pytest.raises(UsageError):
        export_tables(make_report([]), tmp_path, "xlsx")
    with pytest.raises(UsageError) as err:
        export_tables(make_report([]), tmp_path / "x.parquet", "csv")
    assert err.value.exit_code == 2
