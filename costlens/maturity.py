"""How mature is the organisation's LLM cost practice? Judged only from the data present, in five levels.

Each level needs every check of the levels below it (a check is met or not, with the figure that decided it):

1 ad hoc       calls are logged — nothing more is known. (A period without calls gets no assessment: None,
               `{}` in JSON.)
2 visible      spend is priced (≥ 95 % of calls) and attributed to a feature (≥ 80 % of spend).
3 accountable  features carrying ≥ 80 % of spend have an owner (or team) and a monthly budget in costlens.toml.
4 measured     outcomes are logged for ≥ 50 % of tasks (cost per accepted outcome is known) and cost SLOs per
               accepted outcome cover ≥ 50 % of spend.
5 optimised    prompt caching is in use (cache reads > 0), non-interactive work uses batch prices (batch calls, or
               no batchable traffic found), the provider bill is ingested so spend can be reconciled, and no
               high-severity leak is open.

Negotiated prices (overrides or discounts in costlens.toml) are reported as a check but required by no level.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from costlens.db import one_row
from costlens.model.report import Maturity, MaturityCheck

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config
    from costlens.model.report import Report

LABELS = {1: "ad hoc", 2: "visible", 3: "accountable", 4: "measured", 5: "optimised"}
PRICED_MIN_PCT = 95.0
ATTRIBUTED_MIN = 0.80
OWNED_MIN = 0.80
BUDGETED_MIN = 0.80
OUTCOMES_MIN = 0.50
SLO_MIN = 0.50


def _share_of_spend(report: Report, predicate) -> float | None:
    total = Decimal(report.totals.cost_usd or 0)
    if total <= 0:
        return None
    covered = sum((Decimal(r.cost_usd) for r in report.unit_economics if predicate(r.key)), Decimal(0))
    return float(covered / total)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _batch_calls(con: duckdb.DuckDBPyConnection | None) -> int | None:
    if con is None:
        return None
    try:
        return int(one_row(con.execute("SELECT count(*) FROM period_calls WHERE variant = 'batch'"))[0])
    except Exception:  # the period tables are not materialised on this connection
        return None


def assess_maturity(con: duckdb.DuckDBPyConnection | None, config: Config, report: Report) -> Maturity | None:
    """The level, its label, every check and the next steps (module docstring); None for a period without calls
    (nothing to judge)."""
    if report.totals.calls == 0:
        return None
    features = dict(config.features) if config is not None else {}
    t = report.totals
    checks: list[MaturityCheck] = []

    def check(name: str, level: int | None, met: bool, detail: str) -> None:
        checks.append(MaturityCheck(name=name, met=bool(met), detail=detail, level=level))

    check("calls_logged", 1, t.calls > 0, f"{t.calls:,} calls in the period")
    coverage = t.priced_coverage_pct
    check(
        "spend_priced",
        2,
        coverage is not None and coverage >= PRICED_MIN_PCT,
        f"{'n/a' if coverage is None else f'{coverage:.1f}%'} of calls priced (needs ≥ {PRICED_MIN_PCT:g}%)",
    )
    total = Decimal(t.cost_usd or 0)
    attributed = float(1 - Decimal(report.coverage.unattributed_cost_usd) / total) if total > 0 else None
    check(
        "spend_attributed",
        2,
        attributed is not None and attributed >= ATTRIBUTED_MIN,
        f"{_pct(attributed)} of spend attributed to a feature (needs ≥ {ATTRIBUTED_MIN:.0%})",
    )

    def configured(attr: str):
        return lambda key: key in features and getattr(features[key], attr, None) not in (None, "")

    owned = _share_of_spend(report, lambda k: configured("owner")(k) or configured("team")(k))
    check(
        "owners_assigned",
        3,
        owned is not None and owned >= OWNED_MIN,
        f"{_pct(owned)} of spend in features with an owner or team (needs ≥ {OWNED_MIN:.0%})",
    )
    budgeted = _share_of_spend(report, lambda k: configured("monthly_budget_usd")(k) or configured("hard_limit_usd")(k))
    check(
        "budgets_set",
        3,
        budgeted is not None and budgeted >= BUDGETED_MIN,
        f"{_pct(budgeted)} of spend in features with a monthly budget (needs ≥ {BUDGETED_MIN:.0%})",
    )

    outcome_share = t.tasks_with_outcome / t.tasks if t.tasks else None
    check(
        "outcomes_logged",
        4,
        outcome_share is not None and outcome_share >= OUTCOMES_MIN,
        f"{_pct(outcome_share)} of tasks have an outcome (needs ≥ {OUTCOMES_MIN:.0%})",
    )
    slo = _share_of_spend(report, configured("cost_slo_per_accepted_outcome_usd"))
    check(
        "cost_slos_set",
        4,
        slo is not None and slo >= SLO_MIN,
        f"{_pct(slo)} of spend under a cost SLO per accepted outcome (needs ≥ {SLO_MIN:.0%})",
    )

    cache_read = sum(r.cache_read_tokens for r in report.unit_economics)
    context = sum(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens for r in report.unit_economics)
    check(
        "prompt_caching_used",
        5,
        cache_read > 0,
        f"cache reads are {cache_read / context:.1%} of input tokens" if context else "no input tokens",
    )
    batch = _batch_calls(con)
    batchable = [f for f in report.leaks if f.kind == "batchable" and f.severity in ("medium", "high")]
    if batchable:
        names = ", ".join(sorted({str(f.feature) for f in batchable}))
        detail = f"batchable traffic at synchronous prices in {names}"
    elif batch:
        detail = f"{batch:,} calls at batch prices"
    else:
        detail = "no batchable traffic found"
    check("batch_where_possible", 5, not batchable, detail)
    check(
        "bill_reconcilable",
        5,
        report.coverage.billing_lines > 0,
        f"{report.coverage.billing_lines:,} billing lines in the period"
        if report.coverage.billing_lines
        else "no provider bill ingested: spend cannot be reconciled",
    )
    high = [f for f in report.leaks if f.severity == "high"]
    check("no_high_severity_leaks", 5, not high, f"{len(high)} high-severity leaks open")
    prices = (config.prices if config is not None else None) or {}
    negotiated = bool(prices.get("overrides") or prices.get("discounts"))
    check(
        "negotiated_prices",
        None,
        negotiated,
        "price overrides or discounts recorded" if negotiated else "list prices only (no overrides or discounts)",
    )

    level = 1
    for candidate in (2, 3, 4, 5):
        if all(c.met for c in checks if c.level is not None and c.level <= candidate):
            level = candidate
        else:
            break
    next_steps = [c.detail for c in checks if c.level == level + 1 and not c.met] if level < 5 else []
    return Maturity(level=level, label=LABELS[level], checks=checks, next_steps=next_steps)
