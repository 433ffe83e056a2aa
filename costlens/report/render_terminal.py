"""The rich terminal view of a Report.

Below COMPACT_BELOW columns (a laptop terminal, a CI log) the tables keep their key columns only — spend,
share, calls, cost per task and per accepted outcome — and say that `--wide` shows the rest; `--wide` prints
every column whatever the width (lines then run past the terminal: pipe into `less -S`). A table that is
wider than the terminal is shown compact too, so no table is ever split or squeezed. Money follows
costlens.money: amounts in the report's shown cents (tables add up to their total rows), unit costs to four
places below $1. Colour marks severity and budget status only; rich leaves it out when NO_COLOR is set or
the output is not a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens import money
from costlens.model.levers import Lever, LeverSummary
from costlens.model.report import CustomerEconomics, FeatureCost, Report, UnitEconomics
from costlens.money import MISSING, pct, pct_shown, unit_usd, usd_range
from costlens.report.lead import TOP_ROWS, lead_budgets, lead_rows

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod, RenderableType

COMPACT_BELOW = 120  # columns
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}
STATUS_STYLE = {
    "hard_limit": "bold red",
    "over": "bold red",
    "warning": "yellow",
    "ok": "green",
    "no_budget": "dim",
    "breached": "bold red",
    "met": "green",
    "no_slo": "dim",
    "unknown": "dim",
}
STATUS_TEXT = {
    "hard_limit": "hard limit",
    "over": "over budget",
    "warning": "warning",
    "ok": "ok",
    "no_budget": "no budget",
    "breached": "breached",
    "no_slo": "no SLO",
    "unknown": "unknown",
}
FULL_TABLES_HINT = "full tables: --format csv --out DIR, or the HTML report's appendix"


def usd(value: Any, places: int = 2) -> str:
    """costlens.money.usd for an amount; `places=4` (how callers of this module asked for a unit cost) gives
    costlens.money.unit_usd. Other views import the formatters from here."""
    return money.usd(value) if places == 2 else money.unit_usd(value)


def num(value: float | int | None, places: int = 0) -> str:
    return MISSING if value is None else f"{value:,.{places}f}"


def spend(row: UnitEconomics) -> str:
    """A row's spend as every table shows it: its cents from report.build (usd of the exact value otherwise)."""
    return usd(row.cost_usd if row.shown_cost_usd is None else row.shown_cost_usd)


def share(row: UnitEconomics) -> str:
    return pct_shown(row.shown_share_pct) if row.shown_share_pct is not None else pct(row.spend_share)


_COST_COLUMNS = [
    ("Spend", spend),
    ("Share", share),
    ("Calls", lambda r: num(r.calls)),
    ("Tasks", lambda r: num(r.tasks)),
    ("$/call", lambda r: unit_usd(r.cost_per_call_usd)),
    ("Calls/task", lambda r: num(r.calls_per_task, 1)),
    ("$/task", lambda r: unit_usd(r.cost_per_task_usd)),
    ("p95 $/task", lambda r: unit_usd(r.p95_cost_per_task_usd)),
]
_VALUE_COLUMNS = [
    ("Accepted", lambda r: pct(r.acceptance_rate)),
    ("QA $/task", lambda r: unit_usd(r.quality_adjusted_cost_per_task_usd)),
    ("$/accepted", lambda r: unit_usd(r.cost_per_accepted_outcome_usd)),
    ("Retry", lambda r: pct(r.retry_rate)),
    ("Avg input", lambda r: num(r.avg_input_tokens)),
    ("Premium $", lambda r: pct(r.premium_spend_share)),
    ("Cache hit", lambda r: pct(r.cache_hit_rate)),
    ("Review", lambda r: pct(r.human_review_rate)),
    ("p95 ms", lambda r: num(r.p95_latency_ms)),
]
_COMPACT_FEATURE_COLUMNS = [_COST_COLUMNS[0], _COST_COLUMNS[1], _COST_COLUMNS[2], _COST_COLUMNS[6], _VALUE_COLUMNS[2]]
_COMPACT_GROUP_COLUMNS = [_COST_COLUMNS[0], _COST_COLUMNS[1], _COST_COLUMNS[2], _COST_COLUMNS[4]]


