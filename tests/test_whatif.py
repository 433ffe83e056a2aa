"""What-if re-pricing against hand-computed figures.

Fixture tests/fixtures/economics (see tests/test_report_economics.py), October 2026, prices by override:
acme-large $10 in / $30 out / $1 cache read per Mtok; acme-small $1 / $2 / $0.1 (cache writes at input price).
Calls (µ$ = 1e-6 USD):
  alpha  A1c1 large 600 in + 400 cache read + 100 out = 9,400   A1c2 small 2000 in / 200 out = 2,400
         A2   small 500 / 50 = 600    A3c1 large failed 300 / 0 = 3,000    A3c2 large 300 / 100 = 6,000
  beta   B1 × 3 small 1000 / 100 = 1,200 each      B2 mystery-model: unpriced, left out
Total before: 25,000 µ$ = $0.025.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from costlens import db
from costlens.config import Config, load_config
from costlens.engine import compute_period_metrics, prepare_priced_calls
from costlens.errors import UsageError
from costlens.model.report import Period
from costlens.whatif import difference_bounds, parse_change, parse_changes, two_proportion_p_value, whatif

from conftest import FIXTURES

ECON = FIXTURES / "economics"
OCTOBER = Period(date(2026, 10, 1), date(2026, 11, 1))
U = D("0.000001")  # one micro-dollar


@pytest.fixture(scope="module")
def econ():
    from costlens.ingest.runner import ingest_paths

    con = db.connect(":memory:")
    config = load_config(ECON / "costlens.toml")
    ingest_paths(con, [str(ECON / "spans.jsonl"), str(ECON / "outcomes.csv")], config)
    prepare_priced_calls(con, config)
    compute_period_metrics(con, config, OCTOBER)
    yield con, config
    con.close()


def by_feature(result):
    return {f.feature: f for f in result.by_feature}


@pytest.mark.slow
def test_route_feature_to_cheaper_model(econ):
    """alpha's large calls at small prices: A1c1 600·1 + 400·0.1 + 100·2 = 840; A3c1 300; A3c2 300 + 200 = 500.
    alpha after = 840 + 2,400 + 600 + 300 + 500 = 4,640 (was 21,400); saving 16,760 µ$."""
    con, config = econ
    r = whatif(con, config, "route feature=alpha to=acme-small")
    assert r.before_usd == 25000 * U
    assert r.after_usd == 8240 * U
    assert r.savings_usd == 16760 * U
    assert r.savings_pct == pytest.approx(16760 / 25000 * 100)
    assert r.est_monthly_savings_usd == 16760 * U * D("30.44") / D(31)
    assert r.calls_affected == 3 and r.calls == 9 and r.unpriced_calls == 1
    alpha, beta = by_feature(r)["alpha"], by_feature(r)["beta"]
    assert (alpha.before_usd, alpha.after_usd, alpha.calls_affected) == (21400 * U, 4640 * U, 3)
    assert (beta.before_usd, beta.after_usd, beta.calls_affected) == (3600 * U, 3600 * U, 0)
    # quality: acme-small tasks in alpha: A1 accepted, A2 not → 1/2; acme-large tasks A1, A3 → 2/2
    detail = r.changes[0].detail
    assert detail["target_provider"] == "acme" and detail["from_models"] == ["acme-large"]
    assert (detail["target_tasks_with_outcome"], detail["target_acceptance_rate"]) == (2, 0.5)
    assert (detail["source_tasks_with_outcome"], detail["source_acceptance_rate"]) == (2, 1.0)
    assert r.quality_risk == "medium"
    assert "acceptance 50.0% (n=2) vs 100.0% (n=2)" in r.quality_reason and "too few outcomes" in r.quality_reason
    assert any("keep their token counts" in a for a in r.assumptions)


def test_route_to_a_catalog_model_not_in_the_price_book(econ):
    """gpt-4.1-nano (genai-prices: $0.10 in / $0.025 cache read / $0.40 out) resolved for this what-if only:
    A1c1 60 + 10 + 40 = 110; A1c2 200 + 80 = 280; A2 50 + 20 = 70; A3c1 30; A3c2 30 + 40 = 70 → 560 µ$."""
    from genai_prices import Usage, calc_price

    con, config = econ
    r = whatif(con, config, "route feature=alpha to=gpt-4.1-nano")
    assert by_feature(r)["alpha"].after_usd == 560 * U
    assert r.calls_affected == 5
    # independently: genai-prices for the first call (1000 input incl. 400 cached, 100 output)
    price = calc_price(
        Usage(input_tokens=1000, cache_read_tokens=400, output_tokens=100), "gpt-4.1-nano", provider_id="openai"
    )
    assert price.total_price == 110 * U
    assert r.changes[0].detail["target_provider"] == "openai"
    assert r.quality_risk == "high" and "no observed outcomes in alpha" in r.quality_reason
    # the stored price book is untouched
    assert con.execute("SELECT count(*) FROM price_book WHERE model = 'gpt-4.1-nano'").fetchone()[0] == 0


def test_route_only_from_one_model(econ):
    con, config = econ
    r = whatif(con, config, "route feature=alpha from=acme-small to=acme-large")
    # A1c2 2000·10 + 200·30 = 26,000 (was 2,400); A2 5,000 + 1,500 = 6,500 (was 600)
    assert by_feature(r)["alpha"].after_usd == (9400 + 26000 + 6500 + 3000 + 6000) * U
    assert r.savings_usd < 0 and r.calls_affected == 2


def test_cap_output(econ):
    """beta capped at 50 output tokens: each B1 call 1,000 + 50·2 = 1,100 (was 1,200) → saving 300 µ$."""
    con, config = econ
    r = whatif(con, config, "cap-output feature=beta max=50")
    assert r.savings_usd == 300 * U
    assert by_feature(r)["beta"].after_usd == 3300 * U
    assert r.calls_affected == 3
    assert r.quality_risk == "high"  # every priced beta call would be cut
    assert "3 of 3 calls (100.0%)" in r.quality_reason


def test_batch_with_assumed_discount(econ):
    """acme-small has no batch price: 50 % off assumed (and said): beta 3,600 → 1,800."""
    con, config = econ
    r = whatif(con, config, "batch feature=beta")
    assert r.savings_usd == 1800 * U
    assert any("assumed 50% off" in a for a in r.assumptions)
    assert r.quality_risk == "medium" and "interactive = false" in r.quality_reason


@pytest.mark.slow
def test_batch_with_a_batch_price_and_non_interactive_feature(con, ingest):
    """A batch override (acme-small $0.4 in / $1.2 out) is used as is: B1 400 + 120 = 520 × 3 = 1,560."""
    raw = load_config(ECON / "costlens.toml").model_dump()
    raw["prices"]["overrides"].append(
        {"provider": "acme", "model": "acme-small", "variant": "batch", "input_mtok": 0.4, "output_mtok": 1.2}
    )
    raw["features"] = {"beta": {"interactive": False}}
    config = Config(**raw)
    ingest(ECON / "spans.jsonl", ECON / "outcomes.csv", config=config)
    prepare_priced_calls(con, config)
    compute_period_metrics(con, config, OCTOBER)
    r = whatif(con, config, "batch feature=beta")
    assert by_feature(r)["beta"].after_usd == 1560 * U
    assert not any("assumed" in a for a in r.assumptions)
    assert r.quality_risk == "low"


def test_prompt_caching_with_assumed_share(econ):
    """No prefixes logged: 60 % of input assumed cacheable, min 200 tokens, ttl one day.
    Eligible (no cache use, ≥ 200 cacheable): A1c2 1,200 (10-06 10:00, first: write at input price, no change),
    A2 300 (10-07 10:00, 86,400 s later: a hit): 300 × (1 − 0.1) = 270 µ$ saved. A3 calls: 180 < 200."""
    con, config = econ
    r = whatif(con, config, "cache feature=alpha share=0.6 min_tokens=200 ttl=86400")
    assert r.savings_usd == 270 * U
    assert r.calls_affected == 2
    assert r.quality_risk == "low"
    assert any(a.startswith("ASSUMPTION: 2 calls have no logged prefix; 60%") for a in r.assumptions)
    # with the default minimum (1,024 tokens) and lifetime (300 s) only A1c2 qualifies, and it is a write
    r = whatif(con, config, "cache feature=alpha share=0.6")
    assert r.calls_affected == 1 and r.savings_usd == 0


def test_several_changes_apply_in_order(econ):
    """Route alpha to acme-small (4,640), then cap alpha's output at 100: A1c2 200 → 100 tokens × $2 = 200 µ$."""
    con, config = econ
    r = whatif(con, config, "route feature=alpha to=acme-small; cap-output feature=alpha max=100")
    assert by_feature(r)["alpha"].after_usd == 4440 * U
    assert [c.kind for c in r.changes] == ["route", "cap_output"]


