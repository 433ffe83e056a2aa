"""The costlens command line: parse options, call costlens.api, pick a renderer, map errors to exit codes.

Heavy modules (duckdb, polars, rich tables, genai-prices) are imported inside commands so `--help` is fast.

Exit paths, whatever raised them:
- a CostlensError → its one line `costlens: error: WHAT — FIX` and its exit code;
- a usage error of the command line itself (unknown option, missing argument, bad value; typer / click's own)
  → the same one line, exit 2 (`_CostlensGroup.main`);
- Ctrl-C → exit 130, however it surfaces: KeyboardInterrupt, DuckDB's "Query interrupted" (a RuntimeError or
  duckdb.InterruptException), an exception some library raised while the interrupt was pending, or none at all
  (an interrupt swallowed on the way). A SIGINT handler records that it fired, so the exit code never depends on
  where the signal landed;
- stdout closed by its reader (`costlens report | head -1`) → exit 141 (128 + SIGPIPE, as a shell reports a
  command killed by it) with nothing on stderr.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from costlens import __version__
from costlens.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_USAGE, CostlensError

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


class _RunState:
    """What happened during this invocation (module state: one command runs per process, or one at a time
    under typer's CliRunner)."""

    interrupted = False  # SIGINT arrived (set by the handler, so it survives any exception that hides it)
    reported = False  # "costlens: interrupted" was printed
    quiet = False  # -q/--quiet: no progress and no informational lines on stderr (warnings and errors stay)


_state = _RunState()


def _on_sigint(signum: int, frame: Any) -> None:
    _state.interrupted = True
    raise KeyboardInterrupt


def _install_sigint_handler() -> Callable[[], None]:
    """Record SIGINT before raising KeyboardInterrupt as Python does. Left alone when SIGINT is ignored (a
    background job) or handled by someone else (an embedding program), and outside the main thread."""
    try:
        previous = signal.getsignal(signal.SIGINT)
        if previous is not signal.default_int_handler:
            return lambda: None  # ignored, someone else's, or ours already (cli.main installed it)
        _state.interrupted = _state.reported = False
        signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread
        return lambda: None

    def restore() -> None:
        try:
            signal.signal(signal.SIGINT, previous)
        except ValueError:  # pragma: no cover
            pass

    return restore


def _import_engine_holding_sigint() -> None:
    """Import DuckDB with SIGINT held back by the OS. A KeyboardInterrupt raised while its extension module
    initialises is not unwound: nanobind aborts the process ("Critical nanobind error", status -6) instead of
    exit 130. A Ctrl-C in that window is delivered the moment the import returns."""
    if "duckdb" in sys.modules:
        return
    try:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    except (AttributeError, ValueError, OSError):  # pragma: no cover - platforms without it
        held = None
    try:
        import duckdb  # noqa: F401
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _is_interrupt(exc: BaseException | None) -> bool:
    """KeyboardInterrupt, or DuckDB's form of it (duckdb.InterruptException, or a RuntimeError "Query
    interrupted" when the interrupt reached DuckDB's own signal check), anywhere in the exception's chain."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, KeyboardInterrupt) or type(exc).__name__ == "InterruptException":
            return True
        if isinstance(exc, RuntimeError) and "query interrupted" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _report_interrupt() -> int:
    if not _state.reported:
        _state.reported = True
        try:
            print(
                "costlens: interrupted — files already committed stay whole; run the command again to finish",
                file=sys.stderr,
            )
        except (OSError, ValueError):
            pass
    return EXIT_INTERRUPTED


def _is_broken_pipe(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _quiet_broken_pipe() -> int:
    """The reader of stdout went away: point stdout at /dev/null so nothing more fails at exit, say nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (e.g. under CliRunner)
        pass
    return EXIT_BROKEN_PIPE


def _flush_stdout() -> int | None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except (OSError, ValueError) as exc:
        if _is_broken_pipe(exc):
            return _quiet_broken_pipe()
    return None


def _click_usage_error() -> type[BaseException]:
    """click's UsageError (typer ships its own copy of click in recent versions, imports click in older ones)."""
    for klass in typer.BadParameter.__mro__:
        if klass.__name__ == "UsageError":
            return klass
    return typer.BadParameter  # pragma: no cover


def _command_path(ctx: Any) -> str:
    names = []
    while ctx is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    names[-1] = "costlens"  # `python -m costlens` or a console script: the user knows it as costlens
    return " ".join(n for n in reversed(names) if n)


def _usage_line(exc: BaseException) -> str:
    """click's usage error (a 5-line box by default) as costlens' one line: WHAT — FIX."""
    ctx = getattr(exc, "ctx", None)
    path = _command_path(ctx) if ctx is not None else "costlens"
    try:
        text = exc.format_message()  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover
        text = str(exc)
    what = " ".join(str(text).split()).rstrip(".")
    if what[:1].isupper() and what[1:2].islower():
        what = what[0].lower() + what[1:]
    where = path.removeprefix("costlens").strip()
    if where:
        what = f"{where}: {what}"
    return f"{what} — see `{path} --help`"


class _CostlensGroup(TyperGroup):
    """The top-level command: every way out of it is one of the exit codes README documents (module
    docstring), for `costlens …`, `python -m costlens …` and typer's CliRunner alike."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        usage_error = _click_usage_error()
        restore = _install_sigint_handler()
        _state.quiet = False
        no_color = os.environ.get("NO_COLOR")  # --no-color sets it for this invocation only
        try:
            try:
                result = super().main(
                    args=args,
                    prog_name=prog_name,
                    complete_var=complete_var,
                    standalone_mode=False,
                    windows_expand_args=windows_expand_args,
                    **extra,
                )
                code = result if isinstance(result, int) else 0
            except usage_error as exc:
                if type(exc).__name__ == "NoArgsIsHelpError":  # bare `costlens` / `costlens export`: the help
                    _show_click_error(exc)
                    code = getattr(exc, "exit_code", EXIT_USAGE)
                else:
                    print(f"costlens: error: {_usage_line(exc)}", file=sys.stderr)
                    code = EXIT_USAGE
            except KeyboardInterrupt:
                code = _report_interrupt()
            except SystemExit as exc:
                if _is_broken_pipe(exc.__context__):
                    code = _quiet_broken_pipe()
                else:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException as exc:  # click's Abort (EOF on a prompt), or a broken pipe outside a command
                if _state.interrupted or _is_interrupt(exc):
                    code = _report_interrupt()
                elif _is_broken_pipe(exc):
                    code = _quiet_broken_pipe()
                elif type(exc).__name__ == "Abort":
                    print("costlens: error: aborted", file=sys.stderr)
                    code = EXIT_INTERNAL
                else:
                    raise
            if _state.interrupted or code == EXIT_INTERRUPTED:
                code = _report_interrupt()
            flushed = _flush_stdout()
            if flushed is not None and code == 0:
                code = flushed
        except KeyboardInterrupt:  # a second Ctrl-C while the first was being reported
            code = EXIT_INTERRUPTED
        finally:
            restore()
            if no_color is None:
                os.environ.pop("NO_COLOR", None)
            else:
                os.environ["NO_COLOR"] = no_color
        if standalone_mode:
            sys.exit(code)
        return code


def _show_click_error(exc: BaseException) -> None:
    try:
        from typer import rich_utils

        rich_utils.rich_format_error(exc)  # type: ignore[arg-type]
    except Exception:  # pragma: no cover - older typer: click's own rendering
        exc.show()  # type: ignore[attr-defined]


app = typer.Typer(
    cls=_CostlensGroup,
    name="costlens",
    help="Unit economics for LLM usage: ingest request logs and bills, price every call, report cost per "
    "call, task and accepted outcome. Offline.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish and PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},  # -h on every command too (inherited)
    pretty_exceptions_enable=False,
    epilog="Exit codes: 0 ok · 1 internal error · 2 usage or config · 3 input file unreadable or not understood · "
    "4 CI threshold breached · 5 database missing, busy, newer, damaged, read-only or disk full · "
    "130 interrupted · 141 stdout closed.",
)


def _set_no_color(value: bool) -> bool:
    if value:
        os.environ["NO_COLOR"] = "1"  # rich and costlens's own colours both honour it (restored on the way out)
    return value


def _set_quiet(value: bool) -> bool:
    if value:
        _state.quiet = True
    return value


# The options every command takes (README "Options"): output chatter, colour and the JSON shortcut
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        callback=_set_quiet,
        rich_help_panel="Output",
        help="No progress and no informational lines on stderr; warnings and errors still print.",
    ),
]
NoColorOption = Annotated[
    bool,
    typer.Option("--no-color", callback=_set_no_color, rich_help_panel="Output", help="No colour (as NO_COLOR=1)."),
]
JsonOption = Annotated[bool, typer.Option("--json", "-j", rich_help_panel="Output", help="Same as --format json.")]


def _format(fmt: str | None, as_json: bool, default: str = "terminal") -> str:
    """--format, or json with -j/--json (both, disagreeing: a usage error)."""
    if not as_json:
        return fmt or default
    if fmt not in (None, default, "json"):
        from costlens.errors import UsageError

        raise UsageError(f"-j/--json and --format {fmt} ask for two formats", fix="pass one of them")
    return "json"


def _note(message: str) -> None:
    """An informational line on stderr (what was written where): -q/--quiet leaves it out."""
    if not _state.quiet:
        print(message, file=sys.stderr)


def _examples(*lines: str) -> str:
    """A command's help epilog: runnable examples, one per paragraph."""
    return "[bold]Examples[/bold]\n\n" + "\n\n".join(f"  {line}" for line in lines)


LOAD, ANALYSE, FINANCE = "Load data", "Analyse", "Finance and CI"

DbOption = Annotated[
    str | None, typer.Option("--db", metavar="FILE", help="Database file (default: $COSTLENS_DB or ./costlens.duckdb).")
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        metavar="ENGINE",
        help="duckdb (default) or spark: where the SQL runs (default: \\[engine] kind in costlens.toml).",
    ),
]
WarehouseOption = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        "-w",
        metavar="PATH",
        help="Read the lake of Parquet tables there instead of --db (`costlens export lake` writes it).",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        # "\\[" is a literal bracket: rich would read [tool.costlens] as markup and drop it
        help="costlens.toml (default: ./costlens.toml or \\[tool.costlens] in ./pyproject.toml).",
    ),
]
# The period options, the same in every command that reads a period (costlens/period.py)
PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        "-p",
        metavar="PERIOD",
        help="YYYY-MM, YYYY-Qn, YYYY, last-month, this-month, last-quarter, this-quarter, last-year or this-year (default: $COSTLENS_PERIOD, else the latest month with calls).",
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", metavar="DATE", help="First day, YYYY-MM-DD (default: the first day with calls)."),
]
ToOption = Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day, inclusive (YYYY-MM-DD).")]
UntilOption = Annotated[
    str | None, typer.Option("--until", metavar="DATE", help="The day after the last day, exclusive (YYYY-MM-DD).")
]
LastOption = Annotated[
    str | None,
    typer.Option("--last", metavar="N{d|w|m}", help="The last N days, weeks or months up to today (e.g. 7d, 4w, 3m)."),
]
FeatureOption = Annotated[
    list[str] | None,
    typer.Option(
        "--feature",
        metavar="NAME",
        help='Only the calls of this feature (repeatable; "(unattributed)" for calls with none).',
    ),
]
TeamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--team", metavar="NAME", help='Only the calls of this team (repeatable; "(no team)" for calls with none).'
    ),
]
CustomerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--customer",
        metavar="NAME",
        help='Only the calls of this customer (repeatable; "(no customer)" for calls with none).',
    ),
]
PlanOption = Annotated[
    list[str] | None,
    typer.Option(
        "--plan",
        metavar="NAME",
        help='Only the calls of the customers on this plan in the period, from the revenue file (repeatable; "(no plan)" for the rest).',
    ),
]
T = TypeVar("T")


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class _StepDisplay:
    """A report's steps as a bar on stderr, drawn only for a person watching (costlens.progress.show_progress)
    and gone when it ends; the command's own output follows it. One step more than the library reports:
    rendering, which the command does itself."""

    def __init__(self, name: str) -> None:
        from costlens.progress import show_progress

        self.shown = show_progress(_state.quiet)
        self._name = name
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _StepDisplay:
        if self.shown:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn(f"[bold]{self._name}"),
                BarColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=_stderr(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=None)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    @property
    def on_progress(self) -> Any:
        return self._update if self.shown else None

    def _update(self, event: Any) -> None:
        if self._bar is not None:
            # a new step is drawn at once: a step quicker than the display's refresh would never be seen
            new_step = self._bar.tasks[0].description != event.step
            self._bar.update(self._task, completed=event.done, total=event.total + 1, description=event.step)
            if new_step:
                self._bar.refresh()

    def rendering(self) -> None:
        if self._bar is not None:
            total = self._bar.tasks[0].total or 1
            self._bar.update(self._task, completed=total - 1, description="rendering")