class View:
    """How this rendering lays out: the console, compact or full, and whether `--wide` was asked for."""

    def __init__(self, console: Console, wide: bool):
        self.console = console
        self.wide = wide
        self.compact = not wide and console.width < COMPACT_BELOW
        self.hints: set[str] = set()

    def fits(self, table: Any) -> bool:
        from rich.measure import Measurement

        return Measurement.get(self.console, self.console.options, table).maximum <= self.console.width

    def print_table(self, table: Any) -> None:
        """A table at its natural width under --wide (wider than the terminal if it must be)."""
        console = self.console
        if not self.wide:
            console.print(table)
            return
        from rich.measure import Measurement

        needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
        if needed <= console.width:
            console.print(table)
            return
        saved = console.width
        console.width = needed
        try:
            console.print(table)
        finally:
            console.width = saved


def _heading(console: Console, text: str) -> None:
    from rich.text import Text

    console.print(Text(text, style="bold"))


def bullets(console: Console, items: list[Any], *, marker: str = "•", indent: int = 2) -> None:
    """A list whose wrapped lines stay indented under their bullet (a two-column grid, not a prefixed string)."""
    from rich.table import Table
    from rich.text import Text

    if not items:
        return
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, justify="right", width=max(len(marker), 2) + indent - 1)
    grid.add_column(ratio=1, overflow="fold")
    for index, item in enumerate(items, start=1):
        mark = f"{index}." if marker == "1." else marker
        grid.add_row(mark, item if isinstance(item, Text) else Text(str(item)))
    console.print(grid)


def _ue_table(
    title: str,
    key_title: str,
    rows: list[UnitEconomics],
    columns,
    total: UnitEconomics | None,
    total_label: str = "Total",
):
    from rich.table import Table
    from rich.text import Text

    key_width = min(32, max([len(key_title), len(total_label)] + [len(r.key) for r in rows]))
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        pad_edge=False,
        show_footer=total is not None,
        footer_style="bold",
    )
    table.add_column(
        key_title,
        justify="left",
        overflow="fold",
        min_width=min(key_width, 18),
        footer=total_label if total is not None else "",
    )
    for name, render in columns:
        table.add_column(name, justify="right", no_wrap=True, footer=render(total) if total is not None else "")
    for row in rows:
        label = row.key + (f" ({row.unpriced_calls:,} unpriced)" if row.unpriced_calls else "")
        table.add_row(Text(label), *(render(row) for _, render in columns))
    return table


def _ue_section(
    view: View,
    title: str,
    key_title: str,
    rows: list[UnitEconomics],
    full_columns,
    compact_columns,
    total: UnitEconomics | None,
    *,
    lead: bool = False,
) -> None:
    """One worksheet table: full, or compact when the terminal is narrow or the full table would not fit."""
    shown, others = lead_rows(rows) if lead else (rows, None)
    body = shown + ([others] if others is not None else [])
    table = _ue_table(title, key_title, body, full_columns, total)
    if view.compact or (not view.wide and not view.fits(table)):
        if compact_columns is None:
            view.hints.add("wide")
            return
        table = _ue_table(title, key_title, body, compact_columns, total)
        view.hints.add("wide")
    view.print_table(table)
    if others is not None:
        view.hints.add("full")


