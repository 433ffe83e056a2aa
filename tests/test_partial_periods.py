"""Periods the logs cover only in part: the report says so and compares spend per day with data.

Planted data (generic CSV, one made-up model priced by config: acme-one $10 per Mtok input, nothing for output;
every call 100,000 input tokens = $1.00, its own task):
  September 2026  logging starts on the 21st: 2 calls a day on 21–30  → 20 calls, $20.00, 10 of 30 days, $2.00/day
  October 2026    3 calls a day on every day                          → 93 calls, $93.00, 31 of 31 days, $3.00/day
Totals would say spend grew $73.00 (+365.0%); per day with data it grew $1.00 a day (+50.0%):
  volume     = previous cost per task × Δ tasks per day = $1.00 × (3 − 2) = +$1.00/day
  efficiency = mix = price = 0 (same tokens, same model, same price)
The diagnosis compares the same daily rates ($2.00 → $3.00 a day); its monthly figures are those × 30.44.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest

from costlens.model.change import Change
from costlens.model.report import Period
from costlens.period import data_span, partial_note

NOTE = "September 2026 has data for 10 of 30 days (2026-09-21 to 2026-09-30)"

CONFIG = """
[[ingest.mappings]]
name = "planted"
match = "calls.csv"
[ingest.mappings.columns]
call_id = "call_id"
ts = "ts"
provider = "provider"
model = "model"
input_tokens = "input_tokens"
output_tokens = "output_tokens"
task_id = "task_id"
feature = "feature"

[prices]
overrides = [{ provider = "acme", model = "acme-one", input_mtok = 10, output_mtok = 0 }]
"""


def cli(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "costlens", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    work = tmp_path_factory.mktemp("partial")
    rows = ["call_id,ts,provider,model,input_tokens,output_tokens,task_id,feature"]
    days = [(date(2026, 9, 21) + timedelta(days=i), 2) for i in range(10)] + [
        (date(2026, 10, 1) + timedelta(days=i), 3) for i in range(31)
    ]
    for day, per_day in days:
        for n in range(per_day):
            call = f"c{day:%m%d}{n}"
            rows.append(f"{call},{day.isoformat()}T{9 + n:02d}:00:00Z,acme,acme-one,100000,0,t{call},assistant")
    (work / "calls.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (work / "costlens.toml").write_text(CONFIG, encoding="utf-8")
    db, config = str(work / "planted.duckdb"), str(work / "costlens.toml")
    cli("ingest", str(work / "calls.csv"), "--db", db, "--config", config)
    base = ("report", "--db", db, "--config", config, "--period", "2026-10")
    return {
        "json": json.loads(cli(*base, "--format", "json"), parse_float=Decimal),
        "terminal": cli(*base),
        "md": cli(*base, "--format", "md"),
    }


@pytest.mark.subprocess
@pytest.mark.slow
def test_the_change_compares_spend_per_day_with_data(planted):
    change = planted["json"]["change"]
    assert (change["previous_cost_usd"], change["current_cost_usd"]) == (Decimal(20), Decimal(93))
    assert change["basis"] == "per_day" and change["notes"] == [NOTE]
    assert (change["previous_days_with_data"], change["current_days_with_data"]) == (10, 31)
    day = change["per_day"]
    assert (day["previous_cost_usd"], day["current_cost_usd"], day["delta_usd"]) == (2, 3, 1)
    assert day["delta_pct"] == pytest.approx(50.0)
    assert (day["volume_usd"], day["efficiency_usd"], day["mix_usd"], day["price_usd"]) == (1, 0, 0, 0)
    assert (day["previous_tasks_per_day"], day["current_tasks_per_day"]) == (2, 3)
    assert Change.from_json(change).to_dict() == change  # a saved change reads back whole, per_day included


@pytest.mark.subprocess
@pytest.mark.slow
def test_the_diagnosis_says_so_and_compares_daily_rates(planted):
    diagnosis = planted["json"]["diagnosis"]
    assert diagnosis["partial_notes"] == [NOTE]
    assert (diagnosis["previous_spend_per_day_usd"], diagnosis["spend_per_day_usd"]) == (2, 3)
    assert (
        NOTE + ", so spend is compared per day with data: it grew from $2.00 to $3.00 a day (+50.0%)."
    ) in diagnosis["statement"]
    assert "+365.0%" not in diagnosis["statement"] and "Monthly spend grew" not in diagnosis["statement"]
    # the monthly figures are the daily rates × 30.44: $60.88 and $91.32
    assert (diagnosis["previous_monthly_spend_usd"], diagnosis["monthly_spend_usd"]) == (
        Decimal("60.88"),
        Decimal("91.32"),
    )


@pytest.mark.subprocess
@pytest.mark.slow
def test_every_output_shows_the_note_and_the_daily_comparison(planted):
    terminal, md = planted["terminal"], planted["md"]
    assert NOTE in " ".join(terminal.split())
    assert (
        "spend per day with data: $2.00/day over 10 days → $3.00/day over 31 days "
        "(+$1.00/day, +50.0%); in total $20.00 → $93.00"
    ) in " ".join(terminal.split())
    assert "Total change per day" in terminal and "+$1.00" in terminal
    assert (
        "**Change vs 2026-09-01 → 2026-09-30, per day with data:** $2.00/day → $3.00/day (+$1.00/day, +50.0%)"
    ) in md
    assert f"- {NOTE}" in md
    assert "| +$1.00 | ±$0.00 | ±$0.00 | ±$0.00 |" in md


def test_data_span_counts_only_what_is_certainly_missing():
    con = duckdb.connect()
    con.execute("CREATE TABLE calls (ts TIMESTAMP)")
    con.execute("INSERT INTO calls VALUES ('2026-09-21 10:00'), ('2026-10-14 23:00')")
    september, october = Period(date(2026, 9, 1), date(2026, 10, 1)), Period(date(2026, 10, 1), date(2026, 11, 1))
    # before logging began: missing
    assert data_span(con, september, today=date(2026, 12, 6)) == (date(2026, 9, 21), date(2026, 10, 1))
    # October still running on the 15th: covered up to the latest call
    span = data_span(con, october, today=date(2026, 10, 15))
    assert span == (date(2026, 10, 1), date(2026, 10, 15))
    assert partial_note(october, span) == "October 2026 has data for 14 of 31 days (2026-10-01 to 2026-10-14)"
    # October closed: calls that stop early are taken as traffic that stopped, not as missing data
    span = data_span(con, october, today=date(2026, 12, 6))
    assert span == (date(2026, 10, 1), date(2026, 11, 1)) and partial_note(october, span) is None
    # a period before any call has no data at all
    assert data_span(con, Period(date(2026, 8, 1), date(2026, 9, 1)), today=date(2026, 12, 6)) == (None, None)
