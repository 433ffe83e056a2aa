"""Azure Cost Management exports (cost details: actual or amortized; EA, MCA and the 2023-05-01 schema), CSV or
Parquet → billing_lines. Every line is kept; Azure OpenAI / Foundry Models lines count as AI spend, with the
model and token type parsed from the meter name (`gpt 4o 0806 cached Inp glbl Tokens`).

Columns are read by name in any capitalisation (EA `MeterCategory` / `CostInBillingCurrency`, MCA and
2023-05-01 `meterCategory` / `costInBillingCurrency`, older `PreTaxCost` / `UsageDateTime`). Quirks handled in
sql/staging/azure_cost.sql: US dates (`01/15/2025`), `Quantity` counted in blocks of `UnitOfMeasure` (`1K`,
`1M`: Microsoft's PricingUnits.csv), `Tags` JSON without its outer braces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.ingest.aws_cur import bill_source_view
from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "usage_date": ("Date", "UsageDateTime", "UsageDate"),
    "period_start": ("BillingPeriodStartDate",),
    "period_end": ("BillingPeriodEndDate",),
    "meter_category": ("MeterCategory",),
    "meter_subcategory": ("MeterSubCategory",),
    "meter_name": ("MeterName",),
    "meter_id": ("MeterId",),
    "meter_region": ("MeterRegion",),
    "unit_of_measure": ("UnitOfMeasure",),
    "quantity": ("Quantity", "UsageQuantity"),
    "unit_price": ("UnitPrice",),
    "payg_price": ("PayGPrice",),
    "cost": ("CostInBillingCurrency", "Cost", "PreTaxCost"),
    "payg_cost": ("PaygCostInBillingCurrency",),
    "currency": ("BillingCurrency", "BillingCurrencyCode", "Currency"),
    "resource_id": ("ResourceId", "InstanceId"),
    "resource_location": ("ResourceLocation", "Location"),
    "subscription_id": ("SubscriptionId", "SubscriptionGuid"),
    "subscription_name": ("SubscriptionName",),
    "resource_group": ("ResourceGroup", "ResourceGroupName"),
    "tags": ("Tags",),
    "charge_type": ("ChargeType",),
    "consumed_service": ("ConsumedService",),
    "product_name": ("ProductName", "Product"),
    "billing_account": ("BillingAccountId",),
    "publisher_type": ("PublisherType",),
    "publisher_name": ("PublisherName",),
    "pricing_model": ("PricingModel",),
}

_COST_COLUMNS = {"costinbillingcurrency", "cost", "pretaxcost", "costinusd"}
_DATE_COLUMNS = {"date", "usagedatetime", "usagedate"}


class AzureCostAdapter(Adapter):
    name = "azure_cost"
    target = "billing_lines"
    description = (
        "Azure Cost Management export (actual or amortized cost details, CSV or Parquet); "
        "Azure OpenAI / Foundry Models lines counted as AI spend"
    )
    containers = ("csv", "parquet")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        header = {h.strip().lower() for h in src.header}
        if "metercategory" not in header or not header & _COST_COLUMNS or not header & _DATE_COLUMNS:
            return 0
        return 90 if {"metername", "unitofmeasure", "quantity"} <= header else 75

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        bill_source_view(con, src, "azure_src", SOURCE_COLUMNS)
        self.run_sql(con, "staging/billing_meters.sql")
        self.run_sql(con, "staging/azure_cost.sql")


ADAPTER = AzureCostAdapter()
