"""The decision tree (docs/definitions.md#diagnosis, seed 000): when cost rises, which way does it point?

1. Is cost per call rising, or cost per accepted outcome, or both?  both → start with context and routing;
   only per accepted outcome → improve quality and reduce rework first; only per call → routing, caching, context.
2. Is growth in all features or a few?  a few → optimise those selectively.
3. Is it driven by retries (failed attempts' share of spend, and of the growth)?  yes → fix stability first.

Inputs are per-period snapshots: the Totals and the per-feature UnitEconomics rows of costlens.model.report,
the period length (spend is compared per 30.44-day month, so periods of different lengths compare fairly) and,
where known, the cost of failed attempts per feature (else estimated as retry_rate × cost, and flagged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens.db import one_row
from costlens.model.levers import Diagnosis
from costlens.money import listing

if TYPE_CHECKING:
    import duckdb

    from costlens.model.report import Period, Totals, UnitEconomics

DAYS_PER_MONTH = Decimal("30.44")
_ZERO = Decimal(0)


@dataclass
class PeriodSnapshot:
    totals: Totals
    features: list[UnitEconomics]
    days: float | None = None  # days with data (the period's length when the logs cover all of it)
    retry_cost_usd: dict[str, Decimal] | None = None  # cost of failed attempts per feature
    partial_note: str | None = None  # "September 2026 has data for 10 of 30 days (…)" when they do not


@dataclass(frozen=True)
class DiagnosisThresholds:
    flat_pct: float = 5.0  # a change within ±5 % is flat
    driver_share: float = 0.8  # growth drivers: the fewest features carrying 80 % of the growth
    few_share_of_features: float = 0.5  # "a few" = drivers are at most half the features (and not all)
    retry_share_of_growth: float = 0.3  # retry-driven if failed attempts carry ≥ 30 % of the growth …
    retry_share_of_spend: float = 0.2  # … or are ≥ 20 % of spend


def snapshot(value: Any, retry_cost_usd: dict[str, Decimal] | None = None) -> PeriodSnapshot:
    """A PeriodSnapshot from a PeriodSnapshot, a Report, a (totals, features[, days]) tuple or a dict."""
    if isinstance(value, PeriodSnapshot):
        return value
    if hasattr(value, "totals") and hasattr(value, "unit_economics"):
        period = getattr(value, "period", None)
        days = (period.end - period.start).days if period is not None else None
        covered = getattr(getattr(value, "coverage", None), "days_with_data", 0)
        note = None
        if period is not None and covered:
            from costlens.period import coverage_note

            note = coverage_note(period, value.coverage)
            days = covered
        return PeriodSnapshot(value.totals, list(value.unit_economics), days, retry_cost_usd, note)
    if isinstance(value, dict):
        return PeriodSnapshot(
            value["totals"],
            list(value.get("features") or value.get("unit_economics") or []),
            value.get("days"),
            value.get("retry_cost_usd", retry_cost_usd),
        )
    if isinstance(value, tuple | list) and 2 <= len(value) <= 4:
        totals, features, *rest = value
        days = rest[0] if rest else None
        retry = rest[1] if len(rest) > 1 else retry_cost_usd
        return PeriodSnapshot(totals, list(features), days, retry)
    raise TypeError("diagnose() needs a PeriodSnapshot, a Report, or (totals, feature rows[, days])")


def _per_month(value: Any, s: PeriodSnapshot) -> Decimal:
    """A period amount as a 30.44-day month (multiply first: exact for whole-cent amounts over 30 or 31 days)."""
    amount = Decimal(value or 0)
    return amount * DAYS_PER_MONTH / Decimal(str(s.days)) if s.days else amount


def _trend(current: float | None, previous: float | None, flat_pct: float) -> tuple[float | None, str]:
    if current is None or previous is None:
        return None, "unknown"
    if previous == 0:
        return None, "rising" if current > 0 else "flat"
    change = (current - previous) / previous * 100.0
    if change > flat_pct:
        return change, "rising"
    if change < -flat_pct:
        return change, "falling"
    return change, "flat"


def _retry_costs(s: PeriodSnapshot) -> tuple[dict[str, Decimal], bool]:
    if s.retry_cost_usd is not None:
        return {k: Decimal(v or 0) for k, v in s.retry_cost_usd.items()}, False
    out = {}
    for row in s.features:
        rate = row.retry_rate or 0.0
        out[row.key] = Decimal(row.cost_usd or 0) * Decimal(str(rate))
    return out, True


def _pareto(values: dict[str, Decimal], share: float) -> list[tuple[str, Decimal]]:
    positive = sorted(((k, v) for k, v in values.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    total = sum((v for _, v in positive), _ZERO)
    chosen, running = [], _ZERO
    for key, value in positive:
        if total > 0 and running >= total * Decimal(str(share)):
            break
        chosen.append((key, value))
        running += value
    return chosen


def diagnose(current: Any, previous: Any | None = None, *, thresholds: DiagnosisThresholds | None = None) -> Diagnosis:
    """Answer the decision tree for `current` (optionally against `previous`), in fields and one paragraph."""
    t = thresholds or DiagnosisThresholds()
    cur = snapshot(current)
    prev = snapshot(previous) if previous is not None else None

    cpc = cur.totals.cost_per_call_usd
    cpao = cur.totals.cost_per_accepted_outcome_usd
    prev_cpc = prev.totals.cost_per_call_usd if prev else None
    prev_cpao = prev.totals.cost_per_accepted_outcome_usd if prev else None
    cpc_change, cpc_trend = _trend(cpc, prev_cpc, t.flat_pct)
    cpao_change, cpao_trend = _trend(cpao, prev_cpao, t.flat_pct)
    if cpc_trend == "unknown":
        rising = "unknown"
    elif cpc_trend == "rising" and cpao_trend == "rising":
        rising = "both"
    elif cpc_trend == "rising":
        rising = "cost_per_call"
    elif cpao_trend == "rising":
        rising = "cost_per_accepted_outcome"
    else:
        rising = "neither"

    spend = _per_month(cur.totals.cost_usd, cur)
    cur_features = {r.key: _per_month(r.cost_usd, cur) for r in cur.features}
    leaders = _pareto(cur_features, t.driver_share)
    spend_leaders = [
        {"feature": k, "monthly_cost_usd": v, "share_of_spend": float(v / spend) if spend else None} for k, v in leaders
    ]

    retry_cur, estimated = _retry_costs(cur)
    retry_total = _per_month(sum(retry_cur.values(), _ZERO), cur)
    retry_share = float(retry_total / spend) if spend > 0 else None

    prev_spend = change = change_pct = None
    growth_scope, drivers, concentration, retry_growth_share = "unknown", [], None, None
    if prev is not None:
        prev_spend = _per_month(prev.totals.cost_usd, prev)
        change = spend - prev_spend
        change_pct = float(change / prev_spend * 100) if prev_spend > 0 else None
        prev_features = {r.key: _per_month(r.cost_usd, prev) for r in prev.features}
        deltas = {
            k: cur_features.get(k, _ZERO) - prev_features.get(k, _ZERO) for k in set(cur_features) | set(prev_features)
        }
        growing = {
            k: d
            for k, d in deltas.items()
            if d > 0 and (prev_features.get(k, _ZERO) == 0 or d / prev_features[k] * 100 > Decimal(str(t.flat_pct)))
        }
        total_growth = sum(growing.values(), _ZERO)
        active = [k for k in deltas if cur_features.get(k, _ZERO) > 0 or prev_features.get(k, _ZERO) > 0]
        if not growing or total_growth <= 0:
            growth_scope = "none"
        else:
            chosen = _pareto(growing, t.driver_share)
            drivers = [{"feature": k, "change_usd": v, "share_of_growth": float(v / total_growth)} for k, v in chosen]
            concentration = float(sum((v for _, v in chosen), _ZERO) / total_growth)
            few = len(chosen) < len(active) and len(chosen) <= t.few_share_of_features * len(active)
            growth_scope = "few" if few else "all"
        retry_prev, prev_estimated = _retry_costs(prev)
        estimated = estimated or prev_estimated
        retry_prev_total = _per_month(sum(retry_prev.values(), _ZERO), prev)
        if change is not None and change > 0:
            retry_growth_share = float((retry_total - retry_prev_total) / change)

    retry_driven: bool | None
    if retry_share is None:
        retry_driven = None
    else:
        retry_driven = retry_share >= t.retry_share_of_spend or (
            retry_growth_share is not None and retry_growth_share >= t.retry_share_of_growth
        )

    start_with: list[str] = []
    if retry_driven:
        start_with.append("stability_guardrails")
    if rising == "both":
        start_with += ["context_discipline", "model_routing"]
    elif rising == "cost_per_accepted_outcome":
        start_with += ["quality_and_rework"]
    elif rising == "cost_per_call":
        start_with += ["model_routing", "prompt_caching", "context_discipline"]

    diagnosis = Diagnosis(
        has_previous=prev is not None,
        cost_per_call_usd=cpc,
        previous_cost_per_call_usd=prev_cpc,
        cost_per_call_change_pct=cpc_change,
        cost_per_call_trend=cpc_trend,
        cost_per_accepted_outcome_usd=cpao,
        previous_cost_per_accepted_outcome_usd=prev_cpao,
        cost_per_accepted_outcome_change_pct=cpao_change,
        cost_per_accepted_outcome_trend=cpao_trend,
        rising=rising,
        monthly_spend_usd=spend,
        previous_monthly_spend_usd=prev_spend,
        spend_change_usd=change,
        spend_change_pct=change_pct,
        growth_scope=growth_scope,
        growth_drivers=drivers,
        growth_concentration=concentration,
        spend_leaders=spend_leaders,
        retry_share_of_spend=retry_share,
        retry_share_of_growth=retry_growth_share,
        retry_driven=retry_driven,
        retry_cost_estimated=estimated,
        start_with=start_with,
        statement="",
    )
    notes = [s.partial_note for s in (prev, cur) if s is not None and s.partial_note]
    if notes and prev is not None and cur.days and prev.days:
        diagnosis.partial_notes = notes
        diagnosis.spend_per_day_usd = Decimal(cur.totals.cost_usd or 0) / Decimal(str(cur.days))
        diagnosis.previous_spend_per_day_usd = Decimal(prev.totals.cost_usd or 0) / Decimal(str(prev.days))
    diagnosis.statement = _statement(diagnosis, t)
    return diagnosis


def _money(value: float | Decimal | None) -> str:
    """An amount (spend, its change) as every output shows it: to the cent (costlens.money)."""
    from costlens.money import usd

    return usd(value)


def _unit(value: float | Decimal | None) -> str:
    """A unit cost (per call, per accepted outcome): four places below $1 (costlens.money)."""
    from costlens.money import unit_usd

    return unit_usd(value)


def _change(pct: float | None) -> str:
    return "" if pct is None else f" ({pct:+.1f}%)"


def _statement(d: Diagnosis, t: DiagnosisThresholds) -> str:
    parts: list[str] = []
    if not d.has_previous:
        parts.append(
            "There is no earlier period to compare with, so it is not known whether cost per call or "
            "cost per accepted outcome is rising."
        )
    else:
        call = (
            f"cost per call is {d.cost_per_call_trend}{_change(d.cost_per_call_change_pct)}, "
            f"{_unit(d.previous_cost_per_call_usd)} → {_unit(d.cost_per_call_usd)}"
        )
        if d.cost_per_accepted_outcome_trend == "unknown":
            outcome = "cost per accepted outcome is unknown (no outcomes in one of the periods)"
        else:
            outcome = (
                f"cost per accepted outcome is {d.cost_per_accepted_outcome_trend}"
                f"{_change(d.cost_per_accepted_outcome_change_pct)}, "
                f"{_unit(d.previous_cost_per_accepted_outcome_usd)} → "
                f"{_unit(d.cost_per_accepted_outcome_usd)}"
            )
        verdict = {
            "both": "Both are rising: start with context and routing.",
            "cost_per_call": "Only the price of a call is rising: start with routing, caching and context.",
            "cost_per_accepted_outcome": "Only cost per accepted outcome is rising: improve quality and reduce "
            "rework first, before cutting the price of calls.",
            "neither": "Neither is rising.",
            "unknown": "",
        }[d.rising]
        parts.append(f"Compared with the previous period, {call}; {outcome}. {verdict}".strip())
        if (
            d.spend_change_usd is not None
            and d.partial_notes
            and d.spend_per_day_usd is not None
            and d.previous_spend_per_day_usd is not None
        ):
            # Totals of periods the logs cover in part would compare 10 days with 14: compare daily rates.
            per_day = d.spend_per_day_usd - d.previous_spend_per_day_usd
            direction = "grew" if per_day > 0 else "fell" if per_day < 0 else "did not change"
            change = (
                f" ({float(per_day / d.previous_spend_per_day_usd * 100):+.1f}%)"
                if d.previous_spend_per_day_usd > 0
                else ""
            )
            parts.append(
                f"{'; '.join(d.partial_notes)}, so spend is compared per day with data: it {direction} "
                f"from {_money(d.previous_spend_per_day_usd)} to {_money(d.spend_per_day_usd)} a day"
                f"{change}."
            )
        elif d.spend_change_usd is not None:
            direction = "grew" if d.spend_change_usd > 0 else "fell" if d.spend_change_usd < 0 else "did not change"
            amount = _money(abs(d.spend_change_usd))
            parts.append(f"Monthly spend {direction} by {amount}{_change(d.spend_change_pct)}.")
        if d.growth_scope == "few":
            names = listing([x["feature"] for x in d.growth_drivers])
            verb = "carries" if len(d.growth_drivers) == 1 else "carry"
            parts.append(
                f"The growth is concentrated: {names} {verb} {d.growth_concentration:.0%} of it, so optimise "
                f"selectively there."
            )
        elif d.growth_scope == "all" and len(d.growth_drivers) == 1:  # the only feature
            parts.append(f"All of it is in {d.growth_drivers[0]['feature']}.")
        elif d.growth_scope == "all":
            parts.append(
                "The growth is spread across the features, so look for a common cause (prices, model mix, "
                "context size)."
            )
    if d.spend_leaders and (not d.has_previous or d.growth_scope in ("none", "unknown")):
        names = listing([x["feature"] for x in d.spend_leaders])
        share = sum(float(x["share_of_spend"] or 0) for x in d.spend_leaders)
        parts.append(f"{names} hold{'s' if len(d.spend_leaders) == 1 else ''} {share:.0%} of spend.")
    if d.retry_share_of_spend is not None:
        how = "an estimate from the retry rate" if d.retry_cost_estimated else "measured on the calls"
        retry = f"Failed attempts are {d.retry_share_of_spend:.1%} of spend ({how})"
        if d.retry_share_of_growth is not None:
            retry += f" and {max(d.retry_share_of_growth, 0):.0%} of the growth"
        retry += (
            ": the rise is retry-driven — fix stability (validation, capped retries, fallbacks) first."
            if d.retry_driven
            else ": not retry-driven."
        )
        parts.append(retry)
    return " ".join(p for p in parts if p)


# ------------------------------------------------------------------------------------- from the database


def retry_costs(con: duckdb.DuckDBPyConnection) -> dict[str, Decimal]:
    """Cost of failed attempts per feature in the current `period_calls`."""
    rows = con.execute("""
        SELECT feature_key, coalesce(sum(cost_usd) FILTER (WHERE status = 'error'), 0)
        FROM period_calls GROUP BY feature_key""").fetchall()
    return {str(k): Decimal(v) for k, v in rows}


def previous_period(period: Period) -> Period:
    """The period just before: the previous calendar month for a calendar month, else the same length."""
    from costlens.model.report import Period

    start, end = period.start, period.end
    is_month = start.day == 1 and end.day == 1 and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1
    if is_month:
        prev_start = (start - timedelta(days=1)).replace(day=1)
        return Period(prev_start, start)
    length = end - start
    return Period(start - length, start)


def snapshot_from_db(con: duckdb.DuckDBPyConnection, period: Period) -> PeriodSnapshot:
    """The snapshot of the period whose metrics tables are materialised now (compute_period_metrics). Its days
    are the days with data, so a period the logs cover in part is compared on its daily rate."""
    from costlens.engine import dimension_rows, totals_from_row
    from costlens.period import data_span, days_with_data, partial_note

    total = dimension_rows(con, "total", "key")
    features = dimension_rows(con, "feature", "cost_usd DESC, key")
    span = data_span(con, period)
    return PeriodSnapshot(
        totals_from_row(total[0] if total else None),
        features,
        days_with_data(span) or (period.end - period.start).days,
        retry_costs(con),
        partial_note(period, span),
    )


def diagnose_periods(
    con: duckdb.DuckDBPyConnection, config: Any, period: Period, cost_mode: str = "computed"
) -> Diagnosis:
    """Diagnose `period` against the one before it. Leaves the CURRENT period's tables materialised."""
    from costlens.engine import compute_period_metrics

    prev_period = previous_period(period)
    has_previous = (
        one_row(
            con.execute(
                "SELECT count(*) FROM calls WHERE ts >= ? AND ts < ?", [_ts(prev_period.start), _ts(prev_period.end)]
            )
        )[0]
        > 0
    )
    previous = None
    if has_previous:
        compute_period_metrics(con, config, prev_period, cost_mode)
        previous = snapshot_from_db(con, prev_period)
    compute_period_metrics(con, config, period, cost_mode)
    return diagnose(snapshot_from_db(con, period), previous)


def _ts(day: date) -> str:
    return day.isoformat()
