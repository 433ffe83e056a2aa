"""Run an ingest: for each file, detect → stage → validate → de-duplicate → insert, in one transaction."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from costlens import __version__
from costlens.db import as_database_error, one_row
from costlens.errors import CostlensError, DatabaseError, InputError
from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.readers import FastReadFailed, starts_with_bom
from costlens.ingest.registry import all_adapters, get_adapter
from costlens.ingest.sources import Source, expand_paths, open_source
from costlens.progress import FileProgress, ProgressCallback, ProgressEvent, QueryPoller, Track
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
    warning: str | None = None  # ingested, but something the user should know (a file that yields no calls)
    replaced_rows: int | None = None  # --replace: the rows an earlier load of this delivery had put in its table


@dataclass
class IngestResult:
    run_id: int
    files: list[FileResult] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]


ProgressHook = Callable[[str, int], None]  # (file name, its size) after each file


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    patterns: list[str],
    config: Config,
    *,
    fmt: str | None = None,
    mapping: ColumnMapping | None = None,
    keep_content: bool = False,
    on_file_done: ProgressHook | None = None,
    replace: bool = False,
    on_progress: ProgressCallback | None = None,
) -> IngestResult:
    """Ingest the files `patterns` name; with `replace`, files already ingested are loaded again (their earlier
    rows forgotten in the same transaction), so a fixed mapping or config takes effect. `on_file_done` hears
    each file when it is done; `on_progress` hears where the run is inside the file it loads, in bytes of that
    file (costlens.progress)."""
    paths = expand_paths(patterns)
    forced = get_adapter(fmt) if fmt else None
    run_id = _start_run(con)
    result = IngestResult(run_id=run_id)
    batch = _Batch()
    manifest = _Manifest.read(con)
    progress = FileProgress(on_progress) if on_progress else None

    def done(file_result: FileResult) -> None:
        result.files.append(file_result)
        manifest.add(file_result)
        if on_file_done or progress:
            path = Path(file_result.path)
            size = path.stat().st_size if path.exists() else 0
            if progress:
                progress.finish(file_result.path, size)
            if on_file_done:
                on_file_done(file_result.path, size)

    def flush() -> None:
        loaded = iter(_load_batch(con, batch.files, run_id))
        for item in batch.items:  # results stay in path order
            done(next(loaded) if isinstance(item, _Pending) else item)
        batch.clear()

    with QueryPoller(con, progress.query) if progress else nullcontext():
        for path in paths:
            ctx = IngestContext(
                config=config,
                mapping=mapping or _config_mapping(config, path),
                keep_content=keep_content or config.ingest.keep_content,
            )
            track = progress.begin(str(path), _size(path)) if progress else None
            prepared = _prepare_file(path, forced, ctx, manifest, batch.hashes, progress, track, replace=replace)
            if not isinstance(prepared, _Pending) and batch.items:
                batch.add(prepared)  # nothing to load (unchanged, or failed before loading): the batch goes on
                continue
            if isinstance(prepared, _Pending) and prepared.batchable:
                if progress:
                    progress.current = None  # loaded later, with its batch: DuckDB's progress is the batch's
                if batch.files and batch.files[0].batch_key != prepared.batch_key:
                    flush()  # a batch is one staging, one compression and one mapping, loaded in path order
                batch.add(prepared)
                if len(batch.files) >= BATCH_MAX_FILES or batch.bytes >= BATCH_MAX_BYTES:
                    flush()
                continue
            flush()  # files load in path order
            done(_load_one(con, prepared, run_id) if isinstance(prepared, _Pending) else prepared)
        flush()
    _finish_run(con, result)
    if any(f.status == "ingested" for f in result.files):  # price once: the calls loaded get their cost now
        from costlens.pricing.stored import price_calls

        if on_progress:
            on_progress(ProgressEvent("price book", "pricing", 0, 0))
        price_calls(con, config.prices or None, config.models.aliases, rebuild="always")
    return result


# Many small files of one batch-capable format (Claude Code session logs: a tree of thousands) are loaded
# together, one transaction and one statement per step for the whole batch: the fixed cost of a file
# (planning a dozen statements) would otherwise be most of the run. A batch that fails is loaded again
# file by file, so each file still succeeds or fails on its own, with its own message.
BATCH_MAX_FILES = 2000
BATCH_MAX_BYTES = 256 * 1024 * 1024
BATCH_MAX_FILE_BYTES = 32 * 1024 * 1024


def _config_beside(path: Path, config: Config) -> str | None:
    """A costlens.toml next to an unrecognised file (or in its parent folder) that is not the one in use: the
    likely fix is to pass it — say so, and whether one of its mappings matches this file."""
    from costlens.config import load_config

    in_use = Path(config.path).resolve() if config.path else None
    for folder in (path.parent, path.parent.parent):
        found = folder / "costlens.toml"
        if not found.is_file() or found.resolve() == in_use:
            continue
        try:
            mapping = _config_mapping(load_config(found), path)
        except CostlensError:
            mapping = None
        why = f"its mapping {mapping.name!r} matches this file" if mapping else "it may map this file"
        return f"pass --config {found} ({why}), or --format NAME / --map for a generic file"
    return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # open_source says why, in one line


@dataclass
class _Batch:
    """Files waiting to load together, and the results of files between them that need no load (kept in path
    order); the files' hashes and bytes are kept as they are added (a batch holds up to BATCH_MAX_FILES)."""

    items: list[_Pending | FileResult] = field(default_factory=list)
    files: list[_Pending] = field(default_factory=list)
    hashes: set[str] = field(default_factory=set)
    bytes: int = 0

    def add(self, item: _Pending | FileResult) -> None:
        self.items.append(item)
        if isinstance(item, _Pending):
            self.files.append(item)
            self.hashes.add(item.src.sha256)
            self.bytes += item.src.size

    def clear(self) -> None:
        self.items, self.files, self.hashes, self.bytes = [], [], set(), 0


