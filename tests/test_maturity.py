"""The maturity assessment (costlens/maturity.py): levels 1–5 from the data present, each check explained."""

from __future__ import annotations

from decimal import Decimal

from test_budgets import make_report, ue

from costlens.config import Config
from costlens.maturity import assess_maturity
from costlens.model.leaks import Finding
from costlens.model.report import Coverage


def checks(result):
    return {c.name: c for c in result.checks}


def test_no_calls_no_assessment():
    assert assess_maturity(None, Config(), make_report([])) is None


def test_visible_but_unowned_is_level_2():
    report = make_report(
        [ue("a", "90", calls=10), ue("(unattributed)", "10", calls=2)],
        coverage=Coverage(unattributed_cost_usd=Decimal("10")),
    )
    result = assess_maturity(None, Config(), report)
    assert result.level == 2 and result.label == "visible"
    c = checks(result)
    assert c["spend_attributed"].met and c["spend_attributed"].detail.startswith("90% of spend")
    assert c["spend_priced"].detail.startswith("100.0% of calls priced")
    assert not c["owners_assigned"].met and not c["budgets_set"].met
    assert result.next_steps == [c["owners_assigned"].detail, c["budgets_set"].detail]


def test_unpriced_spend_stays_level_1():
    report = make_report([ue("a", "1", calls=10, unpriced_calls=2)])
    result = assess_maturity(None, Config(), report)
    assert result.level == 1
    assert checks(result)["spend_priced"].detail.startswith("80.0% of calls priced")


def accountable_config(**extra):
    return Config.model_validate({"features": {"a": {"owner": "x", "monthly_budget_usd": 100, **extra}}})


def test_accountable_and_measured():
    rows = [ue("a", "95", calls=10, tasks=10, tasks_with_outcome=6, accepted_tasks=5), ue("b", "5")]
    result = assess_maturity(None, accountable_config(), make_report(rows))
    assert result.level == 3 and checks(result)["outcomes_logged"].met
    assert not checks(result)["cost_slos_set"].met
    result = assess_maturity(None, accountable_config(cost_slo_per_accepted_outcome_usd=20), make_report(rows))
    assert result.level == 4 and result.label == "measured"
    c = checks(result)
    assert c["cost_slos_set"].detail.startswith("95% of spend")
    assert not c["prompt_caching_used"].met and not c["bill_reconcilable"].met


def test_optimised():
    rows = [
        ue(
            "a",
            "100",
            calls=10,
            tasks=10,
            tasks_with_outcome=10,
            accepted_tasks=9,
            input_tokens=700,
            cache_read_tokens=300,
        )
    ]
    config = Config.model_validate(
        {
            "features": {"a": {"owner": "x", "monthly_budget_usd": 100, "cost_slo_per_accepted_outcome_usd": 20}},
            "prices": {"discounts": [{"provider": "openai", "pct": 10}]},
        }
    )
    report = make_report(rows, coverage=Coverage(billing_lines=12))
    result = assess_maturity(None, config, report)
    assert result.level == 5 and result.label == "optimised" and result.next_steps == []
    c = checks(result)
    assert c["prompt_caching_used"].detail == "cache reads are 30.0% of input tokens"
    assert c["negotiated_prices"].met and c["negotiated_prices"].level is None
    report.leaks = [Finding("batchable", "a", None, None, 60, Decimal(5), Decimal(5), "high", "high")]
    result = assess_maturity(None, config, report)
    assert result.level == 4
    assert not checks(result)["batch_where_possible"].met
    assert "batchable traffic at synchronous prices in a" in checks(result)["batch_where_possible"].detail
