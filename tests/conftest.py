"""Shared fixtures: a fresh database, an ingest helper, and the real public data beside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from costlens import db
from costlens.config import Config

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REALDATA = PROJECT.parent / "shared" / "realdata"
SAMPLE_LOGS = PROJECT / "sample_logs"


@pytest.fixture
def con():
    connection = db.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def ingest(con):
    """ingest(*paths, fmt=None, mapping=None, config=None) → IngestResult, into the `con` database."""
    from costlens.ingest.runner import ingest_paths

    def run(*paths, fmt=None, mapping=None, config=None):
        return ingest_paths(con, [str(p) for p in paths], config or Config(), fmt=fmt, mapping=mapping)

    return run


def realdata(relative: str) -> Path:
    path = REALDATA / relative
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    return path
