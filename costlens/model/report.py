"""One typed Report model feeds every renderer, so terminal, JSON, Markdown and HTML never disagree.

Money is Decimal (exact sums from DuckDB DECIMAL); ratios are float. JSON field names: docs/json-contract.md#report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from costlens.model.change import Change
from costlens.model.leaks import Finding
from costlens.model.levers import Diagnosis, Lever, LeverSummary
from costlens.model.reconcile import Reconciliation
from costlens.money import round_cents

SCHEMA_VERSION = "1"


@dataclass
class Period:
    start: date
    end: date  # exclusive
    label: str | None = None  # how it was asked for: 2026-10, 2026-Q4, 2026, last 7d, 2026-10-01..2026-10-15

    @property
    def last_day(self) -> date:
        """The period's last day, inclusive."""
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def describe(self) -> str:
        span = f"{self.start.isoformat()} to {self.last_day.isoformat()}"
        return span if not self.label or ".." in self.label else f"{self.label} ({span})"

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of a period, in every output: end exclusive, last_day inclusive."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "last_day": self.last_day.isoformat(),
            "days": self.days,
            "label": self.label or self.describe(),
        }


@dataclass
class PriceBookInfo:
    source: str
    version: str
    keys: int = 0
    unpriced_keys: int = 0


@dataclass
class Totals:
    cost_usd: Decimal
    calls: int
    tasks: int
    accepted_tasks: int
    unpriced_calls: int
    priced_coverage_pct: float | None
    cost_per_call_usd: float | None
    cost_per_task_usd: float | None
    quality_adjusted_cost_per_task_usd: float | None
    cost_per_accepted_outcome_usd: float | None
    reported_cost_usd: Decimal | None = None
    tasks_with_outcome: int = 0
    tool_cost_usd: Decimal = Decimal(0)  # server-side tools, generated images and per-request fees


@dataclass
class UnitEconomics:
    """One row of the worksheet; `key` is the feature, model, team, day or month."""

    key: str
    calls: int
    tasks: int
    cost_usd: Decimal
    cost_per_call_usd: float | None
    calls_per_task: float | None
    cost_per_task_usd: float | None
    p50_cost_per_task_usd: float | None
    p95_cost_per_task_usd: float | None
    acceptance_rate: float | None
    quality_adjusted_cost_per_task_usd: float | None
    cost_per_accepted_outcome_usd: float | None
    retry_rate: float | None
    avg_input_tokens: float | None
    premium_spend_share: float | None
    premium_traffic_share: float | None
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    human_review_rate: float | None
    cache_hit_rate: float | None
    tokens_per_call: float | None
    spend_share: float | None
    unpriced_calls: int
    accepted_tasks: int
    tasks_with_outcome: int
    rework_cost_usd: Decimal
    delay_cost_usd: Decimal
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reported_cost_usd: Decimal | None
    computed_cost_of_reported_usd: Decimal | None
    provider: str | None = None
    tool_cost_usd: Decimal = Decimal(0)  # the part of cost_usd that is server-side tools, images and fees
    # cost_usd in cents for tables, largest-remainder within its table so shown rows add up to the shown total
    shown_cost_usd: Decimal | None = None
    # spend_share in percent to one decimal, largest-remainder within its table so shown shares add up to 100.0
    shown_share_pct: Decimal | None = None


@dataclass
class UnpricedModel:
    provider: str | None
    model: str
    variant: str
    calls: int
    reason: str | None


@dataclass
class VariantFallback:
    """Calls of a service tier (batch, flex, priority) priced at the standard price: the book has none for the tier."""

    provider: str
    model: str
    variant: str
    calls: int
    cost_usd: Decimal


@dataclass
class UnpricedUsage:
    """A billed quantity the period's cost does not include: a usage field costlens does not read, a charge
    with no price, or tokens a total reports beyond its parts (with an estimate of what they cost)."""

    kind: str  # unread_field | unpriced_charge | hidden_tokens
    producer: str | None
    field: str
    calls: int
    quantity: Decimal
    reason: str
    est_cost_usd: Decimal | None = None


