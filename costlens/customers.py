"""Unit economics and gross AI margin per customer and plan (docs/definitions.md#customer-margin).

The figures come from sql/metrics/customer_economics.sql over the period's calls, tasks and the revenue input
(costlens/ingest/revenue.py); this module turns them into the report's typed `Customers` section and picks the
top and bottom customers by margin. AI cost is the calls' priced cost, so the customers add up to the period's
total exactly; the margin counts only the customers with revenue (the others are counted apart).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from costlens.engine import NO_CUSTOMER_KEY, query_rows
from costlens.model.report import CustomerEconomics, Customers, PlanEconomics
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config

NO_CUSTOMER = NO_CUSTOMER_KEY
TOP = 5


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)) if not isinstance(value, Decimal) else value


def compute_customers(con: duckdb.DuckDBPyConnection, config: Config) -> Customers | None:
    """The period's customers (period_calls and task_costs must be materialised). None when no call names a
    customer and no revenue covers the period: the section would only repeat the total."""
    share = config.customers.max_ai_cost_share
    con.execute(
        "CREATE OR REPLACE TEMP TABLE customer_settings AS SELECT CAST(? AS DOUBLE) AS max_ai_cost_share", [share]
    )
    con.execute(load_sql("metrics/customer_economics.sql"))
    rows = query_rows(con, "SELECT * FROM customer_economics ORDER BY ai_cost_usd DESC, customer")
    if not rows or all(r["customer"] == NO_CUSTOMER and r["revenue_usd"] is None for r in rows):
        return None
    customers = [
        CustomerEconomics(
            customer=r["customer"],
            plan=r["plan"],
            calls=int(r["calls"]),
            unpriced_calls=int(r["unpriced_calls"]),
            tasks=int(r["tasks"]),
            accepted_tasks=int(r["accepted_tasks"]),
            ai_cost_usd=Decimal(r["ai_cost_usd"]),
            cost_per_call_usd=r["cost_per_call_usd"],
            cost_per_task_usd=r["cost_per_task_usd"],
            acceptance_rate=r["acceptance_rate"],
            cost_per_accepted_outcome_usd=r["cost_per_accepted_outcome_usd"],
            revenue_usd=_dec(r["revenue_usd"]),
            margin_usd=_dec(r["margin_usd"]),
            margin_pct=r["margin_pct"],
            ai_cost_share=r["ai_cost_share"],
            over_share=bool(r["over_share"]),
        )
        for r in rows
    ]
    plans = [
        PlanEconomics(
            plan=r["plan"],
            customers=int(r["customers"]),
            calls=int(r["calls"]),
            ai_cost_usd=Decimal(r["ai_cost_usd"]),
            revenue_usd=_dec(r["revenue_usd"]),
            margin_usd=_dec(r["margin_usd"]),
            margin_pct=r["margin_pct"],
            ai_cost_share=r["ai_cost_share"],
            customers_over_share=int(r["customers_over_share"]),
        )
        for r in query_rows(con, "SELECT * FROM plan_economics ORDER BY revenue_usd DESC NULLS LAST, plan")
    ]
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
