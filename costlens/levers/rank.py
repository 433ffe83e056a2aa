"""Rank the levers (docs/definitions.md#savings-per-effort) from the leak findings, with savings that never overlap.

How savings are sequenced, per feature (money is monthly: the period's figures × 30.44 / period days):
- each lever L in feature F has a fraction p(L, F) of F's ORIGINAL monthly spend it saves: its findings'
  est_monthly_savings_usd / F's monthly spend, capped at 1. Findings of one kind add up (detectors emit disjoint
  rows, e.g. one per model); different kinds feeding the same lever may overlap, so they combine as
  1 − Π(1 − p_kind), never above 1;
- levers are applied one after another on what is LEFT: savings(L, F) = p(L, F) × remaining(F), then
  remaining(F) −= savings(L, F). So routing first lowers the cost later levers act on, each feature's savings
  are ≤ its spend, and Σ savings ≤ total spend, always (rounded down to 1e-12 USD so rounding cannot break it);
- the order is greedy by savings per effort day: at each step the lever with the most savings on the
  remaining cost per effort day goes next (ties: lower quality risk, then the order of LEVERS:
  docs/definitions.md#levers). The sequence of savings per effort day is therefore non-increasing: rank order IS
  the application order.
Ranges: low = p_low × remaining before the lever; high = p_high × remaining before it, with the extra above the
estimate scaled down per feature so all levers at their high end together still never exceed the spend.
Self-hosting and distillation come from `extra["usage"]` (costlens.levers.breakeven.feature_model_usage) and
are candidates only past their break-even (costlens/levers/breakeven.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from costlens.levers import breakeven as be
from costlens.model.levers import Diagnosis, ExcludedLever, Lever, LeverPlan
from costlens.settings.levers import LEVERS, RISKS, LeverSettings, lever_settings

DAYS_PER_MONTH = Decimal("30.44")
_QUANT = Decimal("1e-12")
_ZERO = Decimal(0)
_ONE = Decimal(1)

# The lever a finding's kind maps to when the finding does not name one (issue-4 interface).
KIND_TO_LEVER = {
    "context_bloat": "context_discipline",
    "premium_overuse": "model_routing",
    "retries": "stability_guardrails",
    "batchable": "batch_processing",
    "output_verbosity": "output_controls",
    "agent_loops": "agent_budgets",
    "input_quality": "stability_guardrails",
    "cache_miss": "prompt_caching",
    "gpu_underuse": "gpu_right_sizing",
}

_RISK_REASON = {
    "model_routing": "a cheaper model can lose quality on hard cases: gate the switch on acceptance (cost-quality A/B)",
    "prompt_caching": "caching a stable prefix does not change outputs",
    "batch_processing": "same model and prompts; results arrive asynchronously (within 24 h)",
    "context_discipline": "trimming context can drop facts the answer needs: check acceptance after the change",
    "output_controls": "a max_tokens cap can truncate answers that really need the length",
    "response_cache": "cached answers can go stale or miss context: set a TTL and key on everything that matters",
    "semantic_cache": "a near-repeat can ask something else (another account, date or number): gate hits on a "
    "similarity threshold validated on accepted answers",
    "stability_guardrails": "validation and capped retries do not change successful answers",
    "agent_budgets": "a step budget can stop an agent before it finishes: escalate instead of failing",
    "distillation": "a distilled student is a new model: it needs its own evaluation set and monitoring",
    "self_hosting": "an open model replaces the API model: evaluate it, and plan for serving reliability",
    "gpu_right_sizing": "fewer idle replicas serve the same model: watch queueing latency at the peaks (moving the "
    "traffic to an API instead is a model change to evaluate)",
}


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _floor(value: Decimal) -> Decimal:
    return value.quantize(_QUANT, rounding=ROUND_FLOOR)


def _risk_index(risk: str | None) -> int:
    return RISKS.index(risk) if risk in RISKS else 1


def finding_lever(finding: Any) -> str | None:
    """The lever of a finding: its own `lever`, else by kind (cache_miss: by its evidence sub-kind)."""
    lever = _get(finding, "lever")
    if lever:
        return lever
    kind = _get(finding, "kind")
    if kind == "cache_miss":
        evidence = _get(finding, "evidence") or {}
        sub = str(evidence.get("sub_kind") or evidence.get("subkind") or evidence.get("type") or "")
        if "semantic" in sub:
            return "semantic_cache"
        return "response_cache" if "response" in sub else "prompt_caching"
    return KIND_TO_LEVER.get(kind)


@dataclass
class _Part:
    """One lever in one feature: its fractions of the feature's original monthly spend, and its sources."""

    p: Decimal = _ZERO
    p_low: Decimal = _ZERO
    p_high: Decimal = _ZERO
    findings: list[Any] = field(default_factory=list)
    breakevens: list[be.BreakEven] = field(default_factory=list)


