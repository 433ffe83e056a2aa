"""A compact Markdown summary of a Report, fit for a GitHub job summary ($GITHUB_STEP_SUMMARY) or a PR comment.

Headline totals, the change vs the previous period split into volume / price / mix / efficiency, the top three
levers, budgets breached, the top features and the warnings. Figures use the terminal renderer's formatting, so
every output shows the same numbers.

Every value that comes from the logs or the config (feature, model, owner, warning text, …) goes through `md()`:
Markdown and HTML metacharacters are neutralised, so `<script>alert(1)</script>` or `"><img src=x onerror=…>`
render as inert text, a `|` cannot break a table and a newline cannot start a new block.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from costlens.report.model import Report
from costlens.report.render_terminal import num, pct, usd

_ESCAPES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "\\": "\\\\", "|": "\\|", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]",
    "~": "\\~", "#": "\\#", "!": "\\!", "{": "\\{", "}": "\\}",
}
MAX_CELL = 120
TOP_FEATURES = 5
TOP_LEVERS = 3


def md(value: Any, limit: int | None = MAX_CELL) -> str:
    """Text from the logs as inert Markdown: HTML-escaped, Markdown metacharacters backslash-escaped, all line
    breaks and control characters folded to spaces, and (by default) cut to `limit` characters."""
    text = "" if value is None else str(value)
    text = "".join(" " if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029") else ch for ch in text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def signed_usd(value: Decimal | float | None) -> str:
    if value is None:
        return "—"
    number = Decimal(value)
    sign = "+" if number > 0 else "−" if number < 0 else "±"
    return f"{sign}${abs(number):,.2f}"


def _table(headers: list[str], aligns: str, rows: list[list[str]]) -> list[str]:
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    return ["| " + " | ".join(headers) + " |", "|" + "|".join(rule[a] for a in aligns) + "|"] + \
        ["| " + " | ".join(row) + " |" for row in rows]


def _last_day(end: date) -> date:
    return end - timedelta(days=1)


def _change(report: Report) -> list[str]:
    change = report.change or {}
    if not change:
        return ["No earlier period in the database to compare with."]
    from costlens.change import rounded_effects

    cents = rounded_effects(change)
    prev = change.get("previous_period") or {}
    start, end = prev.get("start"), prev.get("end")
    label = f"{start} → {_last_day(date.fromisoformat(end))}" if start and end else "the previous period"
    pct_text = "" if change.get("delta_pct") is None else f", {change['delta_pct']:+.1f}%"
    lines = [
        f"**Change vs {md(label)}:** {usd(change.get('previous_cost_usd'))} → {usd(change.get('current_cost_usd'))} "
        f"({signed_usd(cents['delta_usd'])}{pct_text})",
        "",
        *_table(["Volume", "Efficiency", "Model mix", "Price"], "rrrr",
                [[signed_usd(cents["volume_usd"]), signed_usd(cents["efficiency_usd"]), signed_usd(cents["mix_usd"]),
                  signed_usd(cents["price_usd"])]]),
    ]
    trend = [t for t in change.get("cost_per_accepted_outcome_trend") or [] if t.get("month")]
    if trend:
        lines += ["", "Cost per accepted outcome by month: " + " · ".join(
            f"{md(t['month'])} {usd(t.get('value'), 4)}" for t in trend)]
    return lines


def _levers(report: Report) -> list[str]:
    levers = report.levers[:TOP_LEVERS]
    if not levers:
        return ["Nothing worth doing found in this period."]
    rows = [[str(lever.get("rank", "")), md(lever.get("lever")), usd(lever.get("est_monthly_savings_usd")),
             f"{usd(lever.get('savings_low_usd'), 0)}–{usd(lever.get('savings_high_usd'), 0)}",
             md(lever.get("effort")), md(lever.get("quality_risk")), md(lever.get("first_action"), 160)]
            for lever in levers]
    summary = report.lever_summary or {}
    lines = _table(["#", "Lever", "Savings / month", "Range", "Effort", "Quality risk", "First action"],
                   "rlrrlll", rows)
    if summary.get("total_monthly_savings_usd") is not None:
        lines += ["", f"All {len(report.levers)} levers together, without double counting: "
                      f"{usd(summary.get('total_monthly_savings_usd'))} per month."]
    return lines


def _budgets(report: Report) -> list[str]:
    flagged = [b for b in report.budgets if b.get("status") in ("hard_limit", "over", "warning")
               or b.get("slo_status") == "breached"]
    if not report.budgets:
        return ["No budgets in costlens.toml — `costlens init` writes a starter config with suggested budgets."]
    if not flagged:
        return [f"All {sum(1 for b in report.budgets if b.get('status') != 'no_budget')} budgets are within "
                "their limits."]
    order = {"hard_limit": 0, "over": 1, "warning": 2}
    flagged.sort(key=lambda b: (order.get(b.get("status"), 3), -Decimal(b.get("spend_usd") or 0)))
    status_text = {"hard_limit": "**hard limit**", "over": "**over budget**", "warning": "warning", "ok": "ok"}
    rows = []
    for b in flagged:
        status = status_text.get(b.get("status"), md(b.get("status")))
        if b.get("slo_status") == "breached":
            status += " · cost SLO breached"
        rows.append([md(b.get("feature")), md(b.get("owner") or "—"), status, usd(b.get("spend_usd")),
                     usd(b.get("monthly_budget_usd")),
                     "—" if b.get("used_pct") is None else f"{b['used_pct']:.0f}%",
                     usd(b.get("forecast_month_end_usd"))])
    return _table(["Feature", "Owner", "Status", "Spend", "Budget", "Used", "Forecast"], "lllrrrr", rows)


def _features(report: Report) -> list[str]:
    rows = [[md(r.key), usd(r.cost_usd), pct(r.spend_share), num(r.calls), usd(r.cost_per_task_usd, 4),
             usd(r.cost_per_accepted_outcome_usd, 4), pct(r.acceptance_rate)]
            for r in report.unit_economics[:TOP_FEATURES]]
    if not rows:
        return ["No calls in this period."]
    lines = _table(["Feature", "Spend", "Share", "Calls", "Cost / task", "Cost / accepted outcome", "Accepted"],
                   "lrrrrrr", rows)
    rest = len(report.unit_economics) - TOP_FEATURES
    if rest > 0:
        lines += ["", f"… and {rest} more feature{'s' if rest > 1 else ''} in the full report."]
    return lines


def render_markdown(report: Report) -> str:
    t = report.totals
    period = f"{report.period.start} → {_last_day(report.period.end)}"
    coverage = "—" if t.priced_coverage_pct is None else f"{t.priced_coverage_pct:.1f}%"
    out = [
        f"## costlens · {period}",
        "",
        *_table(["Spend", "Calls", "Tasks", "Cost / call", "Cost / task", "Cost / accepted outcome", "Priced"],
                "rrrrrrr",
                [[usd(t.cost_usd), num(t.calls), num(t.tasks), usd(t.cost_per_call_usd, 4),
                  usd(t.cost_per_task_usd, 4), usd(t.cost_per_accepted_outcome_usd, 4), coverage]]),
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
    out += ["", f"<sub>costlens · prices {md(report.price_book.source)} {md(report.price_book.version)} · "
                f"{md(report.cost_mode)} cost · generated {md(report.generated_at.isoformat())}</sub>", ""]
    return "\n".join(out)
