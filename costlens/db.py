"""The DuckDB file is costlens' memory: open it, create or check its schema, set resource limits."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from costlens.errors import DatabaseError
from costlens.sqlfiles import load_sql, sql_files

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = 1
DEFAULT_DB = "costlens.duckdb"


def default_db_path() -> str:
    return os.environ.get("COSTLENS_DB") or DEFAULT_DB


def connect(path: str | os.PathLike[str] | None = None, *, read_only: bool = False,
            must_exist: bool = False) -> "duckdb.DuckDBPyConnection":
    """Open (and if needed create) the database; fail with one line if it is locked, corrupt or too new.
    Commands that only read facts pass must_exist, so a mistyped --db is an error, not an empty report."""
    import duckdb

    db_path = str(path or default_db_path())
    if (read_only or must_exist) and db_path != ":memory:" and not Path(db_path).exists():
        raise DatabaseError(
            f"database {db_path} does not exist", fix="run `costlens ingest PATH…` first, or pass --db"
        )
    try:
        con = duckdb.connect(db_path, read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise DatabaseError(
                f"database {db_path} is in use by another costlens process",
                fix="wait for it to finish, or use another --db",
            ) from None
        raise DatabaseError(f"cannot open database {db_path}: {text.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot open database {db_path}: {str(exc).splitlines()[0]}") from None
    _configure(con, db_path)
    if not read_only:
        ensure_schema(con, db_path)
    else:
        check_schema_version(con, db_path)
    return con


def _configure(con: "duckdb.DuckDBPyConnection", db_path: str) -> None:
    # Bounded memory and a spill directory, so large inputs spill to disk instead of failing.
    memory = os.environ.get("COSTLENS_MEMORY_LIMIT", "2GB")
    spill = os.environ.get("COSTLENS_TEMP_DIR") or (
        str(Path(db_path).parent / ".costlens_tmp") if db_path != ":memory:" else tempfile.gettempdir()
    )
    con.execute(f"SET memory_limit = '{_vetted_size(memory)}'")
    con.execute("SET temp_directory = ?", [spill])
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET TimeZone = 'UTC'")


def _vetted_size(value: str) -> str:
    cleaned = value.strip()
    if not cleaned.replace(".", "").rstrip("KMGTBkmgtib").isdigit():
        raise DatabaseError(f"COSTLENS_MEMORY_LIMIT={value!r} is not a size", fix="use e.g. 2GB or 512MB")
    return cleaned


def ensure_schema(con: "duckdb.DuckDBPyConnection", db_path: str = "") -> None:
    for name in sql_files("schema"):
        con.execute(load_sql(name))
    check_schema_version(con, db_path)
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def check_schema_version(con: "duckdb.DuckDBPyConnection", db_path: str) -> None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except Exception:
        return
    if row and int(row[0]) > SCHEMA_VERSION:
        raise DatabaseError(
            f"database {db_path} was written by a newer costlens (schema {row[0]}, this one reads {SCHEMA_VERSION})",
            fix="upgrade costlens, or use another --db",
        )