def _combine(fractions: list[tuple[Decimal, Decimal, Decimal]]) -> tuple[Decimal, Decimal, Decimal]:
    keep = [_ONE, _ONE, _ONE]
    for triple in fractions:
        for i, p in enumerate(triple):
            keep[i] *= _ONE - min(_ONE, max(_ZERO, p))
    p_low, p, p_high = (_ONE - k for k in keep)
    return min(p_low, p), p, max(p_high, p)


def _finding_parts(findings: list[Any], monthly: dict[str, Decimal], notes: list[str]) -> dict[str, dict[str, _Part]]:
    by_kind: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    ignored_levers: set[str] = set()
    no_spend: set[str] = set()
    for f in findings:
        lever = finding_lever(f)
        if lever not in LEVERS:
            ignored_levers.add(str(lever))
            continue
        feature = str(_get(f, "feature") or "(unattributed)")
        mid = _dec(_get(f, "est_monthly_savings_usd")) or _ZERO
        if mid <= 0:
            continue
        if monthly.get(feature, _ZERO) <= 0:
            no_spend.add(feature)
            continue
        by_kind[(lever, feature, str(_get(f, "kind")))].append(f)
    if ignored_levers:
        notes.append(f"findings with an unknown lever were ignored: {', '.join(sorted(ignored_levers))}")
    if no_spend:
        notes.append(
            "findings in features with no priced spend in the period were ignored: " + ", ".join(sorted(no_spend))
        )

    fractions: dict[tuple[str, str], list[tuple[Decimal, Decimal, Decimal]]] = defaultdict(list)
    parts: dict[str, dict[str, _Part]] = defaultdict(dict)
    for (lever, feature, _kind), group in by_kind.items():
        spend = monthly[feature]
        mid = low = high = _ZERO
        part = parts[lever].setdefault(feature, _Part())
        for f in group:
            m = _dec(_get(f, "est_monthly_savings_usd")) or _ZERO
            lo = _dec(_get(f, "savings_low_usd"))
            hi = _dec(_get(f, "savings_high_usd"))
            lo = m / 2 if lo is None else max(_ZERO, min(lo, m))
            hi = m * Decimal("1.5") if hi is None else max(hi, m)
            mid, low, high = mid + m, low + lo, high + hi
            part.findings.append(f)
        fractions[(lever, feature)].append((min(_ONE, low / spend), min(_ONE, mid / spend), min(_ONE, high / spend)))
    for (lever, feature), triples in fractions.items():
        part = parts[lever][feature]
        part.p_low, part.p, part.p_high = _combine(triples)
    return parts


def _task_class(feature: str, config: Any, extra: dict[str, Any], findings: list[Any]) -> str | None:
    classes = extra.get("task_classes") or {}
    if feature in classes:
        return classes[feature]
    features = getattr(config, "features", None) or {}
    fc = features.get(feature) if isinstance(features, dict) else None
    if fc is not None and _get(fc, "task_class"):
        return _get(fc, "task_class")
    for f in findings:
        if _get(f, "feature") == feature and _get(f, "task_class"):
            return _get(f, "task_class")
    return None


