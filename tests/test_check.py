"""`costlens check`, the CI gate (costlens/check.py): pass, budget / SLO / regression / coverage breaches, baselines
(a Report, a saved JSON report, `previous`), bad input, and the CLI's exit codes (0 / 4 / 3 / 2)."""

from __future__ import annotations

import json
from datetime import UTC
from decimal import Decimal

import pytest
from test_budgets import make_report, ue

from costlens.check import CheckThresholds, load_baseline, run_check, validate_baseline
from costlens.config import Config
from costlens.errors import EXIT_INPUT, EXIT_OK, EXIT_THRESHOLD, EXIT_USAGE, InputError, UsageError
from costlens.model.report import Budget, Coverage, UnpricedModel
from costlens.report.render_json import render_json

from conftest import FIXTURES

CONFIG = Config.model_validate(
    {
        "features": {
            "a": {"monthly_budget_usd": 100, "cost_slo_per_accepted_outcome_usd": 2.0},
            "b": {"monthly_budget_usd": 10},
        }
    }
)


def report(a_cost="50", b_cost="5", a_cpao=1.0, total_cpao=1.0, accepted=20, **extra):
    return make_report(
        [
            ue("a", a_cost, calls=100, tasks=50, accepted_tasks=accepted, cost_per_accepted_outcome_usd=a_cpao),
            ue("b", b_cost, calls=10, tasks=10, accepted_tasks=accepted, cost_per_accepted_outcome_usd=0.5),
        ],
        cpao=total_cpao,
        **extra,
    )


def rules(result):
    return {r.name: r for r in result.rules}


def statuses(result):
    return {r.name: r.status for r in result.rules}


def test_all_pass():
    result = run_check(report(), report(), CONFIG)
    assert result.passed and result.exit_code == EXIT_OK == 0
    assert statuses(result) == {
        "budget[a]": "PASS",
        "budget[b]": "PASS",
        "cost_slo[a]": "PASS",
        "cpao_regression[total]": "PASS",
        "cpao_regression[a]": "PASS",
        "cpao_regression[b]": "PASS",
        "priced_coverage": "PASS",
        "reconciliation": "SKIP",
    }  # make_report has no bill: not compared
    names = rules(result)
    assert names["budget[a]"].detail == "ok: 50.0% of the budget $100.00 used"
    assert names["cpao_regression[total]"].detail.startswith("cost per accepted outcome $1.00 → $1.00 (+0.0%")
    assert names["reconciliation"].detail.startswith("not compared: no billing export was ingested")
    text = result.render_text()
    assert text.splitlines()[0].startswith("costlens check · 2026-10-01 → 2026-11-01 (end exclusive) vs baseline")
    assert text.splitlines()[-1] == "PASS=7 WARN=0 FAIL=0 SKIP=1 → exit 0"
    assert text.splitlines()[-2].startswith("PASS ") and text.splitlines()[1].startswith("SKIP reconciliation")


def test_budget_breach_fails():
    result = run_check(report(b_cost="12"), None, CONFIG)
    assert result.exit_code == EXIT_THRESHOLD == 4
    failed = [r.name for r in result.failed]
    assert failed == ["budget[b]"]
    assert "FAIL budget[b]: over: spend $12.00 is over the budget $10.00 (120.0%)" in result.render_text()
    assert result.render_text().splitlines()[1].startswith("FAIL")  # failures first
    # budget a, cost_slo a, coverage pass; no baseline and no bill are SKIP
    assert result.summary == {"PASS": 3, "WARN": 0, "FAIL": 1, "SKIP": 2}
    assert result.render_text().splitlines()[-1] == "PASS=3 WARN=0 FAIL=1 SKIP=2 → exit 4"


def test_hard_limit_fails():
    config = Config.model_validate({"features": {"a": {"hard_limit_usd": 40}}})
    result = run_check(report(a_cost="40"), None, config)
    assert statuses(result)["budget[a]"] == "FAIL"
    assert rules(result)["budget[a]"].detail == "hard_limit: spend $40.00 reached the hard limit $40.00"


