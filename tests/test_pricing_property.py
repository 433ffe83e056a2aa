"""Property: the SQL price of every call equals genai_prices.calc_price for the same call.

Hypothesis generates the calls (derandomized, a fixed number of examples); all of them are then priced in
ONE database with one build_price_book + one query of the priced_calls view, and compared one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from genai_prices import Usage, calc_price
from genai_prices.data import providers
from genai_prices.types import ModelPrice, StartDateConstraint, TieredPrices, TimeOfDateConstraint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costlens.pricing import build_price_book, create_priced_calls_view
from costlens.pricing.stored import store_call_costs
from costlens.sqlfiles import load_sql, sql_files

N_CALLS = 1500
MIN_MODELS = 50
START, END = datetime(2024, 1, 1), datetime(2026, 12, 31, 23, 59, 59)

# genai-prices provider id → how calls name it (the test's own copy of the canonical mapping).
CANONICAL = {
    "openai": ["openai"],
    "anthropic": ["anthropic"],
    "google": ["google", "gcp.vertex_ai"],
    "mistral": ["mistral"],
    "deepseek": ["deepseek"],
    "aws": ["aws.bedrock"],
    "azure": ["azure.openai"],
    "x-ai": ["x_ai"],
    "groq": ["groq"],
    "cohere": ["cohere"],
    "perplexity": ["perplexity"],
    "fireworks": ["fireworks"],
}
VARIANT_CONTEXT = {
    "standard": None,
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}


@dataclass(frozen=True)
class Candidate:
    provider: str | None  # as in calls
    provider_id: str | None  # for calc_price
    model: str
    date_cuts: tuple[datetime, ...]  # start dates of its prices / variants
    tod_cuts: tuple[int, ...]  # time-of-day boundaries (seconds)


def _price_entries(model):
    entries = [model.prices] if isinstance(model.prices, ModelPrice) else [c.prices for c in model.prices]
    return entries + [v.prices for v in model.price_variants or ()]


def _constraints(model):
    conditional = [] if isinstance(model.prices, ModelPrice) else [c.constraint for c in model.prices]
    return conditional + [v.constraint for v in model.price_variants or ()]


def _candidate(provider, provider_id, model):
    cons = _constraints(model)
    dates = tuple(
        day
        for c in cons
        if isinstance(c, StartDateConstraint) and START < (day := datetime.combine(c.start_date, time())) < END
    )
    tods = tuple(
        t.hour * 3600 + t.minute * 60
        for c in cons
        if isinstance(c, TimeOfDateConstraint)
        for t in (c.start_time, c.end_time)
    )
    return Candidate(provider, provider_id, model.id, dates, tods)


def _candidates() -> list[Candidate]:
    by_id = {p.id: p for p in providers}
    out = []
    for catalog_id, names in CANONICAL.items():
        provider = by_id[catalog_id]
        for model in provider.models:
            has_tokens = any(e.input_mtok is not None or e.output_mtok is not None for e in _price_entries(model))
            # only ids that resolve back to themselves, so calls name the model unambiguously
            if has_tokens and provider.find_model(model.id, all_providers=providers) is model:
                out += [_candidate(name, catalog_id, model) for name in names]
    # Borrowed through a provider fallback (calc_price ignores variants), and no provider at all.
    for ref in ("gpt-4o", "gpt-4o-mini", "gpt-5", "o3", "gpt-4.1"):
        out.append(_candidate("azure.openai", "azure", by_id["openai"].find_model(ref)))
        out.append(_candidate(None, None, by_id["openai"].find_model(ref)))
    for ref in ("claude-sonnet-4-5", "claude-3-5-haiku-latest"):
        out.append(_candidate(None, None, by_id["anthropic"].find_model(ref)))
    # Unknown to the catalog: must come out unpriced (NULL), never $0.
    out += [Candidate("openai", "openai", "gpt-unknown-9", (), ()), Candidate("acme", "acme", "acme-1", (), ())]
    return out


CANDIDATES = _candidates()
# Models with the tricky pricing (tiers, off-peak, dated changes, reasoning, fallbacks), drawn more often.
FOCUS_MODELS = {
    "gpt-4o",
    "gpt-5",
    "o3",
    "claude-sonnet-4-5",
    "claude-opus-4-6",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "deepseek-chat",
    "deepseek-reasoner",
    "deepseek-v4-flash",
    "deepseek-v4-pro",
    "mistral-medium-latest",
    "grok-4.20",
    "sonar-deep-research",
    "sonar",
    "gpt-5.6-luna",
    "gpt-unknown-9",
    "acme-1",
}
FOCUS = [c for c in CANDIDATES if c.model in FOCUS_MODELS]
THRESHOLDS = sorted(
    {
        t.start
        for p in providers
        for m in p.models
        for e in _price_entries(m)
        for v in e.__dict__.values()
        if isinstance(v, TieredPrices)
        for t in v.tiers
    }
)
TIER_SETTINGS = [  # (service_tier, is_batch) as producers write them
    (None, None),
    ("standard", False),
    ("default", None),
    ("batch", None),
    (None, True),
    ("flex", False),
    ("flex", True),
    ("priority", None),
    ("priority", False),
]


def _seconds(ts: datetime) -> int:
    return ts.hour * 3600 + ts.minute * 60 + ts.second


@st.composite
def timestamps(draw, cand: Candidate) -> datetime:
    plain = st.datetimes(min_value=START, max_value=END).map(lambda d: d.replace(microsecond=0))
    near = st.integers(-2, 2)  # seconds around a boundary: the last old-price second and the first new one
    choices = [plain]
    if cand.date_cuts:  # at a price change
        choices.append(st.tuples(st.sampled_from(cand.date_cuts), near).map(lambda c: c[0] + timedelta(seconds=c[1])))
    if cand.tod_cuts:  # at an off-peak boundary, on a random day
        day = draw(plain).replace(hour=0, minute=0, second=0)
        choices.append(
            st.tuples(st.sampled_from(cand.tod_cuts), near).map(lambda c: day + timedelta(seconds=c[0] + c[1]))
        )
    return draw(st.one_of(choices))


@st.composite
def calls(draw) -> dict:
    cand = draw(st.one_of(st.sampled_from(CANDIDATES), st.sampled_from(FOCUS)))
    total = draw(
        st.one_of(
            st.integers(0, 5_000),
            st.integers(0, 700_000),
            st.sampled_from(THRESHOLDS).flatmap(lambda t: st.integers(t - 1, t + 1)),
        )
    )
    cache_read = draw(st.one_of(st.just(0), st.integers(0, total)))
    cw5m = draw(st.one_of(st.just(0), st.integers(0, total - cache_read)))
    cw1h = draw(st.one_of(st.just(0), st.integers(0, total - cache_read - cw5m)))
    output = draw(st.integers(0, 60_000))
    service_tier, is_batch = draw(st.sampled_from(TIER_SETTINGS))
    return {
        "provider": cand.provider,
        "provider_id": cand.provider_id,
        "model": cand.model,
        "ts": draw(timestamps(cand)),
        "service_tier": service_tier,
        "is_batch": is_batch,
        "input_tokens": total - cache_read - cw5m - cw1h,
        "cache_read_tokens": cache_read,
        "cache_write_5m_tokens": cw5m,
        "cache_write_1h_tokens": cw1h,
        "output_tokens": output,
        "reasoning_tokens": draw(st.one_of(st.just(0), st.integers(0, output))),
    }


def generate_calls() -> list[dict]:
    generated: list[dict] = []

    @settings(
        max_examples=N_CALLS,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(call=calls())
    def collect(call: dict) -> None:
        generated.append(call)

    collect()
    return generated


def variant_of(call: dict) -> str:
    if call["is_batch"] or call["service_tier"] == "batch":
        return "batch"
    return call["service_tier"] if call["service_tier"] in ("flex", "priority") else "standard"


def reference_cost(call: dict) -> Decimal | None:
    """genai-prices' own price; None where it cannot price the call (unknown model, no token price)."""
    cache_write = call["cache_write_5m_tokens"] + call["cache_write_1h_tokens"]
    usage = Usage(
        input_tokens=call["input_tokens"] + call["cache_read_tokens"] + cache_write,  # inclusive
        cache_read_tokens=call["cache_read_tokens"],
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=call["cache_write_1h_tokens"],
        output_tokens=call["output_tokens"],
        # reasoning is a subset of output; it only matters where output_reasoning_mtok is priced
        output_reasoning_tokens=call["reasoning_tokens"],
    )
    try:
        result = calc_price(
            usage,
            call["model"],
            provider_id=call["provider_id"],
            genai_request_timestamp=call["ts"],
            price_context=VARIANT_CONTEXT[variant_of(call)],
        )
    except LookupError:
        return None
    if result.model_price.input_mtok is None and result.model_price.output_mtok is None:
        return None
    return result.total_price


