"""Periods: one shape in every command and in JSON, named periods, an inclusive --to, --last, COSTLENS_PERIOD, and
an empty period that says which months do hold data (on stderr, whatever the format)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from costlens.errors import UsageError
from costlens.period import resolve_period

TODAY = date(2026, 12, 6)
CLI = [sys.executable, "-m", "costlens"]
CALLS = [  # two calls on 2026-10-04 and one on 2026-10-20: October is the only month with data
    {
        "object": "chat.completion",
        "id": f"chatcmpl-{i}",
        "model": "gpt-4o-mini-2024-07-18",
        "created": ts,
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
    }
    for i, ts in enumerate((1791115200, 1791118800, 1792497600))
]


@pytest.mark.parametrize(
    "text, start, end, label",
    [
        ("2026-10", date(2026, 10, 1), date(2026, 11, 1), "2026-10"),
        ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"),
        ("2026-q1", date(2026, 1, 1), date(2026, 4, 1), "2026-Q1"),
        ("2026", date(2026, 1, 1), date(2027, 1, 1), "2026"),
        ("last-month", date(2026, 11, 1), date(2026, 12, 1), "2026-11"),
        ("this-month", date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        ("last-quarter", date(2026, 7, 1), date(2026, 10, 1), "2026-Q3"),
        ("this-quarter", date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"),
        ("last-year", date(2025, 1, 1), date(2026, 1, 1), "2025"),
        ("this-year", date(2026, 1, 1), date(2027, 1, 1), "2026"),
    ],
)
def test_named_periods(text, start, end, label):
    period = resolve_period(None, text, None, None, TODAY)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period.last_day == date.fromordinal(end.toordinal() - 1)
    assert period.days == (end - start).days


def test_last_quarter_in_january_is_the_previous_year():
    period = resolve_period(None, "last-quarter", None, None, date(2027, 1, 15))
    assert (period.start, period.end, period.label) == (date(2026, 10, 1), date(2027, 1, 1), "2026-Q4")


@pytest.mark.parametrize(
    "last, start",
    [
        ("7d", date(2026, 11, 30)),
        ("1d", date(2026, 12, 6)),
        ("2w", date(2026, 11, 23)),
        ("1m", date(2026, 11, 7)),
        ("3m", date(2026, 9, 7)),
    ],
)
def test_last_n_ends_today_inclusive(last, start):
    period = resolve_period(None, None, None, None, TODAY, last=last)
    assert (period.start, period.end, period.last_day) == (start, date(2026, 12, 7), TODAY)


def test_last_month_count_from_a_long_month_into_a_short_one():
    # 31 March back one month: February has no 31st, so the window starts the day after its last day
    period = resolve_period(None, None, None, None, date(2027, 3, 31), last="1m")
    assert (period.start, period.end) == (date(2027, 3, 1), date(2027, 4, 1))


def test_to_is_inclusive_and_until_exclusive():
    to = resolve_period(None, None, "2026-10-05", None, TODAY, to="2026-10-05")
    until = resolve_period(None, None, "2026-10-05", "2026-10-06", TODAY)
    assert (
        (to.start, to.end, to.days) == (until.start, until.end, until.days) == (date(2026, 10, 5), date(2026, 10, 6), 1)
    )


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"period": "2026-10", "last": "7d"}, "--period cannot be combined with --last"),
        ({"period": "2026-10", "since": "2026-10-01"}, "--period cannot be combined with --since/--to/--until"),
        ({"since": "2026-10-01", "to": "2026-10-05", "until": "2026-10-06"}, "--to and --until both end the period"),
        ({"since": "2026-10-05", "to": "2026-10-04"}, "the period ends before it starts"),
        ({"period": "2026-13"}, "month must be 01..12"),
        ({"period": "2026-Q5"}, "is not understood"),
        ({"last": "7y"}, "--last '7y' is not understood"),
        ({"last": "0d"}, "--last '0d' is not understood"),
    ],
)
def test_bad_period_options_are_usage_errors(kwargs, needle):
    args = {"period": None, "since": None, "until": None, **kwargs}
    with pytest.raises(UsageError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        resolve_period(None, args.pop("period"), args.pop("since"), args.pop("until"), TODAY, **args)


@pytest.mark.slow
def test_range_without_a_start_begins_on_the_first_day_with_calls(con, tmp_path, ingest):
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CALLS), encoding="utf-8")
    ingest(path)
    period = resolve_period(con, None, None, None, TODAY, to="2026-10-31")
    assert (period.start, period.end) == (date(2026, 10, 4), date(2026, 11, 1))  # never 1970-01-01


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("periods")
    path = folder / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CALLS), encoding="utf-8")
    db = folder / "periods.duckdb"
    proc = subprocess.run(CLI + ["ingest", str(path), "--db", str(db)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return db


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + list(args), capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


EMPTY = (
    "costlens: warning: no calls in 2026-09 (2026-09-01 to 2026-09-30); the database holds calls for "
    "2026-10 (3 calls) — pick one with --period 2026-10 (or set COSTLENS_PERIOD)"
)


@pytest.mark.subprocess
@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["report"],
        ["report", "-f", "json"],
        ["leaks"],
        ["levers", "-f", "json"],
        ["check", "--baseline", "none"],
        ["reconcile"],
    ],
)
def test_every_command_says_when_its_period_is_empty(database, command):
    proc = run(*command, "--db", str(database), "--period", "2026-09")
    assert "Traceback" not in proc.stderr
    assert EMPTY in proc.stderr.splitlines(), proc.stderr


@pytest.mark.subprocess
@pytest.mark.slow
def test_whatif_on_an_empty_period_is_an_error_naming_the_months(database):
    proc = run("whatif", "batch feature=*", "--db", str(database), "--period", "2026-09")
    assert proc.returncode == 2
    assert proc.stderr == (
        "costlens: error: nothing to replay: no calls in 2026-09 (2026-09-01 to 2026-09-30); the "
        "database holds calls for 2026-10 (3 calls) — pick one with --period 2026-10 (or set "
        "COSTLENS_PERIOD)\n"
    )


@pytest.mark.subprocess
@pytest.mark.slow
def test_export_says_when_its_period_is_empty(database, tmp_path):
    proc = run("export", "focus", "--out", str(tmp_path / "f.csv"), "--db", str(database), "--period", "2026-09")
    assert EMPTY in proc.stderr.splitlines(), proc.stderr


@pytest.mark.subprocess
@pytest.mark.slow
def test_period_json_shape_and_env(database):
    proc = run("report", "-f", "json", "--db", str(database), env={"COSTLENS_PERIOD": "2026-Q4"})
    data = json.loads(proc.stdout)
    assert data["period"] == {
        "start": "2026-10-01",
        "end": "2027-01-01",
        "last_day": "2026-12-31",
        "days": 92,
        "label": "2026-Q4",
    }
    assert data["totals"]["calls"] == 3
    proc = run("report", "-f", "json", "--db", str(database), "--since", "2026-10-04", "--to", "2026-10-04")
    data = json.loads(proc.stdout)
    assert data["period"]["label"] == "2026-10-04..2026-10-04" and data["totals"]["calls"] == 2
    # the command line wins over the environment
    proc = run("report", "-f", "json", "--db", str(database), "--period", "2026-10", env={"COSTLENS_PERIOD": "2026-09"})
    assert json.loads(proc.stdout)["totals"]["calls"] == 3


@pytest.mark.subprocess
@pytest.mark.slow
def test_bad_environment_period_is_a_usage_error(database):
    proc = run("report", "--db", str(database), env={"COSTLENS_PERIOD": "octobre"})
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("costlens: error: COSTLENS_PERIOD='octobre' is not understood")


@pytest.mark.subprocess
@pytest.mark.slow
def test_check_json_uses_the_period_shape(database):
    proc = run("check", "--db", str(database), "--period", "2026-10", "--baseline", "none", "-f", "json")
    assert json.loads(proc.stdout)["period"] == {
        "start": "2026-10-01",
        "end": "2026-11-01",
        "last_day": "2026-10-31",
        "days": 31,
        "label": "2026-10",
    }
