"""Terminal, JSON and Markdown views of a Reconciliation (the report's section uses the same functions)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from costlens.model.reconcile import Reconciliation
from costlens.reconcile.build import shown_bridge, shown_causes, usd

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod

__all__ = ["render_json", "render_markdown", "render_terminal", "markdown_section", "usd"]


def render_json(result: Reconciliation) -> str:
    """Money as JSON numbers with every digit of the exact Decimal (see costlens.report.render_json.dumps)."""
    from costlens.exactjson import dumps

    data = {"reconciliation": result.to_dict()}
    return dumps({"period": result.period, **data} if result.period else data)


def _pct(part: Decimal, whole: Decimal) -> str:
    return f"{float(part / whole) * 100:.1f} %" if whole else "—"


def _md_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _md_table(headers: list[str], rows: Sequence[Sequence[object]], right: set[int]) -> list[str]:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown_section(result: Reconciliation, heading: str = "##", *, compact: bool = False) -> list[str]:
    """Markdown lines; `compact` (the report's PR comment) stops after the causes and the price bridge."""
    lines = [f"{heading} Reconciliation with the bill", "", f"**Verdict:** {_md_cell(result.verdict)}", ""]
    if not result.has_ai_bill:
        return lines
    lines += [
        f"Coverage: {result.coverage_pct:.1f} % of {usd(result.ai_billed_usd)} AI spend billed "
        f"({result.ai_billing_lines:,} of {result.billing_lines:,} bill lines are AI) is explained by logged "
        f"calls. Tolerance for spend with no identified cause: {result.tolerance_pct:g} % "
        f"({usd(result.allowed_unexplained_usd)}).",
        "",
    ]
    lines += [f"{heading}# Gap causes", ""]
    cents, steps = shown_causes(result), shown_bridge(result)
    rows = [
        ["explained by logged calls", usd(cents["explained"]), _pct(result.explained_usd, result.ai_billed_usd), ""]
    ]
    rows += [
        [c.label, usd(cents[c.cause]), _pct(c.amount_usd, result.ai_billed_usd), c.detail]
        for c in result.causes
        if c.amount_usd or c.cause in ("unlogged_traffic", "billed_failed_requests")
    ]
    rows.append(["**billed AI total**", usd(result.ai_billed_usd), "100.0 %", ""])
    lines += _md_table(["cause", "USD", "share of bill", "detail"], rows, {1, 2}) + [""]
    lines += [f"{heading}# From list price to billed (logged calls)", ""]
    lines += _md_table(
        ["step", "USD", "detail"],
        [
            [s.label, usd(steps[s.step]), s.detail]
            for s in result.price_bridge
            if s.amount_usd or s.step in ("logged_list_cost", "explained", "negotiated_discount")
        ],
        {1},
    ) + [""]
    if compact:
        return lines
    if result.allocation:
        lines += [f"{heading}# Invoice showback (allocation: {_md_cell(result.allocation_rule)})", ""]
        rows = [
            [a.key, a.cost_center or "", usd(a.owned_usd), usd(a.allocated_usd), usd(a.total_usd)]
            for a in result.allocation
        ]
        rows.append(
            [
                "**total**",
                "",
                usd(sum((a.owned_usd for a in result.allocation), Decimal(0))),
                usd(sum((a.allocated_usd for a in result.allocation), Decimal(0))),
                usd(sum((a.total_usd for a in result.allocation), Decimal(0))),
            ]
        )
        lines += _md_table(["feature", "cost center", "owned (billed)", "allocated", "total"], rows, {2, 3, 4}) + [""]
    if result.calibrated_rates:
        lines += [f"{heading}# Billed rates (`--prices billed`)", ""]
        rows = [
            [
                r.provider,
                r.model,
                r.token_type,
                f"{r.billed_tokens:,}",
                usd(r.billed_usd),
                _rate(r.billed_usd_per_mtok),
                _rate(r.bill_list_usd_per_mtok),
                f"{r.paid_to_list:.3f}" if r.paid_to_list is not None else "—",
                r.basis,
            ]
            for r in result.calibrated_rates
        ]
        lines += _md_table(
            [
                "provider",
                "model",
                "token type",
                "tokens billed",
                "billed",
                "$/Mtok paid",
                "$/Mtok list (bill)",
                "paid ÷ costlens list",
                "basis",
            ],
            rows,
            {3, 4, 5, 6, 7},
        ) + [""]
    for note in result.notes:
        lines.append(f"- {_md_cell(note)}")
    return lines


def _rate(value: Decimal | None) -> str:
    """A price per Mtok: a unit cost (costlens.money.unit_usd)."""
    from costlens.money import unit_usd

    return unit_usd(value)


def render_markdown(result: Reconciliation) -> str:
    return "\n".join(markdown_section(result, "#")) + "\n"


def render_terminal(result: Reconciliation, console: Console, *, detail: bool = True) -> None:
    from rich.table import Table
    from rich.text import Text

    style = {"reconciled": "bold green", "outside_tolerance": "bold red"}.get(result.status, "bold")
    console.print(Text("Reconciliation with the bill", style="bold"))
    console.print(Text(result.verdict, style=style))
    if not result.has_ai_bill:
        return
    causes = Table(title="Billed AI spend, by cause", title_justify="left", header_style="bold", pad_edge=False)
    cause_columns: list[tuple[str, JustifyMethod]] = [
        ("Cause", "left"),
        ("USD", "right"),
        ("Share", "right"),
        ("Detail", "left"),
    ]
    for name, justify in cause_columns:
        causes.add_column(name, justify=justify, overflow="fold")
    cents, steps = shown_causes(result), shown_bridge(result)
    causes.add_row(
        "explained by logged calls", usd(cents["explained"]), _pct(result.explained_usd, result.ai_billed_usd), ""
    )
    for cause in result.causes:
        if cause.amount_usd or cause.cause in ("unlogged_traffic", "billed_failed_requests"):
            causes.add_row(
                Text(cause.label),
                usd(cents[cause.cause]),
                _pct(cause.amount_usd, result.ai_billed_usd),
                Text(cause.detail),
            )
    causes.add_row(Text("billed AI total", style="bold"), usd(result.ai_billed_usd), "100.0 %", "")
    console.print(causes)
    bridge = Table(title="Logged calls: list price → billed", title_justify="left", header_style="bold", pad_edge=False)
    step_columns: list[tuple[str, JustifyMethod]] = [("Step", "left"), ("USD", "right"), ("Detail", "left")]
    for name, justify in step_columns:
        bridge.add_column(name, justify=justify, overflow="fold")
    for step in result.price_bridge:
        if step.amount_usd or step.step in ("logged_list_cost", "explained", "negotiated_discount"):
            bridge.add_row(Text(step.label), usd(steps[step.step]), Text(step.detail))
    console.print(bridge)
    if not detail:
        return
    if result.allocation:
        table = Table(
            title=f"Invoice showback by feature (allocation: {result.allocation_rule})",
            title_justify="left",
            header_style="bold",
            pad_edge=False,
        )
        allocation_columns: list[tuple[str, JustifyMethod]] = [
            ("Feature", "left"),
            ("Cost center", "left"),
            ("Owned", "right"),
            ("Allocated", "right"),
            ("Total", "right"),
        ]
        for name, justify in allocation_columns:
            table.add_column(name, justify=justify, overflow="fold")
        for row in result.allocation:
            table.add_row(
                Text(row.key),
                Text(row.cost_center or ""),
                usd(row.owned_usd),
                usd(row.allocated_usd),
                usd(row.total_usd),
            )
        table.add_row(
            Text("total", style="bold"),
            "",
            usd(sum((r.owned_usd for r in result.allocation), Decimal(0))),
            usd(sum((r.allocated_usd for r in result.allocation), Decimal(0))),
            usd(sum((r.total_usd for r in result.allocation), Decimal(0))),
        )
        console.print(table)
    if result.calibrated_rates:
        table = Table(
            title="Billed rates per Mtok (used by `report --prices billed`)",
            title_justify="left",
            header_style="bold",
            pad_edge=False,
        )
        for name in (
            "Provider",
            "Model",
            "Token type",
            "Tokens",
            "Billed",
            "Paid/Mtok",
            "List/Mtok (bill)",
            "Paid ÷ list",
        ):
            text = name in ("Provider", "Model", "Token type")
            table.add_column(name, justify="left" if text else "right", no_wrap=not text, overflow="fold")
        for r in result.calibrated_rates:
            table.add_row(
                Text(r.provider),
                Text(r.model),
                r.token_type,
                f"{r.billed_tokens:,}",
                usd(r.billed_usd),
                _rate(r.billed_usd_per_mtok),
                _rate(r.bill_list_usd_per_mtok),
                f"{r.paid_to_list:.3f}" if r.paid_to_list is not None else "—",
            )
        console.print(table)
    for note in result.notes:
        console.print(Text(f"  • {note}"))
