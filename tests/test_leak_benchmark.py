"""The leak detector benchmark (benchmarks/leaks.py) in a smoke size: two seeds, one feature of every shape.
The same targets as the full run: recall and precision at least 0.9 per detector, every waste within ±20 % of the
planted truth, and no control above low severity."""

from __future__ import annotations

import pytest

from benchmarks import leaks


@pytest.mark.slow
def test_smoke_benchmark_meets_its_targets(tmp_path):
    results = tmp_path / "RESULTS-LEAKS.md"
    code = leaks.main(["--seeds", "2", "--per-shape", "1", "--work", str(tmp_path / "work"), "--results", str(results)])
    text = results.read_text(encoding="utf-8")
    assert code == 0, text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| detector")]
    assert [row.split(" | ")[0][2:] for row in rows] == [
        "agent_loops/feature_norm",
        "batchable/traffic_pattern",
        "cache_miss/prompt_caching",
        "cache_miss/response_cache",
        "cache_miss/semantic_cache",
        "context_bloat/growing_history",
        "context_bloat/oversized_input",
        "context_bloat/upper_mode",
        "input_quality/input_too_long",
        "output_verbosity",
        "premium_overuse/cheaper_model_same_feature",
        "retries",
    ]
    assert all(row.endswith("| pass |") for row in rows), text
    assert "false positive" not in text


def test_planted_truth_is_the_planted_tokens_at_the_models_input_price():
    traffic = leaks.generate(seed=7, scale=0.2, per_shape=1)
    planted = {p.sub_kind or p.kind: p for p in traffic.planted}
    assert set(planted) >= {
        "upper_mode",
        "oversized_input",
        "growing_history",
        "output_verbosity",
        "cheaper_model_same_feature",
        "traffic_pattern",
        "semantic_cache",
    }
    upper = planted["upper_mode"]
    spans = [s for s in traffic.spans if s["attributes"]["costlens.feature"] == upper.feature]
    provider = spans[0]["attributes"]["gen_ai.provider.name"]
    model = spans[0]["attributes"]["gen_ai.request.model"]
    # gpt-4.1-mini $0.40, gpt-4o $2.50, claude-sonnet-4-5 $3 per million input tokens (genai-prices)
    per_token = {"gpt-4.1-mini": "0.0000004", "gpt-4o": "0.0000025", "claude-sonnet-4-5": "0.000003"}[model]
    assert leaks.input_price(provider, model) == leaks.Decimal(per_token)
    tokens = upper.wasted_usd / leaks.Decimal(per_token)
    assert tokens == int(tokens) and 0 < tokens < sum(s["attributes"]["gen_ai.usage.input_tokens"] for s in spans)
    verbose = planted["output_verbosity"]
    spans = [s for s in traffic.spans if s["attributes"]["costlens.feature"] == verbose.feature]
    attrs = spans[0]["attributes"]
    # output: gpt-4.1-mini $1.60, gpt-4o $10, claude-sonnet-4-5 $15 per million tokens
    per_output = {"gpt-4.1-mini": "0.0000016", "gpt-4o": "0.00001", "claude-sonnet-4-5": "0.000015"}
    price = leaks.Decimal(per_output[attrs["gen_ai.request.model"]])
    assert leaks.unit_price(attrs["gen_ai.provider.name"], attrs["gen_ai.request.model"], "output") == price
    assert (verbose.wasted_usd / price) == int(verbose.wasted_usd / price)
