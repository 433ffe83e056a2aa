"""Revenue per customer and month (CSV / Parquet / JSONL) → revenue: what each customer paid, so the report can
set AI cost against it (gross AI margin per customer and plan, docs/definitions.md#customer-margin).

Columns are matched case-insensitively against the common spellings below (`customer_id` / `account` /
`tenant`, `mrr` / `revenue`, `month` / `period`, `plan` / `tier`). Values are parsed in sql/staging/revenue.sql;
a value that is present but not understood rejects its row with the column named. Amounts are in US dollars: a
row whose `currency` column says another currency is rejected, never summed as dollars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.ingest.base import Adapter, IngestContext, record_keys
from costlens.ingest.readers import stage_field_view
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

# canonical field → accepted spellings (first one present wins)
FIELDS: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer",
        "customer_id",
        "customer_name",
        "account",
        "account_id",
        "tenant",
        "tenant_id",
        "org_id",
        "organization_id",
    ),
    "month": ("month", "revenue_month", "billing_month", "invoice_month", "period", "date", "invoice_date"),
    "revenue": ("revenue_usd", "revenue", "net_revenue_usd", "net_revenue", "mrr_usd", "mrr", "amount_usd"),
    "plan": ("plan", "plan_name", "subscription_plan", "tier", "pricing_plan"),
    "currency": ("currency", "currency_code"),
}
# the spellings that say "this is revenue" (an amount column alone could be anything)
_REVENUE_WORDS = ("revenue", "mrr")


def _names(src: Source) -> set[str]:
    if src.container in ("csv", "parquet"):
        return {h.strip().lower() for h in src.header}
    return {str(k).strip().lower() for k in record_keys(src)}


def _has(names: set[str], field: str) -> bool:
    return any(spelling in names for spelling in FIELDS[field])


class RevenueAdapter(Adapter):
    name = "revenue"
    target = "revenue"
    description = "Revenue per customer and month: customer, month, revenue (USD), plan (CSV, JSONL, Parquet)"
    containers = ("csv", "parquet", "jsonl", "json")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        names = _names(src)
        if not (_has(names, "customer") and _has(names, "month") and _has(names, "revenue")):
            return 0
        if not any(word in name for name in names for word in _REVENUE_WORDS):
            return 0
        if any("token" in name for name in names):  # request logs that carry a customer
            return 0
        return 85

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        fields = FIELDS
        if src.container in ("csv", "parquet"):  # the file's own spelling of each column, for reject messages
            actual = {h.strip().lower(): h.strip() for h in src.header}
        else:
            actual = {str(k).strip().lower(): str(k) for k in record_keys(src)}
            # JSON keys are matched exactly: read each field under the spellings the file uses
            fields = {
                f: tuple(actual[s] for s in spellings if s in actual) or spellings for f, spellings in FIELDS.items()
            }
        stage_field_view(con, src, "revenue_src", fields)
        labels = []
        for field, spellings in FIELDS.items():
            spelling = next((actual[s] for s in spellings if s in actual), field)
            labels.append(field if spelling == field else f"{field} (column '{spelling}')")
        columns = ", ".join(f"CAST(? AS VARCHAR) AS label_{field}" for field in FIELDS)
        con.execute(f"CREATE OR REPLACE TEMP TABLE revenue_labels AS SELECT {columns}", labels)
        self.run_sql(con, "staging/revenue.sql")


ADAPTER = RevenueAdapter()
