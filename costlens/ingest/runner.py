"""Run an ingest: for each file, detect → stage → validate → de-duplicate → insert, in one transaction."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from costlens import __version__
from costlens.errors import CostlensError, InputError
from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.registry import all_adapters, get_adapter
from costlens.ingest.sources import Source, expand_paths, open_source
from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

    from costlens.config import ColumnMapping, Config


@dataclass
class FileResult:
    path: str
    status: str  # ingested | unchanged | failed
    format: str | None = None
    target: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    message: str | None = None


@dataclass
class IngestResult:
    run_id: int
    files: list[FileResult] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]


ProgressHook = Callable[[str, int], None]  # (file name, bytes done) after each file


def ingest_paths(
    con: "duckdb.DuckDBPyConnection",
    patterns: list[str],
    config: "Config",
    *,
    fmt: str | None = None,
    mapping: "ColumnMapping | None" = None,
    keep_content: bool = False,
    on_file_done: ProgressHook | None = None,
) -> IngestResult:
    paths = expand_paths(patterns)
    forced = get_adapter(fmt) if fmt else None
    run_id = _start_run(con)
    result = IngestResult(run_id=run_id)
    for path in paths:
        ctx = IngestContext(
            config=config,
            mapping=mapping or _config_mapping(config, path),
            keep_content=keep_content or config.ingest.keep_content,
        )
        file_result = _ingest_file(con, path, forced, ctx, run_id)
        result.files.append(file_result)
        if on_file_done:
            on_file_done(str(path), path.stat().st_size if path.exists() else 0)
    _finish_run(con, result)
    return result


def _config_mapping(config: "Config", path: Path) -> "ColumnMapping | None":
    for mapping in config.ingest.mappings:
        if mapping.match and fnmatch.fnmatch(path.name, mapping.match):
            return mapping
    return None


def choose_adapter(src: Source, ctx: IngestContext) -> Adapter:
    scored = [(adapter.detect(src, ctx), adapter) for adapter in all_adapters() if src.container in adapter.containers]
    scored = [(score, adapter) for score, adapter in scored if score > 0]
    if not scored:
        hint = "pass --format NAME, or a column mapping (--map / [[ingest.mappings]]) for a generic file"
        raise InputError(src.display, f"format not recognised ({src.container} content)", fix=hint)
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return scored[0][1]


def _ingest_file(
    con: "duckdb.DuckDBPyConnection", path: Path, forced: Adapter | None, ctx: IngestContext, run_id: int
) -> FileResult:
    result = FileResult(path=str(path), status="failed")
    try:
        src = open_source(path)
        seen = con.execute(
            "SELECT source_format FROM ingested_files WHERE source_sha256 = ?", [src.sha256]
        ).fetchone()
        if seen:
            result.status, result.format = "unchanged", seen[0]
            return result
        if src.container == "empty":
            raise InputError(src.display, "is empty", fix="remove it or export it again")
        adapter = (forced or choose_adapter(src, ctx)).for_source(src, ctx)
        result.format, result.target = adapter.name, adapter.target
        _load_atomically(con, adapter, src, ctx, run_id, result)
        result.status, result.target = "ingested", adapter.target  # a per-file adapter may settle it in stage
    except CostlensError as exc:
        result.message = exc.one_line()
    return result


def _load_atomically(
    con: "duckdb.DuckDBPyConnection", adapter: Adapter, src: Source, ctx: IngestContext, run_id: int,
    result: FileResult,
) -> None:
    import duckdb

    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ingest_ctx AS SELECT ? AS source_format, ? AS source_file, "
            "? AS source_sha256, CAST(? AS BIGINT) AS run_id",
            [adapter.name, str(src.path), src.sha256, run_id],
        )
        adapter.stage(con, src, ctx)
        has_content = _fingerprint_staged(con)
        _conform_staged(con, adapter.target)
        for step in (f"load/{adapter.target}_check.sql", "load/quarantine.sql",
                     f"load/{adapter.target}_insert.sql", "load/stats.sql"):
            con.execute(load_sql(step))
        if has_content and ctx.keep_content:
            con.execute("INSERT INTO call_content SELECT * FROM staged_content "
                        "WHERE call_id IN (SELECT call_id FROM staged_new)")
        stats = con.execute(
            "SELECT rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_skipped FROM file_stats"
        ).fetchone()
        (result.rows_read, result.rows_loaded, result.rows_duplicate,
         result.rows_quarantined, result.rows_skipped) = stats
        con.execute(
            "INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [src.sha256, str(src.path), adapter.name, adapter.target, src.size, src.mtime_ns, run_id,
             _now(), *stats],
        )
        con.execute("COMMIT")
    except CostlensError:
        con.execute("ROLLBACK")
        raise
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise InputError(src.display, f"could not be loaded as {adapter.name} ({_first_line(exc)})",
                         fix="check the file matches the format, or force another with --format") from None
    except BaseException:
        con.execute("ROLLBACK")
        raise


_CONTENT_COLUMNS = {"prompt_text", "prefix_text"}


def _staged_columns(con: "duckdb.DuckDBPyConnection") -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'staged' AND database_name = 'temp'").fetchall()}


def _fingerprint_staged(con: "duckdb.DuckDBPyConnection") -> bool:
    """Adapters that see prompt text stage it as `prompt_text` / `prefix_text`. Here it becomes
    prompt_hash / prefix_hash (SHA-256 in SQL) and prefix_tokens (tiktoken, each distinct prefix counted
    once, on both cores); the text itself is dropped unless the user opted in to keeping content."""
    columns = _staged_columns(con)
    if not columns & _CONTENT_COLUMNS:
        return False
    from costlens.fingerprint.tokenizer import count_tokens

    prompt = "prompt_text" if "prompt_text" in columns else "CAST(NULL AS VARCHAR)"
    prefix = "prefix_text" if "prefix_text" in columns else "CAST(NULL AS VARCHAR)"
    texts = [row[0] for row in con.execute(
        f"SELECT DISTINCT {prefix} FROM staged WHERE {prefix} IS NOT NULL AND {prefix} <> ''").fetchall()]
    import pyarrow as pa

    counted = pa.table({"text": pa.array(texts, pa.string()), "tokens": pa.array(count_tokens(texts), pa.int64())})
    con.register("_prefix_counts", counted)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE prefix_counts AS SELECT * FROM _prefix_counts")
    finally:
        con.unregister("_prefix_counts")
    own = {name: name if name in columns else "NULL" for name in ("prompt_hash", "prefix_hash", "prefix_tokens")}
    con.execute(f"CREATE OR REPLACE TEMP TABLE staged_content AS SELECT call_id, {prompt} AS prompt_text, "
                f"{prefix} AS prefix_text FROM staged")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE staged AS
            SELECT s.* EXCLUDE ({', '.join(sorted(columns & (_CONTENT_COLUMNS | set(own))))}),
                   coalesce(CAST({own['prompt_hash']} AS VARCHAR),
                            CASE WHEN {prompt} IS NOT NULL AND {prompt} <> '' THEN sha256(trim({prompt})) END)
                       AS prompt_hash,
                   coalesce(CAST({own['prefix_hash']} AS VARCHAR),
                            CASE WHEN {prefix} IS NOT NULL AND {prefix} <> '' THEN sha256(trim({prefix})) END)
                       AS prefix_hash,
                   coalesce(CAST({own['prefix_tokens']} AS BIGINT), pc.tokens) AS prefix_tokens
            FROM staged s LEFT JOIN prefix_counts pc ON pc.text = {prefix}""")
    return True