def _guard(action: Callable[[], T], *, engine: bool = True) -> T:
    """Run a command body: CostlensError → one line on stderr + its exit code; an interrupt → 130 (even when
    it surfaced as another exception, or was swallowed); a closed stdout → 141, quietly; anything else → one
    line too (a bug: exit 1). `engine=False` for a command that never opens a database (`diff`)."""
    try:
        if engine:
            _import_engine_holding_sigint()
        from costlens.db import check_environment

        check_environment()  # bad COSTLENS_* values: exit 2 before anything is opened
        result = action()
    except typer.Exit:
        if _state.interrupted:
            raise typer.Exit(_report_interrupt()) from None
        raise
    except SystemExit as exc:  # rich exits 1 on a broken pipe
        if _state.interrupted:
            raise typer.Exit(_report_interrupt()) from None
        if _is_broken_pipe(exc.__context__):
            raise typer.Exit(_quiet_broken_pipe()) from None
        raise
    except BaseException as exc:
        raise typer.Exit(_exit_code_for(exc)) from None
    if _state.interrupted:  # the interrupt was swallowed on the way (e.g. by a library's fallback)
        raise typer.Exit(_report_interrupt())
    return result


def _exit_code_for(exc: BaseException) -> int:
    """Print the one line for `exc` (nothing for a broken pipe) and return its exit code."""
    if _state.interrupted or _is_interrupt(exc):
        return _report_interrupt()
    if _is_broken_pipe(exc):
        return _quiet_broken_pipe()
    if isinstance(exc, CostlensError):
        print(f"costlens: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    if not isinstance(exc, Exception):
        raise exc  # GeneratorExit and the like: not ours to translate
    if os.environ.get("COSTLENS_DEBUG"):
        raise exc
    from costlens.db import as_database_error

    storage = as_database_error(exc)  # a full disk is the machine's problem, not a bug: exit 5
    if storage is not None:
        print(f"costlens: error: {storage.one_line()}", file=sys.stderr)
        return storage.exit_code
    detail = " ".join(str(exc).split())[:300]
    print(
        f"costlens: internal error: {type(exc).__name__}: {detail} (set COSTLENS_DEBUG=1 for the traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _load_config(path: Path | None):
    from costlens.config import load_config

    return load_config(path)


def _version_callback(value: bool) -> None:
    if value:
        print(f"costlens {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """costlens — where the LLM money goes, per feature, and what to do about it."""


@app.command(
    rich_help_panel=LOAD,
    epilog=_examples(
        "costlens ingest logs/ billing/focus-2026-10.csv outcomes.csv",
        "costlens ingest exports/requests.csv --map input_tokens=ContextTokens --set provider=openai --set model=gpt-4o",
        "costlens ingest logs/ --replace -c costlens.toml      # after fixing a mapping",
        "costlens ingest logs/ -q -j > run.json",
    ),
)
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or globs (.gz read transparently).")],
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Force an input format: otel, openai, anthropic, generic, outcomes, focus, litellm, helicone, langfuse, claude_code, openai_billing, anthropic_billing, aws_cur, azure_cost, gcp_billing.",
        ),
    ] = None,
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="Generic files: canonical=source column, repeatable (e.g. input_tokens=ContextTokens)."
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="Generic files: canonical=constant, repeatable (e.g. model=gpt-4)."),
    ] = None,
    input_excludes_cached: Annotated[
        bool,
        typer.Option(
            "--input-excludes-cached",
            help="Generic files: the mapped input does NOT include cache tokens (Anthropic convention).",
        ),
    ] = False,
    keep_content: Annotated[
        bool, typer.Option("--keep-content", help="Store prompt/response text (off by default).")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Load files already ingested again, in place of their earlier rows (after fixing a mapping or the config); one transaction per file.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            callback=_set_quiet,
            rich_help_panel="Output",
            help="Print only the totals line, and no progress.",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            "-j",
            rich_help_panel="Output",
            help="Print the run as JSON: each file's status and row counts (the --format option of ingest names the input format).",
        ),
    ] = False,
    no_color: NoColorOption = False,
) -> None:
    """Load request logs, outcomes and billing exports into the database (re-ingesting a file adds nothing)."""

    def run() -> int:
        from costlens import api
        from costlens.ingest.sources import expand_paths

        cfg = _load_config(config)
        mapping = api.parse_mapping(maps, sets, input_includes_cached=not input_excludes_cached)
        files = expand_paths(paths)
        from costlens.db import default_db_path
        from costlens.outputs import Protected, config_path_in_use

        inputs = Protected()  # the database ingest writes must be none of the files it reads
        inputs.add_manifest(str(p) for p in files)
        inputs.add(config_path_in_use(cfg), "the config file in use")
        inputs.check([db or default_db_path()], option="--db", example="costlens.duckdb")
        total_bytes = sum(p.stat().st_size for p in files)
        from costlens.progress import show_progress

        shown = show_progress(quiet)
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=_stderr(),
            transient=True,
            disable=not shown,
        ) as progress:
            task = progress.add_task("", total=total_bytes or 1)
            position: dict[str, float] = {}  # bytes behind in each file (the events come in order, one lock)
            behind = [0.0]

            def on_progress(event) -> None:
                if event.total:
                    behind[0] += event.done - position.get(event.subject, 0.0)
                    position[event.subject] = event.done
                progress.update(task, completed=behind[0], description=f"{Path(event.subject).name} · {event.step}")

            def on_file_done(name: str, size: int) -> None:
                if _state.interrupted:
                    # Ctrl-C reached DuckDB inside an input reader, which reported the file as unreadable
                    # ("Query interrupted") and let the run go on: stop it here, after that file's rollback
                    raise KeyboardInterrupt

            result = api.ingest(
                paths,
                db=db,
                config=cfg,
                fmt=fmt,
                mapping=mapping,
                keep_content=keep_content,
                on_file_done=on_file_done,
                replace=replace,
                on_progress=on_progress if shown else None,
            )
        if as_json:
            _print_ingest_json(result)
        else:
            _print_ingest(result, quiet)
        return EXIT_INPUT if result.failed else 0

    code = _guard(run)
    raise typer.Exit(code)


def _print_file_problems(result) -> None:
    """Each file's warning and failure, one line each on stderr, whatever the output format."""
    for f in result.files:
        if f.warning:
            print(f"costlens: warning: {f.warning}", file=sys.stderr)
    for f in result.failed:
        print(f"costlens: error: {f.message}", file=sys.stderr)


def _print_ingest_json(result) -> None:
    """`ingest --json`: the run, file by file; warnings and errors still go to stderr as one-liners."""
    import dataclasses

    from costlens.exactjson import dumps

    files = [dataclasses.asdict(f) for f in result.files]
    totals = {
        name: result.total(name)
        for name in ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined", "rows_skipped")
    }
    sys.stdout.write(dumps({"run_id": result.run_id, "files": files, "totals": totals}) + "\n")
    _print_file_problems(result)


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
            # a failure's message follows the table as one `costlens: error:` line: the cell only says so
            status = (
                "failed"
                if f.message
                else "reloaded"
                if f.replaced_rows is not None and f.status == "ingested"
                else f.status
            )
            table.add_row(
                Text(Path(f.path).name),
                Text(f.format or "?"),
                f"{f.rows_read:,}",
                f"{f.rows_loaded:,}",
                f"{f.rows_duplicate:,}",
                f"{f.rows_quarantined:,}",
                f"{f.rows_skipped:,}",
                Text(status),
            )
        console.print(table)
    reloaded = [f for f in result.files if f.replaced_rows is not None and f.status == "ingested"]
    replaced = (
        f" ({len(reloaded)} reloaded in place of {sum(f.replaced_rows or 0 for f in reloaded):,} earlier rows)"
        if reloaded
        else ""
    )
    console.print(
        f"{len(result.files)} files: {sum(f.status == 'ingested' for f in result.files)} ingested{replaced}, "
        f"{sum(f.status == 'unchanged' for f in result.files)} unchanged, {len(result.failed)} failed · "
        f"rows read {result.total('rows_read'):,} = loaded {result.total('rows_loaded'):,} + duplicate "
        f"{result.total('rows_duplicate'):,} + quarantined {result.total('rows_quarantined'):,} + skipped "
        f"{result.total('rows_skipped'):,}",
        soft_wrap=True,  # one line, however narrow the terminal: CI logs grep it
    )
    if result.total("rows_quarantined") or result.total("rows_skipped"):
        console.print(
            f"rows not loaded, with file, row and reason: costlens quarantine --run {result.run_id}", soft_wrap=True
        )
    _print_file_problems(result)


REPORT_FORMATS = ("terminal", "json", "html", "md", "csv", "parquet")


@app.command(
    rich_help_panel=ANALYSE,
    epilog=_examples(
        "costlens report -p 2026-10",
        "costlens report -p last-month -j > report.json",
        "costlens report -p 2026-Q4 -f html -o reports/2026-q4.html",
        "costlens report --last 7d --wide | less -S",
        "costlens report -f csv -o exports/      # one CSV per table",
    ),
)
def report(
    db: DbOption = None,
    config: ConfigOption = None,
    period: PeriodOption = None,
    since: SinceOption = None,
    to: ToOption = None,
    until: UntilOption = None,
    last: LastOption = None,
    fmt_option: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json, html, md, csv or parquet.")
    ] = "terminal",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="Write to this file (html: required; csv/parquet: a folder), its folder created, instead of stdout.",
        ),
    ] = None,
    cost_mode: Annotated[
        str,
        typer.Option(
            "--cost-mode",
            help="computed: price every call from the price book; reported: use the producer's own cost where it gives one. Both are always compared in the report.",
        ),
    ] = "computed",
    prices: Annotated[
        str,
        typer.Option(
            "--prices",
            help="list: price-book prices; billed: the effective rates the billing exports show (list prices where no bill covers the model).",
        ),
    ] = "list",
    reprice: Annotated[
        bool,
        typer.Option(
            "--reprice",
            help="Re-price closed months of the period from the current price book (they stay frozen otherwise).",
        ),
    ] = False,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="Terminal view: every column of every table, however narrow the terminal (default: key columns below 120 columns).",
        ),
    ] = False,
    feature: FeatureOption = None,
    team: TeamOption = None,
    customer: CustomerOption = None,
    plan: PlanOption = None,
    engine: EngineOption = None,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Unit economics per feature, model and team for a period."""

    def run() -> None:
        from costlens import api
        from costlens.errors import UsageError

        fmt = _format(fmt_option, as_json)

        if fmt not in REPORT_FORMATS:
            raise UsageError(f"--format {fmt!r} is not supported", fix=f"use one of: {', '.join(REPORT_FORMATS)}")
        if fmt in ("html", "csv", "parquet") and out is None:
            raise UsageError(
                f"--format {fmt} needs --out", fix="e.g. --out report.html, or --out exports/ for csv/parquet"
            )
        cfg = _load_config(config)
        protected = None
        if out is not None:  # checked before the report is built: a wrong --out fails fast, nothing is written
            from costlens.outputs import protected_files
            from costlens.report.render_tables import table_targets

            protected = protected_files(db, config=cfg)
            targets = list(table_targets(out, fmt).values()) if fmt in ("csv", "parquet") else [out]
            protected.check(targets, example=_REPORT_EXAMPLES[fmt])
        written: list[Path] = []
        text = None
        with _StepDisplay("report") as steps:  # gone before anything is printed
            result = api.report(
                db=db,
                config=cfg,
                period=period,
                since=since,
                until=until,
                to=to,
                last=last,
                cost_mode=cost_mode,
                prices=prices,
                refreeze=reprice,
                on_progress=steps.on_progress,
                feature=feature,
                team=team,
                customer=customer,
                plan=plan,
                engine=engine,
                warehouse=warehouse,
            )
            steps.rendering()
            if fmt in ("csv", "parquet"):
                from costlens.report.render_tables import export_tables

                assert out is not None  # csv and parquet need --out (checked above)
                written = export_tables(result, out, fmt, protected=protected)
            elif fmt == "terminal" and out is not None:
                from rich.console import Console

                from costlens.report.render_terminal import render_terminal

                def write(tmp: Path) -> None:
                    with tmp.open("w", encoding="utf-8") as handle:
                        render_terminal(result, Console(file=handle, width=200, highlight=False), wide=wide)

                from costlens.outputs import write_outputs

                write_outputs({out: write})
            elif fmt == "html":
                from costlens.report.render_html import render_html

                text = render_html(result, cfg)
            elif fmt == "md":
                from costlens.report.render_md import render_markdown

                text = render_markdown(result)
            elif fmt == "json":
                from costlens.report.render_json import render_json

                text = render_json(result) + "\n"
            if text is not None and out is not None:
                from costlens.outputs import write_text

                write_text(out, text)
        _say_empty_period(result)
        if fmt in ("csv", "parquet"):
            for path in written:
                _note(f"wrote {path}")
            return
        if fmt == "terminal":
            if out is None:
                from rich.console import Console

                from costlens.report.render_terminal import render_terminal

                render_terminal(result, Console(highlight=False), wide=wide)
            else:
                _note(f"report written to {out}")
            return
        if out is None:
            assert text is not None  # md or json: html, csv and parquet need --out, terminal returned above
            sys.stdout.write(text)
            return
        _note(f"{'HTML report' if fmt == 'html' else 'report'} written to {out}")

    _guard(run)


_REPORT_EXAMPLES = {
    "html": "costlens-report.html",
    "md": "costlens-report.md",
    "json": "costlens-report.json",
    "csv": "exports/",
    "parquet": "exports/",
    "terminal": "costlens-report.txt",
}


FormatOption = Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="terminal or json.")]


def _say_empty_period(result: Any) -> None:
    """Never silently empty: a period without calls says on stderr which months hold data, whatever the format."""
    notice = getattr(result, "empty_period", None)
    if notice:
        print(f"costlens: warning: {notice}", file=sys.stderr)


def _analysis(
    db, config, period, since, until, to, last, fmt, section: str, feature=None, team=None, customer=None, plan=None
) -> None:
    """Shared body of `leaks` and `levers`: the report's analysis, one section of it."""
    from costlens import api
    from costlens.errors import UsageError

    if fmt not in ("terminal", "json"):
        raise UsageError(f"--format {fmt!r} is not supported", fix="use terminal or json")
    with _StepDisplay(section) as steps:
        result = api.report(
            db=db,
            config=_load_config(config),
            period=period,
            since=since,
            until=until,
            to=to,
            last=last,
            on_progress=steps.on_progress,
            feature=feature,
            team=team,
            customer=customer,
            plan=plan,
        )
    _say_empty_period(result)
    if fmt == "json":
        from costlens.exactjson import dumps
        from costlens.report.render_json import report_to_dict

        data = report_to_dict(result)
        payload = {"period": data["period"], "filters": data["filters"], section: data[section]}
        if section == "levers":
            payload.update(lever_summary=data["lever_summary"], diagnosis=data["diagnosis"])
        sys.stdout.write(dumps(payload) + "\n")
        return
    from rich.console import Console

    from costlens.report import render_terminal

    console = Console(highlight=False)
    if result.filters:
        from rich.text import Text

        from costlens.engine import CallFilter

        console.print(Text(f"only the calls of {CallFilter.from_dict(result.filters).describe()}", style="dim"))
    if section == "leaks":
        render_terminal.render_leaks(result, console)
    else:
        render_terminal.render_diagnosis(result, console)
        render_terminal.render_levers(result, console)


