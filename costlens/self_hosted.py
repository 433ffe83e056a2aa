"""Self-hosted inference priced like an API (docs/definitions.md#self-hosted-deployments).

sql/intermediate/self_hosted_costs.sql shares each [self_hosted.<name>] deployment's monthly cost among the
calls it served (the period engine runs it, so every call, task and outcome carries its share). This module
reads the months the report period touches and adds the break-even against the API model a deployment is
compared with (`compare_with`), both ways: at the month's volume and mix of prompt and generated tokens, the
API would cost `api_cost_usd`; it costs what the GPUs cost at `break_even_tokens` a month. Below that volume
the API is cheaper; above it, up to the GPUs' capacity at their peak, the deployment is.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from costlens.engine import query_rows
from costlens.model.report import SelfHosted, SelfHostedMonth

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

    from costlens.config import Config

_MTOK = Decimal(1_000_000)


def _api_prices(config: Config, compare_with: str, start: datetime, end: datetime) -> tuple[Decimal, Decimal] | None:
    """Standard input and output price per million tokens of `provider/model` at the month's start (base tier);
    None when the price book has none."""
    from costlens.pricing.catalog import resolve_key
    from costlens.pricing.config import parse_prices_config

    provider, model = compare_with.split("/", 1)
    resolution = resolve_key(provider, model, "standard", start, end, parse_prices_config(config.prices or None))
    for segment in resolution.segments:
        if segment.valid_from <= start < segment.valid_to and segment.tiers:
            prices = segment.tiers[0].prices
            return prices.input_mtok, prices.output_mtok
    return None


def _verdict(month: SelfHostedMonth) -> str | None:
    if month.api_cost_usd is None or month.cost_usd is None or month.break_even_tokens is None:
        return None
    served = month.prompt_tokens + month.output_tokens
    if month.api_cost_usd < month.cost_usd:
        if month.capacity_tokens is not None and month.break_even_tokens > month.capacity_tokens:
            return "the API is cheaper at any volume these GPUs can serve: move the traffic to the API"
        return (
            f"the API is cheaper at this volume: the GPUs pay from {month.break_even_tokens:,} tokens a month "
            f"({month.break_even_tokens / served:.1f}× today's)"
            if served
            else "the API is cheaper"
        )
    return f"the GPUs are cheaper: the API would cost as much below {month.break_even_tokens:,} tokens a month"


def compute_self_hosted(con: duckdb.DuckDBPyConnection, config: Config) -> SelfHosted | None:
    """Each deployment in each calendar month the report period touches (self_hosted_months and
    self_hosted_calls must be ready: the period engine's config tables). None without deployments."""
    if not config.self_hosted:
        return None
    rows = query_rows(
        con,
        """
        SELECT m.*, strftime(m.month, '%Y-%m') AS month_text,
               coalesce((SELECT sum(c.cost_usd) FROM self_hosted_calls c
                         WHERE c.deployment = m.deployment AND c.month = m.month), 0) AS allocated_usd
        FROM self_hosted_months m, report_period r
        WHERE m.month < r.end_ts AND m.month + INTERVAL 1 MONTH > r.start_ts
        ORDER BY m.deployment, m.month
        """,
    )
    months: list[SelfHostedMonth] = []
    for row in rows:
        deployment = config.self_hosted[row["deployment"]]
        cost: Decimal | None = row["cost_usd"]
        served = row["prompt_tokens"] + row["output_tokens"]
        peak = row["peak_tokens_per_second_per_gpu"]
        month = SelfHostedMonth(
            deployment=row["deployment"],
            month=row["month_text"],
            gpu_type=row["gpu_type"],
            gpu_count=row["gpu_count"],
            cost_basis=row["cost_basis"],
            bill_lines=row["bill_lines"],
            cost_usd=cost,
            allocated_usd=row["allocated_usd"],
            unallocated_usd=(cost - row["allocated_usd"]) if cost is not None else Decimal(0),
            gpu_hours=row["gpu_hours"],
            calls=row["calls"],
            prompt_tokens=row["prompt_tokens"],
            output_tokens=row["output_tokens"],
            cost_per_million_tokens_usd=float(cost * _MTOK / served) if cost is not None and served else None,
            tokens_per_second_per_gpu=row["tokens_per_second_per_gpu"],
            peak_tokens_per_second_per_gpu=peak,
            peak_basis=row["peak_basis"],
            utilisation=row["utilisation"],
            idle_gpu_hours=row["idle_gpu_hours"],
            idle_cost_usd=row["idle_cost_usd"],
            capacity_tokens=int(peak * row["gpu_hours"] * 3600) if peak else None,
            compare_with=deployment.compare_with,
            api_cost_usd=None,
            break_even_tokens=None,
            verdict=None,
        )
        if deployment.compare_with:
            start = row["month"]
            end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
            prices = _api_prices(config, deployment.compare_with, start, end)
            if prices is not None:
                price_in, price_out = prices
                month.api_cost_usd = (row["prompt_tokens"] * price_in + row["output_tokens"] * price_out) / _MTOK
                if cost is not None and served and month.api_cost_usd > 0:
                    # cost ÷ the API's price per token at this month's mix
                    tokens = cost * served / month.api_cost_usd
                    month.break_even_tokens = int(tokens.to_integral_value(rounding=ROUND_CEILING))
            month.verdict = _verdict(month)
            if prices is None:  # asked for, never silent: the price book has no standard price for it
                month.verdict = f"no comparison: the price book has no price for {deployment.compare_with}"
        months.append(month)
    return SelfHosted(
        months=months,
        cost_usd=sum((m.cost_usd for m in months if m.cost_usd is not None), Decimal(0)),
        allocated_usd=sum((m.allocated_usd for m in months), Decimal(0)),
        idle_cost_usd=sum((m.idle_cost_usd for m in months if m.idle_cost_usd is not None), Decimal(0)),
    )
