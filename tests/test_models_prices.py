"""Models and prices without surprises: `prices` in $/Mtok with full names at any width, `prices MODEL` as a
resolution panel, a route what-if that judges an alias on the outcomes of its dated id, a flex tier priced at
standard said as such, and failed calls' undated request model folded into the dated model of the answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from conftest import SAMPLE_LOGS, copy_sample_db

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "costlens"]
TOML = str(SAMPLE_LOGS / "costlens.toml")


def run(*args: str, columns: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def sample_db(sample_month_db, tmp_path_factory) -> str:
    return str(copy_sample_db(sample_month_db, tmp_path_factory.mktemp("prices")))


@pytest.mark.subprocess
@pytest.mark.parametrize("columns", [80, 200])
def test_price_book_shows_full_names_and_dollars_per_mtok(sample_db, columns):
    out = run("prices", "--db", sample_db, "--config", TOML, columns=columns).stdout
    assert "…" not in out
    assert out.splitlines()[0].startswith("Price book, US$ per million tokens (base tier) — genai-prices ")
    assert max(len(line) for line in out.splitlines() if not line.startswith(("*", "  frozen", "priced"))) <= columns
    cells = {}
    for line in out.splitlines():
        words = line.split()
        first_price = next((i for i, w in enumerate(words) if w.startswith("$")), None)
        if first_price and not line.startswith("*"):
            cells[words[first_price - 1]] = words[first_price : first_price + 4]
    # the catalog's prices, to the book's own digits: gpt-4o $2.50 / $1.25 cached / $10.00, opus 4.1 $15 / $75
    assert cells["gpt-4o-2024-08-06"] == ["$2.50", "$1.25", "$10.00", "8,819"]
    assert cells["gpt-4o-mini-2024-07-18"] == ["$0.15", "$0.075", "$0.60", "3,945"]
    assert cells["claude-opus-4-1-20250805"] == ["$15.00", "$1.50", "$75.00", "1,756"]
    assert (
        "* azure.openai / gpt-5-mini-2025-08-07: no flex price in the book, its 65 calls are priced at the "
        'standard price — add one under [[prices.overrides]] (variant = "flex")'
    ) in out
    if columns == 80:
        assert " azure.openai " in out and "   gpt-5-mini-2025-08-07 [flex*] " in out  # provider heads its models
    else:
        assert "Priced as" in out and "azure / gpt-4o " in out


@pytest.mark.subprocess
def test_price_resolution_panel():
    out = run("prices", "claude-sonnet-4-5", "--provider", "anthropic", "--at", "2026-10-15", columns=200).stdout
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == "claude-sonnet-4-5 — standard price at 2026-10-15 00:00 UTC"
    assert lines[1] == "read as   anthropic / claude-sonnet-4-5"
    assert lines[2].startswith("matched   anthropic / claude-sonnet-4-5 in genai-prices ")
    assert (
        "per Mtok  prompts up to 200,000 tokens: input $3.00 · cached input $0.30 · cache write 5m $3.75 · "
        "cache write 1h $6.00 · output $15.00 · reasoning $15.00"
    ) in lines
    assert (
        "          prompts above 200,000 tokens: input $6.00 · cached input $0.60 · cache write 5m $7.50 · "
        "cache write 1h $12.00 · output $22.50 · reasoning $22.50"
    ) in lines
    assert not any("Decimal(" in line or "{" in line for line in lines)


@pytest.mark.subprocess
def test_price_resolution_panel_for_an_unknown_model():
    out = run("prices", "no-such-model-x1", columns=200).stdout
    assert "priced   no — not in genai-prices" in out
    assert "fix      add a price under [[prices.overrides]] in costlens.toml" in out


@pytest.mark.subprocess
def test_failed_calls_undated_model_is_folded(sample_db):
    data = json.loads(run("report", "--db", sample_db, "--config", TOML, "-f", "json").stdout)
    models = {row["model"]: row for row in data["by_model"]}
    # 146 / 71 / 18 / 14 / 2 failed calls logged only the model they asked for (gpt-4o, gpt-4o-mini, …)
    assert set(models) == {
        "claude-opus-4-1-20250805",
        "gpt-4o-2024-08-06",
        "claude-sonnet-4-5-20250929",
        "gpt-4.1",
        "gpt-4o-mini-2024-07-18",
        "gemini-2.5-flash",
        "gpt-4.1-nano",
        "gpt-5-mini-2025-08-07",
        "claude-haiku-4-5-20251001",
    }
    assert models["gpt-4o-2024-08-06"]["calls"] == 8_819 + 146
    assert models["gpt-4o-mini-2024-07-18"]["calls"] == 3_945 + 71
    assert models["claude-opus-4-1-20250805"]["calls"] == 1_756 + 18
    assert sum(row["calls"] for row in data["by_model"]) == data["totals"]["calls"] == 26_138


@pytest.mark.subprocess
def test_flex_priced_at_standard_is_a_warning(sample_db):
    data = json.loads(run("report", "--db", sample_db, "--config", TOML, "-f", "json").stdout)
    assert data["coverage"]["variant_fallbacks"] == [
        {
            "provider": "azure.openai",
            "model": "gpt-5-mini-2025-08-07",
            "variant": "flex",
            "calls": 65,
            "cost_usd": data["coverage"]["variant_fallbacks"][0]["cost_usd"],
        }
    ]
    cost = Decimal(str(data["coverage"]["variant_fallbacks"][0]["cost_usd"]))
    assert cost > 0
    assert (
        f"65 flex calls of azure.openai / gpt-5-mini-2025-08-07 priced at the standard price (${cost:,.2f}): the "
        'price book has no flex price for it — add one under [[prices.overrides]] (variant = "flex") in '
        "costlens.toml"
    ) in data["warnings"]


@pytest.mark.subprocess
def test_route_to_an_alias_is_judged_as_its_dated_id(sample_db):
    results = {}
    for target in ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"):
        proc = run(
            "whatif", f"route feature=doc-extractor to={target}", "--db", sample_db, "--config", TOML, "-f", "json"
        )
        assert proc.returncode == 0, proc.stderr
        results[target] = json.loads(proc.stdout)
    alias, dated = results["gpt-4o-mini"], results["gpt-4o-mini-2024-07-18"]
    for key in ("calls_affected", "before_usd", "after_usd", "savings_usd", "quality_risk", "quality_reason"):
        assert alias[key] == dated[key], key
    assert alias["calls_affected"] == 8_965  # the doc-extractor calls on gpt-4o (8,819 answered + 146 failed)
    assert alias["assumptions"][0] == (
        "gpt-4o-mini is gpt-4o-mini-2024-07-18 in the data: the route is priced and judged as gpt-4o-mini-2024-07-18"
    )
