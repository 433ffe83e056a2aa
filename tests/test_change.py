"""The change in spend vs the previous period, split into volume / efficiency / mix / price (costlens/change.py).

Two-month fixture, generated here (generic CSV, made-up "acme" models priced by config overrides, so every
figure is computed by hand). Feature f, one call per task, output 100 tokens per call.

  September (previous)  10 tasks: 5 on acme-big, 5 on acme-small, 1,000 input tokens each.
                        prices: big $10 in / $30 out per Mtok, small $1 / $2.
                        big call 0.010 + 0.003 = 0.013; small 0.001 + 0.0002 = 0.0012 → C0 = 0.065 + 0.006 = 0.071
  October (current)     20 tasks (volume ×2): 15 on big, 5 on small (mix), 2,000 input tokens each (efficiency);
                        big input price rises to $12 per Mtok on 1 October (price).
                        big 0.024 + 0.003 = 0.027; small 0.002 + 0.0002 = 0.0022 → C1 = 0.405 + 0.011 = 0.416

  volume     = (20/10 − 1) × 0.071                                                    = 0.071
  efficiency = previous average prices per kind: input 0.055/10,000 = 5.5 $/Mtok, output 0.016/1,000 = 16 $/Mtok;
               input per task 1,000 → 2,000: 20 tasks × 1,000 × 5.5e-6                  = 0.110
  mix        = current usage at previous model prices − at the previous average:
               input 40,000 × (0.75·10 + 0.25·1 − 5.5)e-6 = 0.090; output 2,000 × (0.75·30 + 0.25·2 − 16)e-6 = 0.014
                                                                                         = 0.104
  price      = 15 calls × 2,000 × (12 − 10)e-6                                          = 0.060
  total      = 0.345 = 0.416 − 0.071
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costlens.change import PeriodUsage, decompose, decompose_change, rounded_effects
from costlens.config import ColumnMapping, Config
from costlens.exactjson import dumps
from costlens.model.change import Change
from costlens.model.report import Period
from costlens.report.build import build_report

COLUMNS = [
    "call_id",
    "ts",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "task_id",
    "feature",
    "status",
]

PRICES = {
    "prices": {
        "overrides": [
            {
                "provider": "acme",
                "model": "acme-big",
                "valid_to": "2026-10-01",
                "input_mtok": 10,
                "output_mtok": 30,
                "cache_read_mtok": 1,
            },
            {
                "provider": "acme",
                "model": "acme-big",
                "valid_from": "2026-10-01",
                "input_mtok": 12,
                "output_mtok": 30,
                "cache_read_mtok": 1,
            },
            {"provider": "acme", "model": "acme-small", "input_mtok": 1, "output_mtok": 2, "cache_read_mtok": 0.1},
        ]
    },
    "economics": {"loaded_hourly_rate_usd": 60},
}


def config() -> Config:
    return Config.model_validate(PRICES)


def write_calls(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    "provider": "acme",
                    "output_tokens": 100,
                    "cache_read_tokens": 0,
                    "feature": "f",
                    "status": "ok",
                    **row,
                }
            )
    return path


def month_rows(month: str, tasks: int, big: int, input_tokens: int, prefix: str) -> list[dict]:
    rows = []
    for i in range(tasks):
        rows.append(
            {
                "call_id": f"{prefix}{i}",
                "ts": f"{month}-{1 + i % 28:02d}T10:00:00Z",
                "model": "acme-big" if i < big else "acme-small",
                "input_tokens": input_tokens,
                "task_id": f"{prefix}t{i}",
            }
        )
    return rows


MAPPING = ColumnMapping(name="test", columns={c: c for c in COLUMNS})


@pytest.fixture
def two_months(con, ingest, tmp_path):
    rows = month_rows("2026-09", 10, 5, 1000, "s") + month_rows("2026-10", 20, 15, 2000, "o")
    result = ingest(write_calls(tmp_path / "calls.csv", rows), fmt="generic", mapping=MAPPING, config=config())
    assert not result.failed, [f.message for f in result.failed]
    # outcomes: September 4 of 10 accepted, October 16 of 20 (no rework) → trend values by hand
    with (tmp_path / "outcomes.csv").open("w", encoding="utf-8") as handle:
        handle.write("task_id,accepted\n")
        for i in range(10):
            handle.write(f"st{i},{'true' if i < 4 else 'false'}\n")
        for i in range(20):
            handle.write(f"ot{i},{'true' if i < 16 else 'false'}\n")
    assert not ingest(tmp_path / "outcomes.csv", config=config()).failed
    return con


@pytest.mark.slow
def test_two_month_split_by_hand(two_months):
    con = two_months
    report = build_report(con, config(), Period(date(2026, 10, 1), date(2026, 11, 1)))
    change = decompose_change(con, config(), report)
    assert change is not None
    assert (change.previous_period.start, change.previous_period.end) == ("2026-09-01", "2026-10-01")
    assert change.split.previous_cost_usd == Decimal("0.071")
    assert change.split.current_cost_usd == Decimal("0.416") == report.totals.cost_usd
    assert change.split.delta_usd == Decimal("0.345")
    assert change.split.volume_usd == Decimal("0.071")
    assert change.split.efficiency_usd == Decimal("0.110")
    assert change.split.mix_usd == Decimal("0.104")
    assert change.split.price_usd == Decimal("0.060")
    assert (
        sum(getattr(change.split, k) for k in ("volume_usd", "efficiency_usd", "mix_usd", "price_usd"))
        == change.split.delta_usd
    )
    assert (change.split.previous_tasks, change.split.current_tasks) == (10, 20)
    kinds = {k.kind: k for k in change.split.efficiency_by_kind}
    assert kinds["input"].previous_per_task == 1000 and kinds["input"].current_per_task == 2000
    assert kinds["input"].effect_usd == Decimal("0.110") and kinds["output"].effect_usd == 0
    # a saved report's change reads back as the same typed change (money from every digit)
    assert Change.from_json(json.loads(dumps(change.to_dict()), parse_float=Decimal)) == change
    models = {m.model: m for m in change.split.by_model}
    assert models["acme-big"].price_usd == Decimal("0.060") and models["acme-small"].price_usd == 0
    assert sum(m.mix_usd for m in change.split.by_model) == Decimal("0.104")
    # trend: cost of tasks with an outcome / accepted: September 0.071 / 4, October 0.416 / 16
    trend = {t.month: t.value for t in change.cost_per_accepted_outcome_trend}
    assert trend == {"2026-09": pytest.approx(0.071 / 4), "2026-10": pytest.approx(0.416 / 16)}
    assert trend["2026-10"] == pytest.approx(report.totals.cost_per_accepted_outcome_usd)


@pytest.mark.slow
def test_current_tables_left_alone(two_months):
    """decompose_change works on a cursor: the report's period tables still hold the current period after it."""
    con = two_months
    report = build_report(con, config(), Period(date(2026, 10, 1), date(2026, 11, 1)))
    decompose_change(con, config(), report)
    assert con.execute("SELECT count(*), sum(cost_usd) FROM period_calls").fetchone() == (20, Decimal("0.416"))
    assert con.execute("SELECT CAST(start_ts AS DATE) FROM report_period").fetchone()[0] == date(2026, 10, 1)


