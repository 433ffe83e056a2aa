"""`costlens daily`: the period's spend day by day, each day split by model, and the period's total.

The figures are the report's (the same period_calls: prices, frozen months, --feature / --team), summed in
DuckDB (sql/metrics/daily.sql): calls, tokens by kind and the exact cost. For tables, each day's cost is also
given in cents so that the days add up to the total and a day's models to the day (largest remainder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens.model.report import Period
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config
    from costlens.engine import CallFilter

COUNTS = ("calls", "unpriced_calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


@dataclass
class DailyRow:
    """One model on one day, one day (model None), or the period (day and model None)."""

    day: date | None
    model: str | None
    provider: str | None
    calls: int
    unpriced_calls: int  # counted, not in cost_usd
    input_tokens: int  # uncached input
    output_tokens: int  # reasoning included
    cache_read_tokens: int
    cache_write_tokens: int  # 5-minute and 1-hour writes
    cost_usd: Decimal  # exact
    shown_cost_usd: Decimal = Decimal(0)  # in cents: models add up to their day, days to the period

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.model is not None:
            out.update(model=self.model, provider=self.provider or None)
        out.update({name: getattr(self, name) for name in COUNTS})
        out.update(total_tokens=self.tokens, cost_usd=self.cost_usd)
        return out


@dataclass
class Day:
    total: DailyRow
    models: list[DailyRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.total.day.isoformat() if self.total.day else None,
            **self.total.to_dict(),
            "models": [m.to_dict() for m in self.models],
        }


@dataclass
class Daily:
    period: Period
    days: list[Day]
    totals: DailyRow
    filters: dict[str, list[str]] = field(default_factory=dict)  # --feature / --team; {} = every call
    empty_period: str | None = None  # why there is nothing to show: where the calls are

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.to_dict(),
            "filters": self.filters,
            "days": [d.to_dict() for d in self.days],
            "totals": self.totals.to_dict(),
        }


def build_daily(
    con: duckdb.DuckDBPyConnection, config: Config, period: Period, call_filter: CallFilter | None = None
) -> Daily:
    from costlens.engine import CallFilter, set_call_filter
    from costlens.reconcile.build import materialise_period_calls
    from costlens.showback import allocate_cents

    call_filter = call_filter or CallFilter()
    set_call_filter(con, call_filter)
    materialise_period_calls(con, config, period)
    cursor = con.execute(load_sql("metrics/daily.sql"))
    names = [d[0] for d in cursor.description]
    days: list[Day] = []
    totals = DailyRow(None, None, None, 0, 0, 0, 0, 0, 0, Decimal(0))
    for values in cursor.fetchall():  # days × models rows, already summed by DuckDB
        row = dict(zip(names, values))
        counts: dict[str, Any] = {name: int(row[name]) for name in COUNTS}  # keyword arguments: mypy sees no names
        item = DailyRow(
            day=None if row["all_days"] else row["day"],
            model=None if row["all_models"] else row["model"],
            provider=None if row["all_models"] else row["provider"],
            **counts,
            cost_usd=Decimal(row["cost_usd"]),
        )
        if row["all_days"]:
            totals = item
        elif row["all_models"]:
            days.append(Day(item))
        else:
            days[-1].models.append(item)
    totals.shown_cost_usd = allocate_cents([totals.cost_usd])[0]
    for day, cents in zip(days, allocate_cents([d.total.cost_usd for d in days], totals.cost_usd)):
        day.total.shown_cost_usd = cents
        for model, model_cents in zip(day.models, allocate_cents([m.cost_usd for m in day.models], cents)):
            model.shown_cost_usd = model_cents
    result = Daily(period=period, days=days, totals=totals, filters=call_filter.to_dict())
    if not totals.calls:
        from costlens.engine import filter_hint
        from costlens.period import empty_period_hint

        result.empty_period = (call_filter and filter_hint(con, period, call_filter)) or empty_period_hint(con, period)
    return result
