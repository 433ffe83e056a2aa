"""A leak finding (docs/definitions.md#leaks): where money is wasted, how much, how sure, and which lever fixes it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

KINDS = (
    "context_bloat",
    "premium_overuse",
    "retries",
    "cache_miss",
    "batchable",
    "output_verbosity",
    "agent_loops",
    "input_quality",
)
# Detectors of what [self_hosted] deployments serve: run only when the config has one.
DEPLOYMENT_KINDS = ("gpu_underuse",)

LEVELS = ("low", "medium", "high")

LEVERS = (
    "context_discipline",
    "model_routing",
    "stability_guardrails",
    "response_cache",
    "prompt_caching",
    "batch_processing",
    "output_controls",
    "agent_budgets",
    "gpu_right_sizing",
)

# The columns every sql/leaks/<kind>.sql returns, in this order (the Finding fields).
COLUMNS = (
    "kind",
    "feature",
    "model",
    "task_class",
    "calls_affected",
    "wasted_usd",
    "est_monthly_savings_usd",
    "confidence",
    "severity",
    "evidence",
    "explanation",
    "lever",
    "savings_low_usd",
    "savings_high_usd",
    "quality_risk",
    "affected_cost_usd",
)

_MONEY = ("wasted_usd", "est_monthly_savings_usd", "savings_low_usd", "savings_high_usd", "affected_cost_usd")


@dataclass
class Finding:
    """One leak in one feature (and model / task class where it matters).

    Money is exact Decimal USD: `wasted_usd` was observed in the period, `est_monthly_savings_usd` scales it to
    30.44 days, `savings_low_usd` / `savings_high_usd` bound the monthly saving the lever can realistically
    reach. `evidence` holds the counts, every threshold used (`thresholds`: name → value) and up to five
    `example_call_ids`; cache_miss and context_bloat findings also name their `sub_kind` there.
    """

    kind: str
    feature: str
    model: str | None
    task_class: str | None
    calls_affected: int
    wasted_usd: Decimal
    est_monthly_savings_usd: Decimal
    confidence: str
    severity: str
    evidence: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""
    lever: str = ""
    savings_low_usd: Decimal = Decimal(0)
    savings_high_usd: Decimal = Decimal(0)
    quality_risk: str = "low"
    affected_cost_usd: Decimal = Decimal(0)

    @property
    def sub_kind(self) -> str | None:
        return self.evidence.get("sub_kind")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Finding:
        values: dict[str, Any] = {name: row.get(name) for name in COLUMNS}
        for money in _MONEY:
            values[money] = Decimal(values[money] if values[money] is not None else 0)
        evidence = values["evidence"]
        values["evidence"] = json.loads(evidence) if isinstance(evidence, str) else dict(evidence or {})
        values["calls_affected"] = int(values["calls_affected"] or 0)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The `leaks[]` entry of docs/json-contract.md#leak-findings (Decimals kept; the JSON renderer turns them
        into numbers)."""
        return asdict(self)