def render_terminal(report: Report, console: Console, *, wide: bool = False) -> None:
    from rich.panel import Panel
    from rich.text import Text

    view = View(console, wide)
    t = report.totals
    coverage = MISSING if t.priced_coverage_pct is None else f"{t.priced_coverage_pct:.1f}%"
    summary = Text.assemble(
        (usd(t.cost_usd), "bold"),
        f" across {t.calls:,} calls and {t.tasks:,} tasks · priced coverage {coverage} "
        f"({t.unpriced_calls:,} unpriced calls)\n"
        f"cost per call {unit_usd(t.cost_per_call_usd)} · per task {unit_usd(t.cost_per_task_usd)} · "
        f"quality-adjusted per task {unit_usd(t.quality_adjusted_cost_per_task_usd)} · "
        f"per accepted outcome {unit_usd(t.cost_per_accepted_outcome_usd)} "
        f"({t.accepted_tasks:,} accepted of {t.tasks_with_outcome:,} tasks with an outcome)\n"
        f"prices: {report.price_book.source} {report.price_book.version}"
        + (
            " · re-costed at billed rates where a bill covers the model (--prices billed)"
            if getattr(report.reconciliation, "prices", "list") == "billed"
            else ""
        ),
    )
    if report.filters:
        from costlens.engine import CallFilter

        summary.append(f"\nonly the calls of {CallFilter.from_dict(report.filters).describe()}", style="bold")
        summary.append(" (--feature / --team): not reconciled with the bill")
    note = period_note(report)
    if note:
        summary.append(f"\n{note}", style="yellow")
    console.print(
        Panel(summary, title=f"costlens · {report.period.start} → {report.period.last_day}", title_align="left")
    )
    if report.totals.calls == 0:
        bullets(console, [Text(n) for n in report.warnings])
        return
    features, total = report.unit_economics, report.total_row
    _ue_section(view, "Cost by feature", "Feature", features, _COST_COLUMNS, _COMPACT_FEATURE_COLUMNS, total, lead=True)
    _ue_section(view, "Value and efficiency by feature", "Feature", features, _VALUE_COLUMNS, None, total, lead=True)
    _ue_section(
        view, "Cost by model", "Model", report.by_model, _COST_COLUMNS[:6], _COMPACT_GROUP_COLUMNS, total, lead=True
    )
    if len(report.by_team) > 1:
        _ue_section(
            view,
            "Cost by team (as logged)",
            "Team",
            report.by_team,
            _COST_COLUMNS[:6],
            _COMPACT_GROUP_COLUMNS,
            total,
            lead=True,
        )
    render_budgets(report, view)
    render_customers(report, view)
    render_feature_costs(report, view)
    render_self_hosted(report, view)
    render_change(report, view)
    _reported_vs_computed(report, console)
    render_diagnosis(report, console)
    render_leaks(report, console, wide=wide)
    render_levers(report, console, wide=wide)
    render_reconciliation(report, console)
    if report.warnings:
        console.print(Text("Warnings", style="bold yellow"))
        bullets(console, [Text(n) for n in report.warnings])
    notes = []
    if "wide" in view.hints:
        notes.append("compact view: `costlens report --wide` shows every column")
    if "full" in view.hints:
        notes.append(f"the tables name the first {TOP_ROWS} by spend and sum the rest in one row; {FULL_TABLES_HINT}")
    for line in notes:
        console.print(Text(line, style="dim"))


def period_note(report: Report) -> str | None:
    """`2026-10 has data for 14 of 31 days (…)` when the data covers only part of the period."""
    from costlens.period import coverage_note

    return coverage_note(report.period, report.coverage)


# ---------------------------------------------------------------------------------------------- budgets


def _status(status: str | None) -> Any:
    from rich.text import Text

    return Text(STATUS_TEXT.get(status or "", status or MISSING), style=STATUS_STYLE.get(status or "", ""))


def render_budgets(report: Report, view: View) -> None:
    from rich.table import Table
    from rich.text import Text

    console = view.console
    budgets = report.budgets
    if not any(b.status != "no_budget" or b.slo_status != "no_slo" for b in budgets):
        console.print(
            Text.assemble(
                ("Budgets", "bold"),
                ": none set — `costlens init` writes a starter costlens.toml with suggested budgets",
            )
        )
        return
    rows, others = lead_budgets(budgets)
    full = not view.compact
    table = Table(
        title="Budgets" + (" and month-end forecast" if full else ""),
        title_justify="left",
        header_style="bold",
        pad_edge=False,
        show_footer=True,
        footer_style="bold",
    )
    columns: list[tuple[str, JustifyMethod]] = [
        ("Feature", "left"),
        ("Budget", "right"),
        ("Spend", "right"),
        ("Used", "right"),
    ]
    if full:
        columns += [("Forecast", "right"), ("Hard limit", "right")]
    columns += [("Status", "left")]
    if full:
        columns += [("SLO $/accepted", "right"), ("Actual", "right"), ("SLO", "left")]
    footers = {
        "Feature": "Total",
        "Budget": usd(_sum(b.monthly_budget_usd for b in budgets)),
        "Spend": usd(sum((b.shown_spend_usd for b in budgets), 0)),
        "Forecast": usd(sum((b.shown_forecast_usd for b in budgets), 0)),
    }
    for name, justify in columns:
        table.add_column(
            name, justify=justify, no_wrap=name not in ("Feature",), overflow="fold", footer=footers.get(name, "")
        )
    for b in rows:
        cells: list[RenderableType] = [
            Text(str(b.feature)),
            usd(b.monthly_budget_usd),
            usd(b.shown_spend_usd),
            MISSING if b.used_pct is None else f"{b.used_pct:.0f}%",
        ]
        if full:
            cells += [usd(b.shown_forecast_usd), usd(b.hard_limit_usd)]
        cells.append(_status(b.status))
        if full:
            cells += [
                unit_usd(b.cost_slo_per_accepted_outcome_usd),
                unit_usd(b.cost_per_accepted_outcome_usd),
                _status(b.slo_status),
            ]
        table.add_row(*cells)
    if others is not None:
        cells = [Text(others.feature), usd(others.monthly_budget_usd), usd(others.shown_spend_usd), ""]
        if full:
            cells += [usd(others.shown_forecast_usd), ""]
        cells.append(Text(others.status_text(), style="dim"))
        if full:
            cells += ["", "", ""]
        table.add_row(*cells)
        view.hints.add("full")
    view.print_table(table)
    if view.compact:
        view.hints.add("wide")
        breached = [b for b in rows if b.slo_status == "breached"]
        bullets(
            console,
            [
                Text.assemble(
                    (str(b.feature), "bold"),
                    " breaches its cost SLO: ",
                    (unit_usd(b.cost_per_accepted_outcome_usd), "bold red"),
                    f" per accepted outcome against {unit_usd(b.cost_slo_per_accepted_outcome_usd)}",
                )
                for b in breached
            ],
        )