def test_prompt_caching_with_logged_prefixes(con):
    """Calls inserted directly with prefix fingerprints; acme-claude $3 in / $0.30 read / $3.75 write / $15 out.
    Four calls, 5,000 input (4,000-token prefix P1), 100 output; before 15,000 + 1,500 = 16,500 each.
      10:00:00 write 1,000·3 + 4,000·3.75 + 1,500 = 19,500     10:02:00 hit (120 s) 3,000 + 1,200 + 1,500 = 5,700
      10:10:00 write (480 s > 300 s ttl) 19,500                10:14:00 hit 5,700
    P2 (500-token prefix < 1,024) and a call already reading the cache are left alone."""
    rows = [
        ("c1", "10:00:00", 5000, 0, "P1", 4000, 100),
        ("c2", "10:02:00", 5000, 0, "P1", 4000, 100),
        ("c3", "10:10:00", 5000, 0, "P1", 4000, 100),
        ("c4", "10:14:00", 5000, 0, "P1", 4000, 100),
        ("c5", "10:15:00", 2000, 0, "P2", 500, 50),
        ("c6", "10:16:00", 1000, 4000, "P1", 4000, 100),
    ]
    for call_id, hms, inp, cached, prefix, prefix_tokens, out in rows:
        con.execute(
            "INSERT INTO calls (call_id, source_format, source_file, source_sha256, source_row, ts, provider, model, "
            "input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, "
            "reasoning_tokens, status, feature, task_id, prefix_hash, prefix_tokens) VALUES "
            "(?, 'test', 't', 'x', 1, ?, 'acme', 'acme-claude', ?, ?, 0, 0, ?, 0, 'ok', 'agent', ?, ?, ?)",
            [call_id, f"2026-10-05 {hms}", inp, cached, out, call_id, prefix, prefix_tokens],
        )
    config = Config(
        prices={
            "overrides": [
                {
                    "provider": "acme",
                    "model": "acme-claude",
                    "input_mtok": 3,
                    "output_mtok": 15,
                    "cache_read_mtok": 0.3,
                    "cache_write_5m_mtok": 3.75,
                }
            ]
        }
    )
    prepare_priced_calls(con, config)
    compute_period_metrics(con, config, OCTOBER)
    r = whatif(con, config, "cache feature=agent")
    assert r.calls_affected == 4
    before_p1 = 4 * 16500
    assert r.savings_usd == (before_p1 - (2 * 19500 + 2 * 5700)) * U
    assert not any(a.startswith("ASSUMPTION") for a in r.assumptions)
    # a longer lifetime turns the second write into a hit
    r = whatif(con, config, "cache feature=agent ttl=3600")
    assert r.savings_usd == (before_p1 - (19500 + 3 * 5700)) * U


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no change given"),
        ("   ;  ", "no change given"),
        ("reroute feature=a to=b", "unknown change 'reroute'"),
        ("route feature=a", "route needs to=MODEL"),
        ("route feature=a to", "'to' is not key=value"),
        ("route feature=a to=b to=c", "to= is given twice"),
        ("batch feature=a to=x", "batch does not take to="),
        ("cap-output feature=a", "cap-output needs max=N"),
        ("cap-output feature=a max=ten", "max='ten' is not a whole number"),
        ("cap-output feature=a max=0", "max=0 must be at least 1"),
        ("cache feature=a share=2", "share=2 must be above 0 and at most 1"),
        ("cache feature=a share=lots", "share='lots' is not a number"),
        ('route feature="a to=b', "cannot split it into words"),
    ],
)
def test_bad_change_strings(text, message):
    with pytest.raises(UsageError) as info:
        parse_changes(text)
    line = str(info.value)
    assert message in line and "\n" not in line and " — " in line  # message, then the fix


