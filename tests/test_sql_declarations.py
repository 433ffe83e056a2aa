"""Every SQL file states what it requires and what it creates, in its first lines:

    -- requires: priced_calls, report_period, nullif_blank
    -- creates: period_calls

`requires` lists the tables and views it reads (after FROM / JOIN / INTO / UPDATE, less its own CTEs) and the
macros it calls that other files create; `creates` the tables, views and macros it makes ("none" for a file that
only returns rows). The declarations are checked against the SQL itself, so they never go stale; the step lists
that run the files in order are checked against them (a step never reads what a later step makes).
COSTLENS_REGEN_SQL_HEADERS=1 rewrites the two lines after a change to a file."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from costlens.sqlfiles import DECLARATION_LINES, declared_names

SQL = Path(__file__).resolve().parent.parent / "sql"
FILES = sorted(SQL.rglob("*.sql"))

CREATE = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:TABLE|VIEW|MACRO|SEQUENCE|INDEX)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?(?:temp\.|main\.|\{scratch\}\.)?([A-Za-z_][A-Za-z0-9_]*)",
    re.I,
)
STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|--[^\n]*")
# FROM inside a function call is not a table: extract(epoch FROM ts), trim(BOTH ' ' FROM x), …
FROM_IN_CALL = re.compile(r"\b(?:EXTRACT|TRIM|SUBSTRING|OVERLAY|POSITION)\s*\([^()]*?\bFROM\b", re.I)
READS = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(?:LATERAL\s+)?(?:temp\.|main\.|\{scratch\}\.)?([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*[.(])",
    re.I,
)
CTE = re.compile(
    r"(?:\bWITH\s+(?:RECURSIVE\s+)?|,\s*)([A-Za-z_][A-Za-z0-9_]*)\s*(?:\([^()]*\)\s*)?AS\s+(?:NOT\s+)?"
    r"(?:MATERIALIZED\s+)?\(",
    re.I,
)
NOT_RELATIONS = {"select", "values", "by", "name", "where", "lateral"}
HEADER = DECLARATION_LINES


def code(text: str) -> str:
    """The SQL without its comments and with every string literal emptied."""
    return STRINGS_AND_COMMENTS.sub(lambda m: "''" if m.group(0).startswith("'") else "", text)


def _macros() -> set[str]:
    names: set[str] = set()
    for path in FILES:
        text = code(path.read_text(encoding="utf-8"))
        names |= {m.lower() for m in re.findall(r"\bMACRO\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_]\w*)", text, re.I)}
    return names


MACROS = _macros()


def declarations(text: str) -> tuple[list[str], list[str]]:
    """(requires, creates) of one file's SQL, computed from the SQL."""
    sql = FROM_IN_CALL.sub("(", code(text))
    creates = {name.lower() for name in CREATE.findall(sql)}
    ctes = {name.lower() for name in CTE.findall(sql)}
    reads = {name.lower() for name in READS.findall(sql)} - ctes - creates - NOT_RELATIONS
    calls = {m for m in MACROS if re.search(rf"\b{m}\s*\(", sql, re.I)} - creates
    return sorted(reads | calls), sorted(creates)


def _wrapped(label: str, names: list[str]) -> str:
    lines, line = [], f"-- {label}:"
    for i, name in enumerate(names or ["none"]):
        word = f" {name}" + ("," if i < len(names) - 1 else "")
        if len(line) + len(word) > 118:
            lines.append(line)
            line = "--  "
        line += word
    return "\n".join([*lines, line])


def header(text: str) -> str:
    requires, creates = declarations(text)
    return f"{_wrapped('requires', requires)}\n{_wrapped('creates', creates)}\n"


