"""Showback by feature, owner, team and cost center (costlens/showback.py): rows add up to the total to the cent.

Hand-computed fixture: f1 $1.005 (owner A, team T1, cost center C1), f2 $2.005 (owner A, team T2, no cost
center), f3 $3.005 (no config), (unattributed) $0.001. Total $6.016 → $6.02.
  by owner: A 3.010, (no owner) 3.005, (unattributed) 0.001 → floors 3.01 + 3.00 + 0.00 = 6.01; the left-over cent
            goes to the largest remainder, (no owner) → 3.01, 3.01, 0.00 = 6.02
  by team:  (no team) 3.005, T2 2.005, T1 1.005, (unattributed) 0.001 → floors 6.00; two cents to the largest
            remainders (ties in table order) → 3.01, 2.01, 1.00, 0.00 = 6.02
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from costlens.config import Config
from costlens.showback import allocate_cents, compute_showback
from test_budgets import make_report, ue

CONFIG = Config.model_validate({"features": {
    "f1": {"owner": "A", "team": "T1", "cost_center": "C1"},
    "f2": {"owner": "A", "team": "T2"},
}})


def rows(section):
    return [(r["key"], r["cost_usd"]) for r in section]


def test_by_hand():
    report = make_report([ue("f3", "3.005"), ue("f2", "2.005"), ue("f1", "1.005"), ue("(unattributed)", "0.001")])
    sb = compute_showback(None, CONFIG, report)
    assert sb["total_usd"] == Decimal("6.02") and sb["total_exact_usd"] == Decimal("6.016")
    assert rows(sb["by_owner"]) == [("A", Decimal("3.01")), ("(no owner)", Decimal("3.01")),
                                    ("(unattributed)", Decimal("0.00"))]
    assert rows(sb["by_team"]) == [("(no team)", Decimal("3.01")), ("T2", Decimal("2.01")), ("T1", Decimal("1.00")),
                                   ("(unattributed)", Decimal("0.00"))]
    assert rows(sb["by_cost_center"]) == [("(no cost center)", Decimal("5.01")), ("C1", Decimal("1.01")),
                                          ("(unattributed)", Decimal("0.00"))]
    owner_a = sb["by_owner"][0]
    assert owner_a["features"] == ["f1", "f2"] and owner_a["cost_exact_usd"] == Decimal("3.010")
    assert owner_a["share"] == float(Decimal("3.010") / Decimal("6.016"))
    for section in ("by_feature", "by_owner", "by_team", "by_cost_center"):
        assert sum(r["cost_usd"] for r in sb[section]) == sb["total_usd"], section
        assert sum(r["cost_exact_usd"] for r in sb[section]) == sb["total_exact_usd"], section


def test_empty_period():
    sb = compute_showback(None, CONFIG, make_report([]))
    assert sb["total_usd"] == 0 and sb["by_owner"] == [] and sb["by_feature"] == []


def test_blank_owner_counts_as_missing():
    config = Config.model_validate({"features": {"f": {"owner": "  ", "team": "T"}}})
    sb = compute_showback(None, config, make_report([ue("f", "1")]))
    assert rows(sb["by_owner"]) == [("(no owner)", Decimal("1.00"))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=10**6, places=9), min_size=1, max_size=30))
def test_cents_always_add_up(values):
    cents = allocate_cents(values)
    assert sum(cents) == sum(values).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert all(abs(c - v) < Decimal("0.01") for c, v in zip(cents, values))


def test_cents_with_negative_parts_and_explicit_total():
    assert allocate_cents([Decimal("0.071"), Decimal("0.110"), Decimal("0.104"), Decimal("0.060")],
                          Decimal("0.345")) == [Decimal("0.07"), Decimal("0.11"), Decimal("0.11"), Decimal("0.06")]
    parts = [Decimal("-1.005"), Decimal("2.004"), Decimal("-0.333")]
    cents = allocate_cents(parts)
    assert sum(cents) == Decimal("0.67")
