"""RFC 4180 CSV in every CSV reader (issue 14): a quoted field may hold line breaks and doubled quotes, lines may
end in CRLF, and rows are numbered by their record (header = 1; a record spanning lines is one row; blank lines
are no row) — by DuckDB's reader for well-formed files and by the records reader for damaged ones alike."""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from pathlib import Path

import pytest
from test_fuzz_adapters import GENERIC_CSV_MAP, Loaded, check_invariants, write_file

from costlens.config import ColumnMapping
from costlens.ingest.sources import open_source

from conftest import FIXTURES

CSV_FIXTURES = [
    ("generic/tokens_by_row.csv", "generic", GENERIC_CSV_MAP),
    ("outcomes/outcomes.csv", "outcomes", None),
    ("focus/focus_1_2_azure_openai.csv", "focus", None),
    ("focus/focus_1_3_bedrock.csv", "focus", None),
    ("aws_cur/cur2_bedrock.csv", "aws_cur", None),
    ("azure_cost/ea_actual_cost.csv", "azure_cost", None),
    ("azure_cost/mca_amortized_cost.csv", "azure_cost", None),
    ("gcp_billing/standard_export.csv", "gcp_billing", None),
    ("openai_billing/usage_export.csv", "openai_billing", None),
    ("openai_billing/cost_export.csv", "openai_billing", None),
    ("anthropic_billing/console_usage.csv", "anthropic_billing", None),
    ("anthropic_billing/console_cost.csv", "anthropic_billing", None),
    ("helicone/requests.csv", "helicone", None),
    ("helicone/export_cli_old.csv", "helicone", None),
    ("litellm/spend_logs.csv", "litellm", None),
    ("litellm/error_logs.csv", "litellm", None),
]
# A free-text column no adapter reads, on every row: a line break, a CRLF, doubled quotes, a delimiter.
NOTE = 'first line\nsecond "quoted" line,\r\nthird'


def _with_note(raw: bytes, line_end: str) -> tuple[bytes, int]:
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [row + ([f"{NOTE} {i}"] if i else ["x_costlens_note"]) for i, row in enumerate(rows) if row]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=line_end).writerows(rows)
    return out.getvalue().encode(), len(rows)


def _quarantine_key(rows):
    # the reason of a malformed row names its physical line and field counts, which the added column moves
    return Counter(
        (row, disposition, "malformed CSV row" if reason.startswith("malformed CSV row") else reason)
        for row, disposition, reason in rows
    )


def _load(con, path: Path, adapter: str, mapping) -> tuple[Loaded, list]:
    """The ingest of one file, and the row numbers of what it loaded."""
    loaded = Loaded(con, path, adapter, mapping)
    table = loaded.file.target  # our own table name
    rows = sorted(r for (r,) in con.execute(f"SELECT source_row FROM {table}").fetchall()) if table else []
    return loaded, rows


@pytest.fixture(scope="module")
def csv_con():
    from costlens import db

    connection = db.connect(":memory:")
    yield connection
    connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["lf", "crlf", "damaged", "gzip"])
@pytest.mark.parametrize(("relative", "adapter", "mapping"), CSV_FIXTURES, ids=[c[0] for c in CSV_FIXTURES])
def test_quoted_line_breaks_load_every_record_under_its_own_number(
    relative, adapter, mapping, variant, csv_con, tmp_path
):
    original_path = tmp_path / "original.csv"
    write_file(original_path, (FIXTURES / relative).read_bytes())
    original, original_rows = _load(csv_con, original_path, adapter, mapping)
    assert original.file.status == "ingested", original.file.message

    data, _ = _with_note((FIXTURES / relative).read_bytes(), "\r\n" if variant == "crlf" else "\n")
    name = "noted.csv"
    if variant == "damaged":
        # a line of bare carriage returns after the header: DuckDB's parser gives up on the whole file, and the
        # records reader reads it (the CR-only line is blank: no row)
        head, rest = data.split(b"\n", 1)
        data = head + b"\n\r\r\r\n" + rest
    if variant == "gzip":
        data, name = gzip.compress(data, mtime=0), "noted.csv.gz"
    path = tmp_path / name
    write_file(path, data)
    assert len(open_source(path).header) == len(open_source(original_path).header) + 1
    got, got_rows = _load(csv_con, path, adapter, mapping)
    assert got.file.status == "ingested", got.file.message
    check_invariants(got, path, variant)
    # every record loads exactly as before, under the same row number
    assert got.rows == original.rows
    assert (got.file.rows_read, got.file.rows_loaded, got.file.rows_duplicate) == (
        original.file.rows_read,
        original.file.rows_loaded,
        original.file.rows_duplicate,
    )
    assert _quarantine_key(got.quarantine) == _quarantine_key(original.quarantine)
    assert got_rows == original_rows


