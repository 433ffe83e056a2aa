"""Generic request logs read through a column mapping → calls: the real Azure LLM inference traces, a nested
JSONL log, a typed Parquet file, config mappings, and every way a row or a mapping can be wrong."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from costlens.config import ColumnMapping, Config, IngestConfig

from conftest import FIXTURES, PROJECT, realdata

GENERIC = FIXTURES / "generic"

AZURE_MAP = dict(
    columns={"ts": "TIMESTAMP", "input_tokens": "ContextTokens", "output_tokens": "GeneratedTokens"},
    constants={"model": "gpt-4", "provider": "azure.openai"},
)


def independent_read(path) -> dict:
    """The trace read with the csv module, as a check on the SQL path."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "rows": len(rows),
        "input": sum(int(r["ContextTokens"]) for r in rows),
        "output": sum(int(r["GeneratedTokens"]) for r in rows),
        "first": datetime.fromisoformat(rows[0]["TIMESTAMP"][:26]),  # 7 fractional digits → microseconds
        "last": datetime.fromisoformat(rows[-1]["TIMESTAMP"][:26]),
        "min": min(datetime.fromisoformat(r["TIMESTAMP"][:26]) for r in rows),
        "max": max(datetime.fromisoformat(r["TIMESTAMP"][:26]) for r in rows),
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, feature, calls",
    [("AzureLLMInferenceTrace_conv.csv", "conversation", 19_366), ("AzureLLMInferenceTrace_code.csv", "code", 8_819)],
)
def test_azure_trace_golden(con, ingest, name, feature, calls):
    path = realdata(f"azure-llm-inference-2023/{name}")
    mapping = ColumnMapping(columns=AZURE_MAP["columns"], constants={**AZURE_MAP["constants"], "feature": feature})
    result = ingest(path, mapping=mapping)  # no --format: the mapping routes it to the generic adapter
    (file,) = result.files
    assert (file.status, file.format, file.target) == ("ingested", "generic", "calls")
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined, file.rows_duplicate) == (calls, calls, 0, 0)

    truth = independent_read(path)
    assert truth["rows"] == calls
    got = con.execute(
        "SELECT count(*), sum(input_tokens), sum(output_tokens), min(ts), max(ts), count(DISTINCT call_id), "
        "sum(cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens + reasoning_tokens) FROM calls"
    ).fetchone()
    assert got == (calls, truth["input"], truth["output"], truth["min"], truth["max"], calls, 0)
    first, last = con.execute(
        "SELECT (SELECT ts FROM calls WHERE source_row = 2), (SELECT ts FROM calls WHERE source_row = ?)",
        [calls + 1],
    ).fetchone()
    assert (first, last) == (truth["first"], truth["last"])
    assert con.execute("SELECT DISTINCT model, provider, feature, status FROM calls").fetchall() == [
        ("gpt-4", "azure.openai", feature, "ok")
    ]
    assert con.execute("SELECT count(*) FROM calls WHERE call_id NOT LIKE 'generic:%'").fetchone()[0] == 0


@pytest.mark.slow
def test_azure_trace_first_row_values(con, ingest):
    path = realdata("azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv")
    ingest(path, mapping=ColumnMapping(**AZURE_MAP))
    # first data line: 2023-11-16 18:15:46.6805900,374,44
    row = con.execute("SELECT ts, input_tokens, output_tokens, source_file FROM calls WHERE source_row = 2").fetchone()
    assert row == (datetime(2023, 11, 16, 18, 15, 46, 680590), 374, 44, str(path))


@pytest.mark.slow
def test_mapping_from_config_by_file_glob(con, ingest):
    path = realdata("azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv")
    config = Config(
        ingest=IngestConfig(
            mappings=[
                ColumnMapping(name="other", match="*_conv.csv", columns={"ts": "nope"}),
                ColumnMapping(
                    name="azure code trace",
                    match="AzureLLMInferenceTrace_code*.csv",
                    columns=AZURE_MAP["columns"],
                    constants={"model": "gpt-4", "feature": "code"},
                ),
            ]
        )
    )
    result = ingest(path, config=config)
    assert (result.files[0].format, result.files[0].rows_loaded) == ("generic", 8_819)
    assert con.execute("SELECT DISTINCT feature FROM calls").fetchall() == [("code",)]


