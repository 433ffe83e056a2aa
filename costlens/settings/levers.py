"""Lever and what-if settings: defaults in ONE place, overridable from costlens.toml.

```toml
[levers]
min_share_of_spend = 0.001          # drop levers worth less than 0.1 % of monthly spend
effort = { self_hosting = "months" } # days | weeks | months, per lever
effort_days = { days = 3, weeks = 10, months = 40 }
quality_risk = { model_routing = "high" }   # low | medium | high, per lever

[levers.breakeven]                  # self-hosting and distillation (see costlens/levers/breakeven.py)
gpu_hourly_usd = 2.50
throughput_tokens_per_s = 2000
utilisation = 0.5
min_gpus = 2
engineering_monthly_usd = 8000
distillation_training_usd = 20000
distillation_amortisation_months = 12
distillation_serving_cost_ratio = 0.15
distillation_maintenance_monthly_usd = 2000

[whatif]
cacheable_share = 0.5               # prompt caching without logged prefixes: share of input assumed cacheable
min_cacheable_tokens = 1024         # providers' minimum cacheable prefix
cache_ttl_s = 300                   # cache lifetime (5 minutes, refreshed on each hit)
assumed_batch_discount_pct = 50     # batch discount when the price book has no batch price for a model
```
Read with `lever_settings(config)` / `whatif_settings(config)`: the config's `levers` / `whatif` tables (a
dict, or a pydantic model) when it has them, else the defaults. Bad values raise ConfigError naming the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from costlens.errors import ConfigError

HOURS_PER_MONTH = 30.44 * 24
PESSIMISTIC = Decimal("1.25")
OPTIMISTIC = Decimal("0.8")
NARROW_TASK_CLASSES = (
    "classification",
    "classify",
    "extraction",
    "extract",
    "routing",
    "tagging",
    "short_answer",
    "short-answer",
    "structured_output",
    "structured-output",
    "labeling",
    "labelling",
    "intent",
    "moderation",
)


@dataclass(frozen=True)
class BreakEvenSettings:
    gpu_hourly_usd: Decimal = Decimal("2.50")
    throughput_tokens_per_s: float = 2000.0
    utilisation: float = 0.5
    min_gpus: int = 2
    engineering_monthly_usd: Decimal = Decimal(8000)
    hours_per_month: float = HOURS_PER_MONTH
    distillation_training_usd: Decimal = Decimal(20000)
    distillation_amortisation_months: float = 12.0
    distillation_serving_cost_ratio: float = 0.15
    distillation_maintenance_monthly_usd: Decimal = Decimal(2000)
    required_margin: float = 0.0  # recommend only when savings ≥ this share of the replaced spend
    narrow_task_classes: tuple[str, ...] = NARROW_TASK_CLASSES


LEVERS = (
    "model_routing",
    "prompt_caching",
    "batch_processing",
    "context_discipline",
    "output_controls",
    "response_cache",
    "semantic_cache",
    "stability_guardrails",
    "agent_budgets",
    "distillation",
    "self_hosting",
    "gpu_right_sizing",
)
EFFORTS = ("days", "weeks", "months")
RISKS = ("low", "medium", "high")

# docs/definitions.md#levers: how long a lever takes to put in place, and what it risks for quality.
DEFAULT_EFFORT: dict[str, str] = {
    "model_routing": "days",
    "prompt_caching": "days",
    "batch_processing": "weeks",
    "context_discipline": "weeks",
    "output_controls": "days",
    "response_cache": "weeks",
    "semantic_cache": "weeks",
    "stability_guardrails": "days",
    "agent_budgets": "days",
    "distillation": "months",
    "self_hosting": "months",
    "gpu_right_sizing": "weeks",
}
DEFAULT_EFFORT_DAYS: dict[str, float] = {"days": 3.0, "weeks": 10.0, "months": 40.0}
DEFAULT_QUALITY_RISK: dict[str, str] = {
    "model_routing": "medium",
    "prompt_caching": "low",
    "batch_processing": "low",
    "context_discipline": "medium",
    "output_controls": "low",  # raised to medium by a finding that says so (truncation risk)
    "response_cache": "medium",
    # a near-repeat can be a different question (another account, another date): answers need a check
    "semantic_cache": "high",
    "stability_guardrails": "low",
    "agent_budgets": "medium",
    "distillation": "high",
    "self_hosting": "medium",
    "gpu_right_sizing": "low",
}


@dataclass(frozen=True)
class LeverSettings:
    effort: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_EFFORT))
    effort_days: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EFFORT_DAYS))
    quality_risk: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_QUALITY_RISK))
    min_share_of_spend: float = 0.001
    breakeven: BreakEvenSettings = field(default_factory=BreakEvenSettings)

    def days_for(self, lever: str) -> float:
        return self.effort_days[self.effort[lever]]


@dataclass(frozen=True)
class WhatIfSettings:
    cacheable_share: float = 0.5
    min_cacheable_tokens: int = 1024
    cache_ttl_s: int = 300
    assumed_batch_discount_pct: Decimal = Decimal(50)


def _table(config: Any, name: str) -> dict[str, Any]:
    raw = (
        getattr(config, name, None)
        if config is not None and not isinstance(config, dict)
        else ((config or {}).get(name))
    )
    if raw is None:
        return {}
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump(exclude_none=True)
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table", fix=f"write [{name}] with key = value lines")
    return raw


def _unknown(where: str, raw: dict[str, Any], known: set[str]) -> None:
    extra = sorted(set(raw) - known)
    if extra:
        raise ConfigError(f"{where}.{extra[0]} is not a known setting", fix=f"use one of: {', '.join(sorted(known))}")


def _number(where: str, value: Any, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} = {value!r} is not a number", fix=f"write {where.split('.')[-1]} = 2.5")
    if isinstance(value, float) and not math.isfinite(value):
        bounds = (
            f"between {low:g} and {high:g}"
            if high is not None
            else f"of {low:g} or more"
            if low is not None
            else "such as 2.5"
        )
        raise ConfigError(f"{where} = {value!r} is not a finite number", fix=f"use a number {bounds}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{where} = {value!r} is out of range", fix=f"use a value {bounds}")
    return float(value)


def _per_lever(where: str, raw: Any, allowed: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{where} must be a table of lever = value", fix=f'e.g. {where} = {{ model_routing = "{allowed[0]}" }}'
        )
    out = {}
    for lever, value in raw.items():
        if lever not in LEVERS:
            raise ConfigError(f"{where}.{lever} is not a lever", fix=f"use one of: {', '.join(LEVERS)}")
        if value not in allowed:
            raise ConfigError(f"{where}.{lever} = {value!r} is not known", fix=f"use one of: {', '.join(allowed)}")
        out[lever] = value
    return out


def lever_settings(config: Any = None) -> LeverSettings:
    """Defaults overlaid with the config's [levers] table."""
    raw = _table(config, "levers")
    _unknown("levers", raw, {"effort", "effort_days", "quality_risk", "min_share_of_spend", "breakeven"})
    base = LeverSettings()
    effort = {**base.effort, **_per_lever("levers.effort", raw.get("effort", {}), EFFORTS)}
    risk = {**base.quality_risk, **_per_lever("levers.quality_risk", raw.get("quality_risk", {}), RISKS)}
    days = dict(base.effort_days)
    raw_days = raw.get("effort_days", {})
    if not isinstance(raw_days, dict):
        raise ConfigError(
            "levers.effort_days must be a table", fix="e.g. effort_days = { days = 3, weeks = 10, months = 40 }"
        )
    _unknown("levers.effort_days", raw_days, set(EFFORTS))
    for name, value in raw_days.items():
        days[name] = _number(f"levers.effort_days.{name}", value, low=0.01)
    min_share = _number(
        "levers.min_share_of_spend", raw.get("min_share_of_spend", base.min_share_of_spend), low=0, high=1
    )
    return LeverSettings(
        effort=effort,
        effort_days=days,
        quality_risk=risk,
        min_share_of_spend=min_share,
        breakeven=_breakeven(raw.get("breakeven", {})),
    )


