"""Bulk readers: load one file into a temp table inside DuckDB (never row by row in Python).

Every reader numbers rows as a user would find them: JSON lines by their (non-blank) line number,
CSV rows by their line number (header = line 1), Parquet rows from 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlens.db import one_row
from costlens.errors import InputError
from costlens.ingest.sources import MAX_JSON_DEPTH, MAX_RECORD_BYTES, Source

MAX_RECORD_MB = MAX_RECORD_BYTES // (1024 * 1024)

if TYPE_CHECKING:
    import duckdb

MAX_JSON_OBJECT_BYTES = 256 * 1024 * 1024
# DuckDB sizes its read buffers by the largest object allowed: a batch of files keeps them smaller (a longer
# line fails the batch, and its file is then read on its own with the limit above).
BATCH_MAX_JSON_OBJECT_BYTES = 32 * 1024 * 1024


def load_json_records(con: duckdb.DuckDBPyConnection, src: Source, table: str = "raw_json") -> None:
    """`table(source_row BIGINT, doc JSON)`: one row per JSON line (doc NULL if the line is not valid JSON),
    or per element of a top-level array, or the single top-level object."""
    # Only a sniffed JSON document is read whole; anything else forced through a JSON adapter (JSON lines
    # whose first line is damaged sniff as csv / unknown) is read line by line, so one bad line costs one row.
    fmt = "auto" if src.container == "json" else "newline_delimited"
    first_line = _bom_first_line(src)
    if first_line is not None and src.container == "json" and first_line.lstrip().startswith("["):
        fmt = "array"  # with a BOM, DuckDB's auto format reads a top-level array as one document
    drop_relation(con, table)
    try:
        con.execute(
            f"""CREATE TEMP TABLE {table} AS
                SELECT json AS doc, row_number() OVER () AS source_row
                FROM read_json_objects(?, format = ?, ignore_errors = true,
                       compression = ?, maximum_object_size = {MAX_JSON_OBJECT_BYTES})""",
            [str(src.path), fmt, src.duckdb_compression],
        )
    except Exception as exc:
        raise _read_error(src, exc) from None
    if first_line is not None and fmt == "newline_delimited":
        # DuckDB reads a UTF-8 byte-order mark as part of line 1 and rejects it: parse that one line without it
        con.execute(
            f"UPDATE {table} SET doc = CASE WHEN json_valid(?) THEN CAST(? AS JSON) END "
            "WHERE source_row = 1 AND doc IS NULL",
            [first_line, first_line],
        )
    _reject_unreadable_records(con, table, whole_document_allowed=fmt == "auto")


# Records the readers turn away, each with its row and reason (sources.py: MAX_RECORD_BYTES, MAX_JSON_DEPTH).
# The depth is measured only on texts with more opening brackets than the limit (one strlen and two replaces
# per record otherwise): strings are removed, then a running sum over the brackets that remain.
_UNREADABLE_RECORDS_SQL = r"""
CREATE OR REPLACE TEMP TABLE reader_rejects AS
WITH sized AS (
    SELECT source_row, CAST(doc AS VARCHAR) AS text, strlen(CAST(doc AS VARCHAR)) AS bytes
    FROM {table} WHERE doc IS NOT NULL
),
too_long AS (
    SELECT source_row, 'record of ' || round(bytes / 1048576, 1) || ' MB is longer than the '
               || {max_mb} || ' MB a record may be: not read' AS reason
    FROM sized WHERE bytes > {max_bytes} AND {size_applies}
),
candidates AS (
    -- `doc_no` tells records apart (a batch of files repeats row numbers)
    SELECT source_row, row_number() OVER () AS doc_no,
           string_split(regexp_replace(regexp_replace(text, '"(?:[^"\\]|\\.)*"', '', 'g'), '[^\[\]{{}}]', '',
                                       'g'), '') AS brackets
    FROM sized
    WHERE bytes <= {max_bytes} AND strlen(text) - strlen(replace(replace(text, '{{', ''), '[', '')) > {max_depth}
),
levels AS (
    SELECT source_row, doc_no, sum(CASE WHEN c IN ('{{', '[') THEN 1 ELSE -1 END)
               OVER (PARTITION BY doc_no ORDER BY i ROWS UNBOUNDED PRECEDING) AS level
    FROM (SELECT source_row, doc_no, unnest(brackets) AS c, generate_subscripts(brackets, 1) AS i FROM candidates)
),
too_deep AS (
    SELECT source_row, 'nested deeper than {max_depth} levels: not read' AS reason
    FROM levels GROUP BY source_row, doc_no HAVING max(level) > {max_depth}
)
SELECT * FROM too_long UNION ALL SELECT * FROM too_deep ORDER BY source_row
"""


def _reject_unreadable_records(
    con: duckdb.DuckDBPyConnection, table: str, whole_document_allowed: bool, remove: bool = True
) -> int:
    """Move the records no staging may read (longer than MAX_RECORD_BYTES, nested deeper than MAX_JSON_DEPTH)
    from `table` to `reader_rejects` (`remove` False: only list them), so one such line costs its own row, not
    the file (DuckDB's JSON functions ran out of memory on a 50 MB line). A file that is one JSON document
    (`whole_document_allowed` and a single row) may be larger: a page of many records is read as it always was.
    Returns how many there are."""
    size_applies = "true" if not whole_document_allowed else f"(SELECT count(*) FROM {table}) > 1"
    con.execute(
        _UNREADABLE_RECORDS_SQL.format(
            table=table,
            max_bytes=MAX_RECORD_BYTES,
            max_mb=MAX_RECORD_BYTES // (1024 * 1024),
            max_depth=MAX_JSON_DEPTH,
            size_applies=size_applies,
        )
    )
    rejected = one_row(con.execute("SELECT count(*) FROM reader_rejects"))[0]
    if rejected and remove:
        con.execute(f"DELETE FROM {table} WHERE source_row IN (SELECT source_row FROM reader_rejects)")
    return rejected


def no_reader_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """An empty `reader_rejects`: the reader itself turned no line away (bad lines reach staging as rows)."""
    con.execute("CREATE OR REPLACE TEMP TABLE reader_rejects (source_row BIGINT, reason VARCHAR)")


def load_json_batch(con: duckdb.DuckDBPyConnection, srcs: list[Source]) -> None:
    """`raw_json(source_row, doc JSON, source_file)` for several JSON-lines files read by one statement,
    each row numbered by its (non-blank) line in its own file like load_json_records. DuckDB reads the
    files in list order and each file's lines in order, so a line's number is its position in its file."""
    compressions = {src.duckdb_compression for src in srcs}
    if len(compressions) != 1:
        raise ValueError("a batch of files is read with one compression")
    drop_relation(con, "raw_json")
    drop_relation(con, "raw_json_read")
    con.execute(
        f"""CREATE TEMP TABLE raw_json_read AS
            SELECT json AS doc, filename AS source_file
            FROM read_json_objects(?, format = 'newline_delimited', ignore_errors = true, compression = ?,
                                   maximum_object_size = {BATCH_MAX_JSON_OBJECT_BYTES}, filename = true)""",
        [[str(src.path) for src in srcs], compressions.pop()],
    )
    con.execute(
        """CREATE TEMP VIEW raw_json AS
           SELECT r.rowid - f.first_row + 1 AS source_row, r.doc, r.source_file
           FROM raw_json_read r
           JOIN (SELECT source_file, min(rowid) AS first_row FROM raw_json_read GROUP BY source_file) f
             USING (source_file)"""
    )
    # A record too long or too deep to read belongs to one file's reader_rejects, which a batch cannot keep:
    # give the batch up, so the runner loads its files one by one (load_json_records quarantines the record).
    if _reject_unreadable_records(con, "raw_json", whole_document_allowed=False, remove=False):
        raise FastReadFailed("a record too long or nested too deep for a batch read")
    no_reader_rejects(con)


class FastReadFailed(Exception):
    """A typed bulk read (typed_json_rows) gave up on this file: a line that is not JSON, or a value of another
    type than the column expects. The runner rolls the file's transaction back and stages the file again with
    `IngestContext.careful` set, through load_json_records, which turns each bad line into a quarantine row."""


def typed_json_rows(src: Source, columns: dict) -> str | None:
    """SQL for a relation reading the JSON lines of `src` straight into typed columns, each line parsed once
    and nothing copied first (`columns`: key → DuckDB type, or a nested dict for an object). None when the
    file needs the careful reader: not JSON lines, or a byte-order mark DuckDB would read as part of line 1.

    No line numbers: the read keeps file order (preserve_insertion_order), so a table created from it
    numbers its rows by position, which the runner uses (see _conform_staged). DuckDB skips blank lines
    here as read_json_objects does, so the numbers are the same non-blank line numbers the careful reader
    gives. Whoever runs the SQL turns a duckdb.Error into FastReadFailed."""
    if src.container != "jsonl" or _bom_first_line(src) is not None:
        return None
    # DuckDB's buffers hold twice the maximum object size: a line longer than MAX_RECORD_BYTES (or nested deeper
    # than MAX_JSON_DEPTH, DuckDB's own limit here) fails the typed read, and the careful reader quarantines it.
    return (
        f"read_json({sql_string(str(src.path))}, format = 'newline_delimited', "
        f"columns = {json_columns_literal(columns)}, "
        f"compression = {sql_string(src.duckdb_compression)}, maximum_object_size = {MAX_RECORD_BYTES // 2})"
    )


def json_columns_literal(columns: dict) -> str:
    return (
        "{" + ", ".join(f"{sql_string(key)}: {sql_string(duckdb_type(value))}" for key, value in columns.items()) + "}"
    )


def duckdb_type(spec) -> str:
    """A json_transform-style structure ({key: type | {…} | [{…}]}) as a DuckDB type name."""
    if isinstance(spec, dict):
        return "STRUCT(" + ", ".join(f"{quote_ident(key)} {duckdb_type(value)}" for key, value in spec.items()) + ")"
    if isinstance(spec, list):
        return duckdb_type(spec[0]) + "[]"
    return spec


def json_transform_spec(spec: dict) -> str:
    """The same structure as the JSON text json_transform takes, as a SQL string literal."""
    import json

    return sql_string(json.dumps(spec, separators=(",", ":")))


def sql_string(text: str) -> str:
    """A SQL string literal of any text (standard quoting: a quote is doubled; DuckDB gives backslashes no meaning)."""
    return "'" + text.replace("'", "''") + "'"


def starts_with_bom(src: Source) -> bool:
    """The file starts with a UTF-8 byte-order mark (Windows tools write it): its first line needs repair."""
    return _bom_first_line(src) is not None


def _bom_first_line(src: Source) -> str | None:
    """The first line without its byte-order mark when the file starts with one (Windows tools write it)."""
    import gzip
    import zlib

    try:
        opener = gzip.open if src.compression == "gzip" else open
        with opener(src.path, "rb") as handle:
            if handle.read(3) != b"\xef\xbb\xbf":
                return None
            return handle.readline(MAX_JSON_OBJECT_BYTES).decode("utf-8", errors="replace").rstrip("\r\n")
    except (OSError, EOFError, zlib.error):
        return None  # the read below reports the damaged file


def load_csv_rows(con: duckdb.DuckDBPyConnection, src: Source, table: str = "raw_rows") -> None:
    """`table(source_row, c0 … cN VARCHAR)` in header order; rows with the wrong number of fields are
    left in `reader_rejects(source_row, reason)` (every reader creates it). Columns are positional so no
    input text becomes SQL. One pass with DuckDB's reject store: a failed read would abort the ingest
    transaction, so malformed rows must never raise.

    Rows are numbered by their CSV record (RFC 4180): the header is row 1, each record after it the next
    number, a record whose quoted fields hold line breaks is one row, blank lines are no row.

    A damaged file (DuckDB's parser stops on a stray carriage return or mixed line endings, or an
    unterminated quote made it swallow the rows after it) is read again record by record, see
    _load_csv_lines; so is a file with a malformed row and blank lines, whose rows DuckDB numbers otherwise.
    Well-formed files take only the one read (plus two catalog-sized queries, see _save_ingest_context)."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(src.header))) + "}"
    for name in (table, f"{table}_read", "reader_rejects", "csv_rejects", "csv_reject_scans"):
        drop_relation(con, name)
    saved_context = _save_ingest_context(con)
    try:
        con.execute(
            f"""CREATE TEMP TABLE {table}_read AS
                SELECT *
                FROM read_csv(?, header = true, columns = {columns}, delim = ?, quote = '"', escape = '"',
                              auto_detect = false, compression = ?, max_line_size = {MAX_RECORD_BYTES},
                              encoding = 'utf-8', ignore_errors = true, store_rejects = true,
                              rejects_table = 'csv_rejects', rejects_scan = 'csv_reject_scans')""",
            [str(src.path), src.csv_delimiter, src.duckdb_compression],
        )
    except Exception as exc:
        if not _needs_line_reader(src, exc):
            raise _read_error(src, exc) from None
        _restart_aborted_transaction(con, saved_context)
        _load_csv_lines(con, src, table)
        return
    # DuckDB may store two rejects for one line: count and keep each line once.
    rejected_lines, unterminated = con.execute(
        "SELECT count(DISTINCT line), count(*) FILTER (WHERE error_type = 'UNQUOTED VALUE') FROM csv_rejects"
    ).fetchall()[0]
    if unterminated or (rejected_lines and _has_blank_line(src)):
        # An unterminated quote runs on into the next lines, which are then neither read nor rejected. And
        # DuckDB counts blank lines in a rejected row's number, never in a good row's: the records reader
        # numbers both the same way.
        _load_csv_lines(con, src, table)
        return
    con.execute(
        f"""CREATE TEMP TABLE reader_rejects AS
            SELECT line AS source_row, 'malformed CSV row: ' || CASE
                       WHEN bool_or(error_type = 'LINE SIZE OVER MAXIMUM')
                           THEN 'record longer than the {MAX_RECORD_MB} MB a record may be: not read'
                       ELSE min(error_message) END AS reason
            FROM csv_rejects GROUP BY line ORDER BY line"""
    )
    if not rejected_lines:
        # The rows are read in file order, one per record after the header: a row's position is its record
        # number (no window over the whole file). Row ids of a table made inside a transaction start at a
        # large offset, hence the first one is subtracted.
        first = one_row(con.execute(f"SELECT min(rowid) FROM {table}_read"))[0] or 0
        con.execute(f"CREATE TEMP VIEW {table} AS SELECT *, rowid - {int(first)} + 2 AS source_row FROM {table}_read")
    else:
        # Good rows keep file order; number them by the record numbers not taken by rejected rows (DuckDB
        # numbers a rejected row by its record; no blank line precedes it, see above).
        con.execute(
            f"""CREATE TEMP TABLE {table} AS
                WITH good AS (SELECT *, row_number() OVER () AS k FROM {table}_read),
                     free_lines AS (
                        SELECT line, row_number() OVER (ORDER BY line) AS k
                        FROM range(2, (SELECT count(*) FROM good) + (SELECT count(*) FROM reader_rejects) + 2) r(line)
                        WHERE line NOT IN (SELECT source_row FROM reader_rejects))
                SELECT good.* EXCLUDE (k), free_lines.line AS source_row FROM good JOIN free_lines USING (k)
                ORDER BY source_row"""
        )
    con.execute("DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_reject_scans")


