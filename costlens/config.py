"""costlens.toml (or [tool.costlens] in pyproject.toml), validated on load with messages that say what to fix."""

from __future__ import annotations

import math
import os
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from costlens.errors import ConfigError

CANONICAL_CALL_FIELDS = (
    "call_id",
    "ts",
    "latency_ms",
    "provider",
    "model",
    "request_model",
    "operation",
    "service_tier",
    "is_batch",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "status",
    "error_type",
    "http_status",
    "finish_reason",
    "max_tokens",
    "task_id",
    "session_id",
    "trace_id",
    "feature",
    "team",
    "customer",
    "user_id",
    "environment",
    "reported_cost_usd",
    "end_ts",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _bounded(kind: str, *, low: float, low_inclusive: bool, high: float | None = None, fix: str):
    """A float setting that must be finite and within bounds; the error names the value and carries the fix."""
    above = f"of {low:g} or more" if low_inclusive else f"above {low:g}"
    wanted = f"a number from {low:g} to {high:g}" if high is not None else f"a finite number {above}"

    def check(value: float) -> float:
        ok = (
            math.isfinite(value)
            and (value >= low if low_inclusive else value > low)
            and (high is None or value <= high)
        )
        if not ok:
            raise PydanticCustomError(
                "costlens_range",
                "{kind} must be {wanted}, not {value}",
                {"kind": kind, "wanted": wanted, "value": value, "fix": fix},
            )
        return value

    return AfterValidator(check)


# Budgets are positive amounts; rates may be 0 (not counted); percentages are 0–100. nan / inf never pass.
Budget = Annotated[
    float,
    _bounded(
        "a budget", low=0, low_inclusive=False, fix="set an amount above 0 in USD, or remove the setting for none"
    ),
]
Rate = Annotated[float, _bounded("a rate", low=0, low_inclusive=True, fix="set 0 or more in USD (0 leaves it out)")]
Amount = Annotated[float, _bounded("an amount", low=0, low_inclusive=True, fix="set 0 or more in USD")]
Percent = Annotated[
    float, _bounded("a percentage", low=0, low_inclusive=True, high=100, fix="set a percentage from 0 to 100")
]


class ColumnMapping(_Strict):
    """How a generic CSV / JSONL / Parquet file maps onto canonical call fields."""

    name: str = "cli"
    match: str | None = None  # file-name glob this mapping applies to
    columns: dict[str, str] = Field(default_factory=dict)  # canonical = source column
    constants: dict[str, str] = Field(default_factory=dict)  # canonical = fixed value
    # OpenAI / OTel count cached tokens inside input; Anthropic does not.
    input_tokens_include_cached: bool = True

    @field_validator("columns", "constants")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CANONICAL_CALL_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown canonical field(s) {', '.join(unknown)}; use one of: {', '.join(CANONICAL_CALL_FIELDS)}"
            )
        return value


class IngestConfig(_Strict):
    mappings: list[ColumnMapping] = Field(default_factory=list)
    keep_content: bool = False
    # the semantic-cache sketch of each request with text (load/prompt_sketches.sql): about 20 µs and 250 bytes
    # per such request; off, the semantic_cache estimate has nothing to compare
    semantic_sketches: bool = True


class FeatureConfig(_Strict):
    owner: str | None = None
    team: str | None = None
    cost_center: str | None = None
    criticality: Literal["critical", "important", "mass"] | None = None
    monthly_budget_usd: Budget | None = None
    soft_alert_pct: Percent = 80.0
    hard_limit_usd: Budget | None = None
    cost_slo_per_accepted_outcome_usd: Budget | None = None
    interactive: bool | None = None
    step_budget: int | None = Field(default=None, ge=1)
    task_class: str | None = None
    value_per_accepted_outcome_usd: Rate | None = None


class EconomicsConfig(_Strict):
    loaded_hourly_rate_usd: Rate = 0.0  # prices rework minutes
    delay_cost_per_minute_usd: Rate = 0.0  # prices waiting time in outcomes