def test_jsonl_nested_paths_anthropic_convention(con, ingest):
    mapping = ColumnMapping(
        columns={
            "call_id": "id",
            "ts": "created_at",
            "input_tokens": "usage.input_tokens",
            "cache_read_tokens": "usage.cache_read_input_tokens",
            "cache_write_tokens": "usage.cache_creation_input_tokens",
            "output_tokens": "usage.output_tokens",
            "status": "status",
            "feature": "meta.feature",
            "team": "META.Team",
        },
        constants={"provider": "anthropic"},
        input_tokens_include_cached=False,  # Anthropic: input excludes cache reads and writes
    )
    result = ingest(GENERIC / "app_requests.jsonl", mapping=mapping)
    (file,) = result.files
    assert (file.format, file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_quarantined) == (
        "generic",
        10,
        4,
        1,
        5,
    )
    rows = con.execute(
        "SELECT call_id, ts, model, provider, input_tokens, cache_read_tokens, cache_write_5m_tokens, output_tokens, "
        "status, http_status, feature, team FROM calls ORDER BY call_id"
    ).fetchall()
    assert rows == [
        (
            "req-1",
            datetime(2025, 3, 1, 10, 0, 0),
            "claude-sonnet-4-5",
            "anthropic",
            100,
            5000,
            200,
            300,
            "ok",
            None,
            "search",
            "discovery",
        ),
        (
            "req-2",
            datetime(2025, 3, 1, 9, 0, 5, 250000),
            "claude-haiku-4-5",
            "anthropic",
            40,
            0,
            0,
            12,
            "ok",
            None,
            "classify",
            None,
        ),
        (
            "req-3",
            datetime(2025, 3, 1, 10, 0, 10),
            "claude-haiku-4-5",
            "anthropic",
            0,
            0,
            0,
            0,
            "error",
            529,
            "classify",
            None,
        ),  # epoch seconds; HTTP 529 → error
        (
            "req-4",
            datetime(2025, 3, 1, 10, 0, 15),
            "claude-sonnet-4-5",
            "anthropic",
            1200,
            0,
            0,
            80,
            "error",
            None,
            "search",
            None,
        ),  # epoch milliseconds as text; "failed" → error
    ]
    reasons = dict(con.execute("SELECT source_row, reason FROM quarantine WHERE disposition = 'rejected'").fetchall())
    assert reasons == {
        5: "output_tokens (column 'usage.output_tokens') is not a number: 'lots'",
        6: "input_tokens (column 'usage.input_tokens') is negative: '-7'",
        7: "ts (column 'created_at') is not a timestamp (ISO 8601 or epoch time): 'yesterday'",
        8: "status is not a recognised status (ok / success / 2xx, or error / failed / 4xx / 5xx): 'meh'",
        9: "model is empty",
    }