def test_soft_alert_warns_and_strict_fails():
    warm = report(b_cost="9")  # 90% of $10: past the 80% soft alert, within budget
    result = run_check(warm, None, CONFIG)
    assert result.passed and result.exit_code == 0
    assert statuses(result)["budget[b]"] == "WARN"
    assert rules(result)["budget[b]"].detail == "warning: 90.0% of the budget $10.00 used (soft alert at 80%)"
    assert result.summary == {"PASS": 3, "WARN": 1, "FAIL": 0, "SKIP": 2}
    strict = run_check(warm, None, CONFIG, CheckThresholds(strict=True))
    assert [r.name for r in strict.failed] == ["budget[b]"] and strict.exit_code == 4
    assert rules(strict)["budget[b]"].detail.endswith("(a warning: failed under --strict)")
    assert strict.summary == {"PASS": 3, "WARN": 0, "FAIL": 1, "SKIP": 2}


def test_forecast_over_budget_warns():
    """Half the month gone, $60 of $100 spent: forecast $120 is over the budget → WARN, not FAIL."""
    from datetime import datetime

    r = report(a_cost="60")
    r.generated_at = datetime(2026, 10, 16, 12, tzinfo=UTC)  # 15.5 of 31 days elapsed
    result = run_check(r, None, CONFIG)
    rule = rules(result)["budget[a]"]
    assert rule.status == "WARN" and rule.detail == "warning: forecast $120.00 exceeds the budget $100.00"


def test_budget_without_calls_warns_with_did_you_mean():
    config = Config.model_validate(
        {
            "features": {
                "a": {"monthly_budget_usd": 100},
                "b": {"monthly_budget_usd": 10},
                "bb": {"monthly_budget_usd": 10},
                "support-bott": {"monthly_budget_usd": 5},
                "zzz": {"monthly_budget_usd": 5},
            }
        }
    )
    r = make_report(
        [ue("a", "50", calls=100, tasks=50), ue("b", "5", calls=10, tasks=10), ue("support-bot", "1", calls=3, tasks=3)]
    )
    result = run_check(r, None, config)
    assert result.passed  # a warning, not a breach
    got = rules(result)
    assert got["budget[support-bott]"].status == "WARN"
    assert got["budget[support-bott]"].detail == (
        "budgeted but no calls in the period: the budget checks nothing — did you mean 'support-bot'?"
    )
    assert got["budget[bb]"].detail.endswith("did you mean 'b'?")
    assert got["budget[zzz]"].detail.endswith("features with calls: a, b, support-bot")
    assert run_check(r, None, config, CheckThresholds(strict=True)).exit_code == 4


def test_missing_config_warns():
    result = run_check(report(), None, Config(), config_found=False)
    rule = rules(result)["config"]
    assert rule.status == "WARN" and rule.detail.startswith("no config file found (no ./costlens.toml")
    assert "costlens.toml" not in [r.name for r in run_check(report(), None, Config()).rules]
    assert run_check(report(), None, Config(), CheckThresholds(strict=True), config_found=False).exit_code == 4


def test_cost_slo_breach():
    result = run_check(report(a_cpao=2.5), None, CONFIG)
    assert [r.name for r in result.failed] == ["cost_slo[a]"]
    assert "cost per accepted outcome $2.50 is above the SLO $2.00" in rules(result)["cost_slo[a]"].detail
    ignored = run_check(report(a_cpao=2.5), None, CONFIG, CheckThresholds(fail_on_slo=False))
    assert ignored.passed and statuses(ignored)["cost_slo[a]"] == "SKIP"
    assert rules(ignored)["cost_slo[a]"].detail.endswith("(not enforced: --ignore-slo)")
    unknown = run_check(report(a_cpao=None), None, CONFIG)
    assert statuses(unknown)["cost_slo[a]"] == "SKIP"


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
    rule = rules(result)["cpao_regression[a]"]  # 3 accepted outcomes: too few to judge
    assert rule.status == "SKIP"
    assert rule.detail == (
        "not compared: too few accepted outcomes (3 in the baseline, 3 now; need 10 on both "
        "sides, --min-accepted-outcomes)"
    )
    assert rules(result)["cpao_regression[total]"].status == "PASS"


def test_feature_not_in_baseline_is_skip():
    base = make_report(
        [ue("a", "50", calls=100, tasks=50, accepted_tasks=20, cost_per_accepted_outcome_usd=1.0)], cpao=1.0
    )
    result = run_check(report(), base, Config())
    assert rules(result)["cpao_regression[b]"].status == "SKIP"
    assert rules(result)["cpao_regression[b]"].detail == "not compared: the feature is not in the baseline"


