"""Report periods: --period YYYY-MM | last-month | this-month, or --since / --until dates."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from costlens.errors import UsageError
from costlens.report.model import Period

if TYPE_CHECKING:
    import duckdb


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def resolve_period(
    con: "duckdb.DuckDBPyConnection", period: str | None, since: str | None, until: str | None,
    today: date | None = None,
) -> Period:
    """Without options: the latest calendar month that has calls (so a demo or a CI run just works)."""
    today = today or datetime.now(timezone.utc).date()
    if period and (since or until):
        raise UsageError("--period cannot be combined with --since/--until", fix="use one or the other")
    if period:
        text = period.strip().lower()
        if text == "last-month":
            start = _month_start(_month_start(today) - timedelta(days=1))
            return Period(start, _next_month(start))
        if text == "this-month":
            start = _month_start(today)
            return Period(start, _next_month(start))
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = map(int, text.split("-"))
            if not 1 <= month <= 12:
                raise UsageError(f"--period {period}: month must be 01..12")
            start = date(year, month, 1)
            return Period(start, _next_month(start))
        raise UsageError(f"--period {period!r} is not understood", fix="use YYYY-MM, last-month or this-month")
    if since or until:
        start = _parse_date(since, "--since") if since else date(1970, 1, 1)
        end = _parse_date(until, "--until") if until else today + timedelta(days=1)
        if end <= start:
            raise UsageError("--until must be after --since", fix="--until is exclusive: the day after the last day")
        return Period(start, end)
    latest = con.execute("SELECT CAST(max(ts) AS DATE) FROM calls").fetchone()[0]
    start = _month_start(latest or today)
    return Period(start, _next_month(start))


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date", fix="use YYYY-MM-DD") from None
