"""Input mutation for the adapter fuzz tests: take a real fixture, break one record (or the whole file) in a
way real exports get broken, and say which record was touched so the test can check every other record
still loads exactly as before.

A "record" is a CSV data row, a JSON line, or — inside one JSON document or an OTLP line — the deepest
element on the mutated path of a list of records (OTLP `spans`, billing page `results`, API page `data`, a
top-level array). Removing that record gives the reference file: everything the reference loads, the
mutated file must load too.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

# Values a producer (or an attacker) can put where a field should be.
NESTED_200 = json.loads("[" * 200 + "]" * 200)
HOSTILE_VALUES: list[Any] = [
    "not a number",
    10**30,
    -5,
    float("nan"),
    "NaN",
    "",
    None,
    NESTED_200,
    {"a": [1, {"b": None}]},
    [],
    True,
    1.5e308,
    "1e999",
    "-0",
    "9" * 40,
    "2026-13-45T99:99:99Z",
    "\u202eevil\u0000",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "'; DROP TABLE calls; --",
]
CSV_HOSTILE_CELLS = [
    "not a number",
    "1" + "0" * 30,
    "-5",
    "NaN",
    "inf",
    "",
    "NULL",
    "1e999",
    "-0",
    "9" * 40,
    "2026-13-45",
    '"unbalanced',
    "a,b,c",
    "line\nbreak",
    "\u202eevil",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "'; DROP TABLE calls; --",
    "[" * 200,
]
GARBAGE = [b"\x00\x01\x02", b"\xff\xfe\xfd", b"\xc3\x28", b"}{", b'"', b"\\", b"\xef\xbb\xbf", b"\r"]


@dataclass
class Case:
    """A mutated file's bytes, and the reference bytes (the same file without the touched record), or
    None when the mutation cannot be tied to one record (then only robustness is checked)."""

    kind: str
    data: bytes
    reference: bytes | None
    equal_to_original: bool = False  # the mutation touches no record: every row must load as before


def is_tabular(path: Path) -> bool:
    return path.suffix == ".csv"


# ---------------------------------------------------------------- JSON


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, prefix + (key,)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, prefix + (index,)))
    return found


def _get(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(value: Any, path: tuple, new: Any) -> None:
    _get(value, path[:-1])[path[-1]] = new


RECORD_LISTS = {"spans", "results", "data"}  # OTLP spans, billing page results, API page data


def _record_path(path: tuple, single_document: bool) -> tuple | None:
    """The record a mutation at `path` belongs to: the deepest element of a list of records (OTLP spans, page
    results / data, a top-level array) on the path. None = the whole line (JSON lines) or nothing (a single
    document with no such list on the path)."""
    best = None
    for depth, part in enumerate(path):
        if isinstance(part, int) and (depth == 0 or path[depth - 1] in RECORD_LISTS):
            best = path[: depth + 1]
    return best


def _parses(line: str) -> bool:
    try:
        return isinstance(json.loads(line), (dict, list))
    except ValueError:
        return False


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)  # NaN is written as the bare token some producers emit


def _json_lines(text: str) -> list[str]:
    return text.splitlines()


def json_field_case(text: str, single_document: bool, draw) -> Case:
    lines = _json_lines(text)
    if single_document:
        docs, index = [json.loads(text)], 0
    else:
        candidates = [i for i, line in enumerate(lines) if _parses(line)]
        index = draw(st.sampled_from(candidates))
        docs = [json.loads(lines[index])]
    doc = docs[0]
    paths = _paths(doc)
    path = draw(st.sampled_from(paths))
    new_value = draw(st.sampled_from(HOSTILE_VALUES))
    mutated = json.loads(json.dumps(doc))
    _set(mutated, path, new_value)
    record = _record_path(path, single_document)
    reference_doc = None
    if record is not None:
        reference_doc = json.loads(json.dumps(doc))
        del _get(reference_doc, record[:-1])[record[-1]]
    if single_document:
        data = _dumps(mutated).encode()
        reference = _dumps(reference_doc).encode() if reference_doc is not None else None
        return Case(f"field {path!r} := {_short(new_value)}", data, reference)
    out = list(lines)
    out[index] = _dumps(mutated)
    ref = list(lines)
    if reference_doc is not None:
        ref[index] = _dumps(reference_doc)
    else:
        del ref[index]
    return Case(f"line {index + 1} field {path!r} := {_short(new_value)}", _join(out), _join(ref))


def line_corruption_case(raw: bytes, tabular: bool, draw) -> Case:
    """Break one line's bytes: truncate it, or splice in garbage / non-UTF-8 bytes."""
    lines = raw.split(b"\n")
    first = 1 if tabular else 0  # keep a CSV header intact (header damage is a whole-file case)
    candidates = [i for i in range(first, len(lines)) if lines[i].strip()]
    index = draw(st.sampled_from(candidates))
    line = lines[index]
    how = draw(st.sampled_from(["truncate", "garbage", "replace"]))
    if how == "truncate":
        cut = draw(st.integers(min_value=0, max_value=max(0, len(line) - 1)))
        broken = line[:cut]
    elif how == "garbage":
        at = draw(st.integers(min_value=0, max_value=len(line)))
        broken = line[:at] + draw(st.sampled_from(GARBAGE)) + line[at:]
    else:
        broken = draw(st.sampled_from(GARBAGE)) * 3
    if tabular and broken.count(b'"') % 2:
        # An unterminated CSV quote makes the following lines part of its field (RFC 4180): ambiguous
        # input rather than a lost row, so close the quote the damage opened.
        broken += b'"'
    out = list(lines)
    out[index] = broken
    ref = list(lines)
    del ref[index]
    return Case(f"line {index + 1} {how}", b"\n".join(out), b"\n".join(ref))


