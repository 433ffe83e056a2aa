"""Secrets stay out: credentials and prompt text that producers put in metadata never reach the database or an output.

Every producer's own fixture gets planted metadata — an `Authorization: Bearer …` header, OpenAI / Anthropic / AWS /
Google / Slack / GitHub keys, a JWT, a private key, a password in a connection URL, plain values under secret-named
keys, and prompt text under prompt / messages / system / query / instructions / completion keys and as long free
text: app-log metadata (OpenAI, Anthropic, Gemini, Bedrock), Helicone properties, Langfuse observation and trace
metadata and trace tags, LiteLLM caller metadata and request tags, OTel span attributes, a generic log's unmapped
fields, a Claude Code git branch, FOCUS tags and GCP labels. After `costlens ingest` and every command and output
format, neither the database file (after CHECKPOINT and close, plus any WAL) nor any table nor any output holds a
planted string. With --keep-content, prompt text in metadata may stay in tags, but credentials are still redacted.
The checks that redacted tags still keep their keys (and safe tags their values) make the scan meaningful.
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


REALWORLD = Path(__file__).resolve().parent / "realworld"

# Each credential as it is planted, and the part of it whose presence anywhere would be a leak.
BEARER = "PLNTbearer7Qx2Lm9Vr4Tz8Kp3Wn6Ys1"
OPENAI_KEY = "sk-proj-PLNTopenai4f9a8b7c6d5e3f2a1b0c9d8e"
ANTHROPIC_KEY = "sk-ant-api03-PLNTanthropic7f6e5d4c3b2a1908"
AWS_KEY = "AKIAPLNT7Q2X9RWL4M6Z"
GOOGLE_KEY = "AIzaSyPLNTgoogle0123456789abcdefghijk"
SLACK_TOKEN = "xoxb-2849371650-PLNTslack9c8d7e6f5a4b"
GITHUB_TOKEN = "ghp_PLNTgithub0123456789abcdefghijklmnopq"
GITHUB_PAT = "github_pat_11PLNT0123456789_abcdefghijklmnopqrstuvw"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQTE5UIn0.PLNTjwtSig0123456789abcdef"
PEM_BODY = "MIIEpPLNTpemBody0123456789abcdefABCDEF"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
HEX_TOKEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
PASSWORD = "hunter2-PLNT-password"  # no known form: only its key name says it is secret
DB_PASSWORD = "PLNTdbpass9931"
COOKIE = "PLNTcookieSid77"
CREDENTIALS = (
    BEARER,
    OPENAI_KEY,
    ANTHROPIC_KEY,
    AWS_KEY,
    GOOGLE_KEY,
    SLACK_TOKEN,
    GITHUB_TOKEN,
    GITHUB_PAT,
    JWT,
    PEM_BODY,
    HEX_TOKEN,
    PASSWORD,
    DB_PASSWORD,
    COOKIE,
)

# Prompt and response text, each with its own marker.
PROMPT = "Draft the PLNT-PROMPT-7731 merger memo for the board"
MESSAGE = "Where is PLNT-MESSAGE-4410 order?"
SYSTEM = "You are PLNT-SYSTEM-2207, a careful assistant"
QUERY = "refund policy PLNT-QUERY-9083"
INSTRUCTIONS = "Answer as PLNT-INSTRUCT-5521"
COMPLETION = "It ships tomorrow PLNT-COMPLETION-6634"
NOTES = "the customer said that PLNT-NOTES-3318 was missing from the parcel again last week"  # free text
CONTENT = (PROMPT, MESSAGE, SYSTEM, QUERY, INSTRUCTIONS, COMPLETION, NOTES)
CONTENT_MARKERS = tuple(text.split("PLNT-")[1].split()[0].rstrip("?,") for text in CONTENT)
SAFE = ("experiment_arm", "PLNT-safe-arm-b")  # an ordinary tag: kept as it is


def planted_metadata() -> dict:
    return {
        "authorization": f"Bearer {BEARER}",
        "openai_api_key": OPENAI_KEY,
        "llm": ANTHROPIC_KEY,
        "aws_access_key_id": AWS_KEY,
        "maps": GOOGLE_KEY,
        "alert_channel": f"posted with {SLACK_TOKEN}",
        "ci": GITHUB_TOKEN,
        "deploy": GITHUB_PAT,
        "id_token": JWT,
        "signing": PEM,
        "session_token": HEX_TOKEN,
        "password": PASSWORD,
        "db_url": f"postgres://admin:{DB_PASSWORD}@db.internal:5432/app",
        "Cookie": f"sid={COOKIE}",
        "prompt": PROMPT,
        "messages": [{"role": "user", "content": MESSAGE}],
        "system": SYSTEM,
        "query": QUERY,
        "instructions": INSTRUCTIONS,
        "completion": COMPLETION,
        "notes": NOTES,
        SAFE[0]: SAFE[1],
    }


def flat_metadata() -> dict[str, str]:
    """The planted metadata as string values (producers whose properties are text only)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in planted_metadata().items()}


