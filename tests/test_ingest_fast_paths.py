"""The ingest shortcuts keep the accounting exact: manifest skip by (path, size, mtime), the de-duplication
that windows only repeated call ids, and the anti-join against calls loaded by earlier files."""

from __future__ import annotations

import json
import os

import pytest

from costlens.config import Config

from conftest import loaded_rows


def _span(span_id: str, output_tokens: int, second: int = 0) -> str:
    return json.dumps(
        {
            "trace_id": "t1",
            "span_id": span_id,
            "start_time": f"2026-10-01T00:00:{second:02d}Z",
            "end_time": f"2026-10-01T00:00:{second:02d}Z",
            "attributes": {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.output_tokens": output_tokens,
            },
        }
    )


def test_unchanged_file_is_skipped_without_reading_it(tmp_path, con, ingest, monkeypatch):
    from costlens.ingest import runner

    logs = tmp_path / "spans.jsonl"
    logs.write_text(_span("a", 5) + "\n")
    assert ingest(logs).files[0].status == "ingested"

    def must_not_read(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(runner, "open_source", must_not_read)
    (again,) = ingest(logs).files
    assert (again.status, again.format) == ("unchanged", "otel")


@pytest.mark.slow
def test_touched_but_identical_file_is_still_unchanged(tmp_path, con, ingest):
    logs = tmp_path / "spans.jsonl"
    logs.write_text(_span("a", 5) + "\n")
    ingest(logs)
    stat = logs.stat()
    os.utime(logs, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000_000))  # new mtime: hashed, same sha
    (again,) = ingest(logs).files
    assert again.status == "unchanged"
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1


@pytest.mark.slow
def test_repeated_ids_keep_the_fullest_row_and_earlier_files_win(tmp_path, con, ingest):
    first = tmp_path / "first.jsonl"
    # span b written three times while streaming: 7 output tokens is the fullest; a twice with equal usage
    first.write_text(
        "\n".join(
            [_span("a", 5, 1), _span("b", 0, 2), _span("b", 7, 3), _span("b", 3, 4), _span("a", 5, 5), _span("c", 1, 6)]
        )
        + "\n"
    )
    (f1,) = ingest(first).files
    assert (f1.rows_read, f1.rows_loaded, f1.rows_duplicate) == (6, 3, 3)
    rows = dict(con.execute("SELECT call_id, output_tokens FROM calls").fetchall())
    assert rows == {"otel:t1:a": 5, "otel:t1:b": 7, "otel:t1:c": 1}
    # equal usage: the last line wins (row 5, ts :05)
    assert con.execute("SELECT source_row, second(ts) FROM calls WHERE call_id = 'otel:t1:a'").fetchone() == (5, 5)

    second = tmp_path / "second.jsonl"
    second.write_text("\n".join([_span("b", 99, 7), _span("d", 2, 8)]) + "\n")
    (f2,) = ingest(second, config=Config()).files
    assert (f2.rows_read, f2.rows_loaded, f2.rows_duplicate) == (2, 1, 1)
    assert con.execute("SELECT output_tokens FROM calls WHERE call_id = 'otel:t1:b'").fetchone()[0] == 7
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 4


def test_typed_read_numbers_rows_by_their_non_blank_lines(tmp_path, con, ingest, monkeypatch):
    from costlens.ingest import otel

    def must_not_use_the_careful_reader(*args, **kwargs):
        raise AssertionError("a clean file took the careful reader")

    monkeypatch.setattr(otel, "load_json_records", must_not_use_the_careful_reader)
    logs = tmp_path / "spans.jsonl"
    # lines 1, 3, 4 and 6 of the file; blank lines are skipped (and not counted), as the careful reader does
    logs.write_text(
        "\n".join([_span("a", 5, 1), "", _span("b", 6, 2), _span("c", 7, 3), "   ", _span("d", 8, 4)]) + "\n"
    )
    (result,) = ingest(logs).files
    assert (result.rows_read, result.rows_loaded) == (4, 4)
    rows = con.execute("SELECT right(call_id, 1), source_row, output_tokens FROM calls ORDER BY source_row").fetchall()
    assert rows == [("a", 1, 5), ("b", 2, 6), ("c", 3, 7), ("d", 4, 8)]