def price_in_sql(generated: list[dict]) -> dict[str, tuple]:
    con = duckdb.connect()
    for name in sql_files("schema"):
        con.execute(load_sql(name))
    table = pa.Table.from_pylist(
        [
            {
                "call_id": str(i),
                "source_format": "test",
                "source_file": "property",
                "source_sha256": "0" * 64,
                "source_row": i,
                "status": "ok",
                **{k: v for k, v in call.items() if k != "provider_id"},
            }
            for i, call in enumerate(generated)
        ]
    )
    con.register("generated", table)
    con.execute("INSERT INTO calls BY NAME SELECT * FROM generated")
    build_price_book(con)
    store_call_costs(con)  # price once, as ingest does: priced_calls reads the stored costs
    create_priced_calls_view(con)
    rows = con.execute(
        "SELECT call_id, cost_usd, priced, variant, variant_applied, total_input_tokens, typeof(cost_usd) "
        "FROM priced_calls"
    ).fetchall()
    assert len(rows) == len(generated), "a call matched more than one price_book row"
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def priced():
    generated = generate_calls()
    return generated, price_in_sql(generated)


@pytest.mark.slow
def test_sql_cost_equals_calc_price(priced):
    generated, by_id = priced
    models = {c["model"] for c in generated}
    print(
        f"\nproperty test: {len(generated)} calls, {len(models)} distinct models, "
        f"{len({(c['provider'], c['model']) for c in generated})} provider/model pairs"
    )
    assert len(generated) >= 1000
    assert len(models) >= MIN_MODELS

    mismatches = []
    for i, call in enumerate(generated):
        sql_cost, _, _, _, _, sql_type = by_id[str(i)]
        expected = reference_cost(call)
        assert sql_type == "DECIMAL(38,18)"
        if expected is None or sql_cost is None:
            ok = expected is None and sql_cost is None
        else:
            ok = abs(sql_cost - expected) <= Decimal("1e-9") * abs(expected) + Decimal("1e-15")
        if not ok:
            mismatches.append((call, sql_cost, expected))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"


