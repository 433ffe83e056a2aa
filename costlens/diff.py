"""`costlens diff BEFORE.json AFTER.json`: what changed between two saved reports (`costlens report --format json
--out FILE`), in total, per feature and per model: spend, cost per task, cost per accepted outcome, and the
change in spend split into volume / efficiency / mix / price.

The split is costlens.change.decompose — the one the report uses for `change` — run on each report's
`usage_by_kind` rows (quantity and exact cost per feature, provider, model, variant and cost kind), with the
number of tasks of the row (totals, the feature's or the model's). Two consecutive months therefore split exactly
as the later month's report splits its own change. Money stays exact Decimal (the JSON is read with
parse_float=Decimal); ratios are shown as the reports state them.

Rows present on one side only: a feature or model that is new in AFTER has no previous cost per task, so its
change is not split (status `new`); one gone from AFTER splits as volume (its tasks fell to zero). A report saved
before `usage_by_kind` existed still diffs spend and the ratios; the split is then left out and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlens.errors import InputError

FIX = "save both with `costlens report --format json --out FILE`"
EFFECT_NAMES = {"volume_usd": "volume", "efficiency_usd": "efficiency", "mix_usd": "mix", "price_usd": "price"}


def money(value: Any, places: int = 2) -> str:
    """Dollars for display (the one place this module formats money)."""
    from decimal import ROUND_HALF_UP

    if value is None:
        return "—"
    return f"${Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def signed_money(value: Any, places: int = 2) -> str:
    if value is None:
        return "—"
    number = Decimal(value)
    sign = "+" if number > 0 else "−" if number < 0 else "±"
    return sign + money(abs(number), places)


def unit_money(value: Any) -> str:
    """A per-task or per-outcome figure: cents are too coarse below a dollar."""
    if value is None:
        return "—"
    return money(value, 4 if abs(Decimal(value)) < 1 else 2)


@dataclass
class DiffRow:
    key: str
    status: str  # changed | new | gone | same
    before_cost_usd: Decimal
    after_cost_usd: Decimal
    delta_usd: Decimal
    delta_pct: float | None
    before_tasks: int
    after_tasks: int
    before_cost_per_task_usd: Any
    after_cost_per_task_usd: Any
    before_cost_per_accepted_outcome_usd: Any
    after_cost_per_accepted_outcome_usd: Any
    volume_usd: Decimal | None = None
    efficiency_usd: Decimal | None = None
    mix_usd: Decimal | None = None
    price_usd: Decimal | None = None

    def effects(self) -> dict[str, Decimal] | None:
        if self.volume_usd is None:
            return None
        return {name: getattr(self, name) for name in EFFECT_NAMES}

    def to_dict(self, key_name: str) -> dict[str, Any]:
        data = {key_name: self.key}
        data.update({name: value for name, value in self.__dict__.items() if name != "key"})
        return data


@dataclass
class DiffResult:
    before: dict[str, Any]
    after: dict[str, Any]
    total: DiffRow
    by_feature: list[DiffRow]
    by_model: list[DiffRow]
    split: bool  # both reports carry usage_by_kind
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from costlens.change import METHOD

        return {
            "before": self.before,
            "after": self.after,
            "total": self.total.to_dict("scope"),
            "by_feature": [r.to_dict("feature") for r in self.by_feature],
            "by_model": [r.to_dict("model") for r in self.by_model],
            "split": self.split,
            "method": METHOD if self.split else None,
            "warnings": self.warnings,
        }


# ------------------------------------------------------------------------------------------------ reading


def load_report_json(path: str | Path) -> dict[str, Any]:
    """A saved JSON report with exact money (Decimal); InputError (exit 3) when it is not one."""
    import json

    from costlens.check import validate_baseline

    file = Path(path)
    if not file.is_file():
        raise InputError(str(file), "file not found", fix=FIX)
    try:
        data = json.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(file), f"cannot be read ({exc})", fix=FIX) from None
    except json.JSONDecodeError as exc:
        raise InputError(str(file), f"is not JSON ({exc.msg} at line {exc.lineno})", fix=FIX) from None
    if isinstance(data, dict) and isinstance(data.get("totals"), dict):
        cpao = data["totals"].get("cost_per_accepted_outcome_usd")  # validate_baseline wants a float there
        data["totals"]["cost_per_accepted_outcome_usd"] = float(cpao) if isinstance(cpao, Decimal) else cpao
    data = validate_baseline(data, str(file))
    if not isinstance(data.get("period"), dict) or not isinstance(data.get("by_model", []), list):
        raise InputError(str(file), "has no period, or by_model is not a list", fix=FIX)
    return data


def _usage(rows: list[dict[str, Any]], tasks: int, calls: int, keep) -> Any:
    from costlens.change import PeriodUsage

    usage = PeriodUsage(tasks=tasks, calls=calls)
    for row in rows:
        if not keep(row):
            continue
        key = (str(row["provider"]), str(row["model"]), str(row["variant"]), str(row["kind"]))
        usage.quantity[key] = usage.quantity.get(key, 0) + int(row["quantity"])
        usage.cost[key] = usage.cost.get(key, Decimal(0)) + Decimal(row["cost_usd"])
    return usage


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value or 0)


def _row(key: str, before: dict | None, after: dict | None, usage_before, usage_after) -> DiffRow:
    from costlens.change import decompose

    b, a = before or {}, after or {}
    c0, c1 = _dec(b.get("cost_usd")), _dec(a.get("cost_usd"))
    status = "new" if before is None else "gone" if after is None else "same" if c0 == c1 else "changed"
    row = DiffRow(
        key=key,
        status=status,
        before_cost_usd=c0,
        after_cost_usd=c1,
        delta_usd=c1 - c0,
        delta_pct=float((c1 - c0) / c0 * 100) if c0 else None,
        before_tasks=int(b.get("tasks") or 0),
        after_tasks=int(a.get("tasks") or 0),
        before_cost_per_task_usd=b.get("cost_per_task_usd"),
        after_cost_per_task_usd=a.get("cost_per_task_usd"),
        before_cost_per_accepted_outcome_usd=b.get("cost_per_accepted_outcome_usd"),
        after_cost_per_accepted_outcome_usd=a.get("cost_per_accepted_outcome_usd"),
    )
    if usage_before is None or usage_after is None or status == "new":
        return row  # no split: not both reports carry usage, or no previous cost per task to value volume at
    split = decompose(usage_before, usage_after)
    for name in EFFECT_NAMES:
        setattr(row, name, getattr(split, name))
    return row


def diff_reports(
    before: dict[str, Any], after: dict[str, Any], before_name: str = "BEFORE", after_name: str = "AFTER"
) -> DiffResult:
    """The diff of two validated report dicts (module docstring)."""
    warnings: list[str] = []
    split = "usage_by_kind" in before and "usage_by_kind" in after
    if not split:
        old = [name for name, data in ((before_name, before), (after_name, after)) if "usage_by_kind" not in data]
        warnings.append(
            f"{' and '.join(old)} has no usage_by_kind (saved by an older costlens): spend and ratios "
            "are compared, the change is not split into volume / efficiency / mix / price — save it "
            "again with this costlens"
        )
    if before.get("cost_mode", "computed") != after.get("cost_mode", "computed"):
        warnings.append(
            f"cost modes differ ({before.get('cost_mode')} vs {after.get('cost_mode')}): part of the "
            "change is the cost mode, not the traffic"
        )
    p0, p1 = before["period"], after["period"]
    if str(p0.get("start")) > str(p1.get("start")):
        warnings.append(
            f"{before_name} ({p0.get('start')}) is later than {after_name} ({p1.get('start')}): "
            "the change runs backwards in time"
        )
    if p0.get("days") and p1.get("days") and abs(int(p0["days"]) - int(p1["days"])) > 3:  # not two months
        warnings.append(f"the periods differ in length ({p0['days']} vs {p1['days']} days): volume includes that")
    rows0, rows1 = before.get("usage_by_kind") or [], after.get("usage_by_kind") or []

    def usage(rows, tasks, calls, keep):
        return _usage(rows, tasks, calls, keep) if split else None

    t0, t1 = before["totals"], after["totals"]
    total = _row(
        "total",
        t0,
        t1,
        usage(rows0, int(t0.get("tasks") or 0), int(t0.get("calls") or 0), lambda r: True),
        usage(rows1, int(t1.get("tasks") or 0), int(t1.get("calls") or 0), lambda r: True),
    )
    total.status = "same" if total.delta_usd == 0 else "changed"

    def side_by_side(section: str, key_name: str, row_key) -> list[DiffRow]:
        left = {str(r[key_name]): r for r in before.get(section) or []}
        right = {str(r[key_name]): r for r in after.get(section) or []}
        out = []
        for key in list(right) + [k for k in left if k not in right]:
            b, a = left.get(key), right.get(key)

            def keep(r, key=key):
                return str(row_key(r)) == key

            out.append(
                _row(
                    key,
                    b,
                    a,
                    usage(rows0, int((b or {}).get("tasks") or 0), int((b or {}).get("calls") or 0), keep),
                    usage(rows1, int((a or {}).get("tasks") or 0), int((a or {}).get("calls") or 0), keep),
                )
            )
        return sorted(out, key=lambda r: (-abs(r.delta_usd), -r.after_cost_usd, r.key))

    return DiffResult(
        before={
            "file": before_name,
            "period": p0,
            "cost_mode": before.get("cost_mode"),
            "price_book": before.get("price_book"),
        },
        after={
            "file": after_name,
            "period": p1,
            "cost_mode": after.get("cost_mode"),
            "price_book": after.get("price_book"),
        },
        total=total,
        by_feature=side_by_side("unit_economics", "feature", lambda r: r["feature"]),
        by_model=side_by_side("by_model", "model", lambda r: r["model"]),
        split=split,
        warnings=warnings,
    )


def diff_files(before: str | Path, after: str | Path) -> DiffResult:
    return diff_reports(load_report_json(before), load_report_json(after), str(before), str(after))


# ------------------------------------------------------------------------------------------------ rendering


def _period(p: dict[str, Any]) -> str:
    return str(p.get("label") or f"{p.get('start')} → {p.get('last_day') or p.get('end')}")


def _cents(row: DiffRow) -> dict[str, Decimal] | None:
    """The four effects to the cent, adding up to the rounded change (change.rounded_effects)."""
    from costlens.change import effects_in_cents
    from costlens.money import round_cents

    effects = row.effects()
    if effects is None:
        return None
    return effects_in_cents(effects, round_cents(row.delta_usd))


def _cells(row: DiffRow) -> list[str]:
    pct = "" if row.delta_pct is None else f" ({row.delta_pct:+.1f}%)"
    cents = _cents(row)
    effects = (
        [signed_money(cents[name]) for name in EFFECT_NAMES]
        if cents
        else ["new" if row.status == "new" else "—"] + ["—"] * 3
    )
    return [
        money(row.before_cost_usd),
        money(row.after_cost_usd),
        signed_money(row.delta_usd) + pct,
        f"{unit_money(row.before_cost_per_task_usd)} → {unit_money(row.after_cost_per_task_usd)}",
        f"{unit_money(row.before_cost_per_accepted_outcome_usd)} → "
        f"{unit_money(row.after_cost_per_accepted_outcome_usd)}",
        *effects,
    ]


HEADERS = [
    "Before",
    "After",
    "Change",
    "Cost / task",
    "Cost / accepted outcome",
    "Volume",
    "Efficiency",
    "Mix",
    "Price",
]


def _headline(result: DiffResult) -> str:
    total = result.total
    pct = "" if total.delta_pct is None else f" ({total.delta_pct:+.1f}%)"
    text = f"spend {money(total.before_cost_usd)} → {money(total.after_cost_usd)}: {signed_money(total.delta_usd)}{pct}"
    cents = _cents(total)
    if cents:
        text += " = " + ", ".join(f"{EFFECT_NAMES[name]} {signed_money(cents[name])}" for name in EFFECT_NAMES)
    return text


def render_markdown(result: DiffResult) -> str:
    """A PR comment or job summary. Names from the logs go through costlens.inert.md (inert Markdown)."""
    from costlens.inert import md

    lines = [
        f"## costlens diff · {md(_period(result.before['period']))} → {md(_period(result.after['period']))}",
        "",
        _headline(result),
        "",
    ]
    for title, rows in (("Feature", [result.total] + result.by_feature), ("Model", result.by_model)):
        lines.append("| " + " | ".join([title] + HEADERS) + " |")
        lines.append("|:---|" + "|".join(["---:"] * len(HEADERS)) + "|")
        for row in rows:
            name = "**total**" if row is result.total else md(row.key)
            lines.append("| " + " | ".join([name] + _cells(row)) + " |")
        lines.append("")
    lines += [f"> {md(w, limit=400)}" for w in result.warnings]
    if result.split:
        lines.append(
            "Volume = Δtasks × previous cost per task; efficiency = tokens and calls per task; mix = the "
            "shift between models at previous prices; price = price changes at current usage. The four add "
            "up to the change."
        )
    return "\n".join(lines).rstrip("\n") + "\n"


def render_terminal(result: DiffResult, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(
        Text(
            f"costlens diff: {_period(result.before['period'])} ({result.before['file']}) → "
            f"{_period(result.after['period'])} ({result.after['file']})",
            style="bold",
        )
    )
    console.print(Text(_headline(result)))
    for title, rows in (("Feature", [result.total] + result.by_feature), ("Model", result.by_model)):
        table = Table(header_style="bold", pad_edge=False)
        for name in [title] + HEADERS:
            table.add_column(name, justify="left" if name == title else "right")
        for row in rows:
            table.add_row(Text("total" if row is result.total else row.key), *_cells(row))
        console.print(table)
    for warning in result.warnings:
        console.print(Text(f"warning: {warning}"))
