"""Google Cloud Billing export (BigQuery standard / detailed usage cost), as CSV, JSON lines / JSON or Parquet
→ billing_lines. Every line is kept; Vertex AI / Gemini API generative-AI SKUs count as AI spend, with the
model and token type parsed from the SKU description (`Gemini 2.5 Flash GA Text Input - Predictions`).

Nested fields arrive flattened with dots in CSV headers (`usage.amount_in_pricing_units`; underscores from a
hand-written flattening query are accepted too), as nested objects in JSON, and as STRUCT columns in Parquet.
`credits` and `labels` are arrays of objects (JSON text in CSV). The token quantity comes from
`usage.amount_in_pricing_units` in `usage.pricing_unit`, never from `usage.amount` (base units).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.ingest.aws_cur import bill_source_view
from costlens.ingest.base import Adapter, IngestContext, nested, record_keys
from costlens.ingest.readers import load_json_records
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

# Name in the staging view → header names (CSV / Parquet; a dotted name also reaches into a Parquet STRUCT).
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "billing_account": ("billing_account_id",),
    "service_id": ("service.id", "service_id"),
    "service": ("service.description", "service_description"),
    "sku_id": ("sku.id", "sku_id"),
    "sku": ("sku.description", "sku_description"),
    "usage_start": ("usage_start_time",),
    "usage_end": ("usage_end_time",),
    "project_id": ("project.id", "project_id"),
    "project_name": ("project.name", "project_name"),
    "labels": ("labels",),
    "region": ("location.region", "location_region"),
    "location": ("location.location", "location_location"),
    "cost": ("cost",),
    "currency": ("currency",),
    "usage_amount": ("usage.amount", "usage_amount"),
    "usage_unit": ("usage.unit", "usage_unit"),
    "pricing_amount": ("usage.amount_in_pricing_units", "usage_amount_in_pricing_units"),
    "pricing_unit": ("usage.pricing_unit", "usage_pricing_unit"),
    "credits": ("credits",),
    "invoice_month": ("invoice.month", "invoice_month"),
    "cost_type": ("cost_type",),
    "cost_at_list": ("cost_at_list",),
    "resource_name": ("resource.name", "resource_name"),
    "seller_name": ("seller_name",),
}


def _json_paths(names: tuple[str, ...]) -> list[str]:
    """JSONPaths for a field in a JSON record: the nested path, the dotted key as one key, the plain key."""
    paths: list[str] = []
    for name in names:
        if "." in name:
            paths.append("$." + name)
            paths.append('$."' + name + '"')
        else:
            paths.append("$." + name)
    return paths


class GcpBillingAdapter(Adapter):
    name = "gcp_billing"
    target = "billing_lines"
    description = (
        "Google Cloud Billing export (BigQuery standard/detailed usage cost as CSV, JSON or Parquet); "
        "Vertex AI generative-AI SKUs counted as AI spend"
    )
    containers = ("jsonl", "json", "csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        if src.container in ("csv", "parquet"):
            header = {h.strip().lower() for h in src.header}
            if "cost" not in header:
                return 0
            flattened = header & {"service.description", "service_description"} and header & {
                "sku.description",
                "sku_description",
            }
            if flattened:
                return 90 if "usage_start_time" in header else 70
            # Parquet keeps the nesting: top-level STRUCT columns service, sku, usage, …
            if src.container == "parquet" and {"service", "sku", "usage_start_time"} <= header:
                return 90
            return 0
        keys = {k.lower() for k in record_keys(src)}
        if "cost" not in keys or "usage_start_time" not in keys:
            return 0
        for record in src.records:
            if isinstance(record, dict) and (
                nested(record, "sku", "description") is not None or "sku.description" in record
            ):
                return 90
        return 0

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        if src.container in ("csv", "parquet"):
            bill_source_view(con, src, "gcp_src", SOURCE_COLUMNS)
            con.execute("ALTER TABLE gcp_src ADD COLUMN invalid_json BOOLEAN DEFAULT false")
        else:
            load_json_records(con, src)
            projection = []
            for field, names in SOURCE_COLUMNS.items():
                parts = ", ".join(f"doc->>'{path}'" for path in _json_paths(names))
                projection.append(f"coalesce({parts}) AS {field}")
            con.execute("DROP TABLE IF EXISTS gcp_src")
            con.execute(
                f"CREATE TEMP TABLE gcp_src AS SELECT source_row, {', '.join(projection)}, doc IS NULL AS invalid_json "
                f"FROM raw_json"
            )
            con.execute("DROP TABLE IF EXISTS raw_json")
        self.run_sql(con, "staging/billing_meters.sql")
        self.run_sql(con, "staging/gcp_billing.sql")


ADAPTER = GcpBillingAdapter()
