"""The finance-ready HTML report: one self-contained file, readable on screen and printed to PDF.

- One file: CSS inline, charts inline SVG drawn by matplotlib (costlens.report.charts), no script at all, no
  fonts, images, stylesheets or links that would be fetched at view time.
- Every value that comes from logs or config (feature, model, team, owner, file names, …) goes through jinja2
  autoescaping; the only unescaped fragments are the chart SVGs, which are built from escaped text and then
  checked element by element (charts.is_safe_svg).
- Headline numbers carry `data-metric` (and `data-key` per feature) with the exact value in `data-value`, so
  tests can compare them with the JSON renderer.
- Sections with no data say so in one line; nothing here assumes a section is filled in.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens.config import InfrastructureConfig
from costlens.money import listing, pct, pct_shown, signed_usd, unit_usd, usd, usd_range
from costlens.report import charts
from costlens.report.lead import lead_budgets, lead_groups, lead_rows
from costlens.report.render_terminal import CHANGE_PARTS as _PARTS
from costlens.report.render_terminal import lever_savings, lever_total, num, share, spend

if TYPE_CHECKING:
    from costlens.config import Config
    from costlens.model.report import Budget, Report, UnitEconomics

SECTIONS = [
    ("summary", "Executive summary"),
    ("showback", "Showback"),
    ("customers", "Customers and margin"),
    ("feature-costs", "Whole cost by feature"),
    ("self-hosted", "Self-hosted deployments"),
    ("budgets", "Budgets and forecast"),
    ("unit-economics", "Unit economics"),
    ("cost-value", "Cost–value matrix"),
    ("leaks", "Leaks"),
    ("levers", "Levers"),
    ("reconciliation", "Reconciliation and data coverage"),
    ("methodology", "Methodology and assumptions"),
    ("maturity", "Maturity assessment"),
    ("appendix", "Appendix: full tables"),
]

CHANGE_PARTS = _PARTS
CHANGE_METHOD = (
    "volume = change in tasks × previous cost per task; efficiency = tokens and calls per task at the "
    "previous mix and prices; model mix = the shift between models at previous prices; price = price "
    "changes at the current usage. The four add up to the total change exactly."
)


# ---------------------------------------------------------------- formatting (shared with the template)


def raw(value: Any) -> str:
    """The exact value for a data-value attribute: Decimal as written, float as repr, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def _to_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def humanize(key: Any) -> str:
    text = str(key).replace("_usd", " ($)").replace("_pct", " (%)").replace("_", " ").replace(".", " · ")
    return text[:1].upper() + text[1:]


def fmt_value(value: Any, key: str = "") -> str:
    """A scalar for display, by what its key says it is (USD, %, share, count)."""
    key = str(key).lower()
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        if not math.isfinite(number):
            return "—"
        if key.endswith("_usd") or key.endswith("cost") or key in ("usd", "cost"):
            # a cost per something is a unit cost; any other money is an amount (costlens.money)
            return unit_usd(value) if "per_" in key or key.endswith("_mtok_usd") else usd(value)
        if key.endswith("_pct"):
            return f"{number:.1f}%"
        if any(word in key for word in ("share", "rate", "acceptance", "fraction")) and abs(number) <= 1.5:
            return pct(number)
        if isinstance(value, int) or number.is_integer():
            return f"{number:,.0f}"
        return f"{number:,.4g}" if abs(number) < 1000 else f"{number:,.1f}"
    return str(value)