def _breakeven_parts(
    usage: list[dict[str, Any]],
    factor: Decimal,
    monthly: dict[str, Decimal],
    settings: LeverSettings,
    config: Any,
    extra: dict[str, Any],
    findings: list[Any],
    parts: dict[str, dict[str, _Part]],
    excluded: list[ExcludedLever],
) -> None:
    closest: dict[str, be.BreakEven] = {}
    for row in usage:
        feature = str(row.get("feature") or "(unattributed)")
        spend = monthly.get(feature, _ZERO)
        api = _floor((_dec(row.get("cost_usd")) or _ZERO) * factor)
        tokens = int(math.floor(float(row.get("tokens") or 0) * float(factor)))
        if api <= 0 or spend <= 0 or tokens <= 0:
            continue
        task_class = _task_class(feature, config, extra, findings)
        for result in (
            be.self_hosting(feature, row.get("provider"), str(row.get("model")), api, tokens, settings.breakeven),
            be.distillation(
                feature, row.get("provider"), str(row.get("model")), api, tokens, settings.breakeven, task_class
            ),
        ):
            if not result.recommended:
                best = closest.get(result.lever)
                if best is None or result.monthly_api_usd > best.monthly_api_usd:
                    closest[result.lever] = result
                continue
            part = parts[result.lever].setdefault(feature, _Part())
            part.breakevens.append(result)
    for lever, part_by_feature in list(parts.items()):
        if lever not in ("self_hosting", "distillation"):
            continue
        for feature, part in part_by_feature.items():
            if not part.breakevens:
                continue
            spend = monthly[feature]
            mid = sum((b.monthly_savings_usd for b in part.breakevens), _ZERO)
            low = sum((b.savings_low_usd for b in part.breakevens), _ZERO)
            high = sum((b.savings_high_usd for b in part.breakevens), _ZERO)
            part.p_low, part.p, part.p_high = (min(_ONE, v / spend) for v in (low, mid, high))
    for lever, result in closest.items():
        if lever not in parts:
            excluded.append(ExcludedLever(lever, result.reason, closest=result.as_evidence()))


def _sequence(
    parts: dict[str, dict[str, _Part]], monthly: dict[str, Decimal], settings: LeverSettings, risk: dict[str, str]
) -> list[tuple[str, dict[str, tuple[Decimal, Decimal, Decimal, Decimal]]]]:
    """Greedy order by savings per effort day on the remaining cost; per feature (before, mid, low, high')."""
    remaining = dict(monthly)
    pending = dict(parts)
    order = []
    while pending:

        def score(lever: str) -> tuple[Decimal, int, int]:
            savings = sum((_floor(p.p * remaining[f]) for f, p in pending[lever].items()), _ZERO)
            per_day = savings / Decimal(str(settings.days_for(lever)))
            return per_day, -_risk_index(risk[lever]), -LEVERS.index(lever)

        lever = max(pending, key=score)
        applied = {}
        for feature, part in sorted(pending.pop(lever).items()):
            before = remaining[feature]
            mid = min(before, _floor(part.p * before))
            low = min(mid, _floor(part.p_low * before))
            high = min(before, max(mid, _floor(part.p_high * before)))
            remaining[feature] = before - mid
            applied[feature] = (before, mid, low, high)
        order.append((lever, applied))
    return order


def _bounded_highs(order, monthly: dict[str, Decimal]) -> dict[tuple[str, str], Decimal]:
    """Per feature: scale each lever's (high − mid) so Σ high ≤ the feature's spend."""
    highs: dict[tuple[str, str], Decimal] = {}
    for feature, spend in monthly.items():
        rows = [(lever, applied[feature]) for lever, applied in order if feature in applied]
        if not rows:
            continue
        headroom = spend - sum((mid for _, (_, mid, _, _) in rows), _ZERO)
        extra = sum((high - mid for _, (_, mid, _, high) in rows), _ZERO)
        scale = _ONE if extra <= headroom or extra == 0 else headroom / extra
        for lever, (_, mid, _, high) in rows:
            highs[(lever, feature)] = mid + _floor((high - mid) * scale)
    return highs