# The runner's tables that exist before an adapter's read, in the ingest transaction.
_RUNNER_TABLES = ("ingest_ctx", "ingest_files")


def _save_ingest_context(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[list, list]]:
    """The runner's `ingest_ctx` and `ingest_files` (columns and rows) that exist: a read that fails aborts the
    ingest transaction, and they are the only things in it before an adapter's read (the runner creates them,
    every tabular adapter reads its file first). A few catalog-sized queries; no file is touched."""
    saved = {}
    for table in _RUNNER_TABLES:
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
            "AND database_name = 'temp' ORDER BY column_index",
            [table],
        ).fetchall()
        if columns:
            saved[table] = columns, con.execute(f"SELECT * FROM {table}").fetchall()
    return saved


def _restart_aborted_transaction(con: duckdb.DuckDBPyConnection, saved: dict[str, tuple[list, list]]) -> None:
    """After DuckDB aborted the ingest transaction on a failed read: roll it back, begin a new one (the runner
    commits or rolls back as usual) and put the runner's tables back as they were."""
    import duckdb

    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        return  # no transaction was open (autocommit): the failed statement took nothing with it
    con.execute("BEGIN TRANSACTION")
    for table in _RUNNER_TABLES:
        if table not in saved:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            continue
        columns, rows = saved[table]
        # our own column names and types, from the catalog; only the values are bound
        select = ", ".join(f"CAST(? AS {data_type}) AS {quote_ident(name)}" for name, data_type in columns)
        selects = [f"SELECT {select}" for _ in rows] or [f"SELECT {select} WHERE false"]
        values = [value for row in rows for value in row] or [None] * len(columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS " + " UNION ALL ".join(selects), values)


# Regular-expression escapes of the delimiters sources.py sniffs.
_DELIMITER_PATTERNS = {",": ",", ";": ";", "\t": "\\t", "|": "\\|"}


def _has_blank_line(src: Source) -> bool:
    """Whether a blank line (empty, or carriage returns only) comes before the file's last content. One pass
    over the bytes in 1 MiB blocks, nothing kept (a blank line inside a quoted field counts too: the records
    reader then numbers the rows, which costs time, never a wrong number)."""
    import gzip
    import re
    import zlib

    blank = re.compile(rb"\n\r*\n\r*[^\r\n]")
    try:
        opener = gzip.open if src.compression == "gzip" else open
        with opener(src.path, "rb") as handle:
            tail = b""
            while block := handle.read(1 << 20):
                if blank.search(tail + block):
                    return True
                tail = block[-64:]
    except (OSError, EOFError, zlib.error):
        return True  # the records reader reports the damage
    return False


def _load_csv_lines(con: duckdb.DuckDBPyConnection, src: Source, table: str) -> None:
    """The damaged-file reader: the file's physical lines (split on LF) joined into CSV records, each split into
    fields in SQL. RFC 4180: a quoted field may hold line breaks (and "" is a quote), so a line with an odd
    number of quotes opens a record that the next such line closes. The pair is one record when the lines from
    one to the other are well-formed CSV (every quote where RFC 4180 allows it), as DuckDB would read them; else
    the opening line is damaged (an unterminated or misplaced quote) and stands alone, so one damaged line never
    swallows its neighbours. Of consecutive valid pairs sharing a line, the first is taken, then every second
    (the closing line of one is the opening line of the next only if the first is not taken).

    Each record after the header is loaded, rejected with its row, first line and reason (not UTF-8,
    unterminated or misplaced quote, stray carriage return, wrong number of fields, longer than
    MAX_RECORD_BYTES), or skipped when blank (CR-only lines included; DuckDB skips blank lines too). Rows are
    numbered by record, as DuckDB's reader numbers them: the header is 1, blank lines are no row. Fields follow
    DuckDB's reading of a well-formed record: "" inside quotes is a quote, spaces around a quoted field are
    dropped, an empty field is NULL. The file is held in memory (Arrow splits it); well-formed files never come
    here."""
    import pyarrow as pa
    import pyarrow.compute as pc

    delimiter = _DELIMITER_PATTERNS[src.csv_delimiter]
    # One field and the delimiter after it, matched against `record || delimiter`: every match is non-empty,
    # and a field is only what the delimiter (or the end of the record) closes. Group 1 = quoted (may hold line
    # breaks), 2 = unquoted (may not).
    field = f'(?: *"((?:[^"]|"")*)" *|([^{delimiter}"\\r\\n][^{delimiter}\\r\\n]*))?{delimiter}'
    try:
        compression = "gzip" if src.compression == "gzip" else None
        with pa.input_stream(str(src.path), compression=compression) as stream:
            data = stream.read_buffer()
        offsets = pa.array([0, data.size], pa.int64()).buffers()[1]
        whole_file = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, data])
        lines = pc.split_pattern(whole_file, pattern=b"\n")  # one list of every line, split by Arrow
        # each line's quote count, beside it (a list of the same length): its parity says whether the line
        # leaves a quoted field open
        quotes = pa.LargeListArray.from_arrays(
            pa.array([0, len(lines.values)], pa.int64()), pc.count_substring(lines.values, pattern=b'"')
        )
    except (OSError, EOFError, MemoryError, pa.ArrowException) as exc:
        raise _read_error(src, exc) from None
    del data, whole_file
    width = len(src.header)
    con.register("csv_file_lines", pa.table({"lines": lines, "quotes": quotes}))
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE csv_physical AS
                SELECT line_no, try(decode(raw)) AS text, octet_length(raw) AS bytes, q % 2 = 1 AS odd,
                       sum(q % 2) OVER (ORDER BY line_no ROWS UNBOUNDED PRECEDING) AS odd_upto
                FROM (SELECT generate_subscripts(lines, 1) AS line_no, unnest(lines) AS raw, unnest(quotes) AS q
                      FROM csv_file_lines)"""
        )
    finally:
        con.unregister("csv_file_lines")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE csv_spans AS
            -- candidate k: from the k-th odd line to the next one (the last odd line closes nothing)
            WITH members AS (
                SELECT odd_upto AS k, line_no, text, bytes FROM csv_physical WHERE odd_upto >= 1
                UNION ALL
                SELECT odd_upto - 1 AS k, line_no, text, bytes FROM csv_physical WHERE odd AND odd_upto >= 2
            ),
            sized AS (
                SELECT k, min(line_no) AS first_line, max(line_no) AS last_line, sum(bytes) AS bytes,
                       bool_and(text IS NOT NULL) AS utf8
                FROM members GROUP BY k
                HAVING k < (SELECT count(*) FROM csv_physical WHERE odd) AND count(*) > 1
            ),
            joined AS (
                -- only spans that can be a record are joined (a damaged quote can reach far)
                SELECT s.k, s.first_line, s.last_line,
                       rtrim(string_agg(m.text, chr(10) ORDER BY m.line_no), chr(13)) AS body
                FROM sized s JOIN members m USING (k)
                WHERE s.utf8 AND s.bytes <= {MAX_RECORD_BYTES}
                GROUP BY ALL
            ),
            valid AS (SELECT * FROM joined WHERE regexp_full_match(body || ?, '(?:{field})+')),
            runs AS (SELECT *, k - row_number() OVER (ORDER BY k) AS run FROM valid)
            SELECT k, first_line, body
            FROM (SELECT *, row_number() OVER (PARTITION BY run ORDER BY k) AS nth FROM runs)
            WHERE nth % 2 = 1""",
        [src.csv_delimiter],
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE csv_lines AS
            WITH records AS (
                SELECT first_line, body AS text, true AS spans, NULL::BIGINT AS bytes FROM csv_spans
                UNION ALL
                -- every other line is a record of its own (a line of span k: between its odd lines, or its closing one)
                SELECT line_no, text, false, bytes FROM csv_physical
                WHERE odd_upto NOT IN (SELECT k FROM csv_spans)
                  AND NOT (odd AND odd_upto - 1 IN (SELECT k FROM csv_spans))
            ),
            numbered AS (
                -- the header is record 1 (the record holding line 1); blank lines are no record
                SELECT *, row_number() OVER (ORDER BY first_line) AS record_no
                FROM records
                WHERE first_line = 1 OR text IS NULL OR replace(text, chr(13), '') <> ''
            ),
            checked AS (
                SELECT record_no, first_line, text IS NULL AS not_utf8,
                       coalesce(bytes, 0) > {MAX_RECORD_BYTES} AS too_long,
                       body, has_quote,
                       text IS NOT NULL AND coalesce(bytes, 0) <= {MAX_RECORD_BYTES} AND CASE WHEN has_quote
                           THEN regexp_full_match(body || ?, '(?:{field})+')
                           ELSE NOT contains(body, chr(13)) END AS well_formed
                FROM (SELECT *, CASE WHEN spans THEN text ELSE rtrim(text, chr(13)) END AS body,
                             contains(text, '"') AS has_quote FROM numbered)
                WHERE first_line > 1),
            split AS (
                SELECT *,
                       CASE WHEN well_formed AND has_quote THEN regexp_extract_all(body || ?, '{field}', 1) END
                           AS quoted,
                       CASE WHEN well_formed AND has_quote THEN regexp_extract_all(body || ?, '{field}', 2) END
                           AS unquoted
                FROM checked)
            -- most records hold no quote at all: a plain split gives the same fields, many times faster
            SELECT record_no, first_line, not_utf8, too_long, well_formed, body,
                   CASE WHEN NOT well_formed THEN NULL
                        WHEN NOT has_quote THEN list_transform(string_split(body, ?), lambda v: nullif(v, ''))
                        ELSE list_transform(quoted, lambda q, i: nullif(coalesce(replace(q, '""', '"'),
                                                                                 unquoted[i]), ''))
                   END AS fields
            FROM split""",
        [src.csv_delimiter] * 4,
    )
    select = ", ".join(f"fields[{i + 1}] AS c{i}" for i in range(width))
    drop_relation(con, table)
    con.execute(
        f"""CREATE TEMP TABLE {table} AS
            SELECT {select}, record_no AS source_row FROM csv_lines
            WHERE well_formed AND len(fields) = {width} ORDER BY record_no"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE reader_rejects AS
            SELECT record_no AS source_row, 'malformed CSV row: line ' || first_line || ': ' || CASE
                       WHEN not_utf8 THEN 'not UTF-8 text'
                       WHEN too_long THEN 'longer than the {MAX_RECORD_MB} MB a record may be: not read'
                       WHEN NOT well_formed AND (length(body) - length(replace(body, '"', ''))) % 2 = 1
                           THEN 'unterminated quote'
                       WHEN NOT well_formed AND contains(body, chr(13)) THEN 'stray carriage return'
                       WHEN NOT well_formed THEN 'misplaced quote'
                       ELSE len(fields) || CASE WHEN len(fields) = 1 THEN ' field' ELSE ' fields' END
                            || ', header has {width}' END AS reason
            FROM csv_lines WHERE NOT well_formed OR len(fields) <> {width} ORDER BY record_no"""
    )
    con.execute(
        "DROP TABLE IF EXISTS csv_physical; DROP TABLE IF EXISTS csv_spans; DROP TABLE IF EXISTS csv_lines; "
        "DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_reject_scans"
    )


def load_parquet_rows(con: duckdb.DuckDBPyConnection, src: Source, table: str = "raw_rows") -> None:
    """`table(source_row, c0 … cN VARCHAR)` like load_csv_rows, from a Parquet file: a view, so the staging
    statement reads the columns it needs straight from the file (Parquet is columnar; nothing is copied).
    The file's metadata is read here, so a file that is not Parquet fails with its own message."""
    select = ", ".join(f"CAST({quote_ident(name)} AS VARCHAR) AS c{i}" for i, name in enumerate(src.header))
    drop_relation(con, table)
    drop_relation(con, "reader_rejects")
    try:
        con.execute("SELECT count(*) FROM parquet_metadata(?)", [str(src.path)]).fetchall()
    except Exception as exc:
        raise _read_error(src, exc) from None
    con.execute(
        f"CREATE TEMP VIEW {table} AS SELECT {select}, file_row_number + 1 AS source_row "
        f"FROM read_parquet({sql_string(str(src.path))}, file_row_number = true)"
    )
    no_reader_rejects(con)


def drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a temp table or view of ours by name, whichever it is (readers make either)."""
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? AND table_catalog = 'temp'", [name]
    ).fetchone()
    if kind:
        con.execute(f"DROP {'VIEW' if kind[0] == 'VIEW' else 'TABLE'} {quote_ident(name)}")


def load_tabular(con: duckdb.DuckDBPyConnection, src: Source, table: str = "raw_rows") -> None:
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


def stage_field_view(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    view: str,
    fields: dict[str, tuple[str, ...]],
    json_fields: set[str] | frozenset[str] = frozenset(),
    *,
    json_loaded: bool = False,
) -> None:
    """TEMP VIEW `view` (our own name, never input): source_row, doc_problem (why a JSON line is not a record)
    and one text column per field, read from the first of its aliases present. CSV / Parquet columns are
    matched without regard to case; JSON keys exactly (`json_fields` are kept as JSON text). `json_loaded`:
    the caller already filled raw_json (for example unwrapped API pages)."""
    if src.container in ("csv", "parquet"):
        load_tabular(con, src)
        projection = ", ".join(f"{column_ref(src, *names)} AS {field}" for field, names in fields.items())
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT source_row, CAST(NULL AS VARCHAR) AS doc_problem, "
            f"{projection} FROM raw_rows"
        )
        return
    if not json_loaded:
        load_json_records(con, src)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT source_row, "
        f"CASE WHEN doc IS NULL THEN 'not valid JSON' WHEN json_type(doc) <> 'OBJECT' "
        f"THEN 'not a JSON object' END AS doc_problem, {json_projection(fields, json_fields)} "
        f"FROM (SELECT source_row, doc, json_transform(doc, '{json_struct(fields, json_fields)}') AS t "
        f"FROM raw_json)"
    )


def _json_names(names: tuple[str, ...]) -> list[str]:
    """JSON keys are matched exactly, but a STRUCT cannot hold two names differing only in case: keep the
    first spelling of each (CSV / Parquet headers are matched without regard to case anyway)."""
    return [name for i, name in enumerate(names) if name.lower() not in {n.lower() for n in names[:i]}]


def json_struct(fields: dict[str, tuple[str, ...]], json_fields: set[str] | frozenset[str]) -> str:
    """The json_transform structure reading every alias of every field once (our own names, never input)."""
    keys: dict[str, str] = {}
    for field, names in fields.items():
        for name in _json_names(names):
            keys[name] = "JSON" if field in json_fields else "VARCHAR"
    return "{" + ",".join(f'"{name}":"{kind}"' for name, kind in keys.items()) + "}"


def json_projection(fields: dict[str, tuple[str, ...]], json_fields: set[str] | frozenset[str]) -> str:
    parts = []
    for field, names in fields.items():
        refs = [
            f'CAST(t."{name}" AS VARCHAR)' if field in json_fields else f't."{name}"' for name in _json_names(names)
        ]
        expr = refs[0] if len(refs) == 1 else f"coalesce({', '.join(refs)})"
        parts.append(f"{expr} AS {field}")
    return ", ".join(parts)


def _needs_line_reader(src: Source, exc: Exception) -> bool:
    """DuckDB's strict CSV parser gave up on the whole file: a stray carriage return or mixed line endings,
    or (gzip only) an unterminated quote, for which it asks for a multi-GiB buffer."""
    text = str(exc)
    return "state machine reached an invalid state" in text or (
        src.compression == "gzip" and "could not allocate block" in text
    )


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
    return InputError(
        src.display, f"cannot be read ({first})", row=row, fix="check the file is complete and well-formed"
    )
