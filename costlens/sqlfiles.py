"""Load the SQL shipped in `sql/` (inside the wheel as costlens/sql, in a checkout beside the package)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def sql_root() -> Path:
    return shipped("sql")


def shipped(folder: str) -> Path:
    """A top-level folder of the project that the wheel ships inside the package (sql, sample_logs): the
    installed copy, else the checkout's."""
    packaged = resources.files("costlens") / folder
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / folder


@cache
def load_sql(relative: str) -> str:
    """Text of sql/<relative>, e.g. load_sql('metrics/unit_economics.sql')."""
    path = sql_root() / relative
    return path.read_text(encoding="utf-8")


def sql_files(folder: str) -> list[str]:
    """Relative names of the .sql files in sql/<folder>, in name order."""
    return sorted(f"{folder}/{p.name}" for p in (sql_root() / folder).glob("*.sql"))
