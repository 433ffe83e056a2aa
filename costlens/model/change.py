"""The change in spend against the previous period, split into volume, efficiency, model mix and price
(costlens/change.py computes it; docs/definitions.md states the method). Money is exact Decimal; every split's
four effects add up exactly to its delta. JSON: docs/json-contract.md (`change`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

EFFECTS = ("volume_usd", "efficiency_usd", "mix_usd", "price_usd")


@dataclass
class KindEffect:
    """The efficiency effect of one cost kind: its quantity per task before and after, valued at the previous
    average price of the kind."""

    kind: str  # input | cache_read | cache_write | output | call
    previous_per_task: float | None
    current_per_task: float | None
    effect_usd: Decimal


@dataclass
class ModelEffect:
    """One (provider, model, variant)'s share of the mix and price effects, and its spend before and after."""

    provider: str
    model: str
    variant: str
    mix_usd: Decimal
    price_usd: Decimal
    previous_cost_usd: Decimal
    current_cost_usd: Decimal


@dataclass
class DailySplit:
    """The same split of the change in spend per day with data, for periods the logs cover only in part."""

    previous_days_with_data: int
    current_days_with_data: int
    previous_cost_usd: Decimal
    current_cost_usd: Decimal
    delta_usd: Decimal
    delta_pct: float | None
    volume_usd: Decimal
    efficiency_usd: Decimal
    mix_usd: Decimal
    price_usd: Decimal
    previous_tasks_per_day: float
    current_tasks_per_day: float

    def effects(self) -> dict[str, Decimal]:
        return {name: getattr(self, name) for name in EFFECTS}


@dataclass
class ChangeSplit:
    """current − previous spend as volume + efficiency + mix + price (exactly)."""

    previous_cost_usd: Decimal
    current_cost_usd: Decimal
    delta_usd: Decimal
    delta_pct: float | None
    volume_usd: Decimal
    efficiency_usd: Decimal
    mix_usd: Decimal
    price_usd: Decimal
    previous_tasks: int
    current_tasks: int
    previous_calls: int
    current_calls: int
    previous_cost_per_task_usd: float | None
    current_cost_per_task_usd: float | None
    efficiency_by_kind: list[KindEffect]
    by_model: list[ModelEffect]
    method: str
    per_day: DailySplit | None = None  # with partial periods: the split of spend per day with data

    def effects(self) -> dict[str, Decimal]:
        return {name: getattr(self, name) for name in EFFECTS}

    def to_dict(self) -> dict[str, Any]:
        """The JSON fields: `per_day` only when it was computed."""
        data = asdict(self)
        if self.per_day is None:
            del data["per_day"]
        return data


@dataclass
class TrendPoint:
    """The cost per accepted outcome of one calendar month."""

    month: str  # YYYY-MM
    value: float | None  # None: no task accepted that month
    accepted_tasks: int
    cost_usd: Decimal
    tasks: int
    calls: int


@dataclass
class PeriodBounds:
    start: str  # ISO date
    end: str  # ISO date, exclusive


