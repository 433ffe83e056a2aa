"""Budgets and cost SLOs per feature (costlens/budgets.py): status, used %, month-end forecast, SLO status.

Reports are built by hand (make_report) so every figure is known; one test runs the real pipeline on the
economics fixture (alpha $0.0214, beta $0.0036 priced, see tests/test_report_economics.py).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from costlens.budgets import compute_budgets, elapsed_share
from costlens.config import Config
from costlens.engine import totals_from_row
from costlens.model.report import Coverage, Period, PriceBookInfo, Report, UnitEconomics

from conftest import FIXTURES

OCT = Period(date(2026, 10, 1), date(2026, 11, 1))
AFTER = datetime(2026, 11, 5, tzinfo=UTC)


def ue(key: str, cost: str | Decimal = "0", **values) -> UnitEconomics:
    """A worksheet row with neutral defaults; money as Decimal."""
    row = {}
    for f in fields(UnitEconomics):
        kind = str(f.type)
        row[f.name] = Decimal(0) if kind.startswith("Decimal") and "None" not in kind else 0 if kind == "int" else None
    row.update(key=key, cost_usd=Decimal(cost), calls=1, tasks=1)
    row.update(values)
    return UnitEconomics(**row)


def make_report(
    features: list[UnitEconomics],
    *,
    period: Period = OCT,
    generated_at: datetime = AFTER,
    days: list[str] | None = None,
    **extra,
) -> Report:
    total_cost = sum((f.cost_usd for f in features), Decimal(0))
    accepted = sum(f.accepted_tasks for f in features)
    total = (
        ue(
            "total",
            total_cost,
            calls=sum(f.calls for f in features),
            tasks=sum(f.tasks for f in features),
            accepted_tasks=accepted,
            tasks_with_outcome=sum(f.tasks_with_outcome for f in features),
            unpriced_calls=sum(f.unpriced_calls for f in features),
            cost_per_accepted_outcome_usd=extra.pop("cpao", None),
            cache_read_tokens=sum(f.cache_read_tokens for f in features),
        )
        if features
        else None
    )
    report = Report(
        generated_at=generated_at,
        period=period,
        price_book=PriceBookInfo("genai-prices", "0.0.0"),
        totals=totals_from_row(total),
        unit_economics=features,
        by_model=[],
        by_team=[],
        by_day=[ue(d, "1") for d in (days or [])],
        by_month=[],
        coverage=extra.pop("coverage", Coverage()),
    )
    for name, value in extra.items():
        setattr(report, name, value)
    return report


def cfg(**features) -> Config:
    return Config.model_validate({"features": features})


def by_feature(rows):
    return {r.feature: r for r in rows}


def test_closed_month_statuses():
    report = make_report(
        [ue("over", "120"), ue("warn", "85"), ue("ok", "50"), ue("hard", "115"), ue("unconfigured", "5")]
    )
    config = cfg(
        over={"monthly_budget_usd": 100},
        warn={"monthly_budget_usd": 100},
        ok={"monthly_budget_usd": 100},
        hard={"monthly_budget_usd": 100, "hard_limit_usd": 110},
        idle={"monthly_budget_usd": 10, "owner": "o@x"},
    )
    rows = by_feature(compute_budgets(None, config, report))
    assert {k: r.status for k, r in rows.items()} == {
        "over": "over",
        "warn": "warning",
        "ok": "ok",
        "hard": "hard_limit",
        "unconfigured": "no_budget",
        "idle": "ok",
    }
    assert rows["over"].used_pct == pytest.approx(120.0)
    assert rows["over"].spend_usd == Decimal("120") == rows["over"].forecast_month_end_usd  # closed month
    assert rows["warn"].used_pct == pytest.approx(85.0) and "soft alert at 80%" in rows["warn"].reason
    assert rows["idle"].spend_usd == 0 and rows["idle"].used_pct == 0 and rows["idle"].owner == "o@x"
    assert rows["unconfigured"].configured is False and rows["unconfigured"].monthly_budget_usd is None
    assert [r.feature for r in compute_budgets(None, config, report)][:2] == ["over", "hard"]  # by spend


def test_month_end_forecast_in_an_open_month():
    """Ten of 31 days elapsed: $31 spent forecasts $96.10 — over a $90 budget (warning), under $100 (ok)."""
    as_of = datetime(2026, 10, 11, tzinfo=UTC)
    report = make_report([ue("a", "31"), ue("b", "31"), ue("c", "31")], generated_at=as_of)
    config = cfg(
        a={"monthly_budget_usd": 90}, b={"monthly_budget_usd": 100}, c={"monthly_budget_usd": 200, "hard_limit_usd": 95}
    )
    rows = by_feature(compute_budgets(None, config, report))
    assert rows["a"].forecast_month_end_usd == Decimal("96.1")
    assert rows["a"].elapsed_share == pytest.approx(10 / 31)
    assert rows["a"].status == "warning" and "forecast $96.10 exceeds the budget $90.00" in rows["a"].reason
    assert rows["a"].used_pct == pytest.approx(31 / 90 * 100)
    assert rows["a"].forecast_used_pct == pytest.approx(96.1 / 90 * 100)
    assert rows["b"].status == "ok"
    assert rows["c"].status == "warning" and "hard limit" in rows["c"].reason


def test_clock_before_the_data_uses_the_latest_day():
    assert elapsed_share(OCT, datetime(2026, 9, 1, tzinfo=UTC), date(2026, 10, 15)) == Decimal(15) / 31
    report = make_report(
        [ue("a", "15")], generated_at=datetime(2026, 9, 1, tzinfo=UTC), days=["2026-10-01", "2026-10-15"]
    )
    row = compute_budgets(None, cfg(a={"monthly_budget_usd": 40}), report)[0]
    assert row.forecast_month_end_usd == Decimal("31")


def test_period_that_is_not_a_month_prorates_the_budget():
    """15 days of a $30.44 monthly budget → $15 for the period: $16 is over."""
    period = Period(date(2026, 10, 1), date(2026, 10, 16))
    report = make_report([ue("a", "16")], period=period)
    row = compute_budgets(None, cfg(a={"monthly_budget_usd": 30.44, "hard_limit_usd": 60.88}), report)[0]
    assert row.period_budget_usd == Decimal("15.00") and row.period_hard_limit_usd == Decimal("30.00")
    assert row.status == "over" and row.monthly_budget_usd == Decimal("30.44")


def test_cost_slo_status():
    report = make_report(
        [
            ue("breached", "1", cost_per_accepted_outcome_usd=2.0, accepted_tasks=5),
            ue("fine", "1", cost_per_accepted_outcome_usd=1.0, accepted_tasks=5),
            ue("unknown", "1"),
            ue("none", "1", cost_per_accepted_outcome_usd=9.0),
        ]
    )
    config = cfg(
        breached={"cost_slo_per_accepted_outcome_usd": 1.5},
        fine={"cost_slo_per_accepted_outcome_usd": 1.5},
        unknown={"cost_slo_per_accepted_outcome_usd": 1},
    )
    rows = by_feature(compute_budgets(None, config, report))
    assert {k: r.slo_status for k, r in rows.items()} == {
        "breached": "breached",
        "fine": "ok",
        "unknown": "unknown",
        "none": "no_slo",
    }
    assert rows["breached"].cost_slo_per_accepted_outcome_usd == Decimal("1.5")


@pytest.mark.slow
def test_on_the_real_pipeline(con, ingest):
    """Economics fixture: alpha $0.0214 against a $0.02 budget is over; beta $0.0036 of $1 is ok."""
    from costlens.config import load_config
    from costlens.report.build import build_report

    econ = FIXTURES / "economics"
    base = load_config(econ / "costlens.toml")
    config = base.model_copy(
        update={
            "features": cfg(alpha={"monthly_budget_usd": 0.02, "owner": "ann"}, beta={"monthly_budget_usd": 1}).features
        }
    )
    assert not ingest(econ / "spans.jsonl", econ / "outcomes.csv", config=config).failed
    report = build_report(con, config, OCT, analyse=False)
    rows = by_feature(compute_budgets(con, config, report))
    assert rows["alpha"].spend_usd == Decimal("0.0214") and rows["alpha"].status == "over"
    assert rows["alpha"].used_pct == pytest.approx(107.0)
    assert rows["beta"].spend_usd == Decimal("0.0036") and rows["beta"].status == "ok"
    assert rows["alpha"].forecast_month_end_usd == Decimal("0.0214")  # October is closed (generated later)