@dataclass
class CostComparison:
    """A producer's own cost beside the price-book cost of the same calls."""

    producer: str
    model: str
    calls: int
    reported_cost_usd: Decimal
    computed_cost_usd: Decimal | None
    difference_usd: Decimal | None
    unpriced_calls: int = 0


@dataclass
class Coverage:
    unpriced_models: list[UnpricedModel] = field(default_factory=list)
    quarantined_rows: int = 0
    skipped_rows: int = 0
    unattributed_cost_usd: Decimal = Decimal(0)
    calls_without_task: int = 0
    billing_lines: int = 0
    ai_billed_cost_usd: Decimal = Decimal(0)
    calls_timed_by_file: int = 0
    unpriced_usage: list[UnpricedUsage] = field(default_factory=list)
    variant_fallbacks: list[VariantFallback] = field(default_factory=list)
    # the part of the period the logs cover (costlens.period.data_span): a period whose data starts
    # late or ends early is compared on spend per day with data, and the report says so
    data_start: date | None = None
    data_end: date | None = None  # exclusive
    days_with_data: int = 0


@dataclass
class KindUsage:
    """Quantity and exact cost of one cost kind for one feature and model in the period
    (sql/metrics/change_usage.sql): the inputs of the change split, kept so `costlens diff` can split the change
    between two saved reports."""

    feature: str
    provider: str
    model: str
    variant: str
    kind: str  # input | cache_read | cache_write | output | call
    quantity: int
    cost_usd: Decimal


@dataclass
class ShowbackRow:
    """One feature, owner, team or cost center's spend in the period (costlens/showback.py)."""

    key: str
    cost_usd: Decimal  # in cents: the rows of one cut add up to Showback.total_usd exactly
    share: float | None  # exact cost / total
    shown_share_pct: Decimal | None  # the share to a tenth, adding up to 100.0
    cost_exact_usd: Decimal
    features: list[str]
    allocated_usd: Decimal | None = None  # with a bill: its cents of the billed spend no feature owns

    def to_dict(self) -> dict[str, Any]:
        """The JSON row: `allocated_usd` only when a bill was allocated."""
        data = asdict(self)
        if self.allocated_usd is None:
            del data["allocated_usd"]
        return data


@dataclass
class InvoiceShowbackRow:
    """The bill's AI spend of one feature, owner, team or cost center: owned (its logged calls, billed) plus
    allocated (its share of what no feature owns), adding up to the invoice to the cent."""

    key: str
    owned_usd: Decimal
    allocated_usd: Decimal
    cost_usd: Decimal
    features: list[str]


@dataclass
class InvoiceShowback:
    total_usd: Decimal
    total_exact_usd: Decimal
    allocation_rule: str
    by_feature: list[InvoiceShowbackRow] = field(default_factory=list)
    by_owner: list[InvoiceShowbackRow] = field(default_factory=list)
    by_team: list[InvoiceShowbackRow] = field(default_factory=list)
    by_cost_center: list[InvoiceShowbackRow] = field(default_factory=list)


@dataclass
class Showback:
    """Who spends what: the period's spend by feature, owner, team and cost center, each cut adding up to
    total_usd to the cent; with a bill, the invoice's AI spend the same way."""

    total_usd: Decimal
    total_exact_usd: Decimal
    by_feature: list[ShowbackRow] = field(default_factory=list)
    by_owner: list[ShowbackRow] = field(default_factory=list)
    by_team: list[ShowbackRow] = field(default_factory=list)
    by_cost_center: list[ShowbackRow] = field(default_factory=list)
    invoice: InvoiceShowback | None = None

    def cut(self, dimension: str) -> list[ShowbackRow]:
        """The rows of one cut: feature, owner, team or cost_center."""
        rows: list[ShowbackRow] = getattr(self, f"by_{dimension}")
        return rows

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"total_usd": self.total_usd, "total_exact_usd": self.total_exact_usd}
        for dimension in ("feature", "owner", "team", "cost_center"):
            data[f"by_{dimension}"] = [row.to_dict() for row in self.cut(dimension)]
        if self.invoice is not None:
            data["invoice"] = asdict(self.invoice)
        return data


