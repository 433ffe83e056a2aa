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
turns them into findings (columns: costlens.model.leaks.COLUMNS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from costlens.db import one_row, scratch_sql
from costlens.model.leaks import COLUMNS, DEPLOYMENT_KINDS, KINDS, Finding
from costlens.settings.leaks import resolve_thresholds, routing_overrides
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

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
    routing = routing_overrides(config)
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
    if kinds == KINDS and config is not None and getattr(config, "self_hosted", None):
        kinds = (*KINDS, *DEPLOYMENT_KINDS)
    unknown = sorted(set(kinds) - set(KINDS) - set(DEPLOYMENT_KINDS))
    if unknown:
        raise ValueError(f"unknown leak kind(s): {', '.join(unknown)}")
    _small_tables(con, config, values)
    _extra_prices(con, config)
    con.execute(scratch_sql(con, "leaks/_prelude.sql"))
    findings: list[Finding] = []
    for kind in kinds:
        names, rows = _detector_rows(con, kind)
        if tuple(names) != COLUMNS:
            raise RuntimeError(f"sql/leaks/{kind}.sql returns {names}, expected {list(COLUMNS)}")
        findings.extend(Finding.from_row(dict(zip(names, row))) for row in rows)
    findings.sort(key=lambda f: (-f.wasted_usd, f.kind, f.feature, f.model or ""))
    return findings
