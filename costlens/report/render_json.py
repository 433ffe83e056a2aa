"""The JSON contract of docs/json-contract.md#report (schema_version "1"): stable keys for CI consumers.

Money is a JSON number in USD written with every digit of its exact Decimal (`dumps`): 4550000000000.025737
stays 4550000000000.025737, never the nearest binary float (4550000000000.025). The type is unchanged (a
number), so schema_version stays "1"; a consumer that wants the exact value parses numbers as decimals (Python
`json.loads(text, parse_float=Decimal)`, jq ≥ 1.7 keeps the literal). `period.end` is exclusive.
Fields beyond the contract (by_team, by_day, by_month, coverage, extra worksheet columns) are additions;
no contract field is renamed or dropped.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from costlens.exactjson import dumps
from costlens.model.report import Report, UnitEconomics

_CONTRACT_UE = [
    "calls",
    "tasks",
    "cost_usd",
    "cost_per_call_usd",
    "calls_per_task",
    "cost_per_task_usd",
    "acceptance_rate",
    "quality_adjusted_cost_per_task_usd",
    "cost_per_accepted_outcome_usd",
    "retry_rate",
    "avg_input_tokens",
    "premium_spend_share",
    "p95_latency_ms",
    "human_review_rate",
    "cache_hit_rate",
]
_EXTRA_UE = [
    "p50_cost_per_task_usd",
    "p95_cost_per_task_usd",
    "p50_latency_ms",
    "premium_traffic_share",
    "tokens_per_call",
    "spend_share",
    "unpriced_calls",
    "accepted_tasks",
    "tasks_with_outcome",
    "rework_cost_usd",
    "delay_cost_usd",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reported_cost_usd",
    "computed_cost_of_reported_usd",
    "tool_cost_usd",
    "shown_cost_usd",
    "shown_share_pct",  # cost_usd in cents and the share to a tenth, as every table shows them
]


def _row(ue: UnitEconomics, key_name: str) -> dict[str, Any]:
    data = asdict(ue)
    out: dict[str, Any] = {key_name: ue.key}
    if key_name == "model":
        out["provider"] = ue.provider
    out.update({name: data[name] for name in _CONTRACT_UE})
    out.update({name: data[name] for name in _EXTRA_UE})
    return out


def report_to_dict(report: Report) -> dict[str, Any]:
    totals = asdict(report.totals)
    return {
        "schema_version": report.schema_version,
        "generated_at": report.generated_at.isoformat().replace("+00:00", "Z"),
        "engine": report.engine,
        "period": report.period.to_dict(),
        "filters": report.filters,
        "price_book": {"source": report.price_book.source, "version": report.price_book.version},
        "totals": totals,
        "unit_economics": [_row(ue, "feature") for ue in report.unit_economics],
        "by_model": [_row(ue, "model") for ue in report.by_model],
        "leaks": [finding.as_dict() for finding in report.leaks],
        "levers": [lever.to_dict() for lever in report.levers],
        "budgets": [asdict(b) for b in report.budgets],
        "reconciliation": report.reconciliation.to_dict()
        if hasattr(report.reconciliation, "to_dict")
        else report.reconciliation,
        "warnings": report.warnings,
        "by_team": [_row(ue, "team") for ue in report.by_team],
        "by_day": [_row(ue, "day") for ue in report.by_day],
        "by_month": [_row(ue, "month") for ue in report.by_month],
        "coverage": asdict(report.coverage),
        "cost_mode": report.cost_mode,
        "lever_summary": report.lever_summary.to_dict() if report.lever_summary is not None else {},
        "change": report.change.to_dict() if report.change is not None else {},
        "showback": report.showback.to_dict() if report.showback is not None else {},
        "customers": asdict(report.customers) if report.customers is not None else {},
        "feature_costs": asdict(report.feature_costs) if report.feature_costs is not None else {},
        "self_hosted": asdict(report.self_hosted) if report.self_hosted is not None else {},
        "maturity": asdict(report.maturity) if report.maturity is not None else {},
        "diagnosis": report.diagnosis.to_dict() if report.diagnosis is not None else {},
        "reported_vs_computed": [asdict(c) for c in report.reported_vs_computed],
        "usage_by_kind": [asdict(row) for row in report.usage_by_kind],
    }


def render_json(report: Report) -> str:
    return dumps(report_to_dict(report))
