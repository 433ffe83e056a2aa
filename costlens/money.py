"""How money is shown: one rounding policy for every output (terminal, Markdown, HTML, CSV, sentences).

Sums stay exact Decimals everywhere; only display rounds, and always the same way:

- An **amount** (spend, budget, savings, waste, a change) is shown to the cent, rounded half up
  ($1.005 → $1.01): `usd()`. A float is read through its shortest repr, so 1.755 rounds like Decimal("1.755").
- A **unit cost** (per call, task, accepted outcome, token) is shown to four decimal places below $1 and to the
  cent from $1 (`unit_usd()`), half up; a unit cost below $0.0001 keeps two significant digits so it never
  shows as $0.0000.
- A value that is not known (no price, no outcome, nothing to divide by) is shown as `MISSING` ("—").
- Negative amounts are written with a minus sign (−$1.00); changes carry a sign (+$1.00, −$1.00, ±$0.00).
- Shares are percentages to one decimal place (`pct()`).

A table that has a total shows rows that add up to it: `allocate_cents()` rounds each row to the cent so the
rounded rows add up exactly to the rounded total (largest remainder), and `allocate_tenths()` does the same for
shares, so they add up to 100.0%. The report computes each entity's shown cents once (report.build) and every
renderer reuses them, so a feature's spend is the same number in every table and every output.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
UNIT_PLACES = Decimal("0.0001")
MISSING = "—"
MINUS = "−"  # U+2212: the same width as + in tabular figures


def to_decimal(value: Any) -> Decimal | None:
    """An exact Decimal for a money value: Decimal as is, int exactly, float through its shortest repr; None
    for None, NaN, infinity and anything that is not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    try:
        number = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def round_cents(value: Any) -> Decimal:
    """The amount to the cent, half up (None counts as 0)."""
    number = to_decimal(value)
    return (number or Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def _dollars(amount: Decimal, places: Decimal) -> str:
    exponent = places.as_tuple().exponent
    assert isinstance(exponent, int)  # places is a finite quantum (CENT, TENTH...), never NaN or infinity
    text = f"{abs(amount):,.{-exponent}f}"
    return f"{MINUS if amount < 0 else ''}${text}"


def usd(value: Any) -> str:
    """An amount: $1,234.57 (half up to the cent), −$1.00, or — when unknown."""
    number = to_decimal(value)
    if number is None:
        return MISSING
    rounded = number.quantize(CENT, rounding=ROUND_HALF_UP)
    return _dollars(rounded if rounded else Decimal("0.00"), CENT)


def signed_usd(value: Any) -> str:
    """A change: +$1.00, −$1.00, ±$0.00 (to the cent, half up on the magnitude), or — when unknown."""
    number = to_decimal(value)
    if number is None:
        return MISSING
    rounded = abs(number).quantize(CENT, rounding=ROUND_HALF_UP)
    if not rounded:
        return "±$0.00"
    return f"{'+' if number > 0 else MINUS}${rounded:,.2f}"


def unit_usd(value: Any) -> str:
    """A unit cost: $0.0315 below $1, $56.03 from $1, $0.000047 below $0.0001 (two significant digits)."""
    number = to_decimal(value)
    if number is None:
        return MISSING
    magnitude = abs(number)
    if magnitude and magnitude < Decimal("0.00005"):  # would round to $0.0000
        exponent = magnitude.adjusted() - 1  # two significant digits
        places = Decimal(1).scaleb(exponent)
        rounded = number.quantize(places, rounding=ROUND_HALF_UP)
        return f"{MINUS if number < 0 else ''}${abs(rounded):f}"
    rounded = number.quantize(UNIT_PLACES, rounding=ROUND_HALF_UP)
    if abs(rounded) >= 1:
        return _dollars(number.quantize(CENT, rounding=ROUND_HALF_UP), CENT)
    return _dollars(rounded if rounded else Decimal("0.0000"), UNIT_PLACES)


def usd_range(low: Any, high: Any) -> str:
    """`$158.00–$262.75` (amounts, to the cent), or — when neither end is known."""
    if to_decimal(low) is None and to_decimal(high) is None:
        return MISSING
    return f"{usd(low)}–{usd(high)}"


def pct(share: Any) -> str:
    """A share (0.637) as a percentage to one decimal place, half up: 63.7%."""
    number = to_decimal(share)
    if number is None:
        return MISSING
    return f"{(number * 100).quantize(TENTH, rounding=ROUND_HALF_UP)}%"


def pct_shown(tenths: Decimal | None) -> str:
    """A percentage already rounded to the tenth (allocate_tenths)."""
    return MISSING if tenths is None else f"{tenths:.1f}%"


def axis_usd(value: float, _pos: object = None) -> str:
    """A chart axis tick (a point on the scale, not a figure of the report): $1.2M, $15k, $250, $2.5, $0.04."""
    magnitude = abs(value)
    if magnitude >= 1_000_000:
        return f"${value / 1_000_000:,.1f}M"
    if magnitude >= 10_000:
        return f"${value / 1_000:,.0f}k"
    if magnitude >= 100 or value == 0:
        return f"${value:,.0f}"
    if magnitude >= 1:
        return f"${value:,.2f}".rstrip("0").rstrip(".")
    return f"${value:.3g}"


def allocate(values: list[Any], total: Any, step: Decimal) -> list[Decimal]:
    """Each value rounded to a multiple of `step`, the results adding up to `total` rounded half up to it
    (largest remainder; see allocate_cents)."""
    exact = [to_decimal(v) or Decimal(0) for v in values]
    if not exact:
        return []
    whole = sum(exact, Decimal(0)) if total is None else (to_decimal(total) or Decimal(0))
    target = whole.quantize(step, rounding=ROUND_HALF_UP)
    floors = [v.quantize(step, rounding=ROUND_FLOOR) for v in exact]
    left = int(((target - sum(floors, Decimal(0))) / step).to_integral_value())
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    out = list(floors)
    if left >= 0:
        for turn in range(left):
            out[order[turn % len(order)]] += step
    else:  # an explicit total below the parts: take from the smallest remainders
        for turn in range(-left):
            out[order[::-1][turn % len(order)]] -= step
    return out


def allocate_cents(values: list[Any], total: Any = None) -> list[Decimal]:
    """Each value to the cent so the rounded values add up exactly to the total rounded half up to the cent
    (largest remainder: floor every value, hand the cents left over to the largest remainders, ties to the
    earlier row). `total` defaults to the exact sum; pass it when the parts must add up to a figure computed
    elsewhere. Negative values work too."""
    return allocate(values, total, CENT)


def allocate_tenths(values: list[Any], total: Any = None) -> list[Decimal | None]:
    """Shares of `total` in percent to one decimal place, adding up exactly to 100.0 (largest remainder);
    Nones when the total is zero or unknown."""
    whole = sum((to_decimal(v) or Decimal(0) for v in values), Decimal(0)) if total is None else to_decimal(total)
    if not whole:
        return [None] * len(values)
    percents = [(to_decimal(v) or Decimal(0)) * 100 / whole for v in values]
    return list(allocate(percents, Decimal(100), TENTH))  # list[Decimal] is no list[Decimal | None]


def listing(names: list[str], limit: int = 3, noun: str = "others") -> str:
    """`a, b and c`, or `a, b, c and 87 others` past `limit` names: sentences stay readable at any size."""
    names = [str(n) for n in names]
    if len(names) <= limit:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + (" and " + names[-1] if names else "")
    return f"{', '.join(names[:limit])} and {len(names) - limit} {noun}"