def _analysis_command(section: str, summary: str, *examples: str) -> None:
    """Register `leaks` or `levers`: the same options, one section of the report's analysis."""

    def command(
        db: DbOption = None,
        config: ConfigOption = None,
        period: PeriodOption = None,
        since: SinceOption = None,
        to: ToOption = None,
        until: UntilOption = None,
        last: LastOption = None,
        fmt: FormatOption = "terminal",
        feature: FeatureOption = None,
        team: TeamOption = None,
        customer: CustomerOption = None,
        plan: PlanOption = None,
        as_json: JsonOption = False,
        quiet: QuietOption = False,
        no_color: NoColorOption = False,
    ) -> None:
        _guard(
            lambda: _analysis(
                db,
                config,
                period,
                since,
                until,
                to,
                last,
                _format(fmt, as_json),
                section,
                feature,
                team,
                customer,
                plan,
            )
        )

    command.__doc__ = summary
    app.command(section, rich_help_panel=ANALYSE, epilog=_examples(*examples))(command)


_analysis_command(
    "leaks",
    "Where the money leaks: context bloat, premium overuse, retries, cache misses, batchable traffic, …",
    "costlens leaks -p 2026-10",
    "costlens leaks -j | jq '.leaks[0]'",
)
_analysis_command(
    "levers",
    "What to do first: levers ranked by savings per effort, savings never double counted.",
    "costlens levers -p last-month",
    "costlens levers -j > levers.json",
)


