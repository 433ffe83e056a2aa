"""Claude Code session logs: a whole `~/.claude/projects` tree — `<encoded-cwd>/<sessionId>.jsonl` plus
`<encoded-cwd>/<sessionId>/subagents/*.jsonl` (the runner expands directories and loads the files in batches;
each file is still accounted for, and fails or succeeds, on its own).

One call per API request: streaming writes several assistant lines per request, collapsed by the runner on
the call id (message.id, requestId) keeping the fullest usage. Sessions are tasks; the project folder is the
feature. API error lines are failed calls; everything else (user turns, tool results, summaries, snapshots,
"<synthetic>" messages) is skipped with a reason. See sql/staging/claude_code.sql.

Detection is by content only: lines whose `type` is one Claude Code writes, with a `sessionId` and a
`message.usage` or a `uuid`. Files holding only summary / file-history-snapshot lines (older versions leave
such files in the tree) are claimed with a lower score, so ingesting a whole tree does not fail on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from costlens.ingest.base import Adapter, IngestContext, nested
from costlens.ingest.readers import load_json_batch, load_json_records
from costlens.ingest.sources import Source

if TYPE_CHECKING:
    import duckdb

LINE_TYPES = {"user", "assistant", "progress", "system", "summary", "file-history-snapshot", "queue-operation"}


def _is_session_line(record: Any) -> bool:
    """A conversation line: a Claude Code type, its session, and a usage object or a line uuid."""
    return (
        isinstance(record, dict)
        and record.get("type") in LINE_TYPES
        and bool(record.get("sessionId"))
        and (isinstance(nested(record, "message", "usage"), dict) or bool(record.get("uuid")))
    )


def _is_bookkeeping_line(record: Any) -> bool:
    """Lines Claude Code writes without a session id: conversation summaries and file-history snapshots."""
    if not isinstance(record, dict):
        return False
    kind = record.get("type")
    return (
        (kind == "summary" and "leafUuid" in record)
        or (kind == "file-history-snapshot" and "messageId" in record and "snapshot" in record)
        or (kind == "queue-operation" and "operation" in record and bool(record.get("sessionId")))
    )


class ClaudeCodeAdapter(Adapter):
    name = "claude_code"
    target = "calls"
    description = "Claude Code session logs (~/.claude/projects)"
    containers = ("jsonl", "json")

    def detect(self, src: Source, ctx: IngestContext) -> int:
        records = [r for r in src.records if isinstance(r, dict)]
        if not records:
            return 0
        session = sum(_is_session_line(r) for r in records)
        bookkeeping = sum(_is_bookkeeping_line(r) for r in records)
        if session:
            return 70 + round(25 * (session + bookkeeping) / len(records))
        # only summaries / snapshots: still a Claude Code file, if nothing else is in it
        return 50 if bookkeeping == len(records) else 0

    # A projects tree holds thousands of small files: the runner loads them in batches (see runner.py).
    batch_files = True

    def stage(self, con: duckdb.DuckDBPyConnection, src: Source, ctx: IngestContext) -> None:
        load_json_records(con, src)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW claude_lines AS SELECT r.source_row, r.doc, c.source_file, "
            "c.source_sha256 FROM raw_json r CROSS JOIN ingest_ctx c"
        )
        self.run_sql(con, "staging/claude_code.sql")

    def stage_batch(self, con: duckdb.DuckDBPyConnection, srcs: list[Source], ctx: IngestContext) -> None:
        load_json_batch(con, srcs)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW claude_lines AS SELECT r.source_row, r.doc, r.source_file, "
            "f.source_sha256 FROM raw_json r JOIN ingest_files f USING (source_file)"
        )
        self.run_sql(con, "staging/claude_code.sql")


ADAPTER = ClaudeCodeAdapter()
