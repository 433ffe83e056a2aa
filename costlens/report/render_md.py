"""A compact Markdown summary of a Report, fit for a GitHub job summary ($GITHUB_STEP_SUMMARY) or a PR comment.

Headline totals, the change vs the previous period split into volume / price / mix / efficiency, the top three
levers, budgets breached, the top features and the warnings. Figures use costlens.money and the report's shown
cents, so every output shows the same numbers and every table with a total adds up to it.

Every value that comes from the logs or the config (feature, model, owner, warning text, …) goes through `md()`:
Markdown and HTML metacharacters are neutralised, so `<script>alert(1)</script>` or `"><img src=x onerror=…>`
render as inert text, a `|` cannot break a table and a newline cannot start a new block.
"""

from __future__ import annotations

from datetime import date, timedelta

from costlens.inert import md
from costlens.model.report import Report
from costlens.money import pct, unit_usd, usd
from costlens.report.lead import TOP_ROWS, lead_rows, others_label
from costlens.report.render_terminal import lever_savings, lever_total, num, share, spend

TOP_FEATURES = 5
TOP_LEVERS = 3


def _table(headers: list[str], aligns: str, rows: list[list[str]]) -> list[str]:
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    return ["| " + " | ".join(headers) + " |", "|" + "|".join(rule[a] for a in aligns) + "|"] + [
        "| " + " | ".join(row) + " |" for row in rows
    ]


def _last_day(end: date) -> date:
    return end - timedelta(days=1)


def _change(report: Report) -> list[str]:
    from costlens.change import change_view

    change = report.change
    shown = change_view(change)
    if change is None or shown is None:
        return ["No earlier period in the database to compare with."]
    block = change.shown_split
    pct_text = "" if block.delta_pct is None else f", {block.delta_pct:+.1f}%"
    if shown["basis"] == "per_day":
        head = (
            f"**Change vs {md(shown['previous_label'])}, per day with data:** "
            f"{usd(block.previous_cost_usd)}/day → {usd(block.current_cost_usd)}/day "
            f"({shown['delta']}/day{pct_text})"
        )
        lines = [head, ""] + [f"- {md(note, 300)}" for note in change.notes] + [""]
        header = ["Volume / day", "Efficiency / day", "Model mix / day", "Price / day"]
    else:
        lines = [
            f"**Change vs {md(shown['previous_label'])}:** {usd(block.previous_cost_usd)} → "
            f"{usd(block.current_cost_usd)} ({shown['delta']}{pct_text})",
            "",
        ]
        header = ["Volume", "Efficiency", "Model mix", "Price"]
    lines += _table(
        header, "rrrr", [[shown["parts"][k] for k in ("volume_usd", "efficiency_usd", "mix_usd", "price_usd")]]
    )
    trend = [t for t in change.cost_per_accepted_outcome_trend if t.month]
    if trend:
        lines += [
            "",
            "Cost per accepted outcome by month: " + " · ".join(f"{md(t.month)} {unit_usd(t.value)}" for t in trend),
        ]
    return lines


def _levers(report: Report) -> list[str]:
    levers = report.levers[:TOP_LEVERS]
    if not levers:
        return ["Nothing worth doing found in this period."]
    rows = [
        [
            str(lever.rank),
            md(lever.lever),
            usd(lever_savings(lever)),
            f"{usd(lever.savings_low_usd)}–{usd(lever.savings_high_usd)}",
            md(lever.effort),
            md(lever.quality_risk),
            md(lever.first_action, 160),
        ]
        for lever in levers
    ]
    summary = report.lever_summary
    lines = _table(
        ["#", "Lever", "Savings / month", "Range", "Effort", "Quality risk", "First action"], "rlrrlll", rows
    )
    if summary is not None:
        lines += [
            "",
            f"All {len(report.levers)} levers together, without double counting: "
            f"{usd(lever_total(summary, 'total_monthly_savings_usd'))} per month.",
        ]
    return lines


