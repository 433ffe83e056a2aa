"""Budgets and cost SLOs per feature (use case), from costlens.toml `[features.<name>]`.

For every configured feature, and every feature seen in the period without configuration:

- spend_usd              the period's spend (the report's per-feature cost, exact Decimal).
- forecast_month_end_usd spend so far extrapolated to the end of the period by the elapsed share of it:
                         spend / elapsed share. A closed period (its end is past) forecasts its own spend. The
                         elapsed share is measured at `as_of` (default: the report's generation time); when the
                         clock is before the period (data dated in the future), at the end of the latest day
                         with calls.
- used_pct               spend / budget × 100.
- status                 hard_limit  spend ≥ hard_limit_usd
                         over        spend > monthly_budget_usd
                         warning     used_pct ≥ soft_alert_pct, or the forecast exceeds the budget (or reaches the
                                     hard limit)
                         ok          within budget
                         no_budget   neither a monthly budget nor a hard limit is set
- slo_status             cost per accepted outcome against cost_slo_per_accepted_outcome_usd:
                         breached (above it) | ok | no_slo (none set) | unknown (no accepted outcome yet).

Budgets are monthly. For a period that is not one calendar month (--since/--until), the budget and the hard limit
are prorated to the period's length (× days / 30.44) and `period_budget_usd` says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens.model.report import Budget
from costlens.money import round_cents
from costlens.money import usd as _usd

if TYPE_CHECKING:
    from costlens.config import Config, FeatureConfig
    from costlens.model.report import Period, Report, UnitEconomics

DAYS_PER_MONTH = Decimal("30.44")
Q6 = Decimal("0.000001")
STATUSES = ("ok", "warning", "over", "hard_limit", "no_budget")
SLO_STATUSES = ("ok", "breached", "no_slo", "unknown")
BREACHED = ("over", "hard_limit")


def is_calendar_month(period: Period) -> bool:
    start, end = period.start, period.end
    return start.day == 1 and end.day == 1 and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1


def _dt(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def elapsed_share(period: Period, as_of: datetime | None, latest_day: date | None = None) -> Decimal:
    """Share of the period elapsed at `as_of` (1 for a closed period). Exact Decimal in (0, 1]."""
    start, end = _dt(period.start), _dt(period.end)
    if as_of is None:
        as_of = datetime.now(UTC)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    if as_of >= end:
        return Decimal(1)
    point = as_of
    if as_of <= start:  # the clock is before the data: measure at the end of the latest day with calls
        point = _dt(latest_day + timedelta(days=1)) if latest_day is not None else end
    length = Decimal(int((end - start).total_seconds()))
    done = Decimal(int((min(point, end) - start).total_seconds()))
    if done <= 0:
        return Decimal(1)
    return min(Decimal(1), done / length)


def _money(value: float | int | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _latest_day(report: Report) -> date | None:
    days = [r.key for r in report.by_day if r.calls]
    if not days:
        return None
    try:
        return date.fromisoformat(max(days)[:10])
    except ValueError:
        return None


def budget_row(
    feature: str,
    settings: FeatureConfig | None,
    ue: UnitEconomics | None,
    *,
    share: Decimal,
    period_days: int | None,
    shown_spend: Decimal | None = None,
) -> Budget:
    """One budgets[] entry. `share` = elapsed share of the period; `period_days` = the period's length when it
    is not a calendar month (None for a month): monthly amounts are then prorated × days / 30.44.
    `shown_spend` is the feature's spend as every table shows it (the report's cents); the reason quotes it."""
    spend = Decimal(ue.cost_usd) if ue is not None else Decimal(0)
    spend_shown = round_cents(spend) if shown_spend is None else shown_spend
    monthly = _money(getattr(settings, "monthly_budget_usd", None))
    hard_monthly = _money(getattr(settings, "hard_limit_usd", None))
    soft = float(getattr(settings, "soft_alert_pct", 80.0) if settings is not None else 80.0)
    slo = getattr(settings, "cost_slo_per_accepted_outcome_usd", None)
    budget, hard = monthly, hard_monthly
    if period_days is not None:  # multiply first: exact for whole-cent amounts
        budget = None if monthly is None else monthly * period_days / DAYS_PER_MONTH
        hard = None if hard_monthly is None else hard_monthly * period_days / DAYS_PER_MONTH
    forecast = spend if share >= 1 else (spend / share).quantize(Q6)
    forecast_shown = spend_shown if share >= 1 else round_cents(forecast)  # a closed month: its spend, as shown
    used = float(spend / budget * 100) if budget else None
    forecast_used = float(forecast / budget * 100) if budget else None

    if budget is None and hard is None:
        status, why = "no_budget", "no monthly budget or hard limit set"
    elif hard is not None and spend >= hard:
        status, why = "hard_limit", f"spend {_usd(spend_shown)} reached the hard limit {_usd(hard)}"
    elif budget is not None and spend > budget:
        status, why = "over", f"spend {_usd(spend_shown)} is over the budget {_usd(budget)} ({used:.1f}%)"
    elif budget is not None and used is not None and used >= soft:
        status, why = "warning", f"{used:.1f}% of the budget {_usd(budget)} used (soft alert at {soft:g}%)"
    elif budget is not None and forecast > budget:
        status, why = "warning", f"forecast {_usd(forecast_shown)} exceeds the budget {_usd(budget)}"
    elif hard is not None and forecast >= hard:
        status, why = "warning", f"forecast {_usd(forecast_shown)} reaches the hard limit {_usd(hard)}"
    else:
        status = "ok"
        why = (
            f"{used:.1f}% of the budget {_usd(budget)} used"
            if used is not None
            else f"spend {_usd(spend_shown)} below the hard limit {_usd(hard)}"
        )

    cpao = ue.cost_per_accepted_outcome_usd if ue is not None else None
    if slo is None:
        slo_status = "no_slo"
    elif cpao is None:
        slo_status = "unknown"
    else:
        slo_status = "breached" if cpao > slo else "ok"
    return Budget(
        feature=feature,
        owner=getattr(settings, "owner", None),
        team=getattr(settings, "team", None),
        cost_center=getattr(settings, "cost_center", None),
        criticality=getattr(settings, "criticality", None),
        monthly_budget_usd=monthly,
        spend_usd=spend,
        forecast_month_end_usd=forecast,
        shown_spend_usd=spend_shown,
        shown_forecast_usd=forecast_shown,
        used_pct=used,
        forecast_used_pct=forecast_used,
        soft_alert_pct=soft,
        hard_limit_usd=hard_monthly,
        status=status,
        reason=why,
        cost_slo_per_accepted_outcome_usd=_money(slo),
        cost_per_accepted_outcome_usd=cpao,
        slo_status=slo_status,
        accepted_tasks=ue.accepted_tasks if ue is not None else 0,
        period_budget_usd=budget,
        period_hard_limit_usd=hard,
        elapsed_share=float(share),
        configured=settings is not None,
    )


def compute_budgets(con: Any, config: Config, report: Report, *, as_of: datetime | None = None) -> list[Budget]:
    """budgets[] for the report (see the module docstring). `con` is not needed: everything comes from the
    report and the config; it is accepted for a uniform signature. Ordered by spend, then name."""
    features = dict(config.features) if config is not None else {}
    seen = {row.key: row for row in report.unit_economics}
    share = elapsed_share(report.period, as_of if as_of is not None else report.generated_at, _latest_day(report))
    days = None if is_calendar_month(report.period) else (report.period.end - report.period.start).days
    from costlens.showback import feature_figures

    shown = dict(zip(seen, feature_figures(report)[0]))
    names = list(features) + [name for name in seen if name not in features]
    rows = [
        budget_row(name, features.get(name), seen.get(name), share=share, period_days=days, shown_spend=shown.get(name))
        for name in names
    ]
    rows.sort(key=lambda r: (-r.spend_usd, r.feature))
    return rows
