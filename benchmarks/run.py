"""Run the whole benchmark suite and write benchmarks/RESULTS.md (every figure next to its limit).

    python -m benchmarks.run --calls 10000000 --work /tmp/bench            # the full suite (~1 h on 2 cores)
    python -m benchmarks.run --calls 20000 --work /tmp/b --quick --results /tmp/b/RESULTS.md   # a smoke run

Generated data is cached under <work>/data-s<seed>-n<calls>/ (and the Claude Code tree under
<work>/claude-<mb>mb/), so a rerun — or a run interrupted and started again — only measures. Databases go to
<work>/run/ and are recreated by every run. See benchmarks/README.md for what each figure measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = REPO / "benchmarks" / "RESULTS.md"
CCUSAGE_VERSION = "20.0.24"
PERIOD = "2026-10"


@dataclass
class Figure:
    id: str
    name: str
    target: str
    costlens_s: float | None = None
    baseline_s: float | None = None
    ratio: float | None = None
    limit: float | None = None  # ratio limit (≤), or the absolute limit for absolute figures
    higher_is_better: bool = False
    status: str = "skipped"  # pass | miss | skipped | error
    note: str = ""

    def judge(self, value: float | None) -> None:
        if value is None or self.limit is None:
            return
        ok = value >= self.limit if self.higher_is_better else value <= self.limit
        self.status = "pass" if ok else "miss"


@dataclass
class Run:
    calls: int
    seed: int
    work: Path
    quick: bool
    figures: list[Figure] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    accounting: dict = field(default_factory=dict)

    def kept(self, figure_id: str) -> Figure | None:
        """A figure measured by an earlier, interrupted run of the same data (--resume), else None."""
        return next((f for f in self.figures if f.id == figure_id and f.status in ("pass", "miss")), None)


# ------------------------------------------------------------------------------------------- processes


def costlens_cmd() -> list[str]:
    """The installed `costlens` script next to this Python if there is one, else `python -m costlens`."""
    script = Path(sys.executable).with_name("costlens")
    return [str(script)] if script.exists() else [sys.executable, "-m", "costlens"]


def child_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("NO_COLOR", "1")
    env["COLUMNS"] = "200"
    env.update(extra or {})
    return env


@dataclass
class Proc:
    seconds: float
    rc: int
    stdout: str
    stderr: str
    max_rss_bytes: int


def run_proc(
    cmd: list[str],
    *,
    env: dict | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    stdout_path: Path | None = None,
) -> Proc:
    """Run a command; wall time and the peak RSS of the child (os.wait4 rusage, this child only)."""
    import tempfile

    out_file = open(stdout_path, "w+b") if stdout_path else tempfile.TemporaryFile()
    with out_file, tempfile.TemporaryFile() as err_file:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, env=env or child_env(), cwd=cwd)
        deadline = started + timeout if timeout else None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline and time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                status = -9
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status) if status != -9 else -9
        out_file.seek(0)
        err_file.seek(0)
        stdout = out_file.read().decode(errors="replace") if not stdout_path else ""
        stderr = err_file.read().decode(errors="replace")
    return Proc(seconds, proc.returncode, stdout, stderr, usage.ru_maxrss * 1024)


def checked(proc: Proc, what: str) -> Proc:
    if proc.rc != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"{what} failed (exit {proc.rc}): {tail}")
    return proc


def python_snippet(code: str, timeout: float | None = None) -> dict:
    """Run Python code in a fresh process; it prints one JSON object as its last stdout line."""
    proc = checked(run_proc([sys.executable, "-c", textwrap.dedent(code)], timeout=timeout), "python snippet")
    return last_json(proc.stdout)


def last_json(stdout: str) -> dict:
    """The last line of `stdout` that is a JSON object (DuckDB may draw a progress bar on the same stream)."""
    for line in reversed(stdout.splitlines()):
        start = line.find("{")
        if start >= 0:
            try:
                return json.loads(line[start:])
            except json.JSONDecodeError:
                continue
    raise RuntimeError(f"no JSON result in: {stdout[-300:]!r}")


def duckdb_settings_sql(db_path: Path) -> str:
    """The settings costlens.db.connect applies (memory limit, spill directory, ordering, time zone)."""
    from costlens.db import memory_limit

    memory = memory_limit()  # the limit costlens itself runs with
    spill = os.environ.get("COSTLENS_TEMP_DIR") or str(db_path.parent / ".costlens_tmp")
    return (
        f"SET memory_limit = '{memory}'; SET temp_directory = '{spill}'; "
        "SET preserve_insertion_order = true; SET TimeZone = 'UTC'; SET enable_progress_bar = false;"
    )


def duckdb_timed(db_path: Path, statements: list[str], repeat: int = 1, fresh: bool = True) -> float:
    """Median seconds of running `statements` in a fresh process on a fresh (or existing) database file
    with costlens's settings; only the statements are timed (not Python start-up or the import)."""
    times = []
    for _ in range(repeat):
        if fresh:
            remove_db(db_path)
        result = python_snippet(f"""
            import duckdb, json, time
            con = duckdb.connect({str(db_path)!r})
            con.execute({duckdb_settings_sql(db_path)!r})
            started = time.perf_counter()
            for statement in {statements!r}:
                con.execute(statement).fetchall()
            seconds = time.perf_counter() - started
            con.close()
            print(json.dumps({{"seconds": seconds}}))
        """)
        times.append(result["seconds"])
    if fresh:
        remove_db(db_path)
    return statistics.median(times)