@app.command(
    rich_help_panel=ANALYSE,
    epilog=_examples(
        "costlens daily -p 2026-10", "costlens daily --last 7d --feature support-bot", "costlens daily -j > daily.json"
    ),
)
def daily(
    db: DbOption = None,
    config: ConfigOption = None,
    period: PeriodOption = None,
    since: SinceOption = None,
    to: ToOption = None,
    until: UntilOption = None,
    last: LastOption = None,
    feature: FeatureOption = None,
    team: TeamOption = None,
    customer: CustomerOption = None,
    plan: PlanOption = None,
    fmt_option: FormatOption = "terminal",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Spend day by day: calls, tokens and cost per model each day, and the period's total."""

    def run() -> None:
        fmt = _format(fmt_option, as_json)
        from costlens import api
        from costlens.errors import UsageError

        if fmt not in ("terminal", "json"):
            raise UsageError(f"--format {fmt!r} is not supported", fix="use terminal or json")
        result = api.daily(
            db=db,
            config=_load_config(config),
            period=period,
            since=since,
            until=until,
            to=to,
            last=last,
            feature=feature,
            team=team,
            customer=customer,
            plan=plan,
        )
        _say_empty_period(result)
        if fmt == "json":
            from costlens.exactjson import dumps

            sys.stdout.write(dumps(result.to_dict()) + "\n")
            return
        from rich.console import Console

        from costlens.report.render_daily import render_daily

        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=160)  # a pipe or file: keep every column readable
        render_daily(result, console)

    _guard(run)