def needles() -> list[str]:
    return [*CREDENTIALS, *(f"PLNT-{m}" for m in CONTENT_MARKERS)]


def _jsonl(lines: list) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def _read_jsonl(relative: str) -> list:
    """The fixture's lines, parsed; a line that is not JSON (a fixture's deliberate bad line) stays as text."""
    lines = []
    for line in (FIXTURES / relative).read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append(line)
    return lines


def _app_log(relative: str) -> str:
    lines = _read_jsonl(relative)
    planted = 0
    for line in lines:
        if isinstance(line, dict) and isinstance(line.get("metadata"), dict):
            line["metadata"].update(planted_metadata())
            planted += 1
    assert planted >= 2, relative
    return _jsonl(lines)


def _wrapped(folder: str, name: str, request: dict, stamp: str) -> str:
    response = json.loads((REALWORLD / folder / name).read_text())
    return _jsonl(
        [
            {
                "timestamp": stamp,
                "metadata": {"feature": f"{folder}-app", **planted_metadata()},
                "request": request,
                "response": response,
            }
        ]
    )


def _helicone() -> str:
    lines = _read_jsonl("helicone/requests.jsonl")
    for line in filter(lambda x: isinstance(x, dict), lines):
        properties = line.get("request_properties")
        if isinstance(properties, str):  # some rows carry the properties as JSON text
            line["request_properties"] = json.dumps({**json.loads(properties or "{}"), **flat_metadata()})
        else:
            line["request_properties"] = {**(properties or {}), **flat_metadata()}
    return _jsonl(lines)


def _langfuse_observations() -> str:
    page = json.loads((FIXTURES / "langfuse/observations_page.json").read_text())
    for record in page["data"]:
        record["metadata"] = {**(record.get("metadata") or {}), **planted_metadata()}
    return json.dumps(page)


def _langfuse_traces() -> str:
    lines = _read_jsonl("langfuse/traces.jsonl")
    for line in filter(lambda x: isinstance(x, dict), lines):
        line["metadata"] = {**(line.get("metadata") or {}), **planted_metadata()}
        line["tags"] = [OPENAI_KEY, f"token:{SLACK_TOKEN}", f"prompt:{PROMPT}", *(line.get("tags") or [])]
    return _jsonl(lines)


def _litellm() -> str:
    rows = json.loads((FIXTURES / "litellm/spend_logs.json").read_text())
    for row in filter(lambda x: isinstance(x, dict), rows):
        as_text = isinstance(row.get("metadata"), str)  # some rows carry JSON columns as JSON text
        metadata = json.loads(row["metadata"]) if as_text else row.get("metadata")
        if isinstance(metadata, dict):
            metadata["spend_logs_metadata"] = {**(metadata.get("spend_logs_metadata") or {}), **flat_metadata()}
            row["metadata"] = json.dumps(metadata) if as_text else metadata
        tags = row.get("request_tags")
        tags = json.loads(tags) if isinstance(tags, str) else tags if isinstance(tags, list) else []
        # a credential as a plain tag comes first: it must neither name the feature nor stay as a tag
        tags = [GITHUB_TOKEN, f"auth:Bearer {BEARER}", f"prompt:{PROMPT}", *tags]
        row["request_tags"] = json.dumps(tags) if as_text else tags
    return json.dumps(rows, indent=1)


