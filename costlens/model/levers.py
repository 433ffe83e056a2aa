"""Typed results of the levers module: Lever, LeverPlan, Diagnosis (docs/definitions.md#levers), and the Finding
fields it reads.

Money is Decimal (exact); shares and rates are float. `to_dict()` gives JSON-ready values for the report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class FindingLike(Protocol):
    """The fields of costlens.model.leaks.Finding that levers read (all a lever needs of a finding)."""

    kind: str
    feature: str
    model: str | None
    task_class: str | None
    calls_affected: int
    wasted_usd: Decimal
    est_monthly_savings_usd: Decimal
    confidence: str
    severity: str
    evidence: dict[str, Any]
    explanation: str
    lever: str
    savings_low_usd: Decimal | None
    savings_high_usd: Decimal | None
    quality_risk: str | None
    affected_cost_usd: Decimal | None


@dataclass
class Lever:
    rank: int
    lever: str
    est_monthly_savings_usd: Decimal
    savings_low_usd: Decimal
    savings_high_usd: Decimal
    share_of_spend: float  # of the total monthly spend
    effort: str  # days | weeks | months
    quality_risk: str  # low | medium | high
    features: list[str]
    evidence: dict[str, Any]
    first_action: str
    quality_reason: str = ""
    savings_per_effort_day_usd: Decimal = Decimal(0)
    by_feature: dict[str, Decimal] = field(default_factory=dict)  # monthly savings per feature, after sequencing
    findings: int = 0  # how many findings back it
    # its monthly savings to the cent, as every table shows it (the report's totals are sums of these)
    shown_monthly_savings_usd: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Diagnosis:
    """Which way the decision tree points (seed 000): what is rising, where, and whether retries drive it."""

    has_previous: bool
    cost_per_call_usd: float | None
    previous_cost_per_call_usd: float | None
    cost_per_call_change_pct: float | None
    cost_per_call_trend: str  # rising | falling | flat | unknown
    cost_per_accepted_outcome_usd: float | None
    previous_cost_per_accepted_outcome_usd: float | None
    cost_per_accepted_outcome_change_pct: float | None
    cost_per_accepted_outcome_trend: str
    rising: str  # both | cost_per_call | cost_per_accepted_outcome | neither | unknown
    monthly_spend_usd: Decimal
    previous_monthly_spend_usd: Decimal | None
    spend_change_usd: Decimal | None  # monthly-normalised
    spend_change_pct: float | None
    growth_scope: str  # all | few | none | unknown
    growth_drivers: list[dict[str, Any]]  # features carrying the growth: feature, change_usd, share_of_growth
    growth_concentration: float | None  # share of the positive growth from the drivers
    spend_leaders: list[dict[str, Any]]  # the few features holding ≥ 80 % of spend (Pareto)
    retry_share_of_spend: float | None
    retry_share_of_growth: float | None
    retry_driven: bool | None
    retry_cost_estimated: bool  # True when failed-attempt cost came from retry_rate × cost, not the calls
    start_with: list[str]  # levers / actions the tree says to start with, in order
    statement: str
    # periods the logs cover only in part ("September 2026 has data for 10 of 30 days …"): spend is then
    # compared per day with data, and the monthly figures above are those daily rates × 30.44
    partial_notes: list[str] = field(default_factory=list)
    spend_per_day_usd: Decimal | None = None
    previous_spend_per_day_usd: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExcludedLever:
    """A lever not recommended, and why."""

    lever: str
    reason: str
    closest: dict[str, Any] | None = None  # break-even levers: the figures of the case nearest to paying back

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.closest is None:
            del data["closest"]
        return data


@dataclass
class LeverPlan:
    levers: list[Lever]
    diagnosis: Diagnosis | None
    monthly_spend_usd: Decimal
    total_monthly_savings_usd: Decimal
    total_savings_low_usd: Decimal
    total_savings_high_usd: Decimal
    excluded: list[ExcludedLever] = field(default_factory=list)  # levers not recommended, with the reason
    assumptions: list[str] = field(default_factory=list)


@dataclass
class LeverSummary:
    """The ranked levers' totals (without double counting), the levers left out and the assumptions. The
    shown_* totals are the sums of the levers' figures in cents, so the levers table adds up."""

    monthly_spend_usd: Decimal
    total_monthly_savings_usd: Decimal
    total_savings_low_usd: Decimal
    total_savings_high_usd: Decimal
    excluded: list[ExcludedLever]
    assumptions: list[str]
    shown_total_monthly_savings_usd: Decimal
    shown_total_savings_low_usd: Decimal
    shown_total_savings_high_usd: Decimal

    def shown(self, name: str) -> Decimal:
        """A total as shown: total_monthly_savings_usd, total_savings_low_usd or total_savings_high_usd."""
        value: Decimal = getattr(self, f"shown_{name}")
        return value

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["excluded"] = [e.to_dict() for e in self.excluded]
        return data