@app.command(
    rich_help_panel=ANALYSE,
    epilog=_examples(
        'costlens whatif "route feature=support-bot to=claude-haiku-4-5"',
        'costlens whatif "batch feature=doc-extractor; cache feature=support-bot" -p last-month',
        'costlens whatif "prompt feature=support-bot file=prompts/support.txt" -f md >> "$GITHUB_STEP_SUMMARY"',
    ),
)
def whatif(
    change: Annotated[
        str,
        typer.Argument(
            help='e.g. "route feature=support-bot to=claude-haiku-4-5", "batch feature=X", '
            '"cache feature=X", "cap-output feature=X max=500", '
            '"prompt feature=X file=prompts/x.txt"; join several with ";".'
        ),
    ],
    db: DbOption = None,
    config: ConfigOption = None,
    period: PeriodOption = None,
    since: SinceOption = None,
    to: ToOption = None,
    until: UntilOption = None,
    last: LastOption = None,
    fmt_option: Annotated[
        str,
        typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json or md (a pull request's job summary)."),
    ] = "terminal",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Re-price the period's traffic under a change and show before / after and the quality risk."""

    def run() -> None:
        fmt = _format(fmt_option, as_json)
        from costlens import api
        from costlens.errors import UsageError

        if fmt not in ("terminal", "json", "md"):
            raise UsageError(f"--format {fmt!r} is not supported", fix="use one of: terminal, json, md")
        result = api.whatif(
            change, db=db, config=_load_config(config), period=period, since=since, until=until, to=to, last=last
        )
        _say_empty_period(result)
        if fmt == "json":
            from costlens.exactjson import dumps

            sys.stdout.write(dumps(result.to_dict()) + "\n")
            return
        if fmt == "md":  # a pull request's job summary
            from costlens.whatif import render_markdown

            sys.stdout.write(render_markdown(result))
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from costlens.report.render_terminal import num, pct, usd

        console = Console(highlight=False)
        console.print(Text(f"what if: {result.change}  ({result.period_start} → {result.period_end})", style="bold"))
        console.print(
            f"before {usd(result.before_usd)} → after {usd(result.after_usd)}: saves "
            f"{usd(result.savings_usd)} ({pct(None if result.savings_pct is None else result.savings_pct / 100)}), "
            f"≈ {usd(result.est_monthly_savings_usd)}/month; {num(result.calls_affected)} of "
            f"{num(result.calls)} calls affected"
        )
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


CHECK_FORMATS = ("terminal", "json", "md", "github")


@app.command(
    rich_help_panel=FINANCE,
    epilog=_examples(
        "costlens check -p last-month --strict",
        "costlens report -p last-month -j -o report.json && costlens check --report report.json -f github",
        'costlens check --baseline september.json -f md >> "$GITHUB_STEP_SUMMARY"',
    ),
)
def check(
    db: DbOption = None,
    config: ConfigOption = None,
    period: PeriodOption = None,
    since: SinceOption = None,
    to: ToOption = None,
    until: UntilOption = None,
    last: LastOption = None,
    baseline: Annotated[
        str,
        typer.Option(
            "--baseline",
            help="previous (the period before), none, or a JSON report saved by `costlens report --format json --out FILE`.",
        ),
    ] = "previous",
    max_cpao_regression_pct: Annotated[
        float,
        typer.Option(
            "--max-cpao-regression-pct",
            help="Fail when cost per accepted outcome rises more than this % vs the baseline.",
        ),
    ] = 10.0,
    min_priced_coverage_pct: Annotated[
        float, typer.Option("--min-priced-coverage-pct", help="Fail when fewer calls than this % are priced.")
    ] = 95.0,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            "--fail-on-warning",
            help="Turn every WARN into a FAIL (soft budget alerts, forecasts over budget, budgets without calls, no config file, reconciliation outside tolerance).",
        ),
    ] = False,
    min_accepted_outcomes: Annotated[
        int,
        typer.Option(
            "--min-accepted-outcomes",
            help="Per-feature regressions need this many accepted outcomes in both periods (SKIP otherwise).",
        ),
    ] = 10,
    ignore_slo: Annotated[
        bool, typer.Option("--ignore-slo", help="Do not fail on cost SLOs per accepted outcome (a breach is a SKIP).")
    ] = False,
    cost_mode: Annotated[str, typer.Option("--cost-mode", help="computed or reported.")] = "computed",
    fmt_option: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="terminal, json, md (a GitHub job summary) or github (::error:: / ::warning:: annotations).",
        ),
    ] = "terminal",
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="Judge a JSON report saved by `costlens report --format json --out FILE` instead of building the report again.",
        ),
    ] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """The CI gate: every rule PASS / WARN / FAIL / SKIP and a summary line; exit 4 on any FAIL."""

    def run() -> int:
        fmt = _format(fmt_option, as_json)
        from costlens import api
        from costlens.check import CheckThresholds
        from costlens.errors import UsageError

        if fmt not in CHECK_FORMATS:
            raise UsageError(f"--format {fmt!r} is not supported", fix=f"use one of: {', '.join(CHECK_FORMATS)}")
        thresholds = CheckThresholds(
            max_cpao_regression_pct=max_cpao_regression_pct,
            min_priced_coverage_pct=min_priced_coverage_pct,
            min_accepted_outcomes=min_accepted_outcomes,
            strict=strict,
            fail_on_slo=not ignore_slo,
        ).validate()
        result = api.check(
            db=db,
            config=_load_config(config),
            period=period,
            since=since,
            until=until,
            to=to,
            last=last,
            baseline=baseline,
            thresholds=thresholds,
            cost_mode=cost_mode,
            report_file=None if report_file is None else str(report_file),
        )
        _say_empty_period(result)
        if fmt == "json":
            from costlens.exactjson import dumps

            sys.stdout.write(dumps(result.to_dict()) + "\n")
        elif fmt == "md":
            sys.stdout.write(result.render_markdown())
        elif fmt == "github":
            print(result.render_github())
        else:
            print(result.render_text())
        return result.exit_code

    raise typer.Exit(_guard(run))


DIFF_FORMATS = ("terminal", "json", "md")


@app.command(
    rich_help_panel=FINANCE,
    epilog=_examples(
        "costlens diff september.json october.json",
        'costlens diff before.json after.json -f md >> "$GITHUB_STEP_SUMMARY"',
    ),
)
def diff(
    before: Annotated[
        Path,
        typer.Argument(metavar="BEFORE.json", help="A report saved by `costlens report --format json --out FILE`."),
    ],
    after: Annotated[Path, typer.Argument(metavar="AFTER.json", help="A later report saved the same way.")],
    fmt_option: Annotated[
        str,
        typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json or md (a PR comment or job summary)."),
    ] = "terminal",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """What changed between two saved JSON reports, per feature and model, split into volume / efficiency / mix / price."""

    def run() -> None:
        fmt = _format(fmt_option, as_json)
        from costlens import api
        from costlens.errors import UsageError

        if fmt not in DIFF_FORMATS:
            raise UsageError(f"--format {fmt!r} is not supported", fix=f"use one of: {', '.join(DIFF_FORMATS)}")
        result = api.diff(str(before), str(after))
        if fmt == "json":
            from costlens.exactjson import dumps

            sys.stdout.write(dumps(result.to_dict()) + "\n")
        elif fmt == "md":
            from costlens.diff import render_markdown

            sys.stdout.write(render_markdown(result))
        else:
            from rich.console import Console

            from costlens.diff import render_terminal

            render_terminal(result, Console(highlight=False))

    _guard(run, engine=False)  # two saved reports: no database, no DuckDB to load


@app.command(rich_help_panel=LOAD, epilog=_examples("costlens init", "costlens init -o config/costlens.toml --force"))
def init(
    db: DbOption = None,
    config: ConfigOption = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="Config file to write (its folder created).")
    ] = Path("costlens.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Write a commented starter costlens.toml from the features found in the database."""

    def run() -> None:
        from costlens import api
        from costlens.outputs import protected_files

        cfg = _load_config(config) if config else None
        # the starter config may replace ./costlens.toml (--force): that is what init is for; it never replaces
        # the database, a --config it reads, or an ingested file
        protected_files(db, config=cfg, guess_config=False).check([out], example="costlens.toml")
        path = api.init(db=db, out=str(out), force=force, config=cfg)
        _note(f"wrote {path} — edit owners, budgets and SLOs, then run `costlens report`")

    _guard(run)


@app.command(
    rich_help_panel=ANALYSE,
    epilog=_examples(
        "costlens prices",
        "costlens prices claude-sonnet-4-5 --provider anthropic --at 2026-10-15",
        "costlens prices -j",
    ),
)
def prices(
    model: Annotated[str | None, typer.Argument(help="Explain how this model resolves.")] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Provider for MODEL (openai, anthropic, …).")
    ] = None,
    variant: Annotated[str, typer.Option("--variant", help="standard, batch, priority or flex.")] = "standard",
    at: Annotated[str | None, typer.Option("--at", help="Price at this date/time (default: now).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt_option: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="terminal or json.")] = "terminal",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """The price book used for the calls in the database, unpriced models, and how a model resolves."""

    def run() -> None:
        fmt = _format(fmt_option, as_json)
        from costlens import api

        view = api.prices(db=db, config=_load_config(config), model=model, provider=provider, variant=variant, at=at)
        frozen = api.frozen_months(db=db)
        if fmt == "json":
            from costlens.exactjson import dumps

            print(
                dumps(
                    {
                        "keys": view.keys,
                        "unpriced": view.unpriced,
                        "explanation": view.explanation,
                        "frozen_months": frozen,
                    },
                    default=str,
                )
            )
            return
        from rich.console import Console

        from costlens.pricing.render import render_prices

        render_prices(view, frozen, Console(highlight=False))

    _guard(run)


@app.command(
    rich_help_panel=LOAD,
    epilog=_examples(
        "costlens quarantine --run 3",
        "costlens quarantine --only rejected -o rejected.csv",
        "costlens quarantine -j --limit 0",
    ),
)
def quarantine(
    db: DbOption = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many rows (0 = all).")] = 50,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", "--out", "-o", help="Write all matching rows to this file: .csv (formula-safe) or .jsonl."
        ),
    ] = None,
    run_id: Annotated[
        int | None, typer.Option("--run", help="Only rows from this ingest run (see `costlens runs`).")
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Only rows from this file (its path, file name or a glob).")
    ] = None,
    disposition: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="rejected (bad data), skipped (not a model call) or duplicate (another row of a call or bill line already loaded, with which).",
        ),
    ] = None,
    fmt_option: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="terminal or json.")] = "terminal",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Rows that were read but not loaded, with file, row and reason."""

    def run() -> None:
        fmt = _format(fmt_option, as_json)
        if fmt not in ("terminal", "json"):
            from costlens.errors import UsageError

            raise UsageError(
                f"--format {fmt!r} is not supported", fix="use terminal or json (--out FILE.csv to save rows)"
            )
        from costlens import api

        if export:
            from costlens.outputs import protected_files
            from costlens.runs import QUARANTINE_COLUMNS, export_rows

            protected_files(db).check([export], option="--export", example="rejected.csv")
            rows = api.quarantine(db=db, run_id=run_id, file=file, disposition=disposition)
            kind = export_rows(rows, export, QUARANTINE_COLUMNS)
            _note(f"{len(rows)} rows written to {export} ({kind})")
            return
        rows = api.quarantine(
            db=db, run_id=run_id, file=file, disposition=disposition, limit=(limit + 1) if limit else None
        )
        shown = rows[:limit] if limit else rows
        if fmt == "json":
            from costlens.exactjson import dumps

            sys.stdout.write(dumps({"rows": shown, "more": len(rows) > len(shown)}, default=str) + "\n")
            return
        for row in shown:
            print(f"{row['source_file']}:{row['source_row']}: {row['disposition']}: {row['reason']}")
        if not rows:
            print("no quarantined rows")
        elif len(rows) > len(shown):
            _note(f"(first {len(shown)} rows shown: --limit 0 for all, --export FILE.csv to save them)")

    _guard(run)


@app.command(rich_help_panel=LOAD, epilog=_examples("costlens demo", "costlens demo my_logs/ --db try.duckdb"))
def demo(
    sample_dir: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FOLDER]", help="The sample logs folder (default: the sample month installed with costlens)."
        ),
    ] = None,
    db: Annotated[
        str, typer.Option("--db", metavar="FILE", help="Database to (re)create for the demo.")
    ] = "costlens-demo.duckdb",
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Ingest the bundled sample month into a fresh database and print its report."""

    def run() -> None:
        from rich.console import Console

        from costlens import api
        from costlens.config import load_config
        from costlens.errors import UsageError
        from costlens.report.render_terminal import render_terminal

        nonlocal sample_dir
        if sample_dir is None:
            from costlens.sqlfiles import shipped

            sample_dir = shipped("sample_logs")
        if not sample_dir.is_dir():
            raise UsageError(
                f"{sample_dir} is not a folder",
                fix="pass the folder of the logs to demo, or omit it for the sample month",
            )
        from costlens.db import looks_like_duckdb
        from costlens.ingest.sources import expand_paths
        from costlens.outputs import Protected

        config_file = sample_dir / "costlens.toml"
        protected = Protected()  # the demo database is recreated: it must not be one of its own inputs
        protected.add_manifest(str(p) for p in expand_paths([str(sample_dir)]))
        protected.add(config_file, f"the demo config {config_file}")
        protected.check([db, db + ".wal"], option="--db", example="costlens-demo.duckdb")
        if Path(db).is_dir() or not looks_like_duckdb(Path(db)):
            raise UsageError(
                f"--db {db} is not a DuckDB database, and the demo replaces its --db",
                fix="pass a new file name, e.g. --db costlens-demo.duckdb",
            )
        for stale in (Path(db), Path(db + ".wal")):
            stale.unlink(missing_ok=True)
        cfg = load_config(config_file if config_file.is_file() else None)
        result = api.ingest([str(sample_dir)], db=db, config=cfg)
        _print_ingest(result, quiet=False)
        render_terminal(api.report(db=db, config=cfg), Console(highlight=False))
        print(f"\ndatabase: {db} — try `costlens report --db {db} --config {config_file} --format json`")

    _guard(run)


RUN_COLUMNS = (
    "run_id",
    "status",
    "started_at",
    "finished_at",
    "costlens_version",
    "files_seen",
    "files_ingested",
    "files_unchanged",
    "files_failed",
    "rows_read",
    "rows_loaded",
    "rows_duplicate",
    "rows_quarantined",
    "rows_skipped",
    "balanced",
)


@app.command(
    rich_help_panel=LOAD,
    epilog=_examples("costlens runs --limit 5", "costlens runs -j", "costlens runs -f csv > runs.csv"),
)
def runs(
    db: DbOption = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many runs, newest first (0 = all).")] = 0,
    fmt_option: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json or csv.")
    ] = "terminal",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Ingest runs: files seen, ingested, unchanged and failed; rows read = loaded + duplicate + quarantined + skipped."""

    def run() -> None:
        fmt = _format(fmt_option, as_json)
        from costlens import api
        from costlens.errors import UsageError

        if fmt not in ("terminal", "json", "csv"):
            raise UsageError(f"--format {fmt!r} is not supported", fix="use terminal, json or csv")
        found = api.runs(db=db, limit=limit or None)
        if fmt == "json":
            from costlens.exactjson import dumps

            sys.stdout.write(dumps([r.to_dict() for r in found], default=str) + "\n")
            return
        if fmt == "csv":
            import csv

            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(RUN_COLUMNS)
            for r in found:
                data = r.to_dict()
                writer.writerow(["" if data[c] is None else data[c] for c in RUN_COLUMNS])
            return
        from rich.console import Console
        from rich.table import Table

        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=160)  # a pipe or file: keep every column readable
        if not found:
            console.print("no ingest runs yet — run `costlens ingest PATH…`")
            return
        table = Table(
            header_style="bold",
            pad_edge=False,
            title="rows read = loaded + duplicate + quarantined + skipped",
            title_justify="left",
        )
        for name in (
            "Run",
            "Started (UTC)",
            "Finished",
            "Files",
            "Ingested",
            "Unchanged",
            "Failed",
            "Read",
            "Loaded",
            "Dup",
            "Quar",
            "Skip",
        ):
            table.add_column(name, justify="left" if name in ("Started (UTC)", "Finished") else "right", no_wrap=True)
        for r in found:
            finished = r.finished_at.strftime("%H:%M:%S") if r.finished_at else "interrupted"
            table.add_row(
                str(r.run_id),
                r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "?",
                finished,
                *(
                    f"{n:,}"
                    for n in (
                        r.files_seen,
                        r.files_ingested,
                        r.files_unchanged,
                        r.files_failed,
                        r.rows_read,
                        r.rows_loaded,
                        r.rows_duplicate,
                        r.rows_quarantined,
                        r.rows_skipped,
                    )
                ),
            )
        console.print(table)
        for r in found:
            for rep in r.replacements:
                what = "bill lines" if rep["target"] == "billing_lines" else "task outcomes"
                days = f", {rep['first_day']:%Y-%m-%d} to {rep['last_day']:%Y-%m-%d}" if rep["first_day"] else ""
                console.print(
                    f"run {r.run_id}: {Path(rep['source_file']).name} replaced {rep['rows_replaced']:,} "
                    f"{what} of {Path(rep['replaced_file']).name}{days}",
                    soft_wrap=True,
                )
        if any(r.status == "interrupted" for r in found):
            console.print(
                "interrupted: the process stopped mid-run; the files it committed are whole, the others "
                "are ingested whole by the next `costlens ingest`"
            )

    _guard(run)


