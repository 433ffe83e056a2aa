"""The reconciliation of the request logs with the billing exports, as typed objects.

Money is Decimal (exact DuckDB DECIMAL sums); shares are floats. The same object is the `reconciliation`
section of the report (JSON key `reconciliation`) and the output of `costlens reconcile`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

# status values
NO_BILL = "no_bill"
NO_AI_SPEND = "no_ai_spend"
RECONCILED = "reconciled"
OUTSIDE_TOLERANCE = "outside_tolerance"
NOT_COMPARED = "not_compared"  # the bill is in a currency with no rate to USD
FILTERED = "filtered"  # a report of some features or teams only (--feature / --team): not compared with the bill


@dataclass
class GapCause:
    """One named part of the gap between the AI spend billed and the spend the logged calls explain."""

    cause: str  # unlogged_traffic | billed_failed_requests | other_ai_charges | rounding | unexplained
    label: str
    amount_usd: Decimal
    tokens: int | None = None
    detail: str = ""
    short: str = ""  # the few words the verdict quotes, e.g. "sub-account batch-reindex-dev"


@dataclass
class PriceStep:
    """One step of the bridge from costlens's list cost of the logged calls to what the bill charged for them."""

    step: str  # logged_list_cost | logged_not_billed | logged_rounding | tier_mismatch | list_price_mismatch |
    #            negotiated_discount | explained
    label: str
    amount_usd: Decimal
    detail: str = ""


@dataclass
class BillingScope:
    """A billing project / workspace / api key / sub-account, and whether the logs cover its traffic."""

    provider: str
    model: str
    scope_kind: str
    scope: str
    billed_usd: Decimal
    first_day: date | None
    last_day: date | None
    days: int
    logged: bool
    reason: str
    tag_features: str | None = None


@dataclass
class ModelReconciliation:
    """Bill against logs for one provider × model × token type over the period."""

    provider: str
    model: str
    token_type: str
    billed_tokens: int
    logged_tokens: int
    billed_usd: Decimal
    explained_usd: Decimal
    logged_list_usd: Decimal
    failed_usd: Decimal
    unlogged_usd: Decimal
    logged_not_billed_usd: Decimal
    discount_usd: Decimal
    list_mismatch_usd: Decimal


@dataclass
class AllocationRow:
    """Invoice showback: what a feature (or cost center) owns on the bill plus its allocated share of the
    spend no feature owns. Cents add up exactly to the AI billed total (largest remainder)."""

    key: str
    owned_usd: Decimal  # billed spend of its logged calls (explained + its billed failed requests), cents
    allocated_usd: Decimal  # its share of the unowned spend, cents
    total_usd: Decimal  # owned + allocated, cents
    owned_exact_usd: Decimal
    allocated_exact_usd: Decimal
    cost_center: str | None = None
    features: list[str] = field(default_factory=list)


@dataclass
class CalibratedRate:
    """What one provider × model × token type really cost on the bill, and how to turn list into paid."""

    provider: str
    model: str
    token_type: str
    billed_tokens: int
    billed_usd: Decimal
    billed_usd_per_mtok: Decimal | None
    bill_list_usd_per_mtok: Decimal | None
    paid_to_list: float | None  # explained ÷ costlens list cost of the matched tokens (None: nothing matched)
    basis: str  # billed (calibrated from matched tokens) | rate (billed $/Mtok, no list price) | none


@dataclass
class UnconvertedBill:
    """Billing lines in a currency with no rate to USD: kept apart, never added to USD amounts."""

    currency: str
    lines: int
    ai_lines: int
    ai_billed: Decimal  # in `currency`


@dataclass
class Reconciliation:
    status: str = NO_BILL
    verdict: str = "no billing export was ingested for this period; nothing to reconcile"
    tolerance_pct: float = 1.0
    tolerance_usd: Decimal = Decimal(0)
    allowed_unexplained_usd: Decimal = Decimal(0)
    within_tolerance: bool | None = None
    billing_lines: int = 0
    ai_billing_lines: int = 0
    billed_total_usd: Decimal = Decimal(0)  # every line of the bills in the period
    ai_billed_usd: Decimal = Decimal(0)
    currencies: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)  # providers the bill covers, in the logs' vocabulary
    logged_list_usd: Decimal = Decimal(0)  # costlens list cost of the logged calls of those providers
    explained_usd: Decimal = Decimal(0)  # billed cost of the tokens the logged calls account for
    coverage_pct: float | None = None  # explained ÷ AI billed
    gap_usd: Decimal = Decimal(0)  # AI billed − explained = Σ causes
    unexplained_usd: Decimal = Decimal(0)
    causes: list[GapCause] = field(default_factory=list)
    price_bridge: list[PriceStep] = field(default_factory=list)
    scopes: list[BillingScope] = field(default_factory=list)
    by_model: list[ModelReconciliation] = field(default_factory=list)
    # per provider × model × day: billed, explained, failed, unlogged, logged-not-billed (JSON detail)
    by_day: list[dict[str, Any]] = field(default_factory=list)
    allocation_rule: str = "proportional"
    allocated_usd: Decimal = Decimal(0)  # unowned spend given to features (exact)
    allocation: list[AllocationRow] = field(default_factory=list)  # by feature
    allocation_by_cost_center: list[AllocationRow] = field(default_factory=list)
    calibrated_rates: list[CalibratedRate] = field(default_factory=list)
    prices: str = "list"  # the prices the report's costs use: list | billed (`report --prices billed`)
    price_basis: list[dict[str, Any]] = field(default_factory=list)  # with billed prices: per model, which basis
    notes: list[str] = field(default_factory=list)
    unconverted: list[UnconvertedBill] = field(default_factory=list)  # bills with no exchange rate to USD
    # the exports that are the bill of the period: file, lines, days, lines they replaced of older exports
    bill_sources: list[dict[str, Any]] = field(default_factory=list)

    empty_period: str | None = None  # why the period has no calls: the months that do hold calls
    # `costlens reconcile`'s period (Period.to_dict), written at the top level of its JSON. A class attribute,
    # not a field: the report's JSON, which embeds this object, states its period once, at its own top level.
    # Its type is a comment because an annotation would make it a field.
    period = None  # type: dict[str, Any] | None

    @property
    def has_ai_bill(self) -> bool:
        return self.status in (RECONCILED, OUTSIDE_TOLERANCE)

    def cause(self, name: str) -> Decimal:
        return sum((c.amount_usd for c in self.causes if c.cause == name), Decimal(0))

    def step(self, name: str) -> Decimal:
        return sum((s.amount_usd for s in self.price_bridge if s.step == name), Decimal(0))

    def __bool__(self) -> bool:  # a report section exists once a bill was looked at
        return self.billing_lines > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
