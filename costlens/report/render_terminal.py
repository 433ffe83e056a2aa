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


_COST_COLUMNS = [
    ("Spend", lambda r: usd(r.cost_usd if r.shown_cost_usd is None else r.shown_cost_usd)), ("Share", lambda r: pct(r.spend_share)), ("Calls", lambda r: num(r.calls)),
    ("Tasks", lambda r: num(r.tasks)), ("$/call", lambda r: usd(r.cost_per_call_usd, 4)),
    ("Calls/task", lambda r: num(r.calls_per_task, 1)), ("$/task", lambda r: usd(r.cost_per_task_usd, 4)),
    ("p95 $/task", lambda r: usd(r.p95_cost_per_task_usd, 4)),
]
_VALUE_COLUMNS = [
    ("Accepted", lambda r: pct(r.acceptance_rate)), ("QA $/task", lambda r: usd(r.quality_adjusted_cost_per_task_usd, 4)),
    ("$/accepted", lambda r: usd(r.cost_per_accepted_outcome_usd, 4)), ("Retry", lambda r: pct(r.retry_rate)),
    ("Avg input", lambda r: num(r.avg_input_tokens)), ("Premium $", lambda r: pct(r.premium_spend_share)),
    ("Cache hit", lambda r: pct(r.cache_hit_rate)), ("Review", lambda r: pct(r.human_review_rate)),
    ("p95 ms", lambda r: num(r.p95_latency_ms)),
]


def _ue_tables(title: str, key_title: str, rows: list[UnitEconomics], columns, width: int):
    """One table per slice of columns that fits the console, so the key column never collapses."""
    from rich.table import Table
    from rich.text import Text

    key_width = min(32, max([len(key_title)] + [len(r.key) for r in rows])) + 2
    per_table = max(3, (width - key_width) // 12)
    slices = [columns[i:i + per_table] for i in range(0, len(columns), per_table)]
    for index, chunk in enumerate(slices):
        caption = title if len(slices) == 1 else f"{title} ({index + 1}/{len(slices)})"
        table = Table(title=caption, title_justify="left", header_style="bold", pad_edge=False)
        table.add_column(key_title, justify="left", overflow="fold", min_width=key_width - 2)
        for name, _ in chunk:
            table.add_column(name, justify="right", no_wrap=True)
        for row in rows:
            label = row.key + (f" ({row.unpriced_calls:,} unpriced)" if row.unpriced_calls else "")
            table.add_row(Text(label), *(render(row) for _, render in chunk))
        yield table


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
        + (" · re-costed at billed rates where a bill covers the model (--prices billed)"
           if getattr(report.reconciliation, "prices", "list") == "billed" else "")
    )
    if report.filters:
        from rich.markup import escape

        from costlens.report.build import CallFilter

        summary += (f"\n[bold]only the calls of {escape(CallFilter.from_dict(report.filters).describe())}[/] "
                    "(--feature / --team): not reconciled with the bill")
    last_day = report.period.end.toordinal() - 1
    from datetime import date

    console.print(Panel(summary, title=f"costlens · {report.period.start} → {date.fromordinal(last_day)}",
                        title_align="left"))
    if report.totals.calls == 0:
        for note in report.warnings:
            console.print(f"  • {note}", markup=False, highlight=False)
        return
    sections = [("Cost by feature", "Feature", report.unit_economics, _COST_COLUMNS),
                ("Value and efficiency by feature", "Feature", report.unit_economics, _VALUE_COLUMNS),
                ("Cost by model", "Model", report.by_model, _COST_COLUMNS[:6])]
    if len(report.by_team) > 1:
        sections.append(("Cost by team", "Team", report.by_team, _COST_COLUMNS[:6]))
    for title, key_title, rows, columns in sections:
        for table in _ue_tables(title, key_title, rows, columns, console.width):
            console.print(table)
    _reported_vs_computed(report, console)
    render_diagnosis(report, console)
    render_leaks(report, console)
    render_levers(report, console)
    render_reconciliation(report, console)
    if report.warnings:
        console.print("[bold yellow]Warnings[/]")
        for note in report.warnings:
            console.print(f"  • {note}", markup=False, highlight=False)


