"""Tables that stay readable in a large organisation: the top rows by spend, the tail rolled into one
"N others" row carrying the tail's summed figures, so the table still adds up to its total. The full tables are
in the CSV export (and the HTML report's appendix); every renderer uses the same cut, so a table shows the same
rows in every output.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from costlens.model.report import Budget, UnitEconomics

TOP_ROWS = 15  # features named in a table; the rest are one "N others" row


def others_label(count: int) -> str:
    return f"{count:,} others"


def lead_rows(rows: list[UnitEconomics], limit: int = TOP_ROWS) -> tuple[list[UnitEconomics], UnitEconomics | None]:
    """(the first `limit` rows, one row for the rest) — or (all rows, None) when at most one row would be
    rolled up. Rows come ordered by spend. The others row sums money, counts and the shown cents and shares;
    of the ratios it keeps those the sums define exactly (cost per call, calls per task, cost per task)."""
    if len(rows) <= limit + 1:
        return rows, None
    head, tail = rows[:limit], rows[limit:]
    return head, others_row(tail)


def others_row(tail: list[UnitEconomics]) -> UnitEconomics:
    def total(name: str) -> Any:
        values = [getattr(r, name) for r in tail]
        if any(v is None for v in values):
            return None
        return sum(values, Decimal(0) if isinstance(values[0], Decimal) else 0)

    cost = total("cost_usd")
    calls, tasks, unpriced = total("calls"), total("tasks"), total("unpriced_calls")
    priced_calls = calls - unpriced
    template = tail[0]
    blank = {
        name: None
        for name, spec in UnitEconomics.__dataclass_fields__.items()
        if "None" in str(spec.type) and name not in ("provider",)
    }
    return replace(
        template,
        **{
            **blank,
            **dict(
                key=others_label(len(tail)),
                provider=None,
                calls=calls,
                tasks=tasks,
                unpriced_calls=unpriced,
                cost_usd=cost,
                accepted_tasks=total("accepted_tasks"),
                tasks_with_outcome=total("tasks_with_outcome"),
                rework_cost_usd=total("rework_cost_usd"),
                delay_cost_usd=total("delay_cost_usd"),
                input_tokens=total("input_tokens"),
                cache_read_tokens=total("cache_read_tokens"),
                cache_write_tokens=total("cache_write_tokens"),
                output_tokens=total("output_tokens"),
                tool_cost_usd=total("tool_cost_usd"),
                cost_per_call_usd=float(cost / priced_calls) if priced_calls else None,
                calls_per_task=calls / tasks if tasks else None,
                cost_per_task_usd=float(cost / tasks) if tasks else None,
                shown_cost_usd=total("shown_cost_usd"),
                shown_share_pct=total("shown_share_pct"),
            ),
        },
    )


BUDGET_ORDER: dict[str | None, int] = {
    "hard_limit": 0,
    "over": 1,
    "warning": 2,
}  # looked up by a row's maybe-missing status


def _flagged(row: Budget) -> bool:
    return row.status in BUDGET_ORDER or row.slo_status == "breached"


@dataclass
class BudgetOthers:
    """The budgets not named: how many, their summed figures and what their statuses are."""

    count: int
    monthly_budget_usd: Decimal | None
    shown_spend_usd: Decimal
    shown_forecast_usd: Decimal
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def feature(self) -> str:
        return others_label(self.count)

    def status_text(self) -> str:
        names = {"ok": "ok", "no_budget": "no budget", "warning": "warning", "over": "over", "hard_limit": "hard limit"}
        return ", ".join(f"{n} {names.get(s, s)}" for s, n in sorted(self.statuses.items(), key=lambda kv: -kv[1]))


def lead_budgets(rows: list[Budget], limit: int = TOP_ROWS) -> tuple[list[Budget], BudgetOthers | None]:
    """The budgets to name — every breached or warned one first (they matter whatever their spend), then the
    largest spenders, `limit` in all, kept in spend order — and the rest as one summary row."""
    if len(rows) <= limit + 1:
        return rows, None
    ranked = sorted(
        range(len(rows)), key=lambda i: (0 if _flagged(rows[i]) else 1, BUDGET_ORDER.get(rows[i].status, 3), i)
    )
    keep = set(ranked[:limit])
    head = [row for i, row in enumerate(rows) if i in keep]
    tail = [row for i, row in enumerate(rows) if i not in keep]
    budgets = [r.monthly_budget_usd for r in tail if r.monthly_budget_usd is not None]
    statuses: dict[str, int] = {}
    for row in tail:
        statuses[row.status or "unknown"] = statuses.get(row.status or "unknown", 0) + 1
    return head, BudgetOthers(
        count=len(tail),
        monthly_budget_usd=sum((Decimal(str(b)) for b in budgets), Decimal(0)) if budgets else None,
        shown_spend_usd=sum((r.shown_spend_usd for r in tail), Decimal(0)),
        shown_forecast_usd=sum((r.shown_forecast_usd for r in tail), Decimal(0)),
        statuses=statuses,
    )


def lead_groups(
    rows: list[dict[str, Any]], limit: int = TOP_ROWS
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Showback rows (owner, team, cost center: {key, cost_usd in cents, shown_share_pct, …}) cut like
    lead_rows: the first `limit`, then one row summing the rest's cents and shares."""
    if len(rows) <= limit + 1:
        return rows, None
    tail = rows[limit:]
    tenths = [r.get("shown_share_pct") for r in tail]
    known = [t for t in tenths if t is not None]
    return rows[:limit], {
        "key": others_label(len(tail)),
        "others": True,
        "cost_usd": sum((Decimal(r.get("cost_usd") or 0) for r in tail), Decimal(0)),
        "shown_share_pct": None if len(known) < len(tenths) else sum(known, Decimal(0)),
        "features": [],
        "feature_count": sum(len(r.get("features") or []) for r in tail),
    }
