"""Showback by feature, owner, team and cost center (costlens/showback.py): rows add up to the total to the cent.

Hand-computed fixture: f1 $1.005 (owner A, team T1, cost center C1), f2 $2.005 (owner A, team T2, no cost
center), f3 $3.005 (no config), (unattributed) $0.001. Total $6.016 → $6.02.
  by feature (table order f3, f2, f1, (unattributed)): floors 3.00 + 2.00 + 1.00 + 0.00 = 6.00; two cents to the
            largest remainders (.005, .005, .005, .001; ties in table order) → f3 3.01, f2 2.01, f1 1.00, 0.00
  a group is the sum of its features' cents, so it shows the same number as the features it holds:
  by owner: A = f1 + f2 = 1.00 + 2.01 = 3.01, (no owner) = f3 = 3.01, (unattributed) 0.00 → 6.02
  by team:  (no team) = f3 = 3.01, T2 = f2 = 2.01, T1 = f1 = 1.00, (unattributed) 0.00 → 6.02
  by cost center: (no cost center) = f2 + f3 = 5.02, C1 = f1 = 1.00 (its own exact 1.005 would round to 1.01,
            but C1 is f1's spend and must read as f1's figure), (unattributed) 0.00 → 6.02
  shares (percent to a tenth): f3 49.950…, f2 33.327…, f1 16.705…, (unattributed) 0.016… → floors 49.9 + 33.3 +
            16.7 + 0.0 = 99.9; the tenth goes to the largest remainder (f3) → 50.0, 33.3, 16.7, 0.0
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from test_budgets import make_report, ue

from costlens.config import Config
from costlens.showback import allocate_cents, compute_showback

CONFIG = Config.model_validate(
    {
        "features": {
            "f1": {"owner": "A", "team": "T1", "cost_center": "C1"},
            "f2": {"owner": "A", "team": "T2"},
        }
    }
)


def rows(section):
    return [(r.key, r.cost_usd) for r in section]


def test_by_hand():
    report = make_report([ue("f3", "3.005"), ue("f2", "2.005"), ue("f1", "1.005"), ue("(unattributed)", "0.001")])
    sb = compute_showback(None, CONFIG, report)
    assert sb.total_usd == Decimal("6.02") and sb.total_exact_usd == Decimal("6.016")
    assert rows(sb.by_owner) == [
        ("A", Decimal("3.01")),
        ("(no owner)", Decimal("3.01")),
        ("(unattributed)", Decimal("0.00")),
    ]
    assert rows(sb.by_team) == [
        ("(no team)", Decimal("3.01")),
        ("T2", Decimal("2.01")),
        ("T1", Decimal("1.00")),
        ("(unattributed)", Decimal("0.00")),
    ]
    assert rows(sb.by_cost_center) == [
        ("(no cost center)", Decimal("5.02")),
        ("C1", Decimal("1.00")),
        ("(unattributed)", Decimal("0.00")),
    ]
    assert rows(sb.by_feature) == [
        ("f3", Decimal("3.01")),
        ("f2", Decimal("2.01")),
        ("f1", Decimal("1.00")),
        ("(unattributed)", Decimal("0.00")),
    ]
    assert [r.shown_share_pct for r in sb.by_feature] == [
        Decimal("50.0"),
        Decimal("33.3"),
        Decimal("16.7"),
        Decimal("0.0"),
    ]
    assert [r.shown_share_pct for r in sb.by_cost_center] == [Decimal("83.3"), Decimal("16.7"), Decimal("0.0")]
    owner_a = sb.by_owner[0]
    assert owner_a.features == ["f1", "f2"] and owner_a.cost_exact_usd == Decimal("3.010")
    assert owner_a.share == float(Decimal("3.010") / Decimal("6.016"))
    for section in ("by_feature", "by_owner", "by_team", "by_cost_center"):
        assert sum(r.cost_usd for r in getattr(sb, section)) == sb.total_usd, section
        assert sum(r.cost_exact_usd for r in getattr(sb, section)) == sb.total_exact_usd, section
        assert sum(r.shown_share_pct for r in getattr(sb, section)) == Decimal("100.0"), section


def test_empty_period():
    sb = compute_showback(None, CONFIG, make_report([]))
    assert sb.total_usd == 0 and sb.by_owner == [] and sb.by_feature == []


def test_blank_owner_counts_as_missing():
    config = Config.model_validate({"features": {"f": {"owner": "  ", "team": "T"}}})
    sb = compute_showback(None, config, make_report([ue("f", "1")]))
    assert rows(sb.by_owner) == [("(no owner)", Decimal("1.00"))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=10**6, places=9), min_size=1, max_size=30))
def test_cents_always_add_up(values):
    cents = allocate_cents(values)
    assert sum(cents) == sum(values).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert all(abs(c - v) < Decimal("0.01") for c, v in zip(cents, values))


def test_cents_with_negative_parts_and_explicit_total():
    assert allocate_cents(
        [Decimal("0.071"), Decimal("0.110"), Decimal("0.104"), Decimal("0.060")], Decimal("0.345")
    ) == [Decimal("0.07"), Decimal("0.11"), Decimal("0.11"), Decimal("0.06")]
    parts = [Decimal("-1.005"), Decimal("2.004"), Decimal("-0.333")]
    cents = allocate_cents(parts)
    assert sum(cents) == Decimal("0.67")
