"""AWS Cost and Usage Report 2.0 (Data Exports), CSV or Parquet → billing_lines. Every line is kept; Amazon
Bedrock lines (first-party `AmazonBedrock` and the marketplace "… (Amazon Bedrock Edition)" products) count as
AI spend, with the model and token type parsed from the product attributes, the resource ARN and the usage type
(`USE1-Claude3.5Sonnet-input-tokens`, `USE1-MP:USE1_CacheReadInputTokenCount_Global-Units`, …).

Columns are read by name (CUR 2.0 snake_case, legacy CUR `lineItem/UsageType` too). The `product` and
`resource_tags` maps arrive as JSON text in CSV and as MAP columns in Parquet. The parsing lives in
sql/staging/billing_meters.sql (shared by every bill) and sql/staging/aws_cur.sql.

This module also holds `bill_source_view`, the CSV / Parquet loader the Azure and GCP bill adapters share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.readers import _read_error, column_ref, drop_relation, load_csv_rows, quote_ident
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

# Name in the staging view → header names that may carry it (first present wins, any capitalisation).
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "usage_start": ("line_item_usage_start_date", "lineItem/UsageStartDate"),
    "usage_end": ("line_item_usage_end_date", "lineItem/UsageEndDate"),
    "period_start": ("bill_billing_period_start_date", "bill/BillingPeriodStartDate"),
    "period_end": ("bill_billing_period_end_date", "bill/BillingPeriodEndDate"),
    "line_type": ("line_item_line_item_type", "lineItem/LineItemType"),
    "product_code": ("line_item_product_code", "lineItem/ProductCode"),
    "usage_type": ("line_item_usage_type", "lineItem/UsageType"),
    "operation": ("line_item_operation", "lineItem/Operation"),
    "description": ("line_item_line_item_description", "lineItem/LineItemDescription"),
    "usage_amount": ("line_item_usage_amount", "lineItem/UsageAmount"),
    "unblended_cost": ("line_item_unblended_cost", "lineItem/UnblendedCost"),
    "net_unblended_cost": ("line_item_net_unblended_cost", "lineItem/NetUnblendedCost"),
    "public_cost": ("pricing_public_on_demand_cost", "pricing/publicOnDemandCost"),
    "pricing_unit": ("pricing_unit", "pricing/unit"),
    "product_pricing_unit": ("product_pricing_unit",),
    "product": ("product",),
    "product_name": ("product_product_name", "product/ProductName"),
    "product_family": ("product_product_family", "product/productFamily"),
    "product_region": ("product_region_code", "product/regionCode", "product_region"),
    "product_sku": ("product_sku", "product/sku"),
    "servicecode": ("product_servicecode", "product/servicecode"),
    "currency": ("line_item_currency_code", "lineItem/CurrencyCode"),
    "payer_account": ("bill_payer_account_id", "bill/PayerAccountId"),
    "usage_account": ("line_item_usage_account_id", "lineItem/UsageAccountId"),
    "usage_account_name": ("line_item_usage_account_name",),
    "resource_id": ("line_item_resource_id", "lineItem/ResourceId"),
    "iam_principal": ("line_item_iam_principal",),
    "tags": ("resource_tags",),
    "invoicing_entity": ("bill_invoicing_entity", "bill/InvoicingEntity"),
    "billing_entity": ("bill_billing_entity", "bill/BillingEntity"),
}


class AwsCurAdapter(Adapter):
    name = "aws_cur"
    target = "billing_lines"
    description = "AWS Cost and Usage Report 2.0 / Data Exports (CSV or Parquet); Bedrock lines counted as AI spend"
    containers = ("csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        header = {h.strip().lower() for h in src.header}
        if {"line_item_usage_type", "line_item_unblended_cost"} <= header:
            return 92 if "line_item_usage_start_date" in header else 80
        if {"lineitem/usagetype", "lineitem/unblendedcost"} <= header:
            return 85
        return 0

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        bill_source_view(con, src, "cur_src", SOURCE_COLUMNS)
        self.run_sql(con, "staging/billing_meters.sql")
        self.run_sql(con, "staging/aws_cur.sql")


def bill_source_view(
    con: duckdb.DuckDBPyConnection, src: Source, view: str, fields: dict[str, tuple[str, ...]]
) -> None:
    """Temp table `view(source_row, <field> VARCHAR, …)` from a CSV or Parquet bill, plus `reader_rejects`.

    Each field lists the header names that may carry it (first present wins, any capitalisation). For
    Parquet a dotted name also reaches into a STRUCT column (`usage.amount_in_pricing_units` → column `usage`,
    field `amount_in_pricing_units`), and MAP / STRUCT / LIST values become JSON text, as CSV exports write
    them. `view` and the field names are ours; header names only ever appear quoted."""
    if src.container == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(src.path)
        select = [f"{_parquet_expr(schema, names)} AS {field}" for field, names in fields.items()]
        con.execute(f"DROP TABLE IF EXISTS {view}")
        con.execute("DROP TABLE IF EXISTS reader_rejects")
        try:
            con.execute(
                f"CREATE TEMP TABLE {view} AS SELECT file_row_number + 1 AS source_row, {', '.join(select)} "
                f"FROM read_parquet(?, file_row_number = true)",
                [str(src.path)],
            )
        except Exception as exc:  # duckdb raises several types for a broken or odd file
            raise _read_error(src, exc) from None
        con.execute("CREATE TEMP TABLE reader_rejects (source_row BIGINT, reason VARCHAR)")
        return
    load_csv_rows(con, src)
    projection = ", ".join(f"{column_ref(src, *names)} AS {field}" for field, names in fields.items())
    con.execute(f"DROP TABLE IF EXISTS {view}")
    con.execute(f"CREATE TEMP TABLE {view} AS SELECT source_row, {projection} FROM raw_rows")
    drop_relation(con, "raw_rows")


def _parquet_expr(schema, names: tuple[str, ...]) -> str:
    """A VARCHAR expression for the first of `names` in the Parquet schema, else a NULL literal."""
    import pyarrow as pa

    fields = {f.name.lower(): f for f in schema}
    for name in names:
        field = fields.get(name.lower())
        if field is not None:
            return _as_text(quote_ident(field.name), field.type)
        top, _, child = name.partition(".")
        parent = fields.get(top.lower()) if child else None
        if parent is not None and pa.types.is_struct(parent.type):
            for i in range(parent.type.num_fields):
                sub = parent.type.field(i)
                if sub.name.lower() == child.lower():
                    literal = "'" + sub.name.replace("'", "''") + "'"
                    return _as_text(f"struct_extract({quote_ident(parent.name)}, {literal})", sub.type)
    return "CAST(NULL AS VARCHAR)"


def _as_text(expr: str, kind) -> str:
    import pyarrow as pa

    nested = pa.types.is_map(kind) or pa.types.is_struct(kind) or pa.types.is_list(kind) or pa.types.is_large_list(kind)
    return f"CAST(to_json({expr}) AS VARCHAR)" if nested else f"CAST({expr} AS VARCHAR)"


ADAPTER = AwsCurAdapter()
