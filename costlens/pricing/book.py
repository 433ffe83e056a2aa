"""The price book of the calls in the database: every token price (costlens/pricing/catalog.py) and every
non-token charge price (costlens/pricing/charges.py) of the DISTINCT keys of `calls`, replaced in one
transaction. The module that puts the two together, so neither imports the other's caller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from costlens.pricing.catalog import (
    CATALOG_SOURCE,
    NO_PROVIDER,
    PRICE_KEYS_SQL,
    PriceBookSummary,
    install_macros,
    price_book_schema,
    price_rows,
    replace_table,
    resolve_key,
)
from costlens.pricing.charges import build_charge_price_book
from costlens.pricing.config import parse_prices_config

if TYPE_CHECKING:
    import duckdb


def book_inputs(prices_config: dict | None, aliases: Mapping[str, str] | None) -> str:
    """What a price book is resolved from besides the keys: the catalog's version, `[prices]` and the aliases."""
    import json

    return json.dumps([CATALOG_SOURCE, prices_config or {}, dict(aliases or {})], sort_keys=True, default=str)


def build_price_book(
    con: duckdb.DuckDBPyConnection,
    prices_config: dict | None = None,
    aliases: Mapping[str, str] | None = None,
    *,
    keys_sql: str = PRICE_KEYS_SQL,
    own_transaction: bool = True,
) -> PriceBookSummary:
    """Resolve every DISTINCT (provider, model, variant) of `calls` (or of `keys_sql`: provider, model, variant,
    ts_min, ts_max) once and replace `price_book` / `unpriced_models` / `charge_price_book`, recording the keys
    in `price_book_keys` and the inputs in meta. Raises PricesConfigError (a ValueError) for a bad `[prices]`
    table. `own_transaction` False: the caller's transaction holds it."""
    import pyarrow as pa

    config = parse_prices_config(prices_config, aliases)  # fail on bad config before touching any table
    install_macros(con)
    keys = con.execute(keys_sql).fetchall()
    resolutions = [resolve_key(p, m, v, t_min, t_max, config) for p, m, v, t_min, t_max in keys]

    rows = [row for r in resolutions for row in price_rows(r)]
    unpriced = tuple((r.provider or NO_PROVIDER, r.model, r.variant, r.problem) for r in resolutions if r.problem)
    unpriced_schema = pa.schema([(c, pa.string()) for c in ("provider", "model", "variant", "reason")])

    key_schema = pa.schema(
        [
            ("provider", pa.string()),
            ("model", pa.string()),
            ("variant", pa.string()),
            ("ts_min", pa.timestamp("us")),
            ("ts_max", pa.timestamp("us")),
        ]
    )
    key_rows = [
        {"provider": p or NO_PROVIDER, "model": m, "variant": v, "ts_min": lo, "ts_max": hi} for p, m, v, lo, hi in keys
    ]
    if own_transaction:
        con.begin()
    try:
        replace_table(con, "price_book", pa.Table.from_pylist(rows, schema=price_book_schema()))
        replace_table(con, "price_book_keys", pa.Table.from_pylist(key_rows, schema=key_schema))
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('price_book_inputs', ?)", [book_inputs(prices_config, aliases)]
        )
        replace_table(
            con,
            "unpriced_models",
            pa.Table.from_pylist(
                [dict(zip(unpriced_schema.names, u, strict=True)) for u in unpriced], schema=unpriced_schema
            ),
        )
        build_charge_price_book(con, config)
        if own_transaction:
            con.commit()
    except BaseException:
        if own_transaction:
            con.rollback()
        raise

    return PriceBookSummary(
        source=CATALOG_SOURCE,
        keys=len(resolutions),
        priced_keys=sum(1 for r in resolutions if not r.problem),
        rows=len(rows),
        unpriced=unpriced,
        variant_not_applied=tuple(
            (r.provider or NO_PROVIDER, r.model, r.variant)
            for r in resolutions
            if any(not s.variant_applied for s in r.segments)
        ),
        overrides_applied=sum(1 for r in resolutions if any(s.source.startswith("override") for s in r.segments)),
        discounts_applied=sum(1 for r in resolutions if r.discount is not None and r.segments),
    )
