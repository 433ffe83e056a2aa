"""Build the Report model: price the calls, run the metrics SQL, collect coverage and warnings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens.db import one_row
from costlens.engine import (
    COST_MODES,
    CallFilter,
    compute_period_metrics,
    dimension_rows,
    filter_hint,
    prepare_priced_calls,
    query_rows,
    set_call_filter,
    totals_from_row,
)
from costlens.model.levers import LeverSummary
from costlens.model.report import (
    CostComparison,
    Coverage,
    KindUsage,
    Period,
    PriceBookInfo,
    Report,
    UnitEconomics,
    UnpricedModel,
    UnpricedUsage,
    VariantFallback,
)
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config
    from costlens.progress import StepProgress


# The steps of a report, in order, as a progress display names them (`progress` of build_report).
REPORT_STEPS = ("pricing", "metrics", "reconciling", "budgets", "leaks", "levers", "trends")


def _step(progress: StepProgress | None, name: str) -> None:
    if progress is not None:
        progress.step(name)


def build_report(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: Period,
    *,
    reprice: bool = True,
    cost_mode: str = "computed",
    analyse: bool = True,
    prices: str = "list",
    refreeze: bool = False,
    progress: StepProgress | None = None,
    call_filter: CallFilter | None = None,
) -> Report:
    """The period's Report. With `analyse`, also the leaks, the ranked levers and the diagnosis against the
    previous period (which costs a second pass of the metrics over that period). `prices` "billed" re-costs
    the calls at the rates the bill shows (costlens.reconcile.calibrate), list prices where no bill covers
    the model. `progress` hears each of REPORT_STEPS as it starts. `call_filter` keeps the calls of some
    features or teams only; the reconciliation with the bill (which covers every call) is then left out."""
    from costlens.errors import UsageError
    from costlens.reconcile.build import reconcile
    from costlens.reconcile.calibrate import PRICE_BASES, use_billed_prices, use_list_prices

    if cost_mode not in COST_MODES:
        raise UsageError(f"cost mode {cost_mode!r} is not known", fix=f"use one of: {', '.join(COST_MODES)}")
    if prices not in PRICE_BASES:
        raise UsageError(f"--prices {prices!r} is not known", fix=f"use one of: {', '.join(PRICE_BASES)}")
    _step(progress, "pricing")
    call_filter = call_filter or CallFilter()
    set_call_filter(con, None if prices == "billed" else call_filter)  # billed rates come from the whole bill
    use_list_prices(con)
    prepare_priced_calls(con, config, rebuild=reprice)
    if reprice:  # closed months of the period keep the prices of their first report (--reprice: re-snapshot)
        from costlens.pricing.freeze import freeze_closed_months

        freeze_closed_months(con, period, refreeze=refreeze)
    reconciliation = None
    if prices == "billed":  # reconcile at list prices first: the calibration comes from it
        reconciliation = reconcile(con, config, period, prepare_prices=False)
        use_billed_prices(con)
        set_call_filter(con, call_filter)
    diagnosis = None
    _step(progress, "metrics")
    if analyse:
        from costlens.levers.diagnose import diagnose_periods

        diagnosis = diagnose_periods(con, config, period, cost_mode)  # leaves the current period materialised
    else:
        compute_period_metrics(con, config, period, cost_mode)

    total_rows = dimension_rows(con, "total", "key")
    total = total_rows[0] if total_rows else None
    totals = totals_from_row(total)
    coverage = _coverage(con, total)
    from costlens.period import data_span, days_with_data

    coverage.data_start, coverage.data_end = data_span(con, period)
    coverage.days_with_data = days_with_data((coverage.data_start, coverage.data_end))
    report = Report(
        generated_at=datetime.now(UTC).replace(microsecond=0),
        period=period,
        price_book=_price_book_info(con),
        totals=totals,
        unit_economics=dimension_rows(con, "feature", "cost_usd DESC, key"),
        by_model=dimension_rows(con, "model", "cost_usd DESC, key"),
        by_team=dimension_rows(con, "team", "cost_usd DESC, key"),
        by_day=dimension_rows(con, "day", "key"),
        by_month=dimension_rows(con, "month", "key"),
        coverage=coverage,
        cost_mode=cost_mode,
        reported_vs_computed=[
            CostComparison(**row) for row in query_rows(con, load_sql("metrics/reported_vs_computed.sql"))
        ],
        total_row=total,
    )
    report.usage_by_kind = [KindUsage(**row) for row in query_rows(con, load_sql("metrics/change_usage.sql"))]
    _step(progress, "reconciling")
    if call_filter:
        billed = reconciliation is not None
        reconciliation = _not_reconciled(call_filter)
        if billed:
            reconciliation.prices = "billed"
            reconciliation.price_basis = _price_basis(con)
    elif reconciliation is None:
        reconciliation = reconcile(con, config, period, period_calls_ready=True)
    else:
        reconciliation.prices = "billed"
        reconciliation.price_basis = _price_basis(con)
    report.reconciliation = reconciliation
    report.filters = call_filter.to_dict()
    _shown_cents(con, report)
    _finance_sections(con, config, report, analyse, diagnosis, progress)
    if call_filter:  # budgets of the features shown only
        shown = {row.key for row in report.unit_economics}
        report.budgets = [row for row in report.budgets if row.feature in shown]
    report.empty_period = _empty_hint(con, report, call_filter)
    report.warnings = _warnings(report, report.empty_period)
    if call_filter:
        report.warnings.insert(
            0,
            f"only the calls of {call_filter.describe()}: totals, breakdowns, budgets, leaks "
            "and levers cover those calls alone; the reconciliation with the bill is left out "
            "(`costlens reconcile` compares the whole period)",
        )
    return report


def _price_basis(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return query_rows(
        con,
        """
        SELECT coalesce(provider, '') AS provider, model, price_basis AS basis, count(*) AS calls,
               sum(cost_usd) AS cost_usd
        FROM period_calls GROUP BY ALL ORDER BY basis, cost_usd DESC NULLS LAST, provider, model""",
    )


def _not_reconciled(call_filter: CallFilter):
    from costlens.model.reconcile import FILTERED, Reconciliation

    return Reconciliation(
        status=FILTERED,
        verdict=f"not reconciled: the report keeps only the calls of "
        f"{call_filter.describe()}, the bill covers every call — run `costlens reconcile`",
    )


def _empty_hint(con, report: Report, call_filter: CallFilter | None = None) -> str | None:
    """For a period without calls: which months do hold data, so the next command is obvious. With a filter
    and calls in the period: which features and teams have calls."""
    if report.totals.calls:
        return None
    from costlens.period import empty_period_hint

    if call_filter:
        hint = filter_hint(con, report.period, call_filter)
        if hint:
            return hint
    return empty_period_hint(con, report.period)


def _shown_cents(con: duckdb.DuckDBPyConnection, report: Report) -> None:
    """The cents and the tenth-of-a-percent shares every table shows, computed once here and reused by every
    renderer (costlens.money states the policy).

    Features come first: largest remainder over the features, so they add up to the total shown. Models and
    the logged teams are other cuts of the same calls; their figures are the sums of their (feature, model) and
    (feature, team) cells, each feature's cells rounded to add up to that feature's figure. So a model or team
    that is one feature's traffic shows that feature's number, and every table foots to the same total.
    Days and months are cut on their own (they are never shown beside a feature)."""
    from costlens.money import allocate_cents, allocate_tenths

    total = report.totals.cost_usd
    if report.total_row is not None:
        report.total_row.shown_cost_usd = allocate_cents([total])[0]
        report.total_row.shown_share_pct = Decimal("100.0") if total else None
    features = report.unit_economics
    for row, cents, tenths in zip(
        features,
        allocate_cents([r.cost_usd for r in features], total),
        allocate_tenths([r.cost_usd for r in features], total),
    ):
        row.shown_cost_usd, row.shown_share_pct = cents, tenths
    by_feature = {row.key: row for row in features}
    for rows, column in ((report.by_model, "model"), (report.by_team, "team_key")):
        cells = con.execute(
            f"SELECT feature_key, {column}, coalesce(sum(cost_usd), 0) FROM period_calls "
            f"GROUP BY ALL ORDER BY 1, 3 DESC, 2"
        ).fetchall()
        if not _split_down(rows, by_feature, cells, total):  # the cells do not add up (cannot happen): cut alone
            for row, cents, tenths in zip(
                rows,
                allocate_cents([r.cost_usd for r in rows], total),
                allocate_tenths([r.cost_usd for r in rows], total),
            ):
                row.shown_cost_usd, row.shown_share_pct = cents, tenths
    for rows in (report.by_day, report.by_month):
        for row, cents, tenths in zip(
            rows, allocate_cents([r.cost_usd for r in rows], total), allocate_tenths([r.cost_usd for r in rows], total)
        ):
            row.shown_cost_usd, row.shown_share_pct = cents, tenths


def _split_down(
    rows: list[UnitEconomics], features: dict[str, UnitEconomics], cells: list[tuple], total: Decimal
) -> bool:
    """rows' shown cents and shares as sums of (feature, key, exact cost) cells, each feature's cells rounded
    to add up to that feature's shown figures; False when the cells do not match the rows' exact costs."""
    from costlens.money import TENTH, allocate, allocate_cents

    by_parent: dict[str, list[tuple[str, Decimal]]] = {}
    for feature, key, cost in cells:
        by_parent.setdefault(str(feature), []).append((str(key), Decimal(cost)))
    exact: dict[str, Decimal] = {}
    cents: dict[str, Decimal] = {}
    tenths: dict[str, Decimal] = {}
    for feature, parts in by_parent.items():
        parent = features.get(feature)
        if parent is None or parent.shown_cost_usd is None:
            return False
        values = [cost for _, cost in parts]
        shares = [cost * 100 / total for cost in values] if total else None
        split_cents = allocate_cents(values, parent.shown_cost_usd)
        split_tenths = (
            allocate(shares, parent.shown_share_pct, TENTH)
            if shares and parent.shown_share_pct is not None
            else [None] * len(parts)
        )
        for (key, cost), cent, tenth in zip(parts, split_cents, split_tenths):
            exact[key] = exact.get(key, Decimal(0)) + cost
            cents[key] = cents.get(key, Decimal(0)) + cent
            if tenth is not None:
                tenths[key] = tenths.get(key, Decimal(0)) + tenth
    if {row.key for row in rows} != set(exact) or any(exact[row.key] != row.cost_usd for row in rows):
        return False
    for row in rows:
        row.shown_cost_usd = cents[row.key]
        row.shown_share_pct = tenths.get(row.key)
    return True


def _finance_sections(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    report: Report,
    analyse: bool,
    diagnosis,
    progress: StepProgress | None = None,
) -> None:
    """Budgets and showback always; with `analyse`, the leaks and levers, then maturity (it reads the leaks)
    and the change against the previous period (last: it works on its own cursor)."""
    from costlens.budgets import compute_budgets
    from costlens.customers import compute_customers
    from costlens.feature_costs import compute_feature_costs
    from costlens.self_hosted import compute_self_hosted
    from costlens.showback import compute_showback

    _step(progress, "budgets")
    report.budgets = compute_budgets(con, config, report)
    report.showback = compute_showback(con, config, report)
    report.customers = compute_customers(con, config)
    shown = {row.key for row in report.unit_economics} if report.filters else None
    report.feature_costs = compute_feature_costs(con, config, shown)
    report.self_hosted = compute_self_hosted(con, config)
    if not analyse:
        return
    from costlens.change import decompose_change
    from costlens.maturity import assess_maturity

    _analyse(con, config, report, diagnosis, progress)
    _step(progress, "trends")
    report.maturity = assess_maturity(con, config, report)
    report.change = decompose_change(con, config, report)


def _analyse(
    con: duckdb.DuckDBPyConnection, config: Config, report: Report, diagnosis, progress: StepProgress | None = None
) -> None:
    """Leaks (sql/leaks), then levers applied in sequence on what is left, so savings never overlap."""
    from costlens.leaks.detect import run_detectors
    from costlens.levers import rank_levers
    from costlens.levers.breakeven import feature_model_usage

    _step(progress, "leaks")
    findings = run_detectors(con, config)
    _step(progress, "levers")
    plan = rank_levers(
        findings,
        report.totals.cost_usd,
        {u.key: u.cost_usd for u in report.unit_economics},
        config,
        float((report.period.end - report.period.start).days),
        {"usage": feature_model_usage(con), "diagnosis": diagnosis},
    )
    report.leaks = findings
    report.levers = plan.levers
    from costlens.money import round_cents

    # Each lever's figures to the cent on their own (the range's high end is often the estimate itself, and must
    # read the same); the totals shown beside them are the sums of the shown rows, so the table adds up.
    for lever in report.levers:
        lever.shown_monthly_savings_usd = round_cents(lever.est_monthly_savings_usd)

    def shown_total(key: str) -> Decimal:
        return sum((round_cents(getattr(lever, key)) for lever in report.levers), Decimal(0))

    report.lever_summary = LeverSummary(
        monthly_spend_usd=plan.monthly_spend_usd,
        total_monthly_savings_usd=plan.total_monthly_savings_usd,
        total_savings_low_usd=plan.total_savings_low_usd,
        total_savings_high_usd=plan.total_savings_high_usd,
        excluded=plan.excluded,
        assumptions=plan.assumptions,
        shown_total_monthly_savings_usd=shown_total("est_monthly_savings_usd"),
        shown_total_savings_low_usd=shown_total("savings_low_usd"),
        shown_total_savings_high_usd=shown_total("savings_high_usd"),
    )
    report.diagnosis = diagnosis


def _coverage(con: duckdb.DuckDBPyConnection, total: UnitEconomics | None) -> Coverage:
    unpriced = [
        UnpricedModel(
            provider=r["provider"], model=r["model"], variant=r["variant"], calls=int(r["calls"]), reason=r["reason"]
        )
        for r in query_rows(con, load_sql("metrics/unpriced.sql"))
    ]
    quarantine = dict(con.execute("SELECT disposition, count(*) FROM quarantine GROUP BY disposition").fetchall())
    unattributed = one_row(
        con.execute(
            "SELECT coalesce(sum(cost_usd), 0), count(*) FILTER (WHERE task_id IS NULL) FROM period_calls "
            "WHERE feature_key = '(unattributed)'"
        )
    )
    billing = one_row(
        con.execute(
            "SELECT count(*), coalesce(sum(billed_cost) FILTER (WHERE is_ai), 0) FROM billing_usd b, report_period r "
            "WHERE b.charge_period_start >= r.start_ts AND b.charge_period_start < r.end_ts"
        )
    )
    return Coverage(
        unpriced_models=unpriced,
        quarantined_rows=int(quarantine.get("rejected", 0)),
        skipped_rows=int(quarantine.get("skipped", 0)),
        unattributed_cost_usd=Decimal(unattributed[0]),
        calls_without_task=int(one_row(con.execute("SELECT count(*) FROM period_calls WHERE task_id IS NULL"))[0]),
        billing_lines=int(billing[0]),
        calls_timed_by_file=int(one_row(con.execute("SELECT count(*) FROM period_calls WHERE ts_from_file"))[0]),
        ai_billed_cost_usd=Decimal(billing[1]),
        unpriced_usage=[UnpricedUsage(**row) for row in query_rows(con, load_sql("metrics/unpriced_usage.sql"))],
        variant_fallbacks=[
            VariantFallback(**row) for row in query_rows(con, load_sql("metrics/variant_fallbacks.sql"))
        ],
    )


def _price_book_info(con: duckdb.DuckDBPyConnection) -> PriceBookInfo:
    from costlens.pricing.catalog import CATALOG_SOURCE

    keys, sources = one_row(
        con.execute(
            "SELECT count(DISTINCT (provider, model, variant)), string_agg(DISTINCT source, '; ') FROM price_book"
        )
    )
    unpriced = one_row(con.execute("SELECT count(*) FROM unpriced_models"))[0]
    name, _, version = CATALOG_SOURCE.partition(" ")
    return PriceBookInfo(source=name, version=version, keys=int(keys or 0), unpriced_keys=int(unpriced or 0))


def _warnings(report: Report, empty_hint: str | None = None) -> list[str]:
    from costlens.money import usd

    notes: list[str] = []
    if report.totals.calls == 0:
        notes.append(empty_hint or f"no calls in {report.period.describe()}")
    for model in report.coverage.unpriced_models:
        notes.append(
            f"unpriced: {model.provider or '?'} / {model.model} ({model.variant}), {model.calls} calls — "
            f"add a price under [[prices.overrides]] in costlens.toml"
        )
    for usage in report.coverage.unpriced_usage:
        estimate = f" (about {usd(usage.est_cost_usd)})" if usage.est_cost_usd else ""
        notes.append(
            f"not in the cost: {usage.field} × {usage.quantity.normalize():,f} over {usage.calls} calls"
            f"{estimate} from {usage.producer or '?'} — {usage.reason}"
        )
    for fallback in report.coverage.variant_fallbacks:
        notes.append(
            f"{fallback.calls:,} {fallback.variant} calls of {fallback.provider or '?'} / {fallback.model} "
            f"priced at the standard price (${fallback.cost_usd:,.2f}): the price book has no "
            f"{fallback.variant} price for it — add one under [[prices.overrides]] (variant = "
            f'"{fallback.variant}") in costlens.toml'
        )
    if report.coverage.quarantined_rows:
        notes.append(f"{report.coverage.quarantined_rows} input rows quarantined — see `costlens quarantine`")
    if report.coverage.calls_timed_by_file:
        notes.append(
            f"{report.coverage.calls_timed_by_file} calls had no timestamp and were dated by their file's "
            "modification time — log a timestamp with each response"
        )
    if report.reconciliation.status == "outside_tolerance":
        notes.append("reconciliation with the bill is outside tolerance — see `costlens reconcile`")
    if report.totals.calls and report.totals.tasks_with_outcome == 0:
        notes.append("no outcomes ingested: acceptance and cost per accepted outcome are unknown")
    return notes