@dataclass
class _Pending:
    """A file ready to load: sniffed, hashed, not in the manifest, its adapter chosen."""

    src: Source
    adapter: Adapter
    ctx: IngestContext
    result: FileResult
    replace: bool = False  # an earlier load of this delivery is forgotten in the transaction that loads it
    # in-file progress (a file loaded on its own; a batch's files only report when done)
    progress: FileProgress | None = None
    track: Track | None = None

    def step(self, name: str) -> None:
        if self.progress is not None:
            self.progress.step(self.track, name)

    @cached_property
    def batch_key(self) -> tuple[str, str, str, str]:
        """Files of one batch share it: one staging (format family, kind of file), one compression, and one
        mapping (its `--set` / config constants fill the whole batch's empty fields)."""
        mapping = self.ctx.mapping.model_dump_json() if self.ctx.mapping is not None else ""
        family = self.adapter.batch_family or self.adapter.name
        return (family, self.adapter.batch_key(self.src), self.src.compression, mapping)

    @property
    def batchable(self) -> bool:
        return (
            self.adapter.batch_files
            and self.src.container == "jsonl"
            and not self.ctx.keep_content
            and self.src.size <= BATCH_MAX_FILE_BYTES
            and not starts_with_bom(self.src)  # its first line needs the single-file reader's repair
        )


def _config_mapping(config: Config, path: Path) -> ColumnMapping | None:
    for mapping in config.ingest.mappings:
        if mapping.match and fnmatch.fnmatch(path.name, mapping.match):
            return mapping
    return None


def choose_adapter(src: Source, ctx: IngestContext) -> Adapter:
    scored = [(adapter.detect(src, ctx), adapter) for adapter in all_adapters() if src.container in adapter.containers]
    scored = [(score, adapter) for score, adapter in scored if score > 0]
    if not scored:
        hint = (
            _config_beside(src.path, ctx.config)
            or "pass --format NAME, or a column mapping (--map / [[ingest.mappings]]) for a generic file"
        )
        raise InputError(src.display, f"format not recognised ({src.container} content)", fix=hint)
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return scored[0][1]


