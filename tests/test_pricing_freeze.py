"""Closed months stay frozen across price-book updates; `--reprice` re-prices them
(docs/definitions.md#closed-months)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from costlens import api
from costlens.config import Config

pytestmark = pytest.mark.slow

# gpt-4o at the catalog's list price: $2.50 / $10 per Mtok. 1M input + 100k output tokens = $3.50 a call.
LIST_COST = Decimal("3.5")
HALF_PRICE = {"discounts": [{"provider": "openai", "model": "gpt-4o", "pct": 50}]}


def _span(span_id: str, when: datetime) -> str:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {
            "trace_id": f"t-{span_id}",
            "span_id": span_id,
            "start_time": stamp,
            "end_time": stamp,
            "attributes": {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 1_000_000,
                "gen_ai.usage.output_tokens": 100_000,
                "costlens.feature": "bot",
            },
        }
    )


@pytest.fixture
def months(tmp_path):
    """A database with one call in last month (closed) and one in this month (open)."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    this_month = now.replace(day=1, hour=0, minute=0, second=0)
    last_month = (this_month - timedelta(days=1)).replace(day=15)
    open_call = max(this_month + timedelta(seconds=1), now - timedelta(minutes=1))
    logs = tmp_path / "spans.jsonl"
    logs.write_text(_span("closed", last_month) + "\n" + _span("open", open_call) + "\n")
    db = str(tmp_path / "costlens.duckdb")
    api.ingest([str(logs)], db=db, config=Config())
    return db, last_month.strftime("%Y-%m"), this_month.strftime("%Y-%m")


def _cost(db: str, month: str, config: Config, **options) -> Decimal:
    return Decimal(str(api.report(db=db, config=config, period=month, **options).totals.cost_usd))


def test_closed_month_keeps_its_prices_until_repriced(months):
    db, closed, open_ = months
    assert _cost(db, closed, Config()) == LIST_COST  # the first report of a closed month freezes it
    assert _cost(db, open_, Config()) == LIST_COST
    assert [f["month"] for f in api.frozen_months(db=db)] == [closed]  # the open month is never frozen

    discounted = Config(prices=HALF_PRICE)  # a price-book update: the negotiated discount arrives
    assert _cost(db, closed, discounted) == LIST_COST  # frozen: does not move
    assert _cost(db, open_, discounted) == LIST_COST / 2  # open: takes the new price

    assert _cost(db, closed, discounted, refreeze=True) == LIST_COST / 2  # --reprice moves it
    assert _cost(db, closed, Config()) == LIST_COST / 2  # ... and the new snapshot is what stays frozen


def test_cli_reprice_and_prices_listing(months, tmp_path):
    from costlens.cli import app

    db, closed, _ = months
    config = tmp_path / "costlens.toml"
    config.write_text("")
    runner = CliRunner()
    first = runner.invoke(app, ["report", "--db", db, "--config", str(config), "--period", closed, "--format", "json"])
    assert first.exit_code == 0, first.output
    assert Decimal(str(json.loads(first.stdout)["totals"]["cost_usd"])) == LIST_COST

    config.write_text('[[prices.discounts]]\nprovider = "openai"\nmodel = "gpt-4o"\npct = 50\n')
    args = ["report", "--db", db, "--config", str(config), "--period", closed, "--format", "json"]
    frozen = runner.invoke(app, args)
    assert Decimal(str(json.loads(frozen.stdout)["totals"]["cost_usd"])) == LIST_COST
    repriced = runner.invoke(app, [*args, "--reprice"])
    assert repriced.exit_code == 0, repriced.output
    assert Decimal(str(json.loads(repriced.stdout)["totals"]["cost_usd"])) == LIST_COST / 2

    listing = runner.invoke(app, ["prices", "--db", db, "--config", str(config), "--format", "json"])
    assert listing.exit_code == 0, listing.output
    (month,) = json.loads(listing.stdout)["frozen_months"]
    assert month["month"] == closed and month["catalog_version"].startswith("genai-prices ") and month["keys"] == 1
