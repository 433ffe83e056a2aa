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


OTEL_HARNESS = Path(__file__).resolve().parent / "realworld" / "otel"
# The deprecated opentelemetry-instrumentation-openai-v2 cannot be installed beside its successors (ATTRIBUTES.md,
# "Versions and conflicts"); every other set-up's libraries are test dependencies and must run.
CANNOT_SHARE_THE_ENVIRONMENT = {"otel_openai_v2_chat"}


def load_otel_harness() -> dict:
    """tests/realworld/otel's modules (mockapi, setups, expected), imported without leaving them in sys.modules.
    The instrumentation libraries are test dependencies ('.[test]'): missing ones fail loudly, never skip."""
    import importlib
    import sys

    names = ("mockapi", "setups", "expected")
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    sys.path.insert(0, str(OTEL_HARNESS))
    try:
        return {name: importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(OTEL_HARNESS))
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def built_once_per_run(tmp_path_factory, name: str, build) -> Path:
    """A folder `build(folder)` fills once per test run, shared by every pytest-xdist worker (a lock file in the
    run's common temporary folder): an expensive input is made once, not once per worker."""
    import os

    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' folders share this parent
    folder, built = root / name, root / f"{name}.built"  # the marker beside the folder: tests ingest folders
    with FileLock(str(folder) + ".lock"):
        if not built.exists():
            folder.mkdir(exist_ok=True)
            build(folder)
            built.touch()
    return folder


@pytest.fixture(scope="session")
def otel_corpus(tmp_path_factory):
    """Every set-up of the real-world OTel harness run once (each in its own interpreter, two at a time): the
    instrumentation libraries' own spans, in OTLP JSON and flat JSON, in one folder. Returns (folder, {set-up:
    (exit code, output)}); exit code 3 means the set-up's library cannot share this environment (it is skipped)."""
    import json

    def build(out: Path) -> None:
        import subprocess
        import sys
        from concurrent.futures import ThreadPoolExecutor

        setups = load_otel_harness()["setups"].SETUPS

        def run(setup: str) -> tuple[str, int, str]:
            proc = subprocess.run(
                [sys.executable, str(OTEL_HARNESS / "setups.py"), setup, str(out)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            return setup, proc.returncode, proc.stdout + proc.stderr

        with ThreadPoolExecutor(2) as pool:
            results = {setup: [code, text] for setup, code, text in pool.map(run, setups)}
        out.with_name("otel-corpus.results.json").write_text(json.dumps(results), encoding="utf-8")

    out = built_once_per_run(tmp_path_factory, "otel-corpus", build)
    results = json.loads(out.with_name("otel-corpus.results.json").read_text(encoding="utf-8"))
    return out, {setup: (code, text) for setup, (code, text) in results.items()}


SAMPLE_CONFIG = SAMPLE_LOGS / "costlens.toml"


@pytest.fixture(scope="session")
def sample_month_db(tmp_path_factory) -> Path:
    """sample_logs/ ingested once per test run with its costlens.toml: a master database that fixtures copy
    (`copy_sample_db`) and never write. The CLI's own ingest of it is tested in tests/test_cli.py."""

    def build(folder: Path) -> None:
        from costlens.config import load_config
        from costlens.ingest.runner import ingest_paths

        connection = db.connect(str(folder / "sample.duckdb"))
        try:
            result = ingest_paths(connection, [str(SAMPLE_LOGS)], load_config(SAMPLE_CONFIG))
            assert not result.failed and len(result.files) == 9, result
        finally:
            connection.close()

    return built_once_per_run(tmp_path_factory, "sample-month", build) / "sample.duckdb"


def copy_sample_db(master: Path, folder: Path, name: str = "sample.duckdb") -> Path:
    """A private copy of the ingested sample month, for tests that write to it or keep files beside it."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(master, folder / name))


def loaded_rows(connection) -> tuple:
    """What an ingest left behind, to compare two loads of the same files: every call (but its run), every
    quarantine row, and every file's counts."""
    calls = connection.execute("SELECT * EXCLUDE (run_id) FROM calls ORDER BY call_id").fetchall()
    quarantine = connection.execute(
        "SELECT source_file, source_row, disposition, reason FROM quarantine ORDER BY ALL"
    ).fetchall()
    files = connection.execute(
        "SELECT source_file, source_format, rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_skipped "
        "FROM ingested_files ORDER BY source_file"
    ).fetchall()
    return calls, quarantine, files
