"""Reported vs computed cost: kept side by side, compared per producer and model, and selectable."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from costlens.config import load_config
from costlens.model.report import Period
from costlens.report.build import build_report

from conftest import FIXTURES

OCTOBER = Period(date(2026, 10, 1), date(2026, 11, 1))


@pytest.fixture
def loaded(tmp_path, con, ingest):
    # acme-small at $1 in / $2 out per Mtok (config override): 1,000 in + 100 out = $0.0012 computed
    lines = []
    for i, reported in enumerate(["0.0015", "0.0010", None]):
        attrs = {
            "gen_ai.provider.name": "acme",
            "gen_ai.request.model": "acme-small",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 100,
            "costlens.feature": "f",
        }
        if reported:
            attrs["costlens.cost_usd"] = reported
        lines.append(
            json.dumps(
                {
                    "trace_id": "t",
                    "span_id": f"s{i}",
                    "start_time": f"2026-10-0{i + 1}T00:00:00Z",
                    "end_time": f"2026-10-0{i + 1}T00:00:01Z",
                    "attributes": attrs,
                }
            )
        )
    file = tmp_path / "spans.jsonl"
    file.write_text("\n".join(lines) + "\n")
    config = load_config(FIXTURES / "economics" / "costlens.toml")
    ingest(file, config=config)
    return config


@pytest.mark.slow
def test_comparison_per_producer_and_model(con, loaded):
    report = build_report(con, loaded, OCTOBER)
    assert report.cost_mode == "computed"
    assert report.totals.cost_usd == Decimal("0.0036")
    [row] = report.reported_vs_computed
    assert (row.producer, row.model, row.calls) == ("otel", "acme-small", 2)
    assert row.reported_cost_usd == Decimal("0.0025")
    assert row.computed_cost_usd == Decimal("0.0024")
    assert row.difference_usd == Decimal("0.0001")


@pytest.mark.slow
def test_reported_mode_uses_producer_cost_where_given(con, loaded):
    report = build_report(con, loaded, OCTOBER, cost_mode="reported")
    assert report.totals.cost_usd == Decimal("0.0015") + Decimal("0.0010") + Decimal("0.0012")
    assert report.reported_vs_computed[0].computed_cost_usd == Decimal("0.0024")


def test_unknown_cost_mode_is_usage_error(con, loaded):
    from costlens.errors import UsageError

    with pytest.raises(UsageError, match="cost mode"):
        build_report(con, loaded, OCTOBER, cost_mode="cheapest")