@pytest.mark.slow
def test_no_previous_data_is_empty(two_months):
    con = two_months
    report = build_report(con, config(), Period(date(2026, 9, 1), date(2026, 10, 1)))
    assert decompose_change(con, config(), report) is None


def test_each_effect_alone():
    """Only one thing changes at a time → only that effect is non-zero."""

    def usage(tasks, rows):
        u = PeriodUsage(tasks=tasks, calls=tasks)
        for (model, kind), (q, price) in rows.items():
            key = ("acme", model, "standard", kind)
            u.quantity[key] = q
            u.cost[key] = Decimal(q) * Decimal(price)
        return u

    base = usage(10, {("big", "input"): (1000, "0.00001"), ("small", "input"): (1000, "0.000001")})
    cases = {
        "volume_usd": usage(20, {("big", "input"): (2000, "0.00001"), ("small", "input"): (2000, "0.000001")}),
        "efficiency_usd": usage(10, {("big", "input"): (3000, "0.00001"), ("small", "input"): (3000, "0.000001")}),
        "mix_usd": usage(10, {("big", "input"): (1500, "0.00001"), ("small", "input"): (500, "0.000001")}),
        "price_usd": usage(10, {("big", "input"): (1000, "0.00002"), ("small", "input"): (1000, "0.000001")}),
    }
    for effect, current in cases.items():
        result = decompose(base, current)
        assert getattr(result, effect) == result.delta_usd != 0, effect
        assert all(
            getattr(result, other) == 0
            for other in ("volume_usd", "efficiency_usd", "mix_usd", "price_usd")
            if other != effect
        ), (effect, result)


