"""`costlens diff BEFORE.json AFTER.json` (costlens/diff.py): two saved reports compared per feature and model, the
change split with costlens.change.decompose on the reports' usage_by_kind rows.

The two-month fixture of tests/test_change.py (figures by hand there): September 10 tasks $0.071, October 20 tasks
$0.416; total split volume 0.071, efficiency 0.110, mix 0.104, price 0.060. Per model, by hand:

  acme-big    Sep 5 tasks: input 5,000 × $10/M = 0.050, output 500 × $30/M = 0.015 → 0.065
              Oct 15 tasks: input 30,000 × $12/M = 0.360, output 1,500 × $30/M = 0.045 → 0.405   (Δ 0.340)
              volume 0.065 × 15/5 − 0.065 = 0.130; efficiency 30,000 × 10e-6 + 1,500 × 30e-6 − 0.195 = 0.150;
              mix 0 (one model); price 30,000 × (12 − 10)e-6 = 0.060
  acme-small  Sep 5 tasks: 5,000 × $1/M + 500 × $2/M = 0.006; Oct 5 tasks: 10,000 × $1/M + 500 × $2/M = 0.011
              volume 0; efficiency 5,000 × 1e-6 = 0.005; mix 0; price 0
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from test_change import config, two_months  # noqa: F401  (the fixture)

from costlens.diff import diff_reports, load_report_json
from costlens.model.report import Period
from costlens.report.build import build_report
from costlens.report.render_json import render_json

from conftest import PROJECT

pytestmark = pytest.mark.slow


def costlens(*args: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "costlens", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )  # a wide terminal: lines unwrapped


@pytest.fixture
def saved(two_months, tmp_path):  # noqa: F811
    con = two_months
    paths = {}
    for name, start, end in (
        ("sep", date(2026, 9, 1), date(2026, 10, 1)),
        ("oct", date(2026, 10, 1), date(2026, 11, 1)),
    ):
        report = build_report(con, config(), Period(start, end, start.strftime("%Y-%m")))
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(render_json(report), encoding="utf-8")
        if name == "oct":
            paths["change"] = report.change
    return paths


def test_usage_by_kind_adds_up_to_the_report(saved):
    data = load_report_json(saved["oct"])
    rows = data["usage_by_kind"]
    assert sum(r["cost_usd"] for r in rows) == data["totals"]["cost_usd"] == Decimal("0.416")
    big_input = [r for r in rows if r["model"] == "acme-big" and r["kind"] == "input"]
    assert big_input == [
        {
            "feature": "f",
            "provider": "acme",
            "model": "acme-big",
            "variant": "standard",
            "kind": "input",
            "quantity": 30000,
            "cost_usd": Decimal("0.36"),
        }
    ]


@pytest.mark.subprocess
def test_cli_json_split_by_hand(saved):
    proc = costlens("diff", str(saved["sep"]), str(saved["oct"]), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout, parse_float=Decimal)
    total = data["total"]
    assert (total["before_cost_usd"], total["after_cost_usd"], total["delta_usd"]) == (
        Decimal("0.071"),
        Decimal("0.416"),
        Decimal("0.345"),
    )
    assert (total["volume_usd"], total["efficiency_usd"], total["mix_usd"], total["price_usd"]) == (
        Decimal("0.071"),
        Decimal("0.11"),
        Decimal("0.104"),
        Decimal("0.06"),
    )
    change = saved["change"]  # the same split the October report gives its own change
    assert [total[k] for k in ("volume_usd", "efficiency_usd", "mix_usd", "price_usd")] == [
        getattr(change.split, k) for k in ("volume_usd", "efficiency_usd", "mix_usd", "price_usd")
    ]
    assert total["before_tasks"] == 10 and total["after_tasks"] == 20
    assert float(total["before_cost_per_task_usd"]) == pytest.approx(0.0071)  # ratios are doubles (README)
    assert float(total["after_cost_per_task_usd"]) == pytest.approx(0.0208)
    models = {m["model"]: m for m in data["by_model"]}
    big, small = models["acme-big"], models["acme-small"]
    assert (big["before_cost_usd"], big["after_cost_usd"]) == (Decimal("0.065"), Decimal("0.405"))
    assert (big["volume_usd"], big["efficiency_usd"], big["mix_usd"], big["price_usd"]) == (
        Decimal("0.13"),
        Decimal("0.15"),
        0,
        Decimal("0.06"),
    )
    assert (small["volume_usd"], small["efficiency_usd"], small["mix_usd"], small["price_usd"]) == (
        0,
        Decimal("0.005"),
        0,
        0,
    )
    assert [m["model"] for m in data["by_model"]] == ["acme-big", "acme-small"]  # largest change first
    feature = data["by_feature"][0]
    assert feature["feature"] == "f" and feature["status"] == "changed"
    assert feature["volume_usd"] == Decimal("0.071") and feature["mix_usd"] == Decimal("0.104")
    # cost per accepted outcome: September 0.071 / 4 accepted, October 0.416 / 16
    assert float(total["before_cost_per_accepted_outcome_usd"]) == pytest.approx(0.071 / 4)
    assert float(total["after_cost_per_accepted_outcome_usd"]) == pytest.approx(0.416 / 16)
    assert data["split"] is True and data["warnings"] == []


@pytest.mark.subprocess
def test_cli_markdown_and_terminal(saved):
    md = costlens("diff", str(saved["sep"]), str(saved["oct"]), "--format", "md")
    assert md.returncode == 0, md.stderr
    lines = md.stdout.splitlines()
    assert lines[0] == "## costlens diff · 2026-09 → 2026-10"
    # cents half-up, the effects add up to the rounded change: floors 0.07 + 0.11 + 0.10 + 0.06 = 0.34, the
    # left-over cent to the largest remainder (mix, 0.004)
    assert lines[2] == (
        "spend $0.07 → $0.42: +$0.35 (+485.9%) = volume +$0.07, efficiency +$0.11, mix +$0.11, price +$0.06"
    )
    # 0.071 / 4 is the double 0.017749999…: ratios are doubles (README), shown to 4 places
    assert lines[6] == (
        "| **total** | $0.07 | $0.42 | +$0.35 (+485.9%) | $0.0071 → $0.0208 | $0.0177 → $0.0260 | "
        "+$0.07 | +$0.11 | +$0.11 | +$0.06 |"
    )
    assert "| acme-big | $0.07 | $0.41 | +$0.34 (+523.1%) | $0.0130 → $0.0270 |" in md.stdout
    terminal = costlens("diff", str(saved["sep"]), str(saved["oct"]))
    assert terminal.returncode == 0
    assert (
        "spend $0.07 → $0.42: +$0.35 (+485.9%) = volume +$0.07, efficiency +$0.11, mix +$0.11, price +$0.06"
        in terminal.stdout
    )


def test_new_and_gone_rows(saved):
    before, after = load_report_json(saved["sep"]), load_report_json(saved["oct"])
    # rename the feature in AFTER: "f" is gone, "g" is new
    renamed = copy.deepcopy(after)
    renamed["unit_economics"][0]["feature"] = "g"
    for row in renamed["usage_by_kind"]:
        row["feature"] = "g"
    result = diff_reports(before, renamed)
    rows = {r.key: r for r in result.by_feature}
    assert rows["g"].status == "new" and rows["g"].volume_usd is None  # no previous cost per task to value it at
    assert rows["g"].delta_usd == Decimal("0.416")
    gone = rows["f"]
    assert gone.status == "gone" and gone.delta_usd == Decimal("-0.071")
    assert (gone.volume_usd, gone.efficiency_usd, gone.mix_usd, gone.price_usd) == (Decimal("-0.071"), 0, 0, 0)
    assert "| g | $0.00 | $0.42 | +$0.42 | — → $0.0208 |" in __import__(
        "costlens.diff", fromlist=["x"]
    ).render_markdown(result)


@pytest.mark.subprocess
def test_old_report_without_usage_is_compared_not_split(saved, tmp_path):
    old = json.loads(saved["sep"].read_text(encoding="utf-8"))
    del old["usage_by_kind"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    proc = costlens("diff", str(path), str(saved["oct"]), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout, parse_float=Decimal)
    assert data["split"] is False and data["total"]["volume_usd"] is None
    assert data["total"]["delta_usd"] == Decimal("0.345")
    assert data["warnings"][0].startswith(f"{path} has no usage_by_kind (saved by an older costlens)")


@pytest.mark.subprocess
def test_bad_inputs_are_one_line_errors(saved, tmp_path):
    missing = costlens("diff", str(tmp_path / "nope.json"), str(saved["oct"]))
    assert missing.returncode == 3
    assert missing.stderr.strip() == (
        f"costlens: error: {tmp_path / 'nope.json'}: file not found — save both with "
        "`costlens report --format json --out FILE`"
    )
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}', encoding="utf-8")
    assert costlens("diff", str(saved["sep"]), str(junk)).returncode == 3
    fmt = costlens("diff", str(saved["sep"]), str(saved["oct"]), "--format", "html")
    assert fmt.returncode == 2 and "--format 'html' is not supported" in fmt.stderr


def test_warnings_for_swapped_and_unequal_periods(saved):
    before, after = load_report_json(saved["sep"]), load_report_json(saved["oct"])
    assert diff_reports(before, after).warnings == []  # 30 and 31 days: two months, no warning
    before["period"]["days"] = 92  # as if it were a quarter
    result = diff_reports(after, before, "oct.json", "sep.json")
    assert (
        "oct.json (2026-10-01) is later than sep.json (2026-09-01): the change runs backwards in time"
        in result.warnings
    )
    assert "the periods differ in length (31 vs 92 days): volume includes that" in result.warnings
    assert result.total.delta_usd == Decimal("-0.345")
    assert sum(result.total.effects().values()) == result.total.delta_usd