def test_csv_tokens_quarantined_with_file_row_reason(con, ingest):
    path = GENERIC / "tokens_by_row.csv"
    mapping = ColumnMapping(
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
    result = ingest(path, mapping=mapping)
    (file,) = result.files
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (7, 4, 3)
    rows = con.execute(
        "SELECT source_row, model, input_tokens, cache_read_tokens, output_tokens, status, http_status "
        "FROM calls ORDER BY source_row"
    ).fetchall()
    assert rows == [
        (2, "gpt-4o", 200, 1000, 50, "ok", 200),  # OpenAI-style input includes the 1000 cached tokens
        (6, "gpt-4o", 300, 0, 0, "error", 429),  # empty completion → 0
        (7, "gpt-4o-mini", 900, 0, 20, "error", 500),
        (8, "gpt-4o-mini", 12, 0, 3, "error", None),  # "12.0" / "3.0" counts
    ]
    quarantine = con.execute(
        "SELECT source_file, source_row, disposition, reason FROM quarantine ORDER BY source_row"
    ).fetchall()
    assert quarantine == [
        (str(path), 3, "rejected", "input_tokens (column 'prompt') is not a number: 'abc'"),
        (str(path), 4, "rejected", "input_tokens (column 'prompt') is negative: '-5'"),
        (
            str(path),
            5,
            "rejected",
            "cache tokens exceed input_tokens (column 'prompt'), which the mapping says "
            "includes them (set input_tokens_include_cached = false if this producer counts "
            "input without cache)",
        ),
    ]


@pytest.mark.slow
def test_parquet_typed_columns(con, ingest, tmp_path):
    table = pa.table(
        {
            "request_id": ["a1", "a2", "a3", None],
            "started": pa.array(
                [
                    datetime(2025, 5, 1, 12, 0, 0),
                    datetime(2025, 5, 1, 12, 0, 1),
                    datetime(2025, 5, 1, 12, 0, 2),
                    datetime(2025, 5, 1, 12, 0, 3),
                ],
                type=pa.timestamp("ms"),
            ),
            "finished_ns": pa.array(
                [1746100800_250_000_000, 1746100802_000_000_000, 1746100803_000_000_000, 1746100804_000_000_000],
                type=pa.int64(),
            ),
            "llm": ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1", "gpt-4.1"],
            "prompt_tokens": pa.array([5000, 300, 800, 10], type=pa.int64()),
            "cached_tokens": pa.array([4096, 0, None, 0], type=pa.int32()),
            "completion_tokens": pa.array([120, 15, 40, 2], type=pa.int64()),
            "reasoning": pa.array([60, 0, 0, 0], type=pa.int64()),
            "http_code": pa.array([200, 200, 400, 200], type=pa.int16()),
            "cost": pa.array(
                [Decimal("0.012345"), Decimal("0.000420"), None, Decimal("0.000010")], type=pa.decimal128(12, 6)
            ),
            "batch": pa.array([False, True, False, False]),
            "customer": ["acme", "acme", "globex", "acme"],
        }
    )
    path = tmp_path / "requests.parquet"
    pq.write_table(table, path)
    mapping = ColumnMapping(
        columns={
            "call_id": "request_id",
            "ts": "started",
            "end_ts": "finished_ns",
            "model": "llm",
            "input_tokens": "prompt_tokens",
            "cache_read_tokens": "cached_tokens",
            "output_tokens": "completion_tokens",
            "reasoning_tokens": "reasoning",
            "http_status": "http_code",
            "reported_cost_usd": "cost",
            "is_batch": "batch",
            "customer": "customer",
        },
        constants={"provider": "openai", "feature": "reports"},
    )
    result = ingest(path, mapping=mapping)
    (file,) = result.files
    assert (file.format, file.rows_read, file.rows_loaded, file.rows_quarantined) == ("generic", 4, 4, 0)
    rows = con.execute(
        "SELECT call_id, ts, latency_ms, model, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens, "
        "status, http_status, reported_cost_usd, is_batch, customer FROM calls ORDER BY source_row"
    ).fetchall()
    assert rows[0] == (
        "a1",
        datetime(2025, 5, 1, 12, 0, 0),
        250.0,
        "gpt-4.1",
        904,
        4096,
        120,
        60,
        "ok",
        200,
        Decimal("0.012345"),
        False,
        "acme",
    )
    assert rows[1][:2] == ("a2", datetime(2025, 5, 1, 12, 0, 1)) and rows[1][11] is True
    assert rows[2][8:11] == ("error", 400, None)  # HTTP 400 → error; no cost given
    assert rows[3][0].startswith("generic:")  # no producer id: derived from the file hash and row
    assert con.execute("SELECT sum(reported_cost_usd) FROM calls").fetchone()[0] == Decimal("0.012775")


def test_missing_mapped_column_is_a_clean_input_error(con, ingest):
    path = realdata("azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv")
    mapping = ColumnMapping(columns={"ts": "TIMESTAMP", "input_tokens": "PromptTokens"}, constants={"model": "gpt-4"})
    result = ingest(path, mapping=mapping)
    (file,) = result.files
    assert file.status == "failed" and file.rows_loaded == 0
    assert file.message == (
        f"{path}: column 'PromptTokens' (mapped to input_tokens) is not in the header — use one of its columns "
        "(TIMESTAMP, ContextTokens, GeneratedTokens) in --map input_tokens=COLUMN or the config mapping"
    )
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
    # forcing the format gives the same message (stage checks the mapping too)
    forced = ingest(path, mapping=mapping, fmt="generic")
    assert forced.files[0].message == file.message


def test_mapping_without_model_or_timestamp(con, ingest):
    path = GENERIC / "tokens_by_row.csv"
    no_model = ingest(path, mapping=ColumnMapping(columns={"ts": "when", "input_tokens": "prompt"}))
    assert no_model.files[0].status == "failed"
    assert "gives no model" in no_model.files[0].message and "--set model=NAME" in no_model.files[0].message
    no_ts = ingest(path, mapping=ColumnMapping(columns={"model": "deployment", "input_tokens": "prompt"}))
    assert "gives no timestamp" in no_ts.files[0].message


def test_without_a_mapping_generic_does_not_claim_files():
    from costlens.ingest.base import IngestContext
    from costlens.ingest.generic import ADAPTER
    from costlens.ingest.sources import open_source

    src = open_source(GENERIC / "tokens_by_row.csv")
    assert ADAPTER.detect(src, IngestContext(config=Config())) == 0
    mapping = ColumnMapping(columns={"ts": "WHEN", "model": "Deployment", "input_tokens": "PROMPT"})
    assert ADAPTER.detect(src, IngestContext(config=Config(), mapping=mapping)) == 100  # names ignore case


@pytest.mark.subprocess
@pytest.mark.slow
def test_cli_missing_column_one_line_no_traceback(tmp_path):
    path = realdata("azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "costlens",
            "ingest",
            str(path),
            "--db",
            str(tmp_path / "t.duckdb"),
            "--map",
            "ts=TIMESTAMP",
            "--map",
            "input_tokens=Context",
            "--set",
            "model=gpt-4",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(PROJECT), "PATH": ""},
    )
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert "column 'Context' (mapped to input_tokens) is not in the header" in run.stderr + run.stdout