def render_feature_costs(report: Report, view: View) -> None:
    """Each feature's whole cost, shown when there is more to it than the calls: attributed infrastructure or
    human review. The compact view keeps the whole cost per accepted outcome only."""
    from rich.table import Table

    section = report.feature_costs
    if section is None or not any(f.infrastructure_usd or f.human_review_usd for f in section.features):
        return
    table = Table(
        title="Whole cost by feature: tokens, tools, infrastructure, human review",
        title_justify="left",
        header_style="bold",
        pad_edge=False,
        show_footer=True,
        footer_style="bold",
    )
    parts: list[tuple[str, Callable[[FeatureCost], Decimal]]] = [("Tokens", lambda f: f.model_tokens_usd)]
    if any(f.tool_charges_usd for f in section.features):
        parts.append(("Tools", lambda f: f.tool_charges_usd))
    parts += [
        ("Infra", lambda f: f.infrastructure_usd),
        ("Review", lambda f: f.human_review_usd),
        ("Total", lambda f: f.total_usd),
    ]
    table.add_column("Feature", footer="Total")
    for name, value in parts:
        table.add_column(name, justify="right", footer=usd(sum((value(f) for f in section.features), Decimal(0))))
    table.add_column("Per accepted", justify="right")
    if not view.compact:
        table.add_column("Inference per accepted", justify="right")
    for f in section.features[:TOP_ROWS]:
        per = [unit_usd(f.total_cost_per_accepted_outcome_usd)]
        if not view.compact:
            per.append(unit_usd(f.inference_cost_per_accepted_outcome_usd))
        table.add_row(f.feature, *(usd(value(f)) for _, value in parts), *per)
    rest = section.features[TOP_ROWS:]
    if rest:
        sums = (usd(sum((value(f) for f in rest), Decimal(0))) for _, value in parts)
        table.add_row(f"{len(rest):,} others", *sums, *([""] * (1 if view.compact else 2)))
    if view.compact:
        view.hints.add("wide")
    view.print_table(table)


def render_self_hosted(report: Report, view: View) -> None:
    """Each self-hosted deployment per month: its cost and what its calls carry, how busy its GPUs were, the idle
    cost, and the break-even against the API it is compared with."""
    from rich.table import Table

    section = report.self_hosted
    if section is None or not section.months:
        return
    table = Table(
        title="Self-hosted deployments: GPUs priced like an API",
        title_justify="left",
        header_style="bold",
        pad_edge=False,
    )
    full = not view.compact  # the compact view keeps cost, utilisation, idle and the API's cost
    columns = [("Deployment", "left", True), ("Month", "left", True), ("GPUs", "right", full)]
    columns += [("Cost", "right", True), ("Calls", "right", full), ("Per 1M tokens", "right", full)]
    columns += [("Tok/s/GPU", "right", full), ("Utilisation", "right", True), ("Idle cost", "right", True)]
    columns += [("API cost", "right", True)]
    for name, justify, shown in columns:
        if shown:
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for m in section.months[:TOP_ROWS]:
        cells = [
            m.deployment,
            m.month,
            f"{m.gpu_count} × {m.gpu_type}" if m.gpu_type else str(m.gpu_count),
            usd(m.cost_usd) if m.cost_usd is not None else "no cost yet",
            f"{m.calls:,}",
            unit_usd(m.cost_per_million_tokens_usd),
            f"{m.tokens_per_second_per_gpu:,.2f}" if m.tokens_per_second_per_gpu is not None else MISSING,
            f"{m.utilisation:.1%}" if m.utilisation is not None else MISSING,
            usd(m.idle_cost_usd) if m.idle_cost_usd is not None else MISSING,
            unit_usd(m.api_cost_usd) if m.api_cost_usd is not None else MISSING,
        ]
        table.add_row(*(cell for cell, (_, _, shown) in zip(cells, columns) if shown))
    if view.compact:
        view.hints.add("wide")
    view.print_table(table)
    for m in section.months[:TOP_ROWS]:
        if m.verdict:
            view.console.print(f"{m.deployment} {m.month} vs {m.compare_with}: {m.verdict}", markup=False)


