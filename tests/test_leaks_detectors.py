"""Each leak detector on tiny hand-made traffic, with the waste computed by hand.

Calls are written straight into `calls`; the real pipeline then prices them (config price overrides, so every
figure is simple) and builds the period tables the detectors read. Every scenario is its own feature of one
shared month (features never influence each other's findings), so the pipeline runs once for most tests.
Prices ($/Mtok):
  openai/gpt-4o       in 10, out 30, cache read 1        (premium: blended (3·10 + 30)/4 = 15)
  openai/gpt-4o-mini  in 1,  out 2,  cache read 0.1      (balanced: blended 1.25); batch: in 0.5, out 1
  anthropic/claude-sonnet-4-5  in 3, out 15, cache read 0.3, cache write 5m 3.75
A default call: gpt-4o-mini, 1000 input and 100 output tokens = 1,200 µ$.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest

from costlens import db
from costlens.config import Config, FeatureConfig
from costlens.engine import compute_period_metrics, prepare_priced_calls
from costlens.errors import ConfigError
from costlens.leaks import DEFAULT_THRESHOLDS, Finding, resolve_thresholds, run_detectors
from costlens.leaks.detect import routing_target
from costlens.model.leaks import COLUMNS
from costlens.model.report import Period

NOV = Period(date(2026, 11, 1), date(2026, 12, 1))
T0 = datetime(2026, 11, 2, 9, 0, 0)
M = Decimal("0.000001")  # $ per token at $1/Mtok

PRICES = {
    "overrides": [
        {"provider": "openai", "model": "gpt-4o", "input_mtok": 10, "output_mtok": 30, "cache_read_mtok": 1},
        {"provider": "openai", "model": "gpt-4o-mini", "input_mtok": 1, "output_mtok": 2, "cache_read_mtok": 0.1},
        {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "variant": "batch",
            "input_mtok": 0.5,
            "output_mtok": 1,
            "cache_read_mtok": 0.05,
        },
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "input_mtok": 3,
            "output_mtok": 15,
            "cache_read_mtok": 0.3,
            "cache_write_5m_mtok": 3.75,
        },
    ]
}

DEFAULTS = {
    "source_format": "hand",
    "source_file": "hand.jsonl",
    "source_sha256": "0" * 64,
    "provider": "openai",
    "model": "gpt-4o-mini",
    "input_tokens": 1000,
    "cache_read_tokens": 0,
    "cache_write_5m_tokens": 0,
    "cache_write_1h_tokens": 0,
    "output_tokens": 100,
    "reasoning_tokens": 0,
    "status": "ok",
    "user_id": "u1",
}


class Month:
    """Hand-made calls and outcomes → the period tables → findings."""

    def __init__(self, con):
        self.con = con
        self.rows: list[dict] = []
        self.outcomes: list[dict] = []
        self.clock: dict[str, datetime] = {}

    def add(self, feature: str, n: int = 1, **fields) -> list[str]:
        """n calls of `feature`, by default 10 minutes apart in daytime, each its own task."""
        ids = []
        for _ in range(n):
            i = len(self.rows)
            ts = self.clock.get(feature, T0) + timedelta(minutes=10)
            if ts.hour >= 21:
                ts = ts.replace(hour=9) + timedelta(days=1)
            self.clock[feature] = ts
            row = {
                **DEFAULTS,
                "call_id": f"{feature}#{i}",
                "source_row": i,
                "ts": ts,
                "feature": feature,
                "task_id": f"{feature}/t{i}",
                **fields,
            }
            self.rows.append(row)
            ids.append(row["call_id"])
        return ids

    def outcome(self, task: str, accepted: bool) -> None:
        self.outcomes.append(
            {
                "task_id": task,
                "accepted": accepted,
                "source_format": "hand",
                "source_file": "outcomes.csv",
                "source_sha256": "1" * 64,
                "source_row": len(self.outcomes),
            }
        )

    def _insert(self, table: str, rows: list[dict]) -> None:
        if rows:
            names = sorted(set().union(*rows))
            self.con.register("_hand_rows", pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows]))
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _hand_rows")
            self.con.unregister("_hand_rows")

    def run(self, period: Period = NOV, thresholds=None, **features) -> list[Finding]:
        config = Config(prices=PRICES, features={k: FeatureConfig(**v) for k, v in features.items()})
        self._insert("calls", self.rows)
        self._insert("outcomes", self.outcomes)
        prepare_priced_calls(self.con, config)
        compute_period_metrics(self.con, config, period)
        return run_detectors(self.con, config, thresholds)


def of(findings: list[Finding], feature: str, kind: str | None = None) -> list[Finding]:
    return [f for f in findings if f.feature == feature and (kind is None or f.kind == kind)]


def only(findings: list[Finding], feature: str, kind: str, sub_kind: str | None = None) -> Finding:
    hits = [f for f in of(findings, feature, kind) if sub_kind is None or f.sub_kind == sub_kind]
    assert len(hits) == 1, of(findings, feature)
    return hits[0]


def _newcombe_lower(a1: int, n1: int, a2: int, n2: int, z: float = 1.645) -> float:
    """Lower bound of p1 − p2 (Newcombe 1998, method 10: hybrid of Wilson score intervals)."""

    def wilson(a: int, n: int) -> tuple[float, float]:
        p = a / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return centre - half, centre + half

    (l1, _), (_, u2) = wilson(a1, n1), wilson(a2, n2)
    p1, p2 = a1 / n1, a2 / n2
    return p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)


# ------------------------------------------------------------------------------------ the shared month

IDS: dict[str, list[str]] = {}


def _build(m: Month) -> None:
    # context_bloat: oversized inputs
    m.add("oversized", 40, input_tokens=1000)
    IDS["oversized"] = m.add("oversized", 2, input_tokens=10_000)
    m.add("oversized", input_tokens=3900)  # below min_tokens 4000 and 4 × p50
    m.add("oversized-cached", 40, input_tokens=1000)
    m.add("oversized-cached", input_tokens=2000, cache_read_tokens=8000)  # context 10,000, 8,000 from cache

    # context_bloat: a second mode of context size (300 lean calls around 1,000 tokens, 100 carrying ~3x)
    for tokens in (900, 1000, 1100):
        m.add("second-mode", 100, input_tokens=tokens)
    IDS["second-mode"] = m.add("second-mode", 50, input_tokens=2800) + m.add("second-mode", 50, input_tokens=3000)
    # ... and one wide mode: 1,000 to 8,000 tokens in steps of 1/8 doubling, 2 … 26 … 2 calls (no valley)
    for k in range(25):
        m.add("one-wide-mode", 2 * (13 - abs(k - 12)), input_tokens=round(1000 * 2 ** (k / 8)))

    # context_bloat: a conversation resending its history
    m.add("growth", 30, input_tokens=1000)
    IDS["growth"] = [m.add("growth", input_tokens=1000 + 500 * t, session_id="g1")[0] for t in range(6)]
    for t in range(5):  # five growing turns: fewer than growth_min_turns
        m.add("growth", input_tokens=1000 + 800 * t, session_id="g2")
    m.add("growth-slow", 30, input_tokens=1000)
    for t in range(8):  # grows every turn, but only to 1.7x
        m.add("growth-slow", input_tokens=1000 + 100 * t, session_id="s1")

    # premium_overuse
    m.add("premium-short", 40, model="gpt-4o", input_tokens=1000, output_tokens=20)
    m.add("premium-long", 40, model="gpt-4o", input_tokens=1000, output_tokens=800)
    for feature, n, premium_ok, cheap_ok in (
        ("routing-proven", 600, 480, 480),
        ("routing-few", 100, 80, 80),
        ("routing-worse", 600, 480, 420),
    ):
        for model, accepted in (("gpt-4o", premium_ok), ("gpt-4o-mini", cheap_ok)):
            for i in range(n):
                task = f"{feature}/{model}/{i}"
                m.add(feature, model=model, input_tokens=1000, output_tokens=500, task_id=task)
                m.outcome(task, i < accepted)

    # the application already sends the hard (long) requests to the premium model
    for model, size, n, accepted in (
        ("gpt-4o", 1000, 100, 90),
        ("gpt-4o", 8000, 400, 320),
        ("gpt-4o-mini", 1000, 500, 450),
        ("gpt-4o-mini", 8000, 40, 24),
    ):
        for i in range(n):
            task = f"routing-confounded/{model}/{size}/{i}"
            m.add("routing-confounded", model=model, input_tokens=size, output_tokens=500, task_id=task)
            m.outcome(task, i < accepted)

    # retries
    m.add("retries", 20)
    IDS["retries"] = m.add(
        "retries",
        status="error",
        error_type="timeout",
        http_status=504,
        input_tokens=2000,
        output_tokens=50,
        task_id="r/A",
        prompt_hash="r-a",
    )
    m.add("retries", input_tokens=2000, task_id="r/A", prompt_hash="r-a")
    IDS["retries"] += m.add("retries", input_tokens=3000, output_tokens=200, task_id="r/B", prompt_hash="r-b")
    m.add("retries", input_tokens=3000, output_tokens=200, task_id="r/B", prompt_hash="r-b")
    m.add(
        "retries",
        status="error",
        error_type="rate_limit_exceeded",
        http_status=429,
        input_tokens=0,
        output_tokens=0,
        task_id="r/C",
        prompt_hash="r-c",
    )
    m.add("retries", task_id="r/C", prompt_hash="r-c")
    m.add("retries-nohash", 20)
    for task in "ABC":  # no fingerprints: a repeat cannot be told from a new question; failures still count
        m.add(
            "retries-nohash",
            status="error",
            error_type="timeout",
            input_tokens=1000,
            output_tokens=0,
            task_id=f"rn/{task}",
        )
        m.add("retries-nohash", 2, task_id=f"rn/{task}")
    m.add("rate-limits", 20)
    for task in "ABCD":
        m.add("rate-limits", status="error", error_type="rate_limit_exceeded", http_status=429, task_id=f"rl/{task}")

    # cache_miss: response cache
    m.add("response-cache", 20)
    IDS["response-cache"] = [m.add("response-cache", prompt_hash="faq", task_id=f"rc/{i}")[0] for i in range(6)]
    m.add("response-cache", 2, prompt_hash="rc-other", task_id="rc/x")  # same task: a retry
    for i in range(4):  # asked every 8 days: each time the 7-day cache would have expired
        m.add("response-expired", prompt_hash="every-8-days", ts=datetime(2026, 11, 1 + 8 * i, 10))
    m.add("response-expired", 20)

    # cache_miss: prompt caching — bursts of 4, 3 and 1 calls a minute apart, two hours between bursts
    def bursts(feature, model, provider, prefix, sizes=(4, 3, 1), **fields):
        start = T0
        for size in sizes:
            for k in range(size):
                m.add(
                    feature,
                    provider=provider,
                    model=model,
                    input_tokens=2500,
                    output_tokens=100,
                    prefix_hash=f"{feature}-sys",
                    prefix_tokens=prefix,
                    ts=start + timedelta(seconds=60 * k),
                    **fields,
                )
            start += timedelta(hours=2)

    bursts("prompt-cache", "claude-sonnet-4-5", "anthropic", 2000)
    bursts("prefix-short-anthropic", "claude-sonnet-4-5", "anthropic", 1000, sizes=(8, 8))  # < 1024
    bursts("prefix-short-openai", "gpt-4o-mini", "openai", 1000, sizes=(8, 8))  # < 1024
    for k in range(8):  # caching on: the first call writes, the rest read
        m.add(
            "prompt-cache-on",
            provider="anthropic",
            model="claude-sonnet-4-5",
            prefix_hash="on-sys",
            prefix_tokens=2000,
            input_tokens=500,
            cache_write_5m_tokens=0 if k else 2000,
            cache_read_tokens=2000 if k else 0,
            ts=T0 + timedelta(seconds=60 * k),
        )

    # batchable
    m.add("batch-config", 60, user_id=None)
    for i in range(60):
        m.add("batch-interactive", user_id=None, ts=datetime(2026, 11, 1 + i % 28, 2, i))
        m.add("batch-with-users", ts=datetime(2026, 11, 1 + i % 28, 3, i))

    # output_verbosity
    m.add("verbose", 40, output_tokens=100)
    IDS["verbose"] = m.add("verbose", 2, output_tokens=2000)
    m.add("verbose", output_tokens=2000, max_tokens=4000)  # capped: a deliberate long answer

    # agent_loops
    for t in range(25):
        m.add("loops-norm", 3, task_id=f"ln/{t}")
    IDS["loops-norm"] = m.add("loops-norm", 20, task_id="ln/loop")
    for t in range(3):
        m.add("loops-budget", 3, task_id=f"lb/{t}")
    m.add("loops-budget", 20, task_id="lb/loop")

    # input_quality
    m.add("input-quality", 20)
    for task in "ABC":
        m.add(
            "input-quality",
            status="error",
            error_type="context_length_exceeded",
            http_status=400,
            input_tokens=5000,
            output_tokens=0,
            task_id=f"iq/{task}",
            prompt_hash=f"iq-long-{task}",
        )
        m.add(
            "input-quality",
            status="error",
            error_type="timeout",
            input_tokens=5000,
            output_tokens=0,
            task_id=f"iq/{task}",
            prompt_hash=f"iq-long-{task}",
        )  # the same input resent
        m.add("input-quality", task_id=f"iq/{task}", prompt_hash=f"iq-short-{task}")

    # unpriced calls: counted by the pipeline, never $0 waste here
    m.add("unpriced", 20, provider="acme", model="mystery-model")
    for task in "ABCD":
        m.add(
            "unpriced",
            status="error",
            error_type="timeout",
            provider="acme",
            model="mystery-model",
            task_id=f"up/{task}",
        )

    # a clean feature with natural variation
    for t in range(60):
        m.add(
            "clean",
            input_tokens=900 + 10 * t,
            output_tokens=150 + t,
            session_id=f"c{t // 3}",
            prompt_hash=f"clean-{t}",
            prefix_hash="clean-sys",
            prefix_tokens=500,
            max_tokens=1024,
        )


@pytest.fixture(scope="module")
def findings():
    con = db.connect(":memory:")
    m = Month(con)
    _build(m)
    result = m.run(
        **{
            "batch-config": {"interactive": False},
            "batch-interactive": {"interactive": True},
            "loops-budget": {"step_budget": 5},
        }
    )
    yield result
    con.close()


# ------------------------------------------------------------------------------------- context_bloat


@pytest.mark.slow
def test_oversized_input(findings):
    f = only(findings, "oversized", "context_bloat", "oversized_input")
    assert f.wasted_usd == 2 * 9000 * M  # p50 1000: 2 × (10,000 − 1,000) tokens × $1/Mtok
    assert f.calls_affected == 2 and f.lever == "context_discipline"
    assert f.evidence["typical_context_tokens"] == 1000 and set(f.evidence["example_call_ids"]) == set(IDS["oversized"])
    # $0.018 of 40 × 0.0012 + 2 × 0.0102 + 0.0041 = $0.0725 spend: 24.8% → high
    assert f.severity == "high"


def test_oversized_input_counts_cached_tokens_at_the_cache_price(findings):
    f = only(findings, "oversized-cached", "context_bloat")
    # input-side cost 2000 × 1 + 8000 × 0.1 = 2,800 µ$; 9,000 of the 10,000 context tokens are excess
    assert f.wasted_usd == Decimal("0.9") * 2800 * M


def test_upper_mode_of_context_size(findings):
    f = only(findings, "second-mode", "context_bloat", "upper_mode")
    # lean mode 100 × 900, 100 × 1,000, 100 × 1,100: p25 900, p50 1,000, p75 1,100; $1/Mtok input
    assert f.evidence["typical_context_tokens"] == 1000
    assert f.wasted_usd == (50 * (2800 - 1000) + 50 * (3000 - 1000)) * M
    assert f.evidence["wasted_range_usd"] == [
        float((50 * (2800 - 1100) + 50 * (3000 - 1100)) * M),
        float((50 * (2800 - 900) + 50 * (3000 - 900)) * M),
    ]
    assert f.calls_affected == 100 and set(f.evidence["example_call_ids"]) <= set(IDS["second-mode"])
    assert f.evidence["share_of_model_calls"] == 0.25
    assert f.evidence["lean_context_tokens_p25_p75"] == [900, 1100]
    assert f.evidence["upper_context_tokens_p50"] == 2900
    # calls per half doubling: 900 and 1,000 in [724, 1024), 1,100 in [1024, 1448), 2,800 and 3,000 apart
    assert f.evidence["context_histogram"] == [
        {"tokens_from": 724, "tokens_to": 1024, "calls": 200},
        {"tokens_from": 1024, "tokens_to": 1448, "calls": 100},
        {"tokens_from": 2048, "tokens_to": 2896, "calls": 50},
        {"tokens_from": 2896, "tokens_to": 4096, "calls": 50},
    ]
    assert "form a second mode of context size" in f.explanation
    # $0.19 of 300 lean + 100 upper calls' spend: far above 10 % → high
    assert f.severity == "high"


def test_one_wide_mode_of_context_size_is_not_a_leak(findings):
    # 1,000 to 8,000 tokens around one peak: no valley, so no upper mode, and nothing above 4 × p50
    assert [f for f in of(findings, "one-wide-mode") if f.kind == "context_bloat"] == []


def test_growing_history(findings):
    f = only(findings, "growth", "context_bloat", "growing_history")
    # typical = p50 outside growing runs = 1000 (30 × 1000 and g2's 1000, 1800, 2600, 3400, 4200)
    assert f.evidence["typical_context_tokens"] == 1000
    assert f.wasted_usd == (500 + 1000 + 1500 + 2000 + 2500) * M
    assert f.calls_affected == 5 and set(f.evidence["example_call_ids"]) <= set(IDS["growth"])
    assert f.evidence["counts"]["conversations"] == 1 and f.evidence["counts"]["longest_growth_turns"] == 6
    assert of(findings, "growth-slow") == []  # grows every turn, but not to twice its start


# ----------------------------------------------------------------------------------- premium_overuse


def test_premium_model_on_short_output_work(findings):
    f = only(findings, "premium-short", "premium_overuse")
    # gpt-4o 1000 × 10 + 20 × 30 = 10,600 µ$; the same tokens at gpt-4o-mini 1000 × 1 + 20 × 2 = 1,040 µ$
    assert f.wasted_usd == 40 * (10_600 - 1_040) * M
    assert (f.model, f.sub_kind, f.task_class, f.lever, f.quality_risk) == (
        "gpt-4o",
        "short_output_work",
        "short_output",
        "model_routing",
        "medium",
    )
    assert f.evidence["alternative_model"] == "gpt-4o-mini" and f.evidence["p95_output_tokens"] == 20
    assert of(findings, "premium-long") == []


def test_cheaper_model_shown_not_worse(findings):
    f = only(findings, "routing-proven", "premium_overuse")
    # per gpt-4o call 1000 × 10 + 500 × 30 = 25,000 µ$ against 1000 × 1 + 500 × 2 = 2,000 µ$ at gpt-4o-mini
    assert f.wasted_usd == 600 * 23_000 * M
    assert (f.model, f.sub_kind, f.quality_risk) == ("gpt-4o", "cheaper_model_same_feature", "low")
    test = f.evidence["acceptance_test"]
    assert test["lower_bound"] == pytest.approx(_newcombe_lower(480, 600, 480, 600), abs=1e-9)
    assert test["lower_bound"] > -0.05 and test["margin"] == -0.05
    assert f.evidence["premium_acceptance"] == f.evidence["alternative_acceptance"] == 0.8


def test_like_with_like_and_the_validation_plan(findings):
    f = only(findings, "routing-proven", "premium_overuse")
    like = f.evidence["like_with_like"]
    # every task has 1,000 context tokens: one band, the raw comparison itself
    assert [(b["premium_tasks"], b["alternative_tasks"]) for b in like["strata"]] == [(600, 600)]
    assert like["coverage"] == 1 and like["difference"] == 0 and like["explained_by_strata"] == 0
    shrunk = 481 / 602  # (x + 1) / (n + 2)
    assert like["lower_bound"] == pytest.approx(-1.645 * math.sqrt(2 * shrunk * (1 - shrunk) / 602), abs=1e-12)
    # (1.645 + 0.8416)² × (0.8 × 0.2 + 0.8 × 0.2) / 0.05² = 791.5 → 792 tasks per arm; 600 premium tasks a month
    assert f.evidence["validation_plan"]["tasks_per_arm"] == 792
    assert f.evidence["validation_plan"]["share_of_premium_traffic"] == 1


def test_cheaper_model_that_only_gets_the_easy_requests_is_not_proposed(findings):
    # overall the cheaper model looks better: 474 / 540 = 87.8 % against 410 / 500 = 82 %
    assert _newcombe_lower(474, 540, 410, 500) > -0.05
    # like with like (weights 0.2 easy, 0.8 hard): 0.2 × (90 % − 90 %) + 0.8 × (60 % − 80 %) = −16 points
    assert [f for f in of(findings, "routing-confounded") if f.kind == "premium_overuse"] == []


def test_equal_acceptance_on_few_tasks_is_not_proof(findings):
    # 80% on 100 tasks each: a raw comparison says "no worse"; the test cannot rule out 5 points worse
    assert _newcombe_lower(80, 100, 80, 100) < -0.05
    assert of(findings, "routing-few") == []


def test_cheaper_model_that_is_worse_is_not_proposed(findings):
    assert _newcombe_lower(420, 600, 480, 600) < -0.05
    assert of(findings, "routing-worse") == []


# ------------------------------------------------------------------------------------------- retries


def test_failed_attempts_and_same_prompt_repeats(findings):
    f = only(findings, "retries", "retries")
    # billed timeout 2000 + 50 × 2 = 2,100 µ$; superseded answer 3000 + 200 × 2 = 3,400 µ$; the 429 billed nothing
    assert f.wasted_usd == (2100 + 3400) * M
    counts = f.evidence["counts"]
    assert (counts["failed_attempts"], counts["same_prompt_repeats"], counts["unbilled_failures"]) == (2, 1, 1)
    assert set(f.evidence["example_call_ids"]) >= set(IDS["retries"])
    assert f.lever == "stability_guardrails"
    assert of(findings, "retries", "cache_miss") == []  # repeats inside a task are not a cache miss


def test_retries_without_fingerprints_count_failures_only(findings):
    f = only(findings, "retries-nohash", "retries")
    assert f.wasted_usd == 3 * 1000 * M and f.evidence["fingerprints"] is False


def test_rate_limits_are_retries_not_input_quality(findings):
    assert of(findings, "rate-limits", "input_quality") == []
    assert only(findings, "rate-limits", "retries").wasted_usd == 4 * 1200 * M


# ---------------------------------------------------------------------------------------- cache_miss


def test_response_cache(findings):
    f = only(findings, "response-cache", "cache_miss", "response_cache")
    assert f.wasted_usd == 5 * 1200 * M and f.calls_affected == 5  # the 5 repeats
    assert f.lever == "response_cache" and set(f.evidence["example_call_ids"]) <= set(IDS["response-cache"][1:])
    assert of(findings, "response-expired") == []


def test_prompt_caching_net_of_write_premium(findings):
    f = only(findings, "prompt-cache", "cache_miss", "prompt_caching")
    # 5 repeats inside the 5-minute lifetime: 2000 × (3 − 0.3) = 5,400 µ$ each;
    # 3 windows each start with a write: 2000 × (3.75 − 3) = 1,500 µ$ each
    assert f.wasted_usd == (5 * 5400 - 3 * 1500) * M
    assert f.evidence["counts"]["missed_cache_reads"] == 5 and f.evidence["counts"]["cache_windows"] == 3
    assert f.evidence["min_cacheable_tokens"] == 1024 and f.lever == "prompt_caching" and f.quality_risk == "low"


@pytest.mark.parametrize("threads", [1, 4])
def test_prompt_caching_examples_are_the_largest_misses_over_every_prefix(con, threads):
    """A finding over two prefixes lists the five largest missed savings of both, whichever prefix's calls were
    loaded first and whatever the thread count (the prefixes' lists were once concatenated in whatever order
    the aggregate met them, so the examples followed the engine's schedule)."""
    con.execute(f"SET threads = {threads}")
    m = Month(con)
    for prefix, tokens in (("small-sys", 1100), ("large-sys", 4000)):  # the small prefix's calls first
        for k in range(6):  # one window each: the first call writes, the five repeats miss
            m.add(
                "two-prefixes",
                provider="anthropic",
                model="claude-sonnet-4-5",
                input_tokens=4500,
                output_tokens=100,
                prefix_hash=prefix,
                prefix_tokens=tokens,
                ts=T0 + timedelta(hours=3 if prefix == "large-sys" else 0, seconds=30 * k),
            )
    f = only(m.run(), "two-prefixes", "cache_miss", "prompt_caching")
    assert f.evidence["counts"]["missed_cache_reads"] == 10 and f.evidence["counts"]["prefixes"] == 2
    # each large-prefix miss saves 4000 × (3 − 0.3) µ$, each small one 1100 × (3 − 0.3): the five large, by id
    assert f.evidence["example_call_ids"] == [f"two-prefixes#{i}" for i in (10, 11, 7, 8, 9)]


def test_prompt_caching_needs_the_minimum_length_and_a_miss(findings):
    for feature in ("prefix-short-anthropic", "prefix-short-openai", "prompt-cache-on"):
        assert of(findings, feature) == [], feature


# ----------------------------------------------------------------------------------------- batchable


def test_batchable_by_config_at_the_catalog_batch_price(findings):
    f = only(findings, "batch-config", "batchable")
    assert f.wasted_usd == 60 * 600 * M  # 60 × (1000 × (1 − 0.5) + 100 × (2 − 1)) µ$
    assert (f.sub_kind, f.confidence, f.lever) == ("config", "high", "batch_processing")
    assert f.evidence["batch_price"] == "catalog batch variant"


def test_interactive_features_and_users_are_not_batchable(findings):
    assert of(findings, "batch-interactive") == []  # configured interactive, though anonymous and at night
    assert of(findings, "batch-with-users") == []  # at night, but people are waiting


def test_batchable_by_traffic_pattern_with_the_documented_discount(con):
    # September 2026: the catalog has no gpt-4o batch price yet, so the documented 50% applies
    m = Month(con)
    for i in range(60):
        m.add("etl", model="gpt-4o", user_id=None, ts=datetime(2026, 9, 1 + i % 28, 2, i))
    f = only(m.run(period=Period(date(2026, 9, 1), date(2026, 10, 1))), "etl", "batchable")
    assert (f.sub_kind, f.confidence) == ("traffic_pattern", "medium")
    assert f.wasted_usd == 30 * 13_000 * M  # half of 60 × (1000 × 10 + 100 × 30) µ$
    assert f.evidence["batch_price"] == "documented 50% batch discount (no catalog batch price)"
    assert f.evidence["nightly_share"] == 1.0 and f.evidence["anonymous_share"] == 1.0


# ---------------------------------------------------------------------------------- output_verbosity


def test_output_verbosity(findings):
    f = only(findings, "verbose", "output_verbosity")
    assert f.wasted_usd == 2 * 1900 * 2 * M  # p50 100: 1,900 excess tokens × $2/Mtok, twice
    assert set(f.evidence["example_call_ids"]) == set(IDS["verbose"]) and f.lever == "output_controls"


# --------------------------------------------------------------------------------------- agent_loops


def test_agent_loops_against_the_feature_norm(findings):
    f = only(findings, "loops-norm", "agent_loops")
    # budget = max(ceil(3 × p50 3), 10) = 10: the loop's last 10 calls, 1,200 µ$ each
    assert f.evidence["budget_calls_per_task"] == 10 and f.sub_kind == "feature_norm"
    assert f.wasted_usd == 10 * 1200 * M and set(f.evidence["example_call_ids"]) <= set(IDS["loops-norm"][10:])


def test_agent_loops_against_the_step_budget(findings):
    f = only(findings, "loops-budget", "agent_loops")
    assert f.evidence["budget_calls_per_task"] == 5 and f.sub_kind == "step_budget"
    assert f.wasted_usd == 15 * 1200 * M and f.lever == "agent_budgets"


# ------------------------------------------------------------------------------------- input_quality


def test_input_quality_and_its_retries(findings):
    f = only(findings, "input-quality", "input_quality")
    assert f.wasted_usd == 6 * 5000 * M
    counts = f.evidence["counts"]
    assert (counts["bad_input_failures"], counts["failed_retries_of_same_input"]) == (3, 3)
    assert f.lever == "context_discipline"
    assert of(findings, "input-quality", "retries") == []  # the resent bad input is not counted twice


# ------------------------------------------------------------------------------- thresholds & shape


def test_clean_and_unpriced_features_have_no_findings(findings):
    assert of(findings, "clean") == []
    assert of(findings, "unpriced") == []  # its failures cost nothing we can price


def test_every_finding_lists_its_thresholds(findings):
    for f in findings:
        own = {n: float(v) for n, (v, _) in DEFAULT_THRESHOLDS.items() if n.startswith(f.kind + ".")}
        assert {n: f.evidence["thresholds"][n] for n in own} == own
        assert f.evidence["thresholds"]["severity.high_share"] == 0.10
        # 30.44 / 30 days of November, to the 16th significant digit
        assert abs(f.est_monthly_savings_usd - f.wasted_usd * Decimal("30.44") / 30) <= f.wasted_usd * Decimal("1e-15")


@pytest.mark.slow
def test_thresholds_override_and_appear_in_evidence(con):
    def month(connection) -> Month:
        m = Month(connection)
        m.add("f", 40, input_tokens=1000)
        m.add("f", 2, input_tokens=3500)  # 3.5 × p50: not oversized by default (k 4, floor 4000)
        return m

    assert month(con).run() == []
    other = db.connect(":memory:")
    try:
        f = only(month(other).run(thresholds={"context_bloat": {"k_p50": 3, "min_tokens": 3000}}), "f", "context_bloat")
    finally:
        other.close()
    assert f.wasted_usd == 2 * 2500 * M
    assert f.evidence["thresholds"]["context_bloat.k_p50"] == 3
    assert f.evidence["thresholds"]["context_bloat.min_tokens"] == 3000
    assert f.evidence["thresholds"]["context_bloat.growth_min_turns"] == 6


def test_thresholds_from_the_config_section():
    config = Config(leaks={"context_bloat": {"k_p50": 20}, "routing_targets": {"gpt-4o*": "gpt-4.1-nano"}})
    assert resolve_thresholds(config)["context_bloat.k_p50"] == 20
    assert resolve_thresholds(config, {"context_bloat.k_p50": 3})["context_bloat.k_p50"] == 3
    assert resolve_thresholds(None)["context_bloat.k_p50"] == DEFAULT_THRESHOLDS["context_bloat.k_p50"][0]
    with pytest.raises(ConfigError):
        resolve_thresholds(Config(leaks={"routing_targets": {"gpt-4o*": 3}}))


@pytest.mark.parametrize(
    "bad",
    [
        {"context_bloat.k": 1},
        {"retries": {"min_calls": "many"}},
        {"severity": {"medium_share": 0.5}},
        {"nope": 1},
        {"retries.min_calls": -1},
    ],
)
def test_bad_thresholds_say_what_to_fix(bad):
    with pytest.raises(ConfigError) as info:
        resolve_thresholds(None, bad)
    assert info.value.fix


def test_empty_month(con):
    assert Month(con).run() == []


def test_finding_shape():
    assert tuple(Finding.__dataclass_fields__) == COLUMNS
    assert routing_target("openai", "gpt-4o-2024-08-06") == "gpt-4o-mini"
    assert routing_target("anthropic", "claude-sonnet-4-5") == "claude-haiku-4-5"
    assert routing_target("openai", "gpt-4o-mini") is None  # already the cheaper model
    assert routing_target("openai", "gpt-4o", [("*", "gpt-4o*", "gpt-4.1-nano")]) == "gpt-4.1-nano"


@pytest.mark.slow
def test_natural_variation_stays_low(con):
    """Clean features with wide natural spread (lognormal σ 0.5 sizes, short conversations, rare billed timeouts,
    a premium model writing long answers, night-time users elsewhere on the globe): nothing above low."""
    import random

    m = Month(con)
    for seed in (1, 2, 3):
        rng = random.Random(seed)
        feature = f"natural-{seed}"

        def size(median: float, rng: random.Random = rng) -> int:
            return max(1, int(median * rng.lognormvariate(0, 0.5)))

        for s in range(150):
            user, session = f"u{rng.randrange(50)}", f"{feature}/s{s}"
            hour = rng.choice([1, 3, 10, 14, 19])  # users in every time zone
            for turn in range(rng.randint(1, 5)):
                task = f"{feature}/{s}/{turn}"
                fields = dict(
                    model="gpt-4o" if seed == 3 else "gpt-4o-mini",
                    session_id=session,
                    user_id=user,
                    task_id=task,
                    prompt_hash=task,
                    prefix_hash=f"{feature}-sys",
                    prefix_tokens=600,
                    ts=datetime(2026, 11, 1 + s % 29, hour, 5 * turn, rng.randrange(60)),
                )
                if rng.random() < 0.01:
                    m.add(
                        feature,
                        status="error",
                        error_type="timeout",
                        input_tokens=size(3000),
                        output_tokens=0,
                        **fields,
                    )
                m.add(feature, input_tokens=size(3000), output_tokens=size(600 if seed == 3 else 250), **fields)
            if rng.random() < 0.5:
                m.outcome(f"{feature}/{s}/0", rng.random() < 0.85)
    findings = m.run()
    assert [f for f in findings if f.severity != "low"] == []