export_app = typer.Typer(help="Export the period's costs in other tools' formats.", no_args_is_help=True)
app.add_typer(export_app, name="export", rich_help_panel=FINANCE)


@export_app.command(
    "lake",
    epilog=_examples(
        "costlens export lake --warehouse /data/costlens-lake",
        "costlens report --engine spark --warehouse /data/costlens-lake -j",
    ),
)
def export_lake(
    warehouse: Annotated[
        str,
        typer.Option(
            "--warehouse", "-w", metavar="PATH", help="The lake's folder (created; a lake there is replaced)."
        ),
    ],
    db: DbOption = None,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Every table of the database as Parquet under a warehouse folder, calls and bill lines partitioned by month: the lake Spark and DuckDB both report from."""

    def run() -> None:
        from costlens import api

        written = api.export_lake(warehouse, db=db)
        rows = sum(written.tables.values())
        _note(
            f"wrote the lake {written.warehouse} (commit {written.commit}): {len(written.tables)} tables, "
            f"{rows:,} rows; calls in {len(written.months)} month partition(s)"
        )

    _guard(run)


@export_app.command(
    "focus",
    epilog=_examples(
        "costlens export focus -p 2026-10 -o costs.focus.csv",
        "costlens export focus -p 2026-Q4 --with-allocation -o exports/q4.parquet",
    ),
)
def export_focus(
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="File to write: .csv or .parquet (its folder created).")
    ],
    db: DbOption = None,
    config: ConfigOption = None,
    period: PeriodOption = None,
    since: SinceOption = None,
    to: ToOption = None,
    until: UntilOption = None,
    last: LastOption = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", metavar="FORMAT", help="csv or parquet (default: from the --out suffix)."),
    ] = None,
    with_allocation: Annotated[
        bool,
        typer.Option(
            "--with-allocation",
            help="Add the billed spend no feature owns, allocated to features as `reconcile` does (x_AllocationMethod allocated): the file then adds up to the bill, not the report.",
        ),
    ] = False,
    engine: EngineOption = None,
    warehouse: WarehouseOption = None,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """The period's priced spend per feature as a FOCUS 1.2 dataset, for FinOps platforms (it adds up to the report's total)."""

    def run() -> None:
        from costlens import api
        from costlens.outputs import protected_files

        cfg = _load_config(config)
        protected_files(db, config=cfg).check([out], example="costs.focus.csv")
        result = api.export_focus(
            str(out),
            db=db,
            config=cfg,
            period=period,
            since=since,
            until=until,
            to=to,
            last=last,
            fmt=fmt,
            include_allocation=with_allocation,
            engine=engine,
            warehouse=warehouse,
        )
        _say_empty_period(result)
        if result.unpriced_calls:
            print(
                f"costlens: warning: {result.unpriced_calls:,} unpriced calls left out of the FOCUS export "
                "(FOCUS needs a cost on every row) — see `costlens prices`",
                file=sys.stderr,
            )
        if result.allocation_included:
            beside = (
                f", of which ${result.allocated_cost_usd:,.2f} allocated billed spend"
                if result.allocated_cost_usd
                else ""
            )
        elif result.allocated_cost_usd:
            beside = (
                f"; ${result.allocated_cost_usd:,.2f} of billed spend no feature owns is not in the file "
                "(--with-allocation adds it)"
            )
        else:
            beside = ""
        _note(
            f"wrote {result.rows:,} FOCUS {result.focus_version} rows to {result.path} "
            f"(${result.billed_cost_usd:,.2f} billed{beside})"
        )

    _guard(run)


RECONCILE_FORMATS = ("terminal", "json", "md")


@app.command(
    rich_help_panel=FINANCE,
    epilog=_examples("costlens reconcile -p 2026-10", "costlens reconcile -p last-month -j --fail-outside-tolerance"),
)
def reconcile(
    db: DbOption = None,
    config: ConfigOption = None,
    period: PeriodOption = None,
    since: SinceOption = None,
    to: ToOption = None,
    until: UntilOption = None,
    last: LastOption = None,
    fmt_option: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="terminal, json or md.")
    ] = "terminal",
    fail_outside_tolerance: Annotated[
        bool,
        typer.Option(
            "--fail-outside-tolerance",
            help="Exit 4 when spend with no identified cause exceeds the tolerance (reconcile section of costlens.toml).",
        ),
    ] = False,
    engine: EngineOption = None,
    warehouse: WarehouseOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    no_color: NoColorOption = False,
) -> None:
    """Logged calls against the billing exports: coverage, the gap's causes, allocation, billed rates."""

    def run() -> None:
        fmt = _format(fmt_option, as_json)
        from costlens import api
        from costlens.errors import EXIT_THRESHOLD, UsageError

        if fmt not in RECONCILE_FORMATS:
            raise UsageError(f"--format {fmt!r} is not supported", fix=f"use one of: {', '.join(RECONCILE_FORMATS)}")
        result = api.reconcile(
            db=db,
            config=_load_config(config),
            period=period,
            since=since,
            until=until,
            to=to,
            last=last,
            engine=engine,
            warehouse=warehouse,
        )
        _say_empty_period(result)
        from costlens.reconcile import render

        if fmt == "json":
            sys.stdout.write(render.render_json(result) + "\n")
        elif fmt == "md":
            sys.stdout.write(render.render_markdown(result))
        else:
            from rich.console import Console

            render.render_terminal(result, Console(highlight=False))
        if fail_outside_tolerance and result.status == "outside_tolerance":
            print(
                f"costlens: reconciliation outside tolerance: {render.usd(result.unexplained_usd)} unexplained",
                file=sys.stderr,
            )
            raise typer.Exit(EXIT_THRESHOLD)

    _guard(run)


