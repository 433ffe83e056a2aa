"""Price once (docs/architecture.md#stored-costs): a call's cost is computed when it is loaded and stored on the
call; the priced_calls view reads the stored cost. A later price book (a genai-prices release, a `[prices]`
override, a frozen or re-frozen month) re-prices exactly the calls whose pricing it changes: those priced by a
book row that is no longer in the book, those no row priced when the token book has changed, and those with
counted charges when the charge book has changed (sql/intermediate/calls_to_price.sql)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.db import engine_of
from costlens.sqlfiles import load_sql, render_sql

if TYPE_CHECKING:
    from collections.abc import Mapping

    import duckdb

# In order; each file declares what it requires and creates (tests/test_sql_declarations.py).
STORE_STEPS = (
    "intermediate/price_book_rows.sql",
    "intermediate/calls_to_price.sql",
    "intermediate/charged_calls.sql",
    "intermediate/fresh_priced_calls.sql",
    "intermediate/store_call_costs.sql",
)


def price_calls(
    con: duckdb.DuckDBPyConnection,
    prices_config: dict | None,
    aliases: Mapping[str, str] | None,
    *,
    rebuild: bool | str = True,
) -> None:
    """Resolve the price book for the calls present, store the cost of every call it prices differently from
    what is stored, and (re)create the priced_calls view that reads them. Ingest calls it once after loading
    (`rebuild` "always": the run's charges are priced from a book that knows them); every analysis before
    reading priced_calls (`rebuild` True: resolved only when the inputs differ from the last book's; False:
    never)."""
    from costlens.pricing.book import build_price_book
    from costlens.pricing.catalog import create_priced_calls_view, install_macros

    install_macros(con)
    if rebuild == "always" or (rebuild and not book_is_current(con, prices_config, aliases)):
        build_price_book(con, prices_config, aliases)
    store_call_costs(con)
    create_priced_calls_view(con)


def book_is_current(
    con: duckdb.DuckDBPyConnection, prices_config: dict | None, aliases: Mapping[str, str] | None
) -> bool:
    """Whether the price book was resolved from these inputs (catalog version, `[prices]`, aliases) for the
    calls present: every ingest leaves it so (price_new_calls per file, price_calls after the run), so a report
    with the ingest's config finds it current and does not resolve it again."""
    from costlens.pricing.book import book_inputs

    stored_inputs = con.execute("SELECT value FROM meta WHERE key = 'price_book_inputs'").fetchall()
    return bool(stored_inputs) and stored_inputs[0][0] == book_inputs(prices_config, aliases)


def store_call_costs(con: duckdb.DuckDBPyConnection) -> int:
    """Price the calls whose stored cost is missing or out of date and store it; the number of calls priced.
    Needs the price book (costlens.pricing.book.build_price_book) and the pricing macros. The pricing is one
    transaction; the writing one per slice of UPDATE_SLICE_ROWS calls (a slice not written stays out of date
    and is priced by the next run)."""
    from costlens.pricing.catalog import install_macros

    install_macros(con)
    con.begin()
    try:
        for step in STORE_STEPS[:2]:  # the book and what to price
            con.execute(load_sql(step))
        book = con.execute(_BOOK_IDENTITY_SQL).fetchall()[0][0]
        if book == _stored_for(con):
            con.commit()  # every call was priced by this very book and none was loaded since: nothing to read
            return 0
        # Else count first: counting reads one column, pricing would read them all.
        priced = int(con.execute("SELECT count(*) FROM calls_to_price").fetchall()[0][0])
        if priced:
            for step in STORE_STEPS[2:]:
                con.execute(load_sql(step))
        else:
            _mark_stored(con, book)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    if not priced:
        return 0
    try:
        sliced = engine_of(con) == "duckdb"
        update = render_sql(
            "intermediate/store_call_costs_update.sql",
            slice="WHERE rowid >= $first AND rowid < $last" if sliced else "",
        )
        for first in range(0, priced, UPDATE_SLICE_ROWS if sliced else priced):
            con.begin()
            try:
                con.execute(update, {"first": first, "last": first + UPDATE_SLICE_ROWS} if sliced else None)
                con.commit()
            except BaseException:
                con.rollback()
                raise
        _mark_stored(con, book)  # (its own statement: a failed slice above leaves the mark unset)
    finally:
        con.execute("DROP TABLE IF EXISTS repriced_calls")
    return priced


# The identity of the whole book (token rows and charge book) the stored costs were last brought up to date
# with, and the number of calls then, in meta 'stored_costs_book' (a call added any other way than ingest
# changes the count). Ingest deletes the mark in every transaction that loads calls
# (forget_stored_mark), so "the mark equals the current book" means no call can be out of date.
_BOOK_IDENTITY_SQL = """
SELECT CAST(hash(coalesce(list(id ORDER BY id), []), (SELECT id FROM charge_book_fingerprint)) AS VARCHAR)
       || ':' || (SELECT count(*) FROM calls)
FROM price_identities
"""


def _stored_for(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = 'stored_costs_book'").fetchall()
    return rows[0][0] if rows else None


def _mark_stored(con: duckdb.DuckDBPyConnection, book: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES ('stored_costs_book', ?)", [book])


def forget_stored_mark(con: duckdb.DuckDBPyConnection) -> None:
    """Calls are being loaded (in the caller's transaction): the next store step must look for calls to price."""
    con.execute("DELETE FROM meta WHERE key = 'stored_costs_book'")


# Calls written per UPDATE transaction (sql/intermediate/store_call_costs_update.sql).
UPDATE_SLICE_ROWS = 1_000_000


def create_fresh_priced_calls(con: duckdb.DuckDBPyConnection) -> None:
    """The TEMP view `fresh_priced_calls`: every call priced now from the current book, whatever is stored —
    what the stored costs must always equal (tests compare the two)."""
    from costlens.pricing.catalog import install_macros

    install_macros(con)
    con.execute(load_sql("intermediate/price_book_rows.sql"))
    con.execute(
        "CREATE OR REPLACE TEMP VIEW calls_to_price AS SELECT * EXCLUDE (" + ", ".join(STORED_COLUMNS) + ") FROM calls"
    )
    con.execute(load_sql("intermediate/charged_calls.sql"))
    con.execute(load_sql("intermediate/fresh_priced_calls.sql"))


# The price keys of the rows a file is about to insert (the rows sql/load/calls_new.sql reads), with the span
# of their times: one pass over the checked rows into a few rows, which both the coverage test and a rebuild
# read (the checks are evaluated once here, once by the insert).
_STAGED_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE staged_price_keys AS
SELECT provider, model, pricing_variant(service_tier, is_batch) AS variant, min(ts) AS ts_min, max(ts) AS ts_max
FROM staged_checked
WHERE why_rejected IS NULL AND skip_reason IS NULL AND duplicate_reason IS NULL
GROUP BY ALL
"""
_UNCOVERED_SQL = """
SELECT count(*) FROM staged_price_keys AS s
LEFT JOIN price_book_keys AS k
  ON k.provider = coalesce(s.provider, '') AND k.model = s.model AND k.variant = s.variant
WHERE k.model IS NULL OR s.ts_min < k.ts_min OR s.ts_max > k.ts_max
"""
_CALLS_AND_STAGED_KEYS_SQL = """
SELECT provider, model, variant, min(ts_min) AS ts_min, max(ts_max) AS ts_max
FROM (
    SELECT provider, model, pricing_variant(service_tier, is_batch) AS variant, min(ts) AS ts_min, max(ts) AS ts_max
    FROM calls GROUP BY ALL
    UNION ALL
    SELECT * FROM staged_price_keys
)
GROUP BY ALL
ORDER BY ALL
"""


def price_new_calls(
    con: duckdb.DuckDBPyConnection, prices_config: dict | None, aliases: Mapping[str, str] | None
) -> None:
    """Inside a file's load transaction, before sql/load/calls_insert.sql: the view `fresh_priced_calls` over
    the file's new calls (sql/load/calls_new.sql), priced from a book that covers them. The book is resolved
    again only when the file brings a key or a time span it was not resolved for, or the catalog, `[prices]`
    or the aliases changed: a file of known models costs one small query here."""
    from costlens.pricing.book import build_price_book
    from costlens.pricing.catalog import install_macros

    install_macros(con)
    con.execute(_STAGED_KEYS_SQL)
    if not book_is_current(con, prices_config, aliases) or con.execute(_UNCOVERED_SQL).fetchall()[0][0]:
        build_price_book(con, prices_config, aliases, keys_sql=_CALLS_AND_STAGED_KEYS_SQL, own_transaction=False)
    con.execute(load_sql("intermediate/price_book_rows.sql"))
    con.execute(load_sql("load/calls_new.sql"))
    con.execute(load_sql("load/charged_calls_none.sql"))
    con.execute(load_sql("intermediate/fresh_priced_calls.sql"))


# The columns of `calls` that hold the stored cost (sql/schema/003_additions.sql).
STORED_COLUMNS = (
    "priced_with",
    "charges_priced_with",
    "stored_priced",
    "stored_variant_applied",
    "stored_discount_pct",
    "stored_price_source",
    "stored_input_cost_usd",
    "stored_cache_read_cost_usd",
    "stored_cache_write_cost_usd",
    "stored_output_cost_usd",
    "stored_request_cost_usd",
    "stored_charge_token_cost_usd",
    "stored_tool_cost_usd",
    "stored_fee_cost_usd",
    "stored_unpriced_charges",
    "stored_cost_usd",
)
