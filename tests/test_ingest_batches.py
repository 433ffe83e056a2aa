"""Many small files of one format load in batches (one statement per step for the whole batch) with exactly the
rows, ids, costs, quarantine and per-file counts of loading them one by one: logs that apps and proxies rotate
into thousands of small files cost little more than one file of the same size."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from costlens.config import Config

from conftest import loaded_rows

FIXTURES = Path(__file__).parent / "fixtures"


def _chunks(lines: list[str], size: int) -> list[list[str]]:
    return [lines[i : i + size] for i in range(0, len(lines), size)]


def _rotated_logs(folder: Path) -> Path:
    """Real fixture logs cut into small files as a rotating logger writes them, each with its own modification
    time (the fallback time of lines that carry none): OpenAI and Anthropic app logs (streamed events, errors,
    lines that are not JSON), Message Batches results, a log mixing providers, one gzip-compressed part, one
    part with a byte-order mark and one part delivered twice under another name."""
    logs = folder / "logs"
    logs.mkdir()
    parts: list[tuple[str, bytes]] = []
    for source, size in (
        ("openai/app_log.jsonl", 2),
        ("anthropic/app_log.jsonl", 3),
        ("anthropic/batch_results.jsonl", 1),
        ("openai/mixed_providers.jsonl", 1),  # parts read as OpenAI and as Anthropic logs, side by side
        # real Message Batches results (tests/realworld/anthropic/PROVENANCE.md)
        ("../realworld/anthropic/batch_results_claude-sonnet-4-5.jsonl", 1),
    ):
        lines = (FIXTURES / source).read_text().splitlines()
        stem = source.removeprefix("../realworld/").replace("/", "_").removesuffix(".jsonl")
        for number, chunk in enumerate(_chunks(lines, size)):
            parts.append((f"{stem}-{number:03d}.jsonl", ("\n".join(chunk) + "\n").encode()))
    clock = 1_790_000_000
    for name, data in parts:
        (logs / name).write_bytes(data)
        clock += 3_600
        os.utime(logs / name, (clock, clock))
    first_openai = (logs / "openai_app_log-000.jsonl").read_bytes()
    (logs / "openai_app_log-900.jsonl.gz").write_bytes(gzip.compress(first_openai.replace(b"chatcmpl-", b"gz-")))
    (logs / "openai_app_log-901.jsonl").write_bytes(b"\xef\xbb\xbf" + (logs / "openai_app_log-001.jsonl").read_bytes())
    (logs / "copy-of-openai_app_log-002.jsonl").write_bytes((logs / "openai_app_log-002.jsonl").read_bytes())
    return logs


# In path order: the 10 Anthropic parts (2 of real Message Batches results), the copy of an OpenAI part and 7 OpenAI parts (the part the copy
# repeats is unchanged: the same content) — app logs of any provider share a batch; the gzip part alone (a batch
# is one compression); the part with a byte-order mark on its own (its first line needs the single-file
# reader's repair); the 4 one-line parts of the mixed log (2 read as OpenAI, 2 as Anthropic).
BATCHES = [("anthropic", 18), ("openai", 4)]


@pytest.mark.slow
def test_rotated_provider_logs_load_in_batches_exactly_as_file_by_file(tmp_path, monkeypatch):
    from costlens import db
    from costlens.ingest import runner
    from costlens.ingest.openai_usage import ProviderUsageAdapter

    logs = _rotated_logs(tmp_path)
    batches: list[tuple[str, int]] = []
    original = ProviderUsageAdapter.stage_batch
    monkeypatch.setattr(
        ProviderUsageAdapter,
        "stage_batch",
        lambda self, c, srcs, ctx: (batches.append((self.name, len(srcs))), original(self, c, srcs, ctx))[1],
    )
    batched_db = db.connect(":memory:")
    batched = runner.ingest_paths(batched_db, [str(logs)], Config())
    # the plain OpenAI and Anthropic parts are each read by one statement; the gzip part is a group of one and the
    # part with a byte-order mark is read on its own (its first line needs the single-file reader's repair)
    assert batches == BATCHES

    monkeypatch.setattr(runner, "BATCH_MAX_FILES", 1)  # every batch is one file: the file-by-file path
    single_db = db.connect(":memory:")
    single = runner.ingest_paths(single_db, [str(logs)], Config())
    assert batches == BATCHES

    def per_file(result):
        return [
            (
                Path(f.path).name,
                f.status,
                f.rows_read,
                f.rows_loaded,
                f.rows_duplicate,
                f.rows_quarantined,
                f.rows_skipped,
                f.warning,
            )
            for f in result.files
        ]

    assert per_file(batched) == per_file(single)
    assert loaded_rows(batched_db) == loaded_rows(single_db)

    by_name = {row[0]: row[1:] for row in per_file(batched)}
    # the same content delivered twice is read once: the part the copy (first in path order) repeats is unchanged
    assert by_name["openai_app_log-002.jsonl"][0] == "unchanged"
    # each real Message Batches result line is a call of its own file (status, read, loaded)
    for part in ("000", "001"):
        assert by_name[f"anthropic_batch_results_claude-sonnet-4-5-{part}.jsonl"][:3] == ("ingested", 1, 1)
    # every line of every part is accounted for: 15 + 13 + 3 + 4 + 2 lines, plus the gzip and BOM copies (2 + 2)
    assert sum(f.rows_read for f in batched.files) == 15 + 13 + 3 + 4 + 2 + 2 + 2
    assert sum(f.rows_read for f in batched.files) == sum(
        f.rows_loaded + f.rows_duplicate + f.rows_quarantined + f.rows_skipped for f in batched.files
    )
    # lines without a time of their own take their own file's modification time, not the batch's first file's
    mtimes = batched_db.execute(
        "SELECT count(DISTINCT ts) FROM calls WHERE tags['costlens.ts_source'] = 'file_mtime'"
    ).fetchone()[0]
    assert (
        mtimes
        == batched_db.execute(
            "SELECT count(DISTINCT source_file) FROM calls WHERE tags['costlens.ts_source'] = 'file_mtime'"
        ).fetchone()[0]
        > 1
    )
    batched_db.close()
    single_db.close()


@pytest.mark.slow
def test_hundreds_of_one_line_files_cost_little_more_than_one_file(tmp_path, monkeypatch):
    """A real OpenAI app log cut into one file per line loads as one batch: the statements run are one file's
    plus a little bookkeeping per file, and the calls, costs and ids those of loading the parts one by one."""
    import json

    from costlens import db
    from costlens.ingest import runner

    def is_json(line: str) -> bool:
        try:
            json.loads(line)
        except ValueError:
            return False  # a one-line file that is not JSON at all fails on its own: not this test's subject
        return True

    lines = [line for line in (FIXTURES / "openai" / "app_log.jsonl").read_text().splitlines() if is_json(line)]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    whole.mkdir()
    parts.mkdir()
    (whole / "app.jsonl").write_text("\n".join(lines) + "\n")
    for number, line in enumerate(lines):
        (parts / f"app-{number:04d}.jsonl").write_text(line + "\n")

    def counted(folder: Path):
        statements: list[str] = []

        class Counting:
            def __init__(self, inner):
                self._inner = inner

            def execute(self, sql, *args, **kwargs):
                statements.append(sql)
                return self._inner.execute(sql, *args, **kwargs)

            def __getattr__(self, name):
                return getattr(self._inner, name)

        connection = db.connect(":memory:")
        result = runner.ingest_paths(Counting(connection), [str(folder)], Config(), fmt="openai")  # type: ignore[arg-type]
        return connection, result, len(statements)

    _, _, one_file_statements = counted(whole)
    many, result, many_files_statements = counted(parts)
    assert len(result.files) == len(lines) == 14 and all(f.status == "ingested" for f in result.files)
    # one file's statements plus at most two per file (its manifest row; why a file that loads no call loaded
    # none), not a file's statements for every file (85 each here)
    assert many_files_statements <= one_file_statements + 2 * len(lines), (one_file_statements, many_files_statements)
    assert one_file_statements * len(lines) > 10 * many_files_statements

    monkeypatch.setattr(runner, "BATCH_MAX_FILES", 1)  # every batch is one file: the file-by-file path
    one_by_one, _, _ = counted(parts)
    # the calls are those of loading the parts one by one (a call two parts hold is the earlier part's: the
    # fuller copy wins only within one file, so these costs differ from the whole file's by that one call)
    query = "SELECT count(*), sum(stored_cost_usd), string_agg(call_id, ',' ORDER BY call_id) FROM calls"
    assert many.execute(query).fetchone() == one_by_one.execute(query).fetchone()
    assert many.execute("SELECT count(*) FROM calls").fetchone()[0] == 7  # 14 lines: 7 calls, the rest not calls


@pytest.mark.slow
def test_files_under_different_mappings_never_share_a_batch(tmp_path, monkeypatch):
    """A config mapping whose constants fill what a file leaves empty (here the environment) applies to the files
    it matches: those files batch apart from the others, and every call carries its own file's value."""
    from costlens import db
    from costlens.ingest import runner

    lines = (FIXTURES / "openai" / "app_log.jsonl").read_text().splitlines()
    logs = tmp_path / "logs"
    logs.mkdir()
    for number, chunk in enumerate(_chunks(lines, 3)):
        team = "a" if number % 2 == 0 else "b"
        (logs / f"part-{number:02d}-team-{team}.jsonl").write_text("\n".join(chunk) + "\n")
    config = Config.model_validate(
        {
            "ingest": {
                "mappings": [
                    {"name": "team-a", "match": "*-team-a.jsonl", "constants": {"environment": "a"}},
                    {"name": "team-b", "match": "*-team-b.jsonl", "constants": {"environment": "b"}},
                ]
            }
        }
    )
    batched_db, single_db = db.connect(":memory:"), db.connect(":memory:")
    runner.ingest_paths(batched_db, [str(logs)], config)
    monkeypatch.setattr(runner, "BATCH_MAX_FILES", 1)
    runner.ingest_paths(single_db, [str(logs)], config)
    query = "SELECT call_id, environment, source_file FROM calls ORDER BY call_id"
    rows = batched_db.execute(query).fetchall()
    assert rows == single_db.execute(query).fetchall()
    filled = [
        (environment, source_file[-len("a.jsonl")])
        for _, environment, source_file in rows
        if environment != "production"
    ]
    assert len(filled) >= 4 and {letter for _, letter in filled} == {"a", "b"}
    assert all(environment == letter for environment, letter in filled)