def rank_levers(
    findings: list[Any],
    totals_cost_usd: Decimal,
    features_cost: dict[str, Decimal],
    config: Any,
    period_days: float,
    extra: dict[str, Any] | None = None,
) -> LeverPlan:
    """The ranked, non-overlapping lever plan for one period.

    findings: costlens.leaks Finding objects (or dicts with the same fields); totals_cost_usd and
    features_cost: the period's priced spend, in total and per feature; period_days: the period's length.
    extra (all optional): "usage" — feature_model_usage(con) rows for self-hosting / distillation;
    "task_classes" — feature → task class; "diagnosis" — a Diagnosis, or "current" / "previous" snapshots to
    diagnose (costlens.levers.diagnose); "settings" — a LeverSettings (else read from config)."""
    extra = extra or {}
    settings: LeverSettings = extra.get("settings") or lever_settings(config)
    if period_days is None or period_days <= 0:
        raise ValueError("period_days must be positive")
    with localcontext() as ctx:
        ctx.prec = 60
        factor = DAYS_PER_MONTH / Decimal(str(period_days))
        monthly = {str(f): max(_ZERO, _dec(c) or _ZERO) * factor for f, c in features_cost.items()}
        total_monthly = max(_ZERO, _dec(totals_cost_usd) or _ZERO) * factor
        notes: list[str] = []
        excluded: list[ExcludedLever] = []
        findings = list(findings or [])

        parts = _finding_parts(findings, monthly, notes)
        _breakeven_parts(
            list(extra.get("usage") or []), factor, monthly, settings, config, extra, findings, parts, excluded
        )
        parts = {lever: p for lever, p in parts.items() if any(x.p > 0 for x in p.values())}

        risk = {lever: _lever_risk(lever, parts[lever], settings) for lever in parts}
        floor = total_monthly * Decimal(str(settings.min_share_of_spend))
        for lever in list(parts):
            alone = sum((_floor(x.p * monthly[f]) for f, x in parts[lever].items()), _ZERO)
            if alone <= 0 or alone < floor:
                excluded.append(
                    ExcludedLever(
                        lever,
                        f"worth ${alone:,.2f}/month on its own, below {settings.min_share_of_spend:.1%} of spend",
                    )
                )
                del parts[lever]

        order = _sequence(parts, monthly, settings, risk)
        highs = _bounded_highs(order, monthly)
        levers: list[Lever] = []
        for lever, applied in order:
            mid = sum((v[1] for v in applied.values()), _ZERO)
            if mid <= 0:
                excluded.append(ExcludedLever(lever, "nothing left to save after the levers ranked above it"))
                continue
            levers.append(
                _lever(len(levers) + 1, lever, applied, highs, parts[lever], total_monthly, settings, risk[lever])
            )

        scale_note = _global_cap(levers, total_monthly)
        if scale_note:
            notes.append(scale_note)
        notes.append(f"monthly figures = period figures × {DAYS_PER_MONTH} / {period_days:g} days")
        notes.append("levers are applied in rank order on the cost left by the levers above, so savings do not overlap")

    diagnosis = extra.get("diagnosis")
    if diagnosis is None and extra.get("current") is not None:
        from costlens.levers.diagnose import diagnose

        diagnosis = diagnose(extra["current"], extra.get("previous"))
    return LeverPlan(
        levers=levers,
        diagnosis=diagnosis if isinstance(diagnosis, Diagnosis) else None,
        monthly_spend_usd=_floor(total_monthly),
        total_monthly_savings_usd=sum((lv.est_monthly_savings_usd for lv in levers), _ZERO),
        total_savings_low_usd=sum((lv.savings_low_usd for lv in levers), _ZERO),
        total_savings_high_usd=sum((lv.savings_high_usd for lv in levers), _ZERO),
        excluded=excluded,
        assumptions=notes,
    )


def _global_cap(levers: list[Lever], total_monthly: Decimal) -> str | None:
    """Guard for inconsistent inputs (features_cost summing above totals): scale down to the total."""
    total = sum((lv.est_monthly_savings_usd for lv in levers), _ZERO)
    high = sum((lv.savings_high_usd for lv in levers), _ZERO)
    if high <= total_monthly or high == 0:
        return None
    scale = total_monthly / high
    for lv in levers:
        lv.est_monthly_savings_usd = _floor(lv.est_monthly_savings_usd * scale)
        lv.savings_low_usd = _floor(lv.savings_low_usd * scale)
        lv.savings_high_usd = _floor(lv.savings_high_usd * scale)
        lv.by_feature = {f: _floor(v * scale) for f, v in lv.by_feature.items()}
        lv.share_of_spend = float(lv.est_monthly_savings_usd / total_monthly) if total_monthly else 0.0
    return f"feature spend exceeded the total spend; savings scaled by {float(scale):.4f} (was ${total:,.2f})"


def _lever_risk(lever: str, part_by_feature: dict[str, _Part], settings: LeverSettings) -> str:
    base = settings.quality_risk[lever]
    risks = [
        str(_get(f, "quality_risk"))
        for p in part_by_feature.values()
        for f in p.findings
        if _get(f, "quality_risk") in RISKS
    ]
    return max([base, *risks], key=_risk_index)


