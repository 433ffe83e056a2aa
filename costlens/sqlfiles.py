"""Load the SQL shipped in `sql/` (inside the wheel as costlens/sql, in a checkout beside the package)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

# string literals and comments, which a placeholder is never read in
_LITERALS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|--[^\n]*")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# the two declaration lines every file of sql/ begins with (docs/architecture.md, "SQL pipeline"), each
# continued on "--   " lines
DECLARATION_LINES = re.compile(
    r"\A-- requires: (?P<requires>.*(?:\n--   .*)*)\n-- creates: (?P<creates>.*(?:\n--   .*)*)\n"
)


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


def render_sql(relative: str, **values: str) -> str:
    """sql/<relative> with its `{name}` placeholders filled — the one way SQL text is templated. The values are
    SQL costlens builds itself from its own names and constants, never input text. A placeholder is read only
    in code (not in comments or string literals); every placeholder must be given a value and every value used."""
    text = load_sql(relative)
    parts: list[str] = []
    used: set[str] = set()
    at = 0

    def fill(code: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise ValueError(f"sql/{relative}: no value for {{{name}}}")
            used.add(name)
            return values[name]

        return _PLACEHOLDER.sub(one, code)

    for match in _LITERALS_AND_COMMENTS.finditer(text):
        parts.append(fill(text[at : match.start()]))
        parts.append(match.group(0))
        at = match.end()
    parts.append(fill(text[at:]))
    unused = set(values) - used
    if unused:
        raise ValueError(f"sql/{relative} has no placeholder {sorted(unused)}")
    return "".join(parts)


@cache
def placeholders(relative: str) -> frozenset[str]:
    """The `{name}` placeholders in the code of sql/<relative> (not in its comments or string literals)."""
    return frozenset(_PLACEHOLDER.findall(_LITERALS_AND_COMMENTS.sub("", load_sql(relative))))


def declared_names(block: str) -> list[str]:
    """The names of one declaration line (its continuation lines included); `none` is no name."""
    words = " ".join(line.removeprefix("--") for line in block.splitlines()).replace(",", " ").split()
    return [] if words == ["none"] else words


def declarations(relative: str) -> tuple[list[str], list[str]]:
    """(requires, creates) as sql/<relative> declares them."""
    found = DECLARATION_LINES.match(load_sql(relative))
    if found is None:
        raise ValueError(f"sql/{relative} does not begin with its requires / creates lines")
    return declared_names(found["requires"]), declared_names(found["creates"])
