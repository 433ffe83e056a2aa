"""The costlens command line: parse options, call costlens.api, pick a renderer, map errors to exit codes.

Heavy modules (duckdb, polars, rich tables, genai-prices) are imported inside commands so `--help` is fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Callable, Optional, TypeVar

import typer

from costlens import __version__
from costlens.errors import EXIT_INPUT, EXIT_INTERNAL, CostlensError

app = typer.Typer(
    name="costlens",
    help="Unit economics for LLM usage: ingest request logs and bills, price every call, report cost per "
    "call, task and accepted outcome. Offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database file (default: $COSTLENS_DB or ./costlens.duckdb).")]
ConfigOption = Annotated[Optional[Path], typer.Option("--config", "-c", help="costlens.toml (default: ./costlens.toml or [tool.costlens] in ./pyproject.toml).")]
T = TypeVar("T")


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _guard(action: Callable[[], T]) -> T:
    """Run a command body: CostlensError → one line on stderr + its exit code; anything else → one line too."""
    try:
        return action()
    except CostlensError as exc:
        print(f"costlens: error: {exc.one_line()}", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("costlens: interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:  # a bug: still one line, with a way to get the details
        if os.environ.get("COSTLENS_DEBUG"):
            raise
        detail = " ".join(str(exc).split())[:300]
        print(f"costlens: internal error: {type(exc).__name__}: {detail} (set COSTLENS_DEBUG=1 for the traceback)",
              file=sys.stderr)
        raise typer.Exit(EXIT_INTERNAL) from None


def _load_config(path: Path | None):
    from costlens.config import load_config

    return load_config(path)


def _version_callback(value: bool) -> None:
    if value:
        print(f"costlens {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """costlens — where the LLM money goes, per feature, and what to do about it."""


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or globs (.gz read transparently).")],
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="Force a format: otel, openai, anthropic, generic, outcomes, focus, litellm, helicone, langfuse, claude_code, openai_billing, anthropic_billing, aws_cur, azure_cost, gcp_billing.")] = None,
    maps: Annotated[Optional[list[str]], typer.Option("--map", help="Generic files: canonical=source column, repeatable (e.g. input_tokens=ContextTokens).")] = None,
    sets: Annotated[Optional[list[str]], typer.Option("--set", help="Generic files: canonical=constant, repeatable (e.g. model=gpt-4).")] = None,
    input_excludes_cached: Annotated[bool, typer.Option("--input-excludes-cached", help="Generic files: the mapped input does NOT include cache tokens (Anthropic convention).")] = False,
    keep_content: Annotated[bool, typer.Option("--keep-content", help="Store prompt/response text (off by default).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the totals line.")] = False,
) -> None:
    """Load request logs, outcomes and billing exports into the database (re-ingesting a file adds nothing)."""

    def run() -> int:
        from costlens import api
        from costlens.ingest.sources import expand_paths

        cfg = _load_config(config)
        mapping = api.parse_mapping(maps, sets, input_includes_cached=not input_excludes_cached)
        files = expand_paths(paths)
        total_bytes = sum(p.stat().st_size for p in files)
        console = _stderr()
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("[bold]ingest"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                      TextColumn("{task.description}"), console=console, transient=True,
                      disable=quiet or not console.is_terminal) as progress:
            task = progress.add_task("", total=total_bytes or 1)

            def on_file_done(name: str, size: int) -> None:
                progress.update(task, advance=size, description=Path(name).name)

            result = api.ingest(paths, db=db, config=cfg, fmt=fmt, mapping=mapping, keep_content=keep_content,
                                on_file_done=on_file_done)
        _print_ingest(result, quiet)
        return EXIT_INPUT if result.failed else 0

    code = _guard(run)
    raise typer.Exit(code)


def _print_ingest(result, quiet: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    if not quiet:
        table = Table(header_style="bold", title=f"ingest run {result.run_id}", title_justify="left", pad_edge=False)
        table.add_column("File", overflow="fold")
        table.add_column("Adapter", no_wrap=True)
        for name in ("Read", "Loaded", "Dup", "Quar", "Skip"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("Status", overflow="fold")
        for f in result.files:
            status = f.status if not f.message else f"{f.status}: {f.message}"
            table.add_row(Text(Path(f.path).name), Text(f.format or "?"), f"{f.rows_read:,}", f"{f.rows_loaded:,}",
                          f"{f.rows_duplicate:,}", f"{f.rows_quarantined:,}", f"{f.rows_skipped:,}", Text(status))
        console.print(table)
    console.print(
        f"{len(result.files)} files: {sum(f.status == 'ingested' for f in result.files)} ingested, "
        f"{sum(f.status == 'unchanged' for f in result.files)} unchanged, {len(result.failed)} failed · "
        f"rows read {result.total('rows_read'):,} = loaded {result.total('rows_loaded'):,} + duplicate "
        f"{result.total('rows_duplicate'):,} + quarantined {result.total('rows_quarantined'):,} + skipped "
        f"{result.total('rows_skipped'):,}"
    )
    for f in result.failed:
        print(f"costlens: error: {f.message}", file=sys.stderr)


REPORT_FORMATS = ("terminal", "json", "html", "md", "csv", "parquet")


@app.command()
def report(
    db: DbOption = None,
    config: ConfigOption = None,
    period: Annotated[Optional[str], typer.Option("--period", "-p", help="YYYY-MM, last-month or this-month (default: latest month with calls).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Day after the last day (YYYY-MM-DD, exclusive).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="terminal, json, html, md, csv or parquet.")] = "terminal",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file (html: required; csv/parquet: a folder) instead of stdout.")] = None,
    cost_mode: Annotated[str, typer.Option("--cost-mode", help="computed: price every call from the price book; reported: use the producer's own cost where it gives one. Both are always compared in the report.")] = "computed",
) -> None:
    """Unit economics per feature, model and team for a period."""

    def run() -> None:
        from costlens import api
        from costlens.errors import UsageError

        if fmt not in REPORT_FORMATS:
            raise UsageError(f"--format {fmt!r} is not supported", fix=f"use one of: {', '.join(REPORT_FORMATS)}")
        if fmt in ("html", "csv", "parquet") and out is None:
            raise UsageError(f"--format {fmt} needs --out", fix="e.g. --out report.html, or --out exports/ for csv/parquet")
        cfg = _load_config(config)
        result = api.report(db=db, config=cfg, period=period, since=since, until=until, cost_mode=cost_mode)
        if fmt == "html":
            from costlens.report.render_html import render_html

            out.write_text(render_html(result, cfg), encoding="utf-8")
            print(f"HTML report written to {out}", file=sys.stderr)
            return
        if fmt == "md":
            from costlens.report.render_md import render_markdown

            text = render_markdown(result)
            if out:
                out.write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
            return
        if fmt in ("csv", "parquet"):
            from costlens.report.render_tables import export_tables

            for path in export_tables(result, out, fmt):
                print(f"wrote {path}", file=sys.stderr)
            return
        if fmt == "json":
            from costlens.report.render_json import render_json

            text = render_json(result)
            if out:
                out.write_text(text + "\n", encoding="utf-8")
            else:
                sys.stdout.write(text + "\n")
            return
        from rich.console import Console

        from costlens.report.render_terminal import render_terminal

        if out:
            with out.open("w", encoding="utf-8") as handle:
                render_terminal(result, Console(file=handle, width=200, highlight=False))
        else:
            render_terminal(result, Console(highlight=False))

    _guard(run)


PeriodOption = Annotated[Optional[str], typer.Option("--period", "-p", help="YYYY-MM, last-month or this-month (default: latest month with calls).")]
SinceOption = Annotated[Optional[str], typer.Option("--since", help="First day (YYYY-MM-DD).")]
UntilOption = Annotated[Optional[str], typer.Option("--until", help="Day after the last day (YYYY-MM-DD, exclusive).")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="terminal or json.")]


def _analysis(db, config, period, since, until, fmt, section: str) -> None:
    """Shared body of `leaks` and `levers`: the report's analysis, one section of it."""
    from costlens import api
    from costlens.errors import UsageError

    if fmt not in ("terminal", "json"):
        raise UsageError(f"--format {fmt!r} is not supported", fix="use terminal or json")
    result = api.report(db=db, config=_load_config(config), period=period, since=since, until=until)
    if fmt == "json":
        import json

        from costlens.report.render_json import report_to_dict, _default

        data = report_to_dict(result)
        payload = {"period": data["period"], section: data[section]}
        if section == "levers":
            payload.update(lever_summary=data["lever_summary"], diagnosis=data["diagnosis"])
        sys.stdout.write(json.dumps(payload, default=_default, indent=2, allow_nan=False) + "\n")
        return
    from rich.console import Console

    from costlens.report import render_terminal

    console = Console(highlight=False)
    if section == "leaks":
        render_terminal.render_leaks(result, console)
    else:
        render_terminal.render_diagnosis(result, console)
        render_terminal.render_levers(result, console)


@app.command()
def leaks(db: DbOption = None, config: ConfigOption = None, period: PeriodOption = None,
          since: SinceOption = None, until: UntilOption = None, fmt: FormatOption = "terminal") -> None:
    """Where the money leaks: context bloat, premium overuse, retries, cache misses, batchable traffic, …"""
    _guard(lambda: _analysis(db, config, period, since, until, fmt, "leaks"))


@app.command()
def levers(db: DbOption = None, config: ConfigOption = None, period: PeriodOption = None,
           since: SinceOption = None, until: UntilOption = None, fmt: FormatOption = "terminal") -> None:
    """What to do first: levers ranked by savings per effort, savings never double counted."""
    _guard(lambda: _analysis(db, config, period, since, until, fmt, "levers"))


@app.command()
def whatif(
    change: Annotated[str, typer.Argument(help='e.g. "route feature=support-bot to=claude-haiku-4-5", "batch feature=X", '
                                               '"cache feature=X", "cap-output feature=X max=500"; join several with ";".')],
    db: DbOption = None, config: ConfigOption = None, period: PeriodOption = None,
    since: SinceOption = None, until: UntilOption = None, fmt: FormatOption = "terminal",
) -> None:
    """Re-price the period's traffic under a change and show before / after and the quality risk."""

    def run() -> None:
        from costlens import api

        result = api.whatif(change, db=db, config=_load_config(config), period=period, since=since, until=until)
        if fmt == "json":
            import json

            from costlens.report.render_json import _default

            sys.stdout.write(json.dumps(result.to_dict(), default=_default, indent=2, allow_nan=False) + "\n")
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from costlens.report.render_terminal import num, pct, usd

        console = Console(highlight=False)
        console.print(Text(f"what if: {result.change}  ({result.period_start} → {result.period_end})", style="bold"))
        console.print(f"before {usd(result.before_usd)} → after {usd(result.after_usd)}: saves "
                      f"{usd(result.savings_usd)} ({pct(None if result.savings_pct is None else result.savings_pct / 100)}), "
                      f"≈ {usd(result.est_monthly_savings_usd)}/month; {num(result.calls_affected)} of "
                      f"{num(result.calls)} calls affected")
        table = Table(header_style="bold", pad_edge=False)
        for name in ("Feature", "Before", "After", "Saves"):
            table.add_column(name, justify="left" if name == "Feature" else "right")
        for row in result.by_feature:
            table.add_row(Text(row.feature), usd(row.before_usd, 4), usd(row.after_usd, 4), usd(row.savings_usd, 4))
        console.print(table)
        console.print(Text(f"quality risk: {result.quality_risk} — {result.quality_reason}"))
        for note in result.assumptions:
            console.print(Text(f"  • {note}"))

    _guard(run)


