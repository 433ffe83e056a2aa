"""The decision-tree diagnosis: rising cost per call only, per accepted outcome only, both, concentrated
growth, retry-driven growth, no previous period — and against a real period pair in a database."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal as D

import pytest

from costlens.levers import PeriodSnapshot, diagnose, rank_levers
from costlens.levers.diagnose import diagnose_periods, previous_period, snapshot
from costlens.model.report import Period, Totals, UnitEconomics


def ue(key: str, cost: float, calls: int = 100, retry_rate: float = 0.0) -> UnitEconomics:
    values = {f.name: None for f in fields(UnitEconomics)}
    values.update(
        key=key,
        calls=calls,
        tasks=calls,
        cost_usd=D(str(cost)),
        unpriced_calls=0,
        accepted_tasks=0,
        tasks_with_outcome=0,
        rework_cost_usd=D(0),
        delay_cost_usd=D(0),
        input_tokens=0,
        cache_read_tokens=0,
        cache_write_tokens=0,
        output_tokens=0,
        retry_rate=retry_rate,
    )
    return UnitEconomics(**values)


def totals(cost: float, calls: int, per_outcome: float | None) -> Totals:
    return Totals(
        cost_usd=D(str(cost)),
        calls=calls,
        tasks=calls,
        accepted_tasks=0,
        unpriced_calls=0,
        priced_coverage_pct=100.0,
        cost_per_call_usd=cost / calls,
        cost_per_task_usd=cost / calls,
        quality_adjusted_cost_per_task_usd=None,
        cost_per_accepted_outcome_usd=per_outcome,
    )


def snap(
    features: dict[str, float],
    calls: int,
    per_outcome: float | None,
    retry: dict[str, float] | None = None,
    days: float = 30.44,
) -> PeriodSnapshot:
    total = sum(features.values())
    rows = [ue(k, v) for k, v in features.items()]
    return PeriodSnapshot(
        totals(total, calls, per_outcome),
        rows,
        days,
        {k: D(str(v)) for k, v in retry.items()} if retry is not None else None,
    )


def test_rising_cost_per_call_only():
    prev = snap({"a": 500, "b": 500}, 1000, 2.0, {"a": 0, "b": 0})
    cur = snap({"a": 600, "b": 600}, 1000, 2.02, {"a": 0, "b": 0})  # +20 % per call, +1 % per outcome
    d = diagnose(cur, prev)
    assert d.cost_per_call_trend == "rising" and d.cost_per_call_change_pct == pytest.approx(20)
    assert d.cost_per_accepted_outcome_trend == "flat"
    assert d.rising == "cost_per_call"
    assert d.start_with == ["model_routing", "prompt_caching", "context_discipline"]
    assert d.growth_scope == "all"  # both features grew by the same amount
    assert d.retry_driven is False
    assert "Only the price of a call is rising" in d.statement


def test_rising_cost_per_accepted_outcome_only():
    prev = snap({"a": 500}, 1000, 2.0, {"a": 0})
    cur = snap({"a": 500}, 1000, 3.0, {"a": 0})
    d = diagnose(cur, prev)
    assert d.cost_per_call_trend == "flat" and d.cost_per_accepted_outcome_trend == "rising"
    assert d.rising == "cost_per_accepted_outcome"
    assert d.start_with == ["quality_and_rework"]
    assert d.growth_scope == "none"
    assert "improve quality and reduce rework first" in d.statement


def test_both_rising_points_to_context_and_routing():
    d = diagnose(snap({"a": 700}, 1000, 3.0, {"a": 0}), snap({"a": 500}, 1000, 2.0, {"a": 0}))
    assert d.rising == "both"
    assert d.start_with == ["context_discipline", "model_routing"]


def test_concentrated_growth():
    """a grows by 900, b by 50 (+5 %: flat), c and d shrink: a carries ≥ 80 % of the growth alone."""
    prev = snap({"a": 1000, "b": 1000, "c": 1000, "d": 1000}, 4000, 2.0, {})
    cur = snap({"a": 1900, "b": 1050, "c": 900, "d": 950}, 4000, 2.0, {})
    d = diagnose(cur, prev)
    assert d.growth_scope == "few"
    assert [g["feature"] for g in d.growth_drivers] == ["a"]
    assert d.growth_concentration == pytest.approx(1.0)
    assert d.spend_change_usd == D(800)
    assert "concentrated: a carries 100%" in d.statement


def test_growth_in_all_features():
    prev = snap({"a": 1000, "b": 1000, "c": 1000}, 3000, 2.0, {})
    cur = snap({"a": 1300, "b": 1300, "c": 1300}, 3000, 2.0, {})
    d = diagnose(cur, prev)
    assert d.growth_scope == "all" and len(d.growth_drivers) == 3


def test_retry_driven_growth():
    """Spend +400, of which failed attempts +300: 75 % of the growth ≥ 30 % → retry-driven."""
    prev = snap({"a": 1000}, 1000, 2.0, {"a": 50})
    cur = snap({"a": 1400}, 1000, 2.5, {"a": 350})
    d = diagnose(cur, prev)
    assert d.retry_share_of_growth == pytest.approx(0.75)
    assert d.retry_share_of_spend == pytest.approx(350 / 1400)
    assert d.retry_driven is True
    assert d.start_with[0] == "stability_guardrails"
    assert "retry-driven" in d.statement and d.retry_cost_estimated is False


def test_not_retry_driven_and_estimated_from_retry_rate():
    prev = PeriodSnapshot(totals(1000, 1000, 2.0), [ue("a", 1000, retry_rate=0.02)], 30)
    cur = PeriodSnapshot(totals(1200, 1000, 2.0), [ue("a", 1200, retry_rate=0.02)], 30)
    d = diagnose(cur, prev)
    assert d.retry_cost_estimated is True
    assert d.retry_share_of_spend == pytest.approx(0.02)
    assert d.retry_share_of_growth == pytest.approx(0.02)
    assert d.retry_driven is False


def test_periods_of_different_length_compare_per_month():
    """Same daily spend over 31 and 30 days: no growth."""
    prev = snap({"a": 300}, 300, 2.0, {}, days=30)
    cur = snap({"a": 310}, 310, 2.0, {}, days=31)
    d = diagnose(cur, prev)
    assert d.spend_change_usd == 0
    assert d.growth_scope == "none"


def test_no_previous_period():
    d = diagnose(snap({"a": 900, "b": 80, "c": 20}, 1000, 2.0, {"a": 300}))
    assert d.has_previous is False and d.rising == "unknown" and d.growth_scope == "unknown"
    assert [x["feature"] for x in d.spend_leaders] == ["a"]
    assert d.retry_share_of_spend == pytest.approx(0.3) and d.retry_driven is True
    assert "no earlier period" in d.statement and "a holds 90% of spend" in d.statement


def test_snapshot_accepts_tuples_and_dicts():
    t, rows = totals(100, 10, None), [ue("a", 100)]
    assert snapshot((t, rows, 30)).days == 30
    assert snapshot({"totals": t, "unit_economics": rows}).features == rows
    with pytest.raises(TypeError):
        snapshot(42)


def test_rank_levers_carries_the_diagnosis():
    cur = snap({"a": 700}, 1000, 3.0, {"a": 0})
    plan = rank_levers(
        [], D(700), {"a": D(700)}, None, 30, {"current": cur, "previous": snap({"a": 500}, 1000, 2.0, {"a": 0})}
    )
    assert plan.diagnosis is not None and plan.diagnosis.rising == "both"


def test_previous_period():
    assert previous_period(Period(date(2026, 10, 1), date(2026, 11, 1))) == Period(date(2026, 9, 1), date(2026, 10, 1))
    assert previous_period(Period(date(2026, 1, 1), date(2026, 2, 1))) == Period(date(2025, 12, 1), date(2026, 1, 1))
    assert previous_period(Period(date(2026, 10, 5), date(2026, 10, 12))) == Period(
        date(2026, 9, 28), date(2026, 10, 5)
    )


def test_diagnose_periods_from_the_database(con):
    """September: 2 calls at $1; October: 4 calls, one a failed $1 attempt — spend ×2, per call flat. The
    database's first call is on 3 September, so September has data for 28 of its 30 days and is compared on
    its daily rate ($2 / 28 days); October is closed and covered whole ($4 / 31 days)."""
    from costlens.config import Config
    from costlens.engine import prepare_priced_calls

    rows = [
        ("s1", "2026-09-03", "ok"),
        ("s2", "2026-09-04", "ok"),
        ("o1", "2026-10-03", "ok"),
        ("o2", "2026-10-04", "ok"),
        ("o3", "2026-10-05", "ok"),
        ("o4", "2026-10-06", "error"),
    ]
    for call_id, day, status in rows:
        con.execute(
            "INSERT INTO calls (call_id, source_format, source_file, source_sha256, source_row, ts, provider, model, "
            "input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, "
            "reasoning_tokens, status, feature, task_id) VALUES (?, 'test', 't', 'x', 1, ?, 'acme', 'acme-one', "
            "100000, 0, 0, 0, 0, 0, ?, 'feat', ?)",
            [call_id, f"{day} 10:00:00", status, call_id],
        )
    config = Config(
        prices={"overrides": [{"provider": "acme", "model": "acme-one", "input_mtok": 10, "output_mtok": 10}]}
    )
    prepare_priced_calls(con, config)
    d = diagnose_periods(con, config, Period(date(2026, 10, 1), date(2026, 11, 1)))
    assert d.has_previous and d.cost_per_call_trend == "flat"
    assert d.previous_monthly_spend_usd == D(2) * D("30.44") / 28
    assert d.monthly_spend_usd == D(4) * D("30.44") / 31
    assert d.partial_notes == ["September 2026 has data for 28 of 30 days (2026-09-03 to 2026-09-30)"]
    assert (d.previous_spend_per_day_usd, d.spend_per_day_usd) == (D(2) / 28, D(4) / 31)
    # $0.0714… → $0.1290… a day: +80.6% (4/31 ÷ 2/28 = 56/31)
    assert (
        "September 2026 has data for 28 of 30 days (2026-09-03 to 2026-09-30), so spend is compared per day "
        "with data: it grew from $0.07 to $0.13 a day (+80.6%)."
    ) in d.statement
    assert d.retry_share_of_spend == pytest.approx(0.25) and d.retry_cost_estimated is False
    assert d.retry_driven is True
    # the current period's tables are left in place
    assert con.execute("SELECT count(*) FROM period_calls").fetchone()[0] == 4
