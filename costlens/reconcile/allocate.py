"""Allocation: the billed AI spend no feature owns (unlogged traffic, other AI charges, rounding) is given to
features — by a billing-scope rule, a configured default feature, or in proportion to their logged spend — so
that invoice showback by feature and by cost center adds up to the bill to the cent.

The exact split is sql/reconcile/allocation.sql (`recon_allocation`: charge_day × provider × model × feature,
allocated_usd DECIMAL(38,18)); here the per-feature sums are rounded to cents with the largest-remainder
method against the AI billed total.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from costlens.model.reconcile import AllocationRow, Reconciliation

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config

_NO_COST_CENTER = "(no cost center)"


def allocation_tables(con: duckdb.DuckDBPyConnection, config: Config, result: Reconciliation) -> None:
    """Fill result.allocation (by feature) and result.allocation_by_cost_center from the SQL tables."""
    from costlens.showback import allocate_cents

    owned = dict(
        con.execute(
            "SELECT feature_key, sum(explained_usd + failed_usd) FROM recon_feature_spend GROUP BY ALL"
        ).fetchall()
    )
    allocated = dict(con.execute("SELECT feature, sum(allocated_usd) FROM recon_allocation GROUP BY ALL").fetchall())
    keys = sorted(
        set(owned) | set(allocated), key=lambda k: (-(Decimal(owned.get(k) or 0) + Decimal(allocated.get(k) or 0)), k)
    )
    owned_exact = [Decimal(owned.get(k) or 0) for k in keys]
    allocated_exact = [Decimal(allocated.get(k) or 0) for k in keys]
    result.allocated_usd = sum(allocated_exact, Decimal(0))
    # one largest-remainder pass over both columns, so owned + allocated cents add up to the billed total
    cents = allocate_cents(owned_exact + allocated_exact, result.ai_billed_usd) if keys else []
    owned_cents, allocated_cents = cents[: len(keys)], cents[len(keys) :]
    features = config.features
    rows = []
    for i, key in enumerate(keys):
        settings = features.get(key)
        center = settings.cost_center.strip() if settings is not None and settings.cost_center else None
        rows.append(
            AllocationRow(
                key=key,
                owned_usd=owned_cents[i],
                allocated_usd=allocated_cents[i],
                total_usd=owned_cents[i] + allocated_cents[i],
                owned_exact_usd=owned_exact[i],
                allocated_exact_usd=allocated_exact[i],
                cost_center=center,
                features=[key],
            )
        )
    result.allocation = rows
    centers: dict[str, AllocationRow] = {}
    for row in rows:
        name = row.cost_center or _NO_COST_CENTER
        group = centers.setdefault(
            name, AllocationRow(name, Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0), cost_center=name)
        )
        group.owned_usd += row.owned_usd
        group.allocated_usd += row.allocated_usd
        group.total_usd += row.total_usd
        group.owned_exact_usd += row.owned_exact_usd
        group.allocated_exact_usd += row.allocated_exact_usd
        group.features.append(row.key)
    result.allocation_by_cost_center = sorted(centers.values(), key=lambda r: (-r.total_usd, r.key))
