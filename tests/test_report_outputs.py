"""The sample month's report in every output, as a user runs it (`python -m costlens report …`): every money
figure that appears in more than one output is the same number, every table with a total adds up to it, and
the terminal view matches its golden files at 80 and 200 columns.

Golden files: tests/golden/report_sample_80.txt and report_sample_200.txt are `costlens report` on the sample
month (sample_logs/, 2026-10) with COLUMNS=80 / COLUMNS=200, trailing spaces stripped; report_sample.json is
its `--format json`, byte for byte but for `generated_at`. The terminal view has no timestamp; the price-book
version depends on the installed genai-prices, so a new release changes that line. After an intended change of
an output, regenerate them and review the diff:

    COSTLENS_REGEN_GOLDEN=1 python -m pytest -q tests/test_report_outputs.py -k golden
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import SAMPLE_LOGS, copy_sample_db

pytestmark = pytest.mark.slow


GOLDEN = Path(__file__).resolve().parent / "golden"
CONFIG = str(SAMPLE_LOGS / "costlens.toml")
CENT = Decimal("0.01")
MONEY = re.compile(r"^(?P<sign>[+−-])?\$(?P<amount>[\d,]+\.\d+)$")


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "costlens", *args], capture_output=True, text=True, timeout=600, env=full_env
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def money(text: str) -> Decimal | None:
    """A shown amount ($1,234.56, −$1.00, +$0.35) as a Decimal; None when the cell is not one."""
    match = MONEY.match(text.strip().strip("*"))
    if not match:
        return None
    value = Decimal(match["amount"].replace(",", ""))
    return -value if match["sign"] in ("−", "-") else value


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


@pytest.fixture(scope="module")
def outputs(sample_month_db, tmp_path_factory):
    work = tmp_path_factory.mktemp("outputs")
    db = str(copy_sample_db(sample_month_db, work))
    base = ("report", "--db", db, "--config", CONFIG, "--period", "2026-10")
    # the sample config with coding-agent's budget below its $524.79: every budget status has its colour
    tight = work / "tight.toml"
    tight.write_text(
        Path(CONFIG).read_text(encoding="utf-8").replace("monthly_budget_usd = 600 ", "monthly_budget_usd = 450 "),
        encoding="utf-8",
    )
    over = ("report", "--db", db, "--config", str(tight), "--period", "2026-10")
    html = work / "report.html"
    cli(*base, "--format", "html", "--out", str(html))
    cli(*base, "--format", "csv", "--out", str(work / "csv"))
    tables = {}
    for path in sorted((work / "csv").glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            tables[path.stem] = list(csv.DictReader(handle))
    return {
        "json_text": (json_text := cli(*base, "--format", "json").stdout),
        "json": json.loads(json_text, parse_float=Decimal),
        "md": cli(*base, "--format", "md").stdout,
        "html": html.read_text(encoding="utf-8"),
        "csv": tables,
        "t80": cli(*base, env={"COLUMNS": "80"}).stdout,
        "t200": cli(*base, env={"COLUMNS": "200"}).stdout,
        "wide80": cli(*base, "--wide", env={"COLUMNS": "80"}).stdout,
        "colour": cli(*over, env={"COLUMNS": "200", "FORCE_COLOR": "1"}).stdout,
        "no_colour": cli(*over, env={"COLUMNS": "200", "FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout,
    }


# ---------------------------------------------------------------------------------------------- parsing


def terminal_tables(text: str) -> dict[str, list[list[str]]]:
    """rich tables of the terminal view: title (the line above the table) → [header, row, …, total row]. A line
    whose first value cell is empty continues the row above (a wrapped cell; every row has that value)."""
    lines = text.splitlines()
    out: dict[str, list[list[str]]] = {}
    for index, line in enumerate(lines):
        if not line.startswith("┏"):
            continue
        rows: list[list[str]] = []
        joinable = False  # the next line may continue the last row (no rule line in between)
        for body in lines[index + 1 :]:
            if body.startswith(("└", "┗")):
                break
            if body.startswith(("┡", "├")):
                joinable = False
                continue
            cells = [c.strip() for c in re.split(r"[│┃]", body)[1:-1]]
            if rows and joinable and len(cells) > 1 and not cells[1]:
                rows[-1] = [(a + " " + b).strip() if b else a for a, b in zip(rows[-1], cells)]
            else:
                rows.append(cells)
            joinable = True
        out[lines[index - 1].strip()] = rows
    return out


class _Tables(HTMLParser):
    """Every HTML table: caption (or the heading before it), rows of cell texts (without the small notes a cell
    may hold in a <div>), and which row is the total."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.heading = ""
        self._text: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._total = False
        self._note = 0  # depth of <div> inside the current cell

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("h2", "h3", "h4", "caption", "summary"):
            self._text = []
        elif tag == "table":
            self.tables.append({"title": self.heading, "rows": [], "total": None})
        elif tag == "tr" and self.tables:
            self._row, self._total = [], "total" in (attrs.get("class") or "")
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._note = [], 0
        elif tag == "div" and self._cell is not None:
            self._note += 1

    def handle_endtag(self, tag):
        if tag in ("h2", "h3", "h4", "summary"):
            self.heading = " ".join("".join(self._text).split())
        elif tag == "caption" and self.tables:
            self.tables[-1]["title"] = " ".join("".join(self._text).split())
        elif tag == "div" and self._cell is not None and self._note:
            self._note -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1]["rows"].append(self._row)
            if self._total:
                self.tables[-1]["total"] = len(self.tables[-1]["rows"]) - 1
            self._row = None

    def handle_data(self, data):
        self._text.append(data)
        if self._cell is not None and not self._note:
            self._cell.append(data)


