"""Break-even of the two heavy levers: self-hosting and distillation (docs/definitions.md#break-even).

They are recommended only when the feature's monthly API spend on the model being replaced is past the
break-even, with every cost configurable under `[levers.breakeven]` (costlens/settings/levers.py).

Self-hosting an open model in place of an API model, per (feature, model), per month:
    capacity per GPU      = throughput_tokens_per_s × utilisation × 3600 × hours_per_month   (tokens)
    GPUs                  = max(min_gpus, ceil(monthly tokens / capacity per GPU))
    self-hosted cost      = GPUs × gpu_hourly_usd × hours_per_month + engineering_monthly_usd
    savings               = API spend − self-hosted cost                (recommended when > required margin)
    break-even            = the smallest monthly token volume T at the feature's own API price per token c with
                            c·T ≥ GPUs(T) × gpu_month + engineering; none when c × capacity ≤ gpu_month (a GPU's
                            whole output is worth less at API prices than the GPU costs: never pays back).
Defaults (documented assumptions, override them with your own quotes):
    gpu_hourly_usd 2.50 (one H100-class GPU on demand), throughput_tokens_per_s 2000 (aggregate, continuous
    batching, ~8–70B open model), utilisation 0.5 (traffic is bursty), min_gpus 2 (redundancy),
    engineering_monthly_usd 8000 (≈ 0.4 of an engineer: serving, on-call, upgrades), hours_per_month 730.56.

Distillation (fine-tune a small student on the big model's outputs) in place of the API model:
    distilled cost        = API spend × distillation_serving_cost_ratio
                            + distillation_training_usd / distillation_amortisation_months
                            + distillation_maintenance_monthly_usd
    break-even spend      = fixed monthly part / (1 − serving_cost_ratio)
Defaults: training 20,000 USD (data, runs, evals) amortised over 12 months, serving at 15 % of the teacher's
price, 2,000 USD a month for retraining and evaluation. Only for narrow tasks (classification, extraction, …):
a feature whose configured task class is known and not narrow is excluded.

Low / high: the same computation with the alternative's costs × 1.25 (pessimistic) and × 0.8 (optimistic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any

from costlens.settings.levers import OPTIMISTIC, PESSIMISTIC, BreakEvenSettings

if TYPE_CHECKING:
    import duckdb


@dataclass
class BreakEven:
    lever: str  # self_hosting | distillation
    feature: str
    provider: str | None
    model: str
    monthly_api_usd: Decimal  # what the feature spends on this model per month now
    monthly_tokens: int
    monthly_cost_usd: Decimal  # the alternative's monthly cost at that volume
    monthly_savings_usd: Decimal  # ≥ 0
    savings_low_usd: Decimal
    savings_high_usd: Decimal
    breakeven_monthly_usd: Decimal | None  # API spend at which the alternative starts to pay (None: never)
    breakeven_monthly_tokens: int | None
    recommended: bool
    reason: str
    gpus: int = 0
    task_class: str | None = None

    def as_evidence(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "provider": self.provider,
            "model": self.model,
            "monthly_api_usd": self.monthly_api_usd,
            "monthly_tokens": self.monthly_tokens,
            "alternative_monthly_cost_usd": self.monthly_cost_usd,
            "breakeven_monthly_usd": self.breakeven_monthly_usd,
            "breakeven_monthly_tokens": self.breakeven_monthly_tokens,
            "gpus": self.gpus,
            "task_class": self.task_class,
            "reason": self.reason,
        }


def _cents(value: Decimal) -> Decimal:
    """The alternative's monthly cost is an estimate: whole cents (never below the exact value)."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def _capacity(s: BreakEvenSettings) -> float:
    return s.throughput_tokens_per_s * s.utilisation * 3600.0 * s.hours_per_month


def _gpu_month(s: BreakEvenSettings) -> Decimal:
    return s.gpu_hourly_usd * Decimal(str(s.hours_per_month))


def self_hosting_cost(monthly_tokens: int, s: BreakEvenSettings, factor: Decimal = Decimal(1)) -> tuple[Decimal, int]:
    """(monthly cost, GPUs) of serving `monthly_tokens` on own GPUs; `factor` scales all costs."""
    gpus = max(s.min_gpus, math.ceil(monthly_tokens / _capacity(s))) if monthly_tokens > 0 else s.min_gpus
    gpus = max(gpus, 1)
    return (Decimal(gpus) * _gpu_month(s) + s.engineering_monthly_usd) * factor, gpus


def self_hosting_breakeven_tokens(price_per_token: Decimal, s: BreakEvenSettings) -> int | None:
    """Smallest monthly token volume at which API spend (c × T) covers the self-hosted cost; None if never."""
    if price_per_token <= 0:
        return None
    c, cap, g, e = float(price_per_token), _capacity(s), float(_gpu_month(s)), float(s.engineering_monthly_usd)
    margin_per_gpu = c * cap - g
    if margin_per_gpu <= 0:
        return None
    first = max(s.min_gpus, 1)
    n = max(first, math.ceil(e / margin_per_gpu - 1e-12))
    tokens = (n * g + e) / c
    if n > first:
        tokens = max(tokens, (n - 1) * cap)
    return math.ceil(tokens)