def test_new_model_and_new_kind_are_mix_and_efficiency():
    prev = PeriodUsage(
        tasks=10,
        calls=10,
        quantity={("a", "old", "standard", "input"): 1000},
        cost={("a", "old", "standard", "input"): Decimal("0.01")},
    )
    cur = PeriodUsage(
        tasks=10,
        calls=10,
        quantity={("a", "new", "standard", "input"): 1000, ("a", "new", "standard", "cache_read"): 500},
        cost={
            ("a", "new", "standard", "input"): Decimal("0.002"),
            ("a", "new", "standard", "cache_read"): Decimal("0.0001"),
        },
    )
    result = decompose(prev, cur)
    assert result.price_usd == 0  # no previous price for the new model: no price effect is invented
    assert result.efficiency_usd == Decimal("0.0001")  # cache reads appeared, valued at their own price
    assert result.mix_usd == Decimal("0.002") - Decimal("0.01")
    assert result.volume_usd == 0


quantities = st.integers(min_value=0, max_value=10**9)
prices = st.decimals(min_value=0, max_value=Decimal("0.0001"), places=12)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 10**6),
    st.integers(0, 10**6),
    st.dictionaries(
        st.tuples(st.sampled_from(["m1", "m2", "m3"]), st.sampled_from(["input", "output", "call"])),
        st.tuples(quantities, prices),
        max_size=9,
    ),
    st.dictionaries(
        st.tuples(st.sampled_from(["m1", "m2", "m4"]), st.sampled_from(["input", "output", "cache_read"])),
        st.tuples(quantities, prices),
        max_size=9,
    ),
)
def test_effects_always_add_up_exactly(n0, n1, rows0, rows1):
    def usage(tasks, rows):
        u = PeriodUsage(tasks=tasks, calls=tasks)
        for (model, kind), (q, price) in rows.items():
            key = ("p", model, "standard", kind)
            u.quantity[key] = q
            u.cost[key] = (Decimal(q) * price).quantize(Decimal("1E-18"))
        return u

    result = decompose(usage(n0, rows0), usage(n1, rows1))
    total = result.volume_usd + result.efficiency_usd + result.mix_usd + result.price_usd
    assert total == result.delta_usd == result.current_cost_usd - result.previous_cost_usd
    cents = rounded_effects(result)
    assert sum(cents[k] for k in ("volume_usd", "efficiency_usd", "mix_usd", "price_usd")) == cents["delta_usd"]


@pytest.mark.slow
def test_at_billed_prices_the_change_splits_the_spend_the_report_shows(sample_month_db, tmp_path):
    """Before: `report --prices billed` split the list-price spend ($824.41 in October) beside a total of $797.01
    at billed prices: the change runs on its own cursor, which did not see the billed-prices view."""
    from costlens import db as database
    from costlens.config import load_config
    from costlens.ingest.runner import ingest_paths

    from conftest import SAMPLE_LOGS, copy_sample_db

    config = load_config(SAMPLE_LOGS / "costlens.toml")
    september = tmp_path / "marketing_copy_september.jsonl"  # the same calls a month earlier, their own ids
    text = (SAMPLE_LOGS / "marketing_copy_openai.jsonl").read_text(encoding="utf-8")
    september.write_text(
        text.replace("2026-10-", "2026-09-").replace('"id":"resp_', '"id":"resp_sep'), encoding="utf-8"
    )
    con = database.connect(copy_sample_db(sample_month_db, tmp_path))
    try:
        assert not ingest_paths(con, [str(september)], config).failed
        october = Period(date(2026, 10, 1), date(2026, 11, 1), "2026-10")
        listed = build_report(con, config, october)
        billed = build_report(con, config, october, prices="billed")
    finally:
        con.close()
    assert listed.change is not None and billed.change is not None
    assert listed.change.split.current_cost_usd == listed.totals.cost_usd == Decimal("824.41389225")
    assert billed.totals.cost_usd < listed.totals.cost_usd  # the bill paid less than list for gpt-4o
    assert billed.change.split.current_cost_usd == billed.totals.cost_usd
    trend = {t.month: t.value for t in billed.change.cost_per_accepted_outcome_trend}
    assert trend["2026-10"] == pytest.approx(billed.totals.cost_per_accepted_outcome_usd)

    # September holds October's marketing calls again: each period's figure is October's marketing spend at the
    # same prices (the calibrated rates apply to both periods)
    def marketing(report):
        return next(row.cost_usd for row in report.unit_economics if row.key == "marketing-copy")

    assert listed.change.split.previous_cost_usd == marketing(listed) == Decimal("0.6362035")
    assert billed.change.split.previous_cost_usd == marketing(billed) < marketing(listed)
