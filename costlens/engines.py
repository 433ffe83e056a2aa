"""Open the engine a command runs its SQL on: DuckDB (the default) or Apache Spark.

Both give the commands the same connection (costlens.spark_sql.SparkConnection reads and writes like a DuckDB
connection), so report, reconcile and export focus are one code path whatever the engine. Where the data is:

- DuckDB, no warehouse: the database file (--db), as always.
- DuckDB with a warehouse: the lake's tables loaded into an in-memory database (costlens.lake).
- Spark with a warehouse: the lake's tables, each a view over its Parquet folder (read where it lies: a local
  path, HDFS, s3a://, abfss://, gs:// — whatever the cluster's Hadoop file systems reach).
- Spark without one: the database file written to a lake in a temporary folder first, then read as above (a
  laptop check that Spark gives DuckDB's figures; a cluster reads a warehouse).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from costlens.errors import EngineError, UsageError
from costlens.spark_sql import is_spark_error

if TYPE_CHECKING:
    from costlens.config import Config, EngineConfig

ENGINES = ("duckdb", "spark")


def engine_choice(config: Config, engine: str | None, warehouse: str | None) -> tuple[str, str | None]:
    """The engine and warehouse a command uses: its options, else [engine] in the config, else DuckDB."""
    kind = (engine or config.engine.kind).lower()
    if kind not in ENGINES:
        raise UsageError(f"--engine {engine!r} is not known", fix=f"use one of: {', '.join(ENGINES)}")
    return kind, warehouse or config.engine.warehouse


@contextmanager
def open_engine(
    db: str | None, config: Config, *, engine: str | None = None, warehouse: str | None = None
) -> Iterator[Any]:
    """A connection to read the data with (see the module docstring), closed on exit."""
    from costlens import db as database

    kind, lake = engine_choice(config, engine, warehouse)
    if kind == "duckdb":
        if lake:
            from costlens.lake import duckdb_from_lake

            con = duckdb_from_lake(lake)
        else:
            con = database.connect(db, must_exist=True)
        try:
            yield con
        finally:
            con.close()
        return
    # without a warehouse the database is read first: a missing or locked one fails before a JVM starts
    source = None if lake else database.connect(db, read_only=True)
    try:
        session = spark_session(config.engine)
    except BaseException:
        if source is not None:
            source.close()
        raise
    from costlens.dialect import DialectError
    from costlens.spark_sql import SparkConnection, SparkSQLError

    spark = SparkConnection(session)
    scratch = None
    try:
        if source is not None:
            from costlens.lake import write_lake

            scratch = tempfile.mkdtemp(prefix="costlens-lake-")
            try:
                lake = write_lake(source, scratch).warehouse
            finally:
                source.close()
        assert lake is not None
        register_lake(spark, lake)
        try:
            yield spark
        except (SparkSQLError, DialectError) as error:
            raise _engine_error(error) from None
        except Exception as error:
            if not is_spark_error(error):
                raise
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise _engine_error(SparkSQLError(f"reading a result: {first}", "")) from None
    finally:
        if config.engine.remote is None:
            session.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _engine_error(error: Exception) -> EngineError:
    import os

    statement = getattr(error, "statement", None)
    shown = f" [{' '.join(statement.split())}]" if statement and os.environ.get("COSTLENS_DEBUG") else ""
    return EngineError(
        f"Spark: {error}{shown}",
        fix="a statement of costlens' SQL Spark does not run as DuckDB does: please report it with COSTLENS_DEBUG=1",
    )


def spark_session(settings: EngineConfig) -> Any:
    """A Spark session as [engine] says: Spark Connect (`remote`), a cluster (`master`), or a local JVM."""
    import warnings

    try:
        # pyspark warns about the pandas version (when it converts data), and costlens hands it no pandas
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\.")
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "--engine spark needs pyspark, which is not installed",
            fix="pip install 'llm-costlens[spark]' (pyspark and sqlglot; Spark needs a Java 17+ runtime)",
        ) from None
    builder = SparkSession.builder.appName("costlens")
    if settings.remote:
        builder = builder.remote(settings.remote)
    else:
        builder = builder.master(settings.master or "local[*]")
        if not settings.master or settings.master.startswith("local"):
            # a JVM of this process: no web UI, no progress bars or INFO lines in the command's output
            from importlib.resources import files

            log_config = files("costlens.data").joinpath("spark-log4j2.properties")
            builder = (
                builder.config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log_config}")
            )
    for key, value in settings.spark_conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM or the cluster: one line, not a Java stack
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(
            f"Spark did not start: {first}",
            fix="check [engine] master / remote and that Java 17+ is on PATH (JAVA_HOME)",
        ) from None
    if not settings.remote:
        session.sparkContext.setLogLevel("ERROR")
    return session


def register_lake(spark: Any, warehouse: str) -> None:
    """Every table of the lake under `warehouse` as a view of the Spark session (the partition column, which
    only places a row in its folder, left out)."""
    from costlens.lake import PARTITION_COLUMN, read_manifest

    remote = "://" in warehouse and not warehouse.startswith("file://")
    manifest = read_manifest(warehouse) if not remote else _remote_manifest(spark, warehouse)
    base = warehouse.rstrip("/")
    for table in manifest["tables"]:
        frame = spark.session.read.parquet(f"{base}/{table}")
        if PARTITION_COLUMN in frame.columns:
            frame = frame.drop(PARTITION_COLUMN)
        spark.runner.register_frame(table, frame)


def _remote_manifest(spark: Any, warehouse: str) -> dict[str, Any]:
    """The manifest of a lake on object storage, read through Spark's own file systems, and checked as
    costlens.lake.read_manifest checks a local one: every table folder carries the manifest's commit."""
    import json

    from costlens.errors import DatabaseError
    from costlens.lake import COMMIT_FILE, MANIFEST

    def text(path: str) -> str:
        return "\n".join(row.value for row in spark.session.read.text(path).collect()).strip()

    base = warehouse.rstrip("/")
    try:
        manifest = dict(json.loads(text(f"{base}/{MANIFEST}")))
        for table in manifest["tables"]:
            found = text(f"{base}/{table}/{COMMIT_FILE}")
            if found != manifest["commit"]:
                raise DatabaseError(
                    f"{base}/{table}: commit {found} is not the lake's {manifest['commit']} (a write stopped part way)",
                    fix="write the lake again with `costlens export lake --warehouse PATH`",
                )
    except (ValueError, KeyError) as error:
        raise DatabaseError(
            f"{base}/{MANIFEST}: not a readable lake manifest ({error})", fix="write the lake again"
        ) from None
    except Exception as error:
        if not is_spark_error(error):
            raise
        raise UsageError(
            f"--warehouse {warehouse}: no costlens lake Spark can read there", fix="check the URI and the credentials"
        ) from None
    return manifest
