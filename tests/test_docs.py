"""docs/ stays true to the code where a machine can check it cheaply.

- The report's JSON (a real `costlens report --format json` on tests/fixtures/economics) has exactly the
  top-level keys, `totals` fields and worksheet-row fields docs/json-contract.md lists, and its period shape.
- Every `docs/<page>.md#<anchor>` cited in code, SQL or tests, and every Markdown link between the docs pages,
  README.md and CONTRIBUTING.md, names a page that exists and a heading on it.
- docs/architecture.md lists every file of sql/ in the table of its folder, and no file that is not there.
- No file of the project cites the old numbered design sections.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, PROJECT

DOCS = PROJECT / "docs"
CONTRACT = DOCS / "json-contract.md"
ARCHITECTURE = DOCS / "architecture.md"
ECON = FIXTURES / "economics"
SOURCE_DIRS = ("costlens", "sql", "tests", "benchmarks", "fuzz", "examples", "docs", ".ci")
TEXT_SUFFIXES = {".py", ".sql", ".md", ".toml", ".yml", ".yaml", ".sh", ".txt", ""}


@pytest.fixture(scope="module")
def report_json(tmp_path_factory):
    work = tmp_path_factory.mktemp("docs")
    db = str(work / "docs.duckdb")
    cli = [sys.executable, "-m", "costlens"]
    config = str(ECON / "costlens.toml")
    ingest = subprocess.run(
        cli + ["ingest", str(ECON / "spans.jsonl"), str(ECON / "outcomes.csv"), "--db", db, "--config", config, "-q"],
        capture_output=True,
        text=True,
    )
    assert ingest.returncode == 0, ingest.stderr
    report = subprocess.run(
        cli + ["report", "--db", db, "--config", config, "--period", "2026-10", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert report.returncode == 0, report.stderr
    return json.loads(report.stdout)


# ------------------------------------------------------------------------------------------ reading Markdown


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped (word characters, spaces and hyphens
    kept), spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a Markdown page (a repeated heading gets -1, -2, … as on GitHub)."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        match = None if in_code else re.match(r"#{1,6}\s+(.*)", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def section(page: Path, heading: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    lines = page.read_text(encoding="utf-8").splitlines()
    for at, line in enumerate(lines):
        match = re.match(r"(#{1,6})\s+(.*)", line)
        if match and match.group(2).strip() == heading:
            level = len(match.group(1))
            body = []
            for following in lines[at + 1 :]:
                deeper = re.match(r"(#{1,6})\s", following)
                if deeper and len(deeper.group(1)) <= level:
                    break
                body.append(following)
            return "\n".join(body)
    raise AssertionError(f"{page.name} has no heading {heading!r}")


def table_keys(text: str) -> list[str]:
    """The backticked names in the first column of a Markdown table."""
    keys = []
    for line in text.splitlines():
        match = re.match(r"\|\s*(`[^|]*`)\s*\|", line)
        if match:
            keys += re.findall(r"`([^`]+)`", match.group(1))
    return keys


# ------------------------------------------------------------------------------------------ the JSON contract


@pytest.mark.subprocess
@pytest.mark.slow
def test_report_top_level_keys_are_the_documented_ones(report_json):
    documented = table_keys(section(CONTRACT, "Top-level keys"))
    assert len(documented) == len(set(documented)), "a key is listed twice"
    assert set(report_json) - set(documented) == set(), "keys the report writes that json-contract.md does not list"
    assert set(documented) - set(report_json) == set(), "keys json-contract.md lists that the report does not write"


@pytest.mark.subprocess
@pytest.mark.slow
def test_totals_fields_are_the_documented_ones(report_json):
    assert set(table_keys(section(CONTRACT, "totals"))) == set(report_json["totals"])


@pytest.mark.subprocess
@pytest.mark.slow
def test_worksheet_row_fields_are_the_documented_ones(report_json):
    documented = set(table_keys(section(CONTRACT, "Worksheet rows")))
    keys = {
        "unit_economics": {"feature"},
        "by_model": {"model", "provider"},
        "by_team": {"team"},
        "by_day": {"day"},
        "by_month": {"month"},
    }
    for table, key in keys.items():
        assert report_json[table], f"the fixture's report has no {table} rows"
        assert set(report_json[table][0]) - key == documented, table


@pytest.mark.subprocess
@pytest.mark.slow
def test_period_shape_is_the_documented_one(report_json):
    example = re.search(r"```json\n(.*?)\n```", section(CONTRACT, "Period"), re.S).group(1)
    assert set(json.loads(example)) == set(report_json["period"])
    assert report_json["period"] == {
        "start": "2026-10-01",
        "end": "2026-11-01",
        "last_day": "2026-10-31",
        "days": 31,
        "label": "2026-10",
    }


# ------------------------------------------------------------------------------------------ links and anchors


def project_files():
    for folder in SOURCE_DIRS:
        for path in sorted((PROJECT / folder).rglob("*")):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts:
                yield path
    for name in ("README.md", "CONTRIBUTING.md", "pyproject.toml"):
        yield PROJECT / name


def test_docs_anchors_cited_in_the_code_exist():
    cited = 0
    missing = []
    for path in project_files():
        if path.parent == DOCS:
            continue  # the pages link each other by relative path, checked below
        text = path.read_text(encoding="utf-8", errors="replace")
        for page, anchor in re.findall(r"docs/([\w-]+\.md)#([\w-]+)", text):
            cited += 1
            target = DOCS / page
            if not target.is_file() or anchor not in anchors(target):
                missing.append(f"{path.relative_to(PROJECT)}: docs/{page}#{anchor}")
    assert cited >= 30, "the code cites docs/ sections; finding so few means the pattern no longer matches"
    assert missing == []


@pytest.mark.parametrize(
    "page", ["docs/architecture.md", "docs/definitions.md", "docs/json-contract.md", "README.md", "CONTRIBUTING.md"]
)
def test_markdown_links_between_pages_resolve(page):
    source = PROJECT / page
    missing = []
    for target, anchor in re.findall(r"\]\(([\w./-]*\.md|)(?:#([\w-]+))?\)", source.read_text(encoding="utf-8")):
        if not target and not anchor:
            continue
        path = (source.parent / target).resolve() if target else source
        if not path.is_file():
            missing.append(f"{target} (no such file)")
        elif anchor and anchor not in anchors(path):
            missing.append(f"{target or page}#{anchor}")
    assert missing == []


def test_architecture_lists_every_sql_file():
    for folder in sorted(p for p in (PROJECT / "sql").iterdir() if p.is_dir()):
        listed = {name for name in table_keys(section(ARCHITECTURE, f"sql/{folder.name}")) if name.endswith(".sql")}
        actual = {p.name for p in folder.glob("*.sql")}
        assert listed == actual, (
            f"sql/{folder.name}: not in docs/architecture.md {sorted(actual - listed)}, "
            f"listed but absent {sorted(listed - actual)}"
        )


def test_no_file_cites_numbered_design_sections():
    pattern = re.compile("DESIGN" + r"\s*" + "\u00a7")  # written apart so this file does not match itself
    offenders = [
        str(path.relative_to(PROJECT))
        for path in project_files()
        if pattern.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []
