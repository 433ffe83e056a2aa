"""Run the reconciliation SQL (sql/reconcile/) for a period and read it back as a Reconciliation.

Order: billed lines → logged tokens → which billing scopes the logs cover → per-cell causes → allocation →
calibrated rates. Everything is bulk SQL over TEMP tables; Python only sums the few result rows and words
the verdict.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from costlens.db import scratch_sql
from costlens.model.reconcile import (
    NO_AI_SPEND,
    NO_BILL,
    NOT_COMPARED,
    OUTSIDE_TOLERANCE,
    RECONCILED,
    BillingScope,
    CalibratedRate,
    GapCause,
    ModelReconciliation,
    PriceStep,
    Reconciliation,
    UnconvertedBill,
)
from costlens.reconcile.calibrate import install_macros, use_list_prices
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config
    from costlens.model.report import Period

STEPS = (
    "reconcile/billed_by_day_model_token.sql",
    "reconcile/logged_by_day_model_token.sql",
    "reconcile/unlogged_scopes.sql",
    "reconcile/gap_causes.sql",
    "reconcile/allocation.sql",
    "reconcile/calibrated_rates.sql",
)
ZERO = Decimal(0)


def default_period(con: duckdb.DuckDBPyConnection) -> Period:
    """The latest calendar month with calls; with no calls, the latest month on the bills."""
    from costlens.period import resolve_period

    if con.execute("SELECT count(*) FROM calls").fetchall()[0][0] == 0:
        latest = con.execute("SELECT max(charge_period_start) FROM billing_lines").fetchall()[0][0]
        if latest is not None:
            return resolve_period(None, latest.strftime("%Y-%m"), None, None)
    return resolve_period(con, None, None, None)


def _settings_tables(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    import pyarrow as pa

    settings = config.reconcile
    con.execute(
        "CREATE OR REPLACE TEMP TABLE recon_settings AS SELECT CAST(? AS DECIMAL(38, 18)) AS rounding_usd, "
        "CAST(? AS DOUBLE) AS fit_share",
        [str(settings.rounding_usd), settings.fit_share],
    )
    default_feature = settings.allocation.feature if settings.allocation != "proportional" else None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE recon_alloc_settings AS SELECT CAST(? AS VARCHAR) AS default_feature",
        [default_feature],
    )
    rules = pa.table(
        {
            "scope": pa.array([r.scope for r in settings.scopes], pa.string()),
            "feature": pa.array([r.feature for r in settings.scopes], pa.string()),
        }
    )
    con.register("_recon_rules_arrow", rules)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE recon_scope_rules AS SELECT * FROM _recon_rules_arrow")
    finally:
        con.unregister("_recon_rules_arrow")


def materialise_period_calls(
    con: duckdb.DuckDBPyConnection, config: Config, period: Period, *, prepare_prices: bool = True
) -> None:
    """period_calls at list prices for the period (what the report's metrics start from)."""
    from costlens.engine import config_tables, prepare_priced_calls

    use_list_prices(con)
    if prepare_prices:
        prepare_priced_calls(con, config)
    config_tables(con, config, period)
    con.execute("CREATE OR REPLACE TEMP TABLE report_options AS SELECT CAST('computed' AS VARCHAR) AS cost_mode")
    con.execute(load_sql("intermediate/model_tiers.sql"))
    con.execute(load_sql("intermediate/period_call_rows.sql"))
    con.execute(scratch_sql(con, "intermediate/period_calls.sql"))


def run_reconcile_sql(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """The reconciliation tables, from period_calls and report_period already in place."""
    install_macros(con)
    _settings_tables(con, config)
    for step in STEPS:
        con.execute(load_sql(step))


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()  # fetch to the end: DuckDB keeps a half-read result open on the connection
    return dict(zip(names, rows[0])) if rows else {}


def _all(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _d(value: Any) -> Decimal:
    return Decimal(value) if value is not None else ZERO


def usd(value: Decimal | float | None) -> str:
    """$1,234.56 — negative as −$1.00 (display only; costlens.money.usd, half up to the cent)."""
    from costlens.money import usd as money_usd

    return money_usd(value)


def shown_causes(result: Reconciliation) -> dict[str, Decimal]:
    """The bill by cause in cents as every view shows it: "explained" and each cause, adding up to the billed AI
    total (largest remainder), so the causes table and the verdict's gap foot."""
    from costlens.money import allocate_cents

    keys = ["explained"] + [c.cause for c in result.causes]
    values = [result.explained_usd] + [c.amount_usd for c in result.causes]
    return dict(zip(keys, allocate_cents(values, result.ai_billed_usd)))


def shown_bridge(result: Reconciliation) -> dict[str, Decimal]:
    """The list-price → billed steps in cents: the list cost to the cent, the billed cost as the causes show it,
    and the steps between rounded to add up from the one to the other."""
    from costlens.money import allocate_cents, round_cents

    steps = [s for s in result.price_bridge if s.step not in ("logged_list_cost", "explained")]
    start = round_cents(sum((s.amount_usd for s in result.price_bridge if s.step == "logged_list_cost"), ZERO))
    end = shown_causes(result)["explained"]
    out = {"logged_list_cost": start, "explained": end}
    out.update(zip((s.step for s in steps), allocate_cents([s.amount_usd for s in steps], end - start)))
    return out


def _day_span(first, last) -> str:
    if first is None:
        return ""
    if first == last:
        return first.strftime("%b %-d")
    if first.month == last.month:
        return f"{first.strftime('%b %-d')}–{last.day}"
    return f"{first.strftime('%b %-d')}–{last.strftime('%b %-d')}"


def reconcile(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: Period,
    *,
    period_calls_ready: bool = False,
    prepare_prices: bool = True,
) -> Reconciliation:
    """Reconcile the period. With `period_calls_ready`, the caller has materialised period_calls and
    report_period for this period at list prices (the report does); else this does it (resolving the price
    book first unless `prepare_prices` is False because the caller just did)."""
    from costlens.reconcile.allocate import allocation_tables

    settings = config.reconcile
    result = Reconciliation(
        tolerance_pct=settings.tolerance_pct,
        tolerance_usd=Decimal(str(settings.tolerance_usd)),
        allocation_rule=_rule_text(config),
    )
    if not period_calls_ready:
        materialise_period_calls(con, config, period, prepare_prices=prepare_prices)
    bill = _one(
        con,
        """
        SELECT count(*) AS lines, count(*) FILTER (WHERE is_ai) AS ai_lines,
               count(*) FILTER (WHERE is_ai AND charge_class IS DISTINCT FROM 'usage-only') AS ai_cost_lines,
               CAST(coalesce(sum(billed_cost), 0) AS DECIMAL(38, 18)) AS billed,
               CAST(coalesce(sum(billed_cost) FILTER (WHERE is_ai), 0) AS DECIMAL(38, 18)) AS ai_billed,
               list(DISTINCT currency ORDER BY currency) FILTER (WHERE currency IS NOT NULL) AS currencies
        FROM billing_usd b, report_period r
        WHERE b.charge_period_start >= r.start_ts AND b.charge_period_start < r.end_ts""",
    )
    # bills in a currency with no rate to USD: never added to USD amounts, listed with their own totals
    unconverted = _all(
        con,
        """
        SELECT upper(trim(currency)) AS currency, count(*) AS lines, count(*) FILTER (WHERE is_ai) AS ai_lines,
               CAST(coalesce(sum(billed_cost) FILTER (WHERE is_ai), 0) AS DECIMAL(38, 18)) AS ai_billed
        FROM billing_unconverted b, report_period r
        WHERE b.charge_period_start >= r.start_ts AND b.charge_period_start < r.end_ts
        GROUP BY 1 ORDER BY 1""",
    )
    result.unconverted = [
        UnconvertedBill(u["currency"], int(u["lines"]), int(u["ai_lines"]), _d(u["ai_billed"])) for u in unconverted
    ]
    for u in result.unconverted:
        result.notes.append(
            f"{u.lines:,} billing lines in {u.currency} ({u.ai_billed:,.2f} {u.currency} of AI spend) have no exchange "
            f'rate to USD and are not compared with the logs — add [[currency.rates]] (currency = "{u.currency}", '
            f"valid_from, usd) to costlens.toml"
        )
    converted = _one(
        con,
        """
        SELECT list(DISTINCT upper(trim(billing_currency)) || ' via ' || fx_source ORDER BY 1)
                   FILTER (WHERE fx_source IS NOT NULL) AS sources
        FROM billing_usd b, report_period r
        WHERE b.charge_period_start >= r.start_ts AND b.charge_period_start < r.end_ts""",
    )
    if converted.get("sources"):
        result.notes.append("converted to USD: " + ", ".join(converted["sources"]))
    # which export is the bill for which days (bills are snapshots: a newer export supersedes an older one)
    result.bill_sources = _all(
        con,
        """
        SELECT b.source_file, count(*) AS lines, CAST(min(b.charge_period_start) AS DATE) AS first_day,
               CAST(max(b.charge_period_start) AS DATE) AS last_day,
               coalesce(min(x.lines_replaced), 0) AS lines_replaced
        FROM billing_usd b
        JOIN report_period r ON b.charge_period_start >= r.start_ts AND b.charge_period_start < r.end_ts
        LEFT JOIN (SELECT source_file, sum(rows_replaced) AS lines_replaced FROM replacements
                   WHERE target = 'billing_lines' GROUP BY source_file) x ON x.source_file = b.source_file
        GROUP BY b.source_file ORDER BY first_day, b.source_file""",
    )
    for source in result.bill_sources:
        if source["lines_replaced"]:
            result.notes.append(
                f"{source['source_file']} is the bill for {source['first_day']:%Y-%m-%d} to "
                f"{source['last_day']:%Y-%m-%d}; it replaced {int(source['lines_replaced']):,} "
                "lines of an older export of the same days"
            )
    result.billing_lines = int(bill["lines"])
    result.ai_billing_lines = int(bill["ai_lines"])
    result.billed_total_usd = _d(bill["billed"])
    result.ai_billed_usd = _d(bill["ai_billed"])
    result.currencies = list(bill["currencies"] or [])
    if result.billing_lines == 0 and result.unconverted:
        result.status = NOT_COMPARED
        bills = "; ".join(
            f"{u.ai_billed:,.2f} {u.currency} of AI spend on {u.lines:,} lines" for u in result.unconverted
        )
        result.verdict = (
            f"the bill is not in USD and no exchange rate is known ({bills}): reconciled in its own "
            "currency only, not compared with the logs' USD cost — add [[currency.rates]] to costlens.toml"
        )
        return result
    if result.billing_lines == 0:
        elsewhere = _one(
            con,
            "SELECT count(*) AS n, min(charge_period_start) AS first, max(charge_period_start) AS last "
            "FROM billing_lines",
        )
        result.status = NO_BILL
        result.verdict = (
            f"no billing lines between {period.start} and {period.end} (exclusive); nothing to reconcile"
            + (
                f" — the {int(elsewhere['n']):,} billing lines ingested are dated "
                f"{elsewhere['first']:%Y-%m-%d} to {elsewhere['last']:%Y-%m-%d}: pass --period or --since"
                if elsewhere["n"]
                else " — ingest a billing export (FOCUS, OpenAI, Anthropic, AWS, Azure, GCP)"
            )
        )
        return result
    if result.ai_billing_lines == 0:
        result.status = NO_AI_SPEND
        result.verdict = (
            f"no AI spend in the billing exports: {result.billing_lines:,} lines, "
            f"{usd(result.billed_total_usd)} billed, none of it for LLM usage; nothing to reconcile"
        )
        return result

    if int(bill["ai_cost_lines"]) == 0:
        result.status = NO_AI_SPEND
        result.verdict = (
            f"the billing exports hold {result.ai_billing_lines:,} AI usage lines but no AI cost lines: "
            "no billed AI spend to reconcile — ingest the provider's cost export too"
        )
        return result
    run_reconcile_sql(con, config)
    _fill_comparison(con, result)
    allocation_tables(con, config, result)
    _fill_calibration(con, result)
    _verdict(result)
    return result


def _rule_text(config: Config) -> str:
    rule = config.reconcile.allocation
    text = "proportional to logged spend" if rule == "proportional" else f"all to feature {rule.feature}"
    if config.reconcile.scopes:
        text += "; scope rules: " + ", ".join(f"{r.scope} → {r.feature}" for r in config.reconcile.scopes)
    return text


def _fill_comparison(con: duckdb.DuckDBPyConnection, result: Reconciliation) -> None:
    totals = _one(
        con,
        """
        SELECT sum(billed_usd) AS billed, sum(explained_usd) AS explained, sum(failed_usd) AS failed,
               sum(unlogged_usd) AS unlogged, sum(rounding_usd) AS rounding, sum(unexplained_usd) AS unexplained,
               sum(logged_not_billed_usd) AS not_billed, sum(logged_rounding_usd) AS logged_rounding,
               sum(discount_usd) AS discount,
               coalesce(sum(list_mismatch_usd) FILTER (WHERE has_variant), 0) AS tier_mismatch,
               coalesce(sum(list_mismatch_usd) FILTER (WHERE NOT has_variant), 0) AS mismatch,
               sum(matched_logged_list_usd) AS matched_list, sum(unlogged_scope_usd) AS unlogged_scope,
               sum(failed_tokens) AS failed_tokens,
               sum(failed_calls) FILTER (WHERE token_type = 'input' AND failed_usd <> 0) AS failed_calls,
               sum(excess_tokens - failed_tokens) FILTER (WHERE unlogged_usd <> 0) AS unlogged_tokens,
               sum(unlogged_scope_tokens) AS unlogged_scope_tokens,
               sum(deficit_tokens) FILTER (WHERE logged_not_billed_usd <> 0) AS not_billed_tokens,
               count(DISTINCT (model_key, day))
                   FILTER (WHERE absent_from_bill AND logged_not_billed_usd <> 0) AS absent_days,
               bool_or(logged_unpriced) AS any_unpriced
        FROM recon_cells""",
    )
    other = _one(
        con,
        """
        SELECT coalesce(sum(b.billed_usd) FILTER (WHERE s.logged), 0) AS other_logged,
               coalesce(sum(b.billed_usd) FILTER (WHERE NOT s.logged AND b.token_type = 'other'), 0) AS other_unlogged,
               count(*) FILTER (WHERE s.logged) AS other_lines
        FROM recon_billed b JOIN recon_scopes s USING (provider_key, model_key, scope_kind, scope)
        WHERE b.token_type = 'other'""",
    )
    result.providers = [
        r[0] for r in con.execute("SELECT DISTINCT provider_key FROM recon_billed ORDER BY 1").fetchall()
    ]
    explained = _d(totals["explained"])
    result.explained_usd = explained
    result.coverage_pct = float(explained / result.ai_billed_usd * 100) if result.ai_billed_usd else None
    result.gap_usd = result.ai_billed_usd - explained
    result.unexplained_usd = _d(totals["unexplained"])

    scopes = _all(con, "SELECT * FROM recon_scopes ORDER BY logged, billed_usd DESC, provider_key, model_key, scope")
    result.scopes = [
        BillingScope(
            provider=s["provider_key"],
            model=s["model_key"],
            scope_kind=s["scope_kind"],
            scope=s["scope"],
            billed_usd=_d(s["billed_usd"]),
            first_day=s["first_day"],
            last_day=s["last_day"],
            days=int(s["days"]),
            logged=bool(s["logged"]),
            reason=s["reason"],
            tag_features=s["tag_features"],
        )
        for s in scopes
    ]
    unlogged_scopes = [s for s in result.scopes if not s.logged]
    scope_words = "; ".join(
        f"{s.scope_kind.replace('_', '-')} {s.scope}, {s.model}, {_day_span(s.first_day, s.last_day)}: "
        f"{usd(s.billed_usd)}"
        for s in unlogged_scopes[:5]
    )
    unlogged_scope_usd = sum((s.billed_usd for s in unlogged_scopes), ZERO)
    in_scope_unlogged = _d(totals["unlogged"])
    causes = [
        GapCause(
            "unlogged_traffic",
            "traffic billed but never logged",
            unlogged_scope_usd + in_scope_unlogged,
            int(_d(totals["unlogged_scope_tokens"]) + _d(totals["unlogged_tokens"])),
            "; ".join(
                part
                for part in (
                    f"billing scopes the logs do not cover — {scope_words}" if unlogged_scopes else "",
                    f"{usd(in_scope_unlogged)} in covered scopes on days or token types the logs miss"
                    if in_scope_unlogged
                    else "",
                )
                if part
            ),
            ", ".join(f"{s.scope_kind.replace('_', '-')} {s.scope}" for s in unlogged_scopes[:3])
            + (" and covered scopes" if unlogged_scopes and in_scope_unlogged else ""),
        ),
        GapCause(
            "billed_failed_requests",
            "billed failed requests",
            _d(totals["failed"]),
            int(_d(totals["failed_tokens"])),
            f"input billed for {_calls(totals['failed_calls'])} that logged no usage" if totals["failed"] else "",
            _calls(totals["failed_calls"]) if totals["failed"] else "",
        ),
        GapCause(
            "other_ai_charges",
            "AI charges without token quantities",
            _d(other["other_logged"]),
            None,
            f"{int(other['other_lines']):,} bill lines (request fees, tools, unparsed meters)"
            if other["other_lines"]
            else "",
        ),
        GapCause(
            "rounding",
            "rounding",
            _d(totals["rounding"]),
            None,
            "per day, model and token type differences within the rounding threshold",
        ),
        GapCause(
            "unexplained",
            "unexplained",
            result.unexplained_usd,
            None,
            "input billed above the logs with no failed calls and no sign of unlogged traffic"
            if result.unexplained_usd
            else "",
        ),
    ]
    named = sum((c.amount_usd for c in causes), ZERO)
    residual = result.gap_usd - named
    if residual:
        causes.append(
            GapCause("residual", "residual (exact-split dust)", residual, None, "below a billionth of a cent per line")
        )
    result.causes = causes

    matched_list = _d(totals["matched_list"])
    not_billed = _d(totals["not_billed"])
    logged_rounding = _d(totals["logged_rounding"])
    result.logged_list_usd = matched_list + not_billed + logged_rounding
    absent_days = int(totals["absent_days"] or 0)
    result.price_bridge = [
        PriceStep(
            "logged_list_cost",
            "logged calls at costlens list prices",
            result.logged_list_usd,
            f"providers on the bill: {', '.join(result.providers)}"
            + (
                "; some logged models are unpriced: the bill's own list price stands in"
                if totals["any_unpriced"]
                else ""
            ),
        ),
        PriceStep(
            "logged_not_billed",
            "logged calls the bill does not contain",
            -not_billed,
            (
                f"{int(_d(totals['not_billed_tokens'])):,} tokens"
                + (f"; {absent_days} model-days with no bill line at all" if absent_days else "")
            )
            if not_billed
            else "",
        ),
        PriceStep("logged_rounding", "rounding (logged side)", -logged_rounding, ""),
        PriceStep(
            "tier_mismatch",
            "tier / batch price differences",
            _d(totals["tier_mismatch"]),
            "models with batch, flex or priority calls: the bill's list cost of the matched tokens minus "
            "costlens's price for the calls' tiers",
        ),
        PriceStep(
            "list_price_mismatch",
            "price-book differences",
            _d(totals["mismatch"]),
            "the bill's list cost of the matched tokens minus costlens's price-book cost",
        ),
        PriceStep(
            "negotiated_discount",
            "negotiated discounts and credits",
            _d(totals["discount"]),
            _discount_text(_d(totals["discount"]), explained),
        ),
        PriceStep("explained", "billed cost of the logged calls (explained)", explained, ""),
    ]

    rows = _all(
        con,
        """
        SELECT provider_key, model_key, token_type,
               sum(billed_tokens + unlogged_scope_tokens) AS billed_tokens, sum(logged_tokens) AS logged_tokens,
               sum(billed_usd + unlogged_scope_usd) AS billed_usd, sum(explained_usd) AS explained_usd,
               sum(coalesce(logged_list_usd, matched_logged_list_usd)) AS logged_list_usd,
               sum(failed_usd) AS failed_usd, sum(unlogged_usd + unlogged_scope_usd) AS unlogged_usd,
               sum(logged_not_billed_usd) AS not_billed_usd, sum(discount_usd) AS discount_usd,
               sum(list_mismatch_usd) AS mismatch_usd
        FROM recon_cells GROUP BY ALL
        ORDER BY billed_usd DESC, provider_key, model_key, token_type""",
    )
    result.by_model = [
        ModelReconciliation(
            provider=r["provider_key"],
            model=r["model_key"],
            token_type=r["token_type"],
            billed_tokens=int(_d(r["billed_tokens"])),
            logged_tokens=int(_d(r["logged_tokens"])),
            billed_usd=_d(r["billed_usd"]),
            explained_usd=_d(r["explained_usd"]),
            logged_list_usd=_d(r["logged_list_usd"]),
            failed_usd=_d(r["failed_usd"]),
            unlogged_usd=_d(r["unlogged_usd"]),
            logged_not_billed_usd=_d(r["not_billed_usd"]),
            discount_usd=_d(r["discount_usd"]),
            list_mismatch_usd=_d(r["mismatch_usd"]),
        )
        for r in rows
    ]
    result.by_day = _all(
        con,
        """
        SELECT provider_key AS provider, model_key AS model, day,
               CAST(sum(billed_tokens + unlogged_scope_tokens) AS BIGINT) AS billed_tokens,
               CAST(sum(logged_tokens) AS BIGINT) AS logged_tokens,
               sum(billed_usd + unlogged_scope_usd) AS billed_usd, sum(explained_usd) AS explained_usd,
               sum(failed_usd) AS failed_usd, sum(unlogged_usd + unlogged_scope_usd) AS unlogged_usd,
               sum(unexplained_usd) AS unexplained_usd, sum(logged_not_billed_usd) AS logged_not_billed_usd
        FROM recon_cells GROUP BY ALL ORDER BY day, provider, model""",
    )
    non_usd = [c for c in result.currencies if c.upper() != "USD"]
    if non_usd:
        result.notes.append(f"the bill is in {', '.join(non_usd)}: amounts are compared as if USD")


def _calls(count: Any) -> str:
    n = int(count or 0)
    return f"{n:,} failed call{'' if n == 1 else 's'}"


def _discount_text(discount: Decimal, explained: Decimal) -> str:
    listed = explained - discount
    if not discount or not listed:
        return ""
    return f"billed {float(explained / listed) * 100:.1f} % of the bill's list price for the logged tokens"


def _fill_calibration(con: duckdb.DuckDBPyConnection, result: Reconciliation) -> None:
    rows = _all(con, "SELECT * FROM calibrated_rates ORDER BY billed_usd DESC, provider_key, model_key, token_type")
    for r in rows:
        matched_list = r["matched_list_usd"]
        ratio = float(_d(r["explained_usd"]) / _d(matched_list)) if matched_list else None
        basis = "billed" if ratio is not None else ("rate" if r["billed_usd_per_mtok"] is not None else "none")
        result.calibrated_rates.append(
            CalibratedRate(
                provider=r["provider_key"],
                model=r["model_key"],
                token_type=r["token_type"],
                billed_tokens=int(_d(r["billed_tokens"])),
                billed_usd=_d(r["billed_usd"]),
                billed_usd_per_mtok=r["billed_usd_per_mtok"],
                bill_list_usd_per_mtok=r["bill_list_usd_per_mtok"],
                paid_to_list=ratio,
                basis=basis,
            )
        )


def _verdict(result: Reconciliation) -> None:
    allowed = max(result.ai_billed_usd * Decimal(str(result.tolerance_pct)) / 100, result.tolerance_usd)
    result.allowed_unexplained_usd = allowed
    result.within_tolerance = abs(result.unexplained_usd) <= allowed
    result.status = RECONCILED if result.within_tolerance else OUTSIDE_TOLERANCE
    tolerance = f"{result.tolerance_pct:g} %" + (f" / {usd(result.tolerance_usd)}" if result.tolerance_usd else "")
    cents = shown_causes(result)
    parts = [
        f"{c.label} {usd(cents[c.cause])}" + (f" ({c.short})" if c.short else "")
        for c in result.causes
        if c.cause not in ("rounding", "residual", "unexplained") and c.amount_usd
    ]
    small = sum((c.amount_usd for c in result.causes if c.cause in ("rounding", "residual")), ZERO)
    if small:
        parts.append(
            f"rounding {usd(sum((cents[c.cause] for c in result.causes if c.cause in ('rounding', 'residual')), ZERO))}"
        )
    coverage = f"{result.coverage_pct:.1f} %" if result.coverage_pct is not None else "—"
    head = (
        f"reconciled within {tolerance}"
        if result.within_tolerance
        else f"NOT reconciled within {tolerance}: {usd(result.unexplained_usd)} of the gap has no identified cause"
    )
    text = (
        f"{head}: {coverage} of {usd(result.ai_billed_usd)} billed AI spend is explained by logged calls; "
        f"the gap is {usd(sum((cents[c.cause] for c in result.causes), ZERO))}"
    )
    if parts:
        text += ": " + ", ".join(parts)
    bridge = {s.step: ZERO for s in result.price_bridge} | shown_bridge(result)
    text += (
        f". Logged calls at list {usd(bridge['logged_list_cost'])} were billed {usd(bridge['explained'])}"
        f" (discounts {usd(bridge['negotiated_discount'])}, list-price differences "
        f"{usd(bridge['list_price_mismatch'] + bridge['tier_mismatch'])}, "
        f"not on the bill {usd(bridge['logged_not_billed'])})"
    )
    result.verdict = text


def allocation_rows(con: duckdb.DuckDBPyConnection, config: Config, period: Period) -> duckdb.DuckDBPyRelation:
    """Allocated spend for the FOCUS export: reconcile the period (if the bill has AI spend), then leave TEMP
    TABLE `export_allocated` (charge_day DATE, provider VARCHAR, model VARCHAR, feature VARCHAR,
    allocated_usd DECIMAL(38,18)) — empty when there is nothing to allocate — and return it as a relation.
    `provider` is in the logs' vocabulary (azure.openai, openai, …) and `model` is the bill's model key
    (snapshot date dropped). Note: this (re)materialises period_calls and report_period for `period`."""
    result = reconcile(con, config, period)
    if result.has_ai_bill:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE export_allocated AS "
            "SELECT charge_day, provider, model, feature, allocated_usd FROM recon_allocation "
            "WHERE allocated_usd <> 0 ORDER BY charge_day, provider, model, feature"
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE export_allocated (charge_day DATE, provider VARCHAR, "
            "model VARCHAR, feature VARCHAR, allocated_usd DECIMAL(38, 18))"
        )
    return con.table("export_allocated")
