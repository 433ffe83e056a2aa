"""Resolve the bundled genai-prices catalog into the `price_book` table (docs/definitions.md#price-book).

Each DISTINCT (provider, model, variant) of `calls` is resolved ONCE here, into rows that are constant over
a validity window × time-of-day window × input-size tier; `sql/intermediate/fresh_priced_calls.sql` then prices
every call with one join. The rows reproduce `genai_prices.calc_price` exactly:

- dated prices (`ConditionalPrice` with `StartDateConstraint`) and dated variants split the time line at
  each start date (UTC midnight); `TimeOfDateConstraint` (deepseek off-peak) splits the day. Inside one
  such cell every constraint is constant, so resolving at any instant of the cell is exact;
- `TieredPrices` charge the WHOLE request at the tier its total input (incl. cache) exceeds, so tiers of
  all price keys are expanded to the union of their thresholds;
- a token kind without its own price falls to its parent's, as `decompose.compute_leaf_values` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby, pairwise
from typing import TYPE_CHECKING, Any

import genai_prices
from genai_prices import data_snapshot
from genai_prices.types import ModelInfo, ModelPrice, Provider, StartDateConstraint, TieredPrices, TimeOfDateConstraint

from costlens.db import one_row
from costlens.pricing.config import VARIANTS, Discount, PriceOverride, PricesConfig, parse_prices_config
from costlens.pricing.kinds import (
    BASE_TIER,
    BEGINNING,
    DAY_SECONDS,
    END_OF_TIME,
    MAX_TOKENS,
    KindPrices,
    TierPrices,
    to_money,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

CATALOG_SOURCE = f"genai-prices {genai_prices.__version__}"

# Canonical provider (calls.provider) → genai-prices provider id. Names not listed are passed through as
# they are: genai-prices matches ids and its own aliases (e.g. 'together_ai'); unknown ones stay unpriced.
CANONICAL_TO_CATALOG: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "azure.openai": "azure",
    "gcp.vertex_ai": "google",
    "google": "google",
    "mistral": "mistral",
    "groq": "groq",
    "deepseek": "deepseek",
    "x_ai": "x-ai",
    "cohere": "cohere",
    "together": "together",
    "together_ai": "together",
    "fireworks": "fireworks",
    "fireworks_ai": "fireworks",
    "openrouter": "openrouter",
    "perplexity": "perplexity",
    "moonshot": "moonshotai",
    "moonshotai": "moonshotai",
    "cerebras": "cerebras",
}

# The request context genai-prices selects a PriceVariant with; standard passes none.
VARIANT_CONTEXT: dict[str, dict[str, str] | None] = {
    "standard": None,
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}

# The one definition of a call's price variant; everything that groups or joins by variant uses it.
PRICING_VARIANT_SQL = (
    "CASE WHEN is_batch OR service_tier = 'batch' THEN 'batch' "
    "WHEN service_tier IN ('priority', 'flex') THEN service_tier "
    "ELSE 'standard' END"
)

# Effective price of each additive token kind: the first catalog key that has a price. This is the
# nearest priced ancestor in genai-prices' unit tree (compute_leaf_values): cache reads without
# cache_read_mtok are billed as input, 1h writes without cache_write_1h_mtok as cache_write, else input.
_KIND_CHAINS: dict[str, tuple[str, ...]] = {
    "input_mtok": ("input_mtok",),
    "cache_read_mtok": ("cache_read_mtok", "input_mtok"),
    "cache_write_5m_mtok": ("cache_write_5m_mtok", "cache_write_mtok", "input_mtok"),
    "cache_write_1h_mtok": ("cache_write_1h_mtok", "cache_write_mtok", "input_mtok"),
    "output_mtok": ("output_mtok",),
    "reasoning_mtok": ("output_reasoning_mtok", "output_mtok"),
}
_USED_PRICE_KEYS = sorted({key for chain in _KIND_CHAINS.values() for key in chain} | {"requests_kcount"})

NO_PROVIDER = ""  # price_book.provider is NOT NULL: calls with a NULL provider join on ''


# ---------------------------------------------------------------------------------------------- SQL


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create `pricing_variant(service_tier, is_batch)`, the one SQL definition of a call's variant."""
    con.execute(f"CREATE OR REPLACE MACRO pricing_variant(service_tier, is_batch) AS ({PRICING_VARIANT_SQL})")