@pytest.mark.slow
def test_generator_reached_the_hard_cases(priced):
    """The comparison above is only as good as what it compared: check the tricky regions were hit."""
    generated, by_id = priced
    rows = [(c, by_id[str(i)]) for i, c in enumerate(generated)]
    tiered = {"gemini-2.5-pro", "claude-sonnet-4-5", "claude-sonnet-4", "gpt-5.4", "gemini-2.5-flash"}
    assert sum(1 for c, r in rows if r[1] and r[4] > 200_000) >= 50  # priced above a long-context threshold
    assert any(c["model"] in tiered and r[4] > 200_000 for c, r in rows)
    assert sum(1 for c, r in rows if r[2] != "standard" and r[3]) >= 20  # a variant price applied
    assert sum(1 for c, r in rows if r[2] != "standard" and r[3] is False) >= 20  # variant missing → standard
    assert {r[2] for _, r in rows} == {"standard", "batch", "flex", "priority"}
    # deepseek-chat / -reasoner: peak 00:30-16:30 UTC, off-peak the rest of the day
    deepseek = [c for c in generated if c["model"] in ("deepseek-chat", "deepseek-reasoner")]
    assert any(not 1800 <= _seconds(c["ts"]) < 59400 for c in deepseek), "no deepseek call in off-peak hours"
    assert any(1800 <= _seconds(c["ts"]) < 59400 for c in deepseek), "no deepseek call in peak hours"
    assert any(not r[1] for _, r in rows)  # unknown models present, and unpriced
    years = {c["ts"].year for c in generated}
    assert years == {2024, 2025, 2026}
