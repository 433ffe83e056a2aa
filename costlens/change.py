"""Why spend changed: the change vs the previous period split into volume, efficiency, model mix and price.

The previous period is the one the diagnosis uses (costlens.levers.diagnose.previous_period): the previous
calendar month for a calendar month, else the same number of days just before.

Method (a chain of counterfactuals; README "How the change in spend is split")
------------------------------------------------------------------------------
Spend is Σ over models m (provider, model, variant) and cost kinds k (input, cache read, cache write, output,
per call) of quantity × average price:  C = Σ_mk T_mk · p_mk,  with p_mk = cost_mk / T_mk in that period (so it
includes long-context tiers and discounts as billed). N is the number of tasks (a call without a task id is its
own task). Subscript 0 = previous period, 1 = current period. Four counterfactual costs are built one change at a
time, in this order, and each effect is the step from one to the next:

    C0                                      previous spend
    A = C0 · N1 / N0                        previous usage per task and prices, current number of tasks
    B = Σ_k T1_k · P0_k                     current tokens per task, at the previous average price of each kind
                                            (P0_k = C0_k / T0_k over all models: the previous model mix)
    D = Σ_mk T1_mk · p0_mk                  current usage per model, at each model's previous price
    C1                                      current spend

    volume     = A − C0  = Δtasks × previous cost per task
    efficiency = B − A   = change in tokens (and calls) per task, valued at the previous mix and prices
    mix        = D − B   = the shift between models (and batch / flex variants) at previous prices
    price      = C1 − D  = price-book changes (list prices, overrides, discounts, tiers) at the current usage

The four add up to C1 − C0 exactly: the steps telescope, and A, B and D are computed in Decimal and rounded to
18 places (the precision of every cost) before the differences are taken, so nothing is left over. Interactions
(e.g. more tasks AND more tokens per task) are not a separate residual: they go to the later step of the chain
(efficiency at the current volume, mix at the current tokens, price at the current usage) — stated, not hidden.

Edge cases, each resolved so that no effect is invented:
- a model absent from the previous period has no previous price: its current price is used (no price effect;
  moving traffic to it is mix);
- a kind absent from the previous period (e.g. caching adopted this month) has no previous average price: the
  current mix at previous prices is used (its appearance is efficiency, not mix);
- unpriced calls carry no cost and are left out of quantities and costs alike (coverage lists them).

Also: the cost per accepted outcome by calendar month for up to six months ending with the period (the trend).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any

from costlens.db import one_row, scratch_sql
from costlens.model.change import (
    EFFECTS,
    Change,
    ChangeSplit,
    DailySplit,
    KindEffect,
    ModelEffect,
    PeriodBounds,
    TrendPoint,
)
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config
    from costlens.model.report import Period, Report

Q18 = Decimal("1E-18")
KINDS = ("input", "cache_read", "cache_write", "output", "call")
TREND_MONTHS = 6

METHOD = (
    "Chain of counterfactuals, one change at a time: volume = Δtasks × previous cost per task; efficiency = the "
    "change in tokens (and calls) per task at the previous model mix and prices; mix = the shift between models "
    "and variants at previous prices; price = price changes at the current usage. The four add up exactly to the "
    "change; interactions go to the later step of the chain."
)


@dataclass
class PeriodUsage:
    """Quantities and costs of one period per (provider, model, variant) and kind."""

    tasks: int = 0
    calls: int = 0
    quantity: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    cost: dict[tuple[str, str, str, str], Decimal] = field(default_factory=dict)

    @property
    def total_cost(self) -> Decimal:
        return sum(self.cost.values(), Decimal(0))

    def kind_quantity(self, kind: str) -> int:
        return sum(q for key, q in self.quantity.items() if key[3] == kind)

    def kind_cost(self, kind: str) -> Decimal:
        return sum((c for key, c in self.cost.items() if key[3] == kind), Decimal(0))


def decompose(
    previous: PeriodUsage, current: PeriodUsage, days_with_data: tuple[int, int] | None = None
) -> ChangeSplit:
    """The split of current − previous cost (module docstring). Pure: usable without a database.

    With `days_with_data` (previous, current), also `per_day`: the same split of the change in spend per day
    with data, for periods the logs cover only in part (10 days of September against 14 of October). Every
    counterfactual is divided by the current period's days and the previous spend by the previous period's,
    so volume becomes Δ(tasks per day) × previous cost per task and the four parts still add up exactly."""
    with localcontext() as ctx:
        ctx.prec = 60
        c0, c1 = previous.total_cost, current.total_cost
        n0, n1 = previous.tasks, current.tasks
        a = (c0 * n1 / n0).quantize(Q18) if n0 else Decimal(0)

        def price(usage: PeriodUsage, key) -> Decimal | None:
            q = usage.quantity.get(key, 0)
            return usage.cost.get(key, Decimal(0)) / q if q else None

        # D: current usage at each model's previous price (current cost where there is no previous price)
        d_parts: dict[tuple, Decimal] = {}
        for key, q1 in current.quantity.items():
            p0 = price(previous, key)
            d_parts[key] = q1 * p0 if p0 is not None else current.cost.get(key, Decimal(0))
        for key, cost in current.cost.items():  # cost without quantity (cannot happen for priced kinds; be safe)
            d_parts.setdefault(key, cost)
        d = sum(d_parts.values(), Decimal(0)).quantize(Q18)

        # B: current tokens per kind at the previous average price of the kind
        b = Decimal(0)
        avg_prev: dict[str, Decimal] = {}
        efficiency_by_kind = []
        for kind in KINDS:
            t0, t1 = previous.kind_quantity(kind), current.kind_quantity(kind)
            if t0:
                p0k = previous.kind_cost(kind) / t0
            elif t1:
                p0k = sum((v for k, v in d_parts.items() if k[3] == kind), Decimal(0)) / t1
            else:
                continue
            avg_prev[kind] = p0k
            b += t1 * p0k
            per0 = t0 / n0 if n0 else None
            per1 = t1 / n1 if n1 else None
            effect = (t1 - (Decimal(t0) * n1 / n0 if n0 else Decimal(0))) * p0k
            efficiency_by_kind.append(
                KindEffect(
                    kind=kind,
                    previous_per_task=None if per0 is None else float(per0),
                    current_per_task=None if per1 is None else float(per1),
                    effect_usd=effect.quantize(Q18),
                )
            )
        b = b.quantize(Q18)

        by_model: dict[tuple[str, str, str], dict[str, Decimal]] = {}
        for key in set(current.quantity) | set(current.cost) | set(previous.cost):
            model = key[:3]
            entry = by_model.setdefault(
                model,
                {
                    "mix_usd": Decimal(0),
                    "price_usd": Decimal(0),
                    "previous_cost_usd": Decimal(0),
                    "current_cost_usd": Decimal(0),
                },
            )
            entry["previous_cost_usd"] += previous.cost.get(key, Decimal(0))
            entry["current_cost_usd"] += current.cost.get(key, Decimal(0))
            if key in d_parts:
                q1 = current.quantity.get(key, 0)
                entry["mix_usd"] += d_parts[key] - q1 * avg_prev.get(key[3], Decimal(0))
                entry["price_usd"] += current.cost.get(key, Decimal(0)) - d_parts[key]

        model_rows = [
            ModelEffect(m[0], m[1], m[2], **{k: v.quantize(Q18) for k, v in values.items()})
            for m, values in by_model.items()
        ]
        result = ChangeSplit(
            previous_cost_usd=c0,
            current_cost_usd=c1,
            delta_usd=c1 - c0,
            delta_pct=float((c1 - c0) / c0 * 100) if c0 else None,
            volume_usd=a - c0,
            efficiency_usd=b - a,
            mix_usd=d - b,
            price_usd=c1 - d,
            previous_tasks=n0,
            current_tasks=n1,
            previous_calls=previous.calls,
            current_calls=current.calls,
            previous_cost_per_task_usd=float(c0 / n0) if n0 else None,
            current_cost_per_task_usd=float(c1 / n1) if n1 else None,
            efficiency_by_kind=efficiency_by_kind,
            by_model=sorted(model_rows, key=lambda r: (-abs(r.mix_usd + r.price_usd), r.provider, r.model, r.variant)),
            method=METHOD,
        )
        if days_with_data is not None and all(days_with_data):
            d0, d1 = days_with_data
            prev_day, cur_day = (c0 / d0).quantize(Q18), (c1 / d1).quantize(Q18)
            a_day, b_day, d_day = ((x / d1).quantize(Q18) for x in (a, b, d))
            day = DailySplit(
                previous_days_with_data=d0,
                current_days_with_data=d1,
                previous_cost_usd=prev_day,
                current_cost_usd=cur_day,
                delta_usd=cur_day - prev_day,
                delta_pct=float((cur_day - prev_day) / prev_day * 100) if prev_day else None,
                volume_usd=a_day - prev_day,
                efficiency_usd=b_day - a_day,
                mix_usd=d_day - b_day,
                price_usd=cur_day - d_day,
                previous_tasks_per_day=n0 / d0,
                current_tasks_per_day=n1 / d1,
            )
            assert sum(day.effects().values(), Decimal(0)) == day.delta_usd
            result.per_day = day
    assert sum(result.effects().values(), Decimal(0)) == result.delta_usd
    return result


# ------------------------------------------------------------------------------------------ from the database


_CHANGE_COLUMNS = (
    "task_key",
    "feature_key",
    "ts",
    "month",
    "priced",
    "provider",
    "model",
    "variant",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "input_cost_usd",
    "cache_read_cost_usd",
    "cache_write_cost_usd",
    "output_cost_usd",
    "cost_usd",
)


def _materialise(
    cur: duckdb.DuckDBPyConnection,
    config: Config,
    period: Period,
    cost_mode: str,
    steps: tuple[str, ...],
    columns: tuple[str, ...] | None = None,
) -> None:
    """The period tables on a SEPARATE connection (cursor): temp tables are per connection, so the report's
    current-period tables on the main connection are left untouched."""
    from costlens.engine import config_tables

    cur.execute("SET TimeZone = 'UTC'")
    config_tables(cur, config, period)
    cur.execute("CREATE OR REPLACE TEMP TABLE report_options AS SELECT CAST(? AS VARCHAR) AS cost_mode", [cost_mode])
    cur.execute(load_sql("intermediate/model_tiers.sql"))
    cur.execute(load_sql("intermediate/period_call_rows.sql"))
    # this cursor built a period_calls before: the month's (costlens init, a view of its stored rows) or a
    # window's (the table below)
    if one_row(cur.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'period_calls'"))[0]:
        cur.execute("DROP VIEW temp.period_calls")
    if one_row(cur.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'period_calls'"))[0]:
        cur.execute("DROP TABLE temp.period_calls")
    if columns:
        # Only the columns the caller reads: every call of the trend window (six months) in full width
        # beside the report's own tables would not fit the memory limit at scale.
        cur.execute(f"CREATE TEMP TABLE period_calls AS SELECT {', '.join(columns)} FROM period_call_rows")
    else:
        cur.execute(scratch_sql(cur, "intermediate/period_calls.sql"))
    for step in steps:
        cur.execute(scratch_sql(cur, step))


def period_usage(
    cur: duckdb.DuckDBPyConnection, config: Config, period: Period, cost_mode: str = "computed"
) -> PeriodUsage:
    _materialise(cur, config, period, cost_mode, (), _CHANGE_COLUMNS)
    usage = PeriodUsage()
    usage.tasks, usage.calls = one_row(cur.execute("SELECT count(DISTINCT task_key), count(*) FROM period_calls"))
    rows = cur.execute(load_sql("metrics/change_usage.sql")).fetchall()
    for _feature, provider, model, variant, kind, quantity, cost in rows:  # the period's split is over all features
        key = (provider, model, variant, kind)
        usage.quantity[key] = usage.quantity.get(key, 0) + int(quantity)
        usage.cost[key] = usage.cost.get(key, Decimal(0)) + Decimal(cost)
    return usage


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def cost_per_accepted_outcome_trend(
    cur: duckdb.DuckDBPyConnection,
    config: Config,
    period: Period,
    cost_mode: str = "computed",
    months: int = TREND_MONTHS,
) -> list[TrendPoint]:
    """The cost per accepted outcome (with accepted tasks, cost, tasks and calls) of the calendar months
    (≤ `months`) ending with the period's last month that have calls; value None where no task was accepted."""
    from costlens.model.report import Period

    last_month = _month_start(period.end - timedelta(days=1))
    window = Period(_months_back(last_month, months - 1), period.end)
    _materialise(cur, config, window, cost_mode, ("metrics/task_costs.sql",), _CHANGE_COLUMNS)
    out = []
    for month, calls, tasks, cost, accepted, outcome_cost in cur.execute(
        load_sql("metrics/change_trend.sql")
    ).fetchall():
        accepted = int(accepted or 0)
        out.append(
            TrendPoint(
                month=month,
                value=float(Decimal(outcome_cost) / accepted) if accepted else None,
                accepted_tasks=accepted,
                cost_usd=Decimal(cost),
                tasks=int(tasks),
                calls=int(calls),
            )
        )
    return out