def test_parse_forms():
    c = parse_change('route feature="support bot" to=gpt-4.1-mini provider=openai')
    assert (c.kind, c.feature, c.target_model, c.target_provider) == ("route", "support bot", "gpt-4.1-mini", "openai")
    assert parse_change("cap feature=* max_tokens=1_000").max_output_tokens == 1000
    assert parse_change("prompt-cache share=50%").cacheable_share == 0.5
    assert parse_change("batch").feature is None


def test_unknown_feature_and_unpriceable_target(econ):
    con, config = econ
    with pytest.raises(UsageError, match="feature 'gamma' has no calls in the period — use one of: alpha, beta"):
        whatif(con, config, "route feature=gamma to=acme-small")
    with pytest.raises(UsageError, match=r"cannot price acme/no-such-model \(standard\).*prices.overrides"):
        whatif(con, config, "route feature=alpha to=no-such-model provider=acme")


def test_needs_the_period_tables():
    con = db.connect(":memory:")
    try:
        with pytest.raises(UsageError, match="compute_period_metrics"):
            whatif(con, Config(), "batch feature=a")
    finally:
        con.close()


def test_bad_whatif_settings():
    from costlens.errors import ConfigError
    from costlens.settings.levers import whatif_settings

    with pytest.raises(ConfigError, match="whatif.cacheable_share"):
        whatif_settings({"whatif": {"cacheable_share": 3}})
    with pytest.raises(ConfigError, match="whatif.share is not a known setting"):
        whatif_settings({"whatif": {"share": 0.5}})
    assert whatif_settings({"whatif": {"assumed_batch_discount_pct": 40}}).assumed_batch_discount_pct == 40


