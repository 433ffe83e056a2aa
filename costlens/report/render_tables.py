"""CSV / Parquet exports of the report's tables: unit_economics (per feature), by_model, by_team, by_day, leaks,
levers, budgets, showback (spend by feature, owner, team and cost center, in cents that add up to the total)
and showback_invoice (the bill's AI spend by the same keys, owned + allocated; empty without a bill).

`export_tables(report, out, fmt)` writes one file per table and returns their paths:
- `out` is a folder (existing, or a path without a .csv / .parquet suffix): `<out>/<table>.<fmt>`;
- `out` is a file name ending in .csv / .parquet: `<stem>.<table>.<fmt>` beside it
  (e.g. `--out costlens.csv` → costlens.unit_economics.csv, costlens.leaks.csv, …).

CSV is safe to open in a spreadsheet: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
(also after leading spaces) gets a leading `'`, so `=cmd|' /C calc'!A0` stays text (OWASP "CSV injection").
Numbers stay numbers: money is written as its exact decimal (`0.025`, never `2.5E-2`), ratios as floats, and
neither is ever prefixed. Lists are joined with "; ", dicts (evidence) are JSON — then neutralised like any text.
Parquet keeps types: money as decimal128(38, 18) (exact), counts int64, ratios float64, days as dates, text as
strings.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlens.errors import UsageError
from costlens.inert import neutralise
from costlens.model.report import (
    CustomerEconomics,
    FeatureCost,
    InfrastructureSpend,
    InvoiceShowback,
    PlanEconomics,
    Report,
    SelfHostedMonth,
    Showback,
    ShowbackRow,
    UnitEconomics,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from costlens.outputs import Protected

FORMATS = ("csv", "parquet")
Q18 = Decimal("1E-18")
MONEY, INT, FLOAT, TEXT, BOOL, DATE = "money", "int", "float", "text", "bool", "date"


def _kind(annotation: str) -> str:
    base = annotation.replace(" | None", "").strip()
    return {"Decimal": MONEY, "int": INT, "float": FLOAT, "str": TEXT, "bool": BOOL}.get(base, TEXT)


_UE_COLUMNS = [(f.name, _kind(str(f.type))) for f in fields(UnitEconomics) if f.name not in ("key", "provider")]
# one row per customer (AI cost adds up to the period total) and per plan, as the report's Customers section
CUSTOMER_COLUMNS = [(f.name, _kind(str(f.type))) for f in fields(CustomerEconomics)]
PLAN_COLUMNS = [(f.name, _kind(str(f.type))) for f in fields(PlanEconomics)]
# each feature's whole cost, and the bill lines attributed to features as infrastructure
FEATURE_COST_COLUMNS = [(f.name, _kind(str(f.type))) for f in fields(FeatureCost)]
INFRASTRUCTURE_COLUMNS = [(f.name, _kind(str(f.type))) for f in fields(InfrastructureSpend)]
SELF_HOSTED_COLUMNS = [(f.name, _kind(str(f.type))) for f in fields(SelfHostedMonth)]

LEAK_COLUMNS = [
    ("kind", TEXT),
    ("feature", TEXT),
    ("model", TEXT),
    ("task_class", TEXT),
    ("severity", TEXT),
    ("confidence", TEXT),
    ("calls_affected", INT),
    ("wasted_usd", MONEY),
    ("est_monthly_savings_usd", MONEY),
    ("savings_low_usd", MONEY),
    ("savings_high_usd", MONEY),
    ("affected_cost_usd", MONEY),
    ("lever", TEXT),
    ("quality_risk", TEXT),
    ("explanation", TEXT),
    ("example_call_ids", TEXT),
    ("evidence", TEXT),
]
LEVER_COLUMNS = [
    ("rank", INT),
    ("lever", TEXT),
    ("est_monthly_savings_usd", MONEY),
    ("savings_low_usd", MONEY),
    ("savings_high_usd", MONEY),
    ("shown_monthly_savings_usd", MONEY),
    ("share_of_spend", FLOAT),
    ("effort", TEXT),
    ("quality_risk", TEXT),
    ("features", TEXT),
    ("first_action", TEXT),
    ("quality_reason", TEXT),
    ("savings_per_effort_day_usd", MONEY),
    ("findings", INT),
    ("evidence", TEXT),
]
BUDGET_COLUMNS = [
    ("feature", TEXT),
    ("owner", TEXT),
    ("team", TEXT),
    ("cost_center", TEXT),
    ("criticality", TEXT),
    ("monthly_budget_usd", MONEY),
    ("spend_usd", MONEY),
    ("shown_spend_usd", MONEY),
    ("forecast_month_end_usd", MONEY),
    ("shown_forecast_usd", MONEY),
    ("used_pct", FLOAT),
    ("soft_alert_pct", FLOAT),
    ("hard_limit_usd", MONEY),
    ("status", TEXT),
    ("reason", TEXT),
    ("cost_slo_per_accepted_outcome_usd", MONEY),
    ("cost_per_accepted_outcome_usd", FLOAT),
    ("slo_status", TEXT),
]
# One row per (dimension, key): cost_usd in cents (a dimension's rows add up to the rounded total),
# cost_exact_usd exact; allocated_usd is the row's share of billed spend no feature owns (with a bill).
SHOWBACK_COLUMNS = [
    ("dimension", TEXT),
    ("key", TEXT),
    ("cost_usd", MONEY),
    ("cost_exact_usd", MONEY),
    ("share", FLOAT),
    ("allocated_usd", MONEY),
    ("features", TEXT),
]
SHOWBACK_INVOICE_COLUMNS = [
    ("dimension", TEXT),
    ("key", TEXT),
    ("owned_usd", MONEY),
    ("allocated_usd", MONEY),
    ("cost_usd", MONEY),
    ("features", TEXT),
]
SHOWBACK_DIMENSIONS = ("feature", "owner", "team", "cost_center")


def _json(value: Any) -> str:
    return json.dumps(
        value,
        default=lambda v: format(v, "f") if isinstance(v, Decimal) else str(v),
        sort_keys=True,
        ensure_ascii=False,
    )


def _ue_rows(rows: list[UnitEconomics], key_name: str) -> list[dict[str, Any]]:
    out = []
    for ue in rows:
        row: dict[str, Any] = {key_name: ue.key}
        if key_name == "model":
            row["provider"] = ue.provider
        row.update({name: getattr(ue, name) for name, _ in _UE_COLUMNS})
        out.append(row)
    return out


def _showback_rows(showback: Showback | InvoiceShowback | None) -> list[dict[str, Any]]:
    if showback is None:
        return []
    return [
        {"dimension": dimension, **(row.to_dict() if isinstance(row, ShowbackRow) else asdict(row))}
        for dimension in SHOWBACK_DIMENSIONS
        for row in getattr(showback, f"by_{dimension}")
    ]


def report_tables(report: Report) -> dict[str, tuple[list[tuple[str, str]], list[dict[str, Any]]]]:
    """table name → (columns [(name, kind)], rows)."""
    leaks = []
    for finding in report.leaks:
        row = finding.as_dict()
        evidence = row.get("evidence") or {}
        row["example_call_ids"] = "; ".join(str(x) for x in (evidence.get("example_call_ids") or []))
        row["evidence"] = _json(evidence)
        leaks.append(row)
    levers = []
    for lever in report.levers:
        row = lever.to_dict()
        row["features"] = "; ".join(str(x) for x in lever.features)
        row["evidence"] = _json(lever.evidence)
        levers.append(row)
    costs = report.feature_costs
    return {
        "unit_economics": ([("feature", TEXT)] + _UE_COLUMNS, _ue_rows(report.unit_economics, "feature")),
        "by_model": ([("model", TEXT), ("provider", TEXT)] + _UE_COLUMNS, _ue_rows(report.by_model, "model")),
        "by_team": ([("team", TEXT)] + _UE_COLUMNS, _ue_rows(report.by_team, "team")),
        "by_day": ([("day", DATE)] + _UE_COLUMNS, _ue_rows(report.by_day, "day")),
        "leaks": (LEAK_COLUMNS, leaks),
        "levers": (LEVER_COLUMNS, levers),
        "budgets": (BUDGET_COLUMNS, [asdict(b) for b in report.budgets]),
        "showback": (SHOWBACK_COLUMNS, _showback_rows(report.showback)),
        "showback_invoice": (
            SHOWBACK_INVOICE_COLUMNS,
            _showback_rows(report.showback.invoice if report.showback is not None else None),
        ),
        "customers": (
            CUSTOMER_COLUMNS,
            [asdict(c) for c in report.customers.customers] if report.customers is not None else [],
        ),
        "plans": (PLAN_COLUMNS, [asdict(p) for p in report.customers.by_plan] if report.customers is not None else []),
        "feature_costs": (FEATURE_COST_COLUMNS, [asdict(f) for f in costs.features] if costs is not None else []),
        "infrastructure": (INFRASTRUCTURE_COLUMNS, [asdict(s) for s in costs.infrastructure] if costs else []),
        "self_hosted": (
            SELF_HOSTED_COLUMNS,
            [asdict(m) for m in report.self_hosted.months] if report.self_hosted is not None else [],
        ),
    }


def csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in (MONEY, INT, FLOAT) and not isinstance(value, (str, bool)):
        if isinstance(value, Decimal):
            if not value.is_finite():
                return ""
            text = format(value.normalize(), "f")
            return "0" if text in ("-0", "0") else text
        if isinstance(value, float):
            return "" if not math.isfinite(value) else repr(value)
        if isinstance(value, int):
            return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return neutralise("; ".join(str(x) for x in value))
    if isinstance(value, dict):
        return neutralise(_json(value))
    return neutralise(str(value))


def _arrow_type(kind: str):
    import pyarrow as pa

    return {
        MONEY: pa.decimal128(38, 18),
        INT: pa.int64(),
        FLOAT: pa.float64(),
        BOOL: pa.bool_(),
        TEXT: pa.string(),
        DATE: pa.date32(),
    }[kind]


def _arrow_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == MONEY:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        return number.quantize(Q18) if number.is_finite() else None
    if kind == INT:
        return int(value)
    if kind == FLOAT:
        real = float(value)
        return real if math.isfinite(real) else None
    if kind == BOOL:
        return bool(value)
    if kind == DATE:
        from datetime import date

        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if isinstance(value, (list, tuple)):
        return "; ".join(str(x) for x in value)
    if isinstance(value, dict):
        return _json(value)
    return str(value)


TABLES = (
    "unit_economics",
    "by_model",
    "by_team",
    "by_day",
    "leaks",
    "levers",
    "budgets",
    "showback",
    "showback_invoice",
)


def table_targets(out: str | Path, fmt: str, names: list[str] | tuple[str, ...] = TABLES) -> dict[str, Path]:
    """table name → the file it is written to (module docstring); creates nothing."""
    out = Path(out)
    suffix = out.suffix.lower()
    if out.is_dir() or suffix not in (".csv", ".parquet"):
        return {name: out / f"{name}.{fmt}" for name in names}
    if suffix != f".{fmt}":
        raise UsageError(f"--out {out} does not match --format {fmt}", fix=f"use a folder or a .{fmt} file name")
    return {name: out.with_name(f"{out.stem}.{name}.{fmt}") for name in names}


def write_csv(path: Path, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([name for name, _ in columns])
        for row in rows:
            writer.writerow([csv_cell(row.get(name), kind) for name, kind in columns])


def arrow_table(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> pa.Table:
    """One report table as Arrow, typed by its columns' kinds (the Parquet export and api.report_frames)."""
    import pyarrow as pa

    schema = pa.schema([(name, _arrow_type(kind)) for name, kind in columns])
    arrays = [
        pa.array([_arrow_value(row.get(name), kind) for row in rows], type=_arrow_type(kind)) for name, kind in columns
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(path: Path, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
    import pyarrow.parquet as pq

    pq.write_table(arrow_table(columns, rows), path)


def export_tables(
    report: Report, out_dir_or_file: str | Path, fmt: str = "csv", *, protected: Protected | None = None
) -> list[Path]:
    """Write the report's tables as CSV or Parquet (module docstring); returns the paths written. Every file
    is written whole or not at all (all of them, or none: costlens.outputs.write_outputs); `protected` (the
    database, config and inputs) refuses targets that would replace one of them."""
    from costlens.outputs import write_outputs

    if fmt not in FORMATS:
        raise UsageError(f"table export format {fmt!r} is not supported", fix="use csv or parquet")
    tables = report_tables(report)
    targets = table_targets(out_dir_or_file, fmt, list(tables))
    if protected is not None:
        protected.check(targets.values(), example="exports/")
    writer = write_csv if fmt == "csv" else write_parquet

    def bind(columns: list[tuple[str, str]], rows: list[dict[str, Any]]):
        return lambda tmp: writer(tmp, columns, rows)

    return write_outputs({targets[name]: bind(columns, rows) for name, (columns, rows) in tables.items()})