class ModelsConfig(_Strict):
    tiers: dict[str, Literal["premium", "balanced", "economy"]] = Field(default_factory=dict)
    # a model name as the calls carry it → the catalog model it is priced as (Azure deployment names,
    # fine-tune or application inference profile ids, in-house aliases)
    aliases: dict[str, str] = Field(default_factory=dict)


class OutcomeScoresConfig(_Strict):
    """Which scores (e.g. Langfuse score names) become outcomes, and how."""

    accepted: list[str] = Field(default_factory=lambda: ["accepted", "user_feedback", "user-feedback", "thumbs"])
    accept_threshold: float = Field(default=0.5, allow_inf_nan=False)  # a numeric score ≥ this counts as accepted
    quality: list[str] = Field(default_factory=lambda: ["quality", "quality_score"])
    human_review: list[str] = Field(default_factory=lambda: ["human_review", "human-review", "reviewed"])


class OutcomesConfig(_Strict):
    scores: OutcomeScoresConfig = Field(default_factory=OutcomeScoresConfig)


class ScopeRule(_Strict):
    """A billing scope (project, workspace, api key or sub-account, by id or name) whose unlogged spend
    belongs to one feature."""

    scope: str = Field(min_length=1)
    feature: str = Field(min_length=1)


class AllocateToFeature(_Strict):
    feature: str = Field(min_length=1)


class ReconcileConfig(_Strict):
    """[reconcile]: how the request logs are reconciled with the billing exports."""

    # the verdict is "reconciled" while the spend with no identified cause stays within
    # max(tolerance_pct % of the AI billed spend, tolerance_usd)
    tolerance_pct: Percent = 1.0
    tolerance_usd: Amount = 0.0
    # a day × model × token-type difference at or below this is rounding
    rounding_usd: Amount = 0.01
    # a billing scope whose tokens lie (this share of them) above what the logs show is unlogged traffic
    fit_share: float = Field(default=0.95, gt=0, le=1, allow_inf_nan=False)
    # spend no feature owns: "proportional" (to the features' logged spend) or {feature = "…"}
    allocation: Literal["proportional"] | AllocateToFeature = "proportional"
    scopes: list[ScopeRule] = Field(default_factory=list)


class ExchangeRate(_Strict):
    """One dated rate: from `valid_from` (UTC date, inclusive) until the next rate of the same currency,
    1 `currency` = `usd` US dollars."""

    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")
    valid_from: date
    usd: float = Field(gt=0, allow_inf_nan=False)


class CurrencyConfig(_Strict):
    """[currency]: bills in other currencies are converted to USD (the report currency) with the export's own
    conversion columns where it has them, else these dated rates. A bill with neither is not compared with
    the logs (money in two currencies is never added): the report says so."""

    rates: list[ExchangeRate] = Field(default_factory=list)

    @field_validator("rates")
    @classmethod
    def _one_rate_per_day(cls, rates: list[ExchangeRate]) -> list[ExchangeRate]:
        seen: set[tuple[str, date]] = set()
        for rate in rates:
            key = (rate.currency.upper(), rate.valid_from)
            if key in seen:
                raise ValueError(f"two rates for {key[0]} from {key[1]}: keep one")
            seen.add(key)
        return rates


