"""The adapter interface: one module per input family, each with `detect` and `stage`.

An adapter never writes canonical tables itself. `stage` bulk-loads its file into DuckDB (see readers.py)
and runs its staging SQL to produce the temp table `staged` with the target's canonical columns plus
`source_row`, `reject_reason` (bad data) and `skip_reason` (valid, but not a billable call). The runner
validates, de-duplicates and inserts — the same way for every producer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from costlens.sqlfiles import load_sql

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from costlens.config import ColumnMapping, Config
    from costlens.ingest.sources import Source

Target = Literal["calls", "outcomes", "billing_lines", "trace_context", "revenue"]


@dataclass
class IngestContext:
    config: Config
    mapping: ColumnMapping | None = None  # from --map / --set, or a config mapping matching the file
    keep_content: bool = False
    # Set by the runner when a typed bulk read gave up on the file (readers.FastReadFailed): stage it again
    # through the line-by-line readers, which quarantine each bad line instead of failing the read.
    careful: bool = False
    # Set by an adapter whose typed bulk read numbered no lines: `staged` is in file order (see runner).
    rows_by_position: bool = False
    options: dict[str, Any] = field(default_factory=dict)


class Adapter:
    """Base class. Subclasses set `name`, `target`, `description` and implement detect / stage."""

    name: ClassVar[str]
    target: ClassVar[Target]
    description: ClassVar[str]
    containers: ClassVar[tuple[str, ...]] = ("jsonl", "json")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        """0 if the file is not this format; otherwise a confidence (higher wins)."""
        raise NotImplementedError

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        raise NotImplementedError

    # Staging that makes and drops large temp tables (a file converted a slice at a time) sets this: the runner
    # then stages the file before the file's transaction opens, since a table dropped inside a transaction keeps
    # its storage until the transaction ends. Staging creates only temp tables, so atomicity is unchanged.
    stages_outside_transaction: ClassVar[bool] = False

    # Formats that come as trees of many small files set this and implement stage_batch: `staged` for
    # several files at once, each row naming its file in `source_file` / `source_sha256` (see runner).
    batch_files: ClassVar[bool] = False
    # Formats whose files share one staging (each file's own format still names its rows) batch together.
    batch_family: ClassVar[str | None] = None

    def stage_batch(self, con: duckdb.DuckDBPyConnection, srcs: list[Source], ctx: IngestContext) -> None:
        raise NotImplementedError

    def batch_key(self, src: Source) -> str:
        """Files of one batch share this key (and their format and compression): an adapter that stages two
        kinds of file differently keeps them apart."""
        return ""

    def for_source(self, src: Source, ctx: IngestContext) -> Adapter:
        """The adapter that ingests this file: itself, or a per-file variant (one module reading several
        export kinds fixes the kind, and so the target table, from the file's content)."""
        return self

    @staticmethod
    def run_sql(con: duckdb.DuckDBPyConnection, relative: str, params: list[Any] | None = None) -> None:
        con.execute(load_sql(relative), params or [])


def vote_of_records(src: Source, classify: Callable[[dict], tuple[bool, bool]], weak: int) -> int:
    """A detection score from each sniffed record's verdict (is_mine, strong): 0 when no record is mine,
    `weak` when none is strongly so, else 50–90 by the share of records that are mine."""
    records = [r for r in src.records if isinstance(r, dict)]
    if not records:
        return 0
    verdicts = [classify(r) for r in records]
    mine = sum(is_mine for is_mine, _ in verdicts)
    if not mine:
        return 0
    if not any(strong for _, strong in verdicts):
        return weak
    return 50 + round(40 * mine / len(records))


def record_keys(src: Source) -> set[str]:
    """Top-level keys seen in the sniffed records."""
    keys: set[str] = set()
    for record in src.records:
        if isinstance(record, dict):
            keys.update(record)
    return keys


def nested(record: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record
