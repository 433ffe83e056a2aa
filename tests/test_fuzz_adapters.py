"""Parsers under attack: every adapter's real fixtures, broken by Hypothesis (hostile field values, damaged
lines, whole-file damage), go through the real runner. Whatever the input: no exception escapes (a file
that cannot be read fails with costlens' own one-line message naming it), the accounting identity holds,
every quarantined row has a row number and a reason, and every record the mutation did not touch loads
exactly as it does from the same file without the touched record.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from pathlib import Path

import fuzzgen
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from costlens import db
from costlens.config import ColumnMapping, Config
from costlens.errors import InputError
from costlens.ingest.base import IngestContext
from costlens.ingest.runner import choose_adapter, ingest_paths
from costlens.ingest.sources import open_source

from conftest import FIXTURES

GENERIC_CSV_MAP = ColumnMapping(
    columns={
        "ts": "when",
        "model": "deployment",
        "input_tokens": "prompt",
        "cache_read_tokens": "cached",
        "output_tokens": "completion",
        "status": "outcome",
    },
    constants={"provider": "azure.openai"},
)
BLOCK_MAP = ColumnMapping(
    constants={"model": "claude-sonnet-4-5", "provider": "anthropic", "ts": "2026-10-01T09:00:00Z", "feature": "chat"}
)
BLOCK_TRACE = (
    "\n".join(
        json.dumps(r)
        for r in [
            {"timestamp": 0, "input_length": 1500, "output_length": 10, "hash_ids": [1, 2, 3]},
            {"timestamp": 1000, "input_length": 2000, "output_length": 20, "hash_ids": [1, 2, 3, 4]},
            {"timestamp": 2000, "input_length": 900, "output_length": 30, "hash_ids": [1, 9]},
            {"timestamp": 3000, "input_length": 400, "output_length": 5, "hash_ids": [7]},
        ]
    )
    + "\n"
)
CLAUDE = "claude_code/projects/-Users-dev-acme-webshop/5f1c2a9e-0b7d-4c1e-9a53-2e8f6d4b7a10.jsonl"

# (fixture, adapter, mapping): at least one file per adapter, both containers where an adapter reads both.
TARGETS = [
    ("otel/otlp_small.jsonl", "otel", None),
    ("openai/app_log.jsonl", "openai", None),
    ("anthropic/app_log.jsonl", "anthropic", None),
    ("generic/tokens_by_row.csv", "generic", GENERIC_CSV_MAP),
    ("outcomes/outcomes.csv", "outcomes", None),
    ("outcomes/outcomes_feedback.jsonl", "outcomes", None),
    ("focus/focus_1_2_azure_openai.csv", "focus", None),
    ("litellm/spend_logs.csv", "litellm", None),
    ("litellm/spend_logs.json", "litellm", None),
    ("helicone/requests.jsonl", "helicone", None),
    ("helicone/requests.csv", "helicone", None),
    ("langfuse/observations.jsonl", "langfuse", None),
    ("langfuse/observations_page.json", "langfuse", None),
    ("langfuse/scores.jsonl", "langfuse", None),
    (CLAUDE, "claude_code", None),
    ("openai_billing/costs_page.json", "openai_billing", None),
    ("openai_billing/usage_export.csv", "openai_billing", None),
    ("anthropic_billing/cost_report_pages.jsonl", "anthropic_billing", None),
    ("anthropic_billing/console_usage.csv", "anthropic_billing", None),
    ("aws_cur/cur2_bedrock.csv", "aws_cur", None),
    ("azure_cost/ea_actual_cost.csv", "azure_cost", None),
    ("gcp_billing/detailed_export.jsonl", "gcp_billing", None),
    ("gcp_billing/standard_export.csv", "gcp_billing", None),
    ("block_trace", "block_trace", BLOCK_MAP),
]
# Deterministic (derandomize) so CI sees the same inputs every run; raise it locally for a deeper search.
EXAMPLES_PER_TARGET = int(os.environ.get("COSTLENS_FUZZ_EXAMPLES", "3"))

# Lineage differs between a file and its reference copy; everything else about a loaded row must not.
from costlens.pricing.stored import STORED_COLUMNS  # noqa: E402

LINEAGE = {"call_id", "source_file", "source_sha256", "source_row", "run_id", "line_id", "source_format"}
# Block traces measure prefixes ACROSS rows (shared block runs): one row's change moves its neighbours' prefix.
CROSS_ROW = {"block_trace": {"prefix_hash", "prefix_tokens"}}
FIXED_MTIME_NS = 1_790_000_000 * 10**9
FACT_TABLES = (
    "calls",
    "outcomes",
    "billing_lines",
    "trace_context",
    "quarantine",
    "ingested_files",
    "call_content",
    "call_charges",  # a mutated file's calls have the reference's ids: their charges must not linger
    "unpriced_usage",
    "unpriced_charges",
    "ingest_runs",
)


def fixture_bytes(relative: str) -> bytes:
    return BLOCK_TRACE.encode() if relative == "block_trace" else (FIXTURES / relative).read_bytes()


def write_file(path: Path, data: bytes) -> None:
    """Every case file gets the same mtime: adapters that fall back to the file time for a row without one
    must give the mutated file and its reference the same time."""
    path.write_bytes(data)
    os.utime(path, ns=(FIXED_MTIME_NS, FIXED_MTIME_NS))


def fixture_suffix(relative: str) -> str:
    return ".jsonl" if relative == "block_trace" else Path(relative).suffix


@pytest.fixture(scope="module")
def fuzz_con():
    connection = db.connect(":memory:")
    yield connection
    connection.close()


def reset(con) -> None:
    for table in FACT_TABLES:
        con.execute(f"DELETE FROM {table}")  # our own table names


class Loaded:
    """What one ingest of one file produced."""

    def __init__(self, con, path: Path, adapter: str, mapping):
        reset(con)
        self.result = ingest_paths(con, [str(path)], Config(), fmt=adapter, mapping=mapping)
        (self.file,) = self.result.files
        self.rows: Counter = Counter()
        if self.file.status == "ingested":
            table = self.file.target
            # the stored cost is pricing's, not the adapter's (tests/test_pricing_stored.py compares it)
            skip = LINEAGE | CROSS_ROW.get(adapter, set()) | set(STORED_COLUMNS)
            columns = [
                name
                for (name,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND database_name <> 'temp' "
                    "ORDER BY column_index",
                    [table],
                ).fetchall()
                if name not in skip
            ]
            select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)  # identifiers from our schema
            self.rows = Counter(con.execute(f"SELECT {select} FROM {table}").fetchall())
        self.quarantine = con.execute("SELECT source_row, disposition, reason FROM quarantine").fetchall()
        self.table_rows = (
            con.execute(f"SELECT count(*) FROM {self.file.target}").fetchone()[0] if self.file.target else 0
        )


_reference_cache: dict[tuple[str, bytes], Loaded] = {}


def check_invariants(loaded: Loaded, path: Path, kind: str) -> None:
    f = loaded.file
    if f.status == "failed":
        # costlens' own error: one line that names the file
        assert f.message and "\n" not in f.message and str(path) in f.message, (kind, f.message)
        assert loaded.table_rows == 0 and loaded.quarantine == [], "a failed file must leave nothing behind"
        return
    assert f.status == "ingested", (kind, f.status)
    assert f.rows_read == f.rows_loaded + f.rows_duplicate + f.rows_quarantined + f.rows_skipped, (kind, f)
    assert loaded.table_rows >= f.rows_loaded  # billing rows may expand one line into several token types
    assert len(loaded.quarantine) == f.rows_quarantined + f.rows_skipped, (kind, f, loaded.quarantine)
    for row, disposition, reason in loaded.quarantine:
        assert row is not None and row >= 1, (kind, row, reason)
        assert disposition in ("rejected", "skipped") and reason and reason.strip(), (kind, reason)


def run_case(con, tmp_path: Path, relative: str, adapter: str, mapping, case: fuzzgen.Case, original: Loaded) -> None:
    path = tmp_path / f"case{fixture_suffix(relative)}"
    write_file(path, case.data)
    # detection over every adapter sees the damaged file too: it must decide or refuse, never crash
    try:
        src = open_source(path)
        if src.container not in ("empty", "unknown"):
            choose_adapter(src, IngestContext(config=Config(), mapping=mapping))
    except InputError as exc:
        assert str(path) in exc.one_line()
    mutated = Loaded(con, path, adapter, mapping)
    check_invariants(mutated, path, case.kind)
    if case.equal_to_original:
        assert mutated.file.status == "ingested", (case.kind, mutated.file.message)
        assert mutated.rows == original.rows, case.kind
        assert (mutated.file.rows_loaded, mutated.file.rows_duplicate) == (
            original.file.rows_loaded,
            original.file.rows_duplicate,
        ), case.kind
        return
    if case.reference is None:
        return
    key = (relative, case.reference)
    if key not in _reference_cache:
        ref_path = tmp_path / f"reference{fixture_suffix(relative)}"
        write_file(ref_path, case.reference)
        _reference_cache[key] = Loaded(con, ref_path, adapter, mapping)
    reference = _reference_cache[key]
    if reference.file.status != "ingested":
        return
    # one damaged record must not cost the file its other records
    assert mutated.file.status == "ingested", (case.kind, mutated.file.message)
    missing = reference.rows - mutated.rows
    if missing:
        # The touched record may now win a de-duplication its untouched twin won before (fuller usage):
        # then exactly one reference row is displaced, and the mutated file counts one more duplicate.
        displaced = sum(missing.values())
        assert displaced <= 1 and mutated.file.rows_duplicate > reference.file.rows_duplicate, (case.kind, missing)


def mutation(raw: bytes, relative: str, draw):
    tabular = fuzzgen.is_tabular(Path(relative))
    single_document = relative.endswith(".json")
    family = draw(st.sampled_from(["field", "field", "line", "file"]))
    if family == "field":
        if tabular:
            return fuzzgen.csv_cell_case(raw, draw)
        return fuzzgen.json_field_case(raw.decode(), single_document, draw)
    if family == "line" and not single_document:
        return fuzzgen.line_corruption_case(raw, tabular, draw)
    return fuzzgen.whole_file_case(raw, tabular, draw)


@pytest.mark.slow
@pytest.mark.parametrize(("relative", "adapter", "mapping"), TARGETS, ids=[t[0] for t in TARGETS])
def test_mutated_inputs_never_crash_nor_lose_good_rows(relative, adapter, mapping, fuzz_con, tmp_path):
    raw = fixture_bytes(relative)
    original_path = tmp_path / f"original{fixture_suffix(relative)}"
    write_file(original_path, raw)
    original = Loaded(fuzz_con, original_path, adapter, mapping)
    assert original.file.status == "ingested" and original.file.rows_loaded > 0, original.file

    # no shrinking: a failure already names the mutation (case.kind), and shrinking re-runs the runner
    @settings(
        max_examples=EXAMPLES_PER_TARGET,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def check(data):
        case = mutation(raw, relative, data.draw)
        run_case(fuzz_con, tmp_path, relative, adapter, mapping, case, original)

    check()


@pytest.mark.slow
def test_mixed_formats_in_one_directory_with_damage(tmp_path, fuzz_con):
    """Good files of several formats plus a broken one of each kind in one folder: each good file loads as it
    does alone, each broken one fails alone with its own one-line message."""
    drop = tmp_path / "drop"
    drop.mkdir()
    good = [
        "openai/app_log.jsonl",
        "litellm/spend_logs.csv",
        "aws_cur/cur2_bedrock.csv",
        "langfuse/observations_page.json",
        "outcomes/outcomes.csv",
    ]
    expected_loaded = {}
    for index, relative in enumerate(good):
        target = drop / f"good_{index}{Path(relative).suffix}"
        target.write_bytes((FIXTURES / relative).read_bytes())
        reset(fuzz_con)
        alone = ingest_paths(fuzz_con, [str(target)], Config()).files[0]
        expected_loaded[target.name] = (alone.format, alone.rows_loaded)
    (drop / "broken.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    (drop / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (drop / "empty.jsonl").write_bytes(b"")
    (drop / "array_of_numbers.json").write_text("[1, 2, 3]")
    reset(fuzz_con)
    result = ingest_paths(fuzz_con, [str(drop)], Config())
    by_name = {Path(f.path).name: f for f in result.files}
    for name, (fmt, loaded) in expected_loaded.items():
        assert (by_name[name].status, by_name[name].format, by_name[name].rows_loaded) == ("ingested", fmt, loaded)
    for name in ("broken.jsonl.gz", "binary.csv", "empty.jsonl", "array_of_numbers.json"):
        f = by_name[name]
        assert f.status == "failed" and name in f.message and "\n" not in f.message, (name, f)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relative", "adapter"), [("helicone/requests.jsonl", "helicone"), ("litellm/spend_logs.csv", "litellm")]
)
def test_ten_megabyte_single_line(relative, adapter, tmp_path, fuzz_con):
    """A 10 MB value on one line (a logged base64 image, say) is read, the row still loads or is quarantined
    with a reason, and its neighbours load as before."""
    raw = (FIXTURES / relative).read_bytes()
    original_path = tmp_path / f"original{Path(relative).suffix}"
    write_file(original_path, raw)
    original = Loaded(fuzz_con, original_path, adapter, None)
    huge = "A" * (10 * 1024 * 1024)
    if relative.endswith(".csv"):
        import csv
        import io

        rows = list(csv.reader(io.StringIO(raw.decode(), newline="")))
        column = [h.lower() for h in rows[0]].index("messages")
        rows[1][column] = json.dumps([{"role": "user", "content": huge}])
        data = fuzzgen._write_csv(rows)
    else:
        lines = raw.decode().splitlines()
        record = json.loads(lines[0])
        record["request_body"] = {"messages": [{"role": "user", "content": huge}]}
        lines[0] = json.dumps(record)
        data = ("\n".join(lines) + "\n").encode()
    assert len(data) > 10 * 1024 * 1024
    path = tmp_path / f"huge{Path(relative).suffix}"
    write_file(path, data)
    mutated = Loaded(fuzz_con, path, adapter, None)
    check_invariants(mutated, path, "10 MB line")
    assert mutated.file.status == "ingested", mutated.file.message
    assert mutated.file.rows_read == original.file.rows_read
    assert mutated.file.rows_loaded == original.file.rows_loaded


# ---------------------------------------------------------------- minimal reproductions of what the fuzz found


def _span_line(i: int, start: str) -> str:
    return json.dumps(
        {
            "trace_id": f"t{i}",
            "span_id": f"s{i}",
            "start_time": start,
            "end_time": "2026-10-01T00:00:01Z",
            "attributes": {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 1,
            },
        }
    )


GOOD_TS = "2026-10-01T00:00:00Z"
REGRESSIONS = {
    # parse_ts (sql/schema/002_macros.sql) cast a 31-digit epoch to BIGINT: the whole file failed
    "huge_epoch_timestamp.jsonl": (
        (_span_line(1, GOOD_TS) + "\n" + _span_line(2, "1" + "0" * 30) + "\n").encode(),
        2,
        1,
        1,
    ),
    # a UTF-8 byte-order mark made DuckDB reject line 1 of JSON lines
    "bom.jsonl": (b"\xef\xbb\xbf" + (_span_line(1, GOOD_TS) + "\n" + _span_line(2, GOOD_TS) + "\n").encode(), 2, 2, 0),
    # a damaged FIRST line of JSON lines sniffs as csv / unknown; the forced JSON reader then read the whole
    # file as one document and failed it
    "garbage_first_line.jsonl": (
        (b"\x00\x01\x02}{\n" + (_span_line(1, GOOD_TS) + "\n" + _span_line(2, GOOD_TS) + "\n").encode()),
        3,
        2,
        1,
    ),
    # … and read a top-level JSON array as one document
    "bom_array.json": (
        b"\xef\xbb\xbf" + json.dumps([json.loads(_span_line(1, GOOD_TS)), json.loads(_span_line(2, GOOD_TS))]).encode(),
        2,
        2,
        0,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_one_bad_value_or_a_bom_costs_no_good_row(name, tmp_path, fuzz_con):
    data, read, loaded, quarantined = REGRESSIONS[name]
    path = tmp_path / name
    write_file(path, data)
    got = Loaded(fuzz_con, path, "otel", None)
    check_invariants(got, path, name)
    f = got.file
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("ingested", read, loaded, quarantined), f


CSV_MAP = ColumnMapping(
    columns={
        "call_id": "id",
        "ts": "created_at",
        "model": "model",
        "input_tokens": "prompt_tokens",
        "output_tokens": "completion_tokens",
    },
    constants={"provider": "openai"},
)
CSV_HEAD = b"id,created_at,model,prompt_tokens,completion_tokens\n"
CSV_ROW = b"x%d,2026-10-01T00:00:00Z,gpt-4o,10,1\n"


@pytest.mark.parametrize(
    ("name", "data", "read", "loaded"),
    [
        # a line of bare carriage returns: DuckDB's strict CSV state machine fails the whole file
        ("cr_line", CSV_HEAD + CSV_ROW % 1 + b"\r\r\r\n" + CSV_ROW % 2, 2, 2),
        # an unterminated quote at the end of a field swallows the NEXT row without counting it
        ("bad_quote", CSV_HEAD + CSV_ROW % 1 + b'x2,2026-10-01T00:00:00Z,"gpt-4o\n' + CSV_ROW % 3 + CSV_ROW % 4, 4, 3),
    ],
    ids=["cr_line", "bad_quote"],
)
def test_one_damaged_csv_line_costs_no_other_row(name, data, read, loaded, tmp_path, fuzz_con):
    path = tmp_path / f"{name}.csv"
    write_file(path, data)
    got = Loaded(fuzz_con, path, "generic", CSV_MAP)
    check_invariants(got, path, name)
    assert got.file.status == "ingested", got.file.message
    assert (got.file.rows_read, got.file.rows_loaded) == (read, loaded), got.file  # every line accounted for


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


@pytest.mark.parametrize(
    ("name", "data", "read", "loaded", "rejected"),
    [
        # a CRLF export with one line cut before its CR: DuckDB's parser stops on the mixed line endings
        (
            "mixed_endings",
            _crlf(CSV_HEAD + CSV_ROW % 1 + CSV_ROW % 2) + b"x3,2026\n" + _crlf(CSV_ROW % 4),
            4,
            3,
            {4: "2 fields, header has 5"},
        ),
        # a bare carriage return inside an unquoted field
        (
            "stray_cr",
            CSV_HEAD + CSV_ROW % 1 + b"x2,2026-10-01T00:00:00Z,gpt\r-4o,10,1\n" + CSV_ROW % 3,
            3,
            2,
            {3: "stray carriage return"},
        ),
        # an unterminated quote on the last line, no newline after it
        ("quote_at_end", CSV_HEAD + CSV_ROW % 1 + CSV_ROW % 2 + b'x3,"2026', 3, 2, {4: "unterminated quote"}),
        # the fallback reads compressed files too
        (
            "bad_quote_gzip",
            gzip.compress(
                CSV_HEAD + CSV_ROW % 1 + b'x2,2026-10-01T00:00:00Z,"gpt-4o\n' + CSV_ROW % 3 + CSV_ROW % 4, mtime=0
            ),
            4,
            3,
            {3: "unterminated quote"},
        ),
        ("bom_cr_line", b"\xef\xbb\xbf" + CSV_HEAD + CSV_ROW % 1 + b"\r\r\r\n" + CSV_ROW % 2, 2, 2, {}),
        # a whitespace-only line: DuckDB stores two rejects for it; it is one row read and one quarantined
        ("spaces_line", CSV_HEAD + CSV_ROW % 1 + b"  \n" + CSV_ROW % 3, 3, 2, {3: "Found: 1"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_damaged_csv_lines_are_quarantined_by_line(name, data, read, loaded, rejected, tmp_path, fuzz_con):
    path = tmp_path / f"{name}.csv"
    write_file(path, data)
    got = Loaded(fuzz_con, path, "generic", CSV_MAP)
    check_invariants(got, path, name)
    assert got.file.status == "ingested", got.file.message
    assert (got.file.rows_read, got.file.rows_loaded) == (read, loaded), got.file
    assert {row: reason for row, _, reason in got.quarantine}.keys() == rejected.keys(), got.quarantine
    for row, disposition, reason in got.quarantine:
        assert disposition == "rejected" and rejected[row] in reason, (row, reason)
    # the good rows keep their values: every loaded call is one of ours, whole
    calls = fuzz_con.execute("SELECT call_id, model, input_tokens, output_tokens FROM calls").fetchall()
    assert all(model == "gpt-4o" and (inp, out) == (10, 1) for _, model, inp, out in calls), calls


@pytest.mark.slow
def test_damaged_csv_keeps_each_files_lineage(tmp_path, fuzz_con):
    """A damaged file read again line by line (after DuckDB aborted the ingest transaction) is recorded under
    its own name and run, between good files of the same run."""
    good_before, damaged, good_after = tmp_path / "a_good.csv", tmp_path / "b_damaged.csv", tmp_path / "c_good.csv"
    write_file(good_before, CSV_HEAD + CSV_ROW % 1)
    write_file(damaged, CSV_HEAD + CSV_ROW % 2 + b"\r\r\r\n" + b"x3,2026\n" + CSV_ROW % 4)
    write_file(good_after, CSV_HEAD + CSV_ROW % 5)
    reset(fuzz_con)
    result = ingest_paths(fuzz_con, [str(tmp_path)], Config(), fmt="generic", mapping=CSV_MAP)
    by_name = {Path(f.path).name: f for f in result.files}
    assert {n: (f.status, f.rows_read, f.rows_loaded) for n, f in by_name.items()} == {
        "a_good.csv": ("ingested", 1, 1),
        "b_damaged.csv": ("ingested", 3, 2),
        "c_good.csv": ("ingested", 1, 1),
    }
    # rows are numbered by CSV record (the CR-only line 3 is blank: no row); the reason names the line
    assert fuzz_con.execute("SELECT source_file, source_row, reason FROM quarantine").fetchall() == [
        (str(damaged), 3, "malformed CSV row: line 4: 2 fields, header has 5")
    ]
    files = dict(fuzz_con.execute("SELECT source_file, count(*) FROM calls GROUP BY source_file").fetchall())
    assert files == {str(good_before): 1, str(damaged): 2, str(good_after): 1}
    assert fuzz_con.execute("SELECT count(DISTINCT run_id) FROM calls").fetchone()[0] == 1
    assert fuzz_con.execute(
        "SELECT source_row FROM calls WHERE source_file = ? ORDER BY source_row", [str(damaged)]
    ).fetchall() == [(2,), (4,)]