@app.command()
def check(
    db: DbOption = None, config: ConfigOption = None, period: PeriodOption = None,
    since: SinceOption = None, until: UntilOption = None,
    baseline: Annotated[str, typer.Option("--baseline", help="previous (the period before), none, or a JSON report saved by `costlens report --format json --out FILE`.")] = "previous",
    max_cpao_regression_pct: Annotated[float, typer.Option("--max-cpao-regression-pct", help="Fail when cost per accepted outcome rises more than this % vs the baseline.")] = 10.0,
    min_priced_coverage_pct: Annotated[float, typer.Option("--min-priced-coverage-pct", help="Fail when fewer calls than this % are priced.")] = 95.0,
    fail_on_warning: Annotated[bool, typer.Option("--fail-on-warning", help="Also fail on soft budget alerts and month-end forecasts over budget.")] = False,
    min_accepted_outcomes: Annotated[int, typer.Option("--min-accepted-outcomes", help="Per-feature regressions need this many accepted outcomes in both periods.")] = 10,
    ignore_slo: Annotated[bool, typer.Option("--ignore-slo", help="Do not fail on cost SLOs per accepted outcome.")] = False,
    cost_mode: Annotated[str, typer.Option("--cost-mode", help="computed or reported.")] = "computed",
    fmt: FormatOption = "terminal",
) -> None:
    """The CI gate: exit 4 on a budget breach, a cost-per-accepted-outcome regression or low priced coverage."""

    def run() -> int:
        from costlens import api
        from costlens.check import CheckThresholds

        thresholds = CheckThresholds(max_cpao_regression_pct=max_cpao_regression_pct,
                                     min_priced_coverage_pct=min_priced_coverage_pct,
                                     min_accepted_outcomes=min_accepted_outcomes,
                                     fail_on_warning=fail_on_warning, fail_on_slo=not ignore_slo).validate()
        result = api.check(db=db, config=_load_config(config), period=period, since=since, until=until,
                           baseline=baseline, thresholds=thresholds, cost_mode=cost_mode)
        if fmt == "json":
            import json

            from costlens.report.render_json import _default

            sys.stdout.write(json.dumps(result.to_dict(), default=_default, indent=2, allow_nan=False) + "\n")
        else:
            print(result.render_text())
        return result.exit_code

    raise typer.Exit(_guard(run))


