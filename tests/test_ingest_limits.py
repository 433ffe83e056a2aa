"""Records no staging may read (issue 14): a JSON record nested ~1,000 deep, and a 50 MB line. Sniffing and
every reader survive them: that record alone is quarantined with its row and the reason, the file's other rows
load, and read = loaded + duplicate + quarantined + skipped holds for every file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from costlens.config import ColumnMapping, Config
from costlens.ingest.runner import ingest_paths
from costlens.ingest.sources import MAX_JSON_DEPTH, json_too_deep, open_source

from conftest import FIXTURES

DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
DEEP_ARRAY = "[" * 1000 + "]" * 1000
FIFTY_MB = 50 * 1024 * 1024


def _span(i: int, **extra) -> dict:
    attributes = {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 1,
        **extra,
    }
    return {
        "trace_id": f"t{i}",
        "span_id": f"s{i}",
        "start_time": "2026-10-01T00:00:00Z",
        "end_time": "2026-10-01T00:00:01Z",
        "attributes": attributes,
    }


def _ingest(con, *paths, fmt=None, mapping=None):
    result = ingest_paths(con, [str(p) for p in paths], Config(), fmt=fmt, mapping=mapping)
    for f in result.files:
        assert f.rows_read == f.rows_loaded + f.rows_duplicate + f.rows_quarantined + f.rows_skipped, f
    return result


def _forget(con) -> None:
    """Forget what an earlier ingest loaded (the same records must load again, not as duplicates)."""
    con.execute("DELETE FROM calls; DELETE FROM quarantine; DELETE FROM ingested_files")


def _rejected(con) -> dict:
    return {
        (Path(f).name, row): reason
        for f, row, reason in con.execute(
            "SELECT source_file, source_row, reason FROM quarantine WHERE disposition = 'rejected'"
        ).fetchall()
    }


def test_depth_is_measured_outside_strings():
    assert json_too_deep("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert not json_too_deep("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert not json_too_deep(json.dumps({"prompt": "{[" * 5000}))  # brackets inside a string do not nest


@pytest.mark.slow
@pytest.mark.parametrize(
    "deep", [DEEP_OBJECT, DEEP_ARRAY, "[" * 100_000 + "]" * 100_000], ids=["objects", "arrays", "100k"]
)
@pytest.mark.parametrize("where", [1, 2])
def test_deep_line_in_an_app_log_is_quarantined(deep, where, con, tmp_path):
    lines = (FIXTURES / "openai" / "app_log.jsonl").read_text().splitlines()
    alone = tmp_path / "alone" / "app_log.jsonl"
    alone.parent.mkdir()
    alone.write_text("\n".join(lines) + "\n")
    (reference,) = _ingest(con, alone).files
    _forget(con)
    lines.insert(where - 1, '{"response": ' + deep + "}" if deep.startswith("{") else deep)
    path = tmp_path / "logs" / "app_log.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n")
    src = open_source(path)  # sniffing used to raise RecursionError (exit 1) here
    assert src.container == "jsonl" and src.records
    (got,) = _ingest(con, path.parent).files
    assert (got.status, got.format, got.rows_read) == ("ingested", "openai", reference.rows_read + 1), got.message
    assert _rejected(con)[("app_log.jsonl", where)] == f"nested deeper than {MAX_JSON_DEPTH} levels: not read"
    # the other records load exactly as alone
    assert (got.rows_loaded, got.rows_duplicate) == (reference.rows_loaded, reference.rows_duplicate)
    # and every later ingest of the folder works
    (again,) = _ingest(con, path.parent).files
    assert again.status == "unchanged"


@pytest.mark.slow
def test_deep_span_in_a_flat_otel_file_is_quarantined(con, tmp_path):
    """The typed fast read keeps attributes as JSON (no depth limit there): a span that may nest too deeply
    gives it up, and the careful reader measures and quarantines it."""
    path = tmp_path / "spans.jsonl"
    lines = [
        json.dumps(_span(1)),
        json.dumps(_span(2)).replace(
            '"gen_ai.usage.output_tokens": 1', '"gen_ai.usage.output_tokens": 1, "x": ' + DEEP_OBJECT
        ),
        json.dumps(_span(3)),
    ]
    path.write_text("\n".join(lines) + "\n")
    (got,) = _ingest(con, path).files
    assert (got.status, got.rows_read, got.rows_loaded, got.rows_quarantined) == ("ingested", 3, 2, 1), got
    assert _rejected(con) == {("spans.jsonl", 2): f"nested deeper than {MAX_JSON_DEPTH} levels: not read"}


@pytest.mark.slow
def test_deep_line_in_a_claude_code_tree_is_quarantined(con, tmp_path):
    """Claude Code files load in batches: a batch holding such a line is loaded file by file instead."""
    tree = tmp_path / "projects"
    shutil.copytree(FIXTURES / "claude_code" / "projects", tree)
    alone = ingest_paths(con, [str(tree)], Config()).files
    _forget(con)
    target = tree / "-Users-dev-legacy-tool" / "c03e8b41-7d2a-4f5e-b6a9-1e4d7c2f9b38.jsonl"
    lines = target.read_text().splitlines()
    target.write_text("\n".join(lines[:1] + ['{"type":"assistant","message":' + DEEP_OBJECT + "}"] + lines[1:]) + "\n")
    got = _ingest(con, tree).files
    assert [f.status for f in got] == ["ingested"] * len(got)
    assert sum(f.rows_loaded for f in got) == sum(f.rows_loaded for f in alone)
    assert _rejected(con)[(target.name, 2)] == f"nested deeper than {MAX_JSON_DEPTH} levels: not read"


def test_deep_record_in_a_generic_jsonl_is_quarantined(con, tmp_path):
    mapping = ColumnMapping(
        columns={"ts": "when", "model": "model", "input_tokens": "in", "output_tokens": "out"},
        constants={"provider": "openai"},
    )
    path = tmp_path / "calls.jsonl"
    good = {"when": "2026-10-01T00:00:00Z", "model": "gpt-4o", "in": 10, "out": 1}
    deep = json.dumps(good)[:-1] + ', "x": ' + DEEP_ARRAY + "}"
    path.write_text("\n".join([deep, json.dumps(good), json.dumps(good)]) + "\n")
    (got,) = _ingest(con, path, fmt="generic", mapping=mapping).files
    assert (got.status, got.rows_read, got.rows_loaded, got.rows_quarantined) == ("ingested", 3, 2, 1), got
    assert _rejected(con) == {("calls.jsonl", 1): f"nested deeper than {MAX_JSON_DEPTH} levels: not read"}


LONG_REASON = "record of 50.0 MB is longer than the 32 MB a record may be: not read"


@pytest.mark.slow
@pytest.mark.parametrize("where", [1, 3])
def test_fifty_megabyte_line_in_an_app_log_costs_only_its_record(where, con, tmp_path):
    lines = (FIXTURES / "openai" / "app_log.jsonl").read_text().splitlines()
    reference = tmp_path / "reference.jsonl"
    reference.write_text("\n".join(lines) + "\n")
    (alone,) = _ingest(con, reference).files
    _forget(con)
    record = json.loads(lines[1])
    record["request"]["messages"] = [{"role": "user", "content": "A" * (FIFTY_MB - 1000)}]
    huge = json.dumps(record)
    assert 49.9 < len(huge) / 1024 / 1024 < 50.05
    lines.insert(where - 1, huge)
    path = tmp_path / "app_log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    (got,) = _ingest(con, path).files  # the whole file used to fail (out of memory)
    assert (got.status, got.format) == ("ingested", "openai"), got.message
    assert (got.rows_read, got.rows_loaded) == (alone.rows_read + 1, alone.rows_loaded)
    assert _rejected(con)[("app_log.jsonl", where)] == LONG_REASON


@pytest.mark.slow
def test_fifty_megabyte_span_in_a_flat_otel_file(con, tmp_path):
    path = tmp_path / "spans.jsonl"
    long_span = _span(2, **{"gen_ai.input.messages": "A" * FIFTY_MB})
    path.write_text("\n".join(json.dumps(s) for s in [_span(1), long_span, _span(3)]) + "\n")
    (got,) = _ingest(con, path).files
    assert (got.status, got.rows_read, got.rows_loaded, got.rows_quarantined) == ("ingested", 3, 2, 1), got
    assert list(_rejected(con)) == [("spans.jsonl", 2)]
    assert _rejected(con)[("spans.jsonl", 2)].endswith("longer than the 32 MB a record may be: not read")


@pytest.mark.slow
def test_fifty_megabyte_csv_record_costs_only_its_record(con, tmp_path):
    mapping = ColumnMapping(
        columns={"ts": "ts", "model": "model", "input_tokens": "in", "output_tokens": "out", "feature": "note"},
        constants={"provider": "openai"},
    )
    path = tmp_path / "calls.csv"
    row = "2026-10-01T00:00:00Z,gpt-4o,10,1,{}\n"
    path.write_text(
        "ts,model,in,out,note\n" + row.format("a") + row.format('"' + "B" * FIFTY_MB + '"') + row.format("c")
    )
    (got,) = _ingest(con, path, fmt="generic", mapping=mapping).files
    assert (got.status, got.rows_read, got.rows_loaded, got.rows_quarantined) == ("ingested", 3, 2, 1), got
    (reason,) = _rejected(con).values()
    assert list(_rejected(con)) == [("calls.csv", 3)] and "longer than the 32 MB a record may be" in reason