@dataclass
class FeatureCost:
    """The whole cost of one feature in the period (sql/metrics/feature_costs.sql): the four parts add up to
    `total_usd`."""

    feature: str
    model_tokens_usd: Decimal  # the calls' cost less tool charges
    tool_charges_usd: Decimal  # server-side tools, generated images, per-request fees
    infrastructure_usd: Decimal  # bill lines that serve it without being model usage
    human_review_usd: Decimal  # rework cost of its tasks with an outcome
    total_usd: Decimal
    infrastructure_lines: int
    accepted_tasks: int
    inference_cost_per_accepted_outcome_usd: float | None  # (tokens + tools) ÷ accepted tasks
    total_cost_per_accepted_outcome_usd: float | None  # all four ÷ accepted tasks


@dataclass
class InfrastructureSpend:
    """Bill lines of one kind attributed to one feature (by a rule or a tag)."""

    feature: str
    kind: str
    attributed_by: str  # "rule N" ([[infrastructure.rules]], 1-based) or "tag KEY"
    lines: int
    cost_usd: Decimal


@dataclass
class FeatureCosts:
    """Each feature's whole cost: model tokens, tool charges, infrastructure and human review."""

    features: list[FeatureCost] = field(default_factory=list)  # largest total first
    infrastructure: list[InfrastructureSpend] = field(default_factory=list)
    infrastructure_usd: Decimal = Decimal(0)  # the attributed bill lines' cost: the features' infrastructure sum
    total_usd: Decimal = Decimal(0)


@dataclass
class SelfHostedMonth:
    """One [self_hosted.<name>] deployment in one calendar month (sql/intermediate/self_hosted_costs.sql): what its
    GPUs cost, what they served, how busy they were, and what the same tokens cost on the API model it is
    compared with. Its calls carry `allocated_usd` between them; a month without calls leaves it unallocated."""

    deployment: str
    month: str  # YYYY-MM
    gpu_type: str | None
    gpu_count: int
    cost_basis: str | None  # rate (gpu_hour_usd) | bill (its bill lines) | None: no cost for the month yet
    bill_lines: int
    cost_usd: Decimal | None
    allocated_usd: Decimal  # what its calls carry: the cost, when the month has calls
    unallocated_usd: Decimal  # cost no call carries (a month without calls)
    gpu_hours: int
    calls: int
    prompt_tokens: int
    output_tokens: int
    cost_per_million_tokens_usd: float | None  # cost ÷ (prompt + output tokens)
    tokens_per_second_per_gpu: float | None  # served tokens over every GPU-second of the month
    peak_tokens_per_second_per_gpu: float | None
    peak_basis: str | None  # config | busiest hour
    utilisation: float | None  # served ÷ peak capacity, at most 1
    idle_gpu_hours: float | None
    idle_cost_usd: Decimal | None  # cost × (1 − utilisation)
    capacity_tokens: int | None  # tokens the GPUs could serve in the month at the peak
    compare_with: str | None  # provider/model of the API it is compared with
    api_cost_usd: Decimal | None  # the month's tokens at that API's standard prices
    break_even_tokens: int | None  # monthly tokens (this month's mix) at which the API costs what the GPUs do
    verdict: str | None  # which way the break-even points, in a sentence


@dataclass
class SelfHosted:
    """Self-hosted inference (vLLM, SGLang, TGI, Ollama) priced like an API, per deployment and month."""

    months: list[SelfHostedMonth] = field(default_factory=list)  # by deployment, then month
    cost_usd: Decimal = Decimal(0)
    allocated_usd: Decimal = Decimal(0)
    idle_cost_usd: Decimal = Decimal(0)


