"""A large app log is converted a slice of lines at a time (openai_usage.PROVIDER_SLICE_LINES): the calls,
the quarantine and the file's counts are exactly those of one pass, whatever the slice size — including a
streamed Anthropic message whose message_start and message_delta fall in different slices."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from costlens import db
from costlens.config import Config
from costlens.ingest import openai_usage
from costlens.ingest.runner import ingest_paths
from costlens.pricing.stored import STORED_COLUMNS

from conftest import FIXTURES

REALWORLD = Path(__file__).parent / "realworld"
FIXED_MTIME_NS = 1_790_000_000 * 10**9


def _mixed_log(path: Path) -> Path:
    """Every provider's lines, wrapped and bare, batch lines, failures, damaged lines and the SSE events of a
    real streamed message (recorded from the API: tests/realworld/anthropic/PROVENANCE.md), in one file."""
    lines: list[str] = []
    for relative in (
        "anthropic/app_log.jsonl",
        "openai/app_log.jsonl",
        "openai/mixed_providers.jsonl",
        "anthropic/batch_results.jsonl",
    ):
        lines += [line for line in (FIXTURES / relative).read_text().splitlines() if line.strip()]
    sse = (REALWORLD / "anthropic" / "stream_claude-sonnet-4-6_cache-1h-write.sse").read_text().splitlines()
    events = [line[len("data: ") :] for line in sse if line.startswith("data: ")]
    lines += events[:3] + ['{"not": "a call"}', "{damaged"] + events[3:]
    for name in (
        "msg_claude-sonnet-4-5_cache-5m-write_cache-read.json",
        "msg_claude-sonnet-4-6_compaction_usage-iterations.json",
    ):
        lines.append(json.dumps(json.loads((REALWORLD / "anthropic" / name).read_text())))
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, ns=(FIXED_MTIME_NS, FIXED_MTIME_NS))
    return path


def _load(path: Path, fmt: str) -> tuple[tuple, list, list]:
    con = db.connect(":memory:")
    result = ingest_paths(con, [str(path)], Config(), fmt=fmt)
    (file,) = result.files
    counts = (
        file.status,
        file.message,
        file.rows_read,
        file.rows_loaded,
        file.rows_duplicate,
        file.rows_quarantined,
        file.rows_skipped,
    )
    skip = set(STORED_COLUMNS) | {"run_id", "ingested_at"}
    columns = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'calls' AND database_name <> 'temp' "
            "ORDER BY column_index"
        ).fetchall()
        if name not in skip
    ]
    select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)  # identifiers from our schema
    calls = con.execute(f"SELECT {select} FROM calls ORDER BY call_id").fetchall()
    quarantine = con.execute(
        "SELECT source_row, disposition, reason FROM quarantine ORDER BY source_row, reason"
    ).fetchall()
    costs = con.execute("SELECT call_id, CAST(cost_usd AS VARCHAR) FROM priced_calls ORDER BY call_id").fetchall()
    con.close()
    return counts, calls + costs, quarantine


@pytest.mark.parametrize(
    ("fmt", "sizes"), [("anthropic", (2, 45)), pytest.param("openai", (1,), marks=pytest.mark.slow), ("openai", (7,))]
)
def test_slices_of_any_size_give_the_rows_of_one_pass(tmp_path, monkeypatch, fmt, sizes):
    path = _mixed_log(tmp_path / "mixed.jsonl")
    whole = _load(path, fmt)
    counts, calls, quarantine = whole
    # the file is read whole: every provider's calls, the stream as one call, damage quarantined
    assert counts[0] == "ingested" and counts[3] > 20 and len(quarantine) >= 2
    assert any("streaming duplicate" in reason or "streaming event" in reason for _, _, reason in quarantine)
    assert counts[2] == 46
    for size in sizes:
        monkeypatch.setattr(openai_usage, "PROVIDER_SLICE_LINES", size)
        assert _load(path, fmt) == whole, f"slices of {size} lines"
