"""Price once (docs/architecture.md#stored-costs): the cost stored on every call equals a fresh re-price from
the current book, after every step that can change a price; a step re-prices exactly the calls it affects."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from costlens import api, db
from costlens.config import Config
from costlens.engine import prepare_priced_calls
from costlens.pricing import stored
from tests.conftest import SAMPLE_CONFIG, copy_sample_db

# Every column of priced_calls, from the stored costs, against the same call priced now (fresh_priced_calls
# has two working columns more). EXCEPT ALL both ways: same rows, same values, same column order.
_DIFFERENCES = """
SELECT count(*) FROM (
    (SELECT * EXCLUDE (_price_row_id, _charged) FROM fresh_priced_calls EXCEPT ALL SELECT * FROM priced_calls)
    UNION ALL
    (SELECT * FROM priced_calls EXCEPT ALL SELECT * EXCLUDE (_price_row_id, _charged) FROM fresh_priced_calls)
)"""


def _differences(con) -> int:
    stored.create_fresh_priced_calls(con)
    return int(con.execute(_DIFFERENCES).fetchall()[0][0])


@pytest.fixture
def repriced(monkeypatch):
    """The number of calls each store step priced, in order."""
    counts: list[int] = []
    real = stored.store_call_costs

    def counting(con):
        counts.append(real(con))
        return counts[-1]

    monkeypatch.setattr(stored, "store_call_costs", counting)
    return counts


def test_sample_month_stored_costs_equal_a_fresh_reprice(sample_month_db, tmp_path, repriced, monkeypatch):
    from costlens.config import load_config

    path = copy_sample_db(sample_month_db, tmp_path)
    con = db.connect(str(path))
    try:
        calls, unstored = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE priced_with IS NULL) FROM calls"
        ).fetchall()[0]
        assert (calls, unstored) == (26138, 0)  # every call got its cost when it was loaded
        assert _differences(con) == 0
        total = con.execute("SELECT sum(cost_usd) FROM priced_calls").fetchall()[0][0]
        assert total == Decimal("824.41389225")  # the sample month's computed total with its costlens.toml

        prepare_priced_calls(con, load_config(SAMPLE_CONFIG))  # what every report does first
        assert repriced == [0]  # nothing changed: no call priced again

        # a negotiated discount on one model re-prices that model's calls and no other
        model_calls = con.execute(
            "SELECT count(*) FROM calls WHERE provider = 'anthropic' AND model LIKE 'claude-sonnet-4%'"
        ).fetchall()[0][0]
        assert model_calls > 0
        discount = Config(prices={"discounts": [{"provider": "anthropic", "model": "claude-sonnet-4*", "pct": 10}]})
        prepare_priced_calls(con, discount)
        assert repriced[-1] == model_calls
        assert _differences(con) == 0

        # a new book that moves every call: written in slices (here of 1,000 calls), each its own transaction
        monkeypatch.setattr(stored, "UPDATE_SLICE_ROWS", 1000)
        everything = Config(prices={"discounts": [{"pct": 5}]})  # every model: every row and the book change
        prepare_priced_calls(con, everything)
        assert repriced[-1] == 26138
        assert _differences(con) == 0
        discounted = con.execute("SELECT sum(cost_usd) FROM priced_calls").fetchall()[0][0]
        assert discounted < total
    finally:
        con.close()


def _stored_count(path: str) -> int:
    con = db.connect(path)
    try:
        return int(con.execute("SELECT count(*) FROM calls WHERE priced_with IS NOT NULL").fetchall()[0][0])
    finally:
        con.close()


def _span(span_id: str, when: datetime, model: str = "gpt-4o", charges: bool = False) -> str:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    attributes = {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": 1_000_000,
        "gen_ai.usage.output_tokens": 100_000,
        "costlens.feature": "bot",
    }
    return json.dumps(
        {
            "trace_id": f"t-{span_id}",
            "span_id": span_id,
            "start_time": stamp,
            "end_time": stamp,
            "attributes": attributes,
        }
    )


def test_each_price_change_reprices_exactly_the_calls_it_affects(tmp_path, repriced):
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    this_month = now.replace(day=1, hour=0, minute=0, second=0)
    last_month = (this_month - timedelta(days=1)).replace(day=15)
    open_day = max(this_month + timedelta(seconds=1), now - timedelta(minutes=5))
    first = tmp_path / "first.jsonl"
    first.write_text(
        "\n".join(
            [
                _span("closed-4o", last_month),
                _span("closed-mini", last_month, "gpt-4o-mini"),
                _span("open-4o", open_day),
                _span("open-unknown", open_day, "no-such-model-anywhere"),
            ]
        )
        + "\n"
    )
    path = str(tmp_path / "costlens.duckdb")
    api.ingest([str(first)], db=path, config=Config())
    # priced as they were inserted, the unknown model included (as unpriced): the store step after finds none
    assert repriced == [0]
    assert _stored_count(path) == 4

    closed, open_ = last_month.strftime("%Y-%m"), this_month.strftime("%Y-%m")
    api.report(db=path, config=Config(), period=closed)  # freezes the closed month
    # Freezing copies the live rows: the closed calls' costs hold (the rows that priced them are unchanged), so
    # none is priced again; only the unpriced call is checked again, against the book that now has the copies.
    assert repriced[-2:] == [0, 1], repriced

    half_4o = Config(prices={"discounts": [{"provider": "openai", "model": "gpt-4o", "pct": 50}]})
    report = api.report(db=path, config=half_4o, period=open_)
    # the two gpt-4o calls (the live row that priced them changed: the closed one now takes its frozen copy,
    # at the same cost) and the unpriced call (the book changed); never gpt-4o-mini
    assert repriced[-2:] == [3, 0], repriced  # then the freeze step: the open month is never frozen
    assert report.totals.cost_usd == Decimal("1.75")
    assert report.totals.unpriced_calls == 1  # the unknown model stays unpriced, never $0

    later = tmp_path / "later.jsonl"
    later.write_text(_span("open-4o-2", open_day + timedelta(seconds=30)) + "\n")
    api.ingest([str(later)], db=path, config=half_4o)
    assert repriced[-1] == 0  # the new call was priced as it was inserted; nothing else changed
    assert _stored_count(path) == 5

    con = db.connect(path)
    try:
        assert _differences(con) == 0
        prepare_priced_calls(con, half_4o)
        assert repriced[-1] == 0
    finally:
        con.close()

    report = api.report(db=path, config=half_4o, period=closed, refreeze=True)  # --reprice: new snapshot
    assert report.totals.cost_usd == Decimal("1.75") + Decimal("0.21")  # gpt-4o halved; mini $0.15 + $0.06
    con = db.connect(path)
    try:
        assert _differences(con) == 0
    finally:
        con.close()


def test_a_database_without_stored_costs_is_priced_by_its_next_report(sample_month_db, tmp_path, repriced):
    path = copy_sample_db(sample_month_db, tmp_path)
    con = db.connect(str(path))
    try:
        con.execute("UPDATE calls SET " + ", ".join(f"{c} = NULL" for c in stored.STORED_COLUMNS))
        con.execute("DELETE FROM meta WHERE key = 'stored_costs_book'")  # a database from before stored costs
    finally:
        con.close()
    from costlens.config import load_config

    report = api.report(db=str(path), config=load_config(SAMPLE_CONFIG), period="2026-10")
    assert repriced[0] == 26138
    assert report.totals.cost_usd == Decimal("824.41389225")