def _lever(
    rank: int,
    lever: str,
    applied: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]],
    highs: dict[tuple[str, str], Decimal],
    part_by_feature: dict[str, _Part],
    total_monthly: Decimal,
    settings: LeverSettings,
    risk: str,
) -> Lever:
    mid = sum((v[1] for v in applied.values()), _ZERO)
    low = sum((v[2] for v in applied.values()), _ZERO)
    high = sum((highs[(lever, f)] for f in applied), _ZERO)
    by_feature = {f: v[1] for f, v in sorted(applied.items(), key=lambda kv: -kv[1][1]) if v[1] > 0}
    features = list(by_feature)
    findings = [f for f in (part_by_feature[x].findings for x in features) for f in f]
    breakevens = [b for x in features for b in part_by_feature[x].breakevens]
    days = Decimal(str(settings.days_for(lever)))
    evidence: dict[str, Any] = {
        "findings_count": len(findings),
        "kinds": sorted({str(_get(f, "kind")) for f in findings}),
        "calls_affected": sum(int(_get(f, "calls_affected") or 0) for f in findings),
        "wasted_usd": sum((_dec(_get(f, "wasted_usd")) or _ZERO for f in findings), _ZERO),
        "findings": [_finding_summary(f) for f in sorted(findings, key=_savings_key, reverse=True)[:5]],
        "sequence": [
            {
                "feature": f,
                "cost_left_before_usd": _floor(v[0]),
                "fraction": float(part_by_feature[f].p),
                "savings_usd": v[1],
            }
            for f, v in applied.items()
            if v[1] > 0
        ],
    }
    if breakevens:
        evidence["breakeven"] = [b.as_evidence() for b in breakevens]
    quality_reason = _RISK_REASON[lever]
    raised = [f for f in findings if _get(f, "quality_risk") == risk and risk != settings.quality_risk[lever]]
    if raised:
        quality_reason += f"; raised to {risk} by the {_get(raised[0], 'kind')} finding in {_get(raised[0], 'feature')}"
    return Lever(
        rank=rank,
        lever=lever,
        est_monthly_savings_usd=mid,
        savings_low_usd=min(low, mid),
        savings_high_usd=max(high, mid),
        share_of_spend=float(mid / total_monthly) if total_monthly > 0 else 0.0,
        effort=settings.effort[lever],
        quality_risk=risk,
        features=features,
        evidence=evidence,
        first_action=first_action(lever, features, part_by_feature),
        quality_reason=quality_reason,
        savings_per_effort_day_usd=_floor(mid / days),
        by_feature=by_feature,
        findings=len(findings),
    )


def _savings_key(f: Any) -> Decimal:
    return _dec(_get(f, "est_monthly_savings_usd")) or _ZERO


def _finding_summary(f: Any) -> dict[str, Any]:
    evidence = _get(f, "evidence") or {}
    return {
        "kind": _get(f, "kind"),
        "feature": _get(f, "feature"),
        "model": _get(f, "model"),
        "task_class": _get(f, "task_class"),
        "calls_affected": _get(f, "calls_affected"),
        "wasted_usd": _dec(_get(f, "wasted_usd")),
        "est_monthly_savings_usd": _dec(_get(f, "est_monthly_savings_usd")),
        "confidence": _get(f, "confidence"),
        "severity": _get(f, "severity"),
        "explanation": _get(f, "explanation"),
        "example_call_ids": list(evidence.get("example_call_ids") or [])[:5],
    }


# ----------------------------------------------------------------------------------------- first action


def _ev(finding: Any, *names: str) -> Any:
    """The first of `names` present in the finding's evidence (top level, then its `counts`)."""
    evidence = _get(finding, "evidence") or {}
    nested = evidence.get("counts")
    counts = nested if isinstance(nested, dict) else {}
    for name in names:
        for source in (evidence, counts):
            value = source.get(name)
            if value not in (None, ""):
                return value
    return None


def _num(value: Any) -> str:
    try:
        return f"{float(value):,.0f}"
    except (TypeError, ValueError):
        return str(value)


def _pct(value: Any) -> str | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return f"{number * 100:.1f}%" if number <= 1 else f"{number:.1f}%"


def _names(value: Any, limit: int = 3) -> str | None:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        ranked = sorted(value.items(), key=lambda kv: -(kv[1] if isinstance(kv[1], int | float) else 0))
        return ", ".join(str(k) for k, _ in ranked[:limit]) or None
    if isinstance(value, list):
        return ", ".join(str(v.get("error_type", v) if isinstance(v, dict) else v) for v in value[:limit]) or None
    return None if value is None else str(value)


