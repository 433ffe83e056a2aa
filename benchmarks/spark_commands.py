"""`costlens report`, `reconcile` and `export focus` on Spark local[2] beside DuckDB, as a user runs them.

    python -m benchmarks.spark_commands --calls 1000000 --work /tmp/bench   # appends to benchmarks/RESULTS-SPARK.md

The generated month is ingested once into a database (DuckDB), written to a lake (`costlens export lake`), and
each command runs twice: DuckDB on the database, Spark reading the lake. Every run is a fresh `costlens`
process, so Spark's figure includes starting its JVM. The outputs must be equal: the report's JSON but for
generated_at, the engine and DOUBLE percentiles within 1e-12 relative (every money figure and count exact);
reconcile's JSON exactly; export focus's CSV byte for byte.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS-SPARK.md"
ENGINE = """
[engine]
master = "local[2]"
spark_conf = { "spark.sql.shuffle.partitions" = "4", "spark.driver.memory" = "6g" }
"""


def _costlens(*args: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COSTLENS_")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "costlens", *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"costlens {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout


def _inexact(duck: Any, spark: Any, path: str = "") -> list[str]:
    if isinstance(duck, dict) and isinstance(spark, dict):
        if duck.keys() != spark.keys():
            raise SystemExit(f"{path}: keys differ")
        return [d for k in duck for d in _inexact(duck[k], spark[k], f"{path}.{k}")]
    if isinstance(duck, list) and isinstance(spark, list):
        if len(duck) != len(spark):
            raise SystemExit(f"{path}: {len(duck)} rows on DuckDB, {len(spark)} on Spark")
        return [d for i, (a, b) in enumerate(zip(duck, spark)) for d in _inexact(a, b, f"{path}[{i}]")]
    if duck == spark:
        return []
    if isinstance(duck, float) and isinstance(spark, float) and math.isclose(duck, spark, rel_tol=1e-12):
        return [path]
    raise SystemExit(f"{path}: DuckDB {duck!r}, Spark {spark!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench"))
    args = parser.parse_args(argv)
    from benchmarks.generate import main as generate

    data = args.work / f"data-s{args.seed}-n{args.calls}"
    if not (data / "costlens.toml").exists():
        generate(["--calls", str(args.calls), "--out", str(data), "--formats", "otel", "--seed", str(args.seed)])
    config = args.work / "spark-commands.toml"
    config.write_text((data / "costlens.toml").read_text("utf-8") + ENGINE, encoding="utf-8")
    db, lake = args.work / "spark-commands.duckdb", args.work / "spark-commands-lake"
    db.unlink(missing_ok=True)
    _costlens("ingest", *[str(p) for p in sorted(data.glob("otel*"))], "--db", str(db), "--config", str(config), "-q")
    _costlens("report", "--db", str(db), "--config", str(config), "-j")  # prices and freezes once, as a user's first
    seconds: dict[str, float] = {}
    seconds["export lake"], _ = _costlens("export", "lake", "-w", str(lake), "--db", str(db))
    on_db = ["--db", str(db), "--config", str(config)]
    on_lake = ["--engine", "spark", "--warehouse", str(lake), "--config", str(config)]
    seconds["report duckdb"], duck_report = _costlens("report", "-j", *on_db)
    seconds["report spark"], spark_report = _costlens("report", "-j", *on_lake)
    duck, spark = json.loads(duck_report), json.loads(spark_report)
    for side in (duck, spark):
        side.pop("generated_at"), side.pop("engine")
    inexact = _inexact(duck, spark)
    seconds["reconcile duckdb"], duck_reconcile = _costlens("reconcile", "-j", *on_db)
    seconds["reconcile spark"], spark_reconcile = _costlens("reconcile", "-j", *on_lake)
    if duck_reconcile != spark_reconcile:
        raise SystemExit("reconcile: the JSON differs")
    focus = {side: args.work / f"focus-{side}.csv" for side in ("duckdb", "spark")}
    for side, options in (("duckdb", on_db), ("spark", on_lake)):
        focus[side].unlink(missing_ok=True)
        seconds[f"export focus {side}"], _ = _costlens("export", "focus", "-o", str(focus[side]), *options)
    if focus["duckdb"].read_bytes() != focus["spark"].read_bytes():
        raise SystemExit("export focus: the CSV differs")
    lines = [
        "",
        f"## The commands, as a user runs them ({args.calls:,} calls)",
        "",
        f"`python -m benchmarks.spark_commands --calls {args.calls}`: each figure is one `costlens` process (Spark's",
        "includes starting its JVM); DuckDB reads the database, Spark the lake `export lake` wrote.",
        "",
        "| command | DuckDB | Spark local[2] |",
        "|---|---:|---:|",
    ]
    for command in ("report", "reconcile", "export focus"):
        lines.append(f"| {command} | {seconds[f'{command} duckdb']:.1f} s | {seconds[f'{command} spark']:.1f} s |")
    lines += [
        f"| export lake (DuckDB) | {seconds['export lake']:.1f} s | |",
        "",
        f"Equal: report JSON ({duck['totals']['calls']:,} calls, ${duck['totals']['cost_usd']}, "
        f"{len(duck['leaks'])} findings, {len(duck['levers'])} levers; {len(inexact)} DOUBLE percentiles differ "
        "in their last bits, nothing else), reconcile JSON byte for byte, export focus CSV byte for byte "
        f"({focus['duckdb'].stat().st_size:,} bytes).",
        "",
    ]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
