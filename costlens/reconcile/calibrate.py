"""Calibration: re-cost the calls at what the bill really charged (`costlens report --prices billed`).

sql/reconcile/calibrated_rates.sql derives, per provider × model × token type, the billed rate and the
paid-to-list ratio of the tokens the logs and the bill agree on; sql/reconcile/calibrated_priced_calls.sql
then shadows `priced_calls` with a TEMP view on this connection, so every metric downstream (unit
economics, leaks, levers) uses billed prices where a bill covers the model and list prices elsewhere
(`price_basis` per call says which).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.sqlfiles import load_sql, render_sql

if TYPE_CHECKING:
    import duckdb

PRICE_BASES = ("list", "billed")


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(load_sql("reconcile/_macros.sql"))


def use_billed_prices(con: duckdb.DuckDBPyConnection) -> None:
    """Shadow priced_calls with the calibrated view (needs calibrated_rates from a reconciliation)."""
    install_macros(con)
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'calibrated_rates'").fetchall()[0][0]
    if not exists:  # no AI bill in the period: nothing to calibrate with, every call keeps its list price
        con.execute(
            "CREATE OR REPLACE TEMP TABLE calibrated_rates (provider_key VARCHAR, model_key VARCHAR, "
            "token_type VARCHAR, billed_tokens DECIMAL(38, 6), billed_usd DECIMAL(38, 18), "
            "bill_list_usd DECIMAL(38, 18), billed_usd_per_mtok DECIMAL(38, 18), "
            "bill_list_usd_per_mtok DECIMAL(38, 18), matched_tokens DECIMAL(38, 6), "
            "explained_usd DECIMAL(38, 18), matched_list_usd DECIMAL(38, 18))"
        )
    # the view reads the persistent priced_calls by its catalog-qualified name (the name alone would be itself)
    catalog = con.execute("SELECT current_database()").fetchall()[0][0].replace('"', '""')
    con.execute(render_sql("reconcile/calibrated_priced_calls.sql", list_priced_calls=f'"{catalog}".main.priced_calls'))


def uses_billed_prices(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether priced_calls is shadowed by the calibrated view on this connection."""
    views = "SELECT count(*) FROM duckdb_views() WHERE view_name = 'priced_calls' AND temporary"
    return bool(con.execute(views).fetchall()[0][0])


def copy_price_basis(source: duckdb.DuckDBPyConnection, target: duckdb.DuckDBPyConnection) -> None:
    """The prices of `source` on another connection (a cursor: temp views and tables are per connection): at
    billed prices there too when `source` uses them, with the same calibrated rates; else at list prices."""
    if not uses_billed_prices(source):
        use_list_prices(target)
        return
    rates = source.sql("SELECT * FROM calibrated_rates").to_arrow_table()  # a few rows per model, types kept
    target.register("_calibrated_rates_arrow", rates)
    try:
        target.execute("CREATE OR REPLACE TEMP TABLE calibrated_rates AS SELECT * FROM _calibrated_rates_arrow")
    finally:
        target.unregister("_calibrated_rates_arrow")
    use_billed_prices(target)


def use_list_prices(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the shadow view, if any: priced_calls is main.priced_calls again."""
    con.execute("DROP VIEW IF EXISTS temp.main.priced_calls")
