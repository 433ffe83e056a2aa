"""FOCUS billing exports (FinOps Open Cost and Usage Specification 1.0 – 1.3), CSV or Parquet → billing_lines.

AWS, Azure, GCP and OCI all export FOCUS. Columns are read by name (any capitalisation, any order); the
staging SQL (sql/staging/focus.sql) recognises the LLM token lines among them and parses the model and token
type out of the SKU / meter text. Money is parsed straight from text to DECIMAL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.readers import column_ref, load_tabular, quote_ident
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

# Name in the staging view → header names that may carry it (first present wins). Covers FOCUS 1.0-preview
# (UsageQuantity / UsageUnit), 1.0 – 1.2 (ProviderName) and 1.3 (ServiceProviderName, HostProviderName), plus
# the provider extensions that hold the meter text (Azure x_SkuMeterName, AWS x_UsageType, …).
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "BilledCost": ("BilledCost",),
    "EffectiveCost": ("EffectiveCost",),
    "ListCost": ("ListCost",),
    "ContractedCost": ("ContractedCost",),
    "BillingAccountId": ("BillingAccountId",),
    "BillingCurrency": ("BillingCurrency",),
    "BillingPeriodStart": ("BillingPeriodStart",),
    "BillingPeriodEnd": ("BillingPeriodEnd",),
    "ChargeCategory": ("ChargeCategory",),
    "ChargeClass": ("ChargeClass",),
    "ChargeDescription": ("ChargeDescription",),
    "ChargePeriodStart": ("ChargePeriodStart",),
    "ChargePeriodEnd": ("ChargePeriodEnd",),
    "ConsumedQuantity": ("ConsumedQuantity", "UsageQuantity"),
    "ConsumedUnit": ("ConsumedUnit", "UsageUnit"),
    "PricingQuantity": ("PricingQuantity",),
    "PricingUnit": ("PricingUnit",),
    "PricingCurrency": ("PricingCurrency",),
    "InvoiceIssuerName": ("InvoiceIssuerName", "InvoiceIssuer"),
    "ServiceProviderName": ("ServiceProviderName",),
    "ProviderName": ("ProviderName", "Provider"),
    "ServiceCategory": ("ServiceCategory",),
    "ServiceSubcategory": ("ServiceSubcategory",),
    "ServiceName": ("ServiceName",),
    "SkuId": ("SkuId",),
    "SkuMeter": ("SkuMeter",),
    "RegionId": ("RegionId",),
    "RegionName": ("RegionName", "Region"),
    "ResourceId": ("ResourceId",),
    "SubAccountId": ("SubAccountId",),
    "SubAccountName": ("SubAccountName",),
    "Tags": ("Tags",),
    "x_SkuMeterName": ("x_SkuMeterName",),
    "x_SkuDescription": ("x_SkuDescription",),
    "x_UsageType": ("x_UsageType",),
    "x_PricingBlockSize": ("x_PricingBlockSize",),
    "x_PricingUnitDescription": ("x_PricingUnitDescription",),
}

_MANDATORY_HINTS = {
    "billingcurrency",
    "billingperiodstart",
    "chargecategory",
    "effectivecost",
    "listcost",
    "pricingunit",
    "servicename",
    "servicecategory",
    "invoiceissuername",
    "billingaccountid",
    "chargeperiodend",
}


class FocusAdapter(Adapter):
    name = "focus"
    target = "billing_lines"
    description = "FOCUS 1.0–1.3 billing export (CSV or Parquet) from AWS, Azure, GCP, OCI or any FOCUS producer"
    containers = ("csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        header = {h.strip().lower() for h in src.header}
        if not {"billedcost", "chargeperiodstart"} <= header:
            return 0
        if not header & {"providername", "serviceprovidername"}:
            return 0
        return 95 if len(header & _MANDATORY_HINTS) >= 3 else 70

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        load_tabular(con, src)
        refs = {name: column_ref(src, *aliases) for name, aliases in SOURCE_COLUMNS.items()}
        tags_json = _parquet_tags_as_json(con, src)
        if tags_json:
            refs["Tags"] = "focus_parquet_tags.tags_json"
        projection = ", ".join(f"{ref} AS {name}" for name, ref in refs.items())
        join = " LEFT JOIN focus_parquet_tags USING (source_row)" if tags_json else ""
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW focus_src AS SELECT raw_rows.source_row, {projection} FROM raw_rows{join}"
        )
        self.run_sql(con, "staging/billing_meters.sql")
        self.run_sql(con, "staging/focus.sql")


def _parquet_tags_as_json(con: duckdb.DuckDBPyConnection, src: Source) -> bool:
    """Parquet FOCUS exports may store Tags as a MAP or STRUCT: the generic reader casts it to text like
    `{k=v}`, which is not JSON. Re-read that one column as JSON text. True if `focus_parquet_tags` was made."""
    if src.container != "parquet":
        return False
    lowered = [h.lower() for h in src.header]
    if "tags" not in lowered:
        return False
    column = quote_ident(src.header[lowered.index("tags")])
    kind = con.execute(f"SELECT typeof({column}) FROM read_parquet(?) LIMIT 1", [str(src.path)]).fetchone()
    if kind is None or kind[0] in ("VARCHAR", "JSON", "NULL"):
        return False
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE focus_parquet_tags AS SELECT file_row_number + 1 AS source_row, "
        f"CAST(to_json({column}) AS VARCHAR) AS tags_json FROM read_parquet(?, file_row_number = true)",
        [str(src.path)],
    )
    return True


ADAPTER = FocusAdapter()
