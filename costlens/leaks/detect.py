"""Run the leak detectors of sql/leaks/ over the report period (docs/definitions.md#leaks).

Call after `compute_period_metrics` (period_calls, task_costs, price_book, model_tiers, feature_config and
report_period exist). Python only prepares small inputs, each resolved once:

- `leak_thresholds(name, value)`: the defaults below, overridden by the config's `[leaks]` table and by the
  `thresholds` argument (dotted names "context_bloat.k_p50" or nested {"context_bloat": {"k_p50": 5}});
- `leak_features(feature, interactive, step_budget, task_class)` from `[features.<name>]`;
- `leak_cache_minimums`, `leak_batch_providers`, `leak_routing`: the provider constants below;
- `leak_price_book`: price_book plus the prices a detector compares against that no call paid — the batch
  variant of every (provider, model) of the period, and the standard price of each premium model's cheaper
  routing target — resolved from the same catalog, discounts and overrides as price_book.

Then sql/leaks/_prelude.sql builds `leak_calls` (period_calls + the per-token prices of each call) and the
shared macros; every sql/leaks/<kind>.sql selects its findings' detector columns, and sql/leaks/_finding.sql
turns them into findings (columns: costlens.leaks.model.COLUMNS).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from costlens.db import one_row
from costlens.errors import ConfigError
from costlens.leaks.model import COLUMNS, KINDS, Finding
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

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
    "context_bloat.min_feature_calls": (30, "ok calls a feature needs before its typical size is trusted"),
    "context_bloat.growth_min_turns": (6, "a conversation whose context grows on this many turns in a row"),
    "context_bloat.growth_min_ratio": (2.0, "... and whose last turn is this many times its first"),
    "context_bloat.savings_low_factor": (0.5, "share of the waste a context budget surely removes"),
    "context_bloat.savings_high_factor": (1.0, "share of the waste a context budget can remove at most"),
    "premium_overuse.short_output_p95_tokens": (256, "premium calls whose p95 output is at most this are short work"),
    "premium_overuse.min_calls": (30, "calls of a premium model in a feature before it is judged"),
    "premium_overuse.min_outcomes": (30, "tasks with an outcome each model needs for the acceptance test"),
    "premium_overuse.noninferiority_margin": (0.05, "the cheaper model may be at most this much less accepted"),
    "premium_overuse.z": (1.645, "one-sided z of the Newcombe (Wilson score) bound on the acceptance difference"),
    "premium_overuse.savings_low_factor": (0.6, "share of the premium calls that surely can move"),
    "premium_overuse.savings_high_factor": (1.0, "share of the premium calls that can move at most"),
    "retries.min_calls": (3, "wasted attempts before a feature is reported"),
    "retries.savings_low_factor": (0.5, "share of the wasted attempts guardrails surely avoid"),
    "retries.savings_high_factor": (1.0, "share of the wasted attempts guardrails can avoid at most"),
    "cache_miss.response_ttl_s": (604800, "a repeat of an answered prompt within this many seconds is a cache hit"),
    "cache_miss.response_min_repeats": (5, "repeated prompts before a response cache is recommended"),
    "cache_miss.response_savings_low_factor": (0.5, "share of repeats a response cache surely serves"),
    "cache_miss.response_savings_high_factor": (1.0, "share of repeats a response cache can serve at most"),
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
}

# Providers' minimum cacheable prompt length (tokens): (provider glob, model glob, minimum). The most specific
# (longest model glob) match wins. Anthropic: 1024, Haiku 2048; OpenAI: 1024 (automatic caching);
# Google Gemini: 1024 (Flash), 2048 (Pro).
CACHE_MINIMUMS: tuple[tuple[str, str, int], ...] = (
    ("anthropic", "*", 1024),
    ("anthropic", "*haiku*", 2048),
    ("aws.bedrock", "*claude*", 1024),
    ("aws.bedrock", "*claude*haiku*", 2048),
    ("gcp.vertex_ai", "*claude*", 1024),
    ("gcp.vertex_ai", "*claude*haiku*", 2048),
    ("openai", "*", 1024),
    ("azure.openai", "*", 1024),
    ("google", "*", 1024),
    ("google", "*pro*", 2048),
    ("gcp.vertex_ai", "gemini*", 1024),
    ("gcp.vertex_ai", "gemini*pro*", 2048),
)

# Providers with an asynchronous batch API at a discount (documented 50% off where the catalog has no price).
BATCH_PROVIDERS: tuple[str, ...] = (
    "openai",
    "azure.openai",
    "anthropic",
    "google",
    "gcp.vertex_ai",
    "aws.bedrock",
    "mistral",
    "groq",
)

# Premium model → the cheaper model of the same provider that short-answer / classification / extraction work
# is priced at: (provider glob, model glob, target). First match wins; `[leaks.routing_targets]` entries
# ("model glob" = "target", any provider) come first.
ROUTING_TARGETS: tuple[tuple[str, str, str], ...] = (
    ("openai", "gpt-4o*", "gpt-4o-mini"),
    ("azure.openai", "gpt-4o*", "gpt-4o-mini"),
    ("openai", "gpt-4.1*", "gpt-4.1-mini"),
    ("azure.openai", "gpt-4.1*", "gpt-4.1-mini"),
    ("openai", "gpt-5*", "gpt-5-mini"),
    ("openai", "o1*", "o4-mini"),
    ("openai", "o3*", "o4-mini"),
    ("openai", "gpt-4-*", "gpt-4o-mini"),
    ("anthropic", "claude-opus*", "claude-haiku-4-5"),
    ("anthropic", "claude-sonnet*", "claude-haiku-4-5"),
    ("anthropic", "claude-3-opus*", "claude-haiku-4-5"),
    ("anthropic", "claude-3-5-sonnet*", "claude-haiku-4-5"),
    ("anthropic", "claude-3-7-sonnet*", "claude-haiku-4-5"),
    ("google", "gemini*pro*", "gemini-2.5-flash"),
    ("gcp.vertex_ai", "gemini*pro*", "gemini-2.5-flash"),
)

_PRICE_COLUMNS = (
    "input_mtok",
    "cache_read_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "output_mtok",
    "reasoning_mtok",
    "request_usd",
)

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
    _routing_overrides(config)  # validated here too, so a bad [leaks.routing_targets] fails at load
    for low, high in (
        ("severity.medium_share", "severity.high_share"),
        ("confidence.medium_calls", "confidence.high_calls"),
    ):
        if values[low] > values[high]:
            raise ConfigError(f"{low} ({values[low]}) is above {high} ({values[high]})", fix="swap them")
    return values


def _routing_overrides(config: Any) -> list[tuple[str, str, str]]:
    raw = _section(config).get("routing_targets") or {}
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in raw.items()):
        raise ConfigError(
            "[leaks.routing_targets] must map model globs to model names", fix='e.g. "gpt-4o*" = "gpt-4o-mini"'
        )
    return [("*", glob, target) for glob, target in raw.items()]


# ---------------------------------------------------------------------------------------- inputs


def _register(con: duckdb.DuckDBPyConnection, name: str, table: Any) -> None:
    view = f"_costlens_{name}_arrow"
    con.register(view, table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)


def _small_tables(con: duckdb.DuckDBPyConnection, config: Any, values: dict[str, float]) -> None:
    import pyarrow as pa

    _register(
        con,
        "leak_thresholds",
        pa.table(
            {
                "name": pa.array(list(values), pa.string()),
                "value": pa.array(list(values.values()), pa.float64()),
            }
        ),
    )
    features = dict(getattr(config, "features", None) or {})
    _register(
        con,
        "leak_features",
        pa.table(
            {
                "feature": pa.array(list(features), pa.string()),
                "interactive": pa.array([getattr(f, "interactive", None) for f in features.values()], pa.bool_()),
                "step_budget": pa.array([getattr(f, "step_budget", None) for f in features.values()], pa.int64()),
                "task_class": pa.array([getattr(f, "task_class", None) for f in features.values()], pa.string()),
            }
        ),
    )
    _register(
        con,
        "leak_cache_minimums",
        pa.table(
            {
                "provider_glob": pa.array([p for p, _, _ in CACHE_MINIMUMS], pa.string()),
                "model_glob": pa.array([m for _, m, _ in CACHE_MINIMUMS], pa.string()),
                "min_tokens": pa.array([n for _, _, n in CACHE_MINIMUMS], pa.int64()),
            }
        ),
    )
    _register(con, "leak_batch_providers", pa.table({"provider": pa.array(list(BATCH_PROVIDERS), pa.string())}))


def routing_target(provider: str | None, model: str, overrides: Sequence[tuple[str, str, str]] = ()) -> str | None:
    for provider_glob, model_glob, target in [*overrides, *ROUTING_TARGETS]:
        if fnmatchcase(provider or "", provider_glob) and fnmatchcase(model.lower(), model_glob.lower()):
            return None if target == model else target
    return None


def _extra_prices(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """leak_price_book = price_book + batch variants and routing targets resolved once per DISTINCT key."""
    import pyarrow as pa

    from costlens.pricing.catalog import NO_PROVIDER, resolve_key
    from costlens.pricing.config import parse_prices_config

    prices_config = parse_prices_config(getattr(config, "prices", None) or None)
    known = {tuple(r) for r in con.execute("SELECT DISTINCT provider, model, variant FROM price_book").fetchall()}
    span = con.execute("SELECT min(ts), max(ts) FROM period_calls").fetchall()[0]
    routing = _routing_overrides(config)
    rows: list[dict[str, Any]] = []
    wanted: set[tuple[str, str, str]] = set()
    if span[0] is not None:
        keys = con.execute(
            "SELECT DISTINCT coalesce(c.provider, '') AS provider, c.model, t.tier FROM period_calls c "
            "LEFT JOIN model_tiers t ON t.provider = coalesce(c.provider, '') AND t.model = c.model "
            "WHERE c.priced ORDER BY ALL"
        ).fetchall()
        for provider, model, tier in keys:
            if provider in BATCH_PROVIDERS:
                wanted.add((provider, model, "batch"))
            target = routing_target(provider, model, routing) if tier == "premium" else None
            if target:
                wanted.add((provider, target, "standard"))
    t_min, t_max = span
    for provider, model, variant in sorted(wanted - known):
        resolution = resolve_key(provider or None, model, variant, t_min, t_max, prices_config)
        for s in resolution.segments:
            for tier in s.tiers:
                rows.append(
                    {
                        "provider": provider or NO_PROVIDER,
                        "model": model,
                        "variant": variant,
                        "valid_from": s.valid_from,
                        "valid_to": s.valid_to,
                        "tod_from_s": s.tod_from_s,
                        "tod_to_s": s.tod_to_s,
                        "tier_above_tokens": tier.above_tokens,
                        "tier_upto_tokens": tier.upto_tokens,
                        **tier.prices.as_dict(),
                        "variant_applied": s.variant_applied,
                        "source": s.source,
                    }
                )
    money = pa.decimal128(38, 18)
    schema = pa.schema(
        [
            ("provider", pa.string()),
            ("model", pa.string()),
            ("variant", pa.string()),
            ("valid_from", pa.timestamp("us")),
            ("valid_to", pa.timestamp("us")),
            ("tod_from_s", pa.int32()),
            ("tod_to_s", pa.int32()),
            ("tier_above_tokens", pa.int64()),
            ("tier_upto_tokens", pa.int64()),
            *((name, money) for name in _PRICE_COLUMNS),
            ("variant_applied", pa.bool_()),
            ("source", pa.string()),
        ]
    )
    _register(con, "leak_extra_prices", pa.Table.from_pylist(rows, schema=schema))
    columns = ", ".join(field.name for field in schema)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE leak_price_book AS SELECT {columns} FROM price_book "
        f"UNION ALL SELECT {columns} FROM leak_extra_prices"
    )

    premium = con.execute("SELECT provider, model FROM model_tiers WHERE tier = 'premium' ORDER BY ALL").fetchall()
    targets = [(p, m, routing_target(p, m, routing)) for p, m in premium]
    _register(
        con,
        "leak_routing",
        pa.table(
            {
                "provider": pa.array([p for p, _, t in targets if t], pa.string()),
                "model": pa.array([m for _, m, t in targets if t], pa.string()),
                "target_model": pa.array([t for _, _, t in targets if t], pa.string()),
            }
        ),
    )


# ---------------------------------------------------------------------------------------- run


def _detector_rows(con: duckdb.DuckDBPyConnection, kind: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of the findings of sql/leaks/<kind>.sql, through sql/leaks/_finding.sql. If it runs
    out of memory, run it again on one thread (per-group percentiles and lists are held per thread and cannot
    spill; at ~10M calls that can exceed the memory limit where the rest of the work spills to disk)."""
    import duckdb

    con.execute(f"CREATE OR REPLACE TEMP VIEW leak_detector AS {load_sql(f'leaks/{kind}.sql')}")

    def run() -> tuple[list[str], list[tuple]]:
        cursor = con.execute(load_sql("leaks/_finding.sql"))
        return [d[0] for d in cursor.description], cursor.fetchall()

    try:
        return run()
    except duckdb.OutOfMemoryException:
        threads = int(one_row(con.execute("SELECT current_setting('threads')"))[0])
        con.execute("SET threads = 1")
        try:
            return run()
        finally:
            con.execute(f"SET threads = {threads}")


def run_detectors(
    con: duckdb.DuckDBPyConnection,
    config: Any = None,
    thresholds: Mapping[str, Any] | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> list[Finding]:
    """Every finding of the period, largest waste first. Needs the period tables of compute_period_metrics."""
    values = resolve_thresholds(config, thresholds)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown leak kind(s): {', '.join(unknown)}")
    _small_tables(con, config, values)
    _extra_prices(con, config)
    con.execute(load_sql("leaks/_prelude.sql"))
    findings: list[Finding] = []
    for kind in kinds:
        names, rows = _detector_rows(con, kind)
        if tuple(names) != COLUMNS:
            raise RuntimeError(f"sql/leaks/{kind}.sql returns {names}, expected {list(COLUMNS)}")
        findings.extend(Finding.from_row(dict(zip(names, row))) for row in rows)
    findings.sort(key=lambda f: (-f.wasted_usd, f.kind, f.feature, f.model or ""))
    return findings
