"""JSON with exact money: every Decimal is written as a JSON number carrying all its digits, never through a
float (a DECIMAL(38, 18) keeps its 38 digits); dates as ISO 8601 text. Every JSON output uses `dumps`."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _default(value: Any) -> Any:
    """Dates as ISO 8601 text (Decimals are written by `dumps`, never through a float)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def decimal_token(value: Decimal) -> str:
    """A Decimal as a JSON number token with every digit: plain notation, no trailing zeros after the point.
    Not rounded (no context precision applies), so a DECIMAL(38, 18) keeps all 38 digits."""
    if not value.is_finite():
        raise ValueError(f"Out of range value is not JSON compliant: {value}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def dumps(value: Any, *, indent: int | None = 2, default: Any = None) -> str:
    """json.dumps where every Decimal is a JSON number carrying its exact digits (never via float). Other
    values that JSON cannot hold go through `default` (dates as ISO text when it is None); NaN and infinity
    are refused as json.dumps(allow_nan=False) refuses them."""
    token = uuid.uuid4().hex  # a placeholder no real string can collide with
    numbers: list[str] = []
    fallback = default or _default

    def encode(item: Any) -> Any:
        if isinstance(item, Decimal):
            numbers.append(decimal_token(item))
            return f"{token}:{len(numbers) - 1}"
        return fallback(item)

    text = json.dumps(value, default=encode, indent=indent, allow_nan=False)
    if not numbers:
        return text
    return re.sub(rf'"{token}:(\d+)"', lambda m: numbers[int(m.group(1))], text)
