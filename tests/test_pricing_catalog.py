"""Hand-computed prices through build_price_book + the priced_calls view, config validation and explain()."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import duckdb
import pytest

from costlens.pricing import (
    CATALOG_SOURCE,
    PricesConfigError,
    build_price_book,
    create_priced_calls_view,
    explain,
    install_macros,
)
from costlens.pricing.stored import store_call_costs
from costlens.sqlfiles import load_sql, sql_files

D = Decimal


def make_db(calls: list[dict]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in sql_files("schema"):
        con.execute(load_sql(name))
    for i, call in enumerate(calls):
        row = {
            "call_id": call.get("call_id", f"c{i}"),
            "source_format": "test",
            "source_file": "hand",
            "source_sha256": "0" * 64,
            "source_row": i,
            "status": "ok",
            "provider": "openai",
            "service_tier": None,
            "is_batch": False,
            "input_tokens": 0,
            "cache_read_tokens": 0,
            "cache_write_5m_tokens": 0,
            "cache_write_1h_tokens": 0,
            "output_tokens": 0,
            "reasoning_tokens": 0,
            **call,
        }
        columns = ", ".join(row)
        con.execute(f"INSERT INTO calls ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    return con


def price(calls: list[dict], prices_config: dict | None = None) -> dict[str, dict]:
    """Build the price book and return priced_calls rows by call_id."""
    con = make_db(calls)
    build_price_book(con, prices_config)
    store_call_costs(con)  # price once: what ingest does after loading
    create_priced_calls_view(con)
    cursor = con.execute("SELECT * FROM priced_calls")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def test_gpt_4o_cached_tokens():
    # $2.50 input, $1.25 cache read, $10 output per Mtok
    row = price(
        [
            {
                "call_id": "a",
                "model": "gpt-4o",
                "ts": datetime(2025, 6, 1, 12),
                "input_tokens": 1_000,
                "cache_read_tokens": 3_000,
                "output_tokens": 500,
            }
        ]
    )["a"]
    assert row["input_cost_usd"] == D("0.0025")
    assert row["cache_read_cost_usd"] == D("0.00375")
    assert row["output_cost_usd"] == D("0.005")
    assert row["cost_usd"] == D("0.01125")
    assert row["total_input_tokens"] == 4_000
    assert row["priced"] is True and row["variant"] == "standard"


def test_claude_sonnet_4_5_cache_writes_5m_and_1h():
    # $3 input, $0.30 read, $3.75 5m write, $6 1h write, $15 output (below the 200k tier)
    row = price(
        [
            {
                "call_id": "a",
                "provider": "anthropic",
                "model": "claude-sonnet-4-5",
                "ts": datetime(2025, 10, 1),
                "input_tokens": 10_000,
                "cache_read_tokens": 5_000,
                "cache_write_5m_tokens": 20_000,
                "cache_write_1h_tokens": 10_000,
                "output_tokens": 2_000,
            }
        ]
    )["a"]
    assert row["input_cost_usd"] == D("0.03")
    assert row["cache_read_cost_usd"] == D("0.0015")
    assert row["cache_write_cost_usd"] == D("0.075") + D("0.06")
    assert row["output_cost_usd"] == D("0.03")
    assert row["cost_usd"] == D("0.1965")


def test_gemini_2_5_pro_long_context_whole_request_at_tier_price():
    calls = [
        # 150k uncached + 60k cached = 210k > 200k: every token at the tier price ($2.50 / $0.25 / $15)
        {
            "call_id": "above",
            "provider": "google",
            "model": "gemini-2.5-pro",
            "ts": datetime(2025, 7, 1),
            "input_tokens": 150_000,
            "cache_read_tokens": 60_000,
            "output_tokens": 1_000,
        },
        # exactly 200k is not above the threshold: base prices ($1.25 / $10)
        {
            "call_id": "at",
            "provider": "google",
            "model": "gemini-2.5-pro",
            "ts": datetime(2025, 7, 1),
            "input_tokens": 200_000,
            "output_tokens": 1_000,
        },
    ]
    rows = price(calls)
    assert rows["above"]["cost_usd"] == D("0.375") + D("0.015") + D("0.015")
    assert rows["at"]["cost_usd"] == D("0.25") + D("0.01")


def test_batch_call():
    calls = [
        # gpt-5 batch prices ($0.625 / $5) start 2026-10-14 in this catalog
        {
            "call_id": "batch",
            "model": "gpt-5",
            "ts": datetime(2026, 11, 1),
            "is_batch": True,
            "input_tokens": 1_000_000,
            "output_tokens": 100_000,
        },
        {
            "call_id": "tier",
            "model": "gpt-5",
            "ts": datetime(2026, 11, 1),
            "service_tier": "batch",
            "input_tokens": 1_000_000,
            "output_tokens": 100_000,
        },
        # before the catalog has a batch price: standard ($1.25 / $10), flagged variant_applied = false
        {
            "call_id": "early",
            "model": "gpt-5",
            "ts": datetime(2025, 11, 1),
            "is_batch": True,
            "input_tokens": 1_000_000,
            "output_tokens": 100_000,
        },
    ]
    rows = price(calls)
    for call_id in ("batch", "tier"):
        assert rows[call_id]["variant"] == "batch" and rows[call_id]["variant_applied"] is True
        assert rows[call_id]["cost_usd"] == D("0.625") + D("0.5")
    assert rows["early"]["variant_applied"] is False
    assert rows["early"]["cost_usd"] == D("1.25") + D("1")


def test_variant_ignored_for_model_borrowed_from_fallback_provider():
    # azure has no gpt-4o of its own: genai-prices borrows openai's and then ignores the price context
    row = price(
        [
            {
                "call_id": "a",
                "provider": "azure.openai",
                "model": "gpt-4o",
                "service_tier": "priority",
                "ts": datetime(2026, 11, 1),
                "input_tokens": 1_000_000,
            }
        ]
    )["a"]
    assert row["variant"] == "priority" and row["variant_applied"] is False
    assert row["cost_usd"] == D("2.5")
    info = explain("azure.openai", "gpt-4o", "priority", datetime(2026, 11, 1))
    assert info["via_fallback_provider"] is True and info["catalog_provider"] == "azure"


def test_unknown_model_is_unpriced_never_zero():
    calls = [
        {"call_id": "unknown", "model": "gpt-nonexistent", "ts": datetime(2025, 1, 1), "input_tokens": 10},
        {"call_id": "noprov", "provider": "acme", "model": "acme-1", "ts": datetime(2025, 1, 1)},
        {"call_id": "known", "model": "gpt-4o", "ts": datetime(2025, 1, 1), "input_tokens": 10},
    ]
    con = make_db(calls)
    summary = build_price_book(con)
    store_call_costs(con)
    create_priced_calls_view(con)
    query = "SELECT call_id, priced, cost_usd, input_cost_usd FROM priced_calls"
    rows = {r[0]: r[1:] for r in con.execute(query).fetchall()}
    assert rows["unknown"] == (False, None, None)
    assert rows["noprov"] == (False, None, None)
    assert rows["known"][0] is True
    listed = con.execute("SELECT provider, model, variant, reason FROM unpriced_models ORDER BY model").fetchall()
    assert [(p, m, v) for p, m, v, _ in listed] == [
        ("acme", "acme-1", "standard"),
        ("openai", "gpt-nonexistent", "standard"),
    ]
    assert all(reason.startswith(f"not in {CATALOG_SOURCE}") for *_, reason in listed)
    assert summary.keys == 3 and summary.priced_keys == 1 and len(summary.unpriced) == 2


def test_model_without_token_prices_is_unpriced():
    # whisper is priced per audio hour only
    con = make_db([{"provider": "openai", "model": "whisper-1", "ts": datetime(2025, 1, 1), "input_tokens": 5}])
    build_price_book(con)
    (reason,) = con.execute("SELECT reason FROM unpriced_models").fetchone()
    assert "no token price" in reason


def test_override_and_discount():
    config = {
        "overrides": [
            # negotiated gpt-4o price for 2025 only
            {
                "provider": "openai",
                "model": "gpt-4o",
                "valid_from": "2025-01-01",
                "valid_to": "2026-01-01",
                "input_mtok": 2,
                "output_mtok": 8,
            },
            # a model the catalog does not know
            {"provider": "openai", "model": "in-house-ft", "input_mtok": 1.5, "output_mtok": 3, "cache_read_mtok": 0},
        ],
        "discounts": [{"provider": "anthropic", "model": "claude-*", "pct": 10}],
    }
    calls = [
        {
            "call_id": "override",
            "model": "gpt-4o",
            "ts": datetime(2025, 6, 1),
            "input_tokens": 1_000_000,
            "cache_read_tokens": 1_000_000,
            "output_tokens": 1_000_000,
        },
        {"call_id": "after", "model": "gpt-4o", "ts": datetime(2026, 2, 1), "input_tokens": 1_000_000},
        {
            "call_id": "new",
            "model": "in-house-ft",
            "ts": datetime(2025, 6, 1),
            "input_tokens": 1_000_000,
            "cache_read_tokens": 1_000_000,
            "output_tokens": 1_000_000,
        },
        {
            "call_id": "discount",
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "ts": datetime(2025, 10, 1),
            "input_tokens": 100_000,
            "output_tokens": 100_000,
        },
    ]
    rows = price(calls, config)
    # cache reads default to the override's input price
    assert rows["override"]["cost_usd"] == D("2") + D("2") + D("8")
    assert rows["override"]["price_source"] == "override: prices.overrides[0]"
    assert rows["after"]["cost_usd"] == D("2.5")  # catalog again after the override window
    assert rows["new"]["cost_usd"] == D("1.5") + D("0") + D("3")
    # (0.1 Mtok × $3 + 0.1 Mtok × $15) × 0.9
    assert rows["discount"]["cost_usd"] == D("1.62")
    assert rows["discount"]["discount_pct"] == D("10")
    info = explain("anthropic", "claude-sonnet-4-5", "standard", datetime(2025, 10, 1), prices_config=config)
    assert info["discount"] == "prices.discounts[0]" and info["prices"]["input_mtok"] == D("2.7")


def test_deepseek_off_peak():
    # deepseek-chat: $0.27 / $1.10 from 00:30 to 16:30 UTC, $0.135 / $0.55 off-peak
    def call(call_id: str, ts: datetime) -> dict:
        return {
            "call_id": call_id,
            "provider": "deepseek",
            "model": "deepseek-chat",
            "ts": ts,
            "input_tokens": 1_000_000,
            "output_tokens": 1_000_000,
        }

    rows = price(
        [
            call("peak", datetime(2025, 6, 1, 10)),
            call("off", datetime(2025, 6, 1, 17)),
            call("last_peak_second", datetime(2025, 6, 1, 16, 29, 59)),
            call("first_off_second", datetime(2025, 6, 1, 16, 30)),
            call("last_off_second", datetime(2025, 6, 2, 0, 29, 59)),
            call("first_peak_second", datetime(2025, 6, 2, 0, 30)),
        ]
    )
    peak, off = D("1.37"), D("0.685")
    assert {k: r["cost_usd"] for k, r in rows.items()} == {
        "peak": peak,
        "off": off,
        "last_peak_second": peak,
        "first_off_second": off,
        "last_off_second": off,
        "first_peak_second": peak,
    }
    info = explain("deepseek", "deepseek-chat", "standard", datetime(2025, 6, 1, 10))
    assert "daily 00:30–16:30 UTC" in info["matched_rule"]


def test_price_change_across_date_boundary():
    # o3 went from $10 / $40 to $2 / $8 on 2025-06-10 (UTC)
    def call(call_id: str, ts: datetime) -> dict:
        return {"call_id": call_id, "model": "o3", "ts": ts, "input_tokens": 1_000_000, "output_tokens": 1_000_000}

    rows = price([call("before", datetime(2025, 6, 9, 23, 59, 59)), call("after", datetime(2025, 6, 10))])
    assert rows["before"]["cost_usd"] == D("50")
    assert rows["after"]["cost_usd"] == D("10")
    info = explain("openai", "o3", "standard", datetime(2025, 6, 10))
    assert info["valid_from"] == datetime(2025, 6, 10)
    assert "from 2025-06-10" in info["matched_rule"]


def test_reasoning_priced_at_its_own_rate():
    # sonar-deep-research: $8 output, $3 reasoning
    row = price(
        [
            {
                "call_id": "a",
                "provider": "perplexity",
                "model": "sonar-deep-research",
                "ts": datetime(2026, 1, 1),
                "output_tokens": 1_000_000,
                "reasoning_tokens": 400_000,
            }
        ]
    )["a"]
    assert row["output_cost_usd"] == D("4.8") + D("1.2")


def test_null_provider_is_found_from_the_model_name():
    row = price(
        [{"call_id": "a", "provider": None, "model": "gpt-4o", "ts": datetime(2025, 1, 1), "input_tokens": 1_000_000}]
    )["a"]
    assert row["cost_usd"] == D("2.5")


def test_costs_are_exact_decimals_and_rebuild_replaces():
    con = make_db([{"model": "gpt-4o", "ts": datetime(2025, 1, 1), "input_tokens": 7, "output_tokens": 3}])
    first = build_price_book(con)
    second = build_price_book(con)
    store_call_costs(con)
    create_priced_calls_view(con)
    assert con.execute("SELECT count(*) FROM price_book").fetchone()[0] == first.rows == second.rows
    types = con.execute(
        "SELECT DISTINCT typeof(input_cost_usd), typeof(output_cost_usd), typeof(cost_usd) FROM priced_calls"
    ).fetchall()
    assert types == [("DECIMAL(38,18)",) * 3]
    # 7 × 2.5 / 1e6 + 3 × 10 / 1e6, with no binary floating point anywhere
    assert con.execute("SELECT cost_usd FROM priced_calls").fetchone()[0] == D("0.0000475")


def test_pricing_variant_macro():
    con = duckdb.connect()
    install_macros(con)
    cases = [
        (None, None, "standard"),
        ("standard", False, "standard"),
        ("default", None, "standard"),
        ("batch", None, "batch"),
        (None, True, "batch"),
        ("flex", True, "batch"),
        ("flex", False, "flex"),
        ("priority", None, "priority"),
    ]
    for tier, is_batch, expected in cases:
        assert con.execute("SELECT pricing_variant(?::VARCHAR, ?::BOOLEAN)", [tier, is_batch]).fetchone()[0] == expected


def _override(**changes) -> dict:
    return {"overrides": [{"provider": "openai", "model": "gpt-4o", "input_mtok": 1, "output_mtok": 2, **changes}]}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (
            {"overrides": [{"model": "gpt-4o", "input_mtok": 1, "output_mtok": 2}]},
            "prices.overrides[0]: missing or empty provider",
        ),
        ({"overrides": [{"provider": "openai", "model": "gpt-4o", "output_mtok": 2}]}, "missing input_mtok"),
        (_override(input_mtok=-1), "not a valid price"),
        (_override(input_mtok="cheap"), "not a number"),
        (_override(variant="turbo"), "variant 'turbo'"),
        (_override(inptu_mtok=1), "unknown key 'inptu_mtok'"),
        (_override(valid_from="2026-01-01", valid_to="2025-01-01"), "is not before valid_to"),
        ({"overrides": _override()["overrides"] * 2}, "overlaps"),
        ({"discounts": [{"provider": "openai", "pct": 120}]}, "prices.discounts[0]: pct 120 is out of range"),
        ({"discounts": [{"model": "gpt-*"}]}, "missing pct"),
        ({"discount": []}, "prices.discount is not a known setting"),
    ],
)
def test_bad_config_is_one_line_value_error(config, fragment):
    con = make_db([])
    with pytest.raises(ValueError) as caught:
        build_price_book(con, config)
    message = str(caught.value)
    assert fragment in message and "\n" not in message and " — " in message  # names the entry, then the fix
    assert isinstance(caught.value, PricesConfigError)


def test_explain_unknown_model():
    info = explain("openai", "gpt-nonexistent", "standard", datetime(2025, 1, 1))
    assert info["priced"] is False and "Unable to find model" in info["reason"]
