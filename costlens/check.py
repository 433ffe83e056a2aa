"""`costlens check`: the CI gate. Every rule passes or fails with the figure that decided it.

Rules (each a line of output, and an entry of `CheckResult.rules`):
- budget[<feature>]      fails when the feature's spend is over its monthly budget (status `over`) or has reached
                         its hard limit (`hard_limit`); with `fail_on_warning`, also past the soft alert or
                         forecast over budget (`warning`).
- cost_slo[<feature>]    fails when the feature's cost per accepted outcome is above its configured cost SLO
                         (`fail_on_slo`, on by default).
- cpao_regression[total] fails when the cost per accepted outcome rose more than `max_cpao_regression_pct` % over
                         the baseline; cpao_regression[<feature>] the same per feature, for features with at least
                         `min_accepted_outcomes` accepted outcomes in both periods. No baseline, or no accepted
                         outcome on either side, passes with the reason said.
- priced_coverage        fails when less than `min_priced_coverage_pct` % of the period's calls are priced (or
                         the period has no calls at all: nothing was checked, which a CI gate must not hide).

The baseline is a Report (e.g. `--baseline previous`: the previous period's report), the parsed JSON of a saved
report (`costlens report --format json --out FILE`), or None. `load_baseline(path)` reads and validates a JSON
file: anything that is not a costlens report is a one-line InputError (exit code 3).

Exit codes (costlens.errors): 0 every rule passed · 4 a threshold was breached · 2 bad options or config ·
3 unreadable input (e.g. the baseline file).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlens.errors import EXIT_OK, EXIT_THRESHOLD, InputError, UsageError

if TYPE_CHECKING:
    from costlens.config import Config
    from costlens.report.model import Report

BASELINE_FIX = "pass a file written by `costlens report --format json --out FILE`, or --baseline previous"


@dataclass(frozen=True)
class CheckThresholds:
    max_cpao_regression_pct: float = 10.0
    min_priced_coverage_pct: float = 95.0
    min_accepted_outcomes: int = 10  # per-feature regressions need this many accepted outcomes on both sides
    fail_on_warning: bool = False  # soft alert / forecast over budget fails too
    fail_on_slo: bool = True

    def validate(self) -> "CheckThresholds":
        if not self.max_cpao_regression_pct >= 0:
            raise UsageError(f"--max-cpao-regression-pct {self.max_cpao_regression_pct} must be 0 or more",
                             fix="e.g. --max-cpao-regression-pct 10")
        if not 0 <= self.min_priced_coverage_pct <= 100:
            raise UsageError(f"--min-priced-coverage-pct {self.min_priced_coverage_pct} must be within 0..100",
                             fix="e.g. --min-priced-coverage-pct 95")
        if self.min_accepted_outcomes < 0:
            raise UsageError("--min-accepted-outcomes must be 0 or more")
        return self


@dataclass
class CheckRule:
    name: str
    passed: bool
    detail: str
    kind: str  # budget | cost_slo | cpao_regression | priced_coverage
    feature: str | None = None
    value: float | None = None
    threshold: float | None = None


@dataclass
class CheckResult:
    period: dict[str, str]
    baseline: str | None
    thresholds: CheckThresholds
    rules: list[CheckRule] = field(default_factory=list)
    empty_period: str | None = None  # why the period shows nothing: the months that do hold calls

    @property
    def failed(self) -> list[CheckRule]:
        return [r for r in self.rules if not r.passed]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.passed else EXIT_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "exit_code": self.exit_code, "period": self.period, "baseline": self.baseline,
                "thresholds": asdict(self.thresholds), "rules": [asdict(r) for r in self.rules]}

    def render_text(self) -> str:
        """Plain lines for a terminal or a CI log; names from the logs have control characters removed."""
        head = f"costlens check · {self.period['start']} → {self.period['end']} (end exclusive)"
        head += f" vs baseline {_clean(self.baseline)}" if self.baseline else " (no baseline)"
        lines = [head]
        for rule in sorted(self.rules, key=lambda r: (r.passed, r.kind, r.name)):
            lines.append(f"{'PASS' if rule.passed else 'FAIL'} {_clean(rule.name)}: {_clean(rule.detail)}")
        failed = len(self.failed)
        if failed:
            lines.append(f"FAILED: {failed} of {len(self.rules)} rules failed → exit {self.exit_code}")
        else:
            lines.append(f"passed: all {len(self.rules)} rules passed → exit {self.exit_code}")
        return "\n".join(lines)


def _clean(text: Any) -> str:
    return "".join(" " if (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) else ch for ch in str(text))


def _usd(value: Any) -> str:
    """A cost per accepted outcome in a rule's detail, as every output shows unit costs (costlens.money)."""
    from costlens.money import unit_usd

    return unit_usd(value)