def _budgets(report: Report) -> list[str]:
    flagged = [b for b in report.budgets if b.status in ("hard_limit", "over", "warning") or b.slo_status == "breached"]
    if not any(b.status != "no_budget" for b in report.budgets):
        return ["No budgets in costlens.toml — `costlens init` writes a starter config with suggested budgets."]
    if not flagged:
        return [f"All {sum(1 for b in report.budgets if b.status != 'no_budget')} budgets are within their limits."]
    order: dict[str | None, int] = {"hard_limit": 0, "over": 1, "warning": 2}
    flagged.sort(key=lambda b: (order.get(b.status, 3), -b.spend_usd))
    status_text: dict[str | None, str] = {
        "hard_limit": "**hard limit**",
        "over": "**over budget**",
        "warning": "warning",
        "ok": "ok",
    }
    rows = []
    rest = len(flagged) - TOP_ROWS if len(flagged) > TOP_ROWS + 1 else 0
    for b in flagged[: len(flagged) - rest]:
        status = status_text.get(b.status, md(b.status))
        if b.slo_status == "breached":
            status += " · cost SLO breached"
        rows.append(
            [
                md(b.feature),
                md(b.owner or "—"),
                status,
                usd(b.shown_spend_usd),
                usd(b.monthly_budget_usd),
                "—" if b.used_pct is None else f"{b.used_pct:.0f}%",
                usd(b.shown_forecast_usd),
            ]
        )
    lines = _table(["Feature", "Owner", "Status", "Spend", "Budget", "Used", "Forecast"], "lllrrrr", rows)
    if rest:
        lines += ["", f"… and {rest} more budgets breached or warned: every budget is in the full report."]
    return lines


def _features(report: Report) -> list[str]:
    head, others = lead_rows(report.unit_economics, TOP_FEATURES)

    def cells(r) -> list[str]:
        return [
            md(r.key),
            spend(r),
            share(r),
            num(r.calls),
            unit_usd(r.cost_per_task_usd),
            unit_usd(r.cost_per_accepted_outcome_usd),
            pct(r.acceptance_rate),
        ]

    rows = [cells(r) for r in head]
    if not rows:
        return ["No calls in this period."]
    if others is not None:
        rows.append(cells(others))
    total = report.total_row
    if total is not None:
        rows.append(["**Total**"] + [f"**{c}**" if c != "—" else c for c in cells(total)[1:]])
    lines = _table(
        ["Feature", "Spend", "Share", "Calls", "Cost / task", "Cost / accepted outcome", "Accepted"], "lrrrrrr", rows
    )
    if others is not None:
        lines += [
            "",
            f"{others_label(len(report.unit_economics) - len(head))} in one row: every feature is in the full report.",
        ]
    return lines


def render_markdown(report: Report) -> str:
    t = report.totals
    period = f"{report.period.start} → {_last_day(report.period.end)}"
    coverage = "—" if t.priced_coverage_pct is None else f"{t.priced_coverage_pct:.1f}%"
    from costlens.period import coverage_note

    note = coverage_note(report.period, report.coverage)
    out = [
        f"## costlens · {period}",
        "",
        *([f"> {md(note, 300)}: spend is compared per day with data.", ""] if note else []),
        *_table(
            ["Spend", "Calls", "Tasks", "Cost / call", "Cost / task", "Cost / accepted outcome", "Priced"],
            "rrrrrrr",
            [
                [
                    usd(t.cost_usd),
                    num(t.calls),
                    num(t.tasks),
                    unit_usd(t.cost_per_call_usd),
                    unit_usd(t.cost_per_task_usd),
                    unit_usd(t.cost_per_accepted_outcome_usd),
                    coverage,
                ]
            ],
        ),
        "",
        *_change(report),
        "",
        "### Top levers",
        "",
        *_levers(report),
        "",
        "### Budgets",
        "",
        *_budgets(report),
        "",
        "### Top features",
        "",
        *_features(report),
    ]
    if hasattr(report.reconciliation, "verdict") and report.reconciliation:
        from costlens.reconcile.render import markdown_section

        out += [""] + markdown_section(report.reconciliation, "###", compact=True)
    if report.warnings:
        out += ["", "### Warnings", ""] + [f"- {md(note, 300)}" for note in report.warnings]
    out += [
        "",
        f"<sub>costlens · prices {md(report.price_book.source)} {md(report.price_book.version)} · "
        f"{md(report.cost_mode)} cost · generated {md(report.generated_at.isoformat())}</sub>",
        "",
    ]
    return "\n".join(out)
