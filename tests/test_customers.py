"""Unit economics and gross AI margin per customer and plan: the revenue input (costlens/ingest/revenue.py), its
identity across deliveries, sql/metrics/customer_economics.sql and every output of the Customers section."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from costlens import db
from costlens.config import Config, CustomersConfig
from costlens.model.report import Period

# gpt-4o-mini (genai-prices): $0.15 / M input, $0.60 / M output → 1,000,000 in + 100,000 out = $0.21 a call
PER_CALL = Decimal("0.21")
# customer → calls: acme 6, globex 3, initech 1, and 2 calls that name no customer
CALLS = ["acme"] * 6 + ["globex"] * 3 + ["initech"] + [None] * 2
REVENUE = """customer_id,month,revenue_usd,plan
acme,2026-11,1200.00,enterprise
globex,2026-11,"$1,500.50",pro
globex,2026-11,99.50,pro
initech,2026-11-01,0.50,starter
umbrella,2026-11,250,pro
acme,2026-10,900,enterprise
bad,nov,10,pro
"""


def _spans(path: Path) -> Path:
    lines = []
    for i, customer in enumerate(CALLS):
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 1_000_000,
            "gen_ai.usage.output_tokens": 100_000,
            "costlens.feature": "assistant",
            "costlens.task_id": f"t{i}",
        }
        if customer:
            attributes["costlens.customer"] = customer
        lines.append(
            json.dumps(
                {
                    "trace_id": f"{i + 1:032x}",
                    "span_id": f"{i + 1:016x}",
                    "name": "chat gpt-4o-mini",
                    "start_time": f"2026-11-{3 + i:02d}T10:00:00.000Z",
                    "end_time": f"2026-11-{3 + i:02d}T10:00:01.000Z",
                    "status": "OK",
                    "attributes": attributes,
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def month(tmp_path):
    spans = _spans(tmp_path / "spans.jsonl")
    revenue = tmp_path / "revenue.csv"
    revenue.write_text(REVENUE, encoding="utf-8")
    outcomes = tmp_path / "outcomes.csv"
    # acme: 4 of its 6 tasks accepted, 2 rejected; no other outcome
    outcomes.write_text("task_id,accepted\nt0,true\nt1,true\nt2,true\nt3,true\nt4,false\nt5,false\n")
    return tmp_path, spans, revenue, outcomes


def _report(con, config: Config | None = None, period: Period | None = None):
    from costlens.report.build import build_report

    return build_report(con, config or Config(), period or Period(date(2026, 11, 1), date(2026, 12, 1)), analyse=False)


@pytest.mark.slow
def test_revenue_rows_are_read_and_bad_ones_quarantined(month):
    from costlens.ingest.runner import ingest_paths

    folder, _, revenue, _ = month
    con = db.connect(":memory:")
    result = ingest_paths(con, [str(revenue)], Config())
    (file,) = result.files
    assert (file.format, file.rows_read, file.rows_loaded, file.rows_quarantined) == ("revenue", 7, 6, 1)
    rows = con.execute("SELECT customer, month, revenue_usd, plan FROM revenue ORDER BY ALL").fetchall()
    assert rows == [
        ("acme", date(2026, 10, 1), Decimal(900), "enterprise"),
        ("acme", date(2026, 11, 1), Decimal(1200), "enterprise"),
        ("globex", date(2026, 11, 1), Decimal("99.5"), "pro"),
        ("globex", date(2026, 11, 1), Decimal("1500.5"), "pro"),
        ("initech", date(2026, 11, 1), Decimal("0.5"), "starter"),
        ("umbrella", date(2026, 11, 1), Decimal(250), "pro"),
    ]
    (reason,) = con.execute("SELECT source_row, reason FROM quarantine").fetchall()
    assert reason == (8, "month is not a month (2026-11, 2026-11-01 or a date): 'nov'")


@pytest.mark.slow
def test_a_corrected_revenue_export_replaces_and_an_identical_one_adds_nothing(month):
    from costlens.ingest.runner import ingest_paths

    folder, _, revenue, _ = month
    con = db.connect(":memory:")
    ingest_paths(con, [str(revenue)], Config())
    # the same rows re-saved with CRLF line ends: a new file (another hash), the same money
    crlf = folder / "revenue-crlf.csv"
    crlf.write_bytes(revenue.read_bytes().replace(b"\n", b"\r\n"))
    (file,) = ingest_paths(con, [str(crlf)], Config()).files
    assert (file.rows_loaded, file.rows_duplicate) == (0, 6)
    # a corrected export of November for globex: its two rows are replaced by one, never added to
    fixed = folder / "revenue-fixed.csv"
    fixed.write_text("customer_id,month,revenue_usd,plan\nglobex,2026-11,1700,pro\n", encoding="utf-8")
    ingest_paths(con, [str(fixed)], Config())
    globex = con.execute("SELECT sum(revenue_usd), count(*) FROM revenue WHERE customer = 'globex'").fetchone()
    assert globex == (Decimal(1700), 1)
    total = con.execute("SELECT sum(revenue_usd) FROM revenue WHERE month = DATE '2026-11-01'").fetchone()[0]
    assert total == Decimal("3150.5")  # 1200 + 1700 + 0.5 + 250
    replaced = con.execute("SELECT target, rows_replaced, amount FROM replacements").fetchall()
    assert replaced == [("revenue", 2, Decimal(1600))]


@pytest.mark.slow
def test_customers_add_up_and_margins_are_exact(month):
    from costlens.ingest.runner import ingest_paths

    _, spans, revenue, outcomes = month
    con = db.connect(":memory:")
    ingest_paths(con, [str(spans), str(revenue), str(outcomes)], Config())
    report = _report(con)
    section = report.customers
    assert section is not None
    by = {c.customer: c for c in section.customers}
    # AI cost per customer: its calls × $0.21, adding up to the period total to the cent
    assert {k: c.ai_cost_usd for k, c in by.items()} == {
        "acme": 6 * PER_CALL,
        "globex": 3 * PER_CALL,
        "initech": PER_CALL,
        "(no customer)": 2 * PER_CALL,
        "umbrella": Decimal(0),
    }
    assert section.ai_cost_usd == report.totals.cost_usd == 12 * PER_CALL
    # November's revenue only (acme's October is another period); margin = revenue − AI cost
    assert by["acme"].revenue_usd == Decimal(1200) and by["acme"].margin_usd == Decimal("1198.74")
    assert by["globex"].revenue_usd == Decimal(1600) and by["globex"].margin_usd == Decimal("1599.37")
    assert by["initech"].margin_usd == Decimal("0.29") and by["initech"].ai_cost_share == pytest.approx(0.42)
    assert by["umbrella"].margin_usd == Decimal(250) and by["umbrella"].calls == 0
    assert by["(no customer)"].revenue_usd is None and by["(no customer)"].plan == "(no plan)"
    # acme: 4 accepted of 6 → cost per accepted outcome = $1.26 / 4
    assert by["acme"].acceptance_rate == pytest.approx(4 / 6)
    assert by["acme"].cost_per_accepted_outcome_usd == pytest.approx(1.26 / 4)
    # the margin counts the customers with revenue: 3050.5 − (1.26 + 0.63 + 0.21 + 0)
    assert section.revenue_usd == Decimal("3050.5") and section.margin_usd == Decimal("3048.40")
    assert section.over_share == ["initech"]  # $0.21 of $0.50 = 42% > 25%
    assert section.top_by_margin == ["globex", "acme", "umbrella", "initech"]
    assert section.bottom_by_margin == ["initech", "umbrella", "acme", "globex"]
    plans = {p.plan: p for p in section.by_plan}
    assert plans["pro"].customers == 2 and plans["pro"].revenue_usd == Decimal("1850")
    assert plans["pro"].ai_cost_usd == 3 * PER_CALL and plans["pro"].margin_usd == Decimal("1849.37")
    assert plans["starter"].customers_over_share == 1
    assert sum(p.ai_cost_usd for p in section.by_plan) == section.ai_cost_usd


@pytest.mark.slow
def test_part_of_a_month_counts_its_share_of_the_revenue(month):
    from costlens.ingest.runner import ingest_paths

    _, spans, revenue, _ = month
    con = db.connect(":memory:")
    ingest_paths(con, [str(spans), str(revenue)], Config())
    # 2026-11-16 .. 2026-11-30: 15 of November's 30 days
    report = _report(con, period=Period(date(2026, 11, 16), date(2026, 12, 1)))
    by = {c.customer: c for c in report.customers.customers}
    assert by["acme"].revenue_usd == Decimal(600)
    assert by["umbrella"].revenue_usd == Decimal(125)
    # and the customers still add up to that period's total (calls on Nov 16 and later: none of acme's)
    assert report.customers.ai_cost_usd == report.totals.cost_usd


@pytest.mark.slow
def test_no_customer_and_no_revenue_means_no_section(tmp_path):
    from costlens.ingest.runner import ingest_paths

    spans = _spans(tmp_path / "spans.jsonl")
    lines = [json.loads(line) for line in spans.read_text().splitlines()]
    for line in lines:
        line["attributes"].pop("costlens.customer", None)
    spans.write_text("".join(json.dumps(line) + "\n" for line in lines))
    con = db.connect(":memory:")
    ingest_paths(con, [str(spans)], Config())
    assert _report(con).customers is None


@pytest.mark.slow
def test_every_output_shows_the_customers(month):
    from costlens.ingest.runner import ingest_paths
    from costlens.report.render_html import render_html
    from costlens.report.render_json import report_to_dict
    from costlens.report.render_tables import report_tables

    _, spans, revenue, _ = month
    con = db.connect(":memory:")
    ingest_paths(con, [str(spans), str(revenue)], Config())
    report = _report(con)
    data = report_to_dict(report)["customers"]
    assert data["margin_usd"] == Decimal("3048.40") and data["over_share"] == ["initech"]
    assert [c["customer"] for c in data["customers"]][:2] == ["acme", "globex"]
    tables = report_tables(report)
    assert {row["customer"]: row["ai_cost_usd"] for row in tables["customers"][1]}["acme"] == Decimal("1.26")
    assert {row["plan"] for row in tables["plans"][1]} == {"enterprise", "pro", "starter", "(no plan)"}
    html = render_html(report)
    assert 'data-metric="customer_margin_usd" data-key="acme" data-value="1198.74' in html
    assert "AI cost above 25.0% of revenue: initech" in html
    assert "Gross AI margin by customer" in html  # the chart's title, in its SVG


@pytest.mark.slow
def test_check_fails_a_customer_below_the_margin_floor(month):
    from costlens.check import run_check
    from costlens.ingest.runner import ingest_paths

    _, spans, revenue, _ = month
    con = db.connect(":memory:")
    ingest_paths(con, [str(spans), str(revenue)], Config())
    config = Config(customers=CustomersConfig(margin_floor_pct=60))
    result = run_check(_report(con, config), None, config)
    margin = {r.name: r.status for r in result.rules if r.kind == "margin_floor"}
    # initech keeps 58% of its revenue; the others more than 99%
    assert margin == {
        "margin_floor[acme]": "PASS",
        "margin_floor[globex]": "PASS",
        "margin_floor[initech]": "FAIL",
        "margin_floor[umbrella]": "PASS",
    }
    assert result.exit_code == 4
    # without the setting, no margin rule at all
    assert not [r for r in run_check(_report(con), None, Config()).rules if r.kind == "margin_floor"]


@pytest.mark.subprocess
@pytest.mark.slow
def test_the_cli_reads_a_revenue_file_and_reports_margins(month):
    folder, spans, revenue, _ = month
    database = folder / "costlens.duckdb"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "costlens", *args], capture_output=True, text=True, cwd=folder)

    ingest = run("ingest", str(spans), str(revenue), "--db", str(database))
    assert ingest.returncode == 0, ingest.stderr
    assert "revenue" in ingest.stdout
    report = run("report", "--db", str(database), "-p", "2026-11", "--json")
    assert report.returncode == 0, report.stderr
    customers = json.loads(report.stdout)["customers"]
    assert customers["revenue_usd"] == 3050.5 and customers["margin_usd"] == 3048.4
    text = run("report", "--db", str(database), "-p", "2026-11", "--wide")
    assert "Customers: AI cost and gross AI margin" in text.stdout
    assert "AI cost above 25% of revenue: initech" in text.stdout


@pytest.mark.slow
def test_one_customer_is_a_filter_like_a_feature(month):
    from costlens import api
    from costlens.errors import UsageError
    from costlens.ingest.runner import ingest_paths

    folder, spans, revenue, _ = month
    database = folder / "costlens.duckdb"
    con = db.connect(str(database))
    ingest_paths(con, [str(spans), str(revenue)], Config())
    con.close()
    report = api.report(db=str(database), config=Config(), period="2026-11", customer="globex")
    assert report.filters == {"features": [], "teams": [], "customers": ["globex"]}
    assert report.totals.calls == 3 and report.totals.cost_usd == 3 * PER_CALL
    (only,) = report.customers.customers
    assert (only.customer, only.revenue_usd, only.margin_usd) == ("globex", Decimal(1600), Decimal("1599.37"))
    nobody = api.report(db=str(database), config=Config(), period="2026-11", customer="(no customer)")
    assert nobody.totals.calls == 2
    # a feature filter keeps AI cost per customer but leaves revenue out
    by_feature = api.report(db=str(database), config=Config(), period="2026-11", feature="assistant")
    assert by_feature.customers.revenue_usd is None
    assert all(c.revenue_usd is None for c in by_feature.customers.customers)
    with pytest.raises(UsageError, match="did you mean --customer globex"):
        api.report(db=str(database), config=Config(), period="2026-11", customer="globx")


@pytest.mark.subprocess
@pytest.mark.slow
def test_check_judges_the_margin_of_a_saved_report(month):
    folder, spans, revenue, _ = month
    database, saved = folder / "costlens.duckdb", folder / "report.json"
    config = folder / "costlens.toml"
    config.write_text("[customers]\nmargin_floor_pct = 60\n", encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "costlens", *args], capture_output=True, text=True, cwd=folder)

    assert run("ingest", str(spans), str(revenue), "--db", str(database)).returncode == 0
    assert run("report", "--db", str(database), "-p", "2026-11", "--json", "--out", str(saved)).returncode == 0
    gate = run("check", "--report", str(saved), "--config", str(config))
    assert gate.returncode == 4, gate.stdout + gate.stderr
    assert "FAIL margin_floor[initech]: gross AI margin 58.0% of revenue" in gate.stdout
    assert "PASS margin_floor[acme]" in gate.stdout


@pytest.mark.slow
def test_a_plan_is_a_filter_like_a_customer(month):
    """--plan keeps the calls of the customers on that plan in the period (the plan of their latest revenue month
    in it): pro = globex (3 calls) and umbrella (no call); their revenue, nobody else's."""
    from costlens import api
    from costlens.errors import UsageError
    from costlens.ingest.runner import ingest_paths

    folder, spans, revenue, _ = month
    database = folder / "costlens.duckdb"
    con = db.connect(str(database))
    ingest_paths(con, [str(spans), str(revenue)], Config())
    con.close()
    pro = api.report(db=str(database), config=Config(), period="2026-11", plan="pro")
    assert pro.filters == {"features": [], "teams": [], "plans": ["pro"]}
    assert pro.totals.calls == 3 and pro.totals.cost_usd == 3 * PER_CALL
    assert {c.customer for c in pro.customers.customers} == {"globex", "umbrella"}
    assert pro.customers.revenue_usd == Decimal(1850)
    # the calls of customers with no plan in the period: here the two that name no customer
    assert api.report(db=str(database), config=Config(), period="2026-11", plan="(no plan)").totals.calls == 2
    both = api.daily(db=str(database), config=Config(), period="2026-11", plan=["pro", "starter"])
    assert both.totals.calls == 4 and both.filters["plans"] == ["pro", "starter"]
    with pytest.raises(UsageError, match="did you mean --plan pro"):
        api.report(db=str(database), config=Config(), period="2026-11", plan="pr0")
    cli = subprocess.run(
        [sys.executable, "-m", "costlens", "leaks", "--db", str(database), "-p", "2026-11", "--plan", "pro", "-j"],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["filters"] == {"features": [], "teams": [], "plans": ["pro"]}
