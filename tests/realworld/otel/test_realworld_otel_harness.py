"""The real-world OTel corpus harness: each setup runs in a fresh interpreter and its spans match KNOWN_GAPS.

This checks the harness and the libraries' span layouts (so that a library upgrade that changes what it emits
fails here), not costlens (tests/test_realworld_otel.py checks costlens on the same spans). The libraries are
test dependencies ('.[test]').
"""

from __future__ import annotations

import json

import pytest

from conftest import CANNOT_SHARE_THE_ENVIRONMENT, load_otel_harness

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]  # the OTel corpus: each set-up in its own interpreter

_mods = load_otel_harness()
SCENARIOS, SETUPS = _mods["setups"].SCENARIOS, _mods["setups"].SETUPS  # type: ignore[attr-defined]
compute, read_otlp = _mods["expected"].compute, _mods["expected"].read_otlp  # type: ignore[attr-defined]
reference = _mods["expected"].reference  # type: ignore[attr-defined]
FEATURE = {"ticket_1": "support-bot", "ticket_2": "support-bot", "summary_stream": "summarizer"}


@pytest.mark.slow
@pytest.mark.parametrize("setup", list(SETUPS))
def test_setup_spans_match_the_reference(setup: str, otel_corpus) -> None:
    tmp_path, results = otel_corpus
    code, output = results[setup]
    if setup in CANNOT_SHARE_THE_ENVIRONMENT:
        pytest.skip(output.strip())
    assert code == 0, output

    run = json.loads((tmp_path / f"{setup}.run.json").read_text())
    calls = SCENARIOS[SETUPS[setup].api]
    assert [c["fixture"] for c in run["calls"]] == [c.fixture for c in calls]
    assert [s["fixture"] for s in run["served"]] == [c.fixture for c in calls]  # one request per call, no retry

    otlp = read_otlp(tmp_path / f"{setup}.otlp.jsonl")
    flat = [json.loads(line) for line in (tmp_path / f"{setup}.spans.jsonl").read_text().splitlines()]
    assert len(otlp) == len(flat) == run["span_count"] > 0
    assert {s.span_id for s in otlp} == {f["context"]["span_id"][2:] for f in flat}
    assert all(len(s.trace_id) == 32 and len(s.span_id) == 16 for s in otlp)  # hex, not base64

    doc = compute(setup, tmp_path)
    assert doc["problems"] == []
    assert doc["totals"]["calls"] == len(calls)
    assert doc["totals"]["failed_calls"] == 1
    # every call's parent span and feature, as the scenario laid them out
    parents = {s.span_id: s for s in otlp}
    for c in doc["calls"]:
        lu = c["layers"][doc["primary_layer"]]
        span = next(s for s in otlp if s.span_id == lu["span_id"])
        root = span
        while root.parent_id and root.parent_id in parents:
            root = parents[root.parent_id]
        assert (root.attrs.get("costlens.feature") if root is not span else None) == c["feature"]

    ref = reference(setup, tmp_path)
    assert (ref["calls"], ref["ok_calls"], ref["failed_calls"]) == (len(calls), len(calls) - 1, 1)
    assert ref["problems"] == [] and ref["unpriced"] == []
    assert {label: v["feature"] for label, v in ref["by_label"].items()} == {
        c.label: FEATURE.get(c.label) for c in calls
    }
    assert ref["cost_usd"] == pytest.approx(doc["totals"]["reference_cost_usd"], abs=1e-9)