def create_priced_calls_view(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the `priced_calls` view, after the macro it uses."""
    from costlens.sqlfiles import load_sql

    install_macros(con)
    con.execute(load_sql("intermediate/priced_calls.sql"))


# ------------------------------------------------------------------------------------ value objects


@dataclass(frozen=True)
class CatalogMatch:
    provider: Provider
    model: ModelInfo
    # The model was borrowed from a fallback provider (e.g. azure → openai): calc_price then ignores
    # the price context, so no batch / flex / priority variant applies.
    via_fallback: bool


@dataclass(frozen=True)
class Segment:
    """Prices constant over [valid_from, valid_to) × [tod_from_s, tod_to_s): one price_book row per tier."""

    valid_from: datetime
    valid_to: datetime
    tod_from_s: int
    tod_to_s: int
    tiers: tuple[TierPrices, ...]
    variant_applied: bool
    source: str
    discount_pct: Decimal = Decimal(0)
    rule: str = field(default="", compare=False)

    def same_prices(self, other: Segment) -> bool:
        return replace(self, valid_from=other.valid_from, valid_to=other.valid_to) == other


@dataclass
class KeyResolution:
    provider: str | None
    model: str
    variant: str
    match: CatalogMatch | None = None
    segments: list[Segment] = field(default_factory=list)
    problem: str | None = None  # why (part of) the period cannot be priced
    discount: Discount | None = None
    overrides: list[PriceOverride] = field(default_factory=list)


@dataclass(frozen=True)
class PriceBookSummary:
    source: str  # e.g. 'genai-prices 0.2.3'
    keys: int  # distinct (provider, model, variant) in calls
    priced_keys: int  # keys with a price for their whole observed period
    rows: int  # rows written to price_book
    unpriced: tuple[tuple[str, str, str, str], ...]  # (provider, model, variant, reason), as in unpriced_models
    variant_not_applied: tuple[tuple[str, str, str], ...]  # batch/flex/priority keys priced at standard
    overrides_applied: int
    discounts_applied: int


# ------------------------------------------------------------------------------- catalog resolution


def catalog_provider_id(provider: str | None) -> str | None:
    if not provider:
        return None  # let genai-prices find the provider from the model name
    return CANONICAL_TO_CATALOG.get(provider, provider)


def find_catalog_model(provider: str | None, model: str) -> CatalogMatch:
    """The catalog entry calc_price would use for this provider and model; LookupError if none."""
    snapshot = data_snapshot.get_snapshot()
    catalog_provider, info = snapshot.find_provider_model(model, None, catalog_provider_id(provider), None)
    own = any(info is m for m in catalog_provider.models)  # the same identity test calc_price makes
    return CatalogMatch(catalog_provider, info, via_fallback=not own)


def _price_list(info: ModelInfo) -> list[Any]:
    return [] if isinstance(info.prices, ModelPrice) else list(info.prices)


def _constraints(info: ModelInfo) -> Iterable[Any]:
    yield from (c.constraint for c in _price_list(info))
    yield from (v.constraint for v in info.price_variants or ())


def date_boundaries(info: ModelInfo) -> list[datetime]:
    # StartDateConstraint.active compares the UTC date, so each start date begins at UTC midnight.
    return [datetime.combine(c.start_date, time()) for c in _constraints(info) if isinstance(c, StartDateConstraint)]


def _tod_cells(info: ModelInfo) -> list[tuple[int, int]]:
    cuts = {0, DAY_SECONDS}
    for c in _constraints(info):
        if isinstance(c, TimeOfDateConstraint):
            cuts |= {_utc_seconds(c.start_time), _utc_seconds(c.end_time)}
    return list(pairwise(sorted(cuts)))


def _utc_seconds(value: time) -> int:
    if value.tzinfo is not None:  # constraint times may carry an offset; the SQL side works in UTC
        value = datetime.combine(date(1970, 1, 1), value).astimezone(UTC).time()
    return value.hour * 3600 + value.minute * 60 + value.second


def validity_windows(
    boundaries: Iterable[datetime], t_min: datetime, t_max: datetime
) -> list[tuple[datetime, datetime]]:
    edges = sorted({BEGINNING, END_OF_TIME, *(b for b in boundaries if BEGINNING < b < END_OF_TIME)})
    return [(a, b) for a, b in pairwise(edges) if a <= t_max and b > t_min]


def _describe_constraint(constraint: Any) -> str:
    if isinstance(constraint, StartDateConstraint):
        return f"from {constraint.start_date}"
    if isinstance(constraint, TimeOfDateConstraint):
        return f"daily {constraint.start_time:%H:%M}–{constraint.end_time:%H:%M} UTC"
    return "always"


def _price_rule(info: ModelInfo, at: datetime) -> str:
    """Which ConditionalPrice get_prices picks at `at` (last active one wins, else the first)."""
    prices = _price_list(info)
    if not prices:
        return "single price"
    for i in reversed(range(len(prices))):
        constraint = prices[i].constraint
        if constraint is None or constraint.active(at):
            return f"conditional price {i + 1} of {len(prices)} ({_describe_constraint(constraint)})"
    return f"conditional price 1 of {len(prices)} (none active: genai-prices falls back to the first)"


def _matching_variants(info: ModelInfo, context: Mapping[str, str], at: datetime) -> list[Any]:
    """The PriceVariants get_prices merges for this context and instant (and that price something)."""
    return [
        v
        for v in info.price_variants or ()
        if (v.constraint is None or v.constraint.active(at))
        and all(context.get(k) == value for k, value in v.when.items())
        and any(p is not None for p in v.prices.__dict__.values())
    ]


def resolve_model_price(match: CatalogMatch, variant: str, at: datetime) -> tuple[ModelPrice, bool, str]:
    """Prices calc_price would use at `at`: (ModelPrice, variant applied?, how the variant resolved)."""
    info, context = match.model, VARIANT_CONTEXT[variant]
    if context is None:
        return info.get_prices(at), True, "standard prices"
    if match.via_fallback:
        note = f"{variant} not applied: model borrowed from fallback provider, genai-prices ignores variants"
        return info.get_prices(at), False, note
    hits = _matching_variants(info, context, at)
    if not hits:
        return info.get_prices(at), False, f"{variant} not applied: no {context} price variant active at {at:%Y-%m-%d}"
    described = ", ".join(f"{v.when} {_describe_constraint(v.constraint)}" for v in hits)
    return info.get_prices(at, context), True, f"price variant {described}"


def _at_tier(value: Decimal | TieredPrices, above: int) -> Decimal:
    """Price for requests with total input in (above, next threshold]: the tier with the largest start <= above."""
    if not isinstance(value, TieredPrices):
        return value
    price = value.base
    for tier in value.tiers:  # sorted ascending by TieredPrices itself
        if tier.start <= above:
            price = tier.price
    return price


def _kind_prices(model_price: ModelPrice, above: int) -> KindPrices:
    def first_priced(chain: tuple[str, ...]) -> Decimal:
        value = next((v for key in chain if (v := getattr(model_price, key)) is not None), None)
        return Decimal(0) if value is None else to_money(_at_tier(value, above))

    requests = model_price.requests_kcount
    request_usd = Decimal(0) if requests is None else to_money(_at_tier(requests, above) / 1000)
    return KindPrices(**{kind: first_priced(chain) for kind, chain in _KIND_CHAINS.items()}, request_usd=request_usd)


def token_tiers(model_price: ModelPrice) -> tuple[TierPrices, ...] | None:
    """One TierPrices per interval between the thresholds of ANY price key; None without token prices."""
    if model_price.input_mtok is None and model_price.output_mtok is None:
        return None
    values = [getattr(model_price, key) for key in _USED_PRICE_KEYS]
    starts = sorted({t.start for v in values if isinstance(v, TieredPrices) for t in v.tiers})
    edges = [BASE_TIER, *starts, MAX_TOKENS]
    return tuple(TierPrices(lo, hi, _kind_prices(model_price, lo)) for lo, hi in pairwise(edges))


def _priced_units(model_price: ModelPrice) -> str:
    return ", ".join(k for k, v in model_price.__dict__.items() if v is not None) or "nothing"


def _catalog_segments(
    match: CatalogMatch, variant: str, t_min: datetime, t_max: datetime
) -> tuple[list[Segment], str | None]:
    """Segments over [t_min, t_max] (whole windows), and why any cell had no token price."""
    info, segments, problem = match.model, [], None
    for valid_from, valid_to in validity_windows(date_boundaries(info), t_min, t_max):
        day = datetime.combine(max(valid_from, t_min).date(), time())
        for tod_from, tod_to in _tod_cells(info):
            at = day + timedelta(seconds=tod_from)  # any instant of the cell resolves the same
            model_price, applied, variant_rule = resolve_model_price(match, variant, at)
            tiers = token_tiers(model_price)
            if tiers is None:
                problem = (
                    f"genai-prices has no token price for {match.provider.id}/{info.id} "
                    f"(it prices: {_priced_units(model_price)})"
                )
                continue
            rule = f"{_price_rule(info, at)}; {variant_rule}"
            segments.append(Segment(valid_from, valid_to, tod_from, tod_to, tiers, applied, CATALOG_SOURCE, rule=rule))
    return _merge_windows(segments), problem


def _merge_windows(segments: list[Segment]) -> list[Segment]:
    """Join consecutive validity windows whose rows are identical (a start date that changed nothing here)."""
    windows = [list(group) for _, group in groupby(segments, key=lambda s: (s.valid_from, s.valid_to))]
    merged: list[list[Segment]] = []
    for window in windows:
        previous = merged[-1] if merged else None
        if (
            previous
            and previous[0].valid_to == window[0].valid_from
            and len(previous) == len(window)
            and all(a.same_prices(b) for a, b in zip(previous, window, strict=True))
        ):
            merged[-1] = [replace(a, valid_to=b.valid_to) for a, b in zip(previous, window, strict=True)]
        else:
            merged.append(window)
    return [segment for window in merged for segment in window]


def _discounted(segments: list[Segment], discount: Discount) -> list[Segment]:
    factor = 1 - discount.pct / 100
    return [
        replace(
            s,
            tiers=tuple(replace(t, prices=t.prices.scaled(factor)) for t in s.tiers),
            discount_pct=discount.pct,
            rule=f"{s.rule}; {discount.label}: {discount.pct}% off",
        )
        for s in segments
    ]


def _outside(segment: Segment, start: datetime, end: datetime) -> list[Segment]:
    """The parts of a segment's window outside [start, end)."""
    parts = []
    if segment.valid_from < start:
        parts.append(replace(segment, valid_to=min(segment.valid_to, start)))
    if segment.valid_to > end:
        parts.append(replace(segment, valid_from=max(segment.valid_from, end)))
    return parts


def _with_overrides(
    segments: list[Segment], overrides: list[PriceOverride], t_min: datetime, t_max: datetime
) -> list[Segment]:
    """Catalog segments cut out where an override applies, plus one all-day, untiered segment per override."""
    for override in overrides:
        segments = [part for s in segments for part in _outside(s, override.valid_from, override.valid_to)]
    segments = [s for s in segments if s.valid_from <= t_max and s.valid_to > t_min]
    for o in overrides:
        if o.valid_from <= t_max and o.valid_to > t_min:
            tiers = (TierPrices(BASE_TIER, MAX_TOKENS, o.prices),)
            source = f"override: {o.label}"
            segments.append(Segment(o.valid_from, o.valid_to, 0, DAY_SECONDS, tiers, True, source, rule=source))
    return sorted(segments, key=lambda s: (s.valid_from, s.valid_to, s.tod_from_s))


def _covers(segments: list[Segment], t_min: datetime, t_max: datetime) -> bool:
    """Whether whole days of [t_min, t_max] are covered (each window's time-of-day cells must add up to 24h)."""
    full_windows = sorted(
        window
        for window, group in groupby(segments, key=lambda s: (s.valid_from, s.valid_to))
        if sum(s.tod_to_s - s.tod_from_s for s in group) == DAY_SECONDS
    )
    reached = t_min
    for valid_from, valid_to in full_windows:
        if valid_from > reached:
            break
        reached = max(reached, valid_to)
    return reached > t_max


def resolve_key(
    provider: str | None,
    model: str,
    variant: str,
    t_min: datetime,
    t_max: datetime,
    config: PricesConfig | None = None,
) -> KeyResolution:
    """All price segments of one key over the calls' period [t_min, t_max]: catalog, discount, overrides."""
    if variant not in VARIANT_CONTEXT:
        raise ValueError(f"unknown price variant {variant!r}: use one of {', '.join(VARIANTS)}")
    config = config or PricesConfig()
    resolution = KeyResolution(provider or None, model, variant)
    try:
        resolution.match = find_catalog_model(provider, config.catalog_name(model))
    except LookupError as exc:
        resolution.problem = f"not in {CATALOG_SOURCE}: {exc}"
    else:
        resolution.segments, resolution.problem = _catalog_segments(resolution.match, variant, t_min, t_max)
        resolution.discount = config.discount_for(provider, model)
        if resolution.discount is not None and resolution.segments:
            resolution.segments = _discounted(resolution.segments, resolution.discount)
    resolution.overrides = config.overrides_for(provider, model, variant)
    resolution.segments = _with_overrides(resolution.segments, resolution.overrides, t_min, t_max)
    if _covers(resolution.segments, t_min, t_max):
        resolution.problem = None
    else:
        resolution.problem = resolution.problem or "no price for part of the period"
        if resolution.overrides:
            resolution.problem += "; the overrides cover only part of the period"
    return resolution


# ------------------------------------------------------------------------------------- price book


PRICE_KEYS_SQL = """
SELECT provider, model, pricing_variant(service_tier, is_batch) AS variant, min(ts) AS ts_min, max(ts) AS ts_max
FROM calls
GROUP BY ALL
ORDER BY ALL
"""

_PRICE_COLUMNS = (
    "input_mtok",
    "cache_read_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "output_mtok",
    "reasoning_mtok",
    "request_usd",
)


def price_book_schema() -> pa.Schema:
    import pyarrow as pa

    money = pa.decimal128(38, 18)
    return pa.schema(
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
            ("catalog_provider", pa.string()),
            ("catalog_model", pa.string()),
            ("variant_applied", pa.bool_()),
            ("source", pa.string()),
            ("discount_pct", pa.decimal128(9, 6)),
        ]
    )