def _columns_of(rows: list[Any]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        if isinstance(row, dict):
            columns.extend(k for k in row if k not in columns)
    return columns[:12]


def _status_class(status: Any) -> str:
    return {
        "ok": "ok",
        "met": "ok",
        "no_slo": "muted",
        "no_budget": "muted",
        "unknown": "muted",
        "warning": "warn",
        "over": "bad",
        "hard_limit": "bad",
        "breached": "bad",
    }.get(str(status), "muted")


# ---------------------------------------------------------------- the view model


def _feature_config(config: Config | None) -> dict[str, Any]:
    if config is None:
        return {}
    return dict(getattr(config, "features", {}) or {})


def _feature_meta(report: Report, config: Config | None) -> dict[str, dict[str, Any]]:
    """owner / team / cost center / value per feature: the budgets rows first, the config second."""
    meta: dict[str, dict[str, Any]] = {}
    for name, feature in _feature_config(config).items():
        meta[name] = {
            "owner": feature.owner,
            "team": feature.team,
            "cost_center": feature.cost_center,
            "criticality": feature.criticality,
            "value_per_accepted_outcome_usd": feature.value_per_accepted_outcome_usd,
        }
    for row in report.budgets:
        entry = meta.setdefault(row.feature, {})
        for key in ("owner", "team", "cost_center", "criticality"):
            if getattr(row, key) is not None:
                entry[key] = getattr(row, key)
    return meta


def _summary(report: Report) -> dict[str, Any]:
    from costlens.change import change_view
    from costlens.money import to_decimal

    change = report.change
    shown = change_view(change)
    parts = []
    if change is not None and shown is not None:
        block = change.shown_split
        for key, name, meaning in CHANGE_PARTS:
            parts.append(
                {
                    "key": key,
                    "name": name,
                    "meaning": meaning,
                    "value": getattr(block, key),
                    "shown": shown["parts"][key],
                    "cents": shown["cents"][key],
                }
            )
    by_model = [asdict(r) for r in change.split.by_model][:10] if change is not None else []
    models: dict[tuple[str, str | None], UnitEconomics] = {(m.provider or "", m.key): m for m in report.by_model}
    for row in by_model:  # a model's current spend reads as in the by-model table when it is the same money
        match = models.get((row.get("provider") or "", row.get("model")))
        if match is not None and to_decimal(row.get("current_cost_usd")) == match.cost_usd:
            row["current_shown_usd"] = match.shown_cost_usd
    trend = [asdict(p) for p in change.cost_per_accepted_outcome_trend] if change is not None else []
    bridge = None
    if change is not None and shown is not None:
        start = change.shown_split.previous_cost_usd
        from costlens.money import round_cents

        steps = [(p["name"], float(p["cents"])) for p in parts]
        unit = " per day" if shown["basis"] == "per_day" else ""
        bridge = charts.waterfall(
            (f"previous period{unit}", float(round_cents(start))),
            steps,
            f"this period{unit}",
            f"Spend{unit} change: previous period to this one",
            "bridge",
        )
    levers = sorted(report.levers, key=lambda lv: lv.rank)[:3]
    return {
        "change": change,
        "change_view": shown,
        "change_by_model": by_model,
        "previous_period": asdict(change.previous_period) if change is not None else {},
        "parts": parts,
        "trend": trend,
        "trend_chart": charts.trend_line(
            [(str(p.get("month")), _to_float(p.get("value"))) for p in trend],
            "Cost per accepted outcome by month",
            "cpaotrend",
        ),
        "bridge_chart": bridge,
        "top_levers": levers,
        "statement": report.diagnosis.statement if report.diagnosis is not None else None,
        "period_note": _period_note(report),
        "day_chart": charts.spend_over_time([(u.key, float(u.cost_usd)) for u in report.by_day]),
    }


def _period_note(report: Report) -> str | None:
    from costlens.period import coverage_note

    return coverage_note(report.period, report.coverage)


def _showback(report: Report, meta: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def feature_row(ue) -> dict[str, Any]:
        info = meta.get(ue.key, {})
        return {
            "key": ue.key,
            "owner": info.get("owner"),
            "team": info.get("team"),
            "cost_center": info.get("cost_center"),
            "cost_usd": ue.cost_usd,
            "spend": spend(ue),
            "share": share(ue),
        }

    head, others = lead_rows(report.unit_economics)
    features = [feature_row(ue) for ue in head]
    if others is not None:
        features.append({**feature_row(others), "others": True})
    groups = []
    for key, title in (("by_owner", "By owner"), ("by_team", "By team"), ("by_cost_center", "By cost center")):
        rows = [r.to_dict() for r in getattr(report.showback, key)] if report.showback is not None else []
        shown_rows, rest = lead_groups(rows)
        total = sum((Decimal(str(r.get("cost_usd") or 0)) for r in rows), Decimal(0))
        groups.append(
            {
                "key": key,
                "title": title,
                "rows": shown_rows + ([rest] if rest else []),
                "all_rows": rows,
                "total": total,
                "cut": rest is not None,
            }
        )
    pairs = [
        (ue.key, float(ue.cost_usd if ue.shown_cost_usd is None else ue.shown_cost_usd)) for ue in report.unit_economics
    ]
    return {
        "features": features,
        "cut": others is not None,
        "groups": groups,
        "has_groups": any(g["rows"] for g in groups),
        "feature_chart": charts.spend_by_key(pairs, "Spend by feature", "byfeature"),
        "pareto_chart": charts.pareto(pairs),
    }


def _customers(report: Report) -> dict[str, Any] | None:
    """The customers section: the largest by AI cost (the rest in one row), the plans and the margin chart."""
    section = report.customers
    if section is None:
        return None
    from costlens.report.lead import TOP_ROWS

    rest = section.customers[TOP_ROWS:]
    others = None
    if rest:
        others = {
            "customer": f"{len(rest):,} others",
            "calls": sum(c.calls for c in rest),
            "ai_cost_usd": sum((c.ai_cost_usd for c in rest), Decimal(0)),
            "revenue_usd": sum((c.revenue_usd for c in rest if c.revenue_usd is not None), Decimal(0)),
        }
    earning = sorted(
        (c for c in section.customers if c.revenue_usd is not None and c.margin_pct is not None),
        key=lambda c: (-(c.revenue_usd or 0), c.customer),
    )
    chart = charts.margin_by_customer(
        [(c.customer, float(c.margin_pct or 0), c.over_share) for c in earning], 1 - section.max_ai_cost_share
    )
    return {
        "section": section,
        "rows": section.customers[:TOP_ROWS],
        "others": others,
        "with_revenue": section.revenue_usd is not None,
        "chart": chart,
    }


def _feature_costs(report: Report) -> dict[str, Any] | None:
    """The whole-cost table: the largest features by total (the rest in one row, the same sums), and the largest
    attributed infrastructure (every row is in the CSV export)."""
    section = report.feature_costs
    if section is None or not section.features:
        return None
    from costlens.report.lead import TOP_ROWS

    rest = section.features[TOP_ROWS:]
    others = None
    if rest:
        others = {
            name: sum((getattr(f, name) for f in rest), Decimal(0))
            for name in ("model_tokens_usd", "tool_charges_usd", "infrastructure_usd", "human_review_usd", "total_usd")
        }
        others["feature"] = f"{len(rest):,} others"
    return {
        "section": section,
        "rows": section.features[:TOP_ROWS],
        "others": others,
        "infrastructure": section.infrastructure[:TOP_ROWS],
        "infrastructure_cut": len(section.infrastructure) > TOP_ROWS,
    }


def _self_hosted(report: Report) -> list[Any] | None:
    """The deployments' months, the first TOP_ROWS (every row is in the CSV export)."""
    from costlens.report.lead import TOP_ROWS

    return report.self_hosted.months[:TOP_ROWS] if report.self_hosted is not None else None


def _budget_row(row: Budget) -> dict[str, Any]:
    return {
        **asdict(row),
        "spend": usd(row.shown_spend_usd),
        "forecast": usd(row.shown_forecast_usd),
        "status_class": _status_class(row.status),
        "slo_class": _status_class(row.slo_status),
    }


def _budgets(report: Report) -> dict[str, Any]:
    """The budgets to name (breached and warned first, then the largest; lead.lead_budgets), a row for the
    rest, the total, and every row for the appendix."""
    rows = report.budgets
    head, others = lead_budgets(rows)
    budgets = [r.monthly_budget_usd for r in rows if r.monthly_budget_usd is not None]
    return {
        "rows": [_budget_row(r) for r in head],
        "others": others,
        "all_rows": [_budget_row(r) for r in rows],
        "total_budget": sum((Decimal(str(b)) for b in budgets), Decimal(0)) if budgets else None,
        "total_spend": sum((r.shown_spend_usd for r in rows), Decimal(0)),
        "total_forecast": sum((r.shown_forecast_usd for r in rows), Decimal(0)),
    }


def _cost_value(report: Report, meta: dict[str, dict[str, Any]]) -> dict[str, Any]:
    valued = {k for k, v in meta.items() if v.get("value_per_accepted_outcome_usd") is not None}
    use_value = any(ue.key in valued for ue in report.unit_economics)
    rows: list[dict[str, Any]] = []
    for ue in report.unit_economics:
        per_outcome = meta.get(ue.key, {}).get("value_per_accepted_outcome_usd")
        value = ue.accepted_tasks * per_outcome if per_outcome is not None else None
        rows.append(
            {
                "key": ue.key,
                "cost_usd": ue.cost_usd,
                "spend": spend(ue),
                "accepted": ue.accepted_tasks,
                "tasks_with_outcome": ue.tasks_with_outcome,
                "cpao": ue.cost_per_accepted_outcome_usd,
                "value_per_outcome": per_outcome,
                "value_usd": value,
                "roi": (value / float(ue.cost_usd)) if value is not None and ue.cost_usd else None,
            }
        )
    measure = "value_usd" if use_value else "accepted"
    plotted = [r for r in rows if r[measure] is not None and (measure != "accepted" or r["tasks_with_outcome"])]
    if len(plotted) >= 3:
        costs = sorted(float(r["cost_usd"]) for r in plotted)
        values = sorted(float(r[measure]) for r in plotted)
        cost_mid, value_mid = costs[len(costs) // 2], values[len(values) // 2]
        for r in plotted:
            high_cost = float(r["cost_usd"]) >= cost_mid
            high_value = float(r[measure]) >= value_mid
            r["quadrant"] = {
                (True, True): "invest: high cost, high value",
                (True, False): "fix: high cost, low value",
                (False, True): "keep: low cost, high value",
                (False, False): "watch: low cost, low value",
            }[(high_cost, high_value)]
    label = "value of accepted outcomes ($)" if use_value else "accepted outcomes"
    chart = charts.cost_value_matrix([(r["key"], float(r["cost_usd"]), float(r[measure])) for r in plotted], label)
    head, others = lead_rows(report.unit_economics)
    shown = rows[: len(head)]
    if others is not None:  # the tail as one row: its summed spend, outcomes and value
        tail = rows[len(head) :]
        values = [r["value_usd"] for r in tail if r["value_usd"] is not None]
        value = sum(values) if values else None
        shown.append(
            {
                "key": others.key,
                "others": True,
                "cost_usd": others.cost_usd,
                "spend": spend(others),
                "accepted": sum(r["accepted"] for r in tail),
                "tasks_with_outcome": sum(r["tasks_with_outcome"] for r in tail),
                "cpao": None,
                "value_per_outcome": None,
                "value_usd": value,
                "roi": value / float(others.cost_usd) if value is not None and others.cost_usd else None,
            }
        )
    return {
        "rows": shown,
        "all_rows": rows,
        "cut": others is not None,
        "use_value": use_value,
        "measure_label": label,
        "chart": chart,
        "has_outcomes": any(r["tasks_with_outcome"] for r in rows),
    }


_EVIDENCE_SKIP = {"thresholds", "example_call_ids"}


def _leaks(report: Report) -> list[dict[str, Any]]:
    out = []
    for finding in report.leaks:
        leak = finding.as_dict()
        evidence = finding.evidence
        examples = evidence.get("example_call_ids") or []
        out.append(
            {
                **leak,
                "evidence_items": {k: v for k, v in evidence.items() if k not in _EVIDENCE_SKIP},
                "examples": [str(e) for e in examples[:3]] if isinstance(examples, list) else [],
                "severity_class": {"high": "bad", "medium": "warn", "low": "muted"}.get(
                    str(leak.get("severity")), "muted"
                ),
            }
        )
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(out, key=lambda f: (order.get(str(f.get("severity")), 3), -(_to_float(f.get("wasted_usd")) or 0)))


def _levers(report: Report) -> dict[str, Any]:
    levers = sorted(report.levers, key=lambda lv: lv.rank)
    summary = report.lever_summary
    from costlens.money import round_cents

    # the bars carry the figures as shown (cents), so the spend left reads as start − the savings shown
    start = float(round_cents(summary.monthly_spend_usd if summary is not None else report.totals.cost_usd))
    chart = charts.waterfall(
        ("spend per month", start),
        [(humanize(lv.lever), -(_to_float(lever_savings(lv)) or 0.0)) for lv in levers],
        "after levers",
        "Monthly spend after the ranked levers (applied in sequence)",
        "leverfall",
    )
    return {
        "levers": levers,
        "summary": summary.to_dict() if summary is not None else {},
        "chart": chart,
        "excluded": [e.to_dict() for e in summary.excluded] if summary is not None else [],
        "assumptions": list(summary.assumptions) if summary is not None else [],
    }


def _thresholds(report: Report) -> list[dict[str, Any]]:
    """Every detector threshold quoted in leak evidence, with the leak kinds that used it."""
    seen: dict[tuple[str, str], set[str]] = {}
    for leak in report.leaks:
        thresholds = leak.evidence.get("thresholds")
        if not isinstance(thresholds, dict):
            continue
        for name, value in thresholds.items():
            seen.setdefault((str(name), fmt_value(value)), set()).add(leak.kind)
    return [
        {"name": name, "value": value, "kinds": ", ".join(sorted(kinds))}
        for (name, value), kinds in sorted(seen.items())
    ]


def _coverage(report: Report) -> dict[str, Any]:
    coverage = report.coverage
    return {
        "unpriced": [asdict(m) for m in coverage.unpriced_models],
        "items": [
            (
                "Priced coverage",
                "priced_coverage_pct",
                "—" if report.totals.priced_coverage_pct is None else f"{report.totals.priced_coverage_pct:.1f}%",
                raw(report.totals.priced_coverage_pct),
            ),
            ("Unpriced calls", "unpriced_calls", num(report.totals.unpriced_calls), raw(report.totals.unpriced_calls)),
            (
                "Quarantined input rows",
                "quarantined_rows",
                num(coverage.quarantined_rows),
                raw(coverage.quarantined_rows),
            ),
            (
                "Skipped input rows (valid, not applicable)",
                "skipped_rows",
                num(coverage.skipped_rows),
                raw(coverage.skipped_rows),
            ),
            (
                "Unattributed spend (no feature)",
                "unattributed_cost_usd",
                _unattributed(report),
                raw(coverage.unattributed_cost_usd),
            ),
            (
                "Calls without a task id",
                "calls_without_task",
                num(coverage.calls_without_task),
                raw(coverage.calls_without_task),
            ),
            (
                "Calls dated by file time",
                "calls_timed_by_file",
                num(coverage.calls_timed_by_file),
                raw(coverage.calls_timed_by_file),
            ),
            ("Billing lines in the period", "billing_lines", num(coverage.billing_lines), raw(coverage.billing_lines)),
            (
                "AI spend on the bills",
                "ai_billed_cost_usd",
                usd(coverage.ai_billed_cost_usd),
                raw(coverage.ai_billed_cost_usd),
            ),
        ],
    }


def _recon_cents(report: Report) -> dict[str, Any]:
    """The reconciliation tables' cents (costlens.reconcile.build), so they foot as in the terminal."""
    recon = report.reconciliation
    if not getattr(recon, "has_ai_bill", False):
        return {"recon_cents": {}, "recon_steps": {}}
    from costlens.reconcile.build import shown_bridge, shown_causes

    return {"recon_cents": shown_causes(recon), "recon_steps": shown_bridge(recon)}


def _unattributed(report: Report) -> str:
    """The unattributed spend as the feature tables show it (the "(unattributed)" row's cents)."""
    from costlens.showback import UNATTRIBUTED

    for ue in report.unit_economics:
        if ue.key == UNATTRIBUTED and ue.cost_usd == report.coverage.unattributed_cost_usd:
            return spend(ue)
    return usd(report.coverage.unattributed_cost_usd)


def build_view(report: Report, config: Config | None = None) -> dict[str, Any]:
    meta = _feature_meta(report, config)
    last_day = date.fromordinal(report.period.end.toordinal() - 1)
    economics = getattr(config, "economics", None)
    return {
        "r": report,
        "t": report.totals,
        "sections": SECTIONS,
        "period_label": f"{report.period.start.isoformat()} to {last_day.isoformat()}",
        "summary": _summary(report),
        "showback": _showback(report, meta),
        "customers": _customers(report),
        "feature_costs": _feature_costs(report),
        "self_hosted": _self_hosted(report),
        "infrastructure_tags": ", ".join(
            config.infrastructure.feature_tags if config is not None else InfrastructureConfig().feature_tags
        ),
        "budgets": _budgets(report),
        "cost_value": _cost_value(report, meta),
        "leaks": _leaks(report),
        "levers": _levers(report),
        "coverage": _coverage(report),
        "reconciliation": report.reconciliation or {},
        **_recon_cents(report),
        "thresholds": _thresholds(report),
        "maturity": report.maturity or {},
        "change_method": report.change.split.method if report.change is not None else CHANGE_METHOD,
        "config_path": getattr(config, "path", None),
        "economics": economics,
        "ue_cost_columns": UE_COST_COLUMNS,
        "ue_value_columns": UE_VALUE_COLUMNS,
        "ue_model_columns": UE_COST_COLUMNS[:6],
        "ue_features": _lead(report.unit_economics, report),
        "ue_models": _lead(report.by_model, report),
        "ue_teams": _lead(report.by_team, report),
        "levers_total": {
            name: lever_total(report.lever_summary, name)
            for name in ("total_monthly_savings_usd", "total_savings_low_usd", "total_savings_high_usd")
        },
    }


def _lead(rows: list[Any], report: Report) -> dict[str, Any]:
    head, others = lead_rows(rows)
    return {
        "rows": head + ([others] if others is not None else []),
        "cut": others is not None,
        "others": others,
        "total": report.total_row,
    }


def _column(title: str, getter, css: str = "num"):
    return {"title": title, "cell": getter, "css": css}


UE_COST_COLUMNS = [
    _column("Spend", spend),
    _column("Share", share),
    _column("Calls", lambda r: num(r.calls)),
    _column("Tasks", lambda r: num(r.tasks)),
    _column("$/call", lambda r: unit_usd(r.cost_per_call_usd)),
    _column("Calls/task", lambda r: num(r.calls_per_task, 1)),
    _column("$/task", lambda r: unit_usd(r.cost_per_task_usd)),
    _column("p95 $/task", lambda r: unit_usd(r.p95_cost_per_task_usd)),
    _column("Unpriced calls", lambda r: num(r.unpriced_calls)),
]
UE_VALUE_COLUMNS = [
    _column("Accepted", lambda r: pct(r.acceptance_rate)),
    _column("QA $/task", lambda r: unit_usd(r.quality_adjusted_cost_per_task_usd)),
    _column("$/accepted outcome", lambda r: unit_usd(r.cost_per_accepted_outcome_usd)),
    _column("Retry", lambda r: pct(r.retry_rate)),
    _column("Avg input tok.", lambda r: num(r.avg_input_tokens)),
    _column("Premium $", lambda r: pct(r.premium_spend_share)),
    _column("Cache hit", lambda r: pct(r.cache_hit_rate)),
    _column("Review", lambda r: pct(r.human_review_rate)),
    _column("p95 ms", lambda r: num(r.p95_latency_ms)),
]


# ---------------------------------------------------------------- jinja2


def _environment():
    from jinja2 import ChainableUndefined, Environment, PackageLoader, Undefined

    env = Environment(
        loader=PackageLoader("costlens.report", "templates"),
        autoescape=True,  # every template, whatever its extension
        undefined=ChainableUndefined,  # a missing dict key renders empty instead of failing the report
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def defined(function):
        """A formatter that takes a missing value (jinja2 Undefined: a key the dict does not have) as None."""

        def wrapper(value: Any, *args: Any) -> Any:
            return function(None if isinstance(value, Undefined) else value, *args)

        return wrapper

    formatters = {
        "usd": usd,
        "unit_usd": unit_usd,
        "pct": pct,
        "pct_shown": pct_shown,
        "num": num,
        "raw": raw,
        "signed_usd": signed_usd,
        "fmt": fmt_value,
        "humanize": humanize,
    }
    formatters = {name: defined(function) for name, function in formatters.items()}
    env.filters.update(formatters, status_class=_status_class)
    env.globals.update(
        formatters,
        columns_of=_columns_of,
        features_text=lambda names: listing(list(names), 5),
        usd_range=lambda low, high: usd_range(*(None if isinstance(v, Undefined) else v for v in (low, high))),
    )
    return env


_ENV = None


def render_html(report: Report, config: Config | None = None) -> str:
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV.get_template("report.html.j2").render(**build_view(report, config))
