"""Bulk readers: load one file into a temp table inside DuckDB (never row by row in Python).

Every reader numbers rows as a user would find them: JSON lines by their (non-blank) line number,
CSV rows by their line number (header = line 1), Parquet rows from 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.errors import InputError
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

MAX_JSON_OBJECT_BYTES = 256 * 1024 * 1024


def load_json_records(con: "duckdb.DuckDBPyConnection", src: Source, table: str = "raw_json") -> None:
    """`table(source_row BIGINT, doc JSON)`: one row per JSON line (doc NULL if the line is not valid JSON),
    or per element of a top-level array, or the single top-level object."""
    fmt = "newline_delimited" if src.container == "jsonl" else "auto"
    con.execute(f"DROP TABLE IF EXISTS {table}")
    try:
        con.execute(
            f"""CREATE TEMP TABLE {table} AS
                SELECT json AS doc, row_number() OVER () AS source_row FROM read_json_objects(?, format = ?, ignore_errors = true,
                       compression = ?, maximum_object_size = {MAX_JSON_OBJECT_BYTES})""",
            [str(src.path), fmt, src.duckdb_compression],
        )
    except Exception as exc:
        raise _read_error(src, exc) from None
    con.execute("CREATE OR REPLACE TEMP TABLE reader_rejects (source_row BIGINT, reason VARCHAR)")


def load_csv_rows(con: "duckdb.DuckDBPyConnection", src: Source, table: str = "raw_rows") -> None:
    """`table(source_row, c0 … cN VARCHAR)` in header order; rows with the wrong number of fields are
    left in `reader_rejects(source_row, reason)` (every reader creates it). Columns are positional so no
    input text becomes SQL. One pass with DuckDB's reject store: a failed read would abort the ingest
    transaction, so malformed rows must never raise."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(src.header))) + "}"
    for name in (table, "reader_rejects", "csv_rejects", "csv_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    try:
        con.execute(
            f"""CREATE TEMP TABLE {table} AS
                SELECT *, row_number() OVER () + 1 AS source_row
                FROM read_csv(?, header = true, columns = {columns}, delim = ?, quote = '"', escape = '"',
                              auto_detect = false, compression = ?, max_line_size = {MAX_JSON_OBJECT_BYTES},
                              encoding = 'utf-8', ignore_errors = true, store_rejects = true,
                              rejects_table = 'csv_rejects', rejects_scan = 'csv_reject_scans')""",
            [str(src.path), src.csv_delimiter, src.duckdb_compression],
        )
    except Exception as exc:
        raise _read_error(src, exc) from None
    con.execute(
        """CREATE TEMP TABLE reader_rejects AS
           SELECT line AS source_row, 'malformed CSV row: ' || error_message AS reason FROM csv_rejects"""
    )
    if con.execute("SELECT count(*) FROM reader_rejects").fetchone()[0]:
        # Good rows keep file order; number them by the line numbers not taken by rejected rows.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
                WITH good AS (SELECT * EXCLUDE (source_row), row_number() OVER () AS k FROM {table}),
                     free_lines AS (
                        SELECT line, row_number() OVER (ORDER BY line) AS k
                        FROM range(2, (SELECT count(*) FROM good) + (SELECT count(*) FROM reader_rejects) + 2) r(line)
                        WHERE line NOT IN (SELECT source_row FROM reader_rejects))
                SELECT good.* EXCLUDE (k), free_lines.line AS source_row FROM good JOIN free_lines USING (k)
                ORDER BY source_row"""
        )
    con.execute("DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_reject_scans")


def load_parquet_rows(con: "duckdb.DuckDBPyConnection", src: Source, table: str = "raw_rows") -> None:
    """`table(source_row, c0 … cN VARCHAR)` like load_csv_rows, from a Parquet file."""
    select = ", ".join(f"CAST({quote_ident(name)} AS VARCHAR) AS c{i}" for i, name in enumerate(src.header))
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DROP TABLE IF EXISTS reader_rejects")
    try:
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT {select}, file_row_number + 1 AS source_row "
            f"FROM read_parquet(?, file_row_number = true)",
            [str(src.path)],
        )
    except Exception as exc:
        raise _read_error(src, exc) from None
    con.execute("CREATE TEMP TABLE reader_rejects (source_row BIGINT, reason VARCHAR)")


def load_tabular(con: "duckdb.DuckDBPyConnection", src: Source, table: str = "raw_rows") -> None:
    if src.container == "parquet":
        load_parquet_rows(con, src, table)
    else:
        load_csv_rows(con, src, table)


def quote_ident(name: str) -> str:
    """A vetted SQL identifier: any text, safely double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def column_ref(src: Source, *names: str) -> str:
    """The positional column (c<i>) holding the first of `names` present in the header, else NULL.
    Matching ignores case, so exports that change capitalisation still map."""
    lowered = [h.lower() for h in src.header]
    for name in names:
        if name.lower() in lowered:
            return f"c{lowered.index(name.lower())}"
    return "CAST(NULL AS VARCHAR)"


def _read_error(src: Source, exc: Exception) -> InputError:
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    lowered = text.lower()
    if "gzip" in lowered or "compress" in lowered:
        return InputError(src.display, f"corrupt or truncated gzip ({first})", fix="re-export or re-download the file")
    if "unicode" in lowered or "utf-8" in lowered or "utf8" in lowered:
        return InputError(src.display, "is not UTF-8 text", fix="re-save the file as UTF-8")
    row = None
    for token in ("Line: ", "line "):
        if token in text:
            tail = text.split(token, 1)[1]
            digits = "".join(ch for ch in tail[:12] if ch.isdigit())
            row = int(digits) if digits else None
            break
    return InputError(src.display, f"cannot be read ({first})", row=row, fix="check the file is complete and well-formed")