def price_rows(resolution: KeyResolution) -> Iterable[dict[str, Any]]:
    match = resolution.match
    for s in resolution.segments:
        for tier in s.tiers:
            yield {
                "provider": resolution.provider or NO_PROVIDER,
                "model": resolution.model,
                "variant": resolution.variant,
                "valid_from": s.valid_from,
                "valid_to": s.valid_to,
                "tod_from_s": s.tod_from_s,
                "tod_to_s": s.tod_to_s,
                "tier_above_tokens": tier.above_tokens,
                "tier_upto_tokens": tier.upto_tokens,
                **tier.prices.as_dict(),
                "catalog_provider": match.provider.id if match else None,
                "catalog_model": match.model.id if match else None,
                "variant_applied": s.variant_applied,
                "source": s.source,
                "discount_pct": s.discount_pct,
            }


def replace_table(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    view = f"_costlens_new_{table}"
    con.register(view, data)
    try:
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")
    finally:
        con.unregister(view)


# ---------------------------------------------------------------------------------------- explain


def canonical_identity(provider: str | None, model: str) -> tuple[str, str | None]:
    """(model, provider) as ingest stores them: the SQL macros canonical_model / model_provider /
    normalize_provider of sql/schema/002_macros.sql, evaluated in an in-memory DuckDB so there is one rule."""
    import duckdb

    from costlens.sqlfiles import load_sql

    con = duckdb.connect(":memory:")
    try:
        con.execute(load_sql("schema/002_macros.sql"))
        canonical, derived = one_row(
            con.execute(
                "SELECT canonical_model(normalize_provider(?), ?), "
                "coalesce(normalize_provider(nullif(trim(?), '')), model_provider(?))",
                [provider, model, provider or "", model],
            )
        )
    finally:
        con.close()
    return canonical, derived


def explain(
    provider: str | None,
    model: str,
    variant: str,
    at: datetime,
    *,
    prices_config: dict | None = None,
    aliases: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """How one key resolves at one instant, for `costlens prices`: the model's identity steps (as written →
    canonical form and provider, the same rules ingest applies → [models.aliases]), then catalog entry,
    rule, prices, tiers.

    `at` is UTC (a naive datetime is taken as UTC). Prices are Decimals in USD per million tokens."""
    config = parse_prices_config(prices_config, aliases)
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    as_written, provider_given = model, provider
    model, provider = canonical_identity(provider, model)
    steps = []
    if model != as_written:
        steps.append(f"canonical form: {as_written} → {model}")
    if provider != provider_given:
        steps.append(f"provider from the model name: {provider}")
    if config.catalog_name(model) != model:
        steps.append(f"[models.aliases]: {model} is priced as {config.catalog_name(model)}")
    resolution = resolve_key(provider, model, variant, at, at, config)
    tod = at.hour * 3600 + at.minute * 60 + at.second
    segment = next(
        (s for s in resolution.segments if s.valid_from <= at < s.valid_to and s.tod_from_s <= tod < s.tod_to_s),
        None,
    )
    match = resolution.match
    override = next((o for o in resolution.overrides if o.valid_from <= at < o.valid_to), None)
    return {
        "provider": provider,
        "model": model,
        "model_as_written": as_written,
        "identity_steps": steps,
        "variant": variant,
        "at": at,
        "priced": segment is not None,
        "reason": resolution.problem,
        "catalog_source": CATALOG_SOURCE,
        "catalog_provider": match.provider.id if match else None,
        "catalog_model": match.model.id if match else None,
        "catalog_model_name": match.model.name if match else None,
        "via_fallback_provider": match.via_fallback if match else None,
        "matched_rule": segment.rule if segment else None,
        "variant_applied": segment.variant_applied if segment else None,
        "valid_from": segment.valid_from if segment else None,
        "valid_to": segment.valid_to if segment else None,
        "time_of_day_s": (segment.tod_from_s, segment.tod_to_s) if segment else None,
        "prices": segment.tiers[0].prices.as_dict() if segment else None,
        "tiers": [
            {"above_tokens": t.above_tokens, "upto_tokens": t.upto_tokens, **t.prices.as_dict()}
            for t in (segment.tiers if segment else ())
        ],
        "source": segment.source if segment else None,
        "override": override.label if override and segment and segment.source.startswith("override") else None,
        "discount_pct": segment.discount_pct if segment else Decimal(0),
        "discount": resolution.discount.label if resolution.discount and segment and segment.discount_pct else None,
    }