def test_unknown_cpao_is_skip_with_reason():
    result = run_check(report(total_cpao=None), report(), CONFIG)
    assert statuses(result)["cpao_regression[total]"] == "SKIP"
    assert "no accepted outcome in this period" in rules(result)["cpao_regression[total]"].detail
    result = run_check(report(), None, CONFIG)
    assert rules(result)["cpao_regression[total]"].detail == "not compared: no baseline"
    assert statuses(result)["cpao_regression[total]"] == "SKIP"
    result = run_check(report(), make_report([]), CONFIG)
    assert rules(result)["cpao_regression[total]"].detail == (
        "not compared: the baseline 2026-10-01 → 2026-11-01 has no calls"
    )


def test_priced_coverage():
    r = report(coverage=Coverage(unpriced_models=[UnpricedModel("acme", "mystery", "standard", 20, "unknown")]))
    r.totals.priced_coverage_pct = 80.0
    result = run_check(r, None, CONFIG)
    rule = rules(result)["priced_coverage"]
    assert rule.status == "FAIL" and "80.0% of 110 calls priced (below 95%)" in rule.detail
    assert "mystery (20)" in rule.detail
    assert run_check(r, None, CONFIG, CheckThresholds(min_priced_coverage_pct=80)).passed


@pytest.mark.parametrize(
    "status, verdict",
    [
        ("reconciled", "PASS"),
        ("outside_tolerance", "WARN"),
        ("not_compared", "SKIP"),
        ("no_bill", "SKIP"),
        ("no_ai_spend", "SKIP"),
    ],
)
def test_reconciliation_rule(status, verdict):
    from costlens.model.reconcile import Reconciliation

    r = report()
    r.reconciliation = Reconciliation(status=status, verdict="the verdict")
    rule = rules(run_check(r, None, CONFIG))["reconciliation"]
    assert rule.status == verdict
    if verdict == "SKIP":
        assert rule.detail == "not compared: the verdict"
    assert run_check(r, None, CONFIG, CheckThresholds(strict=True)).passed == (verdict != "WARN")


def test_no_calls_fails():
    result = run_check(make_report([]), None, Config())
    assert result.exit_code == 4 and "no calls in the period" in rules(result)["priced_coverage"].detail


def test_budgets_computed_when_report_has_none():
    r = report(b_cost="12")
    assert r.budgets == []
    assert [x.name for x in run_check(r, None, CONFIG).failed] == ["budget[b]"]


def test_budgets_from_report_are_used():
    r = report()
    r.budgets = [
        Budget.from_json(b)
        for b in [
            {
                "feature": "z",
                "status": "hard_limit",
                "reason": "spend $9.00 reached the hard limit $8.00",
                "spend_usd": Decimal(9),
                "monthly_budget_usd": None,
                "slo_status": "no_slo",
            }
        ]
    ]
    result = run_check(r, None, CONFIG)
    assert [x.name for x in result.failed] == ["budget[z]"]
    assert "hard_limit: spend $9.00 reached the hard limit $8.00" in result.render_text()


def test_json_carries_statuses_and_counts():
    data = json.loads(render_json_text(run_check(report(b_cost="9"), None, CONFIG)))
    assert data["summary"] == {"PASS": 3, "WARN": 1, "FAIL": 0, "SKIP": 2}
    assert data["passed"] is True and data["exit_code"] == 0
    by_name = {r["name"]: r for r in data["rules"]}
    assert by_name["budget[b]"]["status"] == "WARN" and by_name["budget[b]"]["passed"] is True
    assert by_name["cpao_regression[total]"]["status"] == "SKIP"
    assert data["thresholds"]["strict"] is False


def render_json_text(result):
    from costlens.exactjson import dumps

    return dumps(result.to_dict())


def test_markdown_summary():
    result = run_check(report(b_cost="12", a_cost="85"), None, CONFIG)
    text = result.render_markdown()
    lines = text.splitlines()
    assert lines[0] == "## costlens check · 2026-10-01 → 2026-10-31 · failed"
    assert lines[2] == "**PASS=2 WARN=1 FAIL=1 SKIP=2** → exit 4 · baseline: none"
    assert lines[4:6] == ["| status | rule | detail |", "|:---|:---|:---|"]
    assert lines[6] == "| FAIL | budget\\[b\\] | over: spend $12.00 is over the budget $10.00 (120.0%) |"
    assert lines[7].startswith("| WARN | budget\\[a\\] | warning: 85.0% of the budget $100.00 used")
    assert len(lines) == 6 + 6
    ok = run_check(report(), None, CONFIG).render_markdown()
    assert ok.splitlines()[0].endswith("· passed")
    assert (
        run_check(report(b_cost="9"), None, CONFIG).render_markdown().splitlines()[0].endswith("· passed with warnings")
    )