def _otel() -> str:
    docs = _read_jsonl("otel/otlp_small.jsonl")
    extra = [
        {
            "key": "http.request.header.authorization",
            "value": {"arrayValue": {"values": [{"stringValue": f"Bearer {BEARER}"}]}},
        },
        {"key": "app.api_key", "value": {"stringValue": OPENAI_KEY}},
        {"key": "app.metadata", "value": {"stringValue": json.dumps(flat_metadata())}},
    ]
    spans = 0
    for doc in filter(lambda x: isinstance(x, dict), docs):
        for resource in doc.get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    span["attributes"] = [*span.get("attributes", []), *extra]
                    spans += 1
    assert spans >= 2
    return _jsonl(docs)


def _generic() -> str:
    lines = _read_jsonl("generic/app_requests.jsonl")
    for line in lines:
        if isinstance(line, dict):
            line["meta"] = (
                {**(line.get("meta") or {}), **planted_metadata()}
                if isinstance(line.get("meta"), dict)
                else line.get("meta")
            )
            line["headers"] = {"Authorization": f"Bearer {BEARER}", "x-api-key": ANTHROPIC_KEY}
    return _jsonl(lines)


def _claude_code() -> str:
    lines = _read_jsonl("claude_code/projects/-Users-dev-acme-webshop/5f1c2a9e-0b7d-4c1e-9a53-2e8f6d4b7a10.jsonl")
    for line in lines:
        if isinstance(line, dict) and "gitBranch" in line:
            line["gitBranch"] = f"fix/{GITHUB_TOKEN}"
    return _jsonl(lines)


def _focus() -> bytes:
    rows = list(csv.reader(io.StringIO((FIXTURES / "focus/focus_1_2_azure_openai.csv").read_text(), newline="")))
    column = rows[0].index("Tags")
    for row in rows[1:]:
        try:
            tags = json.loads(row[column])
        except ValueError:
            continue  # the fixture's deliberately bad tags stay as they are
        if isinstance(tags, dict):
            row[column] = json.dumps(
                {**tags, "deploy_token": HEX_TOKEN, "ci": f"Bearer {BEARER}", "owner_key": AWS_KEY}
            )
    return fuzzgen._write_csv(rows)


def _gcp() -> str:
    lines = _read_jsonl("gcp_billing/detailed_export.jsonl")
    for line in filter(lambda x: isinstance(x, dict), lines):
        line["labels"] = [
            *(line.get("labels") or []),
            {"key": "api-key", "value": GOOGLE_KEY},
            {"key": "pipeline", "value": f"https://ci:{DB_PASSWORD}@ci.internal/run"},
        ]
    return _jsonl(lines)


# file name → (format that must read it, whether its calls carry the planted metadata in tags)
PRODUCERS = {
    "openai_app.jsonl": ("openai", True),
    "anthropic_app.jsonl": ("anthropic", True),
    "gemini_app.jsonl": ("gemini", True),
    "bedrock_app.jsonl": ("bedrock", True),
    "helicone.jsonl": ("helicone", True),
    "langfuse_observations.json": ("langfuse", True),
    "langfuse_traces.jsonl": ("langfuse", False),  # trace_context tags
    "litellm.json": ("litellm", True),
    "otel.jsonl": ("otel", False),  # span attributes never become tags
    "generic_app.jsonl": ("generic", False),  # unmapped fields are never read
    "claude_code.jsonl": ("claude_code", False),
    "focus.csv": ("focus", False),
    "gcp.jsonl": ("gcp_billing", False),
}


