"""FOCUS 1.2 export: the period's priced LLM spend per feature as a FinOps Open Cost and Usage dataset.

One row per (charge day, provider, model, pricing variant, feature, team, environment, token type, unit price) —
the FOCUS mandatory columns plus the conditional ones costlens can fill, and `x_` columns for feature, task
class, team, cost center, environment, model, token type, pricing variant, call count and allocation method.
The rows come from the report's priced calls (sql/export/focus.sql), so BilledCost adds up to the report's
total exactly. Unpriced calls have no cost and FOCUS does not allow a null BilledCost: they are left out and
counted in `unpriced_calls` for a warning.

CSV: money as its exact decimal text (`0.0025`, never `2.5E-3` or `0.002500000000000000`), date/times as
ISO 8601 UTC with `Z`, nulls as empty cells, and text cells neutralised against spreadsheet formulas the way
the report's CSV export does it. Parquet keeps types: money decimal128(38, 18), quantities decimal128(38, 6),
date/times as UTC timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from costlens.errors import CostlensError, UsageError
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config
    from costlens.model.report import Period

FOCUS_VERSION = "1.2"
FORMATS = ("csv", "parquet")

MONEY, QUANTITY, DATETIME, TEXT, COUNT = "money", "quantity", "datetime", "text", "count"

# Output columns and how each is written; the order is the file's column order.
COLUMNS: list[tuple[str, str]] = [
    ("BilledCost", MONEY),
    ("BillingAccountId", TEXT),
    ("BillingAccountName", TEXT),
    ("BillingCurrency", TEXT),
    ("BillingPeriodEnd", DATETIME),
    ("BillingPeriodStart", DATETIME),
    ("ChargeCategory", TEXT),
    ("ChargeClass", TEXT),
    ("ChargeDescription", TEXT),
    ("ChargeFrequency", TEXT),
    ("ChargePeriodEnd", DATETIME),
    ("ChargePeriodStart", DATETIME),
    ("CommitmentDiscountCategory", TEXT),
    ("CommitmentDiscountId", TEXT),
    ("CommitmentDiscountName", TEXT),
    ("CommitmentDiscountQuantity", QUANTITY),
    ("CommitmentDiscountStatus", TEXT),
    ("CommitmentDiscountType", TEXT),
    ("CommitmentDiscountUnit", TEXT),
    ("ConsumedQuantity", QUANTITY),
    ("ConsumedUnit", TEXT),
    ("ContractedCost", MONEY),
    ("ContractedUnitPrice", MONEY),
    ("EffectiveCost", MONEY),
    ("InvoiceIssuerName", TEXT),
    ("ListCost", MONEY),
    ("ListUnitPrice", MONEY),
    ("PricingCategory", TEXT),
    ("PricingQuantity", QUANTITY),
    ("PricingUnit", TEXT),
    ("ProviderName", TEXT),
    ("PublisherName", TEXT),
    ("RegionId", TEXT),
    ("RegionName", TEXT),
    ("ResourceId", TEXT),
    ("ResourceName", TEXT),
    ("ResourceType", TEXT),
    ("ServiceCategory", TEXT),
    ("ServiceName", TEXT),
    ("ServiceSubcategory", TEXT),
    ("SkuId", TEXT),
    ("SkuMeter", TEXT),
    ("SkuPriceId", TEXT),
    ("SubAccountId", TEXT),
    ("SubAccountName", TEXT),
    ("Tags", TEXT),
    ("x_Feature", TEXT),
    ("x_TaskClass", TEXT),
    ("x_Team", TEXT),
    ("x_CostCenter", TEXT),
    ("x_Environment", TEXT),
    ("x_Model", TEXT),
    ("x_TokenType", TEXT),
    ("x_PricingVariant", TEXT),
    ("x_CostlensCallCount", COUNT),
    ("x_AllocationMethod", TEXT),
]

_PARQUET_CAST = {
    MONEY: "DECIMAL(38, 18)",
    QUANTITY: "DECIMAL(38, 6)",
    DATETIME: "TIMESTAMPTZ",
    TEXT: "VARCHAR",
    COUNT: "BIGINT",
}


@dataclass
class FocusExport:
    path: Path
    fmt: str
    rows: int
    billed_cost_usd: Decimal  # what the file holds: the report's total, plus the allocation when included
    allocated_cost_usd: Decimal  # billed spend no feature owns that reconciliation allocates to features
    unpriced_calls: int
    allocation_included: bool = False
    focus_version: str = FOCUS_VERSION
    empty_period: str | None = None  # why the period shows nothing: the months that do hold calls


def export_format(out: Path, fmt: str | None) -> str:
    """--format, or the output file's suffix (.csv / .parquet)."""
    suffix = out.suffix.lower().lstrip(".")
    chosen = (fmt or suffix or "").lower()
    if chosen not in FORMATS:
        raise UsageError(
            f"cannot tell the FOCUS export format of {out}",
            fix="name the file .csv or .parquet, or pass --format csv|parquet",
        )
    if suffix in FORMATS and suffix != chosen:
        raise UsageError(f"--out {out} does not match --format {chosen}", fix=f"name the file .{chosen}")
    return chosen