def test_github_annotations():
    result = run_check(report(b_cost="12", a_cost="85"), None, CONFIG)
    lines = result.render_github().splitlines()
    assert lines == [
        "::error title=costlens budget[b]::FAIL budget[b]: over: spend $12.00 is over the budget $10.00 (120.0%25)",
        "::warning title=costlens budget[a]::WARN budget[a]: warning: 85.0%25 of the budget $100.00 used "
        "(soft alert at 80%25)",
        "::notice title=costlens check::PASS=2 WARN=1 FAIL=1 SKIP=2 → exit 4",
    ]


def test_hostile_names_cannot_forge_annotations_or_markdown():
    name = "x::error::forged,\nFAKE | <b>y</b>"
    r = make_report([ue(name, "5", calls=1)])
    config = Config.model_validate({"features": {name: {"monthly_budget_usd": 2}}})
    result = run_check(r, None, config)
    gh = result.render_github().splitlines()
    assert len(gh) == 2 and gh[0].startswith("::error title=costlens budget[x%3A%3Aerror%3A%3Aforged%2C%0AFAKE")
    assert all(line.startswith(("::error ", "::notice ")) for line in gh)
    md_lines = result.render_markdown().splitlines()
    row = next(line for line in md_lines if line.startswith("| FAIL"))
    assert "<b>" not in row and "\\|" in row and row.count(" | ") == 2  # the pipe is escaped: still 3 cells
    assert not any(line.startswith("FAKE") for line in md_lines)


def test_saved_json_baseline(tmp_path):
    saved = tmp_path / "baseline.json"
    saved.write_text(render_json(report(total_cpao=1.0, a_cpao=1.0)), encoding="utf-8")
    base = load_baseline(saved)
    result = run_check(report(total_cpao=1.5, a_cpao=1.0), base, CONFIG)
    assert [r.name for r in result.failed] == ["cpao_regression[total]"]
    assert result.baseline == "2026-10-01 → 2026-11-01"
    assert json.loads(json.dumps(result.to_dict()))["exit_code"] == 4


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json at all", "is not JSON"),
        ("[1, 2, 3]", "is not a costlens JSON report"),
        ('{"hello": "world"}', "is not a costlens JSON report"),
        ('{"schema_version": "9", "totals": {}}', "schema_version '9' is not supported"),
        ('{"schema_version": "1", "totals": {"cost_per_accepted_outcome_usd": "x"}}', "is not a number"),
        ('{"schema_version": "1", "totals": {}, "unit_economics": [1]}', "unit_economics is not a list"),
    ],
)
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


@pytest.mark.parametrize(
    "thresholds",
    [
        CheckThresholds(max_cpao_regression_pct=-1),
        CheckThresholds(min_priced_coverage_pct=101),
        CheckThresholds(min_accepted_outcomes=-2),
    ],
)
def test_bad_thresholds_are_usage_errors(thresholds):
    with pytest.raises(UsageError) as err:
        run_check(report(), None, CONFIG, thresholds)
    assert err.value.exit_code == EXIT_USAGE == 2


def test_hostile_names_cannot_break_the_text_output():
    r = make_report([ue("x\x1b[31m\nFAKE PASS", "1", calls=1)])
    text = run_check(
        r, None, Config.model_validate({"features": {"x\x1b[31m\nFAKE PASS": {"monthly_budget_usd": 2}}})
    ).render_text()
    assert "\x1b" not in text and not any(line.startswith("FAKE") for line in text.splitlines())


# ------------------------------------------------------------------------------------ the command line


def _cli_has_check() -> bool:
    from typer.testing import CliRunner

    from costlens.cli import app

    return " check " in CliRunner().invoke(app, ["--help"]).output.replace("│", " ")


@pytest.mark.slow
@pytest.mark.skipif(not _cli_has_check(), reason="`costlens check` is not wired into costlens/cli.py yet")
def test_cli_exit_codes(tmp_path):
    """Economics fixture (8 of 9 calls priced = 88.9%): breach at the default 95%, pass at 80, bad input 3/2."""
    from typer.testing import CliRunner

    from costlens.cli import app

    econ = FIXTURES / "economics"
    db, config = str(tmp_path / "econ.duckdb"), str(econ / "costlens.toml")
    runner = CliRunner()
    ingest = runner.invoke(
        app, ["ingest", str(econ / "spans.jsonl"), str(econ / "outcomes.csv"), "--db", db, "--config", config, "-q"]
    )
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
