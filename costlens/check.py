"""`costlens check`: the CI gate. Every rule ends PASS, WARN, FAIL or SKIP with the figure that decided it, and
the run ends with one summary line, `PASS=4 WARN=3 FAIL=1 SKIP=1` (as dbt's). Any FAIL exits 4.

- FAIL  a threshold was breached.
- WARN  worth a look but not a breach: a soft budget alert or a month-end forecast over budget, reconciliation
        outside its tolerance, a budget for a feature that has no calls in the period (did-you-mean), no config
        file found. `strict` (--strict, alias --fail-on-warning) turns every WARN into a FAIL.
- SKIP  not compared, said why: no baseline, too few accepted outcomes, no bill or a bill in a currency with
        no rate to USD, a cost SLO with no accepted outcome yet.
- PASS  compared and within its threshold.

Rules (each a line of output, and an entry of `CheckResult.rules`):
- config                 WARN when no config file was found (defaults only: no budgets or SLOs to check).
- budget[<feature>]      FAIL over the monthly budget (status `over`) or at the hard limit (`hard_limit`); WARN
                         past the soft alert or forecast over budget (`warning`), or budgeted but without calls in
                         the period; PASS within budget.
- cost_slo[<feature>]    FAIL when the feature's cost per accepted outcome is above its configured cost SLO (SKIP,
                         with the figure, under `fail_on_slo=False` / --ignore-slo); SKIP with no accepted outcome.
- cpao_regression[total] FAIL when the cost per accepted outcome rose more than `max_cpao_regression_pct` % over
                         the baseline; cpao_regression[<feature>] the same per feature, compared only with at least
                         `min_accepted_outcomes` accepted outcomes in both periods (SKIP otherwise, and with no
                         baseline or no accepted outcome on either side).
- priced_coverage        FAIL when less than `min_priced_coverage_pct` % of the period's calls are priced (or the
                         period has no calls at all: nothing was checked, which a CI gate must not hide).
- margin_floor[<customer>] FAIL when the customer's gross AI margin is below `[customers] margin_floor_pct` % of
                         its revenue, PASS at or above; customers without revenue above 0 are one SKIP. Only with
                         the setting.
- reconciliation         logged calls against the bills: PASS reconciled, WARN outside the tolerance (the hard
                         gate for it is `costlens reconcile --fail-outside-tolerance`), SKIP no bill, no AI spend on
                         it, or a currency not converted.

The baseline is a Report (e.g. `--baseline previous`: the previous period's report), the parsed JSON of a saved
report (`costlens report --format json --out FILE`), or None. `load_baseline(path)` reads and validates a JSON
file: anything that is not a costlens report is a one-line InputError (exit code 3).

Renderers: `render_text` (terminal / CI log), `render_markdown` (a GitHub job summary), `render_github`
(`::error::` / `::warning::` workflow annotations), `to_dict` (JSON: statuses and the summary counts).

Exit codes (costlens.errors): 0 no rule failed · 4 a threshold was breached · 2 bad options or config ·
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
    from costlens.model.report import Report

BASELINE_FIX = "pass a file written by `costlens report --format json --out FILE`, or --baseline previous"
PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"
STATUSES = (PASS, WARN, FAIL, SKIP)
_ORDER = {FAIL: 0, WARN: 1, SKIP: 2, PASS: 3}  # problems first


@dataclass(frozen=True)
class CheckThresholds:
    max_cpao_regression_pct: float = 10.0
    min_priced_coverage_pct: float = 95.0
    min_accepted_outcomes: int = 10  # per-feature regressions need this many accepted outcomes on both sides
    strict: bool = False  # every WARN fails too (--strict, alias --fail-on-warning)
    fail_on_slo: bool = True

    def validate(self) -> CheckThresholds:
        if not self.max_cpao_regression_pct >= 0:
            raise UsageError(
                f"--max-cpao-regression-pct {self.max_cpao_regression_pct} must be 0 or more",
                fix="e.g. --max-cpao-regression-pct 10",
            )
        if not 0 <= self.min_priced_coverage_pct <= 100:
            raise UsageError(
                f"--min-priced-coverage-pct {self.min_priced_coverage_pct} must be within 0..100",
                fix="e.g. --min-priced-coverage-pct 95",
            )
        if self.min_accepted_outcomes < 0:
            raise UsageError("--min-accepted-outcomes must be 0 or more")
        return self


@dataclass
class CheckRule:
    name: str
    status: str  # PASS | WARN | FAIL | SKIP
    detail: str
    kind: str  # config | budget | cost_slo | cpao_regression | priced_coverage | margin_floor | reconciliation
    feature: str | None = None
    value: float | None = None
    threshold: float | None = None

    @property
    def passed(self) -> bool:
        """Not a failure (a WARN or a SKIP does not fail the gate)."""
        return self.status != FAIL

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


@dataclass
class CheckResult:
    period: dict[str, Any]
    baseline: str | None
    thresholds: CheckThresholds
    rules: list[CheckRule] = field(default_factory=list)
    empty_period: str | None = None  # why the period shows nothing: the months that do hold calls

    @property
    def failed(self) -> list[CheckRule]:
        return [r for r in self.rules if r.status == FAIL]

    @property
    def warned(self) -> list[CheckRule]:
        return [r for r in self.rules if r.status == WARN]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.passed else EXIT_THRESHOLD

    @property
    def summary(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for rule in self.rules:
            counts[rule.status] += 1
        return counts

    def summary_line(self) -> str:
        """`PASS=4 WARN=3 FAIL=1 SKIP=1`, the line CI logs are grepped for."""
        return " ".join(f"{status}={count}" for status, count in self.summary.items())

    def ordered(self) -> list[CheckRule]:
        return sorted(self.rules, key=lambda r: (_ORDER[r.status], r.kind, r.name))

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "exit_code": self.exit_code,
            "summary": self.summary,
            "period": self.period,
            "baseline": self.baseline,
            "thresholds": asdict(self.thresholds),
            "rules": [r.to_dict() for r in self.rules],
        }

    def _footer(self) -> str:
        return f"{self.summary_line()} → exit {self.exit_code}"

    def render_text(self) -> str:
        """Plain lines for a terminal or a CI log; names from the logs have control characters removed."""
        head = f"costlens check · {self.period['start']} → {self.period['end']} (end exclusive)"
        head += f" vs baseline {_clean(self.baseline)}" if self.baseline else " (no baseline)"
        lines = [head]
        lines += [f"{rule.status} {_clean(rule.name)}: {_clean(rule.detail)}" for rule in self.ordered()]
        lines.append(self._footer())
        return "\n".join(lines)

    def render_markdown(self) -> str:
        """A GitHub job summary: the verdict, the counts, then one table row per rule (problems first). Text from
        the logs and the config is inert Markdown (render_md.md)."""
        from costlens.inert import md

        last = self.period.get("last_day") or self.period["end"]
        verdict = "failed" if self.failed else "passed with warnings" if self.warned else "passed"
        lines = [
            f"## costlens check · {self.period['start']} → {last} · {verdict}",
            "",
            f"**{self.summary_line()}** → exit {self.exit_code} · baseline: "
            + (md(self.baseline) if self.baseline else "none"),
            "",
            "| status | rule | detail |",
            "|:---|:---|:---|",
        ]
        lines += [f"| {rule.status} | {md(rule.name)} | {md(rule.detail, limit=400)} |" for rule in self.ordered()]
        return "\n".join(lines) + "\n"

    def render_github(self) -> str:
        """GitHub Actions workflow commands: `::error` for each FAIL, `::warning` for each WARN, then the
        summary line as a notice. Values are escaped as the runner expects (%, CR, LF; also : and , in
        properties), so a name from the logs cannot end the command or start another one."""
        lines = []
        for rule in self.ordered():
            if rule.status in (FAIL, WARN):
                level = "error" if rule.status == FAIL else "warning"
                lines.append(
                    f"::{level} title={_gh_property('costlens ' + rule.name)}::"
                    f"{_gh_data(rule.status + ' ' + rule.name + ': ' + rule.detail)}"
                )
        lines.append(f"::notice title=costlens check::{_gh_data(self._footer())}")
        return "\n".join(lines)


def _clean(text: Any) -> str:
    return "".join(" " if (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) else ch for ch in str(text))


def _gh_data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _usd(value: Any) -> str:
    """A cost per accepted outcome in a rule's detail, as every output shows unit costs (costlens.money)."""
    from costlens.money import unit_usd

    return unit_usd(value)


