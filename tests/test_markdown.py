"""The Markdown summary (costlens/report/render_md.py): content, numbers shared with the terminal, and hostile
strings from the logs rendered inert."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from test_budgets import make_report, ue

from costlens.inert import md
from costlens.model.change import Change
from costlens.model.levers import Lever
from costlens.model.report import Budget
from costlens.report.render_md import render_markdown
from costlens.report.render_terminal import usd

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "=cmd|' /C calc'!A0",
    "a|b*c_d`e[f](javascript:alert(1))",
    "line1\nline2\r\n| injected | row |",
    "![x](https://evil.example/x.png)",
    "&lt;script&gt;",
]


def hostile_report():
    features = [ue(name, str(10 - i), calls=5, tasks=5, spend_share=0.1) for i, name in enumerate(HOSTILE)]
    report = make_report(features, cpao=0.5)
    report.budgets = [
        Budget.from_json(b)
        for b in [
            {
                "feature": HOSTILE[0],
                "owner": HOSTILE[1],
                "status": "over",
                "spend_usd": Decimal("10"),
                "monthly_budget_usd": Decimal("5"),
                "used_pct": 200.0,
                "forecast_month_end_usd": Decimal("10"),
                "slo_status": "breached",
            }
        ]
    ]
    report.levers = [
        Lever(
            rank=1,
            lever="model_routing",
            est_monthly_savings_usd=Decimal("12.5"),
            savings_low_usd=Decimal("6"),
            savings_high_usd=Decimal("13"),
            share_of_spend=0.1,
            effort="days",
            quality_risk="medium",
            features=[],
            evidence={},
            first_action=f"Route {HOSTILE[1]} to {HOSTILE[0]}",
        )
    ]
    report.warnings = [f"unpriced: acme / {HOSTILE[0]} (standard), 3 calls", HOSTILE[4], HOSTILE[6], HOSTILE[5]]
    return report


def test_hostile_strings_are_inert():
    text = render_markdown(hostile_report())
    lowered = text.lower()
    for raw in ("<script", "<img", "</script"):
        assert raw not in lowered, raw
    assert not re.search(r"(?<!\\)\]\(", text), "an unescaped ]( would make a link or an image"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&amp;lt;script&amp;gt;" in text  # an entity in the data shows as text, not as <script>
    assert "\\!\\[x\\]" in text
    # newlines in a value never start a new line: every table row keeps its column count
    for block in re.split(r"\n\n", text):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if not lines:
            continue
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
        assert len(widths) == 1, block
    assert not any(line.startswith("| injected") for line in text.splitlines())


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("<b>", "&lt;b&gt;"),
        ("a|b", "a\\|b"),
        ("*x*", "\\*x\\*"),
        ("_x_", "\\_x\\_"),
        ("`x`", "\\`x\\`"),
        ("[x]", "\\[x\\]"),
        ("a\nb", "a b"),
        ("back\\slash", "back\\\\slash"),
        (None, ""),
        ("x" * 200, "x" * 119 + "…"),
    ],
)
def test_md_escape(raw, expected):
    assert md(raw) == expected


def test_sections_and_numbers():
    report = make_report(
        [
            ue(
                "support-bot",
                "12.345",
                calls=100,
                tasks=80,
                spend_share=0.6,
                cost_per_task_usd=0.1543125,
                cost_per_accepted_outcome_usd=0.2,
                acceptance_rate=0.75,
            ),
            ue("search", "8.2", calls=50, tasks=50, spend_share=0.4),
        ],
        cpao=0.321,
    )
    report.change = Change.from_json(
        {
            "previous_period": {"start": "2026-09-01", "end": "2026-10-01"},
            "previous_cost_usd": Decimal("0.071"),
            "current_cost_usd": Decimal("0.416"),
            "delta_usd": Decimal("0.345"),
            "delta_pct": 485.9,
            "volume_usd": Decimal("0.071"),
            "efficiency_usd": Decimal("0.110"),
            "mix_usd": Decimal("0.104"),
            "price_usd": Decimal("0.060"),
            "cost_per_accepted_outcome_trend": [
                {"month": "2026-09", "value": 0.01775},
                {"month": "2026-10", "value": 0.026},
            ],
        }
    )
    report.budgets = [
        Budget.from_json(b)
        for b in [
            {
                "feature": "search",
                "owner": None,
                "status": "warning",
                "spend_usd": Decimal("8.2"),
                "monthly_budget_usd": Decimal("10"),
                "used_pct": 82.0,
                "forecast_month_end_usd": Decimal("8.2"),
                "slo_status": "no_slo",
            },
            {
                "feature": "support-bot",
                "status": "ok",
                "spend_usd": Decimal("12.345"),
                "monthly_budget_usd": Decimal("100"),
                "slo_status": "no_slo",
            },
        ]
    ]
    report.warnings = ["no outcomes ingested"]
    text = render_markdown(report)
    assert text.startswith("## costlens · 2026-10-01 → 2026-10-31")
    assert f"| {usd(report.totals.cost_usd)} |" in text and "$20.55" in text  # same formatting as the terminal
    assert "| $0.3210 |" in text
    assert "**Change vs 2026-09-01 → 2026-09-30:** $0.07 → $0.42 (+$0.35, +485.9%)" in text
    # the four effects, rounded so they add up to the rounded change: 0.07 + 0.11 + 0.11 + 0.06 = 0.35
    assert "| +$0.07 | +$0.11 | +$0.11 | +$0.06 |" in text
    assert "2026-09 $0.0177 · 2026-10 $0.0260" in text or "2026-09 $0.0178 · 2026-10 $0.0260" in text
    assert "### Top levers" in text and "Nothing worth doing found" in text
    assert "| search | — | warning | $8.20 | $10.00 | 82% | $8.20 |" in text
    assert "support-bot |" in text.split("### Top features")[1]
    assert "| support-bot | $12.35 | 60.0% | 100 | $0.1543 | $0.2000 | 75.0% |" in text
    assert "- no outcomes ingested" in text


def test_empty_report():
    text = render_markdown(make_report([]))
    assert "No earlier period" in text and "No calls in this period." in text and "No budgets" in text


def test_change_given_as_floats_and_partial():
    """A change read back from JSON (floats) or missing parts still renders, its parts adding up to the cent."""
    report = make_report([ue("a", "1")])
    report.change = Change.from_json(
        {
            "previous_period": {"start": "2026-09-01", "end": "2026-10-01"},
            "previous_cost_usd": 1.0,
            "current_cost_usd": 2.0,
            "delta_usd": 1.0,
            "volume_usd": 0.333,
            "efficiency_usd": 0.333,
            "mix_usd": 0.334,
        }
    )
    text = render_markdown(report)
    assert "| +$0.33 | +$0.33 | +$0.34 | ±$0.00 |" in text