def decompose_change(con: duckdb.DuckDBPyConnection, config: Config, report: Report) -> Change | None:
    """report.change: the split vs the previous period and the cost-per-accepted-outcome trend; None when the
    previous period has no calls. Works on a cursor, so the report's current-period tables stay as they are.
    When the logs cover only part of either period, `basis` is "per_day": the report compares spend per day
    with data (`per_day`) and `notes` say which period is partial."""
    from costlens.levers.diagnose import previous_period
    from costlens.period import data_span, days_with_data, partial_note

    prev = previous_period(report.period)
    has_previous = one_row(
        con.execute(
            "SELECT count(*) FROM calls WHERE ts >= ? AND ts < ?", [prev.start.isoformat(), prev.end.isoformat()]
        )
    )[0]
    if not has_previous:
        return None
    spans = (data_span(con, prev), data_span(con, report.period))
    days = (days_with_data(spans[0]), days_with_data(spans[1]))
    notes = [note for note in (partial_note(prev, spans[0]), partial_note(report.period, spans[1])) if note]
    cur = con.cursor()
    try:
        from costlens.engine import copy_call_filter
        from costlens.reconcile.calibrate import copy_price_basis

        copy_call_filter(con, cur)  # the report's --feature / --team, on the cursor too
        copy_price_basis(con, cur)  # and its prices: at billed prices, both periods are costed at them
        previous = period_usage(cur, config, prev, report.cost_mode)
        current = period_usage(cur, config, report.period, report.cost_mode)
        split = decompose(previous, current, days if notes else None)
        trend = cost_per_accepted_outcome_trend(cur, config, report.period, report.cost_mode)
    finally:
        cur.close()
    return Change(
        previous_period=PeriodBounds(prev.start.isoformat(), prev.end.isoformat()),
        split=split,
        cost_per_accepted_outcome_trend=trend,
        previous_days=prev.days,
        previous_days_with_data=days[0],
        current_days=report.period.days,
        current_days_with_data=days[1],
        basis="per_day" if split.per_day is not None else "total",
        notes=notes,
    )


