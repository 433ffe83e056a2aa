"""The library API: everything the CLI does, as functions returning typed objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any

from costlens.config import ColumnMapping, Config, load_config
from costlens.errors import UsageError
from costlens.pricing.render import PricesView

if TYPE_CHECKING:
    import polars as pl

    from costlens.ingest.runner import IngestResult, ProgressHook
    from costlens.model.report import Report
    from costlens.progress import ProgressCallback


def parse_mapping(
    maps: list[str] | None, sets: list[str] | None, input_includes_cached: bool = True
) -> ColumnMapping | None:
    """--map canonical=source and --set canonical=value → a ColumnMapping (None when neither is given)."""
    if not maps and not sets:
        return None

    def pairs(items: list[str] | None, option: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in items or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise UsageError(
                    f"{option} {item!r} is not canonical=value", fix=f"e.g. {option} input_tokens=ContextTokens"
                )
            out[key.strip()] = value.strip()
        return out

    try:
        return ColumnMapping(
            name="command line",
            columns=pairs(maps, "--map"),
            constants=pairs(sets, "--set"),
            input_tokens_include_cached=input_includes_cached,
        )
    except Exception as exc:  # pydantic ValidationError: report its first message in one line
        errors = getattr(exc, "errors", None)
        message = errors()[0]["msg"] if callable(errors) else str(exc)
        raise UsageError(f"column mapping: {message}") from None


def ingest(
    paths: list[str],
    *,
    db: str | None = None,
    config: Config | None = None,
    fmt: str | None = None,
    mapping: ColumnMapping | None = None,
    keep_content: bool = False,
    on_file_done: ProgressHook | None = None,
    replace: bool = False,
    on_progress: ProgressCallback | None = None,
) -> IngestResult:
    """Load files into the database; `replace` loads files already ingested again, in place of their earlier rows
    (after a mapping or config fix). `on_file_done(path, size)` hears each file when it is done;
    `on_progress(ProgressEvent)` hears where the run is inside each file, in bytes (costlens.progress)."""
    from costlens import db as database
    from costlens.ingest.runner import ingest_paths

    config = config or load_config()
    con = database.connect(db)
    try:
        result = ingest_paths(
            con,
            paths,
            config,
            fmt=fmt,
            mapping=mapping,
            keep_content=keep_content,
            on_file_done=on_file_done,
            replace=replace,
            on_progress=on_progress,
        )
        return result
    finally:
        con.close()


def report(
    *,
    db: str | None = None,
    config: Config | None = None,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cost_mode: str = "computed",
    prices: str = "list",
    refreeze: bool = False,
    to: str | None = None,
    last: str | None = None,
    on_progress: ProgressCallback | None = None,
    feature: str | Sequence[str] | None = None,
    team: str | Sequence[str] | None = None,
    customer: str | Sequence[str] | None = None,
    plan: str | Sequence[str] | None = None,
    engine: str | None = None,
    warehouse: str | None = None,
) -> Report:
    """The period's report. `on_progress(ProgressEvent)` hears its steps (costlens.report.build.REPORT_STEPS)
    and how far DuckDB is inside each. `feature` / `team` / `customer` / `plan` (a name or several) keep only those
    calls.
    `engine` ("duckdb" | "spark") and `warehouse` (a lake) override [engine] in the config (costlens.engines)."""
    from contextlib import nullcontext

    from costlens.engine import check_call_filter
    from costlens.engines import engine_choice, open_engine
    from costlens.progress import QueryPoller, StepProgress
    from costlens.report.build import REPORT_STEPS, build_report

    config = config or load_config()
    options = _period_options(period, since, until, to, last)
    call_filter = _call_filter(feature, team, customer, plan)
    kind, _ = engine_choice(config, engine, warehouse)
    with open_engine(db, config, engine=engine, warehouse=warehouse) as con:
        chosen = options.resolve(con)
        check_call_filter(con, config, call_filter)
        steps = StepProgress(on_progress, "report", REPORT_STEPS) if on_progress is not None else None
        # DuckDB tells how far a query is; Spark's progress is its own UI's
        with QueryPoller(con, steps.query) if steps is not None and kind == "duckdb" else nullcontext():
            result = build_report(
                con,
                config,
                chosen,
                cost_mode=cost_mode,
                prices=prices,
                refreeze=refreeze,
                progress=steps,
                call_filter=call_filter,
            )
        if steps is not None:
            steps.finish()
        result.engine = kind
        return result


def daily(
    *,
    db: str | None = None,
    config: Config | None = None,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    to: str | None = None,
    last: str | None = None,
    feature: str | Sequence[str] | None = None,
    team: str | Sequence[str] | None = None,
    customer: str | Sequence[str] | None = None,
    plan: str | Sequence[str] | None = None,
):
    """The period's spend per day, each day split by model (calls, tokens by kind, exact cost), and its total
    (costlens.report.daily.Daily); `feature` / `team` / `customer` / `plan` keep only those calls."""
    from costlens import db as database
    from costlens.engine import check_call_filter
    from costlens.report.daily import build_daily

    config = config or load_config()
    options = _period_options(period, since, until, to, last)
    call_filter = _call_filter(feature, team, customer, plan)
    con = database.connect(db, must_exist=True)
    try:
        chosen = options.resolve(con)
        check_call_filter(con, config, call_filter)
        return build_daily(con, config, chosen, call_filter)
    finally:
        con.close()


def report_frames(report: Report) -> dict[str, pl.DataFrame]:
    """The report's tables as polars DataFrames: the same tables, columns and types as `report --format
    parquet` (money as Decimal(38, 18), exact), built as Arrow tables that polars takes without a copy."""
    import polars as pl

    from costlens.report.render_tables import arrow_table, report_tables

    return {
        name: pl.from_arrow(arrow_table(columns, rows))  # type: ignore[misc]
        for name, (columns, rows) in report_tables(report).items()
    }


def calls(
    *,
    db: str | None = None,
    config: Config | None = None,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    to: str | None = None,
    last: str | None = None,
    cost_mode: str = "computed",
) -> pl.DataFrame:
    """The period's calls as the report prices and attributes them (one row per call: feature, team, model,
    tokens by kind, cost_usd exact), as a polars DataFrame straight from DuckDB's Arrow result. Their cost_usd
    adds up to the report's total for the same period and options."""
    from costlens import db as database
    from costlens.engine import compute_period_metrics, prepare_priced_calls
    from costlens.pricing.freeze import freeze_closed_months
    from costlens.reconcile.calibrate import use_list_prices

    config = config or load_config()
    options = _period_options(period, since, until, to, last)
    con = database.connect(db, must_exist=True)
    try:
        chosen = options.resolve(con)
        use_list_prices(con)
        prepare_priced_calls(con, config)
        freeze_closed_months(con, chosen)  # closed months keep the prices their first report used
        compute_period_metrics(con, config, chosen, cost_mode)
        return con.sql("SELECT * FROM period_calls ORDER BY ts, call_id").pl()
    finally:
        con.close()


def prices(
    *,
    db: str | None = None,
    config: Config | None = None,
    model: str | None = None,
    provider: str | None = None,
    variant: str = "standard",
    at: str | None = None,
) -> PricesView:
    """The price book as resolved for the calls in the database, unpriced keys, and optionally how one
    model resolves (works without a database too)."""
    from datetime import datetime

    from costlens import db as database
    from costlens.engine import prepare_priced_calls
    from costlens.pricing.catalog import explain

    config = config or load_config()
    explanation = None
    if model:
        when = datetime.now(UTC) if not at else _parse_at(at)
        explanation = explain(
            provider, model, variant, when, prices_config=config.prices or None, aliases=config.models.aliases
        )
    con = database.connect(db)
    try:
        prepare_priced_calls(con, config)
        keys = _dicts(
            con,
            """
            SELECT p.provider, p.model, p.variant, p.catalog_provider, p.catalog_model, p.variant_applied,
                   count(*) AS windows, min(p.input_mtok) AS input_mtok, min(p.output_mtok) AS output_mtok,
                   min(p.cache_read_mtok) AS cache_read_mtok, max(p.tier_above_tokens) AS top_tier_above_tokens,
                   any_value(p.source) AS source, max(p.discount_pct) AS discount_pct,
                   (SELECT count(*) FROM calls c WHERE coalesce(c.provider, '') = p.provider AND c.model = p.model
                        AND pricing_variant(c.service_tier, c.is_batch) = p.variant)
                       AS calls
            FROM price_book p GROUP BY ALL ORDER BY calls DESC, p.provider, p.model, p.variant""",
        )
        unpriced = _dicts(
            con,
            """
            SELECT u.provider, u.model, u.variant, u.reason,
                   (SELECT count(*) FROM calls c WHERE coalesce(c.provider, '') = u.provider AND c.model = u.model
                        AND pricing_variant(c.service_tier, c.is_batch) = u.variant)
                       AS calls
            FROM unpriced_models u ORDER BY calls DESC""",
        )
        return PricesView(keys=keys, unpriced=unpriced, explanation=explanation)
    finally:
        con.close()


def _period_options(period: str | None, since: str | None, until: str | None, to: str | None, last: str | None):
    """The period options, checked before any database is opened so a typo is a usage error."""
    from costlens.period import PeriodOptions

    options = PeriodOptions(period=period, since=since, until=until, to=to, last=last)
    options.check()
    return options


def _call_filter(
    feature: str | Sequence[str] | None,
    team: str | Sequence[str] | None,
    customer: str | Sequence[str] | None = None,
    plan: str | Sequence[str] | None = None,
):
    """--feature / --team / --customer / --plan as a CallFilter; a blank name is a usage error (it would match nothing,
    silently)."""
    from costlens.engine import CallFilter

    def names(value: str | Sequence[str] | None, option: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else list(value or [])
        out: list[str] = []
        for item in items:
            if not isinstance(item, str) or not item.strip():
                raise UsageError(f"{option} {item!r} is not a name", fix=f"e.g. {option} support-bot")
            if item.strip() not in out:
                out.append(item.strip())
        return tuple(out)

    return CallFilter(
        names(feature, "--feature"), names(team, "--team"), names(customer, "--customer"), names(plan, "--plan")
    )


def _empty_period(con, chosen) -> str | None:
    """When the period holds no calls: which months do, and how to pick one (every command says so)."""
    from costlens.period import empty_period_hint

    calls = con.execute("SELECT count(*) FROM calls WHERE ts >= ? AND ts < ?", [chosen.start, chosen.end]).fetchone()[0]
    return None if calls else empty_period_hint(con, chosen)


def _parse_at(text: str):
    from datetime import datetime

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at {text!r} is not a date or time", fix="use YYYY-MM-DD or an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _dicts(con, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def quarantine(
    *,
    db: str | None = None,
    limit: int | None = None,
    run_id: int | None = None,
    file: str | None = None,
    disposition: str | None = None,
) -> list[dict[str, Any]]:
    """Rows read but not loaded (rejected or skipped), with file, row and reason; optionally one run / file."""
    from costlens import db as database
    from costlens.runs import quarantine_rows

    con = database.connect(db, read_only=True)
    try:
        return quarantine_rows(con, run_id=run_id, file=file, disposition=disposition, limit=limit)
    finally:
        con.close()


def whatif(
    change: str,
    *,
    db: str | None = None,
    config: Config | None = None,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    to: str | None = None,
    last: str | None = None,
):
    """Replay the period's traffic under a change (route / batch / cache / cap-output) and price it."""
    from costlens import db as database
    from costlens.engine import compute_period_metrics, prepare_priced_calls
    from costlens.whatif import parse_changes
    from costlens.whatif import whatif as run_whatif

    config = config or load_config()
    changes = parse_changes(change)  # bad input fails before the database opens
    options = _period_options(period, since, until, to, last)
    con = database.connect(db, must_exist=True)
    try:
        chosen = options.resolve(con)
        prepare_priced_calls(con, config)
        if _empty_period(con, chosen):  # nothing to replay: say which months hold calls
            from costlens.period import empty_period_parts

            what, fix = empty_period_parts(con, chosen)
            raise UsageError(f"nothing to replay: {what}", fix=fix)
        compute_period_metrics(con, config, chosen)
        result = run_whatif(con, config, changes)
        result.period = chosen.to_dict()
        return result
    finally:
        con.close()


def check(
    *,
    db: str | None = None,
    config: Config | None = None,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    baseline: str = "previous",
    thresholds=None,
    cost_mode: str = "computed",
    to: str | None = None,
    last: str | None = None,
    report_file: str | None = None,
):
    """The CI gate: this period against the previous one, a saved JSON report, or nothing (`none`). With
    `report_file` (a saved JSON report) the gate judges that report as written, without building it again; the
    database is opened only for `baseline="previous"`."""
    from costlens import db as database
    from costlens.check import CheckThresholds, load_baseline, load_report, run_check
    from costlens.levers.diagnose import previous_period
    from costlens.report.build import build_report

    config = config or load_config()
    thresholds = (thresholds or CheckThresholds()).validate()
    choice = (baseline or "none").strip()
    use_previous = choice.lower() == "previous"
    base: Report | dict[str, Any] | None = (
        None if use_previous or choice.lower() == "none" else load_baseline(choice)  # bad file: exit 3 first
    )
    found = config.path is not None
    if report_file is not None:
        if period or since or until or to or last:
            raise UsageError(
                "--report judges the period of the saved report; period options do not apply",
                fix="drop --period / --since / --to / --until / --last, or drop --report",
            )
        current = load_report(report_file)
        if use_previous:
            con = database.connect(db, must_exist=True)
            try:
                base = build_report(con, config, previous_period(current.period), cost_mode=cost_mode, analyse=False)
            finally:
                con.close()
        return run_check(current, base, config, thresholds, config_found=found)
    options = _period_options(period, since, until, to, last)
    con = database.connect(db, must_exist=True)
    try:
        chosen = options.resolve(con)
        if use_previous:
            base = build_report(con, config, previous_period(chosen), cost_mode=cost_mode, analyse=False)
        current = build_report(con, config, chosen, cost_mode=cost_mode, analyse=False, reprice=not use_previous)
        result = run_check(current, base, config, thresholds, config_found=found)
        result.empty_period = _empty_period(con, chosen)
        return result
    finally:
        con.close()


def diff(before: str, after: str):
    """Two saved JSON reports compared: spend, cost per task and per accepted outcome, in total, per feature and
    per model, with the change split into volume / efficiency / mix / price (costlens.diff). No database."""
    from costlens.diff import diff_files

    return diff_files(before, after)


def init(*, db: str | None = None, out: str = "costlens.toml", force: bool = False, config: Config | None = None):
    """Write a commented starter costlens.toml from the features found in the database."""
    from costlens import db as database
    from costlens.init_config import write_starter_config

    con = database.connect(db, must_exist=True)
    try:
        return write_starter_config(con, out, config=config, force=force, source=str(db or database.default_db_path()))
    finally:
        con.close()


def runs(*, db: str | None = None, run_id: int | None = None, limit: int | None = None):
    """Ingest runs, newest first: files seen / ingested / unchanged / failed and the row accounting."""
    from costlens import db as database
    from costlens.runs import list_runs

    con = database.connect(db, read_only=True)
    try:
        return list_runs(con, run_id=run_id, limit=limit)
    finally:
        con.close()


def export_focus(
    out: str,
    *,
    db: str | None = None,
    config: Config | None = None,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    fmt: str | None = None,
    include_allocation: bool = False,
    to: str | None = None,
    last: str | None = None,
    engine: str | None = None,
    warehouse: str | None = None,
):
    """Write the period's priced spend per feature as a FOCUS 1.2 dataset (CSV or Parquet): the report's total,
    plus (with include_allocation) the billed spend reconciliation allocates to features."""
    from pathlib import Path

    from costlens.engines import open_engine
    from costlens.export.focus import export_focus as write_export
    from costlens.export.focus import export_format

    config = config or load_config()
    export_format(Path(out), fmt)  # a bad --format or suffix fails before the database opens
    options = _period_options(period, since, until, to, last)
    with open_engine(db, config, engine=engine, warehouse=warehouse) as con:
        chosen = options.resolve(con)
        result = write_export(con, config, chosen, out, fmt, include_allocation)
        result.empty_period = _empty_period(con, chosen)
        return result


def export_lake(warehouse: str, *, db: str | None = None):
    """Write every table of the database as the lake under `warehouse` (costlens.lake): Parquet, calls and bill
    lines partitioned by month, committed whole. Spark (`--engine spark --warehouse`) and DuckDB read it."""
    from costlens import db as database
    from costlens.lake import write_lake

    con = database.connect(db, read_only=True)
    try:
        return write_lake(con, warehouse)
    finally:
        con.close()


def reconcile(
    *,
    db: str | None = None,
    config: Config | None = None,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    to: str | None = None,
    last: str | None = None,
    engine: str | None = None,
    warehouse: str | None = None,
):
    """The logged calls against the billing exports: coverage, the gap's causes, allocation, calibrated rates.
    Without period options: the latest month with calls, else the latest month on the bills."""
    from costlens.engines import open_engine
    from costlens.reconcile.build import default_period
    from costlens.reconcile.build import reconcile as run_reconcile

    config = config or load_config()
    options = _period_options(period, since, until, to, last)
    with open_engine(db, config, engine=engine, warehouse=warehouse) as con:
        chosen = options.resolve(con) if options.given() else default_period(con)
        result = run_reconcile(con, config, chosen)
        result.empty_period = _empty_period(con, chosen)
        result.period = chosen.to_dict()
        return result


def frozen_months(*, db: str | None = None) -> list[dict[str, Any]]:
    """Closed months whose prices are frozen: month, genai-prices version at freeze time, when, how many keys."""
    from costlens import db as database
    from costlens.pricing.freeze import frozen_months as read_frozen

    con = database.connect(db)
    try:
        return [
            {
                "month": f.month.strftime("%Y-%m"),
                "catalog_version": f.catalog_version,
                "frozen_at": f.frozen_at.isoformat(sep=" "),
                "keys": f.keys,
            }
            for f in read_frozen(con)
        ]
    finally:
        con.close()