@dataclass
class _Manifest:
    """The files already ingested, read once per run (one query, not two per file): by (path, size, mtime)
    and by content hash. Files the run loads are added as they commit."""

    by_stat: dict[tuple[str, int, int, int], str]
    by_hash: dict[str, str]
    # bills, outcomes and revenue (sha → mtime): the latest delivery wins, so a copy delivered later may matter
    snapshots: dict[str, int] = field(default_factory=dict)
    con: duckdb.DuckDBPyConnection | None = None
    # path → (format, size, mtime, ctime, sha)
    loading: dict[str, tuple[str, int, int, int, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> _Manifest:
        rows = con.execute(
            "SELECT source_file, size_bytes, mtime_ns, ctime_ns, source_sha256, source_format FROM ingested_files"
        ).fetchall()
        snapshots = dict(
            con.execute(
                "SELECT source_sha256, mtime_ns FROM ingested_files "
                "WHERE target_table IN ('billing_lines', 'outcomes', 'revenue')"
            ).fetchall()
        )
        return cls(
            {(f, size, mtime, ctime): fmt for f, size, mtime, ctime, _, fmt in rows if ctime is not None},
            {sha: fmt for _, _, _, _, sha, fmt in rows},
            snapshots,
            con,
        )

    def redelivered(self, sha: str, mtime_ns: int) -> bool:
        """A copy of a bill or outcomes file, newer than the delivery of it loaded, after a later delivery
        replaced part of that one: the copy is the latest delivery, so it is loaded again and current."""
        if self.con is None or mtime_ns <= self.snapshots.get(sha, mtime_ns):
            return False
        return bool(
            one_row(
                self.con.execute(
                    "SELECT count(*) FROM ingested_files f WHERE f.source_sha256 = ? AND ("
                    "(f.target_table = 'billing_lines' AND EXISTS (SELECT 1 FROM billing_lines b "
                    " WHERE b.source_sha256 = f.source_sha256 AND b.superseded_by IS NOT NULL)) "
                    "OR (f.target_table IN ('outcomes', 'revenue') AND EXISTS (SELECT 1 FROM replacements r "
                    " WHERE r.target = f.target_table AND r.replaced_file = f.source_file)))",
                    [sha],
                )
            )[0]
        )

    def add(self, result: FileResult) -> None:
        pending = self.loading.pop(result.path, None)
        if result.status == "ingested" and pending:
            fmt, size, mtime, ctime, sha = pending
            self.by_stat[(result.path, size, mtime, ctime)] = fmt
            self.by_hash[sha] = fmt
            if result.target in ("billing_lines", "outcomes", "revenue"):
                self.snapshots[sha] = mtime


def _prepare_file(
    path: Path,
    forced: Adapter | None,
    ctx: IngestContext,
    manifest: _Manifest,
    batch_hashes: set[str],
    progress: FileProgress | None = None,
    track: Track | None = None,
    *,
    replace: bool = False,
) -> _Pending | FileResult:
    """A file to load, or its final result (unchanged, or failed with a one-line message). With `replace`, a
    delivery already loaded is loaded again in place of its earlier rows."""
    result = FileResult(path=str(path), status="failed")
    try:
        # The manifest knows this very file (same path, size, modification and change time): skip it without
        # reading it. Anything else is hashed — the content decides: an in-place edit that keeps the size and
        # the modification time still moves the change time; a copy or a touched-but-identical file is caught
        # by its hash.
        try:
            stat = path.stat()
        except OSError:
            stat = None  # open_source says why, in one line
        known = stat and manifest.by_stat.get((str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
        if known and not replace:
            result.status, result.format = "unchanged", known
            return result
        src = open_source(path, (lambda n: progress.hashed(track, n)) if progress and track else None)
        seen = manifest.by_hash.get(src.sha256)
        # the same bill or outcomes again, delivered after what replaced part of it: the latest delivery wins,
        # so it is loaded again in place of its earlier rows
        if src.sha256 in batch_hashes or (seen and not replace and not manifest.redelivered(src.sha256, src.mtime_ns)):
            result.status, result.format = "unchanged", seen
            return result
        if src.container == "empty":
            raise InputError(src.display, "is empty", fix="remove it or export it again")
        adapter = (forced or choose_adapter(src, ctx)).for_source(src, ctx)
        result.format, result.target = adapter.name, adapter.target
        manifest.loading[str(path)] = (adapter.name, src.size, src.mtime_ns, src.ctime_ns, src.sha256)
        return _Pending(src, adapter, ctx, result, replace=bool(seen), progress=progress, track=track)
    except CostlensError as exc:
        result.message = exc.one_line()
    return result


def _load_one(con: duckdb.DuckDBPyConnection, pending: _Pending, run_id: int) -> FileResult:
    result = pending.result
    try:
        _load_atomically(con, pending, run_id)
        result.status, result.target = "ingested", pending.adapter.target  # a per-file adapter may settle it
    except DatabaseError:
        raise  # the database cannot take writes (full disk): stop the run, the files are not at fault
    except CostlensError as exc:
        result.message = exc.one_line()
    return result


def _load_batch(con: duckdb.DuckDBPyConnection, batch: list[_Pending], run_id: int) -> list[FileResult]:
    """Load a batch of files of one adapter in one transaction; if anything fails, load them one by one."""
    if not batch:
        return []
    groups: dict[tuple[str, str, str, str], list[_Pending]] = {}
    for pending in batch:  # one statement reads a group: one staging, one compression, one mapping
        groups.setdefault(pending.batch_key, []).append(pending)
    for group in groups.values():
        if len(group) == 1:
            continue  # loaded on its own below
        try:
            _load_files_in_transaction(con, group, run_id)
        except DatabaseError:
            raise  # the database cannot take writes: stop the run
        except (CostlensError, FastReadFailed):
            continue  # one of the files is at fault: each is loaded on its own below, with its own message
        for pending in group:
            pending.result.status = "ingested"
    for pending in batch:
        if pending.result.status != "ingested":
            if pending.progress is not None:
                pending.progress.current = pending.track  # loaded on its own: DuckDB's progress is this file's
            _load_one(con, pending, run_id)
    return [pending.result for pending in batch]


def _load_atomically(con: duckdb.DuckDBPyConnection, pending: _Pending, run_id: int) -> None:
    """Load one file in one transaction. A fast typed read that gives up on the file (a bad line) costs one
    rolled-back attempt; the file is then staged again by the careful line-by-line readers."""
    try:
        _load_files_in_transaction(con, [pending], run_id)
    except FastReadFailed:
        pending.ctx.careful = True
        _load_files_in_transaction(con, [pending], run_id)


def _load_files_in_transaction(con: duckdb.DuckDBPyConnection, files: list[_Pending], run_id: int) -> None:
    """Stage → validate → quarantine → de-duplicate → insert, in one transaction: one file, or a batch of
    files of one adapter (then the adapter stages them together, each row naming its file)."""
    import duckdb

    first = files[0]
    adapter, ctx = first.adapter, first.ctx
    display = first.src.display if len(files) == 1 else f"{first.src.display} (and {len(files) - 1} more files)"
    enter_step = first.step if len(files) == 1 else (lambda name: None)  # a batch's files report when done
    staged_first = len(files) == 1 and adapter.stages_outside_transaction
    try:
        enter_step("reading")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ingest_ctx AS SELECT ? AS source_format, ? AS source_file, "
            "? AS source_sha256, CAST(? AS BIGINT) AS run_id, CAST(? AS BIGINT) AS mtime_ns",
            [adapter.name, str(first.src.path), first.src.sha256, run_id, first.src.mtime_ns],
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ingest_files AS SELECT unnest(CAST(? AS VARCHAR[])) AS source_file, "
            "unnest(CAST(? AS VARCHAR[])) AS source_sha256, unnest(CAST(? AS BOOLEAN[])) AS replace, "
            "unnest(CAST(? AS BIGINT[])) AS mtime_ns, unnest(range(?)) AS file_order, "
            "unnest(CAST(? AS VARCHAR[])) AS source_format",
            [
                [str(p.src.path) for p in files],
                [p.src.sha256 for p in files],
                [p.replace for p in files],
                [p.src.mtime_ns for p in files],
                len(files),
                [p.adapter.name for p in files],  # one family of formats may share a batch (Adapter.batch_family)
            ],
        )
        # read by safe_tags (sql/schema/002_macros.sql): prompt text in metadata is kept in tags only on opt-in
        con.execute("SET VARIABLE costlens_keep_content = ?", [bool(ctx.keep_content)])
        if staged_first:  # temp tables only (Adapter.stages_outside_transaction)
            adapter.stage(con, first.src, ctx)
        con.execute("BEGIN TRANSACTION")
        if any(p.replace for p in files):
            replaced = dict(
                con.execute(  # what the earlier load put in its table (whichever format it was read as)
                    "SELECT source_sha256, rows_loaded FROM ingested_files WHERE source_sha256 IN "
                    "(SELECT source_sha256 FROM ingest_files WHERE replace)"
                ).fetchall()
            )
            for pending in files:
                if pending.replace:
                    pending.result.replaced_rows = replaced.get(pending.src.sha256, 0)
            con.execute(load_sql("load/forget_deliveries.sql"))
        if len(files) > 1:
            adapter.stage_batch(con, [p.src for p in files], ctx)
        elif not staged_first:
            adapter.stage(con, first.src, ctx)
        computed = _fingerprint_staged(con, ctx.keep_content, ctx.config.ingest.semantic_sketches)
        enter_step("checking")
        # `--set field=value` (or a config mapping's constants) fills what any producer's rows leave empty,
        # e.g. the model of bare Bedrock Converse responses, or a feature for a whole file
        fallbacks = ctx.mapping.constants if ctx.mapping is not None and adapter.target == "calls" else {}
        _conform_staged(con, adapter.target, computed, ctx.rows_by_position, fallbacks, _served_models(ctx.config))
        for step in (f"load/{adapter.target}_check.sql", "load/quarantine.sql"):
            con.execute(load_sql(step))
        if adapter.target == "calls":  # (needs the duplicate_reason column, which the conform step always adds)
            con.execute(load_sql("load/calls_known.sql"))
            if len(files) > 1:
                con.execute(load_sql("load/calls_known_in_batch.sql"))
        enter_step("inserting")
        if adapter.target == "calls":  # price once: each new call is inserted with its cost
            from costlens.pricing.stored import forget_stored_mark, price_new_calls

            forget_stored_mark(con)
            price_new_calls(con, ctx.config.prices or None, ctx.config.models.aliases)
        # the insert's own row count: no copy of the new rows is kept just to count them
        loaded = one_row(con.execute(load_sql(f"load/{adapter.target}_insert.sql")))[0]
        if adapter.target == "billing_lines":
            con.execute(load_sql("load/billing_snapshots.sql"))
        if len(files) == 1:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE file_loaded AS SELECT source_file, CAST(? AS BIGINT) AS n "
                "FROM ingest_files",
                [loaded],
            )
        else:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE file_loaded AS SELECT source_file, count(*) AS n "
                f"FROM {adapter.target} WHERE run_id = ? AND source_file IN (SELECT source_file FROM "
                f"ingest_files) GROUP BY source_file",
                [run_id],
            )
        con.execute(load_sql("load/stats.sql"))
        if adapter.target == "calls" and (_staged_columns(con) & set(_EXTRA_COLUMNS) or "prompt_sketch" in computed):
            con.execute(load_sql("load/call_extras_insert.sql"))
        if adapter.target == "calls" and "duplicate_reason" in _staged_columns(con):
            con.execute(load_sql("load/duplicates.sql"))
        if computed and ctx.keep_content:
            con.execute(
                "INSERT INTO call_content SELECT * FROM staged_content WHERE call_id IN "
                "(SELECT call_id FROM calls WHERE run_id = ? AND source_sha256 = ?)",
                [run_id, first.src.sha256],
            )
        stats = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT source_file, rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_skipped "
                "FROM file_stats"
            ).fetchall()
        }
        manifest_rows: list[tuple] = []
        for pending in files:
            src, result = pending.src, pending.result
            counts = stats.get(str(src.path), (0, 0, 0, 0, 0))
            (
                result.rows_read,
                result.rows_loaded,
                result.rows_duplicate,
                result.rows_quarantined,
                result.rows_skipped,
            ) = counts
            if pending.replace and result.replaced_rows and not (counts[1] or counts[2]):
                # a reload that keeps nothing is a wrong --format or mapping far more often than a wish to
                # empty the file: the transaction is rolled back and the earlier rows stay
                raise InputError(
                    src.display,
                    f"--replace would drop the {result.replaced_rows:,} rows loaded "
                    f"earlier and load none ({counts[3]:,} quarantined as {adapter.name})",
                    fix="check --format and the mapping; the earlier rows are kept",
                )
            if adapter.target == "calls" and counts[0] and not counts[1] and not counts[2]:
                result.warning = _no_calls_warning(con, src.path, run_id, counts)
            manifest_rows.append(
                (src.sha256, str(src.path), pending.adapter.name, src.size, src.mtime_ns, *counts, src.ctime_ns)
            )
        # the batch's manifest rows in one statement: one list per column, unnested side by side
        columns = list(zip(*manifest_rows, strict=True))
        con.execute(
            "INSERT INTO ingested_files (source_sha256, source_file, source_format, target_table, size_bytes, "
            "mtime_ns, run_id, ingested_at, rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_skipped, "
            "ctime_ns) SELECT unnest(CAST(? AS VARCHAR[])), unnest(CAST(? AS VARCHAR[])), "
            "unnest(CAST(? AS VARCHAR[])), ?, unnest(CAST(? AS BIGINT[])), unnest(CAST(? AS BIGINT[])), ?, ?, "
            "unnest(CAST(? AS BIGINT[])), unnest(CAST(? AS BIGINT[])), unnest(CAST(? AS BIGINT[])), "
            "unnest(CAST(? AS BIGINT[])), unnest(CAST(? AS BIGINT[])), unnest(CAST(? AS BIGINT[]))",
            [
                list(columns[0]),
                list(columns[1]),
                list(columns[2]),
                adapter.target,
                list(columns[3]),
                list(columns[4]),
                run_id,
                _now(),
                *(list(column) for column in columns[5:]),
            ],
        )
        con.execute("COMMIT")
    except CostlensError:
        _rollback(con)
        raise
    except duckdb.Error as exc:
        _rollback(con)
        storage = as_database_error(exc)
        if storage is not None:
            raise storage from None
        raise InputError(
            display,
            f"could not be loaded as {adapter.name} ({_first_line(exc)})",
            fix="check the file matches the format, or force another with --format",
        ) from None
    except BaseException:
        _rollback(con)
        raise