def rounded_effects(split: ChangeSplit | DailySplit) -> dict[str, Decimal]:
    """The four effects and the delta to the cent, for display: the delta is the shown current spend minus the
    shown previous spend (so "$0.07 → $0.42 (+$0.35)" reads right), and the effects add up exactly to it
    (largest remainder)."""
    from costlens.money import round_cents

    return effects_in_cents(split.effects(), round_cents(split.current_cost_usd) - round_cents(split.previous_cost_usd))


def effects_in_cents(effects: dict[str, Decimal], delta: Decimal) -> dict[str, Decimal]:
    """The four effects in cents adding up exactly to `delta` (cents), and the delta itself."""
    from costlens.money import allocate_cents

    out = dict(zip(EFFECTS, allocate_cents([effects[name] for name in EFFECTS], delta)))
    out["delta_usd"] = delta
    return out


def change_view(change: Change | None) -> dict[str, Any] | None:
    """What every renderer shows of report.change: the comparison lines, the unit ("" or " per day") and the
    four parts and the total as signed text in cents that add up; None when there is no earlier period."""
    from costlens.money import signed_usd, unit_usd, usd

    if change is None:
        return None
    start, end = change.previous_period.start, change.previous_period.end
    try:
        label = f"{start} → {(date.fromisoformat(end) - timedelta(days=1)).isoformat()}"
    except ValueError:  # an unusual end: show it as given
        label = f"{start} → {end} (end exclusive)"
    split = change.split
    lines = list(change.notes)
    block = change.shown_split
    cents = rounded_effects(block)
    if isinstance(block, DailySplit):
        unit = " per day"
        change_pct = "" if block.delta_pct is None else f", {block.delta_pct:+.1f}%"
        lines.append(
            f"spend per day with data: {usd(block.previous_cost_usd)}/day over "
            f"{block.previous_days_with_data} days → {usd(block.current_cost_usd)}/day over "
            f"{block.current_days_with_data} days ({signed_usd(cents['delta_usd'])}/day{change_pct}); "
            f"in total {usd(split.previous_cost_usd)} → {usd(split.current_cost_usd)}"
        )
        lines.append(
            f"tasks per day {block.previous_tasks_per_day:,.1f} → {block.current_tasks_per_day:,.1f}; "
            f"cost per task {unit_usd(split.previous_cost_per_task_usd)} → "
            f"{unit_usd(split.current_cost_per_task_usd)}"
        )
    else:
        unit = ""
        change_pct = "" if split.delta_pct is None else f", {split.delta_pct:+.1f}%"
        lines.append(
            f"spend {usd(split.previous_cost_usd)} → {usd(split.current_cost_usd)} "
            f"({signed_usd(cents['delta_usd'])}{change_pct})"
        )
        lines.append(
            f"tasks {split.previous_tasks:,} → {split.current_tasks:,}; cost per task "
            f"{unit_usd(split.previous_cost_per_task_usd)} → "
            f"{unit_usd(split.current_cost_per_task_usd)}"
        )
    return {
        "previous_label": label,
        "lines": lines,
        "unit": unit,
        "basis": "per_day" if isinstance(block, DailySplit) else "total",
        "parts": {key: signed_usd(cents[key]) for key in EFFECTS},
        "cents": cents,
        "delta": signed_usd(cents["delta_usd"]),
    }
