"""Report periods, one shape for every command.

A period is [start, end): `end` is exclusive, `last_day` the inclusive last day. It is chosen by one of:
  --period  YYYY-MM · YYYY-Qn · YYYY · last-month · this-month · last-quarter · this-quarter · last-year ·
            this-year (also read from COSTLENS_PERIOD)
  --since DATE [--to DATE | --until DATE]   --to is the last day (inclusive), --until the day after (exclusive)
  --last Nd | Nw | Nm                        the last N days / weeks / months up to today, today included
Without any: the latest calendar month that has calls (so a demo or a CI run just works). A range with no start
begins on the first day with calls, never at 1970.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from costlens.db import one_row
from costlens.errors import UsageError
from costlens.model.report import Period

if TYPE_CHECKING:
    import duckdb

PERIOD_HELP = (
    "YYYY-MM, YYYY-Qn, YYYY, last-month, this-month, last-quarter, this-quarter, last-year or this-year "
    "(default: the latest month with calls, or COSTLENS_PERIOD)"
)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter(year: int, quarter: int) -> Period:
    start = date(year, 3 * (quarter - 1) + 1, 1)
    return Period(start, _add_months(start, 3), label=f"{year}-Q{quarter}")


def parse_named_period(text: str, today: date) -> Period:
    """A named period: YYYY-MM, YYYY-Qn, YYYY, or a relative name."""
    name = text.strip().lower()
    this_q = (today.month - 1) // 3 + 1
    if name == "last-month":
        start = _add_months(_month_start(today), -1)
        return Period(start, _next_month(start), label=start.strftime("%Y-%m"))
    if name == "this-month":
        start = _month_start(today)
        return Period(start, _next_month(start), label=start.strftime("%Y-%m"))
    if name == "this-quarter":
        return _quarter(today.year, this_q)
    if name == "last-quarter":
        return _quarter(today.year, this_q - 1) if this_q > 1 else _quarter(today.year - 1, 4)
    if name in ("this-year", "last-year"):
        year = today.year - (name == "last-year")
        return Period(date(year, 1, 1), date(year + 1, 1, 1), label=str(year))
    if re.fullmatch(r"\d{4}-\d{2}", name):
        year, month = map(int, name.split("-"))
        if not 1 <= month <= 12:
            raise UsageError(f"--period {text}: month must be 01..12", fix="e.g. --period 2026-10")
        start = date(year, month, 1)
        return Period(start, _next_month(start), label=name)
    if re.fullmatch(r"\d{4}-q[1-4]", name):
        return _quarter(int(name[:4]), int(name[-1]))
    if re.fullmatch(r"\d{4}", name):
        year = int(name)
        return Period(date(year, 1, 1), date(year + 1, 1, 1), label=name)
    raise UsageError(f"--period {text!r} is not understood", fix=f"use {PERIOD_HELP.split(' (')[0]}")


def _last(text: str, today: date) -> Period:
    match = re.fullmatch(r"\s*(\d+)\s*([dwm])\s*", text.lower())
    if not match or int(match.group(1)) < 1:
        raise UsageError(f"--last {text!r} is not understood", fix="use a count and a unit: 7d, 4w or 3m")
    count, unit = int(match.group(1)), match.group(2)
    end = today + timedelta(days=1)
    if unit == "d":
        start = end - timedelta(days=count)
    elif unit == "w":
        start = end - timedelta(weeks=count)
    else:  # the same day N months back (the month's last day when it is shorter), then the day after it
        back = _add_months(_month_start(today), -count)
        start = back + timedelta(days=min(today.day, _days_in_month(back)))
    return Period(start, end, label=f"last {count}{unit}")


def _days_in_month(first: date) -> int:
    return (_next_month(first) - first).days


def resolve_period(
    con: duckdb.DuckDBPyConnection | None,
    period: str | None,
    since: str | None,
    until: str | None,
    today: date | None = None,
    *,
    to: str | None = None,
    last: str | None = None,
) -> Period:
    """The report period from the options (see the module docstring). `con` may be None to check the options
    before a database is opened; the defaults that need data (the latest month, a range's first day) then fall
    back to today's month."""
    today = today or datetime.now(UTC).date()
    ranged = since or until or to
    chosen = [
        name for name, value in (("--period", period), ("--since/--to/--until", ranged), ("--last", last)) if value
    ]
    if len(chosen) > 1:
        raise UsageError(f"{chosen[0]} cannot be combined with {chosen[1]}", fix="choose the period one way")
    if until and to:
        raise UsageError("--to and --until both end the period", fix="--to is the last day, --until the day after it")
    if period:
        return parse_named_period(period, today)
    if last:
        return _last(last, today)
    if ranged:
        end = (
            _parse_date(to, "--to") + timedelta(days=1)
            if to
            else _parse_date(until, "--until")
            if until
            else today + timedelta(days=1)
        )
        start = _parse_date(since, "--since") if since else _first_day(con) or _month_start(end - timedelta(days=1))
        if end <= start:
            raise UsageError(
                "the period ends before it starts",
                fix="--to is the last day (inclusive), --until the day after it (exclusive)",
            )
        return Period(start, end, label=f"{start.isoformat()}..{(end - timedelta(days=1)).isoformat()}")
    env = os.environ.get("COSTLENS_PERIOD", "").strip()
    if env:
        try:
            return parse_named_period(env, today)
        except UsageError as exc:
            raise UsageError(f"COSTLENS_PERIOD={env!r} is not understood", fix=exc.fix) from None
    latest = one_row(con.execute("SELECT CAST(max(ts) AS DATE) FROM calls"))[0] if con is not None else None
    start = _month_start(latest or today)
    return Period(start, _next_month(start), label=start.strftime("%Y-%m"))


@dataclass(frozen=True)
class PeriodOptions:
    """The period options as a command received them. `check()` validates them before a database is opened (a
    typo is a usage error, not a database error); `resolve(con)` picks the period with the data at hand."""

    period: str | None = None
    since: str | None = None
    until: str | None = None
    to: str | None = None
    last: str | None = None

    def given(self) -> bool:
        """Whether the user chose a period (an option or COSTLENS_PERIOD) rather than the default."""
        return bool(
            self.period
            or self.since
            or self.until
            or self.to
            or self.last
            or os.environ.get("COSTLENS_PERIOD", "").strip()
        )

    def check(self) -> None:
        if self.given():
            self.resolve(None)

    def resolve(self, con: duckdb.DuckDBPyConnection | None) -> Period:
        return resolve_period(con, self.period, self.since, self.until, to=self.to, last=self.last)


def _first_day(con: duckdb.DuckDBPyConnection | None) -> date | None:
    if con is None:
        return None
    return one_row(con.execute("SELECT CAST(min(ts) AS DATE) FROM calls"))[0]


def months_with_data(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """The months the database holds calls for, with their call counts (for the empty-period message)."""
    return [
        (m, int(n))
        for m, n in con.execute(
            "SELECT strftime(ts, '%Y-%m') AS month, count(*) FROM calls GROUP BY 1 ORDER BY 1"
        ).fetchall()
    ]


def empty_period_parts(con: duckdb.DuckDBPyConnection, period: Period) -> tuple[str, str]:
    """Why a period shows nothing, and the fix: which months hold data and how to pick one."""
    months = months_with_data(con)
    if not months:
        return f"no calls in {period.describe()}: the database holds no calls yet", "run `costlens ingest PATH…`"
    listed = ", ".join(f"{m} ({n:,} calls)" for m, n in months[-6:])
    more = f" and {len(months) - 6} earlier months" if len(months) > 6 else ""
    return (
        f"no calls in {period.describe()}; the database holds calls for {listed}{more}",
        f"pick one with --period {months[-1][0]} (or set COSTLENS_PERIOD)",
    )


def empty_period_hint(con: duckdb.DuckDBPyConnection, period: Period) -> str:
    what, fix = empty_period_parts(con, period)
    return f"{what} — {fix}"


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date", fix="use YYYY-MM-DD") from None


# ------------------------------------------------------------------------------------------ partial periods


def data_span(
    con: duckdb.DuckDBPyConnection, period: Period, today: date | None = None
) -> tuple[date | None, date | None]:
    """The part of `period` the logs cover, [data start, data end). Only what is certain counts as missing:
    the days before the first call in the database (logging had not begun), and, while the period is still
    running, the days after the latest call. A closed period whose calls stop early is taken as covered (the
    traffic may simply have stopped), and a quiet day inside the span is a day without traffic, not a gap.
    (None, None) when the database has no call in or before the period."""
    today = today or datetime.now(UTC).date()
    first, last = one_row(con.execute("SELECT CAST(min(ts) AS DATE), CAST(max(ts) AS DATE) FROM calls"))
    if first is None:
        return None, None
    start = max(period.start, first)
    end = period.end
    if today < period.end and last < period.end:  # the period is still running: covered up to the latest call
        end = max(last + timedelta(days=1), period.start)
    return (start, end) if start < end else (None, None)


def days_with_data(span: tuple[date | None, date | None]) -> int:
    start, end = span
    return (end - start).days if start is not None and end is not None else 0


def period_name(period: Period) -> str:
    """`September 2026` for a calendar month, else how the period is described."""
    start, end = period.start, period.end
    if start.day == 1 and end.day == 1 and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1:
        return start.strftime("%B %Y")
    return period.describe()


def partial_note(period: Period, span: tuple[date | None, date | None]) -> str | None:
    """`September 2026 has data for 10 of 30 days (2026-09-21 to 2026-09-30)` when the logs cover only part of
    the period; None when they cover all of it (or none: an empty period says so elsewhere)."""
    start, end = span
    if start is None or end is None:
        return None
    covered = days_with_data(span)
    if not covered or covered >= period.days:
        return None
    last = end - timedelta(days=1)
    return (
        f"{period_name(period)} has data for {covered} of {period.days} days "
        f"({start.isoformat()} to {last.isoformat()})"
    )


def coverage_note(period: Period, coverage) -> str | None:
    """The report period's partial-data note, from report.coverage (data_start / data_end)."""
    return partial_note(period, (getattr(coverage, "data_start", None), getattr(coverage, "data_end", None)))