def _breakeven(raw: Any) -> BreakEvenSettings:
    if not isinstance(raw, dict):
        raise ConfigError("levers.breakeven must be a table", fix="write [levers.breakeven] with key = value lines")
    base = BreakEvenSettings()
    known = {f.name for f in fields(BreakEvenSettings)}
    _unknown("levers.breakeven", raw, known)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        where = f"levers.breakeven.{name}"
        current = getattr(base, name)
        if name == "narrow_task_classes":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(
                    f"{where} must be a list of task class names", fix='e.g. ["classification", "extraction"]'
                )
            values[name] = tuple(value)
        elif isinstance(current, Decimal):
            number = _number(where, value, low=0)
            try:
                values[name] = Decimal(repr(value) if isinstance(value, float) else value)
            except InvalidOperation:  # pragma: no cover - _number already vetted it
                values[name] = Decimal(str(number))
        elif isinstance(current, int):
            values[name] = int(_number(where, value, low=0))
        else:
            high = 1.0 if name in ("utilisation", "distillation_serving_cost_ratio", "required_margin") else None
            values[name] = _number(where, value, low=0, high=high)
    settings = replace(base, **values)
    if settings.throughput_tokens_per_s <= 0 or settings.utilisation <= 0:
        raise ConfigError(
            "levers.breakeven: throughput_tokens_per_s and utilisation must be above 0",
            fix="e.g. throughput_tokens_per_s = 2000, utilisation = 0.5",
        )
    return settings


def whatif_settings(config: Any = None) -> WhatIfSettings:
    """Defaults overlaid with the config's [whatif] table."""
    raw = _table(config, "whatif")
    known = {f.name for f in fields(WhatIfSettings)}
    _unknown("whatif", raw, known)
    base = WhatIfSettings()
    share = _number("whatif.cacheable_share", raw.get("cacheable_share", base.cacheable_share), low=0, high=1)
    min_tokens = int(
        _number("whatif.min_cacheable_tokens", raw.get("min_cacheable_tokens", base.min_cacheable_tokens), low=0)
    )
    ttl = int(_number("whatif.cache_ttl_s", raw.get("cache_ttl_s", base.cache_ttl_s), low=0))
    pct = raw.get("assumed_batch_discount_pct", base.assumed_batch_discount_pct)
    if not isinstance(pct, Decimal):
        _number("whatif.assumed_batch_discount_pct", pct, low=0, high=100)
        pct = Decimal(repr(pct) if isinstance(pct, float) else pct)
    return WhatIfSettings(
        cacheable_share=share, min_cacheable_tokens=min_tokens, cache_ttl_s=ttl, assumed_batch_discount_pct=pct
    )
