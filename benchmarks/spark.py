"""The period engine and the leak detectors on Spark local[2] beside DuckDB, on one generated month.

    python -m benchmarks.spark --calls 1000000 --work /tmp/bench      # writes benchmarks/RESULTS-SPARK.md

Both engines run the same SQL of sql/ (Spark through costlens/dialect.py and costlens/spark_sql.py) from the
same priced calls: DuckDB as `costlens report` runs it (the period metrics, then the eight detectors), Spark
from those priced calls and the settings tables written as Parquet. Each side is timed from its inputs to its
findings; the results must be equal (unit_economics_all row by row, money exact; every finding field by field),
else the run says where they differ. Generation, ingest and pricing happen once, before either clock starts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS-SPARK.md"


def _prepared_duckdb(calls: int, seed: int, work: Path):
    """The generated month, ingested and priced: (connection, config, period)."""
    from benchmarks.generate import main as generate
    from costlens import db
    from costlens.config import load_config
    from costlens.engine import prepare_priced_calls
    from costlens.ingest.runner import ingest_paths
    from costlens.period import PeriodOptions
    from costlens.pricing.freeze import freeze_closed_months
    from costlens.reconcile.calibrate import use_list_prices

    data = work / f"data-s{seed}-n{calls}"
    if not (data / "costlens.toml").exists():
        generate(["--calls", str(calls), "--out", str(data), "--formats", "otel", "--seed", str(seed)])
    config = load_config(data / "costlens.toml")
    database = work / "spark-bench.duckdb"
    database.unlink(missing_ok=True)
    con = db.connect(str(database))
    ingest_paths(con, [str(p) for p in sorted(data.glob("otel*"))], config)
    period = PeriodOptions().resolve(con)
    use_list_prices(con)
    prepare_priced_calls(con, config)
    freeze_closed_months(con, period)
    return con, config, period


def _finding_fields(finding: Any) -> dict[str, Any]:
    import dataclasses

    fields = dataclasses.asdict(finding)
    fields["evidence"] = json.loads(fields["evidence"]) if isinstance(fields["evidence"], str) else fields["evidence"]
    return fields


def _differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two JSON-like values differ, as (path, left, right)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in {**a, **b} for d in _differences(a.get(key), b.get(key), f"{path}.{key}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


def run(calls: int, seed: int, work: Path, session: Any = None) -> dict[str, Any]:
    """Both engines on the month; `session`: a Spark session to use (and leave running), else one of local[2]."""
    from pyspark.sql import SparkSession

    from costlens.engine import PERIOD_STEPS, compute_period_metrics
    from costlens.leaks.detect import run_detectors
    from costlens.model.leaks import KINDS, Finding
    from costlens.spark_sql import SparkSQL, tables_read
    from costlens.sqlfiles import load_sql

    work.mkdir(parents=True, exist_ok=True)
    con, config, period = _prepared_duckdb(calls, seed, work)
    priced = con.execute("SELECT count(*) FROM priced_calls").fetchall()[0][0]

    started = time.perf_counter()
    compute_period_metrics(con, config, period, "computed")
    duckdb_metrics_s = time.perf_counter() - started
    findings = run_detectors(con, config)
    duckdb_s = time.perf_counter() - started

    leak_steps = ["leaks/_prelude.sql", *(f"leaks/{kind}.sql" for kind in KINDS), "leaks/_finding.sql"]
    lake = work / "spark-lake"
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir()
    started = time.perf_counter()
    inputs = [t for t in tables_read([*PERIOD_STEPS, *leak_steps]) if t != "leak_detector"]
    for table in inputs:
        con.execute(f"COPY (SELECT * FROM {table}) TO '{lake / table}.parquet' (FORMAT parquet)")
    export_s = time.perf_counter() - started

    own_session = session is None
    session = session or (
        SparkSession.builder.master("local[2]")
        .appName("costlens-benchmark")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "8g")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    runner = SparkSQL(session)
    started = time.perf_counter()
    for table in inputs:
        runner.register_parquet(table, str(lake / f"{table}.parquet"))
    for step in PERIOD_STEPS:
        runner.run_file(step)
    spark_metrics_s = time.perf_counter() - started
    runner.run_file("leaks/_prelude.sql")
    on_spark: list[dict[str, Any]] = []
    for kind in KINDS:
        runner.run(f"CREATE OR REPLACE TEMP VIEW leak_detector AS {load_sql(f'leaks/{kind}.sql')}", kind)
        rows = runner.rows(load_sql("leaks/_finding.sql"), "sql/leaks/_finding.sql")
        on_spark += [_finding_fields(Finding.from_row(row.asDict())) for row in rows]
    spark_s = time.perf_counter() - started

    differences: list[str] = []
    columns = [r[0] for r in con.execute("DESCRIBE unit_economics_all").fetchall()]
    query = f"SELECT {', '.join(columns)} FROM unit_economics_all ORDER BY dimension, key"
    duck_rows = [tuple(r) for r in con.execute(query).fetchall()]
    spark_rows = [tuple(r) for r in session.sql(query).collect()]
    for duck_row, spark_row in zip(duck_rows, spark_rows):
        for column, a, b in zip(columns, duck_row, spark_row):
            same = abs(a - b) <= 1e-9 * max(abs(a), 1) if isinstance(a, float) and isinstance(b, float) else a == b
            if not same:
                differences.append(f"unit_economics_all {duck_row[:2]} {column}: {a} ≠ {b}")
    if len(duck_rows) != len(spark_rows):
        differences.append(f"unit_economics_all rows: {len(duck_rows)} ≠ {len(spark_rows)}")
    on_duckdb = sorted(
        (_finding_fields(f) for f in findings), key=lambda f: (f["kind"], f["feature"], f["model"] or "")
    )
    on_spark.sort(key=lambda f: (f["kind"], f["feature"], f["model"] or ""))
    if len(on_duckdb) != len(on_spark):
        differences.append(f"findings: {len(on_duckdb)} on DuckDB, {len(on_spark)} on Spark")
    for duck, spark in zip(on_duckdb, on_spark):
        for path, a, b in _differences(duck, spark):
            differences.append(f"{duck['kind']} {duck['feature']} {path}: {a!r} ≠ {b!r}")
    if own_session:
        session.stop()
    con.close()
    return {
        "calls": priced,
        "seed": seed,
        "ue_rows": len(duck_rows),
        "findings": len(findings),
        "duckdb_metrics_s": round(duckdb_metrics_s, 2),
        "duckdb_s": round(duckdb_s, 2),
        "export_s": round(export_s, 2),
        "spark_metrics_s": round(spark_metrics_s, 2),
        "spark_s": round(spark_s, 2),
        "equal": not differences,
        "differences": differences[:20],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
    }


def write_results(result: dict[str, Any], path: Path = RESULTS) -> None:
    ratio = result["spark_s"] / result["duckdb_s"] if result["duckdb_s"] else float("nan")
    lines = [
        "# The period engine and the leak detectors on Spark local[2] beside DuckDB",
        "",
        f"`python -m benchmarks.spark --calls {result['calls']} --seed {result['seed']}` on {result['machine']}.",
        "Both sides run the same SQL of sql/ from the same priced calls; times from the inputs to the findings.",
        "",
        "| | DuckDB | Spark local[2] | Spark ÷ DuckDB |",
        "|---|---:|---:|---:|",
        f"| period metrics (PERIOD_STEPS) | {result['duckdb_metrics_s']} s | {result['spark_metrics_s']} s | "
        f"{result['spark_metrics_s'] / max(result['duckdb_metrics_s'], 1e-9):.1f}× |",
        f"| metrics + eight leak detectors | {result['duckdb_s']} s | {result['spark_s']} s | {ratio:.1f}× |",
        "",
        f"Inputs written as Parquet for Spark: {result['export_s']} s (not in either time). "
        f"{result['ue_rows']} unit-economics rows, {result['findings']} findings.",
        "",
        "**Equal on both engines: "
        + (
            "yes** — unit_economics_all row by row (money exact), every finding field by field."
            if result["equal"]
            else "NO** — " + "; ".join(result["differences"])
        ),
        "",
        "## How the work partitions",
        "",
        "- **Per partition, no shuffle**: reading the Parquet inputs; each call's own columns in",
        "  `period_call_rows` / `period_calls` (period filter, attribution, context tokens) and in `leak_calls`",
        "  (its per-token prices); the joins to the small settings tables (feature config, model tiers, prices,",
        "  thresholds), which Spark broadcasts.",
        "- **One shuffle each**: the GROUP BYs by task (`task_costs`), by feature × model × team × day (the",
        "  unit-economics cells, then a small roll-up), by feature or feature × model in each detector; the",
        "  windows by task and prompt (retries, agent loops, cache misses, bad-input chains); the exact percentiles",
        "  and ordered lists per group (typical sizes, example calls), which collect a group's values in one task.",
        "- **Materialised**: every `TEMP TABLE` of the SQL is a local checkpoint (`costlens/spark_sql.py`), so a",
        "  step plans over the rows of the one before, not over every step before it.",
        "",
        "On one 2-core machine Spark's per-stage overhead dominates (many small stages: eight detectors of a few",
        "GROUP BYs each over a checkpointed month); the engine is for months no single machine holds, where each",
        "shuffle spreads over the cluster's cores.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args.calls, args.seed, args.work)
    write_results(result, args.results)
    print(json.dumps(result, indent=2))
    return 0 if result["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
