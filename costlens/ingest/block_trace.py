"""Block-hash request traces (the Mooncake format): prompt reuse measured from 512-token block hashes.

Such traces carry no model, no absolute time and no feature, so they come from the command line:
`costlens ingest trace.jsonl --set model=claude-sonnet-4-5 --set provider=anthropic
 --set ts=2026-10-01T00:00:00Z --set feature=chat` (ts = the trace's start; timestamps are ms after it).
"""

from __future__ import annotations

from costlens.errors import InputError
from costlens.ingest.base import Adapter, IngestContext
from costlens.ingest.readers import load_json_records
from costlens.ingest.sources import Source

BLOCK_TOKENS = 512  # Mooncake's block size


def _is_block_record(record: object) -> bool:
    return (
        isinstance(record, dict)
        and isinstance(record.get("hash_ids"), list)
        and "input_length" in record
        and "timestamp" in record
    )


class BlockTraceAdapter(Adapter):
    name = "block_trace"
    target = "calls"
    description = "Block-hash request traces (Mooncake: timestamp, input_length, output_length, hash_ids)"

    def detect(self, src: Source, ctx: IngestContext) -> int:
        records = src.records[:20]
        return 85 if records and all(_is_block_record(r) for r in records) else 0

    def stage(self, con, src: Source, ctx: IngestContext) -> None:
        constants = dict(ctx.mapping.constants) if ctx.mapping else {}
        if not constants.get("model"):
            raise InputError(
                src.display,
                "a block-hash trace names no model",
                fix="pass --set model=NAME --set provider=NAME (and --set ts=START for its start time)",
            )
        load_json_records(con, src)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE block_trace_settings AS SELECT "
            "coalesce(parse_ts(?), TIMESTAMP '1970-01-01') AS start_ts, CAST(? AS BIGINT) AS block_tokens, "
            "CAST(? AS VARCHAR) AS model, normalize_provider(?) AS provider, CAST(? AS VARCHAR) AS feature",
            [
                constants.get("ts"),
                BLOCK_TOKENS,
                constants["model"],
                constants.get("provider"),
                constants.get("feature", "block-trace"),
            ],
        )
        self.run_sql(con, "staging/block_trace.sql")


ADAPTER = BlockTraceAdapter()
