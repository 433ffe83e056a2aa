"""The ingest shortcuts keep the accounting exact: manifest skip by (path, size, mtime), the de-duplication
that windows only repeated call ids, and the anti-join against calls loaded by earlier files."""

from __future__ import annotations

import json
import os

from costlens.config import Config


def _span(span_id: str, output_tokens: int, second: int = 0) -> str:
    return json.dumps({"trace_id": "t1", "span_id": span_id, "start_time": f"2026-10-01T00:00:{second:02d}Z",
                       "end_time": f"2026-10-01T00:00:{second:02d}Z",
                       "attributes": {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
                                      "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": output_tokens}})


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


def test_touched_but_identical_file_is_still_unchanged(tmp_path, con, ingest):
    logs = tmp_path / "spans.jsonl"
    logs.write_text(_span("a", 5) + "\n")
    ingest(logs)
    stat = logs.stat()
    os.utime(logs, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000_000))  # new mtime: hashed, same sha
    (again,) = ingest(logs).files
    assert again.status == "unchanged"
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1


def test_repeated_ids_keep_the_fullest_row_and_earlier_files_win(tmp_path, con, ingest):
    first = tmp_path / "first.jsonl"
    # span b written three times while streaming: 7 output tokens is the fullest; a twice with equal usage
    first.write_text("\n".join([_span("a", 5, 1), _span("b", 0, 2), _span("b", 7, 3), _span("b", 3, 4),
                                _span("a", 5, 5), _span("c", 1, 6)]) + "\n")
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
