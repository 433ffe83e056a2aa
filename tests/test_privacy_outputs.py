"""Privacy: prompt and response text is never stored unless the user opts in (--keep-content).

Secrets are planted in prompts, responses, system prompts and tool arguments of every format that carries
content; after a default ingest and every command and output format, neither the database file (after a
checkpoint and close, plus any WAL) nor any output holds them. With --keep-content they ARE stored (so this
test can fail), and a rejected line's raw text never reaches the quarantine table.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import fuzzgen
import pytest

from conftest import FIXTURES

pytestmark = pytest.mark.slow


SECRETS = ("sk-live-PLANTED-4f9a8b7c6d5e", "planted.person@example.com", "987-65-4329")
PLANT = " ".join(SECRETS)
CONTENT_KEYS = {
    "content",
    "text",
    "input",
    "output",
    "messages",
    "request_body",
    "response_body",
    "system",
    "arguments",
    "prompt",
    "response",
    "completion",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "thinking",
    "query",
}
# Content-bearing fixtures of every producer that logs text
CONTENT_FIXTURES = [
    "openai/app_log.jsonl",
    "anthropic/app_log.jsonl",
    "langfuse/observations_page.json",
    "helicone/requests.jsonl",
    "litellm/spend_logs.csv",
    "claude_code/projects/-Users-dev-acme-webshop/5f1c2a9e-0b7d-4c1e-9a53-2e8f6d4b7a10.jsonl",
]


def plant(value, key: str = ""):
    """Append the secrets to every text under a content key, inside JSON-encoded strings too."""
    if isinstance(value, dict):
        if {"key", "value"} <= set(value) and isinstance(value["value"], dict):  # an OTLP attribute
            return {**value, "value": {k: plant(v, str(value["key"])) for k, v in value["value"].items()}}
        return {k: plant(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [plant(v, key) for v in value]
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in "[{":
            try:
                inner = json.loads(stripped)
            except ValueError:
                inner = None
            if isinstance(inner, (dict, list)):
                return json.dumps(plant(inner, key))
        if key.lower() in CONTENT_KEYS:
            return f"{value} {PLANT}"
    return value


def planted_copy(relative: str, target: Path) -> int:
    """Write the fixture with secrets planted; returns how many values were planted."""
    raw = (FIXTURES / relative).read_text()
    if relative.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(raw, newline="")))
        header = [h.lower() for h in rows[0]]
        out = [rows[0]] + [
            [plant(cell, header[i]) if i < len(header) else cell for i, cell in enumerate(row)] for row in rows[1:]
        ]
        target.write_bytes(fuzzgen._write_csv(out))
    elif relative.endswith(".json"):
        target.write_text(json.dumps(plant(json.loads(raw))))
    else:
        lines = []
        for line in raw.splitlines():
            try:
                lines.append(json.dumps(plant(json.loads(line))))
            except ValueError:
                lines.append(line)
        target.write_text("\n".join(lines) + "\n")
    return target.read_text().count(SECRETS[0])


def build_drop(work: Path) -> Path:
    drop = work / "logs"
    drop.mkdir()
    for index, relative in enumerate(CONTENT_FIXTURES):
        planted = planted_copy(relative, drop / f"log_{index}{Path(relative).suffix}")
        assert planted > 0, f"no content planted in {relative}"
    # Flat OTel spans with every content attribute: system instructions, messages, a tool call's arguments
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": "You are a helper."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Look up my account"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"query": "account"}}],
        },
    ]
    spans = [
        json.dumps(
            {
                "trace_id": f"tr{i}",
                "span_id": f"sp{i}",
                "start_time": "2026-10-05T10:00:00Z",
                "end_time": "2026-10-05T10:00:01Z",
                "attributes": {
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 900,
                    "gen_ai.usage.output_tokens": 40,
                    "costlens.feature": "support",
                    "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
                    "gen_ai.input.messages": json.dumps(messages),
                    "gen_ai.output.messages": json.dumps(
                        [{"role": "assistant", "parts": [{"type": "text", "content": "Done"}]}]
                    ),
                },
            }
        )
        for i in range(3)
    ]
    flat = drop / "flat_spans.jsonl"
    flat.write_text("\n".join(spans) + "\n")
    flat.write_text("\n".join(json.dumps(plant(json.loads(line))) for line in spans) + "\n")
    assert flat.read_text().count(SECRETS[0]) >= 12
    # the same content in OTLP JSON (collector file exporter)
    otlp_spans = []
    for i, line in enumerate(spans):
        attrs = json.loads(line)["attributes"]
        otlp_spans.append(
            {
                "traceId": f"{i:032x}",
                "spanId": f"{i:016x}",
                "name": "chat gpt-4o",
                "kind": 3,
                "startTimeUnixNano": "1791280800000000000",
                "endTimeUnixNano": "1791280801000000000",
                "attributes": [
                    {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
                    for k, v in attrs.items()
                ],
            }
        )
    otlp = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                "scopeSpans": [{"scope": {"name": "t"}, "spans": otlp_spans}],
            }
        ]
    }
    (drop / "otlp.jsonl").write_text(json.dumps(plant(otlp)) + "\n")
    assert (drop / "otlp.jsonl").read_text().count(SECRETS[0]) >= 12
    # Rejected input that carries a secret: a malformed CSV row, a line that is not JSON, a secret where a
    # number belongs. Quarantine must say where and why, never echo the text.
    (drop / "broken.jsonl").write_text(
        json.dumps(
            {
                "id": "chatcmpl-x",
                "model": "gpt-4o",
                "created": 1760000000,
                "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
            }
        )
        + "\n"
        + '{"id": "chatcmpl-y", "messages": "'
        + PLANT
        + '" \n'
        + json.dumps(
            {
                "id": "chatcmpl-z",
                "model": "gpt-4o",
                "created": 1760000001,
                "usage": {"prompt_tokens": PLANT, "completion_tokens": 2, "total_tokens": 12},
            }
        )
        + "\n"
    )
    raw = (FIXTURES / "litellm/spend_logs.csv").read_text().splitlines()
    raw.insert(2, PLANT + "," + PLANT)  # wrong number of fields
    (drop / "broken_spend.csv").write_text("\n".join(raw) + "\n")
    return drop


def scan(path: Path) -> list[str]:
    data = path.read_bytes()
    return [s for s in SECRETS if s.encode() in data]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("privacy")
    drop = build_drop(work)
    db = str(work / "costlens.duckdb")
    code, out, err = fuzzgen.run_cli(["ingest", str(drop), "--db", db])
    assert code in (0, 3), err  # 3: the deliberately broken files
    outputs = {"ingest": out + err}
    failures = []
    for argv, _ in fuzzgen.every_command(db, None, work / "out"):
        code, out, err = fuzzgen.run_cli(argv)
        if code != 0 or "Traceback" in err:
            failures.append((argv, code, err.strip()[-300:]))
        outputs[" ".join(argv)] = out + err
    files = sorted(p for p in (work / "out").rglob("*") if p.is_file())
    return work, drop, db, outputs, files, failures


@pytest.mark.slow
def test_every_command_ran(default_run):
    """The scan below only means something if every command produced its output."""
    assert default_run[5] == []


def test_default_run_stores_and_prints_no_planted_secret(default_run):
    import duckdb

    work, drop, db, outputs, files, _ = default_run
    con = duckdb.connect(db)
    con.execute("CHECKPOINT")
    quarantined = con.execute("SELECT count(*) FROM quarantine WHERE disposition = 'rejected'").fetchone()[0]
    stored_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    content_rows = con.execute("SELECT count(*) FROM call_content").fetchone()[0]
    reasons = [r for (r,) in con.execute("SELECT reason FROM quarantine").fetchall()]
    con.close()
    assert stored_calls > 30 and quarantined >= 3 and content_rows == 0
    leaks = {}
    for path in [Path(db), Path(db + ".wal"), *files]:
        if path.exists():
            found = scan(path)
            if found:
                leaks[str(path)] = found
    for name, text in outputs.items():
        found = [s for s in SECRETS if s in text]
        if found:
            leaks[name] = found
    leaks.update(
        {
            f"quarantine reason {r[:80]!r}": [s for s in SECRETS if s in r]
            for r in reasons
            if any(s in r for s in SECRETS)
        }
    )
    assert leaks == {}, leaks
    assert len(files) >= 10  # html, csv tables, parquet tables, init toml, quarantine csv, focus exports …


@pytest.mark.slow
def test_keep_content_stores_the_text(tmp_path):
    """The opt-in works — which is also what makes the scan above meaningful."""
    import duckdb

    drop = build_drop(tmp_path)
    db = str(tmp_path / "kept.duckdb")
    code, _, err = fuzzgen.run_cli(
        ["ingest", str(drop / "flat_spans.jsonl"), str(drop / "otlp.jsonl"), "--db", db, "--keep-content"]
    )
    assert code == 0, err
    con = duckdb.connect(db, read_only=True)
    kept = con.execute("SELECT count(*) FROM call_content WHERE prompt_text LIKE ?", [f"%{SECRETS[0]}%"]).fetchone()[0]
    con.close()
    assert kept == 6  # 3 flat spans + 3 OTLP spans
    assert scan(Path(db)) != []
