"""Money is exact: DECIMAL from the input to every output, and the parts add up to the total.

Exact outputs (JSON, CSV, Parquet) carry every digit, so per-feature costs sum to the total exactly.
Displayed outputs (terminal, Markdown, HTML) round to the cent; a split shown beside its total must add up to
the shown total to the cent (largest remainder, as the showback section does), never miss it by a cent.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from costlens import db
from costlens.config import load_config
from costlens.ingest.runner import ingest_paths
from costlens.model.report import Period
from costlens.report.build import build_report

from conftest import FIXTURES, SAMPLE_LOGS, copy_sample_db

CENT = Decimal("0.01")
OCTOBER = Period(date(2026, 10, 1), date(2026, 11, 1))
DOLLARS = re.compile(r"\$(-?[0-9][0-9,]*\.[0-9]{2})\b")


def cents(value) -> Decimal:
    from decimal import ROUND_HALF_UP

    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def dollars(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


@pytest.fixture(scope="module")
def sample(sample_month_db, tmp_path_factory):
    """sample_logs ingested once with its config; every output of its October report."""
    from rich.console import Console

    from costlens.report.render_html import render_html
    from costlens.report.render_json import render_json
    from costlens.report.render_md import render_markdown as render_md
    from costlens.report.render_tables import export_tables
    from costlens.report.render_terminal import render_terminal

    work = tmp_path_factory.mktemp("money")
    config = load_config(SAMPLE_LOGS / "costlens.toml")
    con = db.connect(str(copy_sample_db(sample_month_db, work)))
    report = build_report(con, config, OCTOBER)
    console = Console(record=True, width=220, file=open("/dev/null", "w"))
    render_terminal(report, console)
    outputs = {
        "json": render_json(report),
        "md": render_md(report),
        "html": render_html(report, config),
        "terminal": console.export_text(),
        "csv": export_tables(report, work / "csv", "csv"),
        "parquet": export_tables(report, work / "parquet", "parquet"),
    }
    yield con, report, outputs
    con.close()


@pytest.mark.slow
def test_internal_money_columns_are_decimal(sample):
    con, _, _ = sample
    money = con.execute(
        """SELECT table_name, column_name, data_type FROM duckdb_columns()
           WHERE database_name <> 'temp' AND regexp_matches(column_name, '(^|_)(cost|usd|mtok)(_|$)')"""
    ).fetchall()
    assert len(money) >= 20, money  # billing costs, reported cost, rework cost, price book rates, priced costs
    not_decimal = [(t, c, d) for t, c, d in money if not d.startswith("DECIMAL")]
    assert not_decimal == []
    # the priced relation every metric reads (sql/intermediate/priced_calls.sql) keeps DECIMAL too
    priced = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE priced_calls)").fetchall())
    assert priced["cost_usd"] == priced["input_cost_usd"] == priced["output_cost_usd"] == "DECIMAL(38,18)"


@pytest.mark.slow
def test_json_money_is_exact_and_adds_up(sample):
    _, _, outputs = sample
    data = json.loads(outputs["json"], parse_float=Decimal)
    total = data["totals"]["cost_usd"]
    assert isinstance(total, Decimal) and total == Decimal("824.41389225")  # 8 places: exact, not a float
    for section in ("unit_economics", "by_model", "by_team"):
        parts = [Decimal(str(row["cost_usd"])) for row in data[section]]
        assert sum(parts, Decimal(0)) == total, section
    show = data["showback"]
    assert show["total_exact_usd"] == total and show["total_usd"] == cents(total)
    for group in ("by_feature", "by_team", "by_owner"):
        rows = show[group]
        assert sum((Decimal(str(r["cost_usd"])) for r in rows), Decimal(0)) == show["total_usd"], group
        assert sum((Decimal(str(r["cost_exact_usd"])) for r in rows), Decimal(0)) == total, group


@pytest.mark.slow
def test_csv_and_parquet_exports_add_up_exactly(sample):
    import pyarrow.parquet as pq

    _, report, outputs = sample
    total = Decimal(str(report.totals.cost_usd))
    by_name = {Path(p).stem: Path(p) for p in outputs["csv"]}
    feature_csv = next(p for name, p in by_name.items() if "feature" in name or "unit_economics" in name)
    with feature_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum((Decimal(r["cost_usd"]) for r in rows), Decimal(0)) == total
    parquet = {Path(p).stem: Path(p) for p in outputs["parquet"]}
    table = pq.read_table(next(p for name, p in parquet.items() if "feature" in name or "unit_economics" in name))
    assert str(table.schema.field("cost_usd").type).startswith("decimal")  # not double
    assert sum(table.column("cost_usd").to_pylist(), Decimal(0)) == total


def _feature_spend_shown(text: str, features: list[str]) -> dict[str, Decimal]:
    """The first dollar figure on the line of each feature in the 'Cost by feature' table."""
    shown = {}
    for line in text.splitlines():
        for feature in features:
            if feature not in shown and re.search(rf"(^|[│|>\s]){re.escape(feature)}([│|<\s]|$)", line):
                found = DOLLARS.search(line)
                if found:
                    shown[feature] = dollars(found.group(1))
    return shown


@pytest.mark.slow
def test_terminal_feature_spend_adds_up_to_the_total_shown(sample):
    """The by-feature table beside its total: cents that add up (sample_logs: the six features' exact costs
    round to $824.42 one by one, the total to $824.41). The Markdown summary lists only the top features, so
    it claims no such sum."""
    _, report, outputs = sample
    text = outputs["terminal"]
    features = [ue.key for ue in report.unit_economics]
    shown_total = cents(report.totals.cost_usd)
    assert f"${shown_total:,.2f}" in text
    shown = _feature_spend_shown(text, features)
    assert set(shown) == set(features), shown
    assert sum(shown.values(), Decimal(0)) == shown_total, shown


@pytest.mark.slow
def test_html_feature_values_exact_and_displayed_cents_add_up(sample):
    _, report, outputs = sample
    html = outputs["html"]
    total = Decimal(str(report.totals.cost_usd))
    exact = re.findall(r'data-metric="feature_cost_usd" data-key="([^"]*)" data-value="([^"]+)">([^<]*)<', html)
    assert len(exact) == len(report.unit_economics)
    assert sum((Decimal(v) for _, v, _ in exact), Decimal(0)) == total  # exact machine-readable values
    shown = [dollars(DOLLARS.search(cell).group(1)) for _, _, cell in exact]
    assert sum(shown, Decimal(0)) == cents(total), shown  # the visible cents add up to the visible total
    shown_total = re.search(r'data-metric="total_cost_usd" data-value="([^"]+)">([^<]*)<', html)
    assert Decimal(shown_total.group(1)) == total and f"${cents(total):,.2f}" in shown_total.group(2)


# ---------------------------------------------------------------- generated calls, awkward decimals

MODELS = {"acme-small": (Decimal(1), Decimal(2)), "acme-large": (Decimal(10), Decimal(30))}  # $/Mtok in, out
FEATURES = ["alpha", "beta", "gamma", "delta"]

call = st.fixed_dictionaries(
    {
        "model": st.sampled_from(sorted(MODELS)),
        "feature": st.sampled_from(FEATURES),
        "input": st.integers(min_value=0, max_value=3_000_000),
        "output": st.integers(min_value=0, max_value=400_000),
        # a producer's own cost, as the string it logs: up to 12 places, awkward binary fractions
        "reported": st.decimals(
            min_value=Decimal("0"), max_value=Decimal("50"), places=12, allow_nan=False, allow_infinity=False
        ),
    }
)


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(calls=st.lists(call, min_size=1, max_size=30))
def test_generated_calls_add_up_to_the_cent_in_every_mode(calls, tmp_path_factory):
    from costlens.report.render_json import render_json

    work = tmp_path_factory.mktemp("gen")
    lines = []
    for i, c in enumerate(calls):
        attrs = {
            "gen_ai.provider.name": "acme",
            "gen_ai.request.model": c["model"],
            "gen_ai.usage.input_tokens": c["input"],
            "gen_ai.usage.output_tokens": c["output"],
            "costlens.feature": c["feature"],
            "costlens.cost_usd": str(c["reported"]),
        }
        lines.append(
            json.dumps(
                {
                    "trace_id": f"t{i}",
                    "span_id": f"s{i}",
                    "start_time": "2026-10-05T00:00:00Z",
                    "end_time": "2026-10-05T00:00:01Z",
                    "attributes": attrs,
                }
            )
        )
    file = work / "spans.jsonl"
    file.write_text("\n".join(lines) + "\n")
    config = load_config(FIXTURES / "economics" / "costlens.toml")
    con = db.connect(":memory:")
    try:
        result = ingest_paths(con, [str(file)], config)
        assert result.files[0].rows_loaded == len(calls)
        expected = {
            "computed": sum(
                (Decimal(c["input"]) * MODELS[c["model"]][0] + Decimal(c["output"]) * MODELS[c["model"]][1])
                / Decimal(1_000_000)
                for c in calls
            ),
            "reported": sum((c["reported"] for c in calls), Decimal(0)),
        }
        for mode, want in expected.items():
            report = build_report(con, config, OCTOBER, cost_mode=mode, analyse=False)
            data = json.loads(render_json(report), parse_float=Decimal)
            total = Decimal(str(data["totals"]["cost_usd"]))
            assert total == want, (mode, total, want)  # exact, no float drift
            per_feature = sum((Decimal(str(r["cost_usd"])) for r in data["unit_economics"]), Decimal(0))
            assert per_feature == total, mode
            show = data["showback"]
            assert sum((Decimal(str(r["cost_usd"])) for r in show["by_feature"]), Decimal(0)) == cents(total)
    finally:
        con.close()


# ---------------------------------------------------------------- JSON numbers with every digit (issue 14)


def _spans(path: Path, costs: list[tuple[str, str]]) -> Path:
    lines = []
    for i, (feature, cost) in enumerate(costs):
        attrs = {
            "gen_ai.provider.name": "acme",
            "gen_ai.request.model": "acme-small",
            "gen_ai.usage.input_tokens": 1000 + i,
            "gen_ai.usage.output_tokens": 100,
            "costlens.feature": feature,
            "costlens.cost_usd": cost,
        }
        lines.append(
            json.dumps(
                {
                    "trace_id": f"t{i}",
                    "span_id": f"s{i}",
                    "start_time": "2026-10-05T00:00:00Z",
                    "end_time": "2026-10-05T00:00:01Z",
                    "attributes": attrs,
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.subprocess
@pytest.mark.slow
def test_json_money_is_a_number_with_every_digit_in_every_json_output(tmp_path):
    """4550000000000.025737 was written through a float as 4550000000000.025; now every JSON output writes the
    Decimal's own digits as a JSON number (the type, and schema_version "1", are unchanged), and 0.1 + 0.2 is
    0.3 — not 0.30000000000000004, in the text or parsed as a decimal."""
    import os
    import subprocess
    import sys

    from conftest import PROJECT

    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "COSTLENS_LOCK_WAIT": "0",
    }
    config = str(FIXTURES / "economics" / "costlens.toml")
    database = str(tmp_path / "money.duckdb")

    def costlens(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "costlens", *args, "--db", database],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, (args, proc.stderr)
        return proc.stdout

    spans = _spans(tmp_path / "spans.jsonl", [("big", "4550000000000.025737"), ("small", "0.1"), ("small", "0.2")])
    costlens("ingest", str(spans), "--config", config, "-q")
    text = costlens("report", "--config", config, "--cost-mode", "reported", "--format", "json")
    assert '"cost_usd": 4550000000000.325737,' in text  # the total, as a number token
    assert '"cost_usd": 4550000000000.025737,' in text and '"cost_usd": 0.3,' in text  # the features
    exact = json.loads(text, parse_float=Decimal)
    assert exact["schema_version"] == "1"
    assert exact["totals"]["cost_usd"] == Decimal("4550000000000.325737")
    features = {r["feature"]: r for r in exact["unit_economics"]}
    assert features["big"]["cost_usd"] == Decimal("4550000000000.025737")
    assert features["small"]["cost_usd"] == Decimal("0.3")
    assert (
        features["big"]["reported_cost_usd"]
        == features["big"]["computed_cost_of_reported_usd"]
        == Decimal("4550000000000.025737")
    )  # every sum of money; per-call / per-task ratios stay doubles (README)
    assert sum((r["cost_usd"] for r in exact["unit_economics"]), Decimal(0)) == exact["totals"]["cost_usd"]
    plain = json.loads(text)  # a consumer that reads floats still gets numbers
    assert isinstance(plain["totals"]["cost_usd"], float) and plain["totals"]["calls"] == 3

    # the same writer for every JSON output: report --out, leaks, levers, whatif, check, reconcile, prices, runs
    out = tmp_path / "saved.json"
    costlens("report", "--config", config, "--cost-mode", "reported", "--format", "json", "--out", str(out))
    assert out.read_text() == text.replace(exact["generated_at"], json.loads(out.read_text())["generated_at"])
    for args in (
        ["leaks", "--format", "json"],
        ["levers", "--format", "json"],
        ["whatif", "batch feature=big", "--format", "json"],
        ["check", "--baseline", str(out), "--format", "json", "--cost-mode", "reported"],
        ["reconcile", "--format", "json"],
        ["prices", "--format", "json"],
    ):
        json.loads(costlens(*args, "--config", config), parse_float=Decimal)  # valid JSON
    whatif = json.loads(
        costlens("whatif", "cap-output feature=small max=10", "--config", config, "--format", "json"),
        parse_float=Decimal,
    )
    parts = sum((r["before_usd"] for r in whatif["by_feature"]), Decimal(0))
    assert parts == whatif["before_usd"]  # exact sums of exact parts
    assert json.loads(costlens("runs", "--format", "json"))[0]["rows_loaded"] == 3


def test_dumps_writes_decimals_as_exact_number_tokens():
    from costlens.exactjson import dumps

    big = Decimal("12345678901234567890.123456789012345678")  # DECIMAL(38, 18): 38 digits, beyond 28 of context
    value = {
        "a": Decimal("4550000000000.025737"),
        "b": Decimal("0.1") + Decimal("0.2"),
        "c": [Decimal("1E+3"), Decimal("-0.000"), Decimal("0.000000000000000001"), big],
        "d": Decimal("0.300000000000000000"),
        "e": 0.1 + 0.2,
        "f": "4550000000000.025737",
        "g": None,
        "h": date(2026, 10, 1),
    }
    text = dumps(value, indent=None)
    assert text == (
        '{"a": 4550000000000.025737, "b": 0.3, "c": [1000, 0, 0.000000000000000001, '
        '12345678901234567890.123456789012345678], "d": 0.3, "e": 0.30000000000000004, '
        '"f": "4550000000000.025737", "g": null, "h": "2026-10-01"}'
    )
    assert json.loads(text, parse_float=Decimal)["c"][3] == big
    with pytest.raises(ValueError):
        dumps({"x": Decimal("NaN")})
    with pytest.raises(ValueError):
        dumps({"x": float("inf")})