def test_two_proportion_test():
    # 95/100 vs 96/100: not significant; 80/200 vs 120/200: significant
    assert two_proportion_p_value(95, 100, 96, 100) > 0.5
    assert two_proportion_p_value(80, 200, 120, 200) < 0.001
    assert two_proportion_p_value(0, 0, 5, 10) == 1.0


def test_newcombe_interval_matches_the_paper():
    """Newcombe (1998), method 10, 95 % two-sided: 56/70 − 48/80 → (0.0524, 0.3339); 9/10 − 3/10 → (0.1705, 0.8090)."""
    lower, upper = difference_bounds(56, 70, 48, 80, 1.959964)
    assert (round(lower, 4), round(upper, 4)) == (0.0524, 0.3339)
    lower, upper = difference_bounds(9, 10, 3, 10, 1.959964)
    assert (round(lower, 4), round(upper, 4)) == (0.1705, 0.8090)


def _acceptance_fixture(con, small_accepted: int):
    """300 tasks on acme-big (285 accepted) and 300 on acme-tiny (`small_accepted` accepted), one call each."""
    con.execute("""
        INSERT INTO calls (call_id, source_format, source_file, source_sha256, source_row, ts, provider, model,
            input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens,
            reasoning_tokens, status, feature, task_id)
        SELECT 'c' || i, 'test', 't', 'x', i, TIMESTAMP '2026-10-02 00:00:00' + INTERVAL (i) MINUTE, 'acme',
               CASE WHEN i < 300 THEN 'acme-big' ELSE 'acme-tiny' END, 1000, 0, 0, 0, 100, 0, 'ok', 'cls', 't' || i
        FROM range(600) r(i)""")
    con.execute(
        """
        INSERT INTO outcomes (task_id, accepted, source_format, source_file, source_sha256, source_row)
        SELECT 't' || i, CASE WHEN i < 300 THEN i < 285 ELSE i < 300 + ? END, 'test', 'o', 'y', i
        FROM range(600) r(i)""",
        [small_accepted],
    )
    config = Config(
        prices={
            "overrides": [
                {"provider": "acme", "model": "acme-big", "input_mtok": 10, "output_mtok": 30},
                {"provider": "acme", "model": "acme-tiny", "input_mtok": 1, "output_mtok": 3},
            ]
        }
    )
    prepare_priced_calls(con, config)
    compute_period_metrics(con, config, OCTOBER)
    return config


def test_route_risk_low_when_the_target_is_no_worse(con):
    """285/300 vs 285/300: difference 0, one-sided 95 % lower bound ≈ −3.6 pts > −5 pts → low.
    Cost: 300 calls × (1000·10 + 100·30) = 3.9 $ → 300 × (1000 + 300) = 0.39 $."""
    config = _acceptance_fixture(con, 285)
    r = whatif(con, config, "route feature=cls from=acme-big to=acme-tiny")
    assert r.savings_usd == D("3.51")
    assert r.quality_risk == "low"
    assert (
        "acceptance 95.0% (n=300) vs 95.0% (n=300) on acme-big in cls: difference not significant" in r.quality_reason
    )
    detail = r.changes[0].detail
    assert detail["difference_lower_bound"] == pytest.approx(difference_bounds(285, 300, 285, 300)[0])
    assert -0.05 < detail["difference_lower_bound"] < 0


def test_route_risk_high_when_the_target_is_clearly_worse(con):
    config = _acceptance_fixture(con, 150)
    r = whatif(con, config, "route feature=cls to=acme-tiny")
    assert r.quality_risk == "high"
    assert "significantly lower" in r.quality_reason and "worse by more than the margin" in r.quality_reason


def test_nothing_to_change_says_why(econ):
    con, config = econ
    r = whatif(con, config, "cap-output feature=beta max=5000")
    assert r.calls_affected == 0 and r.savings_usd == 0
    assert r.quality_reason == "no call in scope wrote more than the cap"