# ----------------------------------------------------------------------------------------------- baseline


def load_baseline(path: str | Path) -> dict[str, Any]:
    """A saved JSON report, validated; InputError (one line, exit 3) when it is not one."""
    return validate_baseline(_read_json(Path(path), BASELINE_FIX, "baseline file"), str(path))


def validate_baseline(data: Any, where: str = "baseline") -> dict[str, Any]:
    if not isinstance(data, dict) or "schema_version" not in data or not isinstance(data.get("totals"), dict):
        raise InputError(where, "is not a costlens JSON report (no schema_version / totals)", fix=BASELINE_FIX)
    if str(data["schema_version"]) != "1":
        raise InputError(
            where,
            f"costlens report schema_version {data['schema_version']!r} is not supported",
            fix="save the baseline again with this costlens version",
        )
    cpao = data["totals"].get("cost_per_accepted_outcome_usd")
    if cpao is not None and (isinstance(cpao, bool) or not isinstance(cpao, (int, float))):
        raise InputError(where, "totals.cost_per_accepted_outcome_usd is not a number", fix=BASELINE_FIX)
    rows = data.get("unit_economics", [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "feature" in r for r in rows):
        raise InputError(where, "unit_economics is not a list of feature rows", fix=BASELINE_FIX)
    return data


def _saved_customers(data: Any) -> Any:
    """The customers section of a saved report, as the margin rule reads it (None when it has none)."""
    from decimal import Decimal
    from types import SimpleNamespace

    if not isinstance(data, dict) or not data:
        return None

    def money(value: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    rows = [
        SimpleNamespace(
            customer=str(c.get("customer")),
            margin_pct=c.get("margin_pct"),
            ai_cost_usd=money(c.get("ai_cost_usd")) or Decimal(0),
            revenue_usd=money(c.get("revenue_usd")),
        )
        for c in data.get("customers") or []
        if isinstance(c, dict)
    ]
    return SimpleNamespace(revenue_usd=money(data.get("revenue_usd")), customers=rows)


def load_report(path: str | Path) -> Any:
    """A saved JSON report (`costlens report --format json --out FILE`) as the gate reads a Report: the same
    rules judge the very numbers that were written, without building the report again. InputError (exit 3)
    when the file is not a costlens report."""
    from datetime import date
    from types import SimpleNamespace

    from costlens.model.report import Budget, Period

    fix = "pass a file written by `costlens report --format json --out FILE`"
    data = validate_baseline(_read_json(Path(path), fix), str(path))
    try:
        period = Period(
            date.fromisoformat(data["period"]["start"]),
            date.fromisoformat(data["period"]["end"]),
            data["period"].get("label"),
        )
    except (KeyError, TypeError, ValueError):
        raise InputError(str(path), "has no period {start, end}", fix=fix) from None
    totals = data["totals"]
    rows = [
        SimpleNamespace(
            key=str(r["feature"]),
            calls=int(r.get("calls") or 0),
            accepted_tasks=int(r.get("accepted_tasks") or 0),
            cost_per_accepted_outcome_usd=r.get("cost_per_accepted_outcome_usd"),
        )
        for r in data.get("unit_economics", [])
    ]
    unpriced = [
        SimpleNamespace(model=str(m.get("model")), calls=int(m.get("calls") or 0))
        for m in (data.get("coverage") or {}).get("unpriced_models", [])
    ]
    return SimpleNamespace(
        period=period,
        customers=_saved_customers(data.get("customers")),
        unit_economics=rows,
        budgets=[Budget.from_json(b) for b in data.get("budgets") or [] if isinstance(b, dict)],
        totals=SimpleNamespace(
            calls=int(totals.get("calls") or 0),
            accepted_tasks=int(totals.get("accepted_tasks") or 0),
            cost_per_accepted_outcome_usd=totals.get("cost_per_accepted_outcome_usd"),
            priced_coverage_pct=totals.get("priced_coverage_pct"),
        ),
        coverage=SimpleNamespace(unpriced_models=unpriced),
        reconciliation=data.get("reconciliation") or {},
    )


def _read_json(file: Path, fix: str, what: str = "file") -> Any:
    if not file.is_file():
        raise InputError(str(file), f"{what} not found", fix=fix)
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(file), f"cannot be read ({exc})", fix=fix) from None
    except json.JSONDecodeError as exc:
        raise InputError(str(file), f"is not JSON ({exc.msg} at line {exc.lineno})", fix=fix) from None


@dataclass
class _View:
    label: str | None
    cpao: float | None
    accepted: int
    features: dict[str, tuple[float | None, int]]
    calls: int | None = None


def _view(value: Report | dict[str, Any] | None) -> _View | None:
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
        return _View(
            label,
            None if cpao is None else float(cpao),
            int(totals.get("accepted_tasks") or 0),
            features,
            int(calls) if isinstance(calls, int) else None,
        )
    period = value.period
    return _View(
        f"{period.start} → {period.end}",
        value.totals.cost_per_accepted_outcome_usd,
        value.totals.accepted_tasks,
        {r.key: (r.cost_per_accepted_outcome_usd, r.accepted_tasks) for r in value.unit_economics},
        value.totals.calls,
    )


# ------------------------------------------------------------------------------------------------- rules


def _config_rule() -> CheckRule:
    return CheckRule(
        "config",
        WARN,
        "no config file found (no ./costlens.toml, no [tool.costlens] in "
        "./pyproject.toml): defaults only, no budget or cost SLO is checked — pass --config FILE, or "
        "write one with `costlens init`",
        "config",
    )


def _did_you_mean(feature: str, with_calls: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(feature, with_calls, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(with_calls[:6]) + (" …" if len(with_calls) > 6 else "")
    return f"features with calls: {shown}" if with_calls else "the period has no calls at all"


def _budget_rules(report: Report, config: Config, t: CheckThresholds) -> list[CheckRule]:
    budgets = report.budgets
    if not budgets and config is not None and config.features:
        from costlens.budgets import compute_budgets

        budgets = compute_budgets(None, config, report)
    with_calls = [row.key for row in report.unit_economics if row.calls]
    rules = []
    for b in budgets:
        feature = str(b.feature)
        status = b.status
        spend = None if b.spend_usd is None else float(b.spend_usd)
        budget = None if b.monthly_budget_usd is None else float(b.monthly_budget_usd)
        if status != "no_budget" and b.configured and feature not in with_calls:
            # a budget that watches nothing is most often a feature name that does not match the logs
            rules.append(
                CheckRule(
                    f"budget[{feature}]",
                    WARN,
                    f"budgeted but no calls in the period: the budget checks nothing — "
                    f"{_did_you_mean(feature, with_calls)}",
                    "budget",
                    feature,
                    spend,
                    budget,
                )
            )
        elif status != "no_budget":
            verdict = FAIL if status in ("over", "hard_limit") else WARN if status == "warning" else PASS
            rules.append(
                CheckRule(
                    f"budget[{feature}]",
                    verdict,
                    f"{status}: {b.reason or ''}".strip(),
                    "budget",
                    feature,
                    spend,
                    budget,
                )
            )
        if b.slo_status in ("ok", "breached", "unknown"):
            slo = b.cost_slo_per_accepted_outcome_usd
            cpao = b.cost_per_accepted_outcome_usd
            if b.slo_status == "unknown":
                verdict = SKIP
                detail = f"not compared: cost SLO {_usd(slo)} per accepted outcome, no accepted outcome in the period"
            else:
                breached = b.slo_status == "breached"
                detail = (
                    f"cost per accepted outcome {_usd(cpao)} {'is above' if breached else 'within'} the SLO {_usd(slo)}"
                )
                verdict = PASS
                if breached:
                    verdict = FAIL if t.fail_on_slo else SKIP
                    detail += "" if t.fail_on_slo else " (not enforced: --ignore-slo)"
            rules.append(
                CheckRule(
                    f"cost_slo[{feature}]",
                    verdict,
                    detail,
                    "cost_slo",
                    feature,
                    cpao,
                    None if slo is None else float(slo),
                )
            )
    return rules


def _regression(
    name: str, feature: str | None, current: float | None, base: float | None, t: CheckThresholds
) -> CheckRule:
    limit = t.max_cpao_regression_pct
    if base is None or current is None:
        side = "the baseline" if base is None else "this period"
        return CheckRule(
            name, SKIP, f"not compared: no accepted outcome in {side}", "cpao_regression", feature, current, limit
        )
    if base == 0:
        return CheckRule(
            name,
            SKIP,
            "not compared: baseline cost per accepted outcome is $0",
            "cpao_regression",
            feature,
            current,
            limit,
        )
    change = (current - base) / base * 100
    within = change <= limit
    detail = (
        f"cost per accepted outcome {_usd(base)} → {_usd(current)} ({change:+.1f}%, "
        f"{'within' if within else 'over'} the {limit:g}% limit)"
    )
    return CheckRule(name, PASS if within else FAIL, detail, "cpao_regression", feature, change, limit)


def _regression_rules(report: Report, base: _View | None, t: CheckThresholds) -> list[CheckRule]:
    current = report.totals.cost_per_accepted_outcome_usd
    limit = t.max_cpao_regression_pct
    if base is None:
        return [
            CheckRule(
                "cpao_regression[total]", SKIP, "not compared: no baseline", "cpao_regression", None, current, limit
            )
        ]
    if base.calls == 0:
        return [
            CheckRule(
                "cpao_regression[total]",
                SKIP,
                f"not compared: the baseline {base.label} has no calls",
                "cpao_regression",
                None,
                current,
                limit,
            )
        ]
    rules = [_regression("cpao_regression[total]", None, current, base.cpao, t)]
    need = max(t.min_accepted_outcomes, 1)
    for row in report.unit_economics:
        name = f"cpao_regression[{row.key}]"
        before = base.features.get(row.key)
        if before is None:
            rules.append(
                CheckRule(
                    name,
                    SKIP,
                    "not compared: the feature is not in the baseline",
                    "cpao_regression",
                    row.key,
                    row.cost_per_accepted_outcome_usd,
                    limit,
                )
            )
            continue
        base_cpao, base_accepted = before
        if min(base_accepted, row.accepted_tasks) < need:
            rules.append(
                CheckRule(
                    name,
                    SKIP,
                    f"not compared: too few accepted outcomes ({base_accepted:,} in the "
                    f"baseline, {row.accepted_tasks:,} now; need {need:,} on both sides, "
                    "--min-accepted-outcomes)",
                    "cpao_regression",
                    row.key,
                    row.cost_per_accepted_outcome_usd,
                    limit,
                )
            )
            continue
        rules.append(_regression(name, row.key, row.cost_per_accepted_outcome_usd, base_cpao, t))
    return rules


def _coverage_rule(report: Report, t: CheckThresholds) -> CheckRule:
    coverage = report.totals.priced_coverage_pct
    if coverage is None or report.totals.calls == 0:
        return CheckRule(
            "priced_coverage",
            FAIL,
            "no calls in the period: nothing was checked (is the period right, and did the ingest find the logs?)",
            "priced_coverage",
            None,
            None,
            t.min_priced_coverage_pct,
        )
    within = coverage >= t.min_priced_coverage_pct
    unpriced = ", ".join(f"{m.model} ({m.calls})" for m in report.coverage.unpriced_models[:5])
    detail = (
        f"{coverage:.1f}% of {report.totals.calls:,} calls priced "
        f"({'at or above' if within else 'below'} {t.min_priced_coverage_pct:g}%)"
    )
    if not within and unpriced:
        detail += f"; unpriced: {unpriced} — add [[prices.overrides]]"
    return CheckRule(
        "priced_coverage",
        PASS if within else FAIL,
        detail,
        "priced_coverage",
        None,
        coverage,
        t.min_priced_coverage_pct,
    )


_RECONCILIATION = {
    "reconciled": PASS,
    "outside_tolerance": WARN,
    "not_compared": SKIP,
    "no_bill": SKIP,
    "no_ai_spend": SKIP,
}


def _reconciliation_rule(report: Report) -> CheckRule | None:
    rec = report.reconciliation
    status = getattr(rec, "status", None) if not isinstance(rec, dict) else rec.get("status")
    if status not in _RECONCILIATION:
        return None
    verdict = (getattr(rec, "verdict", None) if not isinstance(rec, dict) else rec.get("verdict")) or status
    detail = verdict if _RECONCILIATION[status] != SKIP else f"not compared: {verdict}"
    if status == "outside_tolerance":
        detail += " (fail on it with `costlens reconcile --fail-outside-tolerance`, or --strict)"
    return CheckRule("reconciliation", _RECONCILIATION[status], detail, "reconciliation")


def _margin_rules(report: Report, config: Config) -> list[CheckRule]:
    """margin_floor[<customer>]: FAIL when a customer's gross AI margin is below [customers] margin_floor_pct %
    of its revenue; PASS otherwise. Customers without revenue above 0 are not compared (one SKIP says how many).
    No rule without the setting."""
    floor = config.customers.margin_floor_pct
    if floor is None:
        return []
    section = getattr(report, "customers", None)
    if section is None or section.revenue_usd is None:
        return [CheckRule("margin_floor", SKIP, "no revenue covers the period: nothing to compare", "margin_floor")]
    rules = []
    for c in section.customers:
        if c.margin_pct is None:
            continue
        margin = 100 * c.margin_pct
        status = FAIL if margin < floor else PASS
        detail = (
            f"gross AI margin {margin:.1f}% of revenue (AI cost ${c.ai_cost_usd:,.2f} of ${c.revenue_usd:,.2f}) "
            f"{'below' if status == FAIL else 'at or above'} the floor {floor:g}%"
        )
        rules.append(CheckRule(f"margin_floor[{c.customer}]", status, detail, "margin_floor", None, margin, floor))
    unmeasured = sum(1 for c in section.customers if c.margin_pct is None and c.customer != "(no customer)")
    if unmeasured:
        rules.append(
            CheckRule(
                "margin_floor[without revenue]",
                SKIP,
                f"{unmeasured} customers have no revenue above 0 in the period: not compared",
                "margin_floor",
            )
        )
    return rules


def _strict(rules: list[CheckRule]) -> None:
    for rule in rules:
        if rule.status == WARN:
            rule.status = FAIL
            rule.detail += " (a warning: failed under --strict)"


def run_check(
    report: Report,
    baseline: Report | dict[str, Any] | None,
    config: Config,
    thresholds: CheckThresholds | None = None,
    *,
    config_found: bool = True,
) -> CheckResult:
    """Evaluate every rule for `report` against `baseline` (module docstring). `config_found` False adds the
    `config` warning (api.check passes whether a config file was read)."""
    t = (thresholds or CheckThresholds()).validate()
    base = _view(baseline)
    result = CheckResult(
        period=report.period.to_dict(),
        baseline=base.label if base is not None else None,
        thresholds=t,
    )
    if not config_found:
        result.rules.append(_config_rule())
    result.rules += _budget_rules(report, config, t)
    result.rules += _regression_rules(report, base, t)
    result.rules.append(_coverage_rule(report, t))
    result.rules += _margin_rules(report, config)
    reconciliation = _reconciliation_rule(report)
    if reconciliation is not None:
        result.rules.append(reconciliation)
    if t.strict:
        _strict(result.rules)
    return result