def ensure_allocation_relation(con: duckdb.DuckDBPyConnection) -> None:
    """The allocation hook: `export_allocated` as reconciliation leaves it, else an empty one."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'export_allocated' "
        "UNION ALL SELECT count(*) FROM duckdb_views() WHERE view_name = 'export_allocated'"
    ).fetchall()
    if sum(n for (n,) in exists):
        return
    con.execute(
        "CREATE TEMP TABLE export_allocated (charge_day DATE, provider VARCHAR, model VARCHAR, feature VARCHAR, "
        "allocated_usd DECIMAL(38, 18))"
    )


def _feature_config(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    import pyarrow as pa

    features = config.features
    table = pa.table(
        {
            "feature": pa.array(list(features), pa.string()),
            "team": pa.array([f.team for f in features.values()], pa.string()),
            "cost_center": pa.array([f.cost_center for f in features.values()], pa.string()),
            "task_class": pa.array([f.task_class for f in features.values()], pa.string()),
        }
    )
    con.register("_export_features_arrow", table)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE export_feature_config AS SELECT * FROM _export_features_arrow")
    finally:
        con.unregister("_export_features_arrow")


def _projection(fmt: str) -> str:
    """The SELECT list that writes focus_export in `fmt` (column names come from COLUMNS, never from input)."""
    parts = []
    for name, kind in COLUMNS:
        if fmt == "parquet":
            parts.append(f"CAST({name} AS {_PARQUET_CAST[kind]}) AS {name}")
        elif kind in (MONEY, QUANTITY):
            parts.append(f"focus_decimal_text({name}) AS {name}")
        elif kind == DATETIME:
            parts.append(f"focus_datetime_text({name}) AS {name}")
        elif kind == TEXT:
            parts.append(f"focus_csv_text({name}) AS {name}")
        else:
            parts.append(name)
    return ", ".join(parts)


def build_focus_rows(
    con: duckdb.DuckDBPyConnection, config: Config, period: Period, include_allocation: bool = False
) -> int:
    """Materialise TEMP TABLE focus_export for the period; returns the number of unpriced calls left out.
    Prices the calls first (price book resolved for the calls present, as the report does). The rows add up
    to the report's total; with `include_allocation` the billed spend reconciliation allocates to features
    (x_AllocationMethod 'allocated') is added, so the file adds up to the bill instead."""
    from costlens.engine import compute_period_metrics, prepare_priced_calls
    from costlens.reconcile import allocation_rows

    prepare_priced_calls(con, config)
    # billed spend no feature owns (unlogged traffic, billed failures) becomes x_AllocationMethod = 'allocated'
    # rows, so the export adds up to the invoice; reconciling re-materialises period_calls, hence it runs first
    allocation_rows(con, config, period)
    compute_period_metrics(con, config, period, "computed")
    _feature_config(con, config)
    ensure_allocation_relation(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE export_options AS SELECT CAST(? AS BOOLEAN) AS include_allocation",
        [include_allocation],
    )
    con.execute(load_sql("export/focus.sql"))
    unpriced, report_usd, export_usd = con.execute(
        "SELECT (SELECT count(*) FROM period_calls WHERE NOT priced), "
        "(SELECT coalesce(sum(cost_usd), 0) FROM period_calls WHERE priced), "
        "(SELECT coalesce(sum(BilledCost), 0) FROM focus_export WHERE x_AllocationMethod = 'direct')"
    ).fetchall()[0]
    if Decimal(report_usd) != Decimal(export_usd):  # the export re-joins the price book: never let it drift
        raise CostlensError(
            f"the FOCUS rows add up to ${export_usd} but the report's priced calls to ${report_usd}",
            fix="a bug: sql/export/focus.sql prices calls differently from sql/intermediate/fresh_priced_calls.sql",
        )
    return int(unpriced)


def write_focus(con: duckdb.DuckDBPyConnection, out: Path, fmt: str) -> int:
    """Write focus_export to `out`; returns the number of rows written."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from costlens.outputs import write_outputs

    table = con.sql(f"SELECT {_projection(fmt)} FROM focus_export").to_arrow_table()

    def write(tmp: Path) -> None:  # whole or not at all, in --out's folder (created when missing)
        if fmt == "parquet":
            pq.write_table(table, str(tmp))
        else:
            pacsv.write_csv(table, str(tmp), pacsv.WriteOptions(include_header=True, quoting_style="needed"))

    write_outputs({Path(out): write})
    return table.num_rows


def export_focus(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: Period,
    out: str | Path,
    fmt: str | None = None,
    include_allocation: bool = False,
) -> FocusExport:
    """Write the period's FOCUS 1.2 dataset to `out` (CSV or Parquet, from --format or the suffix): the
    report's total; the allocated billed spend is reported beside it (in the file with `include_allocation`)."""
    path = Path(out)
    chosen = export_format(path, fmt)
    if path.is_dir():
        raise UsageError(f"--out {path} is a folder", fix="give a file name such as costs.focus.csv")
    unpriced = build_focus_rows(con, config, period, include_allocation)
    rows = write_focus(con, path, chosen)
    billed = con.execute("SELECT coalesce(sum(BilledCost), 0) FROM focus_export").fetchall()[0][0]
    allocated = con.execute(
        "SELECT coalesce(sum(a.allocated_usd), 0) FROM export_allocated a, report_period r "
        "WHERE CAST(a.charge_day AS TIMESTAMP) >= r.start_ts "
        "AND CAST(a.charge_day AS TIMESTAMP) < r.end_ts"
    ).fetchall()[0][0]
    return FocusExport(
        path=path,
        fmt=chosen,
        rows=rows,
        billed_cost_usd=Decimal(billed),
        allocated_cost_usd=Decimal(allocated),
        unpriced_calls=int(unpriced),
        allocation_included=include_allocation,
    )