@dataclass
class CustomerEconomics:
    """One customer's AI cost, unit economics and gross AI margin in the period (sql/metrics/customer_economics.sql).
    `(no customer)` holds the calls that name none; revenue figures are None without a revenue row."""

    customer: str
    plan: str  # the plan of its latest month in the period, or "(no plan)"
    calls: int
    unpriced_calls: int
    tasks: int
    accepted_tasks: int
    ai_cost_usd: Decimal  # the calls' priced cost: customers add up to the period total
    cost_per_call_usd: float | None
    cost_per_task_usd: float | None
    acceptance_rate: float | None
    cost_per_accepted_outcome_usd: float | None
    revenue_usd: Decimal | None
    margin_usd: Decimal | None  # revenue − AI cost
    margin_pct: float | None  # margin ÷ revenue (revenue above 0)
    ai_cost_share: float | None  # AI cost ÷ revenue (revenue above 0)
    over_share: bool  # AI cost above [customers] max_ai_cost_share of revenue (or cost with no revenue above 0)


@dataclass
class PlanEconomics:
    """The customers of one plan together; AI cost and margin count the customers with revenue only."""

    plan: str
    customers: int
    calls: int
    ai_cost_usd: Decimal
    revenue_usd: Decimal | None
    margin_usd: Decimal | None
    margin_pct: float | None
    ai_cost_share: float | None
    customers_over_share: int


@dataclass
class Customers:
    """Who the AI spend serves, and which customers and plans make money once AI is paid for."""

    ai_cost_usd: Decimal  # equals the period total
    revenue_usd: Decimal | None  # of the customers with a revenue row (None: no revenue input)
    margin_usd: Decimal | None  # revenue − the AI cost of the customers with revenue
    margin_pct: float | None
    max_ai_cost_share: float
    customers: list[CustomerEconomics] = field(default_factory=list)  # by AI cost, largest first
    by_plan: list[PlanEconomics] = field(default_factory=list)
    top_by_margin: list[str] = field(default_factory=list)  # up to 5 customers with revenue, best margin first
    bottom_by_margin: list[str] = field(default_factory=list)  # up to 5, worst margin first
    over_share: list[str] = field(default_factory=list)  # customers whose AI cost is over the share
    customers_without_revenue: int = 0  # customers with calls and no revenue row (not counted in the margin)


@dataclass
class Budget:
    """One feature's monthly budget and cost SLO against the period's spend (costlens/budgets.py says how each
    figure and status is decided). Field order is the JSON order of `budgets[]`."""

    feature: str
    owner: str | None
    team: str | None
    cost_center: str | None
    criticality: str | None
    monthly_budget_usd: Decimal | None
    spend_usd: Decimal
    forecast_month_end_usd: Decimal
    shown_spend_usd: Decimal  # the feature's spend as every table shows it (its cents)
    shown_forecast_usd: Decimal
    used_pct: float | None
    forecast_used_pct: float | None
    soft_alert_pct: float
    hard_limit_usd: Decimal | None
    status: str  # ok | warning | over | hard_limit | no_budget
    reason: str
    cost_slo_per_accepted_outcome_usd: Decimal | None
    cost_per_accepted_outcome_usd: float | None
    slo_status: str  # ok | breached | no_slo | unknown
    accepted_tasks: int
    period_budget_usd: Decimal | None  # the budget prorated to a period that is not a calendar month
    period_hard_limit_usd: Decimal | None
    elapsed_share: float
    configured: bool  # named in costlens.toml (else a feature seen in the period without settings)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Budget:
        """A `budgets[]` entry of a saved JSON report; money back to Decimal from the number's every digit."""

        def money(name: str) -> Decimal | None:
            value = data.get(name)
            return None if value is None else Decimal(str(value))

        def shown(name: str, exact: str) -> Decimal:  # a row without its shown cents: the exact figure's
            return money(name) or round_cents(money(exact) or Decimal(0))

        return cls(
            feature=str(data.get("feature")),
            owner=data.get("owner"),
            team=data.get("team"),
            cost_center=data.get("cost_center"),
            criticality=data.get("criticality"),
            monthly_budget_usd=money("monthly_budget_usd"),
            spend_usd=money("spend_usd") or Decimal(0),
            forecast_month_end_usd=money("forecast_month_end_usd") or Decimal(0),
            shown_spend_usd=shown("shown_spend_usd", "spend_usd"),
            shown_forecast_usd=shown("shown_forecast_usd", "forecast_month_end_usd"),
            used_pct=data.get("used_pct"),
            forecast_used_pct=data.get("forecast_used_pct"),
            soft_alert_pct=float(data.get("soft_alert_pct") or 0),
            hard_limit_usd=money("hard_limit_usd"),
            status=str(data.get("status") or "no_budget"),
            reason=str(data.get("reason") or ""),
            cost_slo_per_accepted_outcome_usd=money("cost_slo_per_accepted_outcome_usd"),
            cost_per_accepted_outcome_usd=data.get("cost_per_accepted_outcome_usd"),
            slo_status=str(data.get("slo_status") or "no_slo"),
            accepted_tasks=int(data.get("accepted_tasks") or 0),
            period_budget_usd=money("period_budget_usd"),
            period_hard_limit_usd=money("period_hard_limit_usd"),
            elapsed_share=float(data.get("elapsed_share") or 0),
            configured=bool(data.get("configured")),
        )


