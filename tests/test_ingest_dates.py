"""Dates real exports use (issue 14): M/D/YY, M/D/YYYY, ISO 8601 with or without a zone and epoch seconds /
ms / µs / ns are read right; anything else, and anything outside 2000-01-01 … a year from today, is quarantined
with a reason naming the field and the value. One call dated 9999-12-31 used to become the default report's
period."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from costlens import api
from costlens.config import ColumnMapping, Config
from costlens.ingest.runner import ingest_paths

MAPPING = ColumnMapping(
    columns={"call_id": "id", "ts": "when", "model": "model", "input_tokens": "in", "output_tokens": "out"},
    constants={"provider": "openai", "feature": "chat"},
)
LATER = (date.today() + timedelta(days=400)).isoformat()


def window_end() -> date:
    """A year from today, as ingest computes it — read when asserting, not when the module is imported, so a
    suite that runs across midnight expects the day the ingest saw."""
    today = date.today()
    return (
        today.replace(year=today.year + 1)
        if not (today.month == 2 and today.day == 29)
        else date(today.year + 1, 2, 28)
    )


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("4/1/25", datetime(2025, 4, 1)),
        ("12/31/24", datetime(2024, 12, 31)),
        ("4/1/2025", datetime(2025, 4, 1)),
        ("04/01/2025 13:05", datetime(2025, 4, 1, 13, 5)),
        ("4/1/2025 1:05:07 PM", datetime(2025, 4, 1, 13, 5, 7)),
        ("2025-04-01", datetime(2025, 4, 1)),
        ("2025-04-01T10:00:00", datetime(2025, 4, 1, 10)),
        ("2025-04-01T10:00:00.123456Z", datetime(2025, 4, 1, 10, 0, 0, 123456)),
        ("2025-04-01T12:00:00+02:00", datetime(2025, 4, 1, 10)),
        ("2025-04-01 12:00:00+0200", datetime(2025, 4, 1, 10)),
        ("2025-04-01 10:00:00 UTC", datetime(2025, 4, 1, 10)),
        ("1743501600", datetime(2025, 4, 1, 10)),
        ("1743501600000", datetime(2025, 4, 1, 10)),
        ("1743501600000000", datetime(2025, 4, 1, 10)),
        ("1743501600000000000", datetime(2025, 4, 1, 10)),
        ("1743501600.5", datetime(2025, 4, 1, 10, 0, 0, 500000)),
    ],
)
def test_time_forms_are_read_right(text, when, con):
    assert con.execute("SELECT parse_ts(?)", [text]).fetchone()[0] == when


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("9999-12-31", "outside"),
        ("9999-12-31T23:59:59Z", "outside"),
        ("1999-12-31T23:59:59Z", "outside"),
        ("0", "outside"),
        ("20250401", "outside"),
        ("12/31/99", "outside"),
        (LATER, "outside"),
        ("0004-01-25", "outside"),
        ("2025/04/01", "form"),
        ("31/12/2024", "form"),
        ("April 1, 2025", "form"),
        ("infinity", "form"),
        ("yesterday", "form"),
        ("2025-13-01", "form"),
    ],
)
def test_other_values_are_no_time(text, why, con):
    assert con.execute("SELECT parse_ts(?)", [text]).fetchone()[0] is None
    problem = con.execute("SELECT ts_window_problem('ts', ?)", [text]).fetchone()[0]
    if why == "outside":
        assert problem == f"ts is outside 2000-01-01 … {window_end().isoformat()}: {text}"
    else:
        assert problem is None  # no time at all: each staging says so in its own words


@pytest.mark.slow
def test_a_call_dated_9999_is_quarantined_and_the_default_report_still_works(tmp_path):
    db = str(tmp_path / "costlens.duckdb")
    logs = tmp_path / "calls.jsonl"
    rows = [
        {"id": "c1", "when": "2026-10-01T09:00:00Z", "model": "gpt-4o", "in": 1000, "out": 100},
        {"id": "c2", "when": "9999-12-31T00:00:00Z", "model": "gpt-4o", "in": 1000, "out": 100},
        {"id": "c3", "when": "2026-10-02T09:00:00Z", "model": "gpt-4o", "in": 1000, "out": 100},
    ]
    logs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (got,) = api.ingest([str(logs)], db=db, config=Config(), fmt="generic", mapping=MAPPING).files
    assert (got.rows_read, got.rows_loaded, got.rows_quarantined) == (3, 2, 1)
    (reason,) = [q["reason"] for q in api.quarantine(db=db)]
    assert reason == f"ts (column 'when') is outside 2000-01-01 … {window_end().isoformat()}: 9999-12-31T00:00:00Z"
    report = api.report(db=db, config=Config())
    assert str(report.period.start).startswith("2026-10-01"), report.period


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "fmt", "field", "value"),
    [
        ("openai/app_log.jsonl", "openai", "timestamp", "9999-12-31T00:00:00Z"),
        ("anthropic/app_log.jsonl", "anthropic", "timestamp", "1970-01-01T00:00:00Z"),
    ],
)
def test_app_log_times_outside_the_window_name_their_field(fixture, fmt, field, value, con, tmp_path):
    from conftest import FIXTURES

    lines = (FIXTURES / fixture).read_text().splitlines()
    record = json.loads(lines[0])
    record[field] = value
    lines[0] = json.dumps(record)
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    (got,) = ingest_paths(con, [str(path)], Config(), fmt=fmt).files
    assert (
        got.status == "ingested"
        and got.rows_read == got.rows_loaded + got.rows_duplicate + got.rows_quarantined + got.rows_skipped
    )
    reasons = dict(con.execute("SELECT source_row, reason FROM quarantine").fetchall())
    assert reasons[1] == f"{field} is outside 2000-01-01 … {window_end().isoformat()}: {value}"
