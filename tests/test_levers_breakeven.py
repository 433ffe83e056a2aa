"""Self-hosting and distillation break-even against hand-computed figures (costlens/levers/breakeven.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from costlens.levers.breakeven import (
    BreakEvenSettings,
    distillation,
    self_hosting,
    self_hosting_breakeven_tokens,
    self_hosting_cost,
)
from costlens.settings.levers import lever_settings

# One GPU: $2/h × 730 h = $1,460/month; capacity 1,000 tok/s × 0.5 × 3,600 × 730 = 1,314,000,000 tokens/month.
S = BreakEvenSettings(
    gpu_hourly_usd=D(2),
    throughput_tokens_per_s=1000,
    utilisation=0.5,
    min_gpus=1,
    engineering_monthly_usd=D(5000),
    hours_per_month=730,
)


def test_self_hosting_past_break_even():
    """5,000 M tokens/month at $4/Mtok = $20,000. GPUs = ceil(5e9 / 1.314e9) = 4 → 4 × 1,460 + 5,000 = 10,840.
    Break-even: margin per GPU = 4e-6 × 1.314e9 − 1,460 = 3,796; n* = ceil(5,000 / 3,796) = 2;
    T* = max((2 × 1,460 + 5,000) / 4e-6, 1 × 1.314e9) = 1.98e9 tokens → $7,920/month."""
    r = self_hosting("f", "openai", "gpt-4.1", D(20000), 5_000_000_000, S)
    assert r.gpus == 4
    assert r.monthly_cost_usd == D(10840)
    assert r.monthly_savings_usd == D(9160)
    assert r.breakeven_monthly_tokens == 1_980_000_000
    assert r.breakeven_monthly_usd == D("7920.00")
    assert r.recommended and "past break-even" in r.reason
    # pessimistic costs × 1.25 = 13,550; optimistic × 0.8 = 8,672
    assert r.savings_low_usd == D(20000) - D(10840) * D("1.25")
    assert r.savings_high_usd == D(20000) - D(10840) * D("0.8")
    # at break-even the two costs meet
    cost, gpus = self_hosting_cost(1_980_000_000, S)
    assert gpus == 2 and cost == D(7920)


def test_self_hosting_below_break_even():
    """750 M tokens/month at $4/Mtok = $3,000 < 1 GPU + engineering = $6,460."""
    r = self_hosting("f", "openai", "gpt-4.1", D(3000), 750_000_000, S)
    assert not r.recommended
    assert r.monthly_savings_usd == 0 and r.savings_low_usd == 0
    assert r.monthly_cost_usd == D(6460)
    assert r.breakeven_monthly_usd == D("7920.00")
    assert "below break-even" in r.reason


def test_self_hosting_never_pays_back_against_a_cheap_api():
    """$1/Mtok: a GPU's monthly output (1.314e9 tokens) is worth $1,314 at API prices < its $1,460 cost."""
    assert self_hosting_breakeven_tokens(D("0.000001"), S) is None
    r = self_hosting("f", "openai", "gpt-4.1-nano", D(100000), 100_000_000_000, S)
    assert not r.recommended and r.breakeven_monthly_usd is None and "never pays back" in r.reason


def test_min_gpus_floor():
    """With 2 GPUs minimum the fixed cost is 2 × 1,460 + 5,000 = 7,920 even for little traffic."""
    s2 = BreakEvenSettings(**{**S.__dict__, "min_gpus": 2})
    cost, gpus = self_hosting_cost(1_000, s2)
    assert (cost, gpus) == (D(7920), 2)
    assert self_hosting_breakeven_tokens(D("0.000004"), s2) == 1_980_000_000


def test_distillation_break_even():
    """Fixed part: 20,000 / 12 + 2,000 = 3,666.67/month; student at 15 %.
    Break-even spend = 3,666.67 / 0.85 = 4,313.73. At $10,000: 1,500 + 3,666.67 → savings 4,833.33."""
    s = BreakEvenSettings()
    r = distillation("f", "openai", "gpt-4.1", D(10000), 1_000_000_000, s, task_class="classification")
    assert r.recommended
    assert r.breakeven_monthly_usd == D("4313.73")
    assert r.monthly_savings_usd.quantize(D("0.01")) == D("4833.33")
    below = distillation("f", "openai", "gpt-4.1", D(4000), 400_000_000, s, task_class="extraction")
    assert not below.recommended and below.monthly_savings_usd == 0
    broad = distillation("f", "openai", "gpt-4.1", D(10000), 1_000_000_000, s, task_class="agentic coding")
    assert not broad.recommended and "not a narrow task" in broad.reason
    unknown = distillation("f", "openai", "gpt-4.1", D(10000), 1_000_000_000, s)
    assert unknown.recommended and "task class unknown" in unknown.reason


def test_required_margin():
    s = BreakEvenSettings(required_margin=0.6)
    r = distillation("f", None, "m", D(10000), 1_000_000_000, s, task_class="classification")
    assert not r.recommended  # saves 48 %, margin asks 60 %


def test_breakeven_settings_from_config():
    s = lever_settings(
        {
            "levers": {
                "breakeven": {"gpu_hourly_usd": 4, "min_gpus": 1, "utilisation": 0.8, "narrow_task_classes": ["triage"]}
            }
        }
    )
    assert s.breakeven.gpu_hourly_usd == D(4) and s.breakeven.min_gpus == 1
    assert s.breakeven.utilisation == pytest.approx(0.8)
    assert s.breakeven.narrow_task_classes == ("triage",)
