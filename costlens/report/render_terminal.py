"""The rich terminal view of a Report."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from costlens.report.model import Report, UnitEconomics

if TYPE_CHECKING:
    from rich.console import Console


def usd(value: Decimal | float | None, places: int = 2) -> str:
    if value is None:
        return "—"
    number = float(value)
    if 0 < abs(number) < 0.01 and places == 2:
        return f"${number:.4f}"
    return f"${number:,.{places}f}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def num(value: float | int | None, places: int = 0) -> str:
    return "—" if value is None else f"{value:,.{places}f}"


def _ue_table(title: str, key_title: str, rows: list[UnitEconomics]):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold", show_lines=False)
    for name, justify in [(key_title, "left"), ("Spend", "right"), ("Share", "right"), ("Calls", "right"),
                          ("Tasks", "right"), ("$/call", "right"), ("Calls/task", "right"), ("$/task", "right"),
                          ("p95 $/task", "right"), ("Accept", "right"), ("$/accepted", "right"),
                          ("Retry", "right"), ("Avg in tok", "right"), ("Premium $", "right"),
                          ("Cache hit", "right"), ("p95 ms", "right")]:
        table.add_column(name, justify=justify, no_wrap=name != key_title)
    for row in rows:
        table.add_row(
            Text(row.key + (f" ({row.unpriced_calls} unpriced)" if row.unpriced_calls else "")),
            usd(row.cost_usd), pct(row.spend_share), num(row.calls), num(row.tasks),
            usd(row.cost_per_call_usd, 4), num(row.calls_per_task, 1), usd(row.cost_per_task_usd, 4),
            usd(row.p95_cost_per_task_usd, 4), pct(row.acceptance_rate), usd(row.cost_per_accepted_outcome_usd, 4),
            pct(row.retry_rate), num(row.avg_input_tokens), pct(row.premium_spend_share), pct(row.cache_hit_rate),
            num(row.p95_latency_ms),
        )
    return table


def render_terminal(report: Report, console: "Console") -> None:
    from rich.panel import Panel

    t = report.totals
    summary = (
        f"[bold]{usd(t.cost_usd)}[/] across {t.calls:,} calls and {t.tasks:,} tasks   "
        f"priced coverage {('—' if t.priced_coverage_pct is None else f'{t.priced_coverage_pct:.1f}%')}"
        f" ({t.unpriced_calls:,} unpriced calls)\n"
        f"cost per call {usd(t.cost_per_call_usd, 4)} · per task {usd(t.cost_per_task_usd, 4)} · "
        f"quality-adjusted per task {usd(t.quality_adjusted_cost_per_task_usd, 4)} · "
        f"per accepted outcome {usd(t.cost_per_accepted_outcome_usd, 4)} "
        f"({t.accepted_tasks:,} accepted of {t.tasks_with_outcome:,} tasks with an outcome)\n"
        f"prices: {report.price_book.source} {report.price_book.version}"
    )
    last_day = report.period.end.toordinal() - 1
    from datetime import date

    console.print(Panel(summary, title=f"costlens · {report.period.start} → {date.fromordinal(last_day)}",
                        title_align="left"))
    console.print(_ue_table("Unit economics by feature", "Feature", report.unit_economics))
    console.print(_ue_table("By model", "Model", report.by_model))
    if len(report.by_team) > 1:
        console.print(_ue_table("By team", "Team", report.by_team))
    if report.warnings:
        console.print("[bold yellow]Warnings[/]")
        for note in report.warnings:
            console.print(f"  • {note}", markup=False, highlight=False)