@pytest.mark.slow
def test_mapping_for_a_directory_leaves_other_formats_to_their_adapters(con, ingest):
    """--map applies to every file of the run; files that have none of the mapped columns go to the adapter
    that recognises them, and a file nobody recognises gets the missing-column message."""
    trace = realdata("azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv")
    bill = realdata("focus-1.0-sample/focus_sample.csv")
    unknown = GENERIC / "tokens_by_row.csv"
    result = ingest(trace, bill, FIXTURES / "outcomes" / "outcomes.csv", unknown, mapping=ColumnMapping(**AZURE_MAP))
    by_name = {f.path.rsplit("/", 1)[-1]: f for f in result.files}
    assert (by_name[trace.name].format, by_name[trace.name].rows_loaded) == ("generic", 8_819)
    assert (by_name[bill.name].format, by_name[bill.name].rows_loaded) == ("focus", 1_000)
    assert by_name["outcomes.csv"].format == "outcomes"
    assert by_name[unknown.name].status == "failed"
    assert "column 'TIMESTAMP' (mapped to ts) is not in the header" in by_name[unknown.name].message


@pytest.mark.slow
def test_file_larger_than_one_row_group_loads_every_row(con, ingest, tmp_path):
    """Regression: with DuckDB 2.0, rows INSERTed into a TEMP table inside the ingest transaction became
    invisible once they filled a row group (122,880 rows): such files reported 'ingested' with 0 rows."""
    path = tmp_path / "big.csv"
    rows = 130_000
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("ts,input,output\n")
        handle.writelines(f"{1_700_000_000 + i},{i % 997},{i % 89}\n" for i in range(rows))
    result = ingest(
        path,
        mapping=ColumnMapping(
            columns={"ts": "ts", "input_tokens": "input", "output_tokens": "output"}, constants={"model": "gpt-4o"}
        ),
    )
    assert (result.files[0].rows_read, result.files[0].rows_loaded) == (rows, rows)
    assert con.execute("SELECT count(*), sum(input_tokens) FROM calls").fetchone() == (
        rows,
        sum(i % 997 for i in range(rows)),
    )


def test_malformed_csv_row_is_quarantined_not_fatal(con, ingest, tmp_path):
    """Regression: a ragged row used to abort the ingest transaction and fail the whole file."""
    path = tmp_path / "ragged.csv"
    path.write_text(
        "ts,input,output\n2025-01-01T00:00:00Z,10,2\n2025-01-01T00:00:01Z,11,3,EXTRA\n2025-01-01T00:00:02Z,12,4\n",
        encoding="utf-8",
    )
    result = ingest(
        path,
        mapping=ColumnMapping(
            columns={"ts": "ts", "input_tokens": "input", "output_tokens": "output"}, constants={"model": "gpt-4o"}
        ),
    )
    file = result.files[0]
    assert (file.status, file.rows_read, file.rows_loaded, file.rows_quarantined) == ("ingested", 3, 2, 1)
    assert con.execute("SELECT source_row FROM quarantine").fetchall() == [(3,)]