def build_drop(work: Path) -> tuple[Path, Path]:
    drop = work / "logs"
    drop.mkdir()
    texts = {
        "openai_app.jsonl": _app_log("openai/app_log.jsonl"),
        "anthropic_app.jsonl": _app_log("anthropic/app_log.jsonl"),
        "gemini_app.jsonl": _wrapped(
            "gemini",
            "vertex_generateContent_gemini-2.0-flash.json",
            {
                "model": "gemini-2.0-flash",
                "contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}],
            },
            "2025-12-31T15:46:13Z",
        ),
        "bedrock_app.jsonl": _wrapped(
            "bedrock",
            "converse_us.anthropic.claude-sonnet-4-5_cache-read.json",
            {
                "modelId": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "messages": [{"role": "user", "content": [{"text": "10 + 11?"}]}],
            },
            "2025-11-01T12:00:00Z",
        ),
        "helicone.jsonl": _helicone(),
        "langfuse_observations.json": _langfuse_observations(),
        "langfuse_traces.jsonl": _langfuse_traces(),
        "litellm.json": _litellm(),
        "otel.jsonl": _otel(),
        "generic_app.jsonl": _generic(),
        "claude_code.jsonl": _claude_code(),
        "gcp.jsonl": _gcp(),
    }
    for name, text in texts.items():
        (drop / name).write_text(text)
        assert any(c in text for c in CREDENTIALS), name
    (drop / "focus.csv").write_bytes(_focus())
    assert set(texts) | {"focus.csv"} == set(PRODUCERS)
    config = work / "costlens.toml"
    config.write_text(
        '[[ingest.mappings]]\nname = "app"\nmatch = "generic_*"\ninput_tokens_include_cached = false\n'
        '[ingest.mappings.columns]\ncall_id = "id"\nts = "created_at"\n'
        'input_tokens = "usage.input_tokens"\ncache_read_tokens = "usage.cache_read_input_tokens"\n'
        'cache_write_tokens = "usage.cache_creation_input_tokens"\noutput_tokens = "usage.output_tokens"\n'
        'status = "status"\nfeature = "meta.feature"\nmodel = "model"\n'
        '[ingest.mappings.constants]\nprovider = "anthropic"\n'
    )
    return drop, config


def leaks_in_database(db: str, strings: list[str]) -> dict[str, list[str]]:
    """Planted strings found in any table (every column as text) and in the file's bytes (after CHECKPOINT and
    close, plus any WAL)."""
    import duckdb

    found: dict[str, list[str]] = {}
    con = duckdb.connect(db)
    tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]
    for table in tables:
        hits = [
            s
            for s in strings
            if con.execute(
                f'SELECT count(*) FROM "{table}" AS r WHERE contains(CAST(r AS VARCHAR), ?)', [s]
            ).fetchone()[0]
        ]
        if hits:
            found[f"table {table}"] = hits
    con.execute("CHECKPOINT")
    con.close()
    for path in (Path(db), Path(db + ".wal")):
        if path.exists():
            data = path.read_bytes()
            hits = [s for s in strings if s.encode() in data]
            if hits:
                found[str(path)] = hits
    return found


def ingest(drop: Path, config: Path, db: str, *extra: str) -> None:
    code, out, err = fuzzgen.run_cli(["ingest", str(drop), "--db", db, "--config", str(config), *extra])
    assert code == 0, out + err
    import duckdb

    con = duckdb.connect(db, read_only=True)
    loaded = {
        Path(f).name: (fmt, rows)
        for f, fmt, rows in con.execute("SELECT source_file, source_format, rows_loaded FROM ingested_files").fetchall()
    }
    con.close()
    assert {name: loaded.get(name, (None, 0))[0] for name in PRODUCERS} == {
        name: fmt for name, (fmt, _) in PRODUCERS.items()
    }
    assert [name for name in PRODUCERS if not loaded[name][1]] == []


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("secrets")
    drop, config = build_drop(work)
    db = str(work / "costlens.duckdb")
    ingest(drop, config, db)
    import duckdb

    con = duckdb.connect(db, read_only=True)
    tags = con.execute(
        "SELECT source_file, tags FROM calls UNION ALL SELECT source_file, tags FROM trace_context "
        "UNION ALL SELECT source_file, tags FROM billing_lines"
    ).fetchall()
    features = [f for (f,) in con.execute("SELECT DISTINCT feature FROM calls WHERE feature IS NOT NULL").fetchall()]
    con.close()
    outputs: dict[str, str] = {}
    failures = []
    for argv, _ in fuzzgen.every_command(db, str(config), work / "out"):
        code, out, err = fuzzgen.run_cli(argv)
        if code != 0 or "Traceback" in err:
            failures.append((argv, code, err.strip()[-300:]))
        outputs[" ".join(argv)] = out + err
    files = sorted(p for p in (work / "out").rglob("*") if p.is_file())
    return {
        "db": db,
        "tags": tags,
        "features": features,
        "outputs": outputs,
        "files": files,
        "failures": failures,
        "drop": drop,
        "config": config,
    }


