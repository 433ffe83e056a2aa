"""Showback: who spends what — the period's spend by feature, owner, team and cost center.

Ownership comes from costlens.toml `[features.<name>]` (owner, team, cost_center), so the table follows what the
organisation declared, not whatever team tag a log line happened to carry (the worksheet's `by_team` is that
view). Spend is the report's per-feature cost (the same exact Decimal figures as the unit-economics table), so
showback, totals and every other output agree.

Rows that cannot be assigned stay visible as their own row, never folded into someone else's:
  `(unattributed)`      spend of calls with no feature at all;
  `(no owner)` / `(no team)` / `(no cost center)`   features without that setting in costlens.toml.

Each row's `cost_usd` is in cents and the rows add up EXACTLY to `total_usd` (the period total rounded half up
to the cent): a feature's cents are the report's largest-remainder cents (costlens.money.allocate_cents), the
same figure every other table shows for it; an owner's, team's or cost center's are the sum of its features'
cents (so a group that is one feature shows that feature's number). `shown_share_pct` is the share in percent
to one decimal, adding up to 100.0 the same way. `cost_exact_usd` keeps the exact figure; `share` is exact /
total.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens.model.report import InvoiceShowback, InvoiceShowbackRow, Showback, ShowbackRow
from costlens.money import CENT, allocate_cents, round_cents  # noqa: F401 (re-exported: callers import them here)

if TYPE_CHECKING:
    from costlens.config import Config
    from costlens.model.report import Report

UNATTRIBUTED = "(unattributed)"
_MISSING = {"owner": "(no owner)", "team": "(no team)", "cost_center": "(no cost center)"}


def _rows(groups: dict[str, dict[str, Any]], total_exact: Decimal) -> list[ShowbackRow]:
    keys = sorted(groups, key=lambda k: (-groups[k]["exact"], k))
    return [
        ShowbackRow(
            key=key,
            cost_usd=groups[key]["cents"],
            share=float(groups[key]["exact"] / total_exact) if total_exact else None,
            shown_share_pct=groups[key]["tenths"],
            cost_exact_usd=groups[key]["exact"],
            features=sorted(groups[key]["features"]),
        )
        for key in keys
    ]


def feature_figures(report: Report) -> tuple[list[Decimal], list[Decimal | None]]:
    """Each feature's shown cents and share tenths: the report's own (report.build computes them once), or, for
    a report built without them, the same largest-remainder allocation."""
    from costlens.money import allocate_tenths

    rows = report.unit_economics
    shown = [r.shown_cost_usd for r in rows if r.shown_cost_usd is not None]
    if rows and len(shown) == len(rows):
        return shown, [r.shown_share_pct for r in rows]
    total = report.totals.cost_usd or Decimal(0)
    return allocate_cents([r.cost_usd or Decimal(0) for r in rows], total), allocate_tenths(
        [r.cost_usd or Decimal(0) for r in rows], total
    )


def compute_showback(con: Any, config: Config, report: Report) -> Showback:
    """Each cut (by_feature, by_owner, by_team, by_cost_center) a list of rows whose cents add up to total_usd.
    A feature's cents are the report's (the same number in every table); an owner's, team's or cost center's
    are the sum of its features' cents, so every cut adds up to the same total and agrees with the features.
    `con` is not needed (the report holds the per-feature spend); it is accepted for a uniform signature."""
    features = config.features if config is not None else {}
    total_exact = Decimal(report.totals.cost_usd or 0)
    by_feature: dict[str, dict[str, Any]] = {}
    dims: dict[str, dict[str, dict[str, Any]]] = {"owner": {}, "team": {}, "cost_center": {}}
    for row, cents, tenths in zip(report.unit_economics, *feature_figures(report)):
        cost = Decimal(row.cost_usd or 0)
        by_feature[row.key] = {"exact": cost, "cents": cents, "tenths": tenths, "features": {row.key}}
        settings = features.get(row.key)
        for dim, groups in dims.items():
            if row.key == UNATTRIBUTED:
                key = UNATTRIBUTED
            else:
                value = getattr(settings, dim, None) if settings is not None else None
                key = value.strip() if isinstance(value, str) and value.strip() else _MISSING[dim]
            group = groups.setdefault(
                key, {"exact": Decimal(0), "cents": Decimal(0), "tenths": None, "features": set()}
            )
            group["exact"] += cost
            group["cents"] += cents
            if tenths is not None:
                group["tenths"] = (group["tenths"] or Decimal(0)) + tenths
            group["features"].add(row.key)
    out = Showback(
        total_usd=round_cents(total_exact),
        total_exact_usd=total_exact,
        by_feature=_rows(by_feature, total_exact),
        by_owner=_rows(dims["owner"], total_exact),
        by_team=_rows(dims["team"], total_exact),
        by_cost_center=_rows(dims["cost_center"], total_exact),
    )
    _add_invoice(out, features, report)
    return out


def _add_invoice(out: Showback, features: dict[str, Any], report: Report) -> None:
    """When a bill with AI spend exists: every row gets `allocated_usd` (its share, in cents, of the billed spend
    no feature owns: unlogged traffic, other AI charges, rounding), and `invoice` shows the bill's AI total by
    feature / owner / team / cost center as owned (billed cost of its logged calls) + allocated, adding up to
    the invoice to the cent (costlens.reconcile.allocate does the largest-remainder rounding)."""
    recon = getattr(report, "reconciliation", None)
    if recon is None or not getattr(recon, "has_ai_bill", False):
        return
    by_feature = {row.key: row for row in recon.allocation}
    for dim in ("feature", "owner", "team", "cost_center"):
        for row in out.cut(dim):
            row.allocated_usd = sum((by_feature[f].allocated_usd for f in row.features if f in by_feature), Decimal(0))
    invoice = InvoiceShowback(
        total_usd=round_cents(recon.ai_billed_usd),
        total_exact_usd=recon.ai_billed_usd,
        allocation_rule=recon.allocation_rule,
    )
    for dim in ("feature", "owner", "team", "cost_center"):
        groups: dict[str, InvoiceShowbackRow] = {}
        for row in recon.allocation:
            if dim == "feature":
                key = row.key
            elif row.key == UNATTRIBUTED:
                key = UNATTRIBUTED
            else:
                value = getattr(features.get(row.key), dim, None)
                key = value.strip() if isinstance(value, str) and value.strip() else _MISSING[dim]
            group = groups.setdefault(key, InvoiceShowbackRow(key, Decimal(0), Decimal(0), Decimal(0), features=[]))
            group.owned_usd += row.owned_usd
            group.allocated_usd += row.allocated_usd
            group.cost_usd += row.total_usd
            group.features.append(row.key)
        setattr(invoice, f"by_{dim}", sorted(groups.values(), key=lambda g: (-g.cost_usd, g.key)))
    out.invoice = invoice