def first_action(lever: str, features: list[str], part_by_feature: dict[str, _Part]) -> str:
    """One concrete step naming the feature and model, from the biggest source of the lever's savings."""
    if not features:
        return ""
    lead = features[0]
    part = part_by_feature[lead]
    top = max(part.findings, key=_savings_key) if part.findings else None
    if lever in ("self_hosting", "distillation") and part.breakevens:
        text = _breakeven_action(max(part.breakevens, key=lambda b: b.monthly_savings_usd))
    elif top is not None:
        text = _finding_action(lever, lead, top)
    else:  # pragma: no cover - a lever always has a source
        text = f"Apply {lever.replace('_', ' ')} to {lead}"
    others = features[1:]
    if others:
        more = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        text += f"; then {more}"
    return text


def _routing_action(feature: str, model: str, f: Any) -> str:
    target = _ev(f, "alternative_model", "target_model", "cheaper_model", "to_model", "suggested_model")
    if not target:
        work = _get(f, "task_class") or "short-answer"
        return (
            f"Route {feature}'s {work} calls from {model} to an economy-tier model, gated on acceptance "
            f"(A/B on a sample first)"
        )
    to_acc = _pct(_ev(f, "alternative_acceptance", "target_acceptance_rate", "cheaper_acceptance_rate"))
    from_acc = _pct(_ev(f, "premium_acceptance", "acceptance_rate", "current_acceptance_rate"))
    if to_acc and from_acc:
        significant = _ev(f, "significant", "difference_significant")
        test = _ev(f, "acceptance_test")
        if significant is None and isinstance(test, dict) and test.get("lower_bound") is not None:
            significant = not float(test["lower_bound"]) > float(test.get("margin") or 0)
        verdict = (
            ""
            if significant is None
            else (", difference significant" if significant else ", difference not significant")
        )
        return f"Route {feature} from {model} to {target} (acceptance {to_acc} vs {from_acc}{verdict}){_plan(f)}"
    p95 = _ev(f, "p95_output_tokens")
    work = f"short-output calls (p95 {_num(p95)} tokens)" if p95 is not None else "calls"
    plan = _plan(f)
    return (
        f"Route {feature}'s {work} from {model} to {target} (no acceptance data for {target} here yet: "
        f"A/B on a sample first){plan}"
    )


def _plan(f: Any) -> str:
    """The finding's validation plan as the step before routing: the tasks an A/B test needs per arm."""
    plan = _ev(f, "validation_plan")
    if not isinstance(plan, dict) or not plan.get("tasks_per_arm"):
        return ""
    share = plan.get("share_of_premium_traffic")
    of_traffic = f" ({_pct(share)} of its tasks for a period)" if share is not None else ""
    return f"; confirm with an A/B test of {int(plan['tasks_per_arm']):,} tasks per arm{of_traffic}"


