"""The DuckDB file is costlens' memory: open it, create or check its schema, set resource limits.

Two costlens processes on one database: DuckDB lets one process write at a time (a file lock). A second
process retries for COSTLENS_LOCK_WAIT seconds (default 5), then fails with exit 5 and a one-line message
naming the process that holds the database. It never opens the file half-way, so nothing is corrupted.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlens import UPGRADE_HINT, __version__
from costlens.errors import ConfigError, DatabaseError
from costlens.sqlfiles import load_sql, sql_files

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = 1
DEFAULT_DB = "costlens.duckdb"
DEFAULT_LOCK_WAIT_S = 5.0
_LOCK_POLL_S = 0.1
# The databases this process opened, newest last: an error raised later (a full disk at commit or close)
# can then name the file it concerns.
_opened: list[str] = []


def one_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The row of a query that always returns exactly one (an aggregate without GROUP BY, a setting, a
    sequence's next value): DuckDB's fetchone() is typed as maybe None for the general case."""
    row = result.fetchone()
    assert row is not None, "a one-row query returned no row"
    return row


def engine_of(con: Any) -> str:
    """The engine a connection runs its SQL on: "duckdb", or "spark" for costlens.spark_sql.SparkConnection,
    which reads and writes like a DuckDB connection. Only a strategy that is one engine's (how an UPDATE is
    sliced, a setting) asks; the SQL is the same."""
    return str(getattr(con, "engine", "duckdb"))


def default_db_path() -> str:
    return os.environ.get("COSTLENS_DB") or DEFAULT_DB


def lock_wait_seconds() -> float:
    text = os.environ.get("COSTLENS_LOCK_WAIT", "").strip()
    if not text:
        return DEFAULT_LOCK_WAIT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value >= 0):  # also rejects nan and inf
        raise ConfigError(
            f"COSTLENS_LOCK_WAIT={text!r} is not a number of seconds", fix="use e.g. 30, or 0 to fail at once"
        )
    return value


def check_environment() -> None:
    """Every COSTLENS_* setting that has a format, checked before anything is opened: ConfigError (exit 2)."""
    lock_wait_seconds()
    memory_limit()
    threads()
    temp_directory(os.environ.get("COSTLENS_DB") or DEFAULT_DB)


