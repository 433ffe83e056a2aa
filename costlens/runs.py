"""Ingest runs and quarantined rows: the accounting a user checks after `costlens ingest`.

Every run stores rows read = loaded + duplicate + quarantined + skipped (docs/definitions.md#row-accounting).
"Quarantined" rows are rejected as bad data; "skipped" rows are valid but not applicable (a tool span, a non-call
log line). Both kinds are kept in the `quarantine` table with file, row and reason (disposition rejected | skipped), so
`costlens quarantine` lists every row that was read and not loaded.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlens.errors import UsageError

if TYPE_CHECKING:
    import duckdb

ROW_COUNTS = ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined", "rows_skipped")


@dataclass
class RunSummary:
    run_id: int
    status: str  # finished | interrupted (the process stopped before the run's end; its committed files stay)
    started_at: datetime | None
    finished_at: datetime | None
    costlens_version: str | None
    files_seen: int
    files_ingested: int
    files_unchanged: int  # already in the database (same SHA-256): nothing to do
    files_failed: int
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_quarantined: int
    rows_skipped: int
    # what the run's deliveries replaced: older bill lines of the same scope and days, re-rated outcomes
    replacements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """The accounting identity: every row read is loaded, a duplicate, quarantined or skipped."""
        return self.rows_read == self.rows_loaded + self.rows_duplicate + self.rows_quarantined + self.rows_skipped

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "balanced": self.balanced}


# A run killed before its end has no totals in ingest_runs; its committed files are in ingested_files.
_RUNS_SQL = """
WITH files AS (
    SELECT run_id, count(*) AS files, sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
           sum(rows_duplicate) AS rows_duplicate, sum(rows_quarantined) AS rows_quarantined,
           sum(rows_skipped) AS rows_skipped
    FROM ingested_files GROUP BY run_id
)
SELECT r.run_id,
       CASE WHEN r.finished_at IS NULL THEN 'interrupted' ELSE 'finished' END AS status,
       r.started_at, r.finished_at, r.costlens_version,
       coalesce(r.files_seen, f.files, 0) AS files_seen,
       coalesce(r.files_ingested, f.files, 0) AS files_ingested,
       coalesce(r.files_skipped, 0) AS files_unchanged,
       CASE WHEN r.finished_at IS NULL THEN 0
            ELSE greatest(coalesce(r.files_seen, 0) - coalesce(r.files_ingested, 0) - coalesce(r.files_skipped, 0), 0)
       END AS files_failed,
       coalesce(r.rows_read, f.rows_read, 0) AS rows_read,
       coalesce(r.rows_loaded, f.rows_loaded, 0) AS rows_loaded,
       coalesce(r.rows_duplicate, f.rows_duplicate, 0) AS rows_duplicate,
       coalesce(r.rows_quarantined, f.rows_quarantined, 0) AS rows_quarantined,
       coalesce(r.rows_skipped, f.rows_skipped, 0) AS rows_skipped
FROM ingest_runs r LEFT JOIN files f USING (run_id)
{where}
ORDER BY r.run_id DESC
{limit}
"""


def _run_summary(names: list[str], row: tuple[Any, ...]) -> RunSummary:
    fields: dict[str, Any] = {
        k: (int(v) if k.startswith(("files_", "rows_")) or k == "run_id" else v) for k, v in zip(names, row)
    }
    return RunSummary(**fields)


def list_runs(
    con: duckdb.DuckDBPyConnection, *, run_id: int | None = None, limit: int | None = None
) -> list[RunSummary]:
    """Ingest runs, newest first, with their file and row counts."""
    where = "WHERE r.run_id = ?" if run_id is not None else ""
    params: list[Any] = [run_id] if run_id is not None else []
    tail = ""
    if limit:
        tail, params = "LIMIT ?", [*params, int(limit)]
    cursor = con.execute(_RUNS_SQL.format(where=where, limit=tail), params)
    names = [d[0] for d in cursor.description]
    runs = [_run_summary(names, row) for row in cursor.fetchall()]
    by_run: dict[int, list[dict[str, Any]]] = {}
    cursor = con.execute(
        "SELECT run_id, target, source_file, replaced_file, scope, first_day, last_day, "
        "rows_replaced, amount FROM replacements ORDER BY run_id, target, source_file, replaced_file"
    )
    names = [d[0] for d in cursor.description]
    for row in cursor.fetchall():
        entry = dict(zip(names, row))
        by_run.setdefault(int(entry.pop("run_id")), []).append(entry)
    for run in runs:
        run.replacements = by_run.get(run.run_id, [])
    return runs


QUARANTINE_COLUMNS = ("source_file", "source_row", "disposition", "reason", "source_format", "run_id", "source_sha256")


def quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: int | None = None,
    file: str | None = None,
    disposition: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Rows read but not loaded, in file order. `file` is the stored path, or a file name or glob matched
    against the stored path and against its file name."""
    conditions: list[str] = []
    params: list[Any] = []
    if run_id is not None:
        conditions.append("run_id = ?")
        params.append(int(run_id))
    if file:
        conditions.append("(source_file = ? OR source_file GLOB ? OR parse_filename(source_file) GLOB ?)")
        params += [file, file, file]
    if disposition:
        if disposition not in ("rejected", "skipped", "duplicate"):
            raise UsageError(
                f"disposition {disposition!r} is not rejected, skipped or duplicate",
                fix="use rejected, skipped or duplicate",
            )
        conditions.append("disposition = ?")
        params.append(disposition)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = (
        f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM quarantine {where} "
        "ORDER BY run_id, source_file, source_row, reason"
    )
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def export_rows(rows: list[dict[str, Any]], out: Path, columns: tuple[str, ...]) -> str:
    """Write rows as CSV (text cells neutralised against spreadsheet formulas) or JSON Lines, chosen by the
    file's suffix. Returns the format written."""
    from costlens.inert import neutralise
    from costlens.outputs import write_outputs

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise UsageError(
            f"cannot export to {out}: unknown suffix {suffix or '(none)'}", fix="name the file .csv or .jsonl"
        )

    def write(tmp: Path) -> None:  # whole or not at all: costlens.outputs.write_outputs
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            if suffix == ".csv":
                writer = csv.writer(handle)
                writer.writerow(columns)
                for row in rows:
                    writer.writerow(
                        [
                            "" if row.get(c) is None else neutralise(row[c]) if isinstance(row[c], str) else row[c]
                            for c in columns
                        ]
                    )
                return
            for row in rows:
                handle.write(json.dumps({c: row.get(c) for c in columns}, default=str, ensure_ascii=False) + "\n")

    write_outputs({out: write})
    return "csv" if suffix == ".csv" else "jsonl"