def _finding_action(lever: str, feature: str, f: Any) -> str:
    model = _get(f, "model") or _ev(f, "model")
    on = f" on {model}" if model else ""
    calls = _get(f, "calls_affected") or 0
    sub_kind = _ev(f, "sub_kind")
    if lever == "model_routing":
        return _routing_action(feature, model or "its premium model", f)
    if lever == "prompt_caching":
        prefix = _ev(f, "avg_prefix_tokens", "prefix_tokens", "median_prefix_tokens", "typical_prefix_tokens")
        size = f"{_num(prefix)}-token " if prefix else ""
        return (
            f"Turn on prompt caching for {feature}{on}: put the stable {size}prefix (system prompt, "
            f"tools) first and mark it cacheable"
        )
    if lever == "response_cache":
        repeats = _ev(f, "repeated_answers", "repeated_calls", "repeats") or calls
        return (
            f"Cache {feature}'s responses keyed on the prompt hash: {_num(repeats)} calls repeated an "
            f"already answered prompt{on}"
        )
    if lever == "semantic_cache":
        rate = _ev(f, "hit_rate")
        share = f" ({_pct(rate)} of its answered requests)" if rate is not None else ""
        thresholds = _ev(f, "thresholds") or {}
        similarity = thresholds.get("cache_miss.semantic_similarity") if isinstance(thresholds, dict) else None
        at = f" at similarity ≥ {similarity:g}" if isinstance(similarity, int | float) else ""
        return (
            f"Put a semantic cache in front of {feature}{on}: {_num(calls)} requests{share} nearly repeated one "
            f"answered earlier{at}; check its hits against accepted answers before serving them"
        )
    if lever == "batch_processing":
        return (
            f"Move {feature}'s{' ' + model if model else ''} traffic ({_num(calls)} calls in the period) to the "
            f"provider's Batch "
            f"API: it is not interactive, and batch is about half price"
        )
    if lever == "context_discipline":
        typical = _ev(f, "typical_context_tokens", "typical_input_tokens", "p50_input_tokens")
        if sub_kind == "growing_history":
            conversations = _ev(f, "conversations")
            many = f" ({_num(conversations)} conversations grew turn after turn)" if conversations else ""
            return f"Summarise or window {feature}'s conversation history{on}{many}"
        size = f" near its typical {_num(typical)} tokens" if typical else ""
        return f"Cap {feature}'s context{size}{on}: trim history and retrieval on the {_num(calls)} oversized calls"
    if lever == "output_controls":
        typical = _ev(f, "typical_output_tokens", "p50_output_tokens")
        thresholds = _ev(f, "thresholds") or {}
        k = thresholds.get("output_verbosity.k_p50") if isinstance(thresholds, dict) else None
        cap = _ev(f, "suggested_max_tokens")
        if cap is None and typical is not None:
            cap = float(typical) * float(k or 4)
        size = f"max_tokens ≈ {_num(cap)}" if cap else "max_tokens"
        return f"Set {size} for {feature}{on} and ask for concise output ({_num(calls)} calls ran long)"
    if lever == "stability_guardrails":
        errors = _names(_ev(f, "error_types", "top_error_type", "error_type"))
        detail = f" ({errors})" if errors else ""
        if _get(f, "kind") == "input_quality":
            what = "over-long" if sub_kind == "input_too_long" else "invalid"
            return (
                f"Validate input size and format before calling {model or 'the model'} in {feature}: "
                f"{_num(calls)} calls "
                f"failed on {what} input{detail}"
            )
        return (
            f"Cap retries with backoff and a fallback for {feature}{on}: {_num(calls)} failed or "
            f"repeated attempts{detail}"
        )
    if lever == "agent_budgets":
        budget = _ev(f, "budget_calls_per_task", "step_budget", "norm_calls_per_task")
        size = f"of {_num(budget)} calls " if budget else ""
        tasks = _ev(f, "tasks_over_budget", "tasks_affected")
        over = f" ({_num(tasks)} tasks ran over)" if tasks else ""
        return f"Set a step budget {size}per task for {feature} and escalate past it{over}"
    if lever == "gpu_right_sizing":
        deployment = _ev(f, "deployment") or "its deployment"
        gpus = _ev(f, "gpu_count")
        kind = _ev(f, "gpu_type")
        size = f" ({gpus} × {kind})" if gpus and kind else (f" ({gpus} GPUs)" if gpus else "")
        used = _pct(_ev(f, "utilisation"))
        busy = f" busy {used} of the time it is paid for" if used else ""
        return (
            f"Scale self-hosted {deployment}{size}, serving {feature}{on},{busy}: autoscale replicas with the "
            f"traffic, consolidate it with another deployment, or move the traffic to an API past the break-even"
        )
    return f"Apply {lever.replace('_', ' ')} to {feature}{on}"


def _breakeven_action(b: be.BreakEven) -> str:
    tokens = f"{b.monthly_tokens / 1e6:,.0f}M tokens/month"
    if b.lever == "self_hosting":
        return (
            f"Pilot self-hosting an open model for {b.feature} in place of {b.model} ({tokens}): ≈ {b.gpus} "
            f"GPU(s) at ${b.monthly_cost_usd:,.0f}/month vs ${b.monthly_api_usd:,.0f}/month on the API "
            f"(break-even ${b.breakeven_monthly_usd:,.0f}/month)"
        )
    return (
        f"Distil {b.feature}'s {b.model} traffic ({tokens}) into a fine-tuned small model: ≈ "
        f"${b.monthly_cost_usd:,.0f}/month incl. training vs ${b.monthly_api_usd:,.0f}/month now "
        f"(break-even ${b.breakeven_monthly_usd:,.0f}/month)"
    )
