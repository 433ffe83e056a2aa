"""Coverage-guided fuzz target for the ingest runner (atheris / libFuzzer). Not run in CI.

    pip install atheris
    python fuzz/fuzz_ingest.py -max_total_time=600 tests/fixtures/openai tests/fixtures/litellm …

Each input is written to a file and ingested through the real runner, once with format detection and once
forced through one adapter chosen by the first byte. Any exception other than costlens' own InputError
(which the runner turns into a failed FileResult) is a crash; so is a broken accounting identity.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from costlens import db
    from costlens.config import Config
    from costlens.ingest.registry import ADAPTER_MODULES
    from costlens.ingest.runner import ingest_paths

ADAPTERS = sorted(set(ADAPTER_MODULES) - {"block_trace", "generic"})  # those two need --set / --map
WORK = Path(tempfile.mkdtemp(prefix="costlens-fuzz-"))
CON = db.connect(":memory:")
TABLES = ("calls", "outcomes", "billing_lines", "trace_context", "quarantine", "ingested_files", "call_content")


def one_input(data: bytes) -> None:
    if not data:
        return
    forced = ADAPTERS[data[0] % len(ADAPTERS)]
    for suffix, fmt in ((".jsonl", None), (".csv", forced)):
        for table in TABLES:
            CON.execute(f"DELETE FROM {table}")
        path = WORK / f"input{suffix}"
        path.write_bytes(data[1:])
        (result,) = ingest_paths(CON, [str(path)], Config(), fmt=fmt).files
        if result.status == "ingested":
            assert result.rows_read == (
                result.rows_loaded + result.rows_duplicate + result.rows_quarantined + result.rows_skipped
            ), result
        else:
            assert result.message and "\n" not in result.message, result


if __name__ == "__main__":
    os.environ.setdefault("COSTLENS_LOCK_WAIT", "0")
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