def _exit_now(code: int) -> None:
    """Flush stdio, delete this process's scratch files (costlens.db.scratch_database) and leave without
    interpreter finalization."""
    from costlens.db import remove_scratch_files

    try:
        remove_scratch_files()
    except OSError:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def main() -> None:
    """The console entry point (`costlens`, `python -m costlens`). Every way out is os._exit with the code: a
    Ctrl-C that lands after the command finished (in sys.exit, in interpreter finalization) would otherwise end
    the process by SIGINT (status -2), and CPython kills itself with SIGINT at exit once a KeyboardInterrupt has
    passed through code a C extension ran with PyRun_String (DuckDB's pybind11 does), even when it was handled.
    Nothing is left to clean up by then: connections are closed and outputs written or removed."""
    _install_sigint_handler()  # from the start: typer builds the command line before _CostlensGroup.main runs
    code = EXIT_INTERRUPTED
    try:
        try:
            app()
            code = 0
        except KeyboardInterrupt:  # while typer was still building the command line, or after the command
            code = _report_interrupt()
        except SystemExit as exc:
            if isinstance(exc.code, int) or exc.code is None:
                code = exc.code or 0
            else:  # sys.exit("message"): Python prints it and exits 1
                print(exc.code, file=sys.stderr)
                code = 1
    except KeyboardInterrupt:  # a Ctrl-C while leaving
        code = EXIT_INTERRUPTED
    finally:
        try:  # no Python-level handler can run between here and the exit
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        except (AttributeError, ValueError, OSError):  # pragma: no cover - platforms without it
            pass
    _exit_now(code)


if __name__ == "__main__":
    main()
