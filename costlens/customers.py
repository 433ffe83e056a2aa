"""Unit economics and gross AI margin per customer and plan (docs/definitions.md#customer-margin).

The figures come from sql/metrics/customer_economics.sql over the period's calls, tasks and the revenue input
(costlens/ingest/revenue.py); this module turns them into the report's typed `Customers` section and picks the
top and bottom customers by margin. AI cost is the calls' priced cost, so the customers add up to the period's
total exactly; the margin counts only the customers with revenue (the others are counted apart).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from costlens.engine import NO_CUSTOMER_KEY, dataclass_rows
from costlens.model.report import CustomerEconomics, Customers, PlanEconomics
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config

NO_CUSTOMER = NO_CUSTOMER_KEY
TOP = 5


def compute_customers(con: duckdb.DuckDBPyConnection, config: Config) -> Customers | None:
    """The period's customers (period_calls and task_costs must be materialised). None when no call names a
    customer and no revenue covers the period: the section would only repeat the total."""
    share = config.customers.max_ai_cost_share
    con.execute(
        "CREATE OR REPLACE TEMP TABLE customer_settings AS SELECT CAST(? AS DOUBLE) AS max_ai_cost_share", [share]
    )
    con.execute(load_sql("metrics/customer_economics.sql"))
    customers = dataclass_rows(
        con, "SELECT * FROM customer_economics ORDER BY ai_cost_usd DESC, customer", CustomerEconomics
    )
    if all(c.customer == NO_CUSTOMER and c.revenue_usd is None for c in customers):
        return None  # no call names a customer and no revenue: nothing the total does not say
    plans = dataclass_rows(
        con, "SELECT * FROM plan_economics ORDER BY revenue_usd DESC NULLS LAST, plan", PlanEconomics
    )
    earning = [c for c in customers if c.revenue_usd is not None]
    revenue = sum((c.revenue_usd for c in earning if c.revenue_usd is not None), Decimal(0)) if earning else None
    margin = revenue - sum((c.ai_cost_usd for c in earning), Decimal(0)) if revenue is not None else None
    by_margin = sorted(
        (c for c in earning if c.margin_usd is not None), key=lambda c: (-(c.margin_usd or 0), c.customer)
    )
    return Customers(
        ai_cost_usd=sum((c.ai_cost_usd for c in customers), Decimal(0)),
        revenue_usd=revenue,
        margin_usd=margin,
        margin_pct=float(margin / revenue) if revenue and margin is not None and revenue > 0 else None,
        max_ai_cost_share=share,
        customers=customers,
        by_plan=plans,
        top_by_margin=[c.customer for c in by_margin[:TOP]],
        bottom_by_margin=[c.customer for c in reversed(by_margin[-TOP:])],
        over_share=[c.customer for c in customers if c.over_share],
        customers_without_revenue=sum(
            1 for c in customers if c.revenue_usd is None and c.customer != NO_CUSTOMER and c.calls > 0
        ),
    )