def remove_db(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        if p.exists():
            p.unlink()


def sql_str(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------- inputs

OTEL_COLUMNS = {
    "trace_id": "VARCHAR",
    "span_id": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "start_time": "TIMESTAMP",
    "end_time": "TIMESTAMP",
    "status": "VARCHAR",
    "attributes": 'STRUCT("gen_ai.operation.name" VARCHAR, "gen_ai.provider.name" VARCHAR, '
    '"gen_ai.request.model" VARCHAR, "gen_ai.response.model" VARCHAR, "gen_ai.response.id" VARCHAR, '
    '"gen_ai.usage.input_tokens" BIGINT, "gen_ai.usage.output_tokens" BIGINT, '
    '"gen_ai.usage.cache_read.input_tokens" BIGINT, "gen_ai.usage.cache_creation.input_tokens" BIGINT, '
    '"gen_ai.request.max_tokens" BIGINT, "error.type" VARCHAR, "http.response.status_code" INTEGER, '
    '"gen_ai.response.finish_reasons" VARCHAR[], "gen_ai.conversation.id" VARCHAR, '
    '"gen_ai.system_instructions" VARCHAR, "gen_ai.input.messages" VARCHAR, '
    '"costlens.feature" VARCHAR, "costlens.task_id" VARCHAR, "costlens.team" VARCHAR, '
    '"costlens.customer" VARCHAR)',
    "resource": 'STRUCT("service.name" VARCHAR, "deployment.environment.name" VARCHAR)',
}
OPENAI_COLUMNS = {
    "timestamp": "TIMESTAMP",
    "latency_ms": "BIGINT",
    "metadata": "STRUCT(feature VARCHAR, task_id VARCHAR, team VARCHAR, customer VARCHAR, environment VARCHAR)",
    "request": "STRUCT(model VARCHAR, max_tokens BIGINT, messages JSON)",
    "response": "STRUCT(id VARCHAR, object VARCHAR, created BIGINT, model VARCHAR, type VARCHAR, "
    "stop_reason VARCHAR, usage STRUCT(prompt_tokens BIGINT, completion_tokens BIGINT, "
    "total_tokens BIGINT, prompt_tokens_details STRUCT(cached_tokens BIGINT), "
    "completion_tokens_details STRUCT(reasoning_tokens BIGINT), input_tokens BIGINT, "
    "output_tokens BIGINT, cache_read_input_tokens BIGINT, cache_creation_input_tokens BIGINT))",
    "error": "STRUCT(type VARCHAR, http_status INTEGER)",
}


def columns_literal(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in columns.items()) + "}"


def ensure_data(run: Run, formats: tuple[str, ...]) -> dict:
    from benchmarks.generate import generate

    out = run.work / f"data-s{run.seed}-n{run.calls}"
    started = time.perf_counter()
    manifest = generate(out, run.calls, run.seed, formats, quiet=True)
    run.facts["generate_seconds"] = round(time.perf_counter() - started, 1)
    run.facts["data_dir"] = str(out)
    return manifest


def file_accounting(db: Path, source_file: str) -> dict:
    return python_snippet(f"""
        import duckdb, json
        con = duckdb.connect({str(db)!r}, read_only=True)
        row = con.execute("SELECT rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_skipped "
                          "FROM ingested_files WHERE source_file = ? ORDER BY run_id DESC LIMIT 1",
                          [{source_file!r}]).fetchone()
        print(json.dumps(dict(zip(["read", "loaded", "duplicate", "quarantined", "skipped"], row or []))))
    """)


def costlens_ingest(run: Run, db: Path, paths: list[str], config: Path | None, timeout: float | None = None) -> Proc:
    cmd = [*costlens_cmd(), "ingest", *paths, "--db", str(db), "-q"]
    if config:
        cmd += ["--config", str(config)]
    return checked(run_proc(cmd, timeout=timeout, cwd=run.work), "costlens ingest " + " ".join(paths))


# --------------------------------------------------------------------------------------------- figures


def fig_t7(run: Run) -> list[Figure]:
    out = []
    for flag in ("--help", "--version"):
        f = Figure(
            f"T7 {flag}", f"`costlens {flag}` wall time (median of {2 if run.quick else 5})", "≤ 0.5 s", limit=0.5
        )
        times = [
            checked(run_proc([*costlens_cmd(), flag]), f"costlens {flag}").seconds for _ in range(2 if run.quick else 5)
        ]
        f.costlens_s = statistics.median(times)
        f.judge(f.costlens_s)
        f.note = "includes Python start-up; " + (
            "entry-point script" if len(costlens_cmd()) == 1 else "`python -m costlens` (no installed script)"
        )
        out.append(f)
    return out


def fig_t6(run: Run) -> list[Figure]:
    texts = 300 if run.quick else 4000
    result = python_snippet(f"""
        import json, random, statistics, time
        from costlens.fingerprint.tokenizer import count_tokens, get_encoding
        enc = get_encoding()
        rng = random.Random(7)
        words = ("the customer asked about invoice totals refund policy shipping delay cite each source keep "
                 "numbers exact answer in the language of the user never reveal internal notes flag uncertainty "
                 "réponse données naïve 数据 🙂 2026-10-01 {{'json': true}} <tag> 12345 0.75 "
                 "SELECT * FROM calls").split()
        distinct = [" ".join(rng.choice(words) for _ in range(rng.randint(40, 1200))) + f" #{{i}}"
                    for i in range({texts})]
        with_repeats = distinct * 3
        rng.shuffle(with_repeats)
        enc.encode_ordinary("warm up")
        single, threaded, repeated = [], [], []
        for _ in range(3):
            t = time.perf_counter(); a = [len(enc.encode_ordinary(x)) for x in distinct]
            single.append(time.perf_counter() - t)
            t = time.perf_counter(); b = count_tokens(distinct, threads=2); threaded.append(time.perf_counter() - t)
            t = time.perf_counter(); c = count_tokens(with_repeats, threads=2); repeated.append(time.perf_counter() - t)
        assert a == b, "threaded counts differ"
        lookup = dict(zip(distinct, a))
        assert c == [lookup[x] for x in with_repeats], "counts with repeats differ"
        print(json.dumps({{"single": statistics.median(single), "threaded": statistics.median(threaded),
                          "repeated": statistics.median(repeated), "texts": len(distinct),
                          "mb": sum(map(len, distinct)) / 1e6, "tokens": sum(a)}}))
    """)
    f = Figure(
        "T6",
        "token counting: single-thread tiktoken `encode_ordinary` loop ÷ costlens `count_tokens` "
        "(2 threads) on the same distinct texts",
        "≥ 1.8 ×",
        limit=1.8,
        higher_is_better=True,
    )
    f.baseline_s, f.costlens_s = result["single"], result["threaded"]
    f.ratio = f.baseline_s / f.costlens_s
    f.judge(f.ratio)
    f.note = (
        f"{result['texts']:,} distinct texts, {result['mb']:.1f} MB, {result['tokens']:,} tokens; the same "
        f"texts each given 3 times took {result['repeated']:.2f} s (each distinct text encoded once)"
    )
    run.facts["tokenizer"] = result
    return [f]


def fig_t1_t2(run: Run, manifest: dict, formats: tuple[str, ...]) -> dict:
    """Appends its figures to run.figures as each format finishes; returns {format: (database, ingest)}."""
    figures, dbs = run.figures, {}
    rundir = run.work / "run"
    specs = [
        ("T1 otel", "otel", "read_json", OTEL_COLUMNS),
        ("T1 openai", "openai", "read_json", OPENAI_COLUMNS),
        ("T2 csv", "csv", "read_csv", None),
        ("T2 parquet", "parquet", "read_parquet", None),
    ]
    config = Path(manifest["config"])
    for fid, fmt, reader, columns in specs:
        if fmt not in manifest["files"] or fmt not in formats:
            continue
        path = manifest["files"][fmt]["path"]
        db = rundir / f"ingest_{fmt}.duckdb"
        kept = run.kept(fid)
        if kept and db.exists():
            # --resume: this ingest was measured by the interrupted run; its database is reused
            proc = Proc(kept.costlens_s or 0.0, 0, "", "", int(run.facts.get("ingest_rss", {}).get(fmt, 0)))
            dbs[fmt] = (db, proc)
        else:
            remove_db(db)
            try:
                proc = costlens_ingest(run, db, [path], config if fmt in ("csv", "parquet") else None)
            except RuntimeError as exc:  # this format's ingest failed: say so, and measure the others
                figures.append(Figure(fid, f"`costlens ingest` of the {fmt} file", "—", status="error", note=str(exc)))
                continue
            run.accounting[fmt] = {**file_accounting(db, path), "generated": manifest["files"][fmt]["rows"]}
            run.facts.setdefault("ingest_rss", {})[fmt] = proc.max_rss_bytes
            dbs[fmt] = (db, proc)
            if reader == "read_json":
                ctas = (
                    f"CREATE TABLE bench AS SELECT * FROM read_json({sql_str(path)}, format = 'newline_delimited', "
                    f"columns = {columns_literal(columns)})"
                )
                limit, target = 1.5, "≤ 1.5 × CTAS read_json(columns=…); ≤ 3 × raw line scan"
            else:
                ctas = f"CREATE TABLE bench AS SELECT * FROM {reader}({sql_str(path)})"
                limit, target = 1.3, f"≤ 1.3 × CTAS {reader}"
            baseline = duckdb_timed(rundir / "baseline.duckdb", [ctas])
            f = Figure(
                fid,
                f"`costlens ingest` of the {fmt} file ({manifest['files'][fmt]['rows']:,} calls, "
                f"{manifest['files'][fmt]['bytes'] / 1e6:,.0f} MB) ÷ DuckDB CTAS {reader} into a fresh "
                "database",
                target,
                costlens_s=proc.seconds,
                baseline_s=baseline,
                limit=limit,
            )
            f.ratio = f.costlens_s / f.baseline_s
            f.judge(f.ratio)
            f.note = f"peak RSS {proc.max_rss_bytes / 1e9:.2f} GB"
            figures.append(f)
        if reader == "read_json" and not run.kept(f"{fid} scan"):
            scan = duckdb_timed(rundir / "scan.duckdb", [f"SELECT count(*) FROM read_ndjson_objects({sql_str(path)})"])
            g = Figure(
                f"{fid} scan",
                "the same ingest ÷ a raw line scan (`read_ndjson_objects` count)",
                "≤ 3 ×",
                costlens_s=proc.seconds,
                baseline_s=scan,
                limit=3.0,
            )
            g.ratio = g.costlens_s / g.baseline_s
            g.judge(g.ratio)
            figures.append(g)
    return dbs


def read_report_json(run: Run, path: Path) -> dict:
    """`costlens report --format json` stdout. Anything before the JSON object (e.g. a DuckDB progress bar
    drawn on stdout during a long query) is noted, since JSON mode promises nothing but the JSON on stdout."""
    text = path.read_text()
    start = text.find("{")
    if start > 0 and text[:start].strip():
        run.facts.setdefault("stdout_noise", []).append(f"{path.name}: {text[:start].strip()[:120]!r}")
    return json.loads(text[start:])


def fig_report(run: Run, manifest: dict, dbs: dict) -> None:
    """T8 (re-ingest unchanged), T3 (pricing), T4 (report), T5 (memory) on the OTel database + outcomes.
    Figures go to run.figures as they are measured, so a later failure keeps the earlier ones."""
    figures = run.figures
    figures[:] = [f for f in figures if f.id not in ("T3", "T4", "T4 abs", "T5 ingest", "T5 report", "T8")]
    fmt = "otel" if "otel" in dbs else next(iter(dbs))
    db, ingest_proc = dbs[fmt]
    config = Path(manifest["config"])
    data_paths = [manifest["files"][fmt]["path"]]
    if "outcomes" in manifest["files"]:
        outcomes = manifest["files"]["outcomes"]["path"]
        costlens_ingest(run, db, [outcomes], config)
        run.accounting["outcomes"] = {
            **file_accounting(db, outcomes),
            "generated": manifest["files"]["outcomes"]["rows"],
        }
        data_paths.append(outcomes)

    # T8: the same inputs again — every file unchanged
    again = costlens_ingest(run, db, data_paths, config)
    f = Figure(
        "T8",
        f"re-running `costlens ingest` on the unchanged inputs ({len(data_paths)} files)",
        "≤ 1 s",
        costlens_s=again.seconds,
        limit=1.0,
    )
    f.judge(f.costlens_s)
    f.note = "wall time of the whole command, Python start-up included"
    figures.append(f)

    # T3: pricing every call vs a bare sum of the token columns
    priced = python_snippet(f"""
        import json, statistics, time
        from costlens import db as database
        from costlens.config import load_config
        from costlens.engine import prepare_priced_calls
        config = load_config({str(config)!r})
        con = database.connect({str(db)!r})
        bare_sql = ("SELECT sum(input_tokens), sum(cache_read_tokens), sum(cache_write_5m_tokens), "
                    "sum(cache_write_1h_tokens), sum(output_tokens), count(*) FROM calls")
        con.execute(bare_sql).fetchall()  # warm the buffer pool for both
        bare, pricing = [], []
        for _ in range(3):
            t = time.perf_counter(); con.execute(bare_sql).fetchall(); bare.append(time.perf_counter() - t)
            t = time.perf_counter()
            prepare_priced_calls(con, config)
            row = con.execute("SELECT sum(cost_usd), count(*) FILTER (WHERE priced), count(*) "
                              "FROM priced_calls").fetchone()
            pricing.append(time.perf_counter() - t)
        print(json.dumps({{"bare": statistics.median(bare), "pricing": statistics.median(pricing),
                          "cost": str(row[0]), "priced": row[1], "calls": row[2]}}))
    """)
    f = Figure(
        "T3",
        "pricing all calls (`prepare_priced_calls` + Σ cost over `priced_calls`) ÷ a bare sum() of the token columns",
        "≤ 2 ×",
        costlens_s=priced["pricing"],
        baseline_s=priced["bare"],
        limit=2.0,
    )
    f.ratio = f.costlens_s / f.baseline_s
    f.judge(f.ratio)
    f.note = (
        f"{priced['priced']:,} of {priced['calls']:,} calls priced, Σ cost ${float(priced['cost']):,.2f}; median of 3"
    )
    run.facts["priced"] = priced
    figures.append(f)

    # T4: the report, vs the same SQL replayed with no costlens around it
    report_json = run.work / "run" / "report.json"
    report = run_proc(
        [*costlens_cmd(), "report", "--db", str(db), "--config", str(config), "--period", PERIOD, "--format", "json"],
        stdout_path=report_json,
    )
    settings = python_snippet(f"""
        import json
        from costlens import db as database
        con = database.connect({str(db)!r}, read_only=True)
        print(json.dumps({{k: con.execute(f"SELECT current_setting('{{k}}')").fetchone()[0]
                          for k in ("memory_limit", "temp_directory", "threads")}}))
    """)

    def memory_figures() -> None:
        for what, proc in (("ingest", ingest_proc), ("report", report)):
            f = Figure(
                f"T5 {what}", f"peak RSS of `costlens {what}` ({fmt} database)", "≤ 2.5 GB", costlens_s=None, limit=2.5
            )
            f.ratio = proc.max_rss_bytes / 1e9
            f.judge(f.ratio)
            f.note = (
                f"GB, not seconds; DuckDB memory_limit {settings['memory_limit']}, spills to "
                f"{settings['temp_directory']}" + ("; the report FAILED" if proc.rc else "")
            )
            figures.append(f)

    if report.rc != 0:
        error = (report.stderr.strip().splitlines() or ["?"])[-1][:400]
        for fid, name in (
            ("T4", "`costlens report --format json` at this N"),
            ("T4 abs", "`costlens report` absolute wall time at this N"),
        ):
            figures.append(
                Figure(
                    fid,
                    name,
                    "≤ 1.5 ×; ≤ 20 s" if fid == "T4" else "≤ 20 s",
                    costlens_s=report.seconds,
                    status="miss",
                    note=f"the report FAILED after {report.seconds:,.0f} s (exit {report.rc}): {error}",
                )
            )
        memory_figures()
        return
    summary = read_report_json(run, report_json)
    run.facts["report"] = {
        "calls": summary["totals"]["calls"],
        "cost_usd": summary["totals"]["cost_usd"],
        "leaks": sorted({(k["kind"], k["feature"]) for k in summary.get("leaks", []) if k.get("severity") != "low"}),
        "levers": [v["lever"] for v in summary.get("levers", [])],
    }
    log = run.work / "run" / "report_sql.pkl"
    checked(
        run_proc(
            [
                sys.executable,
                "-m",
                "benchmarks.sqlcapture",
                "capture",
                "--db",
                str(db),
                "--config",
                str(config),
                "--period",
                PERIOD,
                "--log",
                str(log),
            ],
            cwd=REPO,
        ),
        "capture report SQL",
    )
    replayed = last_json(
        checked(
            run_proc(
                [sys.executable, "-m", "benchmarks.sqlcapture", "replay", "--db", str(db), "--log", str(log)], cwd=REPO
            ),
            "replay report SQL",
        ).stdout
    )
    f = Figure(
        "T4",
        f"`costlens report --format json` wall time ÷ its own SQL replayed in DuckDB "
        f"({replayed['statements']} statements, a bare loop)",
        "≤ 1.5 ×; ≤ 20 s",
        costlens_s=report.seconds,
        baseline_s=replayed["seconds"],
        limit=1.5,
    )
    f.ratio = f.costlens_s / f.baseline_s
    f.judge(f.ratio)
    f.note = f"{summary['totals']['calls']:,} calls in the period; peak RSS {report.max_rss_bytes / 1e9:.2f} GB"
    figures.append(f)
    g = Figure(
        "T4 abs", "`costlens report` absolute wall time at this N", "≤ 20 s", costlens_s=report.seconds, limit=20.0
    )
    g.judge(g.costlens_s)
    if run.calls < 10_000_000:
        g.note = f"the limit is for 10M calls; this run has {run.calls:,}"
    figures.append(g)

    memory_figures()
    fig_incremental(run, manifest, db, config)


def fig_incremental(run: Run, manifest: dict, db: Path, config: Path) -> None:
    """T10: one new day of calls (N / 30, another seed: new trace ids; October 31, the generated month holds
    the first 30 days) ingested into the T4 database, then the month's report again: what a daily or monthly CI
    run pays for a day of new data."""
    from benchmarks.generate import generate

    run.figures[:] = [f for f in run.figures if f.id != "T10"]
    day_calls = max(run.calls // 30, 1)
    day = generate(
        run.work / f"data-s{run.seed + 1}-n{day_calls}-day",
        day_calls,
        run.seed + 1,
        ("otel",),
        quiet=True,
        start="2026-10-31",
        seconds=86400,
    )
    ingest = costlens_ingest(run, db, [day["files"]["otel"]["path"]], config)
    report = checked(
        run_proc(
            [
                *costlens_cmd(),
                "report",
                "--db",
                str(db),
                "--config",
                str(config),
                "--period",
                PERIOD,
                "--format",
                "json",
            ],
            stdout_path=run.work / "run" / "report_after_day.json",
        ),
        "costlens report after one new day",
    )
    f = Figure(
        "T10",
        f"one new day ({day_calls:,} calls) into the {run.calls:,}-call database: "
        "`costlens ingest` + `costlens report`",
        "≤ 10 s",
        costlens_s=ingest.seconds + report.seconds,
        limit=10.0,
    )
    f.judge(f.costlens_s)
    after = read_report_json(run, run.work / "run" / "report_after_day.json")["totals"]
    f.note = (
        f"ingest {ingest.seconds:.1f} s + report {report.seconds:.1f} s; the report then covers "
        f"{after['calls']:,} calls; peak RSS {report.max_rss_bytes / 1e9:.2f} GB"
    )
    run.figures.append(f)


def fig_t11(run: Run, manifest: dict) -> list[Figure]:
    """T11: the per-file fixed cost. The first lines of the OTel and the OpenAI-style JSONL, as one file and cut
    into many small files (a collector's or a logger's rotation), each ingested into a fresh database: the many
    files ÷ the one file, the calls loaded equal."""
    lines_wanted = min(run.calls, 20_000 if run.quick else 100_000)
    files_wanted = min(200 if run.quick else 2_000, max(lines_wanted // 5, 1))
    out = []
    for fmt in ("otel", "openai"):
        folder = run.work / "run" / f"small-files-{fmt}"
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "one").mkdir(parents=True)
        (folder / "many").mkdir()
        with open(manifest["files"][fmt]["path"], encoding="utf-8") as handle:
            lines = [line for _, line in zip(range(lines_wanted), handle, strict=False)]
        (folder / "one" / "calls.jsonl").write_text("".join(lines), encoding="utf-8")
        per_file = -(-len(lines) // files_wanted)
        for number in range(0, len(lines), per_file):
            (folder / "many" / f"part-{number // per_file:05d}.jsonl").write_text(
                "".join(lines[number : number + per_file]), encoding="utf-8"
            )
        files = len(list((folder / "many").iterdir()))
        seconds, loaded = {}, {}
        for kind in ("one", "many"):
            db = folder / f"{kind}.duckdb"
            seconds[kind] = costlens_ingest(run, db, [str(folder / kind)], None).seconds
            import duckdb

            con = duckdb.connect(str(db), read_only=True)
            try:
                loaded[kind] = con.execute("SELECT count(*) FROM calls").fetchone()[0]
            finally:
                con.close()
        f = Figure(
            f"T11 {fmt}",
            f"`costlens ingest` of {len(lines):,} {fmt} lines as {files:,} files of {per_file:,} lines ÷ the same "
            "lines as one file",
            "≤ 1.5 ×",
            costlens_s=seconds["many"],
            baseline_s=seconds["one"],
            limit=1.5,
        )
        f.ratio = seconds["many"] / seconds["one"]
        f.judge(f.ratio)
        if loaded["one"] != loaded["many"]:
            f.status, f.note = "error", f"calls loaded differ: {loaded['one']:,} from one file, {loaded['many']:,}"
        else:
            f.note = f"{loaded['many']:,} calls loaded either way"
        out.append(f)
    return out


def find_ccusage(run: Run, install: bool) -> str | None:
    candidates = [
        os.environ.get("CCUSAGE_BIN"),
        str(run.work / "ccusage" / "node_modules" / ".bin" / "ccusage"),
        "/tmp/ccusage/node_modules/.bin/ccusage",
        shutil.which("ccusage"),
    ]
    for c in candidates:
        if c and Path(c).exists():
            return c
    if install and shutil.which("npm"):
        subprocess.run(
            ["npm", "install", "--prefix", str(run.work / "ccusage"), f"ccusage@{CCUSAGE_VERSION}"],
            check=False,
            capture_output=True,
            timeout=600,
        )
        c = run.work / "ccusage" / "node_modules" / ".bin" / "ccusage"
        if c.exists():
            return str(c)
    return None


def fig_t9(run: Run, mb: float, install: bool, timeout: float) -> list[Figure]:
    from benchmarks.claude_tree import build_tree

    f = Figure(
        "T9",
        f"Claude Code logs (~{mb:,.0f} MB): `costlens ingest` + `costlens report` ÷ `ccusage daily` "
        "wall time, totals within 1 %",
        "≤ 1.5 ×; totals within 1 %",
        limit=1.5,
    )
    ccusage = find_ccusage(run, install)
    if not ccusage:
        f.note = "skipped: ccusage is not installed and npm is unavailable"
        return [f]
    copies = 2 if run.quick else 20  # template copies per session file (smoke runs want a tiny tree)
    tree = build_tree(
        run.work / (f"claude-{mb:g}mb" + ("-quick" if run.quick else "")), mb=mb, copies_per_file=copies, quiet=True
    )
    home = run.work / "cchome"
    home.mkdir(parents=True, exist_ok=True)
    env = child_env({"HOME": str(home), "CLAUDE_CONFIG_DIR": tree["root"], "TZ": "UTC"})
    version = run_proc([ccusage, "--version"], env=env).stdout.strip()
    cc_times, cc_out = [], None
    for _ in range(1 if run.quick else 3):
        p = checked(run_proc([ccusage, "daily", "--offline", "--json", "--timezone", "UTC"], env=env), "ccusage daily")
        cc_times.append(p.seconds)
        cc_out = json.loads(p.stdout)
    db = run.work / "run" / "claude.duckdb"
    remove_db(db)
    ing = run_proc([*costlens_cmd(), "ingest", tree["root"], "--db", str(db), "-q"], timeout=timeout, cwd=run.work)
    if ing.rc != 0:
        f.status = "miss" if ing.rc == -9 else "error"
        f.costlens_s = ing.seconds
        f.baseline_s = statistics.median(cc_times)
        f.note = (
            f"costlens ingest stopped after {timeout:,.0f} s (time limit)"
            if ing.rc == -9
            else f"costlens ingest failed: {ing.stderr.strip().splitlines()[-1:]}"
        )
        return [f]
    rep_json = run.work / "run" / "claude_report.json"
    rep = checked(
        run_proc(
            [*costlens_cmd(), "report", "--db", str(db), "--period", PERIOD, "--format", "json"],
            stdout_path=rep_json,
            cwd=run.work,
        ),
        "costlens report (claude)",
    )
    ours = read_report_json(run, rep_json)
    ours_by_day = {d["day"]: float(d["cost_usd"]) for d in ours.get("by_day", [])}
    theirs_by_day = {d["period"]: float(d["totalCost"]) for d in cc_out.get("daily", [])}
    ours_total, theirs_total = sum(ours_by_day.values()), float(cc_out["totals"]["totalCost"])
    worst_day = max(
        (abs(ours_by_day.get(day, 0.0) - cost) / cost for day, cost in theirs_by_day.items() if cost), default=0.0
    )
    total_diff = abs(ours_total - theirs_total) / theirs_total if theirs_total else 0.0
    f.costlens_s = ing.seconds + rep.seconds
    f.baseline_s = statistics.median(cc_times)
    f.ratio = f.costlens_s / f.baseline_s
    f.judge(f.ratio)
    if total_diff > 0.01 or worst_day > 0.01:
        f.status = "miss"
    f.note = (
        f"ingest {ing.seconds:.1f} s + report {rep.seconds:.1f} s; ccusage {version} median of {len(cc_times)}; "
        f"{tree['files']:,} files, {tree['bytes'] / 1e6:,.0f} MB; totals ${ours_total:,.2f} vs "
        f"${theirs_total:,.2f} ({total_diff:.4%}), worst day {worst_day:.4%}, days {len(ours_by_day)} vs "
        f"{len(theirs_by_day)}; daily totals from the report's by_day (UTC days), ccusage --timezone UTC"
    )
    run.facts["t9"] = {
        "ccusage": version,
        "ours_total": ours_total,
        "theirs_total": theirs_total,
        "total_diff": total_diff,
        "worst_day_diff": worst_day,
        "tree": tree,
        "ingest_seconds": ing.seconds,
        "report_seconds": rep.seconds,
        "ccusage_seconds": cc_times,
        "ingest_max_rss_gb": ing.max_rss_bytes / 1e9,
    }
    return [f]


# ---------------------------------------------------------------------------------------------- report


def machine_facts() -> dict:
    import duckdb

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError):
        mem_gb = 0.0
    versions = {"python": platform.python_version(), "duckdb": duckdb.__version__}
    for module in ("tiktoken", "pyarrow", "genai_prices"):
        try:
            versions[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 — informational only
            versions[module] = "?"
    sys.path.insert(0, str(REPO))
    from costlens import __version__

    versions["costlens"] = __version__
    node = shutil.which("node")
    if node:
        versions["node"] = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "os": platform.platform(),
        "versions": versions,
    }


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.3f} s" if value < 10 else f"{value:,.1f} s"


def figure_order(figure: Figure) -> int:
    digits = figure.id[1:].split(" ", 1)[0]
    return int(digits) if figure.id.startswith("T") and digits.isdigit() else 99


def render(run: Run, started: datetime, seconds: float) -> str:
    run.figures.sort(key=figure_order)  # by figure number; stable, so a figure's rows keep their order
    mark = {"pass": "pass", "miss": "**miss**", "skipped": "skipped", "error": "**error**"}
    lines = [
        "# costlens benchmark results",
        "",
        f"Written by `python -m benchmarks.run --calls {run.calls} --seed {run.seed}{' --quick' if run.quick else ''}` "
        f"on {started:%Y-%m-%d %H:%M} UTC; the whole run took {seconds / 60:,.1f} min. "
        + (
            "Every figure below was measured in this run and the interrupted run it resumed (see Run). "
            if run.facts.get("resumed_from")
            else "Every figure below was measured in this one run. "
        )
        + "Ratios are the targets; times are for information.",
        "",
        "| # | figure | costlens | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in run.figures:
        if f.id.startswith("T5"):
            value = f"{f.ratio:.2f} GB" if f.ratio is not None else "—"
            lines.append(f"| {f.id} | {f.name} | {value} | — | — | {f.target} | {mark[f.status]} |")
            continue
        ratio = "—" if f.ratio is None else f"{f.ratio:.2f} ×"
        lines.append(
            f"| {f.id} | {f.name} | {fmt_s(f.costlens_s)} | {fmt_s(f.baseline_s)} | {ratio} | "
            f"{f.target} | {mark[f.status]} |"
        )
    lines += ["", "Notes per figure:", ""]
    lines += [f"- **{f.id}**: {f.note}" for f in run.figures if f.note]
    m = run.facts.get("machine", {})
    lines += [
        "",
        "## Run",
        "",
        f"- machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB RAM, {m.get('os')}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items()),
        f"- load average (1/5/15 min) at start {run.facts.get('load_start')}, at end {run.facts.get('load_end')} "
        "(other processes share the cores; a load well above the core count inflates every time)",
        f"- calls per format: {run.calls:,} (seed {run.seed}); data in {run.facts.get('data_dir')} "
        f"(generated or reused in {run.facts.get('generate_seconds')} s)",
    ]
    for fmt, info in run.facts.get("files", {}).items():
        lines.append(f"  - {fmt}: {info['rows']:,} rows, {info['bytes'] / 1e6:,.1f} MB")
    if run.accounting:
        lines += ["- every generated row accounted for (rows read = loaded + duplicate + quarantined + skipped):"]
        for fmt, a in run.accounting.items():
            ok = (
                a.get("read")
                == a.get("generated")
                == (a.get("loaded", 0) + a.get("duplicate", 0) + a.get("quarantined", 0) + a.get("skipped", 0))
            )
            lines.append(
                f"  - {fmt}: generated {a.get('generated'):,}, read {a.get('read'):,} = loaded "
                f"{a.get('loaded'):,} + duplicate {a.get('duplicate'):,} + quarantined "
                f"{a.get('quarantined'):,} + skipped {a.get('skipped'):,} — {'ok' if ok else 'MISMATCH'}"
            )
    rep = run.facts.get("report")
    if rep:
        lines.append(
            f"- report: {rep['calls']:,} calls, ${rep['cost_usd']:,.2f}; leaks above low severity: "
            + ", ".join(f"{k} ({feat})" for k, feat in rep["leaks"])
        )
    if run.facts.get("resumed_from"):
        lines.append(
            f"- resumed (`--resume`): figures already measured by the interrupted run started "
            f"{run.facts['resumed_from']} were kept; the rest were measured by this run"
        )
    for noise in run.facts.get("stdout_noise", []):
        lines.append(f"- stray output before the JSON on `costlens report` stdout: {noise}")
    lines += ["", "How each figure is measured: benchmarks/README.md.", ""]
    return "\n".join(lines)


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def run_suite(
    calls: int,
    work: str | Path,
    seed: int = 7,
    quick: bool = False,
    results: str | Path | None = None,
    only: set[str] | None = None,
    claude_mb: float = 1000,
    install_ccusage: bool = True,
    t9_timeout: float = 3600,
    resume: bool = False,
) -> Run:
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    run = Run(calls=calls, seed=seed, work=Path(work).resolve(), quick=quick)
    (run.work / "run").mkdir(parents=True, exist_ok=True)
    run.facts["load_start"] = load_average()
    run.facts["machine"] = machine_facts()
    previous_path = run.work / "results.json"
    if resume and previous_path.exists():
        previous = json.loads(previous_path.read_text())
        facts = previous.get("facts", {})
        if (facts.get("calls"), facts.get("seed"), facts.get("quick")) == (calls, seed, quick):
            run.figures = [Figure(**f) for f in previous.get("figures", []) if f["status"] in ("pass", "miss")]
            run.accounting = previous.get("accounting", {})
            for key in ("tokenizer", "priced", "report", "t9", "ingest_rss", "resumed_from"):
                if key in facts:
                    run.facts[key] = facts[key]
            run.facts.setdefault("resumed_from", facts.get("started_at"))
    run.facts.update(calls=calls, seed=seed, quick=quick)
    run.facts.setdefault("started_at", f"{started_at:%Y-%m-%d %H:%M} UTC")

    def wanted(prefix: str) -> bool:
        return only is None or prefix == "data" or prefix in only

    results_path = Path(results) if results else DEFAULT_RESULTS
    results_path.parent.mkdir(parents=True, exist_ok=True)

    def write_results(final: bool) -> str:
        run.facts["load_end"] = load_average()
        text = render(run, started_at, time.perf_counter() - started)
        if not final:
            text = text.replace("# costlens benchmark results", "# costlens benchmark results (run in progress)", 1)
        results_path.write_text(text)
        (run.work / "results.json").write_text(
            json.dumps(
                {"figures": [asdict(f) for f in run.figures], "facts": run.facts, "accounting": run.accounting},
                indent=2,
                default=str,
            )
        )
        return text

    def step(prefix: str, name: str, fn, *args):
        if not wanted(prefix):
            return None
        print(f"[{datetime.now(UTC):%H:%M:%S}] {name}", file=sys.stderr, flush=True)
        try:
            result = fn(*args)
            if isinstance(result, list):
                run.figures.extend(result)
            return result
        except Exception as exc:  # noqa: BLE001 — one broken figure must not lose the others
            run.figures.append(Figure(prefix, name, "—", status="error", note=f"{type(exc).__name__}: {exc}"))
            return None
        finally:
            write_results(final=False)  # partial results survive an interrupted run

    manifest = step("data", "generate / reuse data", ensure_data, run, ("otel", "openai", "csv", "parquet", "outcomes"))
    if manifest:
        run.facts["files"] = {k: {"rows": v["rows"], "bytes": v["bytes"]} for k, v in manifest["files"].items()}
    if not run.kept("T7 --help"):
        step("T7", "T7 --help / --version", fig_t7, run)
    if not run.kept("T6"):
        step("T6", "T6 tokenizer", fig_t6, run)
    if manifest:
        # the OTel database first: the report figures build on it, then the other formats
        dbs = step("T1", "T1 ingest of the OTel JSONL vs DuckDB", fig_t1_t2, run, manifest, ("otel",)) or {}
        if dbs and not run.kept("T4"):
            step("T4", "T8/T3/T4/T5 re-ingest, pricing, report, memory", fig_report, run, manifest, dbs)
        step(
            "T1", "T1/T2 ingest of the other formats vs DuckDB", fig_t1_t2, run, manifest, ("openai", "csv", "parquet")
        )
    if manifest and not run.kept("T11 otel"):
        step("T11", "T11 many small files vs one file", fig_t11, run, manifest)
    if not run.kept("T9"):
        step("T9", "T9 ccusage comparison", fig_t9, run, claude_mb, install_ccusage, t9_timeout)
    print(write_results(final=True))
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--work", default="/tmp/bench", help="work directory outside the repository (data cache)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", default=None, help=f"where to write the Markdown (default {DEFAULT_RESULTS})")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and texts (smoke runs)")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated figure groups to run: T1,T3,T4,T6,T7,T9,T11 "
        "(T1 covers T1/T2; T4 covers T3/T4/T5/T8) — for debugging; RESULTS then lacks the rest",
    )
    parser.add_argument("--claude-mb", type=float, default=1000, help="size of the Claude Code tree for T9")
    parser.add_argument("--no-install-ccusage", action="store_true", help="do not npm-install ccusage if missing")
    parser.add_argument("--t9-timeout", type=float, default=3600, help="seconds before T9's costlens ingest is stopped")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the figures an interrupted run of the same "
        "data already measured (from <work>/results.json) and measure only the rest",
    )
    args = parser.parse_args(argv)
    only = {x.strip() for x in args.only.split(",")} if args.only else None
    if only and "T4" in only:
        only.add("T1")  # the report figures need the ingested database
    run_suite(
        args.calls,
        args.work,
        args.seed,
        args.quick,
        args.results,
        only,
        args.claude_mb,
        not args.no_install_ccusage,
        args.t9_timeout,
        args.resume,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