@pytest.mark.slow
def test_every_command_ran(default_run):
    assert default_run["failures"] == []
    assert len(default_run["files"]) >= 10


def test_no_planted_secret_or_prompt_in_the_database_or_any_output(default_run):
    strings = needles()
    leaks = leaks_in_database(default_run["db"], strings)
    for path in default_run["files"]:
        data = path.read_bytes()
        hits = [s for s in strings if s.encode() in data]
        if hits:
            leaks[str(path)] = hits
    for name, text in default_run["outputs"].items():
        hits = [s for s in strings if s in text]
        if hits:
            leaks[name] = hits
    assert leaks == {}


def test_redacted_tags_keep_their_keys(default_run):
    """Credentials are replaced, not hidden by dropping the whole tag map: every producer whose metadata becomes
    tags keeps the secret-named keys with '[redacted]', and ordinary tags as they were."""
    by_file: dict[str, list[dict]] = {}
    for source_file, tags in default_run["tags"]:
        by_file.setdefault(Path(source_file).name, []).append(tags or {})
    for name, (_, carries) in PRODUCERS.items():
        if not carries:
            continue
        planted = [t for t in by_file[name] if SAFE[0] in t]
        assert planted, f"{name}: no call kept the planted metadata"
        for tags in planted:
            assert tags[SAFE[0]] == SAFE[1]
            for key in (
                "authorization",
                "openai_api_key",
                "llm",
                "aws_access_key_id",
                "maps",
                "alert_channel",
                "ci",
                "deploy",
                "id_token",
                "signing",
                "session_token",
                "password",
                "db_url",
                "Cookie",
            ):
                assert tags.get(key) == "[redacted]", (name, key, tags.get(key))
            # prompt text is dropped, not redacted
            assert not {"prompt", "messages", "system", "query", "instructions", "completion", "notes"} & set(tags)
    # Langfuse trace tags: the bare credential tag is gone, `token:…` redacted
    traces = by_file["langfuse_traces.jsonl"]
    assert traces and all(t.get("token") == "[redacted]" and t.get("password") == "[redacted]" for t in traces)
    # LiteLLM request tags: `auth:Bearer …` redacted; the credential plain tag names no feature
    assert all(t.get("auth") == "[redacted]" for t in by_file["litellm.json"])
    assert not any(GITHUB_TOKEN in (f or "") for f in default_run["features"])
    # billing resource tags: credentials redacted, the producer's own tags kept
    assert any(
        t.get("deploy_token") == "[redacted]"
        and t.get("ci") == "[redacted]"
        and t.get("owner_key") == "[redacted]"
        and t.get("feature")
        for t in by_file["focus.csv"]
    )
    assert any(
        t.get("api-key") == "[redacted]" and t.get("pipeline") == "[redacted]" and t.get("feature")
        for t in by_file["gcp.jsonl"]
    )
    assert all(t.get("git_branch") == "[redacted]" for t in by_file["claude_code.jsonl"] if "git_branch" in t)


@pytest.mark.slow
def test_keep_content_keeps_prompt_text_but_never_credentials(tmp_path):
    import duckdb

    drop, config = build_drop(tmp_path)
    db = str(tmp_path / "kept.duckdb")
    ingest(drop, config, db, "--keep-content")
    con = duckdb.connect(db, read_only=True)
    kept = con.execute(
        "SELECT count(*) FROM calls WHERE tags['prompt'] = ? AND tags['notes'] = ? "
        "AND tags['authorization'] = '[redacted]'",
        [PROMPT, NOTES],
    ).fetchone()[0]
    con.close()
    assert kept >= 8  # the opt-in works: prompt text in metadata is kept in tags …
    assert leaks_in_database(db, list(CREDENTIALS)) == {}  # … credentials never are