def html_tables(html: str) -> list[dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def md_tables(text: str) -> list[list[list[str]]]:
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            if not all(set(c) <= set(":-") for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


# ---------------------------------------------------------------------------------------------- footing

SUMMED = {
    "Spend",
    "Budget",
    "Forecast",
    "Forecast month-end",
    "$/month",
    "USD",
    "Change",
    "Change per day",
    "Owned",
    "Allocated",
    "Total",
    "Owned (billed)",
    "Wasted",
}


def assert_foots(header: list[str], rows: list[list[str]], total: list[str], where: str) -> int:
    """Summed money columns add up to the total row; share columns to 100.0%. Returns the columns checked."""
    checked = 0
    for column, name in enumerate(header):
        if column == 0 or column >= len(total):
            continue
        name = name.strip("* ")
        if name in SUMMED and money(total[column]) is not None:
            values = [money(r[column]) for r in rows if column < len(r)]
            assert all(v is not None or r[column] in ("—", "") for v, r in zip(values, rows)), (where, name, rows)
            assert sum((v for v in values if v is not None), Decimal(0)) == money(total[column]), (where, name)
            checked += 1
        elif name == "Share" and total[column].strip("* ") == "100.0%":
            values = [Decimal(r[column].rstrip("%")) for r in rows if r[column].endswith("%")]
            assert sum(values) == Decimal("100.0"), (where, values)
            checked += 1
    return checked


@pytest.mark.subprocess
@pytest.mark.slow
def test_every_table_with_a_total_adds_up(outputs):
    checked = 0
    for name in ("t80", "t200", "wide80"):
        for title, table in terminal_tables(outputs[name]).items():
            header, *rows = table
            totals = [r for r in rows if r[0] in ("Total", "Total change")]
            if totals:
                body = [r for r in rows if r is not totals[-1]]
                checked += assert_foots(header, body, totals[-1], f"{name}: {title}")
    for table in html_tables(outputs["html"]):
        if table["total"] is None:
            continue
        header = table["rows"][0]
        body = [r for i, r in enumerate(table["rows"][1:], 1) if i != table["total"]]
        checked += assert_foots(header, body, table["rows"][table["total"]], f"html: {table['title']}")
    for table in md_tables(outputs["md"]):
        if any(r[0] == "**Total**" for r in table):
            checked += assert_foots(
                table[0],
                [r for r in table[1:] if r[0] != "**Total**"],
                next(r for r in table if r[0] == "**Total**"),
                "md",
            )
    # feature, model, team, budgets, showback (3 cuts), levers, change-less sample: at least these many columns
    assert checked >= 30, checked


@pytest.mark.subprocess
def test_reconciliation_tables_add_up(outputs):
    """Causes add up to the billed AI total; list cost plus the steps to the billed cost of the logged calls."""
    for name in ("t80", "t200"):
        tables = terminal_tables(outputs[name])
        causes = tables["Billed AI spend, by cause"][1:]
        assert sum(money(r[1]) for r in causes[:-1]) == money(causes[-1][1])
        steps = tables["Logged calls: list price → billed"][1:]
        assert sum(money(r[1]) for r in steps[:-1]) == money(steps[-1][1])
    verdict = outputs["json"]["reconciliation"]["verdict"]
    listed = re.search(
        r"list (\$[\d,.]+) were billed (\$[\d,.]+) \(discounts (\S+), list-price differences (\S+), "
        r"not on the bill (\S+)\)",
        verdict,
    )
    start, end, *steps = (money(x) for x in listed.groups())
    assert start + sum(steps) == end, verdict


# ---------------------------------------------------------------------------------------------- same numbers


def _feature_spend_by_output(outputs) -> dict[str, dict[str, Decimal]]:
    data = outputs["json"]
    seen: dict[str, dict[str, Decimal]] = {}

    def put(output: str, feature: str, value: Decimal | None) -> None:
        assert value is not None, (output, feature)
        seen.setdefault(feature, {})[output] = value

    for row in data["unit_economics"]:
        put("json unit_economics", row["feature"], cents(row["shown_cost_usd"]))
    for row in data["budgets"]:
        if row["spend_usd"]:
            put("json budgets", row["feature"], cents(row["shown_spend_usd"]))
    for row in data["showback"]["by_feature"]:
        put("json showback", row["key"], cents(row["cost_usd"]))
    for row in outputs["csv"]["unit_economics"]:
        put("csv unit_economics", row["feature"], cents(row["shown_cost_usd"]))
    for row in outputs["csv"]["budgets"]:
        if Decimal(row["spend_usd"]):
            put("csv budgets", row["feature"], cents(row["shown_spend_usd"]))
    for name in ("t80", "t200"):
        tables = terminal_tables(outputs[name])
        for row in tables["Cost by feature"][1:-1]:
            put(f"{name} cost by feature", row[0], money(row[1]))
        budgets = tables[next(t for t in tables if t.startswith("Budgets"))]
        for row in budgets[1:-1]:
            put(f"{name} budgets", row[0], money(row[2]))
    for table in md_tables(outputs["md"]):
        if table[0][:2] == ["Feature", "Spend"]:
            for row in table[1:]:
                if not row[0].startswith("**"):
                    put("md top features", row[0].replace("\\-", "-"), money(row[1]))
    for table in html_tables(outputs["html"]):
        if table["title"] in (
            "By feature",
            "Cost by feature",
            "Cost–value matrix",
            "Monthly budgets: spend so far "
            "and the month-end forecast (spend extrapolated over the elapsed share of the month)",
        ):
            header = table["rows"][0]
            column = header.index("Spend")
            for i, row in enumerate(table["rows"][1:], 1):
                if i != table["total"]:
                    put(f"html {table['title'][:20]}", row[0], money(row[column]))
    return seen


@pytest.mark.subprocess
def test_a_feature_spend_is_the_same_number_in_every_output(outputs):
    seen = _feature_spend_by_output(outputs)
    assert len(seen) == 6
    for feature, values in seen.items():
        assert len(values) >= 12, (feature, sorted(values))  # json ×3, csv ×2, terminal ×4, md, html ×4
        assert len(set(values.values())) == 1, (feature, values)
    # the search-summarizer case from the issue: exact $1.7555…, shown $1.75 everywhere (largest remainder,
    # so the six features add up to the $824.41 shown as the total)
    assert set(seen["search-summarizer"].values()) == {Decimal("1.75")}
    assert sum(v["json unit_economics"] for v in seen.values()) == cents(outputs["json"]["totals"]["cost_usd"])


@pytest.mark.subprocess
def test_models_teams_owners_and_totals_agree_across_outputs(outputs):
    data = outputs["json"]
    total = cents(data["totals"]["cost_usd"])
    assert total == Decimal("824.41")
    html_text = " ".join(outputs["html"].split())
    for name in ("t80", "t200"):
        text = outputs[name]
        assert "$824.41 across 26,138 calls" in text
        tables = terminal_tables(text)
        for title, key in (("Cost by model", "by_model"), ("Cost by team (as logged)", "by_team")):
            shown = {row[0]: money(row[1]) for row in tables[title][1:-1]}
            csv_rows = (
                {r["model"]: cents(r["shown_cost_usd"]) for r in outputs["csv"]["by_model"]}
                if key == "by_model"
                else None
            )
            for row in data[key]:
                label = row["model" if key == "by_model" else "team"]
                assert shown[label] == cents(row["shown_cost_usd"]), (name, label)
                if csv_rows is not None:
                    assert csv_rows[label] == shown[label]
        # a model or team that is one feature's traffic shows that feature's number
        assert shown_row(tables["Cost by model"], "gemini-2.5-flash") == shown_row(
            tables["Cost by feature"], "search-summarizer"
        )
        assert shown_row(tables["Cost by team (as logged)"], "growth") == Decimal("1.75")
    for table in html_tables(outputs["html"]):
        if table["title"] in ("By owner", "By team", "By cost center"):
            key = {"By owner": "by_owner", "By team": "by_team", "By cost center": "by_cost_center"}[table["title"]]
            shown = {r[0]: money(r[1]) for r in table["rows"][1:] if r[0] != "Total"}
            for row in data["showback"][key]:
                assert any(k.startswith(row["key"]) and v == cents(row["cost_usd"]) for k, v in shown.items()), row
    headline = md_tables(outputs["md"])[0]
    assert headline[0][0] == "Spend" and money(headline[1][0]) == total
    assert "$824.41" in html_text


def shown_row(table: list[list[str]], key: str) -> Decimal:
    return next(money(r[1]) for r in table if r[0] == key)


@pytest.mark.subprocess
def test_levers_leaks_and_unit_costs_agree_across_outputs(outputs):
    data = outputs["json"]
    html_text = " ".join(outputs["html"].split())
    summary = data["lever_summary"]
    total = cents(summary["shown_total_monthly_savings_usd"])
    assert total == sum(cents(lv["est_monthly_savings_usd"]) for lv in data["levers"])  # the table adds up
    for text in (outputs["t80"], outputs["t200"], outputs["md"], html_text):
        assert f"${total:,}" in text
    for lever, row in zip(data["levers"], outputs["csv"]["levers"]):
        shown = f"${cents(lever['shown_monthly_savings_usd']):,}"
        assert cents(row["shown_monthly_savings_usd"]) == cents(lever["est_monthly_savings_usd"])
        assert f"{lever['lever']} — {shown}/month" in " ".join(outputs["t80"].split())
        assert shown in outputs["t200"] and shown in html_text
    for top in data["levers"][:3]:
        assert f"${cents(top['est_monthly_savings_usd']):,}" in outputs["md"]
    for leak, row in zip(data["leaks"], outputs["csv"]["leaks"]):
        wasted = f"${cents(leak['wasted_usd']):,}"
        assert cents(row["wasted_usd"]) == cents(leak["wasted_usd"])
        assert wasted in outputs["t80"] and wasted in outputs["t200"] and wasted in html_text
    # unit costs: four places below $1, cents from $1, the same in every output
    t = data["totals"]
    for figure in ("$0.7949", "$0.0352", "$0.0315"):
        for text in (outputs["t80"], outputs["t200"], outputs["md"], html_text):
            assert figure in text, figure
    coding = next(r for r in data["unit_economics"] if r["feature"] == "coding-agent")
    assert round(float(coding["cost_per_accepted_outcome_usd"]), 2) == 56.03
    for text in (outputs["t80"], outputs["t200"], html_text):
        assert "$56.03" in text and "$56.0303" not in text
    assert float(t["cost_per_accepted_outcome_usd"]) == pytest.approx(0.7949, abs=5e-5)


# ---------------------------------------------------------------------------------------------- terminal


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


@pytest.mark.subprocess
@pytest.mark.parametrize("width", [80, 200])
def test_terminal_report_matches_golden(outputs, width):
    text = _normalise(outputs[f"t{width}"])
    golden = GOLDEN / f"report_sample_{width}.txt"
    if os.environ.get("COSTLENS_REGEN_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.subprocess
def test_json_report_matches_golden(outputs):
    """The whole JSON contract on the sample month, every key, digit and order, but for the time it was made and
    where the checkout is."""
    text = re.sub(r'"generated_at": "[^"]*"', '"generated_at": "…"', outputs["json_text"], count=1)
    text = text.replace(json.dumps(str(SAMPLE_LOGS))[1:-1], "<sample_logs>")  # the checkout's own path
    golden = GOLDEN / "report_sample.json"
    if os.environ.get("COSTLENS_REGEN_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.subprocess
def test_narrow_terminal_is_compact_and_wide_shows_every_column(outputs):
    narrow, wide, full = outputs["t80"], outputs["wide80"], outputs["t200"]
    assert "(1/2)" not in narrow and "(2/2)" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    header = terminal_tables(narrow)["Cost by feature"][0]
    assert header == ["Feature", "Spend", "Share", "Calls", "$/task", "$/accepted"]
    assert "compact view: `costlens report --wide` shows every column" in narrow
    assert "Value and efficiency by feature" not in narrow
    for text in (wide, full):
        tables = terminal_tables(text)
        assert tables["Cost by feature"][0] == [
            "Feature",
            "Spend",
            "Share",
            "Calls",
            "Tasks",
            "$/call",
            "Calls/task",
            "$/task",
            "p95 $/task",
        ]
        assert "Value and efficiency by feature" in tables and "compact view" not in text
    assert max(len(line) for line in wide.splitlines()) > 80  # --wide runs past a narrow terminal
    # budgets and the change split are part of the terminal view at every width
    for text in (narrow, wide, full):
        assert "Budgets" in text and "Change vs the previous period: no earlier period with data to compare" in text


@pytest.mark.subprocess
def test_wrapped_bullets_stay_under_their_bullet(outputs):
    lines = outputs["t80"].splitlines()
    start = lines.index("Leaks (waste observed in the period)")
    bullet = lines[start + 1]
    assert bullet.startswith("  • premium_overuse in doc-extractor (high): $249.40 wasted")
    continuation = lines[start + 2]
    assert continuation.startswith("    ") and not continuation.startswith("     ")  # under the bullet's text


@pytest.mark.subprocess
def test_status_and_severity_in_colour_unless_no_color(outputs):
    coloured, plain = outputs["colour"], outputs["no_colour"]
    assert re.search(r"\x1b\[1;31mover budget\s*\x1b\[0m", coloured)
    assert re.search(r"\x1b\[33mwarning\s*\x1b\[0m", coloured) and re.search(r"\x1b\[32mok\s*\x1b\[0m", coloured)
    assert "\x1b[1;31mhigh\x1b[0m" in coloured
    assert not re.search(r"\x1b\[[0-9;]*3[0-7]m", plain)  # NO_COLOR: no colour codes at all
    assert "\x1b" not in outputs["t200"]  # not a terminal: no escape codes