def test_a_bad_line_sends_the_file_to_the_careful_reader(tmp_path, con, ingest):
    logs = tmp_path / "spans.jsonl"
    logs.write_text(
        "\n".join(
            [
                _span("a", 5, 1),
                _span("b", 6, 2),
                "{not json",
                _span("c", 7, 3),
                json.dumps({"trace_id": "t1", "span_id": "e", "attributes": [1, 2]}),
            ]
        )
        + "\n"
    )
    (result,) = ingest(logs).files
    # line 5's attributes are a list: the typed read refuses it; json_transform reads it as no attributes
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (
        "ingested",
        5,
        3,
        1,
        1,
    )
    assert con.execute("SELECT right(call_id, 1), source_row FROM calls ORDER BY source_row").fetchall() == [
        ("a", 1),
        ("b", 2),
        ("c", 4),
    ]
    assert con.execute("SELECT source_row, disposition, reason FROM quarantine ORDER BY source_row").fetchall() == [
        (3, "rejected", "not valid JSON"),
        (5, "skipped", "not a model call (no model or token attributes)"),
    ]


def _claude_tree(tmp_path):
    import shutil
    from pathlib import Path

    tree = tmp_path / "projects"
    shutil.copytree(Path(__file__).parent / "fixtures" / "claude_code" / "projects", tree)
    return tree


@pytest.mark.slow
def test_a_claude_code_tree_loads_in_one_batch_exactly_as_file_by_file(tmp_path, con, ingest, monkeypatch):
    from costlens import db
    from costlens.ingest import runner
    from costlens.ingest.claude_code import ClaudeCodeAdapter

    tree = _claude_tree(tmp_path)
    batches = []
    original = ClaudeCodeAdapter.stage_batch
    monkeypatch.setattr(
        ClaudeCodeAdapter,
        "stage_batch",
        lambda self, c, srcs, ctx: (batches.append(len(srcs)), original(self, c, srcs, ctx))[1],
    )
    batched = ingest(tree)
    assert batches == [4] and all(f.status == "ingested" for f in batched.files)

    monkeypatch.setattr(runner, "BATCH_MAX_FILES", 1)  # every batch is one file: the file-by-file path
    one_by_one = db.connect(":memory:")
    single = runner.ingest_paths(one_by_one, [str(tree)], Config())
    assert batches == [4]
    assert [(f.path, f.rows_read, f.rows_loaded, f.rows_duplicate, f.rows_skipped) for f in batched.files] == [
        (f.path, f.rows_read, f.rows_loaded, f.rows_duplicate, f.rows_skipped) for f in single.files
    ]
    assert sum(f.rows_loaded for f in batched.files) > 0
    assert loaded_rows(con) == loaded_rows(one_by_one)


@pytest.mark.slow
def test_a_batch_that_fails_is_loaded_file_by_file(tmp_path, con, ingest, monkeypatch):
    from costlens.errors import InputError
    from costlens.ingest.claude_code import ClaudeCodeAdapter

    def failing_batch(self, c, srcs, ctx):
        raise InputError(str(srcs[0].path), "cannot be read", fix="-")

    monkeypatch.setattr(ClaudeCodeAdapter, "stage_batch", failing_batch)
    result = ingest(_claude_tree(tmp_path))
    assert [f.status for f in result.files] == ["ingested"] * 4
    assert con.execute("SELECT count(DISTINCT source_file) FROM calls").fetchone()[0] >= 3
    assert con.execute("SELECT count(*) FROM ingested_files").fetchone()[0] == 4
