"""The lake: costlens' tables as Parquet under a warehouse path, the layout both engines read.

    <warehouse>/_costlens_lake.json                       the manifest: schema version, commit, tables
    <warehouse>/calls/costlens_month=2026-10/*.parquet    calls by the month of ts
    <warehouse>/billing_lines/costlens_month=2026-10/…    bill lines by the month of charge_period_start
    <warehouse>/<table>/part-0.parquet                    every other table (outcomes, price book, manifest of
                                                          files, quarantine, …), whole

A month is a folder, so Spark reads each month as its own partitions and a reader of one month lists only it.
Every column is written with its DuckDB type (money DECIMAL(38, 18), exact); the partition column is derived
and dropped on reading (price_book_frozen has a `month` of its own, hence the prefixed name; a name starting
with `_` would be a hidden path to Spark).

A write never leaves a half-written table for a reader: every table is written whole under
`<warehouse>/_staging-<commit>/`, then each table folder is swapped in by a rename, and the manifest naming the
commit is written last (itself by a rename). Each table folder holds a `_commit` file; a reader checks every
one against the manifest, so a write that stopped between two swaps is refused with the fix, never read as a
mix of two commits.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlens.errors import DatabaseError, UsageError

if TYPE_CHECKING:
    import duckdb

MANIFEST = "_costlens_lake.json"
COMMIT_FILE = "_commit"
PARTITION_COLUMN = "costlens_month"
# the tables partitioned by month, and the timestamp that places a row in its month
MONTH_OF = {"calls": "ts", "billing_lines": "charge_period_start"}
# a row without that timestamp (a bill line with no charge period) is kept in a partition of its own
NO_MONTH = "none"


@dataclass(frozen=True)
class LakeWritten:
    warehouse: str
    commit: str
    tables: dict[str, int]  # rows per table
    months: list[str]  # the month partitions of calls


def _local(warehouse: str) -> Path:
    if "://" in warehouse and not warehouse.startswith("file://"):
        raise UsageError(
            f"--warehouse {warehouse}: the DuckDB engine writes and reads a lake on a local or mounted path",
            fix="mount the bucket (or sync it) and give its path, or use --engine spark, which reads any URI Spark can",
        )
    return Path(warehouse.removeprefix("file://"))


def lake_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The database's own tables (not the temp ones a report makes), in a stable order."""
    return [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database() "
            "ORDER BY table_name"
        ).fetchall()
    ]


def write_lake(con: duckdb.DuckDBPyConnection, warehouse: str) -> LakeWritten:
    """Every table of the database `con` as the lake under `warehouse` (replacing what it held), committed as
    the module docstring says. Bulk work is DuckDB's COPY … PARTITION_BY."""
    from costlens.db import SCHEMA_VERSION

    root = _local(warehouse)
    if root.exists() and not root.is_dir():
        raise UsageError(f"--warehouse {warehouse} is a file", fix="give a folder for the lake")
    if root.is_dir() and not (root / MANIFEST).exists() and any(root.iterdir()):
        # never mix the lake's folders with someone's files (or replace them)
        raise UsageError(
            f"--warehouse {warehouse} holds files and is not a costlens lake", fix="give an empty or new folder"
        )
    root.mkdir(parents=True, exist_ok=True)
    commit = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    staging = root / f"_staging-{commit}"
    staging.mkdir()
    counts: dict[str, int] = {}
    months: list[str] = []
    try:
        for table in lake_tables(con):
            target = staging / table
            counts[table] = int(con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])
            if table in MONTH_OF and counts[table]:
                column = MONTH_OF[table]
                con.execute(
                    f"COPY (SELECT *, coalesce(strftime({column}, '%Y-%m'), '{NO_MONTH}') AS {PARTITION_COLUMN} "
                    f"FROM \"{table}\") TO '{_quoted(target)}' (FORMAT parquet, PARTITION_BY ({PARTITION_COLUMN}))"
                )
                if table == "calls":
                    months = sorted(p.name.split("=", 1)[1] for p in target.glob(f"{PARTITION_COLUMN}=*"))
            else:
                target.mkdir()
                con.execute(f"COPY \"{table}\" TO '{_quoted(target / 'part-0.parquet')}' (FORMAT parquet)")
            (target / COMMIT_FILE).write_text(commit, encoding="utf-8")
        for table in counts:  # the swap: each table folder replaced by a rename
            final, old = root / table, staging / f"_old_{table}"
            if final.exists():
                final.rename(old)
            (staging / table).rename(final)
        manifest = {
            "format": "costlens-lake",
            "schema_version": SCHEMA_VERSION,
            "commit": commit,
            "written_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "partition_column": PARTITION_COLUMN,
            "partitioned_by_month": MONTH_OF,
            "tables": counts,
        }
        pending = root / f"{MANIFEST}.{commit}"
        pending.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(pending, root / MANIFEST)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return LakeWritten(str(root), commit, counts, months)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def read_manifest(warehouse: str, *, local: bool = True) -> dict[str, Any]:
    """The lake's manifest, checked: it exists, is costlens' and every table folder carries its commit."""
    root = _local(warehouse) if local else Path(warehouse)
    path = root / MANIFEST
    if not path.is_file():
        raise UsageError(
            f"--warehouse {warehouse}: no costlens lake there ({MANIFEST} not found)",
            fix="write one with `costlens export lake --warehouse PATH`",
        )
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise DatabaseError(f"{path}: not a readable lake manifest ({error})", fix="write the lake again") from None
    if manifest.get("format") != "costlens-lake":
        raise DatabaseError(f"{path}: not a costlens lake manifest", fix="point --warehouse at a costlens lake")
    for table in manifest.get("tables", {}):
        marker = root / table / COMMIT_FILE
        found = marker.read_text("utf-8").strip() if marker.is_file() else None
        if found != manifest["commit"]:
            raise DatabaseError(
                f"{root / table}: commit {found or 'missing'} is not the lake's {manifest['commit']} "
                "(a write stopped part way)",
                fix="write the lake again with `costlens export lake --warehouse PATH`",
            )
    return manifest


def table_files(warehouse: str, table: str) -> str:
    """The glob of a table's Parquet files (every month partition), for DuckDB's read_parquet."""
    return str(_local(warehouse) / table / "**" / "*.parquet")


def duckdb_from_lake(warehouse: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database holding the lake's tables, with costlens' schema (types as stored): the
    DuckDB engine reporting from a lake another engine (or another machine) wrote."""
    from costlens.db import SCHEMA_VERSION, connect

    manifest = read_manifest(warehouse)
    if str(manifest.get("schema_version")) != str(SCHEMA_VERSION):
        raise DatabaseError(
            f"--warehouse {warehouse}: lake schema {manifest.get('schema_version')}, this costlens reads "
            f"{SCHEMA_VERSION}",
            fix="write the lake again with this version (`costlens export lake`)",
        )
    con = connect(":memory:")
    try:
        for table, rows in manifest["tables"].items():
            if not rows:
                continue  # (an empty table is one file of its columns, read by Spark for the schema)
            files = table_files(warehouse, table).replace("'", "''")
            con.execute(f'DELETE FROM "{table}"')  # a new database's own rows (meta) give way to the lake's
            con.execute(
                f'INSERT INTO "{table}" BY NAME SELECT * EXCLUDE ({PARTITION_COLUMN}) '
                f"FROM read_parquet('{files}', hive_partitioning = true)"
                if table in MONTH_OF
                else f"INSERT INTO \"{table}\" BY NAME SELECT * FROM read_parquet('{files}')"
            )
    except BaseException:
        con.close()
        raise
    return con
