"""Injection through every command: hostile feature, model, team, file names and config values (feature names,
price override model names, mapping column names) go through `costlens ingest` and then every command and
output format, run as a user runs them. Nothing may execute or break structure anywhere:
HTML escaped, Markdown table cells escaped, CSV formulas neutralised, Rich markup shown literally, JSON exact,
SQL never built from the values (the database keeps its tables and the hostile text verbatim), no shell.

test_html_report.py checks the HTML DOM in depth and test_exports.py the CSV neutraliser; this module checks
that every command applies them to values that arrive through ingest and config.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import fuzzgen
import pytest

pytestmark = pytest.mark.slow


SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = "=cmd|' /C calc'!A0"
SQLI = "'; DROP TABLE calls; --"
SHELL = "$(touch PWNED)"
PIPE = "a|b\nc| d"
RTL = "\u202eexe.txt"
RICH = "[bold red]RICH[/bold red]"
AT = "@SUM(1+1)"
FEATURES = [SCRIPT, IMG, FORMULA, SQLI, SHELL, PIPE, RTL, RICH, AT]
MODELS = [SCRIPT + "-model", SQLI + "-model", PIPE]  # unpriced: listed by prices / coverage
PRICED_MODEL = IMG + "-priced"  # priced by a config override
FILE_NAMES = [
    "<svg onload=alert(1)>.jsonl",
    "=cmd|' calc'!A0.jsonl",
    "'; DROP TABLE calls; --.jsonl",
    "$(touch PWNED).jsonl",
    "a|b.jsonl",
]
CSV_HEADER = {
    "ts": '=HYPERLINK("x") when',
    "model": "<b>model</b>",
    "input_tokens": "in'; DROP TABLE x; --",
    "output_tokens": "out|put",
    "feature": 'feat"ure',
}


def toml_string(text: str) -> str:
    return json.dumps(text)  # a TOML basic string accepts JSON string escapes


def write_inputs(work: Path) -> tuple[Path, Path, int]:
    drop = work / "logs"
    drop.mkdir()
    spans = []
    for i in range(36):
        model = PRICED_MODEL if i % 4 == 0 else MODELS[i % 3] if i % 4 == 1 else "gpt-4o-mini"
        spans.append(
            {
                "trace_id": f"t{i}",
                "span_id": f"s{i}",
                "name": "chat",
                "start_time": f"2026-10-{1 + i % 28:02d}T10:00:00Z",
                "end_time": f"2026-10-{1 + i % 28:02d}T10:00:01Z",
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "acme" if model == PRICED_MODEL else "openai",
                    "gen_ai.request.model": model,
                    "gen_ai.usage.input_tokens": 1000 + i,
                    "gen_ai.usage.output_tokens": 100,
                    "costlens.feature": FEATURES[i % len(FEATURES)],
                    "costlens.task_id": f"{SQLI}{i // 2}",
                    "costlens.team": FEATURES[(i + 1) % len(FEATURES)],
                    "costlens.customer": IMG,
                    "user.id": FORMULA,
                    "costlens.environment": RICH,
                },
            }
        )
    per_file = len(spans) // len(FILE_NAMES) + 1
    for index, name in enumerate(FILE_NAMES):
        chunk = spans[index * per_file : (index + 1) * per_file]
        rejected = {
            "trace_id": f"bad{index}",
            "span_id": f"bad{index}",
            "start_time": "2026-10-02T10:00:00Z",
            "attributes": {"costlens.feature": FORMULA, "gen_ai.usage.input_tokens": 5},
        }  # no model
        (drop / name).write_text("\n".join(json.dumps(s) for s in [*chunk, rejected]) + "\n", encoding="utf-8")
    # a generic CSV whose column names are hostile, mapped by the config
    rows = [list(CSV_HEADER.values())] + [
        [f"2026-10-0{1 + i}T08:00:00Z", "gpt-4o-mini", "500", "20", FEATURES[i]] for i in range(len(FEATURES) - 1)
    ]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    (drop / "warehouse_hostile.csv").write_text(out.getvalue(), encoding="utf-8")
    calls = len(spans) + len(rows) - 1

    config = work / "costlens.toml"
    lines = [
        "[[prices.overrides]]",
        'provider = "acme"',
        f"model = {toml_string(PRICED_MODEL)}",
        "input_mtok = 10",
        "output_mtok = 30",
        "",
        "[[ingest.mappings]]",
        f"name = {toml_string(SCRIPT)}",
        'match = "warehouse_*"',
        "[ingest.mappings.columns]",
    ]
    lines += [f"{field} = {toml_string(source)}" for field, source in CSV_HEADER.items()]
    lines += ["[ingest.mappings.constants]", 'provider = "openai"', ""]
    for feature in (SCRIPT, IMG, FORMULA, SQLI):
        lines += [
            f"[features.{toml_string(feature)}]",
            f"owner = {toml_string(IMG)}",
            f"team = {toml_string(FORMULA)}",
            f"cost_center = {toml_string(SQLI)}",
            "monthly_budget_usd = 1",
            "",
        ]
    config.write_text("\n".join(lines), encoding="utf-8")
    return drop, config, calls


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.handlers += [(tag, name) for name, _ in attrs if name.lower().startswith("on")]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("injection")
    drop, config, calls = write_inputs(work)
    db = str(work / "costlens.duckdb")
    code, out, err = fuzzgen.run_cli(["ingest", str(drop), "--db", db, "--config", str(config)])
    assert code == 0, (out, err)
    outputs, failures = {}, []
    for argv, _ in fuzzgen.every_command(db, str(config), work / "out", period="2026-10"):
        code, out, err = fuzzgen.run_cli(argv)
        if code not in (0, 4) or "Traceback" in err:  # 4: check's budget gate (budgets of $1 are breached)
            failures.append((argv, code, err.strip()[-300:]))
        outputs[" ".join(argv[:3] + argv[-2:])] = (argv, out, err)
    return work, db, calls, outputs, failures


@pytest.mark.slow
def test_every_command_succeeds_on_hostile_data(hostile_run):
    assert hostile_run[4] == []


def test_every_command_is_exercised():
    assert fuzzgen.registered_command_names() <= fuzzgen.listed_command_names()


def test_database_keeps_its_tables_and_the_values_verbatim(hostile_run):
    import duckdb

    work, db, calls, *_ = hostile_run
    con = duckdb.connect(db, read_only=True)
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"calls", "quarantine", "ingested_files", "price_book", "outcomes", "billing_lines"} <= tables
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == calls
    quarantined = {Path(f).name for (f,) in con.execute("SELECT source_file FROM quarantine").fetchall()}
    assert quarantined == set(FILE_NAMES)  # one rejected span per hostile-named file, listed by name
    stored = {f for (f,) in con.execute("SELECT DISTINCT feature FROM calls").fetchall()}
    assert set(FEATURES) <= stored  # stored as data, byte for byte
    files = {Path(f).name for (f,) in con.execute("SELECT source_file FROM ingested_files").fetchall()}
    assert set(FILE_NAMES) <= files
    priced = con.execute("SELECT count(*) FROM price_book WHERE model = ?", [PRICED_MODEL]).fetchone()[0]
    con.close()
    assert priced >= 1  # the override's hostile model name matched as a value
    assert not list(work.rglob("PWNED")) and not Path("PWNED").exists()  # no shell ever ran


def test_html_report_is_inert(hostile_run):
    work, *_ = hostile_run
    html = (work / "out" / "report.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    assert not parser.tags & {"script", "img", "svg:script", "iframe", "object", "embed"} - {"svg"}, parser.tags
    assert parser.handlers == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "onerror=alert(1)>" not in html.replace("onerror=alert(1)&gt;", "")


def _md_tables_are_intact(text: str) -> None:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.fullmatch(r"\|(:?-+:?\|)+", line.strip()):  # a separator row: the header is above it
            width = line.count("|")
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                cells = re.sub(r"\\\|", "", lines[j])  # escaped pipes are text
                assert cells.count("|") == width, (lines[i - 1], lines[j])
                j += 1


def test_markdown_outputs_escape_cells(hostile_run):
    _, _, _, outputs, _ = hostile_run
    md = [out for key, (argv, out, _) in outputs.items() if "md" in argv]
    assert len(md) == 3  # report, reconcile and diff --format md
    for text in md:
        assert "<script" not in text and "<img" not in text
        _md_tables_are_intact(text)
    report_md = next(out for key, (argv, out, _) in outputs.items() if argv[0] == "report" and "md" in argv)
    assert "&lt;script&gt;" in report_md  # the hostile feature is shown, escaped


def _csv_cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_csv_outputs_neutralise_formulas(hostile_run):
    work, _, _, outputs, _ = hostile_run
    files = sorted((work / "out").rglob("*.csv"))
    texts = {str(p): _csv_cells(p) for p in files}
    runs_csv = next(out for key, (argv, out, _) in outputs.items() if argv[0] == "runs" and "csv" in argv)
    texts["runs --format csv"] = [c for row in csv.reader(io.StringIO(runs_csv)) for c in row]
    assert len(files) >= 5  # report tables, quarantine, focus export
    seen_hostile = False
    for name, cells in texts.items():
        for cell in cells:
            seen_hostile |= "cmd|" in cell
            if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not re.fullmatch(r"-[0-9.eE+-]+", cell)):
                pytest.fail(f"{name}: formula cell {cell!r}")
    assert seen_hostile  # the values are there, neutralised ('=cmd… → '=cmd…)


def test_terminal_shows_rich_markup_literally(hostile_run):
    _, _, _, outputs, _ = hostile_run
    report = next(out for key, (argv, out, _) in outputs.items() if argv[0] == "report" and "--format" not in argv)
    assert "RICH" in report
    assert "[bold red]RICH" in report or "[bold red]RICH[/bold" in report.replace("\n", ""), (
        "Rich markup in a feature name was interpreted instead of shown"
    )
    for _key, (_argv, out, _err) in outputs.items():
        assert "\x1b]" not in out  # no terminal escape sequences smuggled through (OSC links, titles)


def test_json_outputs_round_trip_the_hostile_values(hostile_run):
    _, _, _, outputs, _ = hostile_run
    report = next(
        out for key, (argv, out, _) in outputs.items() if argv[0] == "report" and "json" in argv and "--out" not in argv
    )
    data = json.loads(report)
    features = {row["feature"] for row in data["unit_economics"]}
    assert set(FEATURES) <= features
    for _key, (argv, out, _) in outputs.items():
        if "json" in argv and "--out" not in argv:
            json.loads(out)  # nothing but JSON on stdout
