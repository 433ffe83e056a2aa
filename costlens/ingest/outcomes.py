"""Task outcomes (CSV / JSONL / JSON / Parquet) → outcomes: was the task's result accepted, how good was it,
did a human review it, how much rework and delay did it cost.

Column names are matched case-insensitively against the common spellings below (`score` / `quality` for
quality_score, `reviewed` / `needs_review` for human_review, …). Values are parsed in
sql/staging/outcomes.sql; a value that is present but not understood rejects its row with the column named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.ingest.base import Adapter, IngestContext, record_keys
from costlens.ingest.readers import column_ref, load_json_records, load_tabular
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

# canonical field → accepted spellings (lower case; first one present wins)
FIELDS: dict[str, tuple[str, ...]] = {
    "task_id": ("task_id", "taskid", "task.id", "costlens.task_id", "task"),
    "accepted": ("accepted", "is_accepted", "acceptance", "accepted_by_user", "outcome", "success", "succeeded"),
    "quality_score": ("quality_score", "quality", "score", "quality_rating", "eval_score"),
    "human_review": (
        "human_review",
        "human_reviewed",
        "reviewed",
        "needs_review",
        "needs_human_review",
        "review_required",
        "escalated",
    ),
    "rework_minutes": ("rework_minutes", "rework_min", "rework_mins", "rework_time_minutes"),
    "rework_cost_usd": ("rework_cost_usd", "rework_cost", "rework_usd"),
    "delay_minutes": ("delay_minutes", "delay_min", "delay_mins", "wait_minutes"),
}
_SIGNALS = ("accepted", "quality_score", "human_review", "rework_minutes", "rework_cost_usd")


def _present(names: set[str]) -> dict[str, str]:
    """canonical field → the first of its spellings found among `names` (lower-cased)."""
    return {canonical: spellings[0] for canonical, spellings in _all_present(names).items()}


def _all_present(names: set[str]) -> dict[str, list[str]]:
    """canonical field → every one of its spellings found among `names`, in order of preference."""
    found: dict[str, list[str]] = {}
    for canonical, spellings in FIELDS.items():
        hits = [spelling for spelling in spellings if spelling in names]
        if hits:
            found[canonical] = hits
    return found


def _names(src: Source) -> set[str]:
    if src.container in ("csv", "parquet"):
        return {h.strip().lower() for h in src.header}
    return {str(k).strip().lower() for k in record_keys(src)}


class OutcomesAdapter(Adapter):
    name = "outcomes"
    target = "outcomes"
    description = "Task outcomes: task_id with accepted / quality_score / human_review / rework (CSV, JSONL, Parquet)"
    containers = ("csv", "parquet", "jsonl", "json")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        names = _names(src)
        found = _present(names)
        if "task_id" not in found or not any(signal in found for signal in _SIGNALS):
            return 0
        if any("token" in name for name in names):  # request logs that also carry a task id
            return 0
        # an exact "task_id" column is stronger evidence than "task" / "taskId"
        return 85 if found["task_id"] in ("task_id", "costlens.task_id") else 65

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        if src.container in ("csv", "parquet"):
            load_tabular(con, src)
            found = _all_present({h.strip().lower() for h in src.header})
            projection = ", ".join(
                f"coalesce({', '.join(column_ref(src, s) for s in found[canonical])}) AS {canonical}"
                if canonical in found
                else f"CAST(NULL AS VARCHAR) AS {canonical}"
                for canonical in FIELDS
            )
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE outcomes_src AS "
                f"SELECT source_row, CAST(NULL AS VARCHAR) AS doc_problem, {projection} FROM raw_rows"
            )
        else:
            load_json_records(con, src)
            # Keys as spelled in the file (found case-insensitively in the sniffed records) are passed as
            # JSONPath parameters: data, never SQL text.
            keys = {str(k).strip().lower(): str(k) for k in record_keys(src)}
            found = _all_present(set(keys))
            paths = [json_path(keys[s]) for canonical in FIELDS for s in found.get(canonical, [])]
            projection = ", ".join(
                f"coalesce({', '.join('json_extract_string(doc, ?)' for _ in found[canonical])}) AS {canonical}"
                if canonical in found
                else f"CAST(NULL AS VARCHAR) AS {canonical}"
                for canonical in FIELDS
            )
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE outcomes_src AS
                    SELECT source_row,
                           CASE WHEN doc IS NULL THEN 'not valid JSON'
                                WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object' END AS doc_problem,
                           {projection}
                    FROM raw_json""",
                paths,
            )
        self._labels(con, src)
        self.run_sql(con, "staging/outcomes.sql")

    @staticmethod
    def _labels(con: duckdb.DuckDBPyConnection, src: Source) -> None:
        """outcomes_labels: how reject messages name each field (with the file's own column name)."""
        if src.container in ("csv", "parquet"):
            actual = {h.strip().lower(): h.strip() for h in src.header}
        else:
            actual = {str(k).strip().lower(): str(k) for k in record_keys(src)}
        found = _present(set(actual))
        labels = []
        for canonical in FIELDS:
            spelling = actual.get(found.get(canonical, ""), canonical)
            labels.append(canonical if spelling == canonical else f"{canonical} (column '{spelling}')")
        columns = ", ".join(f"CAST(? AS VARCHAR) AS label_{canonical}" for canonical in FIELDS)
        con.execute(f"CREATE OR REPLACE TEMP TABLE outcomes_labels AS SELECT {columns}", labels)


def json_path(key: str) -> str:
    """The JSONPath of one top-level key, passed to SQL as a parameter."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


ADAPTER = OutcomesAdapter()