@app.command()
def init(
    db: DbOption = None,
    config: ConfigOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Config file to write.")] = Path("costlens.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter costlens.toml from the features found in the database."""

    def run() -> None:
        from costlens import api

        path = api.init(db=db, out=str(out), force=force, config=_load_config(config) if config else None)
        print(f"wrote {path} — edit owners, budgets and SLOs, then run `costlens report`")

    _guard(run)


@app.command()
def prices(
    model: Annotated[Optional[str], typer.Argument(help="Explain how this model resolves.")] = None,
    provider: Annotated[Optional[str], typer.Option("--provider", help="Provider for MODEL (openai, anthropic, …).")] = None,
    variant: Annotated[str, typer.Option("--variant", help="standard, batch, priority or flex.")] = "standard",
    at: Annotated[Optional[str], typer.Option("--at", help="Price at this date/time (default: now).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="terminal or json.")] = "terminal",
) -> None:
    """The price book used for the calls in the database, unpriced models, and how a model resolves."""

    def run() -> None:
        import json

        from costlens import api

        view = api.prices(db=db, config=_load_config(config), model=model, provider=provider, variant=variant, at=at)
        if fmt == "json":
            print(json.dumps({"keys": view.keys, "unpriced": view.unpriced, "explanation": view.explanation},
                             default=str, indent=2))
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        console = Console(highlight=False)
        if view.explanation is not None:
            console.print("[bold]How it resolves[/]")
            for key, value in view.explanation.items():
                console.print(Text(f"  {key}: {value}"))
        table = Table(title="Price book (per Mtok, base tier)", title_justify="left", header_style="bold")
        for name in ("Provider", "Model", "Variant", "Catalog model", "Input", "Output", "Cache read", "Calls", "Source"):
            table.add_column(name)
        for k in view.keys:
            table.add_row(*(Text(str(x)) for x in (k["provider"], k["model"], k["variant"], k["catalog_model"],
                          k["input_mtok"], k["output_mtok"], k["cache_read_mtok"], k["calls"], k["source"])))
        console.print(table)
        total = sum(k["calls"] for k in view.keys) + sum(u["calls"] for u in view.unpriced)
        unpriced_calls = sum(u["calls"] for u in view.unpriced)
        coverage = 100.0 * (total - unpriced_calls) / total if total else 100.0
        console.print(f"priced coverage: {coverage:.1f}% of {total:,} calls")
        for u in view.unpriced:
            console.print(Text(f"  unpriced: {u['provider']} / {u['model']} ({u['variant']}): {u['calls']} calls — {u['reason']}"))

    _guard(run)


@app.command()
def quarantine(
    db: DbOption = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many rows (0 = all).")] = 50,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Export all rows as CSV to this file.")] = None,
) -> None:
    """Rows that were read but not loaded, with file, row and reason."""

    def run() -> None:
        from costlens import api

        rows = api.quarantine(db=db, limit=None if out else (limit or None))
        if out:
            import csv

            with out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=["source_file", "source_row", "disposition", "reason",
                                                            "source_format", "run_id"])
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: _csv_safe(v) for k, v in row.items()})
            print(f"{len(rows)} rows written to {out}")
            return
        for row in rows:
            print(f"{row['source_file']}:{row['source_row']}: {row['disposition']}: {row['reason']}")
        if not rows:
            print("no quarantined rows")

    _guard(run)


def _csv_safe(value):
    """Neutralise spreadsheet formulas in exported text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@app.command()
def demo(
    sample_dir: Annotated[Path, typer.Argument(help="The sample logs folder.")] = Path("sample_logs"),
    db: Annotated[str, typer.Option("--db", help="Database to (re)create for the demo.")] = "costlens-demo.duckdb",
) -> None:
    """Ingest the bundled sample month into a fresh database and print its report."""

    def run() -> None:
        from rich.console import Console

        from costlens import api
        from costlens.config import load_config
        from costlens.errors import UsageError
        from costlens.report.render_terminal import render_terminal

        if not sample_dir.is_dir():
            raise UsageError(f"{sample_dir} is not a folder", fix="run from the project root or pass the sample_logs path")
        for stale in (Path(db), Path(db + ".wal")):
            stale.unlink(missing_ok=True)
        config_file = sample_dir / "costlens.toml"
        cfg = load_config(config_file if config_file.is_file() else None)
        result = api.ingest([str(sample_dir)], db=db, config=cfg)
        _print_ingest(result, quiet=False)
        render_terminal(api.report(db=db, config=cfg), Console(highlight=False))
        print(f"\ndatabase: {db} — try `costlens report --db {db} --config {config_file} --format json`")

    _guard(run)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
