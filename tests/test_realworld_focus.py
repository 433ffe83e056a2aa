"""The FOCUS_Spec working group's own example datasets (tests/realworld/focus, see PROVENANCE.md) ingested as they
are: every row loads, the dates are the dates they denote — US short dates `4/1/25` (M/D/YY) and `4/1/2025`
(M/D/YYYY) as well as ISO 8601 — and BilledCost / EffectiveCost add up to expected.json's figures, worked out
independently of costlens (issue 14: `4/1/25` loaded as the year 4, `12/31/24` and `4/1/2025` were rejected, and
"$10,100.00 " was not a number)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from test_fuzz_adapters import reset

from costlens import db
from costlens.config import Config
from costlens.ingest.runner import ingest_paths

pytestmark = pytest.mark.slow

FOCUS = Path(__file__).resolve().parent / "realworld" / "focus"
EXPECTED = json.loads((FOCUS / "expected.json").read_text())["files"]
SPEC_FILES = sorted(name for name in EXPECTED if name.startswith("focus_spec_"))


@pytest.fixture(scope="module")
def focus_con():
    connection = db.connect(":memory:")
    yield connection
    connection.close()


def _ingest_alone(con, path: Path):
    """Each file alone in the database: two of the examples bill the same lines (a duplicate is not the
    subject here)."""
    reset(con)
    (result,) = ingest_paths(con, [str(path)], Config()).files
    return con, result


@pytest.mark.parametrize("name", SPEC_FILES)
def test_focus_spec_example_loads_whole_with_its_sums(name, focus_con):
    expected = EXPECTED[name]
    con, got = _ingest_alone(focus_con, FOCUS / name)
    assert (got.status, got.format) == ("ingested", "focus"), got.message
    assert (got.rows_read, got.rows_loaded, got.rows_quarantined) == (expected["rows"], expected["rows"], 0), (
        got,
        con.execute("SELECT source_row, reason FROM quarantine").fetchall(),
    )
    for currency, sums in expected["sums_by_BillingCurrency"].items():
        billed, effective = con.execute(
            "SELECT sum(billed_cost), sum(effective_cost) FROM billing_lines WHERE currency = ?", [currency]
        ).fetchone()
        assert (billed, effective) == (Decimal(sums["BilledCost"]), Decimal(sums["EffectiveCost"])), name
    # every date of these examples lies in 2025
    first, last = con.execute("SELECT min(charge_period_start), max(charge_period_end) FROM billing_lines").fetchone()
    assert first.year == 2025 and last.year in (2025, 2026), (first, last)


US_DATES = [
    (name, rows)
    for name, spec in EXPECTED.items()
    for rows in [spec.get("MDYY_rows") or spec.get("MDYYYY_rows")]
    if rows
]


@pytest.mark.parametrize(("name", "rows"), US_DATES, ids=[name for name, _ in US_DATES])
def test_us_short_dates_are_the_dates_they_denote(name, rows, focus_con):
    con, got = _ingest_alone(focus_con, FOCUS / name)
    assert got.status == "ingested", got.message
    loaded = dict(con.execute("SELECT source_row, charge_period_start FROM billing_lines").fetchall())
    ends = dict(con.execute("SELECT source_row, charge_period_end FROM billing_lines").fetchall())
    for row in rows:
        # expected.json counts data rows from 1; costlens numbers the header 1
        assert loaded[row["row"] + 1].date() == date.fromisoformat(row["really"]), (row, loaded)
        if "ChargePeriodEnd_really" in row:
            assert ends[row["row"] + 1].date() == date.fromisoformat(row["ChargePeriodEnd_really"]), (row, ends)


def _focus_file(tmp_path: Path, starts: list[str]) -> Path:
    """A copy of a real example with the ChargePeriodStart of its rows replaced."""
    rows = list(csv.reader(io.StringIO((FOCUS / "focus_spec_multi_model_usage.csv").read_text(), newline="")))
    column = rows[0].index("ChargePeriodStart")
    for row, start in zip(rows[1:], starts):
        row[column] = start
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = tmp_path / "dates.csv"
    path.write_text(out.getvalue())
    return path


def test_dates_outside_the_window_or_of_no_known_form_are_quarantined_by_name(tmp_path, focus_con):
    starts = ["12/31/24", "9999-12-31T00:00:00Z", "4/1/2025", "1999-12-31"]
    assert EXPECTED["focus_spec_multi_model_usage.csv"]["rows"] == len(starts)
    con, got = _ingest_alone(focus_con, _focus_file(tmp_path, starts))
    assert got.status == "ingested", got.message
    assert got.rows_read == got.rows_loaded + got.rows_duplicate + got.rows_quarantined + got.rows_skipped
    reasons = dict(con.execute("SELECT source_row, reason FROM quarantine").fetchall())
    loaded = dict(con.execute("SELECT source_row, charge_period_start FROM billing_lines").fetchall())
    assert loaded[2].date() == date(2024, 12, 31)  # M/D/YY: used to be rejected
    assert reasons[3].startswith("ChargePeriodStart is outside 2000-01-01 … ") and reasons[3].endswith(
        ": 9999-12-31T00:00:00Z"
    )
    assert loaded[4].date() == date(2025, 4, 1)
    assert reasons[5].startswith("ChargePeriodStart is outside") and reasons[5].endswith(": 1999-12-31")
    assert sorted(loaded) == [2, 4] and sorted(reasons) == [3, 5]