def whole_file_case(raw: bytes, tabular: bool, draw) -> Case:
    """Mutations that touch no record (every row must load as before) and ones that break the file."""
    text_lines = raw.split(b"\n")
    how = draw(
        st.sampled_from(
            ["bom", "crlf", "blank_lines", "empty", "header_only", "truncated_gzip", "gzip", "as_json_array", "binary"]
        )
    )
    if how == "bom":
        return Case(how, b"\xef\xbb\xbf" + raw, None, equal_to_original=True)
    if how == "crlf":
        return Case(how, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), None, equal_to_original=True)
    if how == "blank_lines":
        if tabular:  # a blank CSV line is a row of its own for some readers: robustness only
            at = draw(st.integers(min_value=1, max_value=len(text_lines)))
            return Case(how, b"\n".join(text_lines[:at] + [b""] + text_lines[at:]), None)
        return Case(how, b"\n\n".join(text_lines) + b"\n\n", None, equal_to_original=True)
    if how == "empty":
        return Case(how, b"", None)
    if how == "header_only":
        return Case(how, text_lines[0] + b"\n", None)
    if how == "gzip":
        return Case(how, gzip.compress(raw, mtime=0), None, equal_to_original=True)
    if how == "truncated_gzip":
        packed = gzip.compress(raw, mtime=0)
        cut = draw(st.integers(min_value=2, max_value=len(packed) - 1))
        return Case(how, packed[:cut], None)
    if how == "as_json_array" and not tabular:
        lines = [line for line in raw.decode().splitlines() if line.strip()]
        try:
            records = [json.loads(line) for line in lines]
        except ValueError:
            return Case(how, raw, None, equal_to_original=True)
        if len(records) == 1:
            return Case("as_json_array(single)", raw, None, equal_to_original=True)
        return Case(how, json.dumps(records).encode(), None)
    return Case("binary", bytes(range(256)) * 8, None)


