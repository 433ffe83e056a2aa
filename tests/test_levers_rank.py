"""rank_levers: a hand-computed ranking and sequence, caps, first actions, settings, and the property that
lever savings never exceed spend (per feature and in total) on random finding sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costlens.config import Config
from costlens.errors import ConfigError
from costlens.levers import rank_levers
from costlens.settings.levers import LEVERS, lever_settings


@dataclass
class Finding:
    """Finding-like test object with the fields of the issue-4 interface."""

    kind: str
    feature: str
    lever: str
    est_monthly_savings_usd: D
    model: str | None = None
    task_class: str | None = None
    calls_affected: int = 10
    wasted_usd: D = D(0)
    confidence: str = "high"
    severity: str = "high"
    evidence: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""
    savings_low_usd: D | None = None
    savings_high_usd: D | None = None
    quality_risk: str | None = None
    affected_cost_usd: D | None = None


def hand_findings() -> list[Finding]:
    return [
        Finding(
            "premium_overuse",
            "classify",
            "model_routing",
            D(300),
            "gpt-4.1",
            evidence={
                "sub_kind": "cheaper_model_same_feature",
                "alternative_model": "gpt-4.1-nano",
                "premium_acceptance": 0.961,
                "alternative_acceptance": 0.95,
                "acceptance_test": {"difference": -0.011, "lower_bound": -0.03, "margin": -0.05},
                "example_call_ids": ["c1", "c2"],
            },
        ),
        Finding(
            "cache_miss",
            "support",
            "prompt_caching",
            D(150),
            "claude-sonnet-4-5",
            evidence={"sub_kind": "prompt_caching", "avg_prefix_tokens": 3200},
        ),
        Finding("cache_miss", "classify", "prompt_caching", D(100), "gpt-4.1"),
        Finding(
            "retries",
            "support",
            "stability_guardrails",
            D(50),
            "claude-sonnet-4-5",
            evidence={"error_types": {"timeout": 7, "rate_limit": 3}},
        ),
        Finding(
            "context_bloat",
            "support",
            "context_discipline",
            D(300),
            "claude-sonnet-4-5",
            evidence={"sub_kind": "oversized_input", "typical_context_tokens": 4000},
        ),
        Finding("batchable", "classify", "batch_processing", D(250), "gpt-4.1"),
    ]


SPEND = {"support": D(1000), "classify": D(500)}


def test_hand_computed_ranking_and_sequence():
    """Monthly spend: support 1000, classify 500 (period = 30.44 days, so period = month). Effort days:
    days 3, weeks 10. Greedy by savings per effort day on what is left:
      1. routing      classify 300/500 = 0.6 × 500 = 300          → 100/day   (caching 250 → 83/day)
         left: support 1000, classify 200
      2. caching      support 0.15 × 1000 = 150, classify 0.2 × 200 = 40 → 190 → 63/day
         left: support 850, classify 160
      3. context      support 0.3 × 850 = 255 → 25.5/day  (guardrails 0.05 × 850 = 42.5 → 14/day; batch 80 → 8)
         left: support 595
      4. guardrails   support 0.05 × 595 = 29.75 → 9.9/day  (batch 0.5 × 160 = 80 → 8/day)
      5. batch        classify 0.5 × 160 = 80
    Total 854.75 ≤ 1500."""
    plan = rank_levers(hand_findings(), D(1500), SPEND, None, 30.44)
    got = [(lv.rank, lv.lever, lv.est_monthly_savings_usd) for lv in plan.levers]
    assert got == [
        (1, "model_routing", D(300)),
        (2, "prompt_caching", D(190)),
        (3, "context_discipline", D(255)),
        (4, "stability_guardrails", D("29.75")),
        (5, "batch_processing", D(80)),
    ]
    assert plan.total_monthly_savings_usd == D("854.75")
    caching = plan.levers[1]
    assert caching.by_feature == {"support": D(150), "classify": D(40)}
    assert caching.features == ["support", "classify"]
    assert caching.effort == "days" and caching.quality_risk == "low"
    assert plan.levers[0].quality_risk == "medium"
    assert plan.levers[2].effort == "weeks"
    assert caching.share_of_spend == pytest.approx(190 / 1500)
    assert plan.levers[0].savings_per_effort_day_usd == D(100)
    assert [lv.savings_per_effort_day_usd for lv in plan.levers] == sorted(
        (lv.savings_per_effort_day_usd for lv in plan.levers), reverse=True
    )
    # the sequence is visible in the evidence: what was left when the lever was applied
    seq = {s["feature"]: s for s in caching.evidence["sequence"]}
    assert seq["classify"]["cost_left_before_usd"] == D(200)
    assert seq["classify"]["fraction"] == pytest.approx(0.2)


def test_ranges_bracket_the_estimate_and_never_exceed_spend():
    plan = rank_levers(hand_findings(), D(1500), SPEND, None, 30.44)
    for lv in plan.levers:
        assert lv.savings_low_usd <= lv.est_monthly_savings_usd <= lv.savings_high_usd
    # default range without finding ranges: low = half the estimate on the same remaining cost
    assert plan.levers[0].savings_low_usd == D(150)
    assert plan.total_savings_high_usd <= D(1500)
    assert plan.total_savings_low_usd <= plan.total_monthly_savings_usd <= plan.total_savings_high_usd


def test_first_actions_are_concrete():
    plan = rank_levers(hand_findings(), D(1500), SPEND, None, 30.44)
    actions = {lv.lever: lv.first_action for lv in plan.levers}
    assert actions["model_routing"] == (
        "Route classify from gpt-4.1 to gpt-4.1-nano (acceptance 95.0% vs 96.1%, difference not significant)"
    )
    assert actions["prompt_caching"].startswith("Turn on prompt caching for support on claude-sonnet-4-5")
    assert "3,200-token prefix" in actions["prompt_caching"] and actions["prompt_caching"].endswith("; then classify")
    assert "near its typical 4,000 tokens on claude-sonnet-4-5" in actions["context_discipline"]
    assert "timeout" in actions["stability_guardrails"]
    assert "classify" in actions["batch_processing"] and "gpt-4.1" in actions["batch_processing"]
    evidence = plan.levers[0].evidence
    assert evidence["findings"][0]["example_call_ids"] == ["c1", "c2"]
    assert evidence["kinds"] == ["premium_overuse"]


def test_first_actions_from_other_evidence_shapes():
    def action(lever, **kw):
        f = Finding(kw.pop("kind", "x"), "feat", lever, D(10), kw.pop("model", "m1"), **kw)
        return rank_levers([f], D(100), {"feat": D(100)}, None, 30.44).levers[0].first_action

    assert action("model_routing", evidence={"alternative_model": "m0", "p95_output_tokens": 120}) == (
        "Route feat's short-output calls (p95 120 tokens) from m1 to m0 (no acceptance data for m0 here yet: "
        "A/B on a sample first)"
    )
    assert action("model_routing", task_class="extraction").startswith("Route feat's extraction calls from m1")
    # the validation plan of the finding is the step before routing
    assert action(
        "model_routing",
        evidence={"alternative_model": "m0", "p95_output_tokens": 120, "validation_plan": {"tasks_per_arm": 1467}},
    ).endswith("A/B on a sample first); confirm with an A/B test of 1,467 tasks per arm")
    assert action(
        "model_routing",
        evidence={
            "alternative_model": "m0",
            "alternative_acceptance": 0.9,
            "premium_acceptance": 0.9,
            "validation_plan": {"tasks_per_arm": 351, "share_of_premium_traffic": 0.047},
        },
    ) == (
        "Route feat from m1 to m0 (acceptance 90.0% vs 90.0%); confirm with an A/B test of 351 tasks per arm "
        "(4.7% of its tasks for a period)"
    )
    assert action("context_discipline", evidence={"sub_kind": "growing_history", "counts": {"conversations": 12}}) == (
        "Summarise or window feat's conversation history on m1 (12 conversations grew turn after turn)"
    )
    assert "max_tokens ≈ 1,200" in action(
        "output_controls", evidence={"typical_output_tokens": 300, "thresholds": {"output_verbosity.k_p50": 4.0}}
    )
    assert "of 12 calls per task" in action(
        "agent_budgets", evidence={"budget_calls_per_task": 12, "counts": {"tasks_over_budget": 3}}
    )
    assert "(3 tasks ran over)" in action(
        "agent_budgets", evidence={"budget_calls_per_task": 12, "counts": {"tasks_over_budget": 3}}
    )
    assert "over-long input" in action(
        "stability_guardrails", kind="input_quality", evidence={"sub_kind": "input_too_long"}
    )
    assert "(rate_limit, timeout)" in action(
        "stability_guardrails", kind="retries", evidence={"error_types": '{"rate_limit": 9, "timeout": 2}'}
    )
    assert "40 calls repeated" in action("response_cache", evidence={"counts": {"repeated_answers": 40}})


def test_real_finding_objects():
    from costlens.model import leaks

    f = leaks.Finding(
        kind="retries",
        feature="a",
        model="m",
        task_class=None,
        calls_affected=5,
        wasted_usd=D(10),
        est_monthly_savings_usd=D(10),
        confidence="high",
        severity="high",
        evidence={"example_call_ids": ["x"]},
        explanation="",
        lever="stability_guardrails",
        savings_low_usd=D(5),
        savings_high_usd=D(10),
        quality_risk="low",
        affected_cost_usd=D(12),
    )
    plan = rank_levers([f], D(100), {"a": D(100)}, None, 30.44)
    lv = plan.levers[0]
    assert (lv.est_monthly_savings_usd, lv.savings_low_usd, lv.savings_high_usd) == (D(10), D(5), D(10))
    assert lv.evidence["findings"][0]["example_call_ids"] == ["x"]


def test_period_is_converted_to_monthly():
    """A 15.22-day period: monthly = period × 2. Findings are monthly already."""
    period = {"support": D(500), "classify": D(250)}
    plan = rank_levers(hand_findings(), D(750), period, None, 15.22)
    assert plan.monthly_spend_usd == D(1500)
    assert plan.total_monthly_savings_usd == D("854.75")


def test_savings_capped_at_feature_spend_and_overlap_combines():
    """Two kinds feeding one lever combine as 1 − (1 − 0.8)(1 − 0.9) = 0.98, not 1.7."""
    findings = [
        Finding("retries", "a", "stability_guardrails", D(80)),
        Finding("input_quality", "a", "stability_guardrails", D(90)),
        Finding("context_bloat", "a", "context_discipline", D(5000)),  # more than the feature spends
    ]
    plan = rank_levers(findings, D(100), {"a": D(100)}, None, 30.44)
    by_lever = {lv.lever: lv for lv in plan.levers}
    assert plan.total_monthly_savings_usd == D(100)
    # guardrails (days) first: 98; context then takes everything left: 2
    assert [lv.lever for lv in plan.levers] == ["stability_guardrails", "context_discipline"]
    assert by_lever["stability_guardrails"].est_monthly_savings_usd == D(98)
    assert by_lever["context_discipline"].est_monthly_savings_usd == D(2)


def test_same_kind_findings_add_up():
    findings = [
        Finding("premium_overuse", "a", "model_routing", D(20), "m1"),
        Finding("premium_overuse", "a", "model_routing", D(30), "m2"),
    ]
    plan = rank_levers(findings, D(100), {"a": D(100)}, None, 30.44)
    assert plan.levers[0].est_monthly_savings_usd == D(50)
    assert plan.levers[0].findings == 2


def test_findings_without_spend_or_lever_are_ignored_with_a_note():
    findings = [
        Finding("retries", "ghost", "stability_guardrails", D(10)),
        Finding("weird", "a", "teleportation", D(10)),
        Finding("retries", "a", "", D(10)),  # no lever: mapped from its kind
    ]
    plan = rank_levers(findings, D(100), {"a": D(100)}, None, 30.44)
    assert [lv.lever for lv in plan.levers] == ["stability_guardrails"]
    text = " ".join(plan.assumptions)
    assert "ghost" in text and "teleportation" in text


def test_cache_miss_without_lever_uses_sub_kind():
    findings = [Finding("cache_miss", "a", "", D(10), evidence={"sub_kind": "response_cache"})]
    plan = rank_levers(findings, D(100), {"a": D(100)}, None, 30.44)
    assert plan.levers[0].lever == "response_cache"


def test_tiny_levers_are_excluded():
    findings = [Finding("retries", "a", "stability_guardrails", D("0.01"))]
    plan = rank_levers(findings, D(100000), {"a": D(100000)}, None, 30.44)
    assert plan.levers == []
    assert plan.excluded[0].lever == "stability_guardrails"


def test_finding_quality_risk_can_raise_the_lever_risk():
    findings = [Finding("output_verbosity", "a", "output_controls", D(10), quality_risk="medium")]
    plan = rank_levers(findings, D(100), {"a": D(100)}, None, 30.44)
    assert plan.levers[0].quality_risk == "medium"
    assert "raised to medium" in plan.levers[0].quality_reason


def test_dict_findings_and_config_overrides():
    cfg = {
        "levers": {
            "effort": {"model_routing": "months"},
            "quality_risk": {"prompt_caching": "medium"},
            "effort_days": {"months": 100},
        }
    }
    findings = [
        dict(kind="premium_overuse", feature="a", lever="model_routing", est_monthly_savings_usd=D(50)),
        dict(kind="cache_miss", feature="a", lever="prompt_caching", est_monthly_savings_usd=D(10)),
    ]
    plan = rank_levers(findings, D(100), {"a": D(100)}, cfg, 30.44)
    assert [lv.lever for lv in plan.levers] == ["prompt_caching", "model_routing"]  # 10/3 > 45/100
    assert plan.levers[1].effort == "months"
    assert plan.levers[0].quality_risk == "medium"


def test_inconsistent_totals_are_capped():
    findings = [
        Finding("retries", "a", "stability_guardrails", D(100)),
        Finding("retries", "b", "stability_guardrails", D(100)),
    ]
    plan = rank_levers(findings, D(100), {"a": D(100), "b": D(100)}, None, 30.44)
    assert plan.total_savings_high_usd <= D(100)
    assert any("scaled" in a for a in plan.assumptions)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"levers": {"effort": {"model_routing": "years"}}}, "levers.effort.model_routing"),
        ({"levers": {"effort": {"teleport": "days"}}}, "not a lever"),
        ({"levers": {"speed": 1}}, "levers.speed is not a known setting"),
        ({"levers": {"breakeven": {"utilisation": 2}}}, "out of range"),
        ({"levers": {"breakeven": {"gpu_hourly_usd": "cheap"}}}, "not a number"),
        ({"levers": {"min_share_of_spend": -1}}, "out of range"),
    ],
)
def test_bad_lever_settings_fail_in_one_line(raw, message):
    with pytest.raises(ConfigError) as info:
        lever_settings(raw)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_config_object_without_levers_table_uses_defaults():
    s = lever_settings(Config())
    assert s.effort["distillation"] == "months" and s.days_for("model_routing") == 3


# ------------------------------------------------------------------------------------------ break-even


def test_self_hosting_and_distillation_only_past_break_even():
    usage = [
        # 2,000 M tokens a month at $10/Mtok = $20,000/month on one model: past both break-evens
        {
            "feature": "big",
            "provider": "openai",
            "model": "gpt-4.1",
            "calls": 1,
            "tokens": 2_000_000_000,
            "cost_usd": D(20000),
        },
        # $500/month: below both
        {
            "feature": "small",
            "provider": "openai",
            "model": "gpt-4.1",
            "calls": 1,
            "tokens": 50_000_000,
            "cost_usd": D(500),
        },
    ]
    plan = rank_levers([], D(20500), {"big": D(20000), "small": D(500)}, Config(), 30.44, {"usage": usage})
    levers = {lv.lever: lv for lv in plan.levers}
    assert set(levers) == {"self_hosting", "distillation"}
    assert all(lv.features == ["big"] for lv in levers.values())
    assert levers["self_hosting"].effort == "months" and levers["distillation"].quality_risk == "high"
    assert "Pilot self-hosting" in levers["self_hosting"].first_action
    assert "Distil big's gpt-4.1" in levers["distillation"].first_action
    assert plan.total_monthly_savings_usd <= D(20000)
    # distillation (bigger saving, same effort) goes first; self-hosting then acts on what is left
    assert plan.levers[0].lever == "distillation"
    assert levers["self_hosting"].evidence["breakeven"][0]["model"] == "gpt-4.1"

    plan = rank_levers([], D(500), {"small": D(500)}, Config(), 30.44, {"usage": usage[1:]})
    assert plan.levers == []
    reasons = {e.lever: e.reason for e in plan.excluded}
    assert "below break-even" in reasons["self_hosting"] and "below break-even" in reasons["distillation"]


def test_distillation_skips_a_feature_with_a_broad_task_class():
    usage = [
        {"feature": "chat", "provider": "openai", "model": "gpt-4.1", "tokens": 2_000_000_000, "cost_usd": D(20000)}
    ]
    plan = rank_levers(
        [], D(20000), {"chat": D(20000)}, None, 30.44, {"usage": usage, "task_classes": {"chat": "open-ended chat"}}
    )
    assert "distillation" not in {lv.lever for lv in plan.levers}
    assert any(e.lever == "distillation" and "not a narrow task" in e.reason for e in plan.excluded)


# --------------------------------------------------------------------------------------------- property

FEATURES = ["f1", "f2", "f3", "f4"]
LEAK_LEVERS = [lv for lv in LEVERS if lv not in ("distillation", "self_hosting")]
money = st.decimals(min_value=0, max_value=50000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def finding(draw):
    mid = draw(money)
    low = draw(st.none() | st.decimals(min_value=0, max_value=mid, places=2))
    high = draw(st.none() | st.decimals(min_value=mid, max_value=mid * 3 + 1, places=2))
    return Finding(
        kind=draw(
            st.sampled_from(
                [
                    "context_bloat",
                    "premium_overuse",
                    "retries",
                    "cache_miss",
                    "batchable",
                    "output_verbosity",
                    "agent_loops",
                    "input_quality",
                ]
            )
        ),
        feature=draw(st.sampled_from(FEATURES + ["ghost"])),
        lever=draw(st.sampled_from(LEAK_LEVERS)),
        est_monthly_savings_usd=mid,
        savings_low_usd=low,
        savings_high_usd=high,
        quality_risk=draw(st.none() | st.sampled_from(["low", "medium", "high"])),
    )


@st.composite
def usage_row(draw):
    return {
        "feature": draw(st.sampled_from(FEATURES)),
        "provider": "openai",
        "model": draw(st.sampled_from(["gpt-4.1", "gpt-4o"])),
        "tokens": draw(st.integers(min_value=0, max_value=10_000_000_000)),
        "cost_usd": draw(st.decimals(min_value=0, max_value=200000, places=2)),
    }


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    findings=st.lists(finding(), max_size=14),
    costs=st.lists(money, min_size=len(FEATURES), max_size=len(FEATURES)),
    days=st.floats(min_value=1, max_value=92, allow_nan=False),
    usage=st.lists(usage_row(), max_size=3),
)
def test_savings_never_exceed_spend(findings, costs, days, usage):
    features_cost = dict(zip(FEATURES, costs))
    usage = [u for u in usage if u["cost_usd"] <= features_cost[u["feature"]]]
    total = sum(costs, D(0))
    plan = rank_levers(findings, total, features_cost, None, days, {"usage": usage})
    factor = D("30.44") / D(str(days))
    total_monthly = total * factor
    assert plan.total_monthly_savings_usd <= total_monthly
    assert plan.total_savings_high_usd <= total_monthly
    per_feature: dict[str, D] = {}
    for rank, lv in enumerate(plan.levers, start=1):
        assert lv.rank == rank
        assert D(0) <= lv.savings_low_usd <= lv.est_monthly_savings_usd <= lv.savings_high_usd
        assert lv.est_monthly_savings_usd > 0
        assert sum(lv.by_feature.values(), D(0)) == lv.est_monthly_savings_usd
        for f, v in lv.by_feature.items():
            per_feature[f] = per_feature.get(f, D(0)) + v
        assert lv.first_action
    for f, saved in per_feature.items():
        assert saved <= features_cost[f] * factor
    per_day = [lv.savings_per_effort_day_usd for lv in plan.levers]
    assert per_day == sorted(per_day, reverse=True)