@dataclass
class Change:
    """report.change: the split against the previous period (the diagnosis' previous period), the trend of the
    cost per accepted outcome, and how much of each period the logs cover. `basis` is "per_day" when either
    period is covered only in part: the comparison is then per day with data (`split.per_day`) and `notes` say
    which period is partial."""

    previous_period: PeriodBounds
    split: ChangeSplit
    cost_per_accepted_outcome_trend: list[TrendPoint] = field(default_factory=list)
    previous_days: int = 0
    previous_days_with_data: int = 0
    current_days: int = 0
    current_days_with_data: int = 0
    basis: str = "total"  # total | per_day
    notes: list[str] = field(default_factory=list)

    @property
    def shown_split(self) -> ChangeSplit | DailySplit:
        """The split every renderer shows: per day with data on that basis, else the totals."""
        if self.basis == "per_day" and self.split.per_day is not None:
            return self.split.per_day
        return self.split

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        """A `change` object as JSON holds it (a saved report): money back to Decimal from every digit; a part
        that is missing reads as zero, a list as empty."""

        def money(source: dict[str, Any], name: str) -> Decimal:
            value = source.get(name)
            return Decimal(0) if value is None else Decimal(str(value))

        def number(source: dict[str, Any], name: str) -> float | None:
            value = source.get(name)
            return None if value is None else float(value)

        day = data.get("per_day")
        per_day = (
            DailySplit(
                previous_days_with_data=int(day.get("previous_days_with_data") or 0),
                current_days_with_data=int(day.get("current_days_with_data") or 0),
                previous_cost_usd=money(day, "previous_cost_usd"),
                current_cost_usd=money(day, "current_cost_usd"),
                delta_usd=money(day, "delta_usd"),
                delta_pct=number(day, "delta_pct"),
                volume_usd=money(day, "volume_usd"),
                efficiency_usd=money(day, "efficiency_usd"),
                mix_usd=money(day, "mix_usd"),
                price_usd=money(day, "price_usd"),
                previous_tasks_per_day=float(day.get("previous_tasks_per_day") or 0),
                current_tasks_per_day=float(day.get("current_tasks_per_day") or 0),
            )
            if isinstance(day, dict)
            else None
        )
        split = ChangeSplit(
            previous_cost_usd=money(data, "previous_cost_usd"),
            current_cost_usd=money(data, "current_cost_usd"),
            delta_usd=money(data, "delta_usd"),
            delta_pct=number(data, "delta_pct"),
            volume_usd=money(data, "volume_usd"),
            efficiency_usd=money(data, "efficiency_usd"),
            mix_usd=money(data, "mix_usd"),
            price_usd=money(data, "price_usd"),
            previous_tasks=int(data.get("previous_tasks") or 0),
            current_tasks=int(data.get("current_tasks") or 0),
            previous_calls=int(data.get("previous_calls") or 0),
            current_calls=int(data.get("current_calls") or 0),
            previous_cost_per_task_usd=number(data, "previous_cost_per_task_usd"),
            current_cost_per_task_usd=number(data, "current_cost_per_task_usd"),
            efficiency_by_kind=[
                KindEffect(
                    kind=str(k.get("kind")),
                    previous_per_task=number(k, "previous_per_task"),
                    current_per_task=number(k, "current_per_task"),
                    effect_usd=money(k, "effect_usd"),
                )
                for k in data.get("efficiency_by_kind") or []
            ],
            by_model=[
                ModelEffect(
                    provider=str(m.get("provider") or ""),
                    model=str(m.get("model")),
                    variant=str(m.get("variant") or ""),
                    mix_usd=money(m, "mix_usd"),
                    price_usd=money(m, "price_usd"),
                    previous_cost_usd=money(m, "previous_cost_usd"),
                    current_cost_usd=money(m, "current_cost_usd"),
                )
                for m in data.get("by_model") or []
            ],
            method=str(data.get("method") or ""),
            per_day=per_day,
        )
        bounds = data.get("previous_period") or {}
        return cls(
            previous_period=PeriodBounds(str(bounds.get("start")), str(bounds.get("end"))),
            split=split,
            cost_per_accepted_outcome_trend=[
                TrendPoint(
                    month=str(t.get("month")),
                    value=number(t, "value"),
                    accepted_tasks=int(t.get("accepted_tasks") or 0),
                    cost_usd=money(t, "cost_usd"),
                    tasks=int(t.get("tasks") or 0),
                    calls=int(t.get("calls") or 0),
                )
                for t in data.get("cost_per_accepted_outcome_trend") or []
            ],
            previous_days=int(data.get("previous_days") or 0),
            previous_days_with_data=int(data.get("previous_days_with_data") or 0),
            current_days=int(data.get("current_days") or 0),
            current_days_with_data=int(data.get("current_days_with_data") or 0),
            basis=str(data.get("basis") or ("per_day" if per_day is not None else "total")),
            notes=[str(n) for n in data.get("notes") or []],
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: the split's fields beside the period and the trend, in the contract's order."""
        return {
            "previous_period": asdict(self.previous_period),
            **self.split.to_dict(),
            "cost_per_accepted_outcome_trend": [asdict(p) for p in self.cost_per_accepted_outcome_trend],
            "previous_days": self.previous_days,
            "previous_days_with_data": self.previous_days_with_data,
            "current_days": self.current_days,
            "current_days_with_data": self.current_days_with_data,
            "basis": self.basis,
            "notes": list(self.notes),
        }