def connect(
    path: str | os.PathLike[str] | None = None, *, read_only: bool = False, must_exist: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open (and if needed create) the database; fail with one line if it is locked, corrupt or too new.
    Commands that only read facts pass must_exist, so a mistyped --db is an error, not an empty report."""
    import duckdb

    db_path = str(path or default_db_path())
    check_environment()  # a bad COSTLENS_* value is a usage error, before the file is touched
    if (read_only or must_exist) and db_path != ":memory:" and not Path(db_path).exists():
        raise DatabaseError(f"database {db_path} does not exist", fix="run `costlens ingest PATH…` first, or pass --db")
    if db_path != ":memory:" and Path(db_path).is_dir():
        raise DatabaseError(f"database {db_path} is a folder", fix="pass a file name, e.g. --db costlens.duckdb")
    if db_path != ":memory:" and not looks_like_duckdb(Path(db_path)):
        # DuckDB would open e.g. an existing CSV as an empty in-memory database and lose everything written
        raise DatabaseError(
            f"{db_path} is not a DuckDB database",
            fix="pass the costlens database with --db (or remove that file to start afresh)",
        )
    deadline = time.monotonic() + lock_wait_seconds()
    while True:
        try:
            con = duckdb.connect(db_path, read_only=read_only)
            break
        except duckdb.Error as exc:
            text = _first_line(exc)
            if _is_lock_conflict(text) and time.monotonic() < deadline:
                time.sleep(_LOCK_POLL_S)
                continue
            raise _open_error(db_path, text, read_only=read_only) from None
    _opened[:] = [db_path]
    try:
        _configure(con, db_path)
        if not read_only:
            ensure_schema(con, db_path)
        else:
            check_schema_version(con, db_path)
    except BaseException as exc:
        con.close()
        if isinstance(exc, duckdb.Error):
            raise as_database_error(exc, db_path) or DatabaseError(
                f"database {db_path} cannot be used: {_first_line(exc)}", fix="check --db points at a costlens database"
            ) from None
        raise
    return con


def looks_like_duckdb(path: Path) -> bool:
    """True for a new (absent or empty) file or one with DuckDB's magic bytes after its header checksum."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return True
        with path.open("rb") as handle:
            head = handle.read(12)
    except OSError:
        return True  # let DuckDB report what is wrong with it
    return head[8:12] == b"DUCK"


def _is_lock_conflict(text: str) -> bool:
    lowered = text.lower()
    return "lock" in lowered and ("conflicting" in lowered or "could not set lock" in lowered)


def _open_error(db_path: str, text: str, *, read_only: bool = False) -> DatabaseError:
    lowered = text.lower()
    access = _access_problem(lowered)
    if access:
        exists = Path(db_path).exists()
        how = "for reading" if read_only else "for writing" if exists else "(creating it)"
        return DatabaseError(
            f"cannot open database {db_path} {how}: {access}",
            fix=_access_fix(access, exists=exists, read_only=read_only),
        )
    if _is_lock_conflict(text):
        holder = re.search(r"PID (\d+)", text)
        who = f" (PID {holder.group(1)})" if holder else ""
        return DatabaseError(
            f"database {db_path} is in use by another costlens process{who}; waited {lock_wait_seconds():g} s",
            fix="wait for it to finish, set COSTLENS_LOCK_WAIT=SECONDS to wait longer, or use another --db",
        )
    if "version number" in lowered or "newer version" in lowered or "storage version" in lowered:
        return DatabaseError(
            f"database {db_path} was written by a newer DuckDB than this costlens has ({text})",
            fix=f"{UPGRADE_HINT}, or use another --db",
        )
    if "corrupt" in lowered or "checksum" in lowered:
        return DatabaseError(
            f"database {db_path} is damaged ({text})",
            fix="restore it from a backup, or ingest the input files again into a new --db",
        )
    if "not a valid duckdb database" in lowered or "invalid magic" in lowered or "not a duckdb" in lowered:
        return DatabaseError(
            f"{db_path} is not a DuckDB database",
            fix="pass the costlens database with --db (or remove that file to start afresh)",
        )
    storage = _storage_problem(lowered)
    if storage:
        return DatabaseError(f"cannot write database {db_path}: {storage}", fix=_STORAGE_FIX)
    return DatabaseError(f"cannot open database {db_path}: {text}", fix="check --db points at a costlens database")


_STORAGE_FIX = (
    "free space where the database and COSTLENS_TEMP_DIR live, then run the command again "
    "(a file whose ingest did not finish is ingested whole next time)"
)


def _access_problem(lowered: str) -> str | None:
    """A file-system refusal (not damage): the database, its WAL or its folder cannot be written."""
    if "read-only file system" in lowered or "erofs" in lowered:
        return "it is on a read-only file system"
    if "permission denied" in lowered or "operation not permitted" in lowered or "access is denied" in lowered:
        return "permission denied"
    return None


def _access_fix(problem: str, *, exists: bool = True, read_only: bool = False) -> str:
    if read_only:
        return "ask for read access to the database, or pass another --db"
    if not exists:
        return "pass --db with a path in a folder you may write to"
    if "read-only" in problem:
        return (
            "copy it to a writable disk and pass --db there (`costlens runs` and `costlens quarantine` "
            "read it where it is)"
        )
    return "ask for write access to the database and its folder, or copy it somewhere you may write and pass --db there"


def _storage_problem(lowered: str) -> str | None:
    if "no space left" in lowered or "disk full" in lowered or "enospc" in lowered:
        return "no space left on device"
    if "disk quota exceeded" in lowered:
        return "disk quota exceeded"
    if "could not write" in lowered or "could not fsync" in lowered or "could not truncate" in lowered:
        return "the disk refused a write"
    return None


def as_database_error(exc: BaseException, db_path: str | None = None) -> DatabaseError | None:
    """A DuckDB storage failure (full disk, failed write) as a one-line DatabaseError naming the database,
    or None when `exc` is something else."""
    try:
        import duckdb
    except ImportError:  # pragma: no cover
        return None
    where = db_path or (_opened[-1] if _opened else default_db_path())
    problem = fix = None
    # The storage error may be the context of the error that surfaced (a ROLLBACK failing after a failed
    # COMMIT), and DuckDB puts the cause of a fatal error on a later line: look through both.
    seen, target = 0, f"database {where}"
    link: BaseException | None = exc
    while link is not None and seen < 8 and problem is None:
        if isinstance(link, duckdb.Error):
            lowered = str(link).lower()
            problem = _storage_problem(lowered)
            named = re.search(r'file "([^"]+)"', str(link))
            if problem and named and not named.group(1).startswith(where):
                target = named.group(1)  # a spill file or an export, not the database itself
            if problem is None and named and named.group(1).startswith(os.path.abspath(where)):
                problem = _access_problem(lowered)  # e.g. its WAL cannot be created in a read-only folder
                fix = _access_fix(problem) if problem else None
                if problem and named.group(1).endswith(".wal"):
                    problem += f" on its write-ahead log {Path(named.group(1)).name}"
        elif (
            isinstance(link, OSError)
            and link.errno == 28
            and link.filename is not None
            and str(link.filename).startswith(where)
        ):
            problem = "no space left on device"  # the database or its WAL; an output names itself (OutputError)
        link, seen = link.__cause__ or link.__context__, seen + 1
    if not problem:
        return None
    return DatabaseError(f"cannot write {target}: {problem}", fix=fix or _STORAGE_FIX)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# DuckDB's own memory limit. The process needs a few hundred MB more (Python, Arrow, allocator slack):
# 1.8 GB keeps a 10M-call ingest or report under 2.5 GB resident (benchmarks/RESULTS.md, T5).
DEFAULT_MEMORY_LIMIT = "1.8GB"


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(kb|mb|gb|tb|kib|mib|gib|tib|k|m|g|t)", re.IGNORECASE)
_UNIT_BYTES = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_MIN_MEMORY_BYTES = 64 * 2**20  # below this DuckDB fails at the first join


def memory_limit() -> str:
    """COSTLENS_MEMORY_LIMIT (default 1.8GB), vetted: ConfigError (exit 2) for anything but a size above 0."""
    value = os.environ.get("COSTLENS_MEMORY_LIMIT")
    if value is None or not value.strip():
        return DEFAULT_MEMORY_LIMIT
    return _vetted_size(value)


def threads() -> int | None:
    """COSTLENS_THREADS: DuckDB's worker threads (default: DuckDB's own, one per core). Results never depend on
    it (tests/test_identity.py runs the same loads at 1 and 4 threads); it bounds CPU on shared CI machines."""
    text = os.environ.get("COSTLENS_THREADS", "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 1024:
        raise ConfigError(f"COSTLENS_THREADS={text!r} is not a thread count", fix="use a whole number from 1, e.g. 2")
    return int(text)


def temp_directory(db_path: str) -> str:
    """Where DuckDB spills: COSTLENS_TEMP_DIR, else .costlens_tmp beside the database."""
    chosen = os.environ.get("COSTLENS_TEMP_DIR", "").strip()
    if chosen:
        if Path(chosen).exists() and not Path(chosen).is_dir():
            raise ConfigError(
                f"COSTLENS_TEMP_DIR={chosen!r} is a file, not a folder",
                fix="point it at a folder (it is created when missing), or unset it",
            )
        return chosen
    return str(Path(db_path).parent / ".costlens_tmp") if db_path != ":memory:" else tempfile.gettempdir()


def _configure(con: duckdb.DuckDBPyConnection, db_path: str) -> None:
    # Bounded memory and a spill directory, so large inputs spill to disk instead of failing.
    con.execute(f"SET memory_limit = '{memory_limit()}'")
    con.execute("SET temp_directory = ?", [temp_directory(db_path)])
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # DuckDB prints it to stdout: it would corrupt --format json
    count = threads()
    if count is not None:
        con.execute(f"SET threads = {count}")


def _size_bytes(text: str) -> float | None:
    """Bytes of a memory size as COSTLENS_MEMORY_LIMIT or DuckDB's memory_limit writes it (2GB, 1.6 GiB)."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        return None
    unit = match.group(2).lower()
    return float(match.group(1)) * _UNIT_BYTES[unit if unit.endswith("ib") else unit[0]]


def _vetted_size(value: str) -> str:
    cleaned = value.strip()
    size = _size_bytes(cleaned)
    if size is None:
        raise ConfigError(f"COSTLENS_MEMORY_LIMIT={value!r} is not a memory size", fix="use e.g. 2GB or 512MB")
    if size < _MIN_MEMORY_BYTES:
        raise ConfigError(
            f"COSTLENS_MEMORY_LIMIT={value!r} is too small for costlens", fix="use 64MB or more, e.g. 2GB"
        )
    return cleaned


def ensure_schema(con: duckdb.DuckDBPyConnection, db_path: str = "") -> None:
    # Check first: a newer database must not be touched, not even by CREATE … IF NOT EXISTS.
    check_schema_version(con, db_path)
    for name in sql_files("schema"):
        con.execute(load_sql(name))
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    con.execute("INSERT OR IGNORE INTO meta VALUES ('costlens_version', ?)", [__version__])


def check_schema_version(con: duckdb.DuckDBPyConnection, db_path: str) -> None:
    import duckdb

    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except duckdb.Error:  # no meta table yet: a new database
        return
    text = meta.get("schema_version")
    if text is None:
        return
    try:
        version = int(text)
    except ValueError:
        raise DatabaseError(
            f"database {db_path} has an unreadable schema_version {text!r}",
            fix="use another --db; this file was not written by costlens",
        ) from None
    if version > SCHEMA_VERSION:
        writer = meta.get("costlens_version") or _last_run_version(con) or "a newer version"
        raise DatabaseError(
            f"database {db_path} was created by costlens {writer} (schema {version}); this is costlens "
            f"{__version__} (schema {SCHEMA_VERSION})",
            fix=f"{UPGRADE_HINT}, or use another --db",
        )


def _last_run_version(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = con.execute("SELECT costlens_version FROM ingest_runs ORDER BY run_id DESC LIMIT 1").fetchone()
    except Exception:
        return None
    return row[0] if row else None


# ------------------------------------------------------------------------------------------- scratch

# The period's large tables (period_calls, task_costs, leak_calls: a row per call or task, 10M rows at scale)
# are written to a scratch database in DuckDB's storage format, compressed, rather than as TEMP tables, which
# DuckDB keeps uncompressed and spills whole past memory_limit: at 10M calls the report read its detectors'
# inputs back from spill files (docs/architecture.md, "SQL pipeline"). Each connection (a cursor too: change.py builds
# another period beside the report's) has its own, since an attached database is seen by every connection of
# the process. sql/ names it `{scratch}`; a Spark session calls it SPARK_SCRATCH (costlens.spark_sql).
SPARK_SCRATCH = "costlens_scratch"
_SCRATCH_FILES = re.compile(r"costlens_scratch_(\d+)_[0-9a-f]{12}\.duckdb(?:\.wal)?")


def scratch_database(con: Any) -> str:
    """The name of the database `con` keeps the period's large tables in, attached on first use: a file in the
    spill folder (temp_directory), deleted when the process ends, or in memory when the database is."""
    if engine_of(con) != "duckdb":
        return SPARK_SCRATCH
    import duckdb

    name = one_row(con.execute("SELECT getvariable('costlens_scratch')"))[0]
    attached = {row[0] for row in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    if name in attached:
        return str(name)
    import uuid

    name = f"costlens_scratch_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    in_memory = one_row(
        con.execute(
            "SELECT coalesce(path, '') IN ('', ':memory:') FROM duckdb_databases() "
            "WHERE database_name = current_database()"
        )
    )[0]
    path = ":memory:"
    if not in_memory and not _period_tables_fit_in_memory(con):
        folder = Path(str(one_row(con.execute("SELECT current_setting('temp_directory')"))[0]))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _remove_orphan_scratch(folder)
            path = str(folder / f"{name}.duckdb")
            con.execute(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS {name}")
            _remove_at_exit(path)
        except (OSError, duckdb.Error):  # a read-only or full spill folder: the tables stay in memory
            path = ":memory:"
    if path == ":memory:":
        con.execute(f"ATTACH ':memory:' AS {name}")
    con.execute(f"SET VARIABLE costlens_scratch = '{name}'")
    return name


# Uncompressed, the period's tables take ~1.3 KB per call (1.33 GB at 1M calls, DuckDB 2.0): while that fits
# in memory_limit, the scratch database is in memory, as fast as TEMP tables; past it, a file.
_PERIOD_TABLE_BYTES_PER_CALL = 1400


def _period_tables_fit_in_memory(con: Any) -> bool:
    calls = one_row(
        con.execute(
            "SELECT coalesce(sum(estimated_size), 0) FROM duckdb_tables() "
            "WHERE table_name = 'calls' AND database_name = current_database()"
        )
    )[0]
    limit = _size_bytes(str(one_row(con.execute("SELECT current_setting('memory_limit')"))[0]))
    if limit is None:  # DuckDB's own wording changed: store compressed, never slower at scale
        return False
    return int(calls) * _PERIOD_TABLE_BYTES_PER_CALL <= limit


_scratch_files: list[str] = []


def remove_scratch_files() -> None:
    """Delete the scratch files this process attached (their connections are closed or about to end)."""
    while _scratch_files:
        path = _scratch_files.pop()
        for file in (path, f"{path}.wal"):
            Path(file).unlink(missing_ok=True)


def _remove_at_exit(path: str) -> None:
    import atexit

    if not _scratch_files:
        atexit.register(remove_scratch_files)  # the library's users; the CLI leaves by os._exit and calls it
    _scratch_files.append(path)


def _remove_orphan_scratch(folder: Path) -> None:
    """Scratch files of processes that ended without removing theirs (killed): their process is gone."""
    for entry in folder.iterdir():
        found = _SCRATCH_FILES.fullmatch(entry.name)
        if found is None or int(found.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(found.group(1)), 0)
        except ProcessLookupError:
            entry.unlink(missing_ok=True)
        except OSError:  # another user's process: alive
            continue


def scratch_sql(con: Any, relative: str) -> str:
    """sql/<relative> as `con` runs it: its `{scratch}` placeholder (where it has one) naming the connection's
    scratch database."""
    from costlens.sqlfiles import placeholders, render_sql

    if "scratch" not in placeholders(relative):
        return load_sql(relative)
    return render_sql(relative, scratch=scratch_database(con))