def _reported_vs_computed(report: Report, console: "Console") -> None:
    """Where a producer reported a cost, show it beside ours: the difference is often a stale price table."""
    from rich.table import Table
    from rich.text import Text

    if not report.reported_vs_computed:
        return
    table = Table(title=f"Reported vs computed cost (report uses: {report.cost_mode})", title_justify="left",
                  header_style="bold", pad_edge=False)
    for name in ("Producer", "Model", "Calls", "Reported", "Computed", "Difference", "Diff %"):
        table.add_column(name, justify="left" if name in ("Producer", "Model") else "right")
    for c in report.reported_vs_computed:
        share = float(c.difference_usd / c.computed_cost_usd) if c.computed_cost_usd and c.difference_usd is not None else None
        table.add_row(Text(c.producer), Text(c.model), num(c.calls), usd(c.reported_cost_usd, 4),
                      usd(c.computed_cost_usd, 4), usd(c.difference_usd, 4), pct(share))
    console.print(table)


def render_diagnosis(report: Report, console: "Console") -> None:
    from rich.text import Text

    statement = report.diagnosis.get("statement") if report.diagnosis else None
    if statement:
        console.print("[bold]Diagnosis[/]")
        console.print(Text("  " + statement))


def render_levers(report: Report, console: "Console") -> None:
    """Ranked levers: savings per effort, applied in sequence so they never overlap."""
    from rich.table import Table
    from rich.text import Text

    if not report.levers:
        console.print("[bold]Levers[/]: nothing worth doing found in this period")
        return
    summary = report.lever_summary
    title = (f"Levers, ranked by savings per effort — together {usd(summary.get('total_monthly_savings_usd'))}/month "
             f"({usd(summary.get('total_savings_low_usd'))}–{usd(summary.get('total_savings_high_usd'))}) of "
             f"{usd(summary.get('monthly_spend_usd'))}/month, without double counting")
    if console.width < 110:  # narrow terminals and CI logs: a list reads better than a squeezed table
        console.print(Text(title, style="bold"))
        for lever in report.levers:
            console.print(Text(
                f"{lever['rank']}. {lever['lever']} — {usd(lever['est_monthly_savings_usd'])}/month "
                f"({usd(lever['savings_low_usd'], 0)}–{usd(lever['savings_high_usd'], 0)}), effort "
                f"{lever['effort']}, quality risk {lever['quality_risk']}"))
            console.print(Text(f"   first action: {lever.get('first_action') or ''}"))
        return
    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False, show_lines=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Lever", no_wrap=True)
    table.add_column("$/month", justify="right", no_wrap=True)
    table.add_column("Range", justify="right", no_wrap=True)
    table.add_column("Effort", no_wrap=True)
    table.add_column("Risk", no_wrap=True)
    table.add_column("First action", overflow="fold", ratio=1)
    for lever in report.levers:
        table.add_row(str(lever["rank"]), lever["lever"], usd(lever["est_monthly_savings_usd"]),
                      f"{usd(lever['savings_low_usd'], 0)}–{usd(lever['savings_high_usd'], 0)}", lever["effort"],
                      lever["quality_risk"], Text(lever.get("first_action") or ""))
    console.print(table)


def render_leaks(report: Report, console: "Console", *, min_severity: str = "low") -> None:
    from rich.table import Table
    from rich.text import Text

    order = {"low": 0, "medium": 1, "high": 2}
    leaks = [f for f in report.leaks if order.get(f["severity"], 0) >= order[min_severity]]
    if not leaks:
        console.print("[bold]Leaks[/]: none found")
        return
    if console.width < 110:
        console.print(Text("Leaks (waste observed in the period)", style="bold"))
        for finding in leaks:
            console.print(Text(f"• {finding['kind']} in {finding['feature']} ({finding['severity']}): "
                               f"{usd(finding['wasted_usd'])} wasted, ≈ {usd(finding['est_monthly_savings_usd'])}/month"))
            console.print(Text(f"  {finding.get('explanation') or ''}"))
        return
    table = Table(title="Leaks (waste observed in the period)", title_justify="left", header_style="bold",
                  pad_edge=False, show_lines=True)
    for name, justify in (("Kind", "left"), ("Feature", "left"), ("Sev.", "left"), ("Wasted", "right"),
                          ("$/month", "right"), ("What we saw", "left")):
        table.add_column(name, justify=justify, no_wrap=name not in ("What we saw", "Feature"),
                         overflow="fold", ratio=1 if name == "What we saw" else None)
    for finding in leaks:
        table.add_row(finding["kind"], Text(finding["feature"] or ""), finding["severity"],
                      usd(finding["wasted_usd"]), usd(finding["est_monthly_savings_usd"]),
                      Text(finding.get("explanation") or ""))
    console.print(table)


def render_reconciliation(report: Report, console: "Console") -> None:
    """Verdict, causes and the list → billed bridge, when a bill was ingested for the period."""
    recon = report.reconciliation
    if not hasattr(recon, "verdict") or not recon:
        return
    from costlens.reconcile.render import render_terminal as render_recon

    render_recon(recon, console, detail=False)