# ----------------------------------------------------------------------------------------------- baseline


def load_baseline(path: str | Path) -> dict[str, Any]:
    """A saved JSON report, validated; InputError (one line, exit 3) when it is not one."""
    file = Path(path)
    if not file.is_file():
        raise InputError(str(file), "baseline file not found", fix=BASELINE_FIX)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(file), f"cannot be read ({exc})", fix=BASELINE_FIX) from None
    except json.JSONDecodeError as exc:
        raise InputError(str(file), f"is not JSON ({exc.msg} at line {exc.lineno})", fix=BASELINE_FIX) from None
    return validate_baseline(data, str(file))


def validate_baseline(data: Any, where: str = "baseline") -> dict[str, Any]:
    if not isinstance(data, dict) or "schema_version" not in data or not isinstance(data.get("totals"), dict):
        raise InputError(where, "is not a costlens JSON report (no schema_version / totals)", fix=BASELINE_FIX)
    if str(data["schema_version"]) != "1":
        raise InputError(where, f"costlens report schema_version {data['schema_version']!r} is not supported",
                         fix="save the baseline again with this costlens version")
    cpao = data["totals"].get("cost_per_accepted_outcome_usd")
    if cpao is not None and (isinstance(cpao, bool) or not isinstance(cpao, (int, float))):
        raise InputError(where, "totals.cost_per_accepted_outcome_usd is not a number", fix=BASELINE_FIX)
    rows = data.get("unit_economics", [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "feature" in r for r in rows):
        raise InputError(where, "unit_economics is not a list of feature rows", fix=BASELINE_FIX)
    return data


@dataclass
class _View:
    label: str | None
    cpao: float | None
    accepted: int
    features: dict[str, tuple[float | None, int]]
    calls: int | None = None


def _view(value: "Report | dict[str, Any] | None") -> _View | None:
    if value is None:
        return None
    if isinstance(value, dict):
        data = validate_baseline(value)
        period = data.get("period") or {}
        label = f"{period.get('start')} → {period.get('end')}" if period else "saved report"
        features = {}
        for row in data.get("unit_economics", []):
            cpao = row.get("cost_per_accepted_outcome_usd")
            features[str(row["feature"])] = (None if cpao is None else float(cpao), int(row.get("accepted_tasks") or 0))
        totals = data["totals"]
        cpao = totals.get("cost_per_accepted_outcome_usd")
        calls = totals.get("calls")
        return _View(label, None if cpao is None else float(cpao), int(totals.get("accepted_tasks") or 0), features,
                     int(calls) if isinstance(calls, int) else None)
    period = value.period
    return _View(
        f"{period.start} → {period.end}",
        value.totals.cost_per_accepted_outcome_usd,
        value.totals.accepted_tasks,
        {r.key: (r.cost_per_accepted_outcome_usd, r.accepted_tasks) for r in value.unit_economics},
        value.totals.calls,
    )


# ------------------------------------------------------------------------------------------------- rules


def _budget_rules(report: "Report", config: "Config", t: CheckThresholds) -> list[CheckRule]:
    budgets = report.budgets
    if not budgets and config is not None and config.features:
        from costlens.budgets import compute_budgets

        budgets = compute_budgets(None, config, report)
    rules = []
    for b in budgets:
        feature = str(b.get("feature"))
        status = b.get("status")
        if status != "no_budget":
            failing = ("over", "hard_limit") + (("warning",) if t.fail_on_warning else ())
            rules.append(CheckRule(
                name=f"budget[{feature}]", passed=status not in failing,
                detail=f"{status}: {b.get('reason') or ''}".strip(), kind="budget", feature=feature,
                value=None if b.get("spend_usd") is None else float(b["spend_usd"]),
                threshold=None if b.get("monthly_budget_usd") is None else float(b["monthly_budget_usd"])))
        if b.get("slo_status") in ("ok", "breached", "unknown"):
            slo = b.get("cost_slo_per_accepted_outcome_usd")
            cpao = b.get("cost_per_accepted_outcome_usd")
            if b["slo_status"] == "unknown":
                detail = f"cost SLO {_usd(slo)} per accepted outcome: no accepted outcome in the period"
            else:
                detail = (f"cost per accepted outcome {_usd(cpao)} "
                          f"{'is above' if b['slo_status'] == 'breached' else 'within'} the SLO {_usd(slo)}")
            rules.append(CheckRule(
                name=f"cost_slo[{feature}]", passed=not (t.fail_on_slo and b["slo_status"] == "breached"),
                detail=detail, kind="cost_slo", feature=feature, value=cpao,
                threshold=None if slo is None else float(slo)))
    return rules


def _regression(name: str, feature: str | None, current: float | None, base: float | None,
                t: CheckThresholds) -> CheckRule:
    limit = t.max_cpao_regression_pct
    if base is None or current is None:
        side = "the baseline" if base is None else "this period"
        return CheckRule(name, True, f"not compared: no accepted outcome in {side}", "cpao_regression", feature,
                         current, limit)
    if base == 0:
        return CheckRule(name, True, "not compared: baseline cost per accepted outcome is $0", "cpao_regression",
                         feature, current, limit)
    change = (current - base) / base * 100
    passed = change <= limit
    detail = (f"cost per accepted outcome {_usd(base)} → {_usd(current)} ({change:+.1f}%, "
              f"{'within' if passed else 'over'} the {limit:g}% limit)")
    return CheckRule(name, passed, detail, "cpao_regression", feature, change, limit)


def _regression_rules(report: "Report", base: _View | None, t: CheckThresholds) -> list[CheckRule]:
    if base is None:
        return [CheckRule("cpao_regression[total]", True, "not compared: no baseline", "cpao_regression", None,
                          report.totals.cost_per_accepted_outcome_usd, t.max_cpao_regression_pct)]
    if base.calls == 0:
        return [CheckRule("cpao_regression[total]", True, f"not compared: the baseline {base.label} has no calls",
                          "cpao_regression", None, report.totals.cost_per_accepted_outcome_usd,
                          t.max_cpao_regression_pct)]
    rules = [_regression("cpao_regression[total]", None, report.totals.cost_per_accepted_outcome_usd, base.cpao, t)]
    for row in report.unit_economics:
        before = base.features.get(row.key)
        if before is None:
            continue
        base_cpao, base_accepted = before
        if min(base_accepted, row.accepted_tasks) < max(t.min_accepted_outcomes, 1):
            continue
        rules.append(_regression(f"cpao_regression[{row.key}]", row.key, row.cost_per_accepted_outcome_usd,
                                 base_cpao, t))
    return rules


def _coverage_rule(report: "Report", t: CheckThresholds) -> CheckRule:
    coverage = report.totals.priced_coverage_pct
    if coverage is None or report.totals.calls == 0:
        return CheckRule("priced_coverage", False, "no calls in the period: nothing was checked (is the period "
                         "right, and did the ingest find the logs?)", "priced_coverage", None, None,
                         t.min_priced_coverage_pct)
    passed = coverage >= t.min_priced_coverage_pct
    unpriced = ", ".join(f"{m.model} ({m.calls})" for m in report.coverage.unpriced_models[:5])
    detail = (f"{coverage:.1f}% of {report.totals.calls:,} calls priced "
              f"({'at or above' if passed else 'below'} {t.min_priced_coverage_pct:g}%)")
    if not passed and unpriced:
        detail += f"; unpriced: {unpriced} — add [[prices.overrides]]"
    return CheckRule("priced_coverage", passed, detail, "priced_coverage", None, coverage, t.min_priced_coverage_pct)


def run_check(report: "Report", baseline: "Report | dict[str, Any] | None", config: "Config",
              thresholds: CheckThresholds | None = None) -> CheckResult:
    """Evaluate every rule for `report` against `baseline` (module docstring)."""
    t = (thresholds or CheckThresholds()).validate()
    base = _view(baseline)
    result = CheckResult(
        period=report.period.to_dict(),
        baseline=base.label if base is not None else None,
        thresholds=t,
    )
    result.rules += _budget_rules(report, config, t)
    result.rules += _regression_rules(report, base, t)
    result.rules.append(_coverage_rule(report, t))
    return result