def _no_calls_warning(con: duckdb.DuckDBPyConnection, path: Path, run_id: int, counts: tuple) -> str:
    """Why a file of a call format gave no call: its most frequent quarantine reason."""
    top = con.execute(
        "SELECT reason, count(*) AS n FROM quarantine WHERE source_file = ? AND run_id = ? "
        "GROUP BY reason ORDER BY n DESC, reason LIMIT 1",
        [str(path), run_id],
    ).fetchone()
    why = f" — most rows: {top[0]} ({top[1]:,})" if top else ""
    return (
        f"{path}: {counts[0]:,} rows read but no call loaded ({counts[3]:,} quarantined, {counts[4]:,} skipped)"
        f"{why}; see `costlens quarantine --run {run_id}`"
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the file's transaction. A failed COMMIT has already ended it, and a fatal error invalidates
    the connection: then there is nothing to roll back, and the error that matters is the one in flight."""
    import duckdb

    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


_CONTENT_COLUMNS = {"prompt_text", "prefix_text", "query_text"}
# Per-call extras an adapter may stage beside the target's columns (see load/call_extras_insert.sql): billed
# quantities beyond the six token kinds, and usage fields costlens does not price, with who produced them.
_EXTRA_COLUMNS = {
    "charges": "STRUCT(kind VARCHAR, quantity DECIMAL(38,6), unit VARCHAR, detail VARCHAR, source_field VARCHAR, "
    "counted BOOLEAN)[]",
    "unpriced_fields": "STRUCT(field VARCHAR, quantity DECIMAL(38,6))[]",
    "producer": "VARCHAR",
    # a row that is another row's call (a second span of one request): counted as a duplicate, with the reason
    "duplicate_reason": "VARCHAR",
    # the request's semantic-cache sketch (load/prompt_sketches.sql), from its own text (`query_text`)
    "prompt_sketch": "UINTEGER[]",
    "prompt_words": "INTEGER",
}
# A billing staging that makes several lines of one input row may say their order (load/billing_lines_insert.sql).
_BILLING_EXTRA_COLUMNS = {"line_order": "BIGINT"}


def _staged_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'staged' AND database_name = 'temp'"
        ).fetchall()
    }


def _fingerprint_staged(con: duckdb.DuckDBPyConnection, keep_content: bool, sketches: bool = True) -> dict[str, str]:
    """Adapters that see prompt text stage it as `prompt_text` / `prefix_text`, and the request's own text
    (its messages without instructions) as `query_text`. Here they become prompt_hash / prefix_hash (SHA-256 in
    SQL), prefix_tokens (tiktoken, each distinct prefix counted once, on both cores) and the semantic-cache
    sketch (load/prompt_sketches.sql); the text itself is dropped unless the user opted in to keeping content.
    Returns the expressions for those columns, used by _conform_staged (no copy of `staged`)."""
    columns = _staged_columns(con)
    if not columns & _CONTENT_COLUMNS:
        return {}
    from costlens.fingerprint.tokenizer import count_tokens

    prompt = "s.prompt_text" if "prompt_text" in columns else "CAST(NULL AS VARCHAR)"
    prefix = "s.prefix_text" if "prefix_text" in columns else "CAST(NULL AS VARCHAR)"
    texts = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT {prefix} FROM staged s WHERE {prefix} IS NOT NULL AND {prefix} <> ''"
        ).fetchall()
    ]
    # two list parameters, unnested side by side: one statement, however many distinct prefixes
    con.execute(
        "CREATE OR REPLACE TEMP TABLE prefix_counts AS "
        "SELECT unnest(CAST(? AS VARCHAR[])) AS text, unnest(CAST(? AS BIGINT[])) AS tokens",
        [texts, [int(n) for n in count_tokens(texts)]],
    )
    if keep_content:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE staged_content AS SELECT s.call_id, {prompt} AS prompt_text, "
            f"{prefix} AS prefix_text FROM staged s"
        )
    own = {name: f"s.{name}" if name in columns else "NULL" for name in ("prompt_hash", "prefix_hash", "prefix_tokens")}
    sketch_columns: dict[str, str] = {}
    source = f"staged s LEFT JOIN prefix_counts pc ON pc.text = {prefix}"
    if sketches and "query_text" in columns:
        con.execute(load_sql("load/prompt_sketches.sql"))
        sketch_columns = {"prompt_sketch": "sk.sketch", "prompt_words": "sk.words"}
        source += " LEFT JOIN staged_sketches sk ON sk.staged_row = s.rowid"
    return {
        **sketch_columns,
        "prompt_hash": f"coalesce(CAST({own['prompt_hash']} AS VARCHAR), CASE WHEN {prompt} IS NOT NULL AND "
        f"{prompt} <> '' THEN sha256(trim({prompt})) END)",
        "prefix_hash": f"coalesce(CAST({own['prefix_hash']} AS VARCHAR), CASE WHEN {prefix} IS NOT NULL AND "
        f"{prefix} <> '' THEN sha256(trim({prefix})) END)",
        "prefix_tokens": f"coalesce(CAST({own['prefix_tokens']} AS BIGINT), pc.tokens)",
        "_from": source,
    }


# Lineage columns the runner fills in itself; adapters never set them.
_RUNNER_COLUMNS = {"source_format", "source_file", "source_sha256", "run_id", "line_id"}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _served_models(config: Config) -> dict[str, str]:
    """provider → model for each [self_hosted.<name>] deployment that names its provider and exactly one model
    (no glob): vLLM's own request span names no model unless told to, and its server serves one."""
    served: dict[str, str] = {}
    for deployment in config.self_hosted.values():
        if deployment.provider and len(deployment.models) == 1 and not any(c in deployment.models[0] for c in "*?["):
            served.setdefault(deployment.provider.lower(), deployment.models[0])
    return served


def _conform_staged(
    con: duckdb.DuckDBPyConnection,
    target: str,
    computed: dict[str, str] | None = None,
    rows_by_position: bool = False,
    fallbacks: dict[str, str] | None = None,
    served_models: dict[str, str] | None = None,
) -> None:
    """`staged` → `staged_full`: every column of the target table with its type (absent ones NULL), plus
    reject_reason / skip_reason. A view with casts, materialised once by the check step: a value that
    cannot take the column's type fails the file with a clear message instead of loading wrong.
    Identifiers come from our own schema, never from input."""
    computed = dict(computed or {})
    source = computed.pop("_from", "staged s")
    target_columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND database_name <> 'temp' "
        "ORDER BY column_index",
        [target],
    ).fetchall()
    if target == "calls":  # the stored cost is pricing's, never a producer's (costlens/pricing/stored.py)
        from costlens.pricing.stored import STORED_COLUMNS

        target_columns = [(name, kind) for name, kind in target_columns if name not in STORED_COLUMNS]
    staged_columns = _staged_columns(con)
    unknown = (
        staged_columns
        - {name for name, _ in target_columns}
        - {"reject_reason", "skip_reason"}
        - (_CONTENT_COLUMNS if computed else set())
        - (set(_EXTRA_COLUMNS) if target == "calls" else set())
        - (set(_BILLING_EXTRA_COLUMNS) if target == "billing_lines" else set())
        - {"identity_content", "identity_prefix"}
    )
    if unknown:
        raise RuntimeError(f"adapter staged unknown column(s) {sorted(unknown)} for {target}")

    if rows_by_position:
        # A typed bulk read (readers.typed_json_rows) numbers no lines: its rows are staged in file order,
        # so a row's position in `staged` is its (non-blank) line number. Row ids of a table made inside a
        # transaction start at a large offset, hence the first one is subtracted.
        first = one_row(con.execute("SELECT min(rowid) FROM staged"))[0] or 0
        computed["source_row"] = f"s.rowid - {int(first)} + 1"

    if "identity_content" in staged_columns and "call_id" not in computed:
        # A record without any id of its own is identified by its content and its occurrence among identical
        # records of its file: the same line keeps its id when the file is appended to, compressed, renamed
        # or copied (README "Identity").
        file_key = "s.source_file" if "source_file" in staged_columns else "NULL"
        prefix = "s.identity_prefix" if "identity_prefix" in staged_columns else "lineage.source_format"
        computed["call_id"] = (
            "coalesce(s.call_id, " + prefix + " || ':' || substr(sha256(s.identity_content || chr(31) || "
            "CAST(row_number() OVER (PARTITION BY " + file_key + ", s.call_id IS NULL, s.identity_content "
            "ORDER BY " + computed.get("source_row", "s.source_row") + ") AS VARCHAR)), 1, 32))"
        )

    def value(name: str) -> str:
        if name in computed:
            own = computed[name]
        else:
            own = f"s.{name}" if name in staged_columns else "NULL"
        if fallbacks and name in fallbacks:
            return f"coalesce({own}, {_literal(str(fallbacks[name]))})"
        return own

    if target == "calls":
        # one model identity whoever wrote it (sql/schema/002_macros.sql: canonical_model, model_provider)
        raw_model, raw_provider = value("model"), value("provider")
        if served_models:  # a server's own span that names no model: the one its deployment serves
            cases = " ".join(
                f"WHEN {_literal(provider)} THEN {_literal(model)}" for provider, model in sorted(served_models.items())
            )
            raw_model = f"coalesce({raw_model}, CASE lower(CAST({raw_provider} AS VARCHAR)) {cases} END)"
        identity = {
            "provider": f"coalesce(nullif(trim({raw_provider}), ''), model_provider(CAST({raw_model} AS VARCHAR)))",
            "model": f"canonical_model(CAST({raw_provider} AS VARCHAR), CAST({raw_model} AS VARCHAR))",
        }
    else:
        identity = {}
    select = [
        f"CAST({identity.get(name) or value(name)} AS {data_type}) AS {name}"
        for name, data_type in target_columns
        if name not in _RUNNER_COLUMNS
    ]
    for extra in ("reject_reason", "skip_reason"):
        select.append(f"CAST({value(extra)} AS VARCHAR) AS {extra}")
    if target == "calls":
        select += [f"CAST({value(name)} AS {sql_type}) AS {name}" for name, sql_type in _EXTRA_COLUMNS.items()]
    if target == "billing_lines":
        select += [f"CAST({value(name)} AS {sql_type}) AS {name}" for name, sql_type in _BILLING_EXTRA_COLUMNS.items()]
    # Lineage per row: a batch of files stages each row's file; a single file's rows all name ingest_ctx's.
    for lineage in ("source_file", "source_sha256"):
        origin = f"s.{lineage}" if lineage in staged_columns else f"lineage.{lineage}"
        select.append(f"CAST({origin} AS VARCHAR) AS {lineage}")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW staged_full AS SELECT {', '.join(select)} "
        f"FROM {source} CROSS JOIN ingest_ctx lineage"
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _start_run(con: duckdb.DuckDBPyConnection) -> int:
    run_id = one_row(con.execute("SELECT nextval('ingest_run_seq')"))[0]
    con.execute(
        "INSERT INTO ingest_runs (run_id, started_at, costlens_version) VALUES (?, ?, ?)",
        [run_id, _now(), __version__],
    )
    return int(run_id)


def _finish_run(con: duckdb.DuckDBPyConnection, result: IngestResult) -> None:
    con.execute(
        """UPDATE ingest_runs SET finished_at = ?, files_seen = ?, files_ingested = ?, files_skipped = ?,
               rows_read = ?, rows_loaded = ?, rows_duplicate = ?, rows_quarantined = ?, rows_skipped = ?
           WHERE run_id = ?""",
        [
            _now(),
            len(result.files),
            sum(f.status == "ingested" for f in result.files),
            sum(f.status == "unchanged" for f in result.files),
            result.total("rows_read"),
            result.total("rows_loaded"),
            result.total("rows_duplicate"),
            result.total("rows_quarantined"),
            result.total("rows_skipped"),
            result.run_id,
        ],
    )