@dataclass
class MaturityCheck:
    """One check of the maturity assessment (costlens/maturity.py): met or not, with the figure that decided it."""

    name: str
    met: bool
    detail: str
    level: int | None  # the level that needs it; None: reported, required by no level


@dataclass
class Maturity:
    """The organisation's cost practice, level 1 (ad hoc) to 5 (optimised), judged from the data present."""

    level: int
    label: str
    checks: list[MaturityCheck] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)  # the unmet checks of the next level


@dataclass
class Report:
    generated_at: datetime
    period: Period
    price_book: PriceBookInfo
    totals: Totals
    unit_economics: list[UnitEconomics]
    by_model: list[UnitEconomics]
    by_team: list[UnitEconomics]
    by_day: list[UnitEconomics]
    by_month: list[UnitEconomics]
    coverage: Coverage
    cost_mode: str = "computed"
    reported_vs_computed: list[CostComparison] = field(default_factory=list)
    leaks: list[Finding] = field(default_factory=list)
    levers: list[Lever] = field(default_factory=list)
    lever_summary: LeverSummary | None = None  # totals, exclusions, assumptions (with analysis)
    diagnosis: Diagnosis | None = None  # with analysis: which way the decision tree points
    change: Change | None = None  # vs the previous period: volume / price / mix / efficiency (None: no calls then)
    showback: Showback | None = None  # by feature, owner, team, cost center
    customers: Customers | None = None  # per customer and plan, with margin (None: no customer, no revenue)
    feature_costs: FeatureCosts | None = None  # each feature's whole cost (tokens, tools, infrastructure, review)
    self_hosted: SelfHosted | None = None  # [self_hosted.<name>] deployments in the period's months (None: none)
    maturity: Maturity | None = None  # the organisation's cost practice, from the data (None: a period without calls)
    budgets: list[Budget] = field(default_factory=list)
    # quantity and exact cost per feature, provider, model, variant and cost kind (sql/metrics/change_usage.sql):
    # what `costlens diff` needs to split the change between two saved reports
    usage_by_kind: list[KindUsage] = field(default_factory=list)
    reconciliation: Reconciliation = field(default_factory=Reconciliation)  # bill vs logs (JSON key kept)
    warnings: list[str] = field(default_factory=list)
    empty_period: str | None = None  # why the period shows nothing: the months that do hold calls (also a warning)
    total_row: UnitEconomics | None = None  # the worksheet over all calls: the tables' total lines (not in JSON)
    filters: dict[str, list[str]] = field(default_factory=dict)  # --feature / --team: {features, teams}; {} = all
    engine: str = "duckdb"  # the engine the SQL ran on: "duckdb" or "spark" (costlens.engines)
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
