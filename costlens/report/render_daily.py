"""The terminal view of `costlens daily`: one row per day, its models beneath it, the period's total last."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from costlens.report.daily import Daily, DailyRow

if TYPE_CHECKING:
    from rich.console import Console

UNPRICED_MARK = "†"


def cents(value: Decimal) -> str:
    """An amount already rounded to the cent, as $1,234.56 (from the Decimal, never a float)."""
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):.2f}".partition(".")
    return f"{sign}${int(whole):,}.{fraction}"


def _figures(row: DailyRow) -> list[str]:
    cost = cents(row.shown_cost_usd) + (UNPRICED_MARK if row.unpriced_calls else "")
    return [
        f"{row.calls:,}",
        f"{row.input_tokens:,}",
        f"{row.output_tokens:,}",
        f"{row.cache_write_tokens:,}",
        f"{row.cache_read_tokens:,}",
        f"{row.tokens:,}",
        cost,
    ]


def render_daily(daily: Daily, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    title = f"Daily spend, {daily.period.describe()}"
    if daily.filters:
        from costlens.engine import CallFilter

        title += f" · only {CallFilter.from_dict(daily.filters).describe()}"
    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False)
    table.add_column("Day", no_wrap=True)
    table.add_column("Model", overflow="fold")
    for name in ("Calls", "Input", "Output", "Cache write", "Cache read", "Total tokens", "Cost"):
        table.add_column(name, justify="right", no_wrap=True)
    for day in daily.days:
        models = day.models
        label = models[0].model if len(models) == 1 else f"{len(models)} models"
        assert day.total.day is not None  # only the period's total has no day
        table.add_row(
            Text(day.total.day.isoformat(), style="bold"),
            Text(label or "", style="bold"),
            *(Text(value, style="bold") for value in _figures(day.total)),
            end_section=len(models) == 1,
        )
        if len(models) > 1:
            for index, model in enumerate(models):
                table.add_row("", Text(f"└ {model.model}"), *_figures(model), end_section=index == len(models) - 1)
    table.add_row(
        Text("Total", style="bold"),
        Text(f"{len(daily.days)} days", style="bold"),
        *(Text(value, style="bold") for value in _figures(daily.totals)),
    )
    console.print(table)
    if daily.totals.unpriced_calls:
        console.print(
            Text(
                f"{UNPRICED_MARK} {daily.totals.unpriced_calls:,} calls have no price and are not in the "
                "cost — see `costlens prices`"
            )
        )
    if daily.days:
        console.print(
            Text(
                "Costs are rounded to the cent so that each day's models add up to the day and the days to "
                "the total; `--format json` gives the exact amounts.",
                style="dim",
            )
        )
