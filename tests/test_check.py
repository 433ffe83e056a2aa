"""`costlens check`, the CI gate (costlens/check.py): pass, budget / SLO / regression / coverage breaches, baselines
(a Report, a saved JSON report, `previous`), bad input, and the CLI's exit codes (0 / 4 / 3 / 2)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from conftest import FIXTURES
from costlens.check import CheckThresholds, load_baseline, run_check, validate_baseline
from costlens.config import Config
from costlens.errors import EXIT_INPUT, EXIT_OK, EXIT_THRESHOLD, EXIT_USAGE, InputError, UsageError
from costlens.report.model import Coverage, UnpricedModel
from costlens.report.render_json import render_json
from test_budgets import make_report, ue

CONFIG = Config.model_validate({"features": {
    "a": {"monthly_budget_usd": 100, "cost_slo_per_accepted_outcome_usd": 2.0},
    "b": {"monthly_budget_usd": 10},
}})


def report(a_cost="50", b_cost="5", a_cpao=1.0, total_cpao=1.0, accepted=20, **extra):
    return make_report([ue("a", a_cost, calls=100, tasks=50, accepted_tasks=accepted,
                           cost_per_accepted_outcome_usd=a_cpao),
                        ue("b", b_cost, calls=10, tasks=10, accepted_tasks=accepted,
                           cost_per_accepted_outcome_usd=0.5)], cpao=total_cpao, **extra)


def rules(result):
    return {r.name: r for r in result.rules}


def test_all_pass():
    result = run_check(report(), report(), CONFIG)
    assert result.passed and result.exit_code == EXIT_OK == 0
    names = rules(result)
    assert set(names) == {"budget[a]", "budget[b]", "cost_slo[a]", "cpao_regression[total]", "cpao_regression[a]",
                          "cpao_regression[b]", "priced_coverage"}
    assert names["budget[a]"].detail == "ok: 50.0% of the budget $100.00 used"
    assert names["cpao_regression[total]"].detail.startswith("cost per accepted outcome $1.00 → $1.00 (+0.0%")
    text = result.render_text()
    assert text.splitlines()[0].startswith("costlens check · 2026-10-01 → 2026-11-01 (end exclusive) vs baseline")
    assert text.splitlines()[-1] == "passed: all 7 rules passed → exit 0"


def test_budget_breach_fails():
    result = run_check(report(b_cost="12"), None, CONFIG)
    assert result.exit_code == EXIT_THRESHOLD == 4
    failed = [r.name for r in result.failed]
    assert failed == ["budget[b]"]
    assert "FAIL budget[b]: over: spend $12.00 is over the budget $10.00 (120.0%)" in result.render_text()
    assert result.render_text().splitlines()[1].startswith("FAIL")  # failures first
    assert result.render_text().splitlines()[-1] == "FAILED: 1 of 5 rules failed → exit 4"


def test_warning_fails_only_when_asked():
    warm = report(b_cost="9")
    assert run_check(warm, None, CONFIG).passed
    strict = run_check(warm, None, CONFIG, CheckThresholds(fail_on_warning=True))
    assert [r.name for r in strict.failed] == ["budget[b]"]


def test_cost_slo_breach():
    result = run_check(report(a_cpao=2.5), None, CONFIG)
    assert [r.name for r in result.failed] == ["cost_slo[a]"]
    assert "cost per accepted outcome $2.50 is above the SLO $2.00" in rules(result)["cost_slo[a]"].detail
    assert run_check(report(a_cpao=2.5), None, CONFIG, CheckThresholds(fail_on_slo=False)).passed


def test_cpao_regression_over_threshold():
    base = report(total_cpao=1.0, a_cpao=1.0)
    result = run_check(report(total_cpao=1.2, a_cpao=1.15), base, CONFIG)
    failed = {r.name: r for r in result.failed}
    assert set(failed) == {"cpao_regression[total]", "cpao_regression[a]"}
    assert failed["cpao_regression[total]"].value == pytest.approx(20.0)
    assert "(+20.0%, over the 10% limit)" in failed["cpao_regression[total]"].detail
    assert run_check(report(total_cpao=1.09, a_cpao=1.09), base, CONFIG).passed
    loose = CheckThresholds(max_cpao_regression_pct=25)
    assert run_check(report(total_cpao=1.2, a_cpao=1.15), base, CONFIG, loose).passed


def test_per_feature_regression_needs_enough_outcomes():
    result = run_check(report(a_cpao=5.0, accepted=3), report(accepted=3), Config())
    assert "cpao_regression[a]" not in rules(result)  # 3 accepted outcomes: too few to judge
    assert rules(result)["cpao_regression[total]"].passed


def test_unknown_cpao_passes_with_reason():
    result = run_check(report(total_cpao=None), report(), CONFIG)
    assert rules(result)["cpao_regression[total]"].passed
    assert "no accepted outcome in this period" in rules(result)["cpao_regression[total]"].detail
    result = run_check(report(), None, CONFIG)
    assert rules(result)["cpao_regression[total]"].detail == "not compared: no baseline"
    result = run_check(report(), make_report([]), CONFIG)
    assert rules(result)["cpao_regression[total]"].detail == ("not compared: the baseline 2026-10-01 → 2026-11-01 "
                                                              "has no calls")


def test_priced_coverage():
    r = report(coverage=Coverage(unpriced_models=[UnpricedModel("acme", "mystery", "standard", 20, "unknown")]))
    r.totals.priced_coverage_pct = 80.0
    result = run_check(r, None, CONFIG)
    rule = rules(result)["priced_coverage"]
    assert not rule.passed and "80.0% of 110 calls priced (below 95%)" in rule.detail and "mystery (20)" in rule.detail
    assert run_check(r, None, CONFIG, CheckThresholds(min_priced_coverage_pct=80)).passed


def test_no_calls_fails():
    result = run_check(make_report([]), None, Config())
    assert result.exit_code == 4 and "no calls in the period" in rules(result)["priced_coverage"].detail


def test_budgets_computed_when_report_has_none():
    r = report(b_cost="12")
    assert r.budgets == []
    assert [x.name for x in run_check(r, None, CONFIG).failed] == ["budget[b]"]


def test_budgets_from_report_are_used():
    r = report()
    r.budgets = [{"feature": "z", "status": "hard_limit", "reason": "spend $9.00 reached the hard limit $8.00",
                  "spend_usd": Decimal(9), "monthly_budget_usd": None, "slo_status": "no_slo"}]
    result = run_check(r, None, CONFIG)
    assert [x.name for x in result.failed] == ["budget[z]"]
    assert "hard_limit: spend $9.00 reached the hard limit $8.00" in result.render_text()


def test_saved_json_baseline(tmp_path):
    saved = tmp_path / "baseline.json"
    saved.write_text(render_json(report(total_cpao=1.0, a_cpao=1.0)), encoding="utf-8")
    base = load_baseline(saved)
    result = run_check(report(total_cpao=1.5, a_cpao=1.0), base, CONFIG)
    assert [r.name for r in result.failed] == ["cpao_regression[total]"]
    assert result.baseline == "2026-10-01 → 2026-11-01"
    assert json.loads(json.dumps(result.to_dict()))["exit_code"] == 4


@pytest.mark.parametrize("content, message", [
    ("not json at all", "is not JSON"),
    ("[1, 2, 3]", "is not a costlens JSON report"),
    ('{"hello": "world"}', "is not a costlens JSON report"),
    ('{"schema_version": "9", "totals": {}}', "schema_version '9' is not supported"),
    ('{"schema_version": "1", "totals": {"cost_per_accepted_outcome_usd": "x"}}', "is not a number"),
    ('{"schema_version": "1", "totals": {}, "unit_economics": [1]}', "unit_economics is not a list"),
])
def test_bad_baseline_is_one_line_input_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_baseline(path)
    line = err.value.one_line()
    assert err.value.exit_code == EXIT_INPUT == 3
    assert message in line and str(path) in line and "\n" not in line
    assert "costlens report --format json --out FILE" in line or "save the baseline again" in line


def test_missing_baseline_file(tmp_path):
    with pytest.raises(InputError) as err:
        load_baseline(tmp_path / "nope.json")
    assert "baseline file not found" in err.value.one_line()
    with pytest.raises(InputError):
        run_check(report(), {"not": "a report"}, CONFIG)
    assert validate_baseline(json.loads(render_json(report())))["schema_version"] == "1"


@pytest.mark.parametrize("thresholds", [CheckThresholds(max_cpao_regression_pct=-1),
                                        CheckThresholds(min_priced_coverage_pct=101),
                                        CheckThresholds(min_accepted_outcomes=-2)])
def test_bad_thresholds_are_usage_errors(thresholds):
    with pytest.raises(UsageError) as err:
        run_check(report(), None, CONFIG, thresholds)
    assert err.value.exit_code == EXIT_USAGE == 2


def test_hostile_names_cannot_break_the_output():
    r = make_report([ue("x\x1b[31m\nFAKE PASS", "1", calls=1)])
    text = run_check(r, None, Config.model_validate({"features": {"x\x1b[31m\nFAKE PASS": {"monthly_budget_usd": 2}}})
                     ).render_text()
    assert "\x1b" not in text and not any(line.startswith("FAKE") for line in text.splitlines())


# ------------------------------------------------------------------------------------ the command line


def _cli_has_check() -> bool:
    from typer.testing import CliRunner

    from costlens.cli import app

    return " check " in CliRunner().invoke(app, ["--help"]).output.replace("│", " ")


@pytest.mark.skipif(not _cli_has_check(), reason="`costlens check` is not wired into costlens/cli.py yet")
def test_cli_exit_codes(tmp_path):
    """Economics fixture (8 of 9 calls priced = 88.9%): breach at the default 95%, pass at 80, bad input 3/2."""
    from typer.testing import CliRunner

    from costlens.cli import app

    econ = FIXTURES / "economics"
    db, config = str(tmp_path / "econ.duckdb"), str(econ / "costlens.toml")
    runner = CliRunner()
    ingest = runner.invoke(app, ["ingest", str(econ / "spans.jsonl"), str(econ / "outcomes.csv"), "--db", db,
                                 "--config", config, "-q"])
    assert ingest.exit_code == 0, ingest.output
    common = ["check", "--db", db, "--config", config, "--period", "2026-10"]
    breach = runner.invoke(app, common + ["--baseline", "previous"])
    assert breach.exit_code == 4, breach.output
    assert "FAIL priced_coverage: 88.9% of 9 calls priced (below 95%)" in breach.output
    ok = runner.invoke(app, common + ["--baseline", "previous", "--min-priced-coverage-pct", "80"])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    bad_input = runner.invoke(app, common + ["--baseline", str(bad)])
    assert bad_input.exit_code == 3 and "is not a costlens JSON report" in bad_input.output
    usage = runner.invoke(app, common + ["--max-cpao-regression-pct", "-5"])
    assert usage.exit_code == 2