# Lineage columns the runner fills in itself; adapters never set them.
_RUNNER_COLUMNS = {"source_format", "source_file", "source_sha256", "run_id", "line_id"}


def _conform_staged(con: "duckdb.DuckDBPyConnection", target: str) -> None:
    """`staged` → `staged_full`: every column of the target table with its type (absent ones NULL), plus
    reject_reason / skip_reason. Built in one CREATE … AS SELECT with casts: a value that cannot take the
    column's type fails the file with a clear message instead of loading wrong. Identifiers come from our
    own schema, never from input."""
    target_columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND database_name <> 'temp' "
        "ORDER BY column_index", [target]).fetchall()
    staged_columns = _staged_columns(con)
    unknown = staged_columns - {name for name, _ in target_columns} - {"reject_reason", "skip_reason"}
    if unknown:
        raise RuntimeError(f"adapter staged unknown column(s) {sorted(unknown)} for {target}")
    select = [
        f"CAST({name if name in staged_columns else 'NULL'} AS {data_type}) AS {name}"
        for name, data_type in target_columns if name not in _RUNNER_COLUMNS
    ]
    for extra in ("reject_reason", "skip_reason"):
        select.append(f"CAST({extra if extra in staged_columns else 'NULL'} AS VARCHAR) AS {extra}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE staged_full AS SELECT {', '.join(select)} FROM staged")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _start_run(con: "duckdb.DuckDBPyConnection") -> int:
    run_id = con.execute("SELECT nextval('ingest_run_seq')").fetchone()[0]
    con.execute(
        "INSERT INTO ingest_runs (run_id, started_at, costlens_version) VALUES (?, ?, ?)",
        [run_id, _now(), __version__],
    )
    return int(run_id)


def _finish_run(con: "duckdb.DuckDBPyConnection", result: IngestResult) -> None:
    con.execute(
        """UPDATE ingest_runs SET finished_at = ?, files_seen = ?, files_ingested = ?, files_skipped = ?,
               rows_read = ?, rows_loaded = ?, rows_duplicate = ?, rows_quarantined = ?, rows_skipped = ?
           WHERE run_id = ?""",
        [_now(), len(result.files), sum(f.status == "ingested" for f in result.files),
         sum(f.status == "unchanged" for f in result.files), result.total("rows_read"),
         result.total("rows_loaded"), result.total("rows_duplicate"), result.total("rows_quarantined"),
         result.total("rows_skipped"), result.run_id],
    )