def csv_cell_case(raw: bytes, draw) -> Case:
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    candidates = [i for i, row in enumerate(body) if row]
    index = draw(st.sampled_from(candidates))
    column = draw(st.integers(min_value=0, max_value=len(header) - 1))
    cell = draw(st.sampled_from(CSV_HOSTILE_CELLS))
    mutated = [list(row) for row in body]
    while len(mutated[index]) <= column:
        mutated[index].append("")
    mutated[index][column] = cell
    reference = [row for i, row in enumerate(body) if i != index]
    return Case(
        f"row {index + 2} column {header[column]!r} := {cell[:30]!r}",
        _write_csv([header] + mutated),
        _write_csv([header] + reference),
    )


def _write_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _join(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


# ---------------------------------------------------------------- every CLI command, as a user runs it


def every_command(
    db: str, config: str | None, out: Path, period: str | None = None
) -> list[tuple[list[str], Path | None]]:
    """(argv, file the command writes or None) for every costlens command and output format, against one
    database. Commands added after this list was written are caught by test_every_command_is_listed."""
    common = ["--db", db] + (["--config", config] if config else [])
    when = ["--period", period] if period else []
    out.mkdir(parents=True, exist_ok=True)
    commands: list[tuple[list[str], Path | None]] = [
        (["report", *common, *when], None),
        (["report", *common, *when, "--format", "json"], None),
        (["report", *common, *when, "--format", "md"], None),
        (["report", *common, *when, "--format", "html", "--out", str(out / "report.html")], out / "report.html"),
        (["report", *common, *when, "--format", "csv", "--out", str(out / "csv")], out / "csv"),
        (
            ["report", *common, *when, "--format", "parquet", "--out", str(out / "tables.parquet")],
            out / "tables.parquet",
        ),
        (["leaks", *common, *when], None),
        (["leaks", *common, *when, "--format", "json"], None),
        (["levers", *common, *when], None),
        (["levers", *common, *when, "--format", "json"], None),
        (["whatif", "batch feature=*", *common, *when], None),
        (["check", *common, *when, "--baseline", "none"], None),
        (["init", "--db", db, "--out", str(out / "init.toml"), "--force"], out / "init.toml"),
        (["prices", *common], None),
        (["prices", *common, "--format", "json"], None),
        (["quarantine", "--db", db, "--limit", "0"], None),
        (["quarantine", "--db", db, "--out", str(out / "quarantine.csv")], out / "quarantine.csv"),
        (["runs", "--db", db], None),
        (["runs", "--db", db, "--format", "json"], None),
        (["runs", "--db", db, "--format", "csv"], None),
        (["export", "focus", *common, *when, "--out", str(out / "focus.csv")], out / "focus.csv"),
        (["export", "focus", *common, *when, "--out", str(out / "focus.parquet")], out / "focus.parquet"),
        (["reconcile", *common, *when], None),
        (["reconcile", *common, *when, "--format", "json"], None),
        (["reconcile", *common, *when, "--format", "md"], None),
        (["daily", *common, *when], None),
        (["daily", *common, *when, "--format", "json"], None),
        # diff compares two saved reports: the report saved first, then compared with itself
        (
            ["report", *common, *when, "--format", "json", "--out", str(out / "report.json")],
            out / "report.json",
        ),
        (["diff", str(out / "report.json"), str(out / "report.json")], None),
        (["diff", str(out / "report.json"), str(out / "report.json"), "--format", "json"], None),
        (["diff", str(out / "report.json"), str(out / "report.json"), "--format", "md"], None),
    ]
    return commands


def listed_command_names() -> set[str]:
    return {
        "ingest",
        "report",
        "leaks",
        "levers",
        "whatif",
        "check",
        "init",
        "prices",
        "quarantine",
        "runs",
        "export",
        "reconcile",
        "demo",
        "daily",
        "diff",
    }


def run_cli(argv: list[str]):
    """Run costlens in-process as a user would (typer's CliRunner); returns (exit code, stdout, stderr)."""
    from typer.testing import CliRunner

    from costlens.cli import app

    result = CliRunner().invoke(app, argv, env={"COLUMNS": "200", "COSTLENS_DEBUG": ""})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"costlens {' '.join(argv)} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def registered_command_names() -> set[str]:
    """Every command (and command group) the CLI registers, by name."""
    from costlens.cli import app

    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}
    return names