_names = declared_names


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SQL)) for p in FILES])
def test_every_sql_file_declares_what_it_requires_and_creates(path: Path):
    text = path.read_text(encoding="utf-8")
    found = HEADER.match(text)
    if os.environ.get("COSTLENS_REGEN_SQL_HEADERS"):
        body = text[found.end() :] if found else text
        path.write_text(header(body) + body, encoding="utf-8")
        text, found = path.read_text(encoding="utf-8"), HEADER.match(path.read_text(encoding="utf-8"))
    assert found, f"{path.relative_to(SQL)} must begin with its '-- requires:' and '-- creates:' lines"
    requires, creates = declarations(text[found.end() :])
    assert _names(found["requires"]) == requires, f"{path.relative_to(SQL)}: requires {requires}"
    assert _names(found["creates"]) == creates, f"{path.relative_to(SQL)}: creates {creates}"


def test_step_lists_never_read_what_a_later_step_creates():
    from costlens.engine import PERIOD_STEPS
    from costlens.model.leaks import KINDS
    from costlens.pricing.stored import STORE_STEPS
    from costlens.reconcile.build import STEPS as RECONCILE_STEPS

    leak_steps = ("leaks/_prelude.sql", *(f"leaks/{kind}.sql" for kind in KINDS), "leaks/_finding.sql")
    insert_steps = (
        "intermediate/price_book_rows.sql",
        "load/calls_new.sql",
        "load/charged_calls_none.sql",
        "intermediate/fresh_priced_calls.sql",
        "load/calls_insert.sql",
    )  # pricing/stored.price_new_calls, then the runner's insert
    store_steps = (*STORE_STEPS, "intermediate/store_call_costs_update.sql")  # the update runs in slices
    for steps in (PERIOD_STEPS, RECONCILE_STEPS, leak_steps, store_steps, insert_steps):
        declared = [declarations((SQL / step).read_text(encoding="utf-8")) for step in steps]
        for i, (step, (requires, _)) in enumerate(zip(steps, declared)):
            later = {name for _, creates in declared[i + 1 :] for name in creates}
            assert not set(requires) & later, f"{step} reads {sorted(set(requires) & later)}, made by a later step"


def test_a_declaration_fails_when_the_sql_changes():
    text = "-- requires: calls\n-- creates: t\nCREATE TEMP TABLE t AS SELECT * FROM calls JOIN outcomes USING (task_id)"
    body = text[HEADER.match(text).end() :]
    assert declarations(body) == (["calls", "outcomes"], ["t"])
    assert _names(HEADER.match(text)["requires"]) != declarations(body)[0]


def test_placeholders_are_filled_in_code_only_and_all_of_them(tmp_path, monkeypatch):
    from costlens import sqlfiles

    (tmp_path / "t.sql").write_text("-- {a} in a comment\nSELECT '{a}' AS text, {a} AS value FROM {b}\n")
    monkeypatch.setattr(sqlfiles, "sql_root", lambda: tmp_path)
    rendered = sqlfiles.render_sql("t.sql", a="41 + 1", b="range(1)")
    assert rendered == "-- {a} in a comment\nSELECT '{a}' AS text, 41 + 1 AS value FROM range(1)\n"
    with pytest.raises(ValueError, match=r"no value for \{b\}"):
        sqlfiles.render_sql("t.sql", a="1")
    with pytest.raises(ValueError, match="has no placeholder"):
        sqlfiles.render_sql("t.sql", a="1", b="t", c="2")


def test_every_templated_file_is_rendered_with_all_its_placeholders():
    """The files with placeholders in their code are exactly those costlens renders, each with every value."""
    from costlens.ingest.otel import _spans_to_calls_sql
    from costlens.sqlfiles import _PLACEHOLDER

    templated = sorted(str(p.relative_to(SQL)) for p in FILES if _PLACEHOLDER.search(code(p.read_text("utf-8"))))
    assert templated == [
        "intermediate/period_calls.sql",
        "intermediate/store_call_costs_update.sql",
        "leaks/_prelude.sql",
        "metrics/task_costs.sql",
        "reconcile/calibrated_priced_calls.sql",
        "staging/otel_span_rows_flat.sql",
        "staging/otel_spans_to_calls.sql",
    ]
    assert all(_PLACEHOLDER.search(code(_spans_to_calls_sql(batch))) is None for batch in (False, True))