def self_hosting(
    feature: str,
    provider: str | None,
    model: str,
    monthly_api_usd: Decimal,
    monthly_tokens: int,
    s: BreakEvenSettings | None = None,
) -> BreakEven:
    s = s or BreakEvenSettings()
    cost, gpus = self_hosting_cost(monthly_tokens, s)
    cost = _cents(cost)
    price = monthly_api_usd / monthly_tokens if monthly_tokens > 0 else Decimal(0)
    be_tokens = self_hosting_breakeven_tokens(price, s)
    be_usd = (price * be_tokens).quantize(Decimal("0.01")) if be_tokens is not None else None
    savings = max(Decimal(0), monthly_api_usd - cost)
    low = max(Decimal(0), monthly_api_usd - self_hosting_cost(monthly_tokens, s, PESSIMISTIC)[0])
    high = min(monthly_api_usd, max(Decimal(0), monthly_api_usd - self_hosting_cost(monthly_tokens, s, OPTIMISTIC)[0]))
    recommended = savings > 0 and savings >= Decimal(str(s.required_margin)) * monthly_api_usd
    if be_tokens is None:
        reason = (
            f"never pays back: at {model}'s price (${float(price) * 1e6:,.2f}/Mtok) a GPU's monthly output "
            f"is worth less than its ${float(_gpu_month(s)):,.0f}/month"
        )
    elif recommended:
        reason = (
            f"past break-even: ${monthly_api_usd:,.0f}/month on {model} vs ≈ ${cost:,.0f}/month self-hosted "
            f"on {gpus} GPU(s); break-even ≈ ${be_usd:,.0f}/month"
        )
    else:
        reason = (
            f"below break-even: ${monthly_api_usd:,.0f}/month on {model} vs ≈ ${cost:,.0f}/month self-hosted; "
            f"pays back above ≈ ${be_usd:,.0f}/month ({be_tokens / 1e6:,.0f}M tokens/month)"
        )
    return _verdict(
        "self_hosting",
        (feature, provider, model, monthly_api_usd, monthly_tokens),
        cost,
        savings,
        (low, high),
        (be_usd, be_tokens),
        recommended,
        reason,
        gpus=gpus,
    )


def _verdict(
    lever: str,
    usage: tuple[str, str | None, str, Decimal, int],
    cost: Decimal,
    savings: Decimal,
    band: tuple[Decimal, Decimal],
    break_even: tuple[Decimal | None, int | None],
    recommended: bool,
    reason: str,
    **extra: Any,
) -> BreakEven:
    """A BreakEven for (feature, provider, model, monthly_api_usd, monthly_tokens); the savings band always
    contains the point estimate."""
    low, high = band
    return BreakEven(
        lever, *usage, cost, savings, min(low, savings), max(high, savings), *break_even, recommended, reason, **extra
    )


def _distilled_cost(monthly_api_usd: Decimal, s: BreakEvenSettings, factor: Decimal = Decimal(1)) -> Decimal:
    fixed = (
        s.distillation_training_usd / Decimal(str(s.distillation_amortisation_months))
        + s.distillation_maintenance_monthly_usd
    )
    return (monthly_api_usd * Decimal(str(s.distillation_serving_cost_ratio)) + fixed) * factor


def distillation(
    feature: str,
    provider: str | None,
    model: str,
    monthly_api_usd: Decimal,
    monthly_tokens: int,
    s: BreakEvenSettings | None = None,
    task_class: str | None = None,
) -> BreakEven:
    s = s or BreakEvenSettings()
    cost = _cents(_distilled_cost(monthly_api_usd, s))
    ratio = Decimal(str(s.distillation_serving_cost_ratio))
    fixed = _distilled_cost(Decimal(0), s)
    be_usd = (fixed / (1 - ratio)).quantize(Decimal("0.01")) if ratio < 1 else None
    price = monthly_api_usd / monthly_tokens if monthly_tokens > 0 else Decimal(0)
    be_tokens = math.ceil(be_usd / price) if be_usd is not None and price > 0 else None
    savings = max(Decimal(0), monthly_api_usd - cost)
    low = max(Decimal(0), monthly_api_usd - _distilled_cost(monthly_api_usd, s, PESSIMISTIC))
    high = min(monthly_api_usd, max(Decimal(0), monthly_api_usd - _distilled_cost(monthly_api_usd, s, OPTIMISTIC)))
    narrow = task_class is None or task_class.strip().lower() in s.narrow_task_classes
    past = savings > 0 and savings >= Decimal(str(s.required_margin)) * monthly_api_usd
    recommended = past and narrow
    if not narrow:
        reason = (
            f"task class {task_class!r} is not a narrow task: distillation pays back on classification, "
            f"extraction and similar repetitive work"
        )
    elif be_usd is None:
        reason = "never pays back: the student would cost as much as the teacher"
    elif past:
        reason = (
            f"past break-even: ${monthly_api_usd:,.0f}/month on {model} vs ≈ ${cost:,.0f}/month distilled "
            f"(training amortised); break-even ≈ ${be_usd:,.0f}/month"
        )
    else:
        reason = (
            f"below break-even: ${monthly_api_usd:,.0f}/month on {model}; distillation pays back above "
            f"≈ ${be_usd:,.0f}/month"
        )
    if recommended and task_class is None:
        reason += " (task class unknown: confirm the task is narrow, e.g. classification or extraction)"
    return _verdict(
        "distillation",
        (feature, provider, model, monthly_api_usd, monthly_tokens),
        cost,
        savings,
        (low, high),
        (be_usd, be_tokens),
        recommended,
        reason,
        task_class=task_class,
    )


def feature_model_usage(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per (feature, provider, model) of the period: calls, tokens and priced cost — the break-even inputs.

    Reads `period_calls` (costlens.engine.compute_period_metrics)."""
    cursor = con.execute("""
        SELECT feature_key AS feature, provider, model, count(*) AS calls,
               sum(context_tokens + output_tokens) AS tokens,
               coalesce(sum(computed_cost_usd), 0) AS cost_usd
        FROM period_calls
        WHERE computed_cost_usd IS NOT NULL
        GROUP BY ALL
        ORDER BY cost_usd DESC, feature, model""")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
