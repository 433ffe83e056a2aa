"""Any CSV / JSONL / JSON / Parquet request log, read through a column mapping → calls.

The mapping comes from the command line (`--map canonical=source`, `--set canonical=value`) or from a
`[[ingest.mappings]]` entry of the config whose `match` glob fits the file name. Mapped columns are found by
name, ignoring case (JSON keys may be dotted paths into nested objects: `usage.prompt_tokens`); constants fill
fields the file does not have (`model=gpt-4`, `provider=azure.openai`, `feature=conversation`); a column
named exactly like a canonical field (`model`, `input_tokens`, …) is used when nothing else fills that field.
Values are parsed and checked in sql/staging/generic.sql.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from costlens.config import CANONICAL_CALL_FIELDS
from costlens.errors import InputError
from costlens.ingest.base import Adapter, IngestContext, record_keys
from costlens.ingest.readers import column_ref, load_json_records, load_tabular, sql_string
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

    from costlens.config import ColumnMapping

TABULAR = ("csv", "parquet")
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
)


class Resolved:
    """Where each canonical field comes from: a positional column / JSON path, and/or a constant."""

    def __init__(self) -> None:
        self.columns: dict[str, str] = {}  # canonical → c<i> (tabular) or JSONPath (json)
        self.names: dict[str, str] = {}  # canonical → the file's own column / key name (for messages)
        self.constants: dict[str, str] = {}

    def has(self, field: str) -> bool:
        return field in self.columns or field in self.constants


def resolve(src: Source, mapping: ColumnMapping) -> Resolved:
    """Match the mapping against the file; InputError naming the first mapped column that is missing."""
    out = Resolved()
    out.constants = {k: v for k, v in mapping.constants.items()}
    tabular = src.container in TABULAR
    keys = _json_keys(src) if not tabular else {}
    available = list(src.header) if tabular else sorted(keys.values())
    for canonical, source in mapping.columns.items():
        if tabular:
            ref = column_ref(src, source)
            if ref.startswith("CAST(NULL"):
                raise _missing(src, source, canonical, available, "is not in the header")
            out.columns[canonical] = ref
            out.names[canonical] = src.header[[h.lower() for h in src.header].index(source.lower())]
        else:
            path = _json_path(src, keys, source)
            if path is None:
                raise _missing(src, source, canonical, available, "is not a key of the records")
            out.columns[canonical], out.names[canonical] = path
    # A column named exactly like a canonical field fills it when the mapping says nothing about it.
    present = {h.lower(): h for h in src.header} if tabular else keys
    for canonical in CANONICAL_CALL_FIELDS:
        if canonical in out.columns or canonical in out.constants or canonical not in present:
            continue
        out.columns[canonical] = column_ref(src, canonical) if tabular else _path_of([present[canonical]])
        out.names[canonical] = present[canonical]
    _require(src, out)
    return out


def _mentions_mapped_column(src: Source, mapping: ColumnMapping) -> bool:
    """True when at least one mapped source column is in the file."""
    if src.container in TABULAR:
        header = {h.lower() for h in src.header}
        return any(source.lower() in header for source in mapping.columns.values())
    keys = _json_keys(src)
    return any(_json_path(src, keys, source) is not None for source in mapping.columns.values())


def _require(src: Source, out: Resolved) -> None:
    if not out.has("ts"):
        raise InputError(
            src.display, "the column mapping gives no timestamp", fix="add --map ts=COLUMN (ISO 8601 or epoch time)"
        )
    if not out.has("model"):
        raise InputError(
            src.display,
            "the column mapping gives no model",
            fix="add --map model=COLUMN, or --set model=NAME when the whole file is one model",
        )
    if not any(out.has(field) for field in TOKEN_FIELDS):
        raise InputError(
            src.display,
            "the column mapping gives no token counts",
            fix="add --map input_tokens=COLUMN and --map output_tokens=COLUMN",
        )


def _missing(src: Source, source: str, canonical: str, available: list[str], where: str) -> InputError:
    shown = ", ".join(available[:12]) + (", …" if len(available) > 12 else "")
    return InputError(
        src.display,
        f"column '{source}' (mapped to {canonical}) {where}",
        fix=f"use one of its columns ({shown}) in --map {canonical}=COLUMN or the config mapping",
    )


def _json_keys(src: Source) -> dict[str, str]:
    """lower-cased top-level key → the key as spelled in the file."""
    return {str(k).lower(): str(k) for k in sorted(record_keys(src), key=str)}


def _json_path(src: Source, keys: dict[str, str], source: str) -> tuple[str, str] | None:
    """(JSONPath, display name) of a top-level key or a dotted path into nested objects, matched without
    regard to case against the sniffed records; None if no record has it."""
    if source.lower() in keys:
        key = keys[source.lower()]
        return _path_of([key]), key
    parts = source.split(".")
    if len(parts) < 2:
        return None
    for record in src.records:
        spelled = _walk(record, parts)
        if spelled:
            return _path_of(spelled), ".".join(spelled)
    return None


def _walk(record: Any, parts: list[str]) -> list[str] | None:
    spelled: list[str] = []
    for part in parts:
        if not isinstance(record, dict):
            return None
        match = next((k for k in record if str(k).lower() == part.lower()), None)
        if match is None:
            return None
        spelled.append(str(match))
        record = record[match]
    return spelled


def _path_of(keys: list[str]) -> str:
    """A JSONPath from key names, passed to SQL as a parameter (data, never SQL text)."""
    return "$" + "".join('."' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys)


class GenericAdapter(Adapter):
    name = "generic"
    target = "calls"
    description = "Any CSV / JSONL / Parquet request log, through a column mapping (--map / --set / config)"
    containers = ("csv", "parquet", "jsonl", "json")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        if ctx.mapping is None:
            return 0
        try:
            resolve(src, ctx.mapping)
        except InputError:
            if _mentions_mapped_column(src, ctx.mapping):
                raise  # the file is meant for this mapping but lacks a column: say which
            # None of the mapped columns is here (a --map given for a whole directory meets a bill or an
            # OTel file): let the adapter that recognises the file take it. If none does, this one is
            # chosen with this lowest score and stage() reports the missing column.
            return 1
        return 100  # the user said how to read this file: that beats any guess

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        if ctx.mapping is None:
            raise InputError(
                src.display,
                "the generic format needs a column mapping",
                fix="pass --map canonical=COLUMN (and --set canonical=VALUE), or add [[ingest.mappings]]",
            )
        resolved = resolve(src, ctx.mapping)
        tabular = src.container in TABULAR
        # inner: the mapped columns as text; outer: blank / NULL → SQL NULL, then the constant as a fallback.
        # A view takes no parameters: JSON paths and constants are quoted string literals.
        inner: list[str] = []
        outer: list[str] = []
        for field in CANONICAL_CALL_FIELDS:
            parts = []
            if field in resolved.columns:
                if tabular:
                    inner.append(f"{resolved.columns[field]} AS r_{field}")
                else:
                    inner.append(f"json_extract_string(doc, {sql_string(resolved.columns[field])}) AS r_{field}")
                parts.append(
                    f"CASE WHEN length(r_{field}) <= 4 AND trim(r_{field}) IN ('', 'NULL', 'null') "
                    f"THEN NULL ELSE r_{field} END"
                )
            if field in resolved.constants:
                parts.append(f"CAST({sql_string(str(resolved.constants[field]))} AS VARCHAR)")
            expr = f"coalesce({', '.join(parts)})" if parts else "CAST(NULL AS VARCHAR)"
            outer.append(f"{expr} AS {field}")
        if tabular:
            load_tabular(con, src)
            problem = "CAST(NULL AS VARCHAR)"
            table = "raw_rows"
        else:
            load_json_records(con, src)
            problem = (
                "CASE WHEN doc IS NULL THEN 'not valid JSON' "
                "WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object' END"
            )
            table = "raw_json"
        con.execute(
            # a view: staging/generic.sql reads the rows once, straight from the reader
            f"CREATE OR REPLACE TEMP VIEW generic_src AS SELECT source_row, doc_problem, {', '.join(outer)} "
            f"FROM (SELECT source_row, {problem} AS doc_problem{''.join(', ' + i for i in inner)} FROM {table})"
        )
        labels = [
            f"{field} (column '{resolved.names[field]}')"
            if field in resolved.names and resolved.names[field] != field
            else field
            for field in CANONICAL_CALL_FIELDS
        ]
        columns = ", ".join(f"CAST(? AS VARCHAR) AS label_{field}" for field in CANONICAL_CALL_FIELDS)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE generic_opts AS SELECT CAST(? AS BOOLEAN) AS input_includes_cached, "
            f"CAST(? AS VARCHAR) AS mapping_name, {columns}",
            [ctx.mapping.input_tokens_include_cached, ctx.mapping.name, *labels],
        )
        self.run_sql(con, "staging/generic.sql")


ADAPTER = GenericAdapter()