class EngineConfig(_Strict):
    """[engine]: where the SQL runs. DuckDB (the default) on this machine; Apache Spark (the `spark` extra) on a
    local JVM (`master = "local[*]"`), a cluster (`master = "spark://host:7077"`, `"yarn"`, …) or a Spark
    Connect server (`remote = "sc://host:15002"`). `warehouse`: the lake of Parquet tables both engines read
    and `costlens export lake` writes (docs/architecture.md#the-lake)."""

    kind: Literal["duckdb", "spark"] = "duckdb"
    master: str | None = None
    remote: str | None = None
    warehouse: str | None = None
    # more Spark settings for the session (spark.executor.memory, spark.sql.shuffle.partitions, …)
    spark_conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("remote")
    @classmethod
    def _connect_uri(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("sc://"):
            raise ValueError(f"remote {value!r} is not a Spark Connect address: use sc://host[:port]")
        return value

    @model_validator(mode="after")
    def _one_spark(self) -> EngineConfig:
        if self.master and self.remote:
            raise ValueError("give master (a Spark cluster or local[*]) or remote (Spark Connect), not both")
        return self


class BillLineMatcher(_Strict):
    """Which bill lines: every matcher given must match (globs, any case)."""

    service: str | None = None  # ServiceName
    resource: str | None = None  # ResourceId
    sku: str | None = None  # SkuId, SkuMeter or ChargeDescription
    account: str | None = None  # billing account, sub-account (id or name) or project
    tags: dict[str, str] = Field(default_factory=dict)  # tag key → glob of its value

    def matches_something(self) -> bool:
        return bool(self.service or self.resource or self.sku or self.account or self.tags)


class InfrastructureRule(BillLineMatcher):
    """[[infrastructure.rules]]: bill lines that serve one feature without being model usage (a vector database,
    an embedding job, a search API, GPUs, storage). Every matcher given must match (globs, any case)."""

    feature: str
    kind: str = "infrastructure"  # what it is, as the report shows it: vector_db, search, gpu, storage, …

    @model_validator(mode="after")
    def _matches_something(self) -> InfrastructureRule:
        if not self.matches_something():
            raise ValueError(
                f"the rule for feature {self.feature!r} matches every bill line: give service, resource, sku, "
                "account or tags"
            )
        return self


class SelfHostedDeployment(_Strict):
    """[self_hosted.<name>]: GPUs serving open models (vLLM, SGLang, TGI, Ollama). Its cost per calendar month is
    shared among the calls it served by weighted tokens (sql/intermediate/self_hosted_costs.sql)."""

    # the calls it serves: those of this provider as staged (vllm, sglang, ollama, …) or of one of these models
    # (globs, any case: a client's span of a request to vLLM names the SDK's provider and the served model)
    models: list[str] = Field(default_factory=list)
    provider: str | None = None
    gpu_type: str | None = None  # shown only (H100, L4, …)
    gpu_count: int = Field(default=1, ge=1)
    gpu_hour_usd: Decimal | None = Field(default=None, gt=0)  # either a rate per GPU-hour …
    bill: BillLineMatcher | None = None  # … or the bill lines that pay for it (FOCUS, CUR, Azure, GCP)
    input_weight: Decimal = Field(default=Decimal(1), ge=0)  # per prompt token (cache reads included)
    output_weight: Decimal = Field(default=Decimal(4), ge=0)  # per generated token: decode is the costly step
    # served tokens (prompt + generated) per second per GPU at full load, e.g. `vllm bench serve`'s total token
    # throughput ÷ GPUs; None: the busiest clock hour the deployment's own calls show
    peak_tokens_per_second_per_gpu: float | None = Field(default=None, gt=0)
    running_from: date | None = None  # rate only: first day it ran (default: the first day of its first call's month)
    running_until: date | None = None  # rate only: last day it ran (default: the last day of its last call's month)
    compare_with: str | None = None  # "provider/model" of the API model its traffic could move to

    @model_validator(mode="after")
    def _complete(self) -> SelfHostedDeployment:
        if not self.models and not self.provider:
            raise ValueError("say which calls it serves: give models (globs) or provider")
        if (self.gpu_hour_usd is None) == (self.bill is None):
            raise ValueError("give its cost one way: gpu_hour_usd (a rate per GPU-hour) or bill (its bill lines)")
        if self.bill is not None and not self.bill.matches_something():
            raise ValueError("bill matches every bill line: give service, resource, sku, account or tags")
        if self.input_weight == 0 and self.output_weight == 0:
            raise ValueError("input_weight and output_weight are both 0: give either a weight above 0")
        if self.running_from and self.running_until and self.running_until < self.running_from:
            raise ValueError("running_until is before running_from")
        if self.compare_with is not None and "/" not in self.compare_with:
            raise ValueError('compare_with is "provider/model", e.g. "openai/gpt-4o-mini"')
        return self


class InfrastructureConfig(_Strict):
    """[infrastructure]: non-token spend owned by features (sql/metrics/feature_costs.sql)."""

    # tag keys whose value names a line's feature (a known feature: with calls in the period, or configured)
    feature_tags: list[str] = Field(
        default_factory=lambda: ["costlens-feature", "costlens:feature", "feature", "ai-feature", "app"]
    )
    rules: list[InfrastructureRule] = Field(default_factory=list)


class CustomersConfig(_Strict):
    """[customers]: gross AI margin per customer and plan (sql/metrics/customer_economics.sql)."""

    # a customer whose AI cost is above this share of its revenue is listed as over (0.25 = a quarter)
    max_ai_cost_share: float = Field(default=0.25, gt=0)
    # `costlens check` fails a customer whose gross AI margin is below this percent of its revenue (None: off)
    margin_floor_pct: float | None = Field(default=None, ge=-100, le=100)


class Config(_Strict):
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    outcomes: OutcomesConfig = Field(default_factory=OutcomesConfig)
    features: dict[str, FeatureConfig] = Field(default_factory=dict)
    economics: EconomicsConfig = Field(default_factory=EconomicsConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    prices: dict[str, Any] = Field(default_factory=dict)  # validated by the pricing catalog
    leaks: dict[str, Any] = Field(default_factory=dict)  # detector thresholds, validated by costlens.leaks
    levers: dict[str, Any] = Field(default_factory=dict)  # validated by costlens.settings.levers
    whatif: dict[str, Any] = Field(default_factory=dict)  # validated by costlens.settings.levers
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    currency: CurrencyConfig = Field(default_factory=CurrencyConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    customers: CustomersConfig = Field(default_factory=CustomersConfig)
    infrastructure: InfrastructureConfig = Field(default_factory=InfrastructureConfig)
    self_hosted: dict[str, SelfHostedDeployment] = Field(default_factory=dict)
    path: str | None = None


def load_config(path: str | Path | None = None) -> Config:
    """Explicit path, else $COSTLENS_CONFIG, else ./costlens.toml, else [tool.costlens] in ./pyproject.toml,
    else defaults."""
    env = os.environ.get("COSTLENS_CONFIG", "").strip()
    if path is None and env:
        file = Path(env)
        if not file.is_file():
            raise ConfigError(
                f"COSTLENS_CONFIG={env!r}: config file not found", fix="point it at a costlens.toml, or unset it"
            )
        return _parse(file, _read_toml(file))
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"config file {file} not found", fix="check the --config path")
        return _parse(file, _read_toml(file))
    local = Path("costlens.toml")
    if local.is_file():
        return _parse(local, _read_toml(local))
    pyproject = Path("pyproject.toml")
    if pyproject.is_file():
        section = _read_toml(pyproject).get("tool", {}).get("costlens")
        if section is not None:
            return _parse(pyproject, section)
    return Config()


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})", fix="fix the syntax at that line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read ({exc})") from None


def _parse(file: Path, data: dict[str, Any]) -> Config:
    try:
        config = Config.model_validate({**data, "path": str(file)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("function-after", "float")))
        fix = (first.get("ctx") or {}).get("fix") or "correct or remove that setting"
        raise ConfigError(f"{file}: [{where}] {first['msg']}", fix=fix) from None
    try:
        _validate_sections(config)
    except ConfigError as exc:  # name the file, as the errors above do
        raise ConfigError(f"{file}: {exc.message}", fix=exc.fix) from None
    return config


def _validate_sections(config: Config) -> None:
    """Sections owned by other modules are checked here too, so a bad key fails at load with one line."""
    from costlens.settings.leaks import resolve_thresholds
    from costlens.settings.levers import lever_settings, whatif_settings

    resolve_thresholds(config)
    lever_settings(config)
    whatif_settings(config)