def render_customers(report: Report, view: View) -> None:
    """AI cost, unit economics and gross AI margin per customer (the largest by AI cost) and per plan."""
    from rich.table import Table
    from rich.text import Text

    section = report.customers
    if section is None:
        return
    console = view.console
    with_revenue = section.revenue_usd is not None
    Cell = Callable[[CustomerEconomics], Any]
    columns: list[tuple[str, JustifyMethod, Cell, bool]] = [  # name, justify, value, in the compact view
        ("Customer", "left", lambda c: c.customer, True),
        ("Plan", "left", lambda c: c.plan, not with_revenue),
        ("Calls", "right", lambda c: f"{c.calls:,}", not with_revenue),
        ("AI cost", "right", lambda c: usd(c.ai_cost_usd), True),
        ("Per task", "right", lambda c: unit_usd(c.cost_per_task_usd), not with_revenue),
        ("Per accepted", "right", lambda c: unit_usd(c.cost_per_accepted_outcome_usd), not with_revenue),
    ]
    if with_revenue:
        columns += [
            ("Revenue", "right", lambda c: usd(c.revenue_usd), True),
            ("Margin", "right", lambda c: usd(c.margin_usd), False),
            ("Margin %", "right", lambda c: pct(c.margin_pct), True),
            (
                "AI / revenue",
                "right",
                lambda c: Text(pct(c.ai_cost_share), style="bold red" if c.over_share else ""),
                True,
            ),
        ]
    if view.compact:
        view.hints.add("wide")
        columns = [column for column in columns if column[3]]
    table = Table(
        title="Customers: AI cost" + (" and gross AI margin" if with_revenue else ""),
        title_justify="left",
        header_style="bold",
        pad_edge=False,
    )
    for name, justify, _, _ in columns:
        table.add_column(name, justify=justify)
    for c in section.customers[:TOP_ROWS]:
        table.add_row(*(value(c) for _, _, value, _ in columns))
    rest = section.customers[TOP_ROWS:]
    if rest:
        totals = {
            "Customer": f"{len(rest):,} others",
            "Calls": f"{sum(c.calls for c in rest):,}",
            "AI cost": usd(sum((c.ai_cost_usd for c in rest), Decimal(0))),
            "Revenue": usd(sum((c.revenue_usd for c in rest if c.revenue_usd is not None), Decimal(0))),
        }
        table.add_row(*(totals.get(name, "") for name, _, _, _ in columns))
    view.print_table(table)
    if not with_revenue:
        return
    console.print(
        Text.assemble(
            ("Gross AI margin", "bold"),
            f": {usd(section.margin_usd)} on {usd(section.revenue_usd)} of revenue ({pct(section.margin_pct)}); "
            f"best {', '.join(section.top_by_margin) or MISSING}; "
            f"worst {', '.join(section.bottom_by_margin) or MISSING}",
        )
    )
    if section.over_share:
        console.print(
            Text(
                f"AI cost above {section.max_ai_cost_share:.0%} of revenue: {', '.join(section.over_share)}",
                style="bold red",
            )
        )
    if section.customers_without_revenue:
        console.print(
            Text(f"{section.customers_without_revenue:,} customers with calls have no revenue row", style="yellow")
        )
    plans = Table(title="Plans", title_justify="left", header_style="bold", pad_edge=False)
    for name in ("Plan", "Customers", "AI cost", "Revenue", "Margin %", "AI / revenue"):
        plans.add_column(name, justify="left" if name == "Plan" else "right")
    for p in section.by_plan:
        plans.add_row(
            p.plan, f"{p.customers:,}", usd(p.ai_cost_usd), usd(p.revenue_usd), pct(p.margin_pct), pct(p.ai_cost_share)
        )
    view.print_table(plans)


