"""Capture the SQL one `costlens report` run sends to DuckDB, and replay it with no costlens around it (T4).

    python -m benchmarks.sqlcapture capture --db X.duckdb --config costlens.toml --period 2026-10 --log sql.pkl
    python -m benchmarks.sqlcapture replay --db X.duckdb --log sql.pkl      # prints the replay seconds

capture: costlens.db.connect is wrapped so the connection it hands out logs every execute / sql statement
(with its parameters), begin / commit / rollback, and every Arrow table registered (saved to Parquet beside
the log: the config tables and the resolved price book, a few rows each). Then the report is built as
`costlens report` builds it.

replay: a fresh process opens the database with the same settings costlens.db.connect applies
(memory_limit, temp_directory, preserve_insertion_order, TimeZone), then runs `for statement in log:
con.execute(statement, params).fetchall()` — DuckDB with nothing but a loop around it (the pip `duckdb`
package has no CLI binary). Registered tables are re-registered from their Parquet copies; that and the loop
are the only Python in the measured time.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path
from typing import Any


class LoggingConnection:
    """Delegates to a real DuckDB connection, recording what reaches the database."""

    def __init__(self, con: Any, log: list, blob_dir: Path):
        self._con, self._log, self._blob_dir = con, log, blob_dir

    def execute(self, query: str, parameters: Any = None, *args: Any, **kwargs: Any) -> LoggingConnection:
        self._log.append(("sql", str(query), _plain(parameters)))
        if parameters is None:
            self._con.execute(query, *args, **kwargs)
        else:
            self._con.execute(query, parameters, *args, **kwargs)
        return self

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._log.append(("sql", str(query), _plain(kwargs.get("params"))))
        return self._con.sql(query, *args, **kwargs)

    query = sql

    def register(self, name: str, data: Any) -> LoggingConnection:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = data if isinstance(data, pa.Table) else pa.table(data)
        path = self._blob_dir / f"{len(self._log):05d}_{name}.parquet"
        pq.write_table(table, path)
        self._log.append(("register", name, str(path)))
        self._con.register(name, data)
        return self

    def unregister(self, name: str) -> LoggingConnection:
        self._log.append(("unregister", name, None))
        self._con.unregister(name)
        return self

    def begin(self) -> LoggingConnection:
        self._log.append(("sql", "BEGIN TRANSACTION", None))
        self._con.begin()
        return self

    def commit(self) -> LoggingConnection:
        self._log.append(("sql", "COMMIT", None))
        self._con.commit()
        return self

    def rollback(self) -> LoggingConnection:
        self._log.append(("sql", "ROLLBACK", None))
        self._con.rollback()
        return self

    def cursor(self) -> LoggingConnection:
        self._log.append(("unreplayed", "cursor()", None))
        return LoggingConnection(self._con.cursor(), self._log, self._blob_dir)

    def close(self) -> None:
        self._con.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _plain(parameters: Any) -> Any:
    if parameters is None:
        return None
    return list(parameters) if isinstance(parameters, (list, tuple)) else parameters


def capture(db: str, config_path: str | None, period: str | None, log_path: str) -> int:
    from costlens import api
    from costlens import db as database
    from costlens.config import load_config

    log: list = []
    blob_dir = Path(log_path).with_suffix(".tables")
    blob_dir.mkdir(parents=True, exist_ok=True)
    original = database.connect

    def logging_connect(*args: Any, **kwargs: Any) -> LoggingConnection:
        return LoggingConnection(original(*args, **kwargs), log, blob_dir)

    database.connect = logging_connect
    try:
        api.report(db=db, config=load_config(config_path), period=period)
    finally:
        database.connect = original
    with open(log_path, "wb") as fh:
        pickle.dump(log, fh)
    return len(log)


def replay(db: str, log_path: str) -> dict:
    import duckdb
    import pyarrow.parquet as pq

    with open(log_path, "rb") as fh:
        log = pickle.load(fh)
    tables = {path: pq.read_table(path) for kind, _, path in log if kind == "register"}
    import os

    from costlens.db import memory_limit

    memory = memory_limit()  # the limit costlens itself runs with
    spill = os.environ.get("COSTLENS_TEMP_DIR") or str(Path(db).parent / ".costlens_tmp")
    started = time.perf_counter()
    con = duckdb.connect(db)
    con.execute(f"SET memory_limit = '{memory}'")
    con.execute("SET temp_directory = ?", [spill])
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET TimeZone = 'UTC'")
    statements = unreplayed = 0
    for kind, text, extra in log:
        if kind == "sql":
            con.execute(text, extra) if extra is not None else con.execute(text)
            try:
                con.fetchall()
            except duckdb.Error:
                pass  # a statement with no result set
            statements += 1
        elif kind == "register":
            con.register(text, tables[extra])
        elif kind == "unregister":
            con.unregister(text)
        else:
            unreplayed += 1
    con.close()
    return {"seconds": time.perf_counter() - started, "statements": statements, "unreplayed": unreplayed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sqlcapture")
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture")
    cap.add_argument("--db", required=True)
    cap.add_argument("--config")
    cap.add_argument("--period")
    cap.add_argument("--log", required=True)
    rep = sub.add_parser("replay")
    rep.add_argument("--db", required=True)
    rep.add_argument("--log", required=True)
    args = parser.parse_args(argv)
    if args.command == "capture":
        print(capture(args.db, args.config, args.period, args.log))
    else:
        import json

        print(json.dumps(replay(args.db, args.log)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