CSV_MAP = ColumnMapping(
    columns={
        "call_id": "id",
        "ts": "created_at",
        "model": "model",
        "input_tokens": "prompt_tokens",
        "output_tokens": "completion_tokens",
        "feature": "feature",
    },
    constants={"provider": "openai"},
)
HEAD = b"id,created_at,model,prompt_tokens,completion_tokens,feature\n"


def _row(i: int, feature: bytes = b"chat") -> bytes:
    return b"x%d,2026-10-01T00:00:00Z,gpt-4o,10,1," % i + feature + b"\n"


@pytest.mark.parametrize(
    ("name", "data", "rows", "rejected"),
    [
        # a quoted line break, doubled quotes and a delimiter inside a field: one record, read exactly
        (
            "breaks",
            HEAD + _row(1) + _row(2, b'"support\nbot ""v2"", beta"') + _row(3),
            {2: "chat", 3: 'support\nbot "v2", beta', 4: "chat"},
            {},
        ),
        (
            "crlf",
            (HEAD + _row(1) + _row(2, b'"a\r\nb"') + _row(3)).replace(b"\n", b"\r\n").replace(b"a\r\r\nb", b"a\r\nb"),
            {2: "chat", 3: "a\r\nb", 4: "chat"},
            {},
        ),
        # a record spanning lines, then a malformed row: the rejected row keeps its record number (4, line 6)
        (
            "breaks_then_bad",
            HEAD + _row(1) + _row(2, b'"a\nb\nc"') + b"x3,bad\n" + _row(4),
            {2: "chat", 3: "a\nb\nc", 5: "chat"},
            {4: "Expected Number of Columns"},
        ),
        # blank lines are no rows, before or after a malformed one (DuckDB's reject numbering counts them: the
        # records reader numbers this file)
        (
            "blank_then_bad",
            HEAD + _row(1) + b"\n" + _row(2, b'"a\nb"') + b"\n" + b"x3,bad\n" + _row(4),
            {2: "chat", 3: "a\nb", 5: "chat"},
            {4: "line 7: 2 fields, header has 6"},
        ),
        # a damaged file (a stray CR line) holding a quoted line break: the records reader joins the record
        (
            "damaged_with_breaks",
            HEAD + _row(1) + b"\r\r\n" + _row(2, b'"a\nb"') + b'x3,2026-10-01T00:00:00Z,"gpt\n' + _row(4),
            {2: "chat", 3: "a\nb", 5: "chat"},
            {4: "line 6: unterminated quote"},
        ),
        # two records with line breaks back to back, and one whose break sits between two quoted fields
        (
            "adjacent_spans",
            HEAD
            + _row(1, b'"a\nb"')
            + _row(2, b'"c\nd"')
            + b'x3,"2026-10-01\nT00:00:00Z",gpt-4o,10,1,"e\nf"\n'
            + b"\r\r\n",
            {2: "a\nb", 3: "c\nd"},
            {4: "timestamp"},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_records_are_read_and_numbered_by_record(name, data, rows, rejected, csv_con, tmp_path):
    path = tmp_path / f"{name}.csv"
    write_file(path, data)
    got = Loaded(csv_con, path, "generic", CSV_MAP)
    assert got.file.status == "ingested", got.file.message
    check_invariants(got, path, name)
    loaded = dict(csv_con.execute("SELECT source_row, feature FROM calls ORDER BY source_row").fetchall())
    assert loaded == rows
    assert {row: reason for row, _, reason in got.quarantine}.keys() == rejected.keys(), got.quarantine
    for row, _, reason in got.quarantine:
        assert rejected[row] in reason, (row, reason)


def test_readme_says_how_records_are_numbered():
    readme = (FIXTURES.parent.parent / "README.md").read_text()
    assert "CSV rows by their record (RFC 4180)" in readme and "spans" in readme
