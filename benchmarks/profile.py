"""The slowest statements of one `costlens ingest` or `costlens report`, with DuckDB's own profile of each.

    python -m benchmarks.profile ingest FILE… --db /tmp/p.duckdb [--top 10] [--out profile.md]
    python -m benchmarks.profile report --db /tmp/p.duckdb [--config costlens.toml] [--period 2026-10]

Every statement the library sends is run with DuckDB's JSON profiling on (the same plans, a little slower),
and the run ends with a Markdown table of the slowest: the statement (a SQL file by what it creates, else its
first words), its wall time, the share of the run, and its three costliest operators as EXPLAIN ANALYZE reports
them (operator, rows out, seconds). It reads what it profiles; it never changes costlens' results.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb


@dataclass
class Statement:
    label: str
    seconds: float = 0.0
    runs: int = 0
    operators: list[tuple[str, int, float]] = field(default_factory=list)  # (name, rows, seconds), costliest first


def statement_label(sql: str) -> str:
    """A SQL file by what it declares it creates (sql/*: `-- creates: …`), else the statement's first words."""
    flat = " ".join(sql.split())
    declared = re.search(r"-- creates: (.+?) --", flat)
    if declared and declared.group(1).strip() != "none":
        return "sql creating " + declared.group(1).strip()[:80]
    described = re.search(r"-- creates: none -- (.+?)(?: --|$)", flat)
    if described:
        return "sql: " + described.group(1)[:80]
    return flat[:100]


def operators(profile: dict) -> list[tuple[str, int, float]]:
    found: list[tuple[str, int, float]] = []

    def walk(node: dict) -> None:
        found.append(
            (
                str(node.get("operator_name") or node.get("name") or "?"),
                int(node.get("operator_cardinality") or node.get("intermediate_rows") or 0),
                float(node.get("operator_timing") or node.get("timing") or 0.0),
            )
        )
        for child in node.get("children", []):
            walk(child)

    for child in profile.get("children", []) or profile.get("operator", []):
        walk(child)
    return sorted(found, key=lambda o: -o[2])


class Profiler:
    def __init__(self) -> None:
        self.statements: dict[str, Statement] = {}
        self.folder = Path(tempfile.mkdtemp(prefix="costlens-profile-"))
        self.count = 0
        self.pending: tuple[str, float, Path] | None = None

    def settle(self) -> None:
        if self.pending is not None:
            self.record(*self.pending)
            self.pending = None

    def record(self, sql: str, seconds: float, profile_path: Path) -> None:
        label = statement_label(sql)
        entry = self.statements.setdefault(label, Statement(label))
        entry.seconds += seconds
        entry.runs += 1
        try:
            ops = operators(json.loads(profile_path.read_text()))
        except (OSError, ValueError):
            ops = []
        if ops and (not entry.operators or ops[0][2] > entry.operators[0][2]):
            entry.operators = ops[:3]
        profile_path.unlink(missing_ok=True)


class ProfiledConnection:
    """Forwards everything to the DuckDB connection; execute runs with JSON profiling into a fresh file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, profiler: Profiler) -> None:
        self._con = con
        self._profiler = profiler

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._con.close()

    def cursor(self) -> ProfiledConnection:
        return ProfiledConnection(self._con.cursor(), self._profiler)

    def execute(self, sql: str, *args, **kwargs):
        profiler = self._profiler
        profiler.settle()  # the previous statement's profile is complete once another statement starts
        profiler.count += 1
        path = profiler.folder / f"{profiler.count}.json"
        # set before the statement, never after it: a statement run after would replace its pending result
        self._con.execute("SET enable_profiling = 'json'")
        self._con.execute(f"SET profiling_output = '{path}'")
        started = time.perf_counter()
        try:
            result = self._con.execute(sql, *args, **kwargs)
        finally:
            profiler.pending = (sql, time.perf_counter() - started, path)
        return ProfiledConnection(result, profiler) if isinstance(result, duckdb.DuckDBPyConnection) else result


def table(profiler: Profiler, total: float, top: int) -> str:
    rows = sorted(profiler.statements.values(), key=lambda s: -s.seconds)[:top]
    lines = [
        "| # | statement | runs | seconds | share | costliest operators (rows, seconds) |",
        "|---|---|---|---|---|---|",
    ]
    for rank, entry in enumerate(rows, 1):
        ops = "; ".join(f"{name} ({rows_out:,}, {sec:.2f} s)" for name, rows_out, sec in entry.operators)
        label = entry.label.replace("|", "\\|")
        lines.append(f"| {rank} | {label} | {entry.runs} | {entry.seconds:.2f} | {entry.seconds / total:.0%} | {ops} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["ingest", "report"])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--db", required=True)
    parser.add_argument("--config", default=None)
    parser.add_argument("--period", default=None)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--out", default=None, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)

    from costlens import api
    from costlens.config import Config, load_config

    config = load_config(Path(args.config)) if args.config else Config()
    profiler = Profiler()
    real_connect = duckdb.connect
    duckdb.connect = lambda *a, **k: ProfiledConnection(real_connect(*a, **k), profiler)  # type: ignore[assignment]
    started = time.perf_counter()
    try:
        if args.command == "ingest":
            api.ingest(args.paths, db=args.db, config=config)
        else:
            api.report(db=args.db, config=config, period=args.period)
    finally:
        duckdb.connect = real_connect
        profiler.settle()
    total = time.perf_counter() - started
    text = (
        f"`costlens {args.command}` {' '.join(args.paths)} — {total:.1f} s with profiling on, "
        f"{profiler.count} statements\n\n{table(profiler, total, args.top)}\n"
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
