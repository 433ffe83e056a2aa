"""Reports that hold up in a large organisation: 400 features, 200,000 calls (tests/largeorg.py, generated in a
temporary folder). Tables name the first 15 by spend and roll the rest into one "N others" row that carries
their summed spend, so every table still adds up; the HTML appendix (collapsed <details>) and the CSV export hold
every row; sentences name at most three features; the HTML page stays far shorter than the 87,000 px the
uncut tables took (measured in headless Chromium at 1400 px wide).
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import largeorg
import pytest
from test_report_outputs import assert_foots, html_tables, money, terminal_tables

pytestmark = pytest.mark.slow


def cli(*args: str, columns: int = 100) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "costlens", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": str(columns)},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    work = tmp_path_factory.mktemp("largeorg")
    calls, config = largeorg.write(work)
    db = str(work / "org.duckdb")
    cli("ingest", str(calls), "--db", db, "--config", str(config))
    base = ("report", "--db", db, "--config", str(config), "--period", "2026-10")
    html = work / "report.html"
    cli(*base, "--format", "html", "--out", str(html))
    cli(*base, "--format", "csv", "--out", str(work / "csv"))
    with (work / "csv" / "unit_economics.csv").open(encoding="utf-8") as handle:
        csv_rows = list(csv.DictReader(handle))
    return {
        "json": json.loads(cli(*base, "--format", "json"), parse_float=Decimal),
        "html": html,
        "terminal": cli(*base),
        "csv": csv_rows,
    }


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@pytest.mark.subprocess
def test_tables_lead_with_the_top_features_and_still_add_up(org):
    data = org["json"]
    features = data["unit_economics"]
    assert len(features) > 350  # the generator's 400, less any without a call in October
    tail = features[15:]
    others = f"{len(tail):,} others"
    tail_cents = sum(cents(r["shown_cost_usd"]) for r in tail)
    tables = html_tables(org["html"].read_text(encoding="utf-8"))
    for title in ("By feature", "Cost by feature", "Value and efficiency by feature"):
        table = next(t for t in tables if t["title"] == title)  # the first one: the report, not the appendix
        names = [r[0] for r in table["rows"][1:]]
        assert names[:15] == [r["feature"] for r in features[:15]] and names[15] == others and len(names) == 17
        if "Spend" in table["rows"][0]:
            column = table["rows"][0].index("Spend")
            assert money(table["rows"][16][column]) == tail_cents
            body = [r for i, r in enumerate(table["rows"][1:], 1) if i != table["total"]]
            assert assert_foots(table["rows"][0], body, table["rows"][table["total"]], title) >= 2
    budgets = next(t for t in tables if t["title"].startswith("Monthly budgets"))
    assert len(budgets["rows"]) == 1 + 15 + 1 + 1  # header, 15 named, the others, the total
    flagged = [b for b in data["budgets"] if b["status"] in ("over", "hard_limit", "warning")]
    named = {r[0] for r in budgets["rows"][1:16]}
    assert named <= {b["feature"] for b in flagged}  # breached and warned budgets come first
    assert assert_foots(budgets["rows"][0], budgets["rows"][1:-1], budgets["rows"][-1], "budgets") >= 2
    for title in ("By owner", "By team"):
        table = next(t for t in tables if t["title"] == title)
        assert table["rows"][16][0].endswith(" others")
        assert assert_foots(table["rows"][0], table["rows"][1:-1], table["rows"][-1], title) >= 2


@pytest.mark.subprocess
def test_the_appendix_and_the_csv_hold_every_row(org):
    html = org["html"].read_text(encoding="utf-8")
    features = org["json"]["unit_economics"]
    appendix = html[html.index('<section id="appendix">') :]
    assert appendix.count("<details>") >= 5 and "<details open" not in appendix  # collapsed
    for row in features:
        assert f'<td class="key">{row["feature"]}</td>' in appendix
    assert [r["feature"] for r in org["csv"]] == [r["feature"] for r in features]
    assert sum(Decimal(r["shown_cost_usd"]) for r in org["csv"]) == cents(org["json"]["totals"]["cost_usd"])


@pytest.mark.subprocess
def test_sentences_name_at_most_three_features(org):
    statement = org["json"]["diagnosis"]["statement"]
    drivers = org["json"]["diagnosis"]["growth_drivers"]
    assert len(drivers) > 10  # many features carry the growth …
    named = re.findall(r"feature-\d{3}", statement)
    assert len(named) == 3  # … the sentence names three and counts the rest
    assert f"{', '.join(d['feature'] for d in drivers[:3])} and {len(drivers) - 3} others carry" in statement


@pytest.mark.subprocess
def test_the_terminal_view_stays_short(org):
    text = org["terminal"]
    tables = terminal_tables(text)
    rows = tables["Cost by feature"]
    assert rows[16][0] == f"{len(org['json']['unit_economics']) - 15:,} others" and rows[-1][0] == "Total"
    assert len(text.splitlines()) < 150
    assert "sum the rest in one row" in text


@pytest.mark.browser
@pytest.mark.subprocess
def test_the_html_page_height(org, tmp_path):
    """Headless Chromium at 1400 px: the page's scroll height (87,312 px with every feature listed before the
    cut, on this data) stays under 20,000 px."""
    from test_html_report import CHROMIUM, Browser

    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(org["html"].as_uri())
        height = browser.evaluate("document.documentElement.scrollHeight")
        open_rows = browser.evaluate("document.querySelectorAll('main > section:not(#appendix) tr').length")
    finally:
        browser.close()
    assert height < 20_000, height
    assert open_rows < 300, open_rows
