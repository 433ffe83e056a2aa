"""The leak detectors' thresholds: defaults, meanings and the `[leaks]` table's validation
(docs/definitions.md#leaks). Used by costlens/leaks/detect.py, and by config.py to fail a bad `[leaks]` at load."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from costlens.errors import ConfigError

# name → (default, what it means). Every finding lists the thresholds of its kind plus severity.* and
# confidence.* in evidence["thresholds"].
DEFAULT_THRESHOLDS: dict[str, tuple[float, str]] = {
    "severity.high_share": (0.10, "wasted share of the feature's spend for high severity"),
    "severity.medium_share": (0.02, "wasted share of the feature's spend for medium severity"),
    "confidence.high_calls": (50, "calls affected for high confidence"),
    "confidence.medium_calls": (10, "calls affected for medium confidence"),
    "estimate.days_per_month": (30.44, "est_monthly_savings_usd = wasted_usd x this / period days"),
    "estimate.min_wasted_usd": (0.0, "a finding is reported only when its wasted_usd is above this"),
    "context_bloat.k_p50": (4.0, "a call is oversized above k x the feature's p50 context tokens"),
    "context_bloat.min_tokens": (4000, "... and above this many context tokens"),
    "context_bloat.fence_iqr": (1.5, "... and beyond Q3 + this x IQR of ln context tokens (the group's own spread)"),
    "context_bloat.min_feature_calls": (30, "ok calls a feature needs before its typical size is trusted"),
    "context_bloat.growth_min_turns": (6, "a conversation whose context grows on this many turns in a row"),
    "context_bloat.growth_min_ratio": (2.0, "... and whose last turn is this many times its first"),
    "context_bloat.upper_min_calls": (200, "ok calls of a feature's model before its upper mode is looked for"),
    "context_bloat.upper_max_valley": (0.75, "the valley between two context modes is at most this x the lower peak"),
    "context_bloat.upper_valley_z": (3.0, "... and below it by this x the square root of its count (not noise)"),
    "context_bloat.upper_min_share": (0.05, "the upper mode holds at least this share of the model's calls"),
    "context_bloat.upper_max_share": (0.5, "... and at most this share (else it is the feature's norm)"),
    "context_bloat.upper_min_ratio": (1.5, "the upper mode's median is at least this x the lean mode's median"),
    "context_bloat.savings_low_factor": (0.5, "share of the waste a context budget surely removes"),
    "context_bloat.savings_high_factor": (1.0, "share of the waste a context budget can remove at most"),
    "premium_overuse.short_output_p95_tokens": (256, "premium calls whose p95 output is at most this are short work"),
    "premium_overuse.min_calls": (30, "calls of a premium model in a feature before it is judged"),
    "premium_overuse.min_outcomes": (30, "tasks with an outcome each model needs for the acceptance test"),
    "premium_overuse.noninferiority_margin": (0.05, "the cheaper model may be at most this much less accepted"),
    "premium_overuse.z": (1.645, "one-sided z of the Newcombe (Wilson score) bound on the acceptance difference"),
    "premium_overuse.strata": (8, "bands of task context tokens the acceptance is compared within (like with like)"),
    "premium_overuse.min_stratum_outcomes": (20, "tasks with an outcome the cheaper model needs in a band to cover it"),
    "premium_overuse.min_coverage": (0.9, "share of the premium model's tasks in covered bands for the routing test"),
    "premium_overuse.validation_power": (0.8, "power of the validation test the plan sizes"),
    "premium_overuse.validation_z_power": (0.8416, "... its z (0.8416 for 80 %)"),
    "premium_overuse.savings_low_factor": (0.6, "share of the premium calls that surely can move"),
    "premium_overuse.savings_high_factor": (1.0, "share of the premium calls that can move at most"),
    "retries.min_calls": (3, "wasted attempts before a feature is reported"),
    "retries.savings_low_factor": (0.5, "share of the wasted attempts guardrails surely avoid"),
    "retries.savings_high_factor": (1.0, "share of the wasted attempts guardrails can avoid at most"),
    "cache_miss.response_ttl_s": (604800, "a repeat of an answered prompt within this many seconds is a cache hit"),
    "cache_miss.response_min_repeats": (5, "repeated prompts before a response cache is recommended"),
    "cache_miss.response_savings_low_factor": (0.5, "share of repeats a response cache surely serves"),
    "cache_miss.response_savings_high_factor": (1.0, "share of repeats a response cache can serve at most"),
    "cache_miss.semantic_similarity": (0.8, "least estimated similarity (Jaccard of word pairs) of a near-repeat"),
    "cache_miss.semantic_ttl_s": (604800, "a near-repeat of an answered request within this many seconds is a hit"),
    "cache_miss.semantic_min_repeats": (5, "near-repeated requests before a semantic cache is recommended"),
    "cache_miss.semantic_savings_low_factor": (0.5, "share of near-repeats a semantic cache surely serves"),
    "cache_miss.semantic_savings_high_factor": (1.0, "share of near-repeats a semantic cache can serve at most"),
    "cache_miss.prompt_cache_ttl_s": (300, "prompt cache lifetime: a call within this of the previous one reads"),
    "cache_miss.prompt_min_repeats": (5, "cache-missing prefix repeats before prompt caching is recommended"),
    "cache_miss.prompt_savings_low_factor": (0.7, "share of the net saving prompt caching surely reaches"),
    "cache_miss.prompt_savings_high_factor": (1.0, "share of the net saving prompt caching can reach at most"),
    "batchable.nightly_start_hour": (0, "nightly window start, hour of day UTC (inclusive)"),
    "batchable.nightly_end_hour": (6, "nightly window end, hour of day UTC (exclusive)"),
    "batchable.nightly_share": (0.8, "share of a feature's calls in the nightly window that signals batch work"),
    "batchable.anonymous_share": (0.95, "... together with this share of calls with no user_id and no session"),
    "batchable.min_calls": (50, "calls a feature needs before its traffic pattern is judged"),
    "batchable.fallback_discount": (0.5, "batch discount when the catalog has no batch price (documented 50%)"),
    "batchable.savings_low_factor": (0.8, "share of the traffic that surely can wait for a batch"),
    "batchable.savings_high_factor": (1.0, "share of the traffic that can wait for a batch at most"),
    "output_verbosity.k_p50": (4.0, "a call is verbose above k x the feature's p50 output tokens"),
    "output_verbosity.min_tokens": (1000, "... and above this many output tokens"),
    "output_verbosity.fence_iqr": (1.5, "... and beyond Q3 + this x IQR of ln output tokens (the group's spread)"),
    "output_verbosity.min_feature_calls": (30, "ok calls a feature needs before its typical length is trusted"),
    "output_verbosity.savings_low_factor": (0.5, "share of the excess an output cap surely removes"),
    "output_verbosity.savings_high_factor": (1.0, "share of the excess an output cap can remove at most"),
    "agent_loops.k_p50": (3.0, "budget without a configured step_budget: k x the feature's p50 calls per task"),
    "agent_loops.min_budget_calls": (10, "... but never fewer calls than this"),
    "agent_loops.min_tasks": (20, "tasks a feature needs before its norm is trusted (no step_budget)"),
    "agent_loops.savings_low_factor": (0.5, "share of the calls past the budget a step cap surely removes"),
    "agent_loops.savings_high_factor": (1.0, "share of the calls past the budget a step cap can remove at most"),
    "input_quality.min_calls": (3, "failed bad-input calls before a feature is reported"),
    "input_quality.savings_low_factor": (0.7, "share of the bad-input calls validation surely prevents"),
    "input_quality.savings_high_factor": (1.0, "share of the bad-input calls validation can prevent at most"),
    "gpu_underuse.max_utilisation": (0.6, "a self-hosted deployment's month below this utilisation is reported"),
    "gpu_underuse.savings_low_factor": (0.5, "share of the idle GPU cost autoscaling surely removes"),
    "gpu_underuse.savings_high_factor": (0.9, "share of the idle GPU cost right-sizing can remove at most"),
}

_SECTION_KEYS = {"routing_targets"}  # [leaks] entries that are not thresholds


# ----------------------------------------------------------------------------------------- thresholds


def _section(config: Any) -> Mapping[str, Any]:
    """The config's `[leaks]` table (a dict, or a pydantic model once Config has one), else {}."""
    leaks = getattr(config, "leaks", None) if config is not None else None
    if leaks is None:
        return {}
    if hasattr(leaks, "model_dump"):
        return leaks.model_dump(exclude_none=True)
    if isinstance(leaks, Mapping):
        return leaks
    raise ConfigError("[leaks] must be a table", fix="write [leaks.<kind>] tables of name = number")


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if prefix == "" and key in _SECTION_KEYS:
            continue
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def resolve_thresholds(config: Any = None, thresholds: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Defaults ← config `[leaks]` ← `thresholds`; ConfigError naming the entry for an unknown name or bad value."""
    values = {name: float(default) for name, (default, _) in DEFAULT_THRESHOLDS.items()}
    for source, overrides in (("[leaks]", _section(config)), ("thresholds", thresholds or {})):
        for name, value in _flatten(overrides).items():
            if name not in DEFAULT_THRESHOLDS:
                close = [n for n in DEFAULT_THRESHOLDS if n.split(".")[0] == name.split(".")[0]]
                raise ConfigError(
                    f"{source}: {name} is not a leak threshold",
                    fix=f"use one of: {', '.join(close or DEFAULT_THRESHOLDS)}",
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"{source}: {name} = {value!r} is not a finite non-negative number",
                    fix=f"e.g. {name} = {DEFAULT_THRESHOLDS[name][0]}",
                )
            values[name] = float(value)
    routing_overrides(config)  # validated here too, so a bad [leaks.routing_targets] fails at load
    for low, high in (
        ("severity.medium_share", "severity.high_share"),
        ("confidence.medium_calls", "confidence.high_calls"),
    ):
        if values[low] > values[high]:
            raise ConfigError(f"{low} ({values[low]}) is above {high} ({values[high]})", fix="swap them")
    return values


def routing_overrides(config: Any) -> list[tuple[str, str, str]]:
    raw = _section(config).get("routing_targets") or {}
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in raw.items()):
        raise ConfigError(
            "[leaks.routing_targets] must map model globs to model names", fix='e.g. "gpt-4o*" = "gpt-4o-mini"'
        )
    return [("*", glob, target) for glob, target in raw.items()]