def _sum(values) -> Any:
    from costlens.money import to_decimal

    numbers = [number for number in (to_decimal(v) for v in values) if number is not None]
    return sum(numbers, Decimal(0)) if numbers else None


# ---------------------------------------------------------------------------------------------- change

CHANGE_PARTS = [  # in the order of the decomposition's chain (costlens.change)
    ("volume_usd", "Volume", "more or fewer tasks at the previous cost per task"),
    ("efficiency_usd", "Efficiency", "tokens and calls per task, at the previous model mix and prices"),
    ("mix_usd", "Model mix", "the shift between models and variants, at previous prices"),
    ("price_usd", "Price", "price changes, at the current usage"),
]


def render_change(report: Report, view: View) -> None:
    """The change against the previous period, split into volume / efficiency / model mix / price."""
    from rich.table import Table
    from rich.text import Text

    from costlens.change import change_view

    console = view.console
    shown = change_view(report.change)
    if shown is None:
        console.print(
            Text.assemble(("Change vs the previous period", "bold"), ": no earlier period with data to compare")
        )
        return
    console.print(Text(f"Change vs {shown['previous_label']}", style="bold"))
    bullets(console, [Text(line) for line in shown["lines"]])
    table = Table(header_style="bold", pad_edge=False, show_footer=True, footer_style="bold")
    table.add_column("Driver", footer=f"Total change{shown['unit']}")
    table.add_column("Change" + shown["unit"], justify="right", no_wrap=True, footer=shown["delta"])
    table.add_column("What it measures", overflow="fold", ratio=1 if view.compact else None)
    for key, name, meaning in CHANGE_PARTS:
        table.add_row(name, shown["parts"][key], meaning)
    view.print_table(table)


# ---------------------------------------------------------------------------------------------- the rest


def _reported_vs_computed(report: Report, console: Console) -> None:
    """Where a producer reported a cost, show it beside ours: the difference is often a stale price table."""
    from rich.table import Table
    from rich.text import Text

    if not report.reported_vs_computed:
        return
    table = Table(
        title=f"Reported vs computed cost (report uses: {report.cost_mode})",
        title_justify="left",
        header_style="bold",
        pad_edge=False,
    )
    for name in ("Producer", "Model", "Calls", "Reported", "Computed", "Difference", "Diff %"):
        table.add_column(name, justify="left" if name in ("Producer", "Model") else "right")
    for c in report.reported_vs_computed:
        ratio = (
            float(c.difference_usd / c.computed_cost_usd)
            if c.computed_cost_usd and c.difference_usd is not None
            else None
        )
        table.add_row(
            Text(c.producer),
            Text(c.model),
            num(c.calls),
            usd(c.reported_cost_usd),
            usd(c.computed_cost_usd),
            usd(c.difference_usd),
            pct(ratio),
        )
    console.print(table)


def render_diagnosis(report: Report, console: Console) -> None:
    from rich.text import Text

    statement = report.diagnosis.statement if report.diagnosis is not None else None
    if statement:
        from rich.padding import Padding

        console.print(Text("Diagnosis", style="bold"))
        console.print(Padding(Text(statement), (0, 0, 0, 2)))


def lever_savings(lever: Lever) -> Decimal:
    """A lever's monthly savings as shown: its cents adding up to the levers' total (report.build)."""
    shown = lever.shown_monthly_savings_usd
    return lever.est_monthly_savings_usd if shown is None else shown


def lever_total(summary: LeverSummary | None, name: str) -> Decimal | None:
    """A levers total as shown: the sum of the shown rows (report.build), so the levers table adds up."""
    return None if summary is None else summary.shown(name)


def render_levers(report: Report, console: Console, *, wide: bool = False) -> None:
    """Ranked levers: savings per effort, applied in sequence so they never overlap."""
    from rich.table import Table
    from rich.text import Text

    if not report.levers:
        console.print(Text.assemble(("Levers", "bold"), ": nothing worth doing found in this period"))
        return
    summary = report.lever_summary
    savings_range = usd_range(
        lever_total(summary, "total_savings_low_usd"), lever_total(summary, "total_savings_high_usd")
    )
    title = (
        f"Levers, ranked by savings per effort — together {usd(lever_total(summary, 'total_monthly_savings_usd'))}"
        f"/month ({savings_range}) of "
        f"{usd(summary.monthly_spend_usd if summary is not None else None)}/month, without double counting"
    )
    if console.width < COMPACT_BELOW and not wide:  # narrow terminals and CI logs: a list reads better
        console.print(Text(title, style="bold"))
        items = []
        for lever in report.levers:
            item = Text.assemble(
                (str(lever.lever), "bold"),
                f" — {usd(lever_savings(lever))}/month "
                f"({usd_range(lever.savings_low_usd, lever.savings_high_usd)}), effort "
                f"{lever.effort}, quality risk ",
                (str(lever.quality_risk), SEVERITY_STYLE.get(str(lever.quality_risk), "")),
            )
            if lever.first_action:
                item.append(f"\nfirst action: {lever.first_action}")
            items.append(item)
        bullets(console, items, marker="1.")
        return
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        pad_edge=False,
        show_lines=True,
        show_footer=True,
        footer_style="bold",
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Lever", no_wrap=True, footer="Total")
    table.add_column(
        "$/month", justify="right", no_wrap=True, footer=usd(lever_total(summary, "total_monthly_savings_usd"))
    )
    table.add_column(
        "Range",
        justify="right",
        no_wrap=True,
        footer=usd_range(lever_total(summary, "total_savings_low_usd"), lever_total(summary, "total_savings_high_usd")),
    )
    table.add_column("Effort", no_wrap=True)
    table.add_column("Risk", no_wrap=True)
    table.add_column("First action", overflow="fold", ratio=1)
    for lever in report.levers:
        table.add_row(
            str(lever.rank),
            lever.lever,
            usd(lever_savings(lever)),
            usd_range(lever.savings_low_usd, lever.savings_high_usd),
            lever.effort,
            Text(str(lever.quality_risk), style=SEVERITY_STYLE.get(str(lever.quality_risk), "")),
            Text(lever.first_action or ""),
        )
    console.print(table)


def render_leaks(report: Report, console: Console, *, min_severity: str = "low", wide: bool = False) -> None:
    from rich.table import Table
    from rich.text import Text

    order = {"low": 0, "medium": 1, "high": 2}
    leaks = [f for f in report.leaks if order.get(f.severity, 0) >= order[min_severity]]
    if not leaks:
        console.print(Text.assemble(("Leaks", "bold"), ": none found"))
        return
    if console.width < COMPACT_BELOW and not wide:
        console.print(Text("Leaks (waste observed in the period)", style="bold"))
        items = []
        for finding in leaks:
            item = Text.assemble(
                (f"{finding.kind}", "bold"),
                f" in {finding.feature} (",
                (str(finding.severity), SEVERITY_STYLE.get(str(finding.severity), "")),
                f"): {usd(finding.wasted_usd)} wasted, ≈ {usd(finding.est_monthly_savings_usd)}/month",
            )
            if finding.explanation:
                item.append(f"\n{finding.explanation}")
            items.append(item)
        bullets(console, items)
        return
    table = Table(
        title="Leaks (waste observed in the period)",
        title_justify="left",
        header_style="bold",
        pad_edge=False,
        show_lines=True,
    )
    leak_columns: list[tuple[str, JustifyMethod]] = [
        ("Kind", "left"),
        ("Feature", "left"),
        ("Sev.", "left"),
        ("Wasted", "right"),
        ("$/month", "right"),
        ("What we saw", "left"),
    ]
    for name, justify in leak_columns:
        table.add_column(
            name,
            justify=justify,
            no_wrap=name not in ("What we saw", "Feature"),
            overflow="fold",
            ratio=1 if name == "What we saw" else None,
        )
    for finding in leaks:
        table.add_row(
            finding.kind,
            Text(finding.feature or ""),
            Text(str(finding.severity), style=SEVERITY_STYLE.get(str(finding.severity), "")),
            usd(finding.wasted_usd),
            usd(finding.est_monthly_savings_usd),
            Text(finding.explanation or ""),
        )
    console.print(table)


def render_reconciliation(report: Report, console: Console) -> None:
    """Verdict, causes and the list → billed bridge, when a bill was ingested for the period."""
    recon = report.reconciliation
    if not hasattr(recon, "verdict") or not recon:
        return
    from costlens.reconcile.render import render_terminal as render_recon

    render_recon(recon, console, detail=False)
