"""Seeded generator of N synthetic LLM calls in the formats costlens reads, for the benchmark suite.

    python -m benchmarks.generate --calls 1000000 --out /tmp/bench --formats otel,openai,csv,parquet --seed 7

Every format holds the SAME N logical calls (same task ids, tokens, models, timestamps), so each format's
ingest can be compared with the others and with DuckDB's own readers:

    <out>/otel/calls.jsonl         flat OTel GenAI span JSONL (detected by the otel adapter)
    <out>/openai/calls.jsonl       app-log wrapper {timestamp, latency_ms, metadata, request, response|null,
                                   error} with OpenAI Chat Completions and Anthropic Messages responses
    <out>/csv/bench_warehouse.csv  a warehouse-style export with its own column names ...
    <out>/parquet/bench_warehouse.parquet   ... mapped by [[ingest.mappings]] in <out>/costlens.toml
    <out>/outcomes/outcomes.csv    task outcomes for ~40 % of tasks (accepted, quality, review, rework)
    <out>/costlens.toml            the column mapping plus feature settings (interactive, step budget)
    <out>/manifest.json            seed, N, rows and bytes per file, the planted leaks

Ingest needs no --format; CSV / Parquet need the mapping: `costlens ingest <out>/csv --config <out>/costlens.toml`
(or on the command line: --map ts=event_time --map call_id=request_id … as listed in CSV_MAPPING below).

Everything is generated inside DuckDB from `range(N)` with hash-derived pseudo-random numbers (deterministic
for a seed, independent of thread count); nothing is done per row in Python. JSONL lines are built as
strings and written with COPY … (FORMAT csv, QUOTE '') so absent attributes are left out instead of
written as nulls. 10M calls take a few minutes on 2 cores.

The data: 8 features with a realistic mix (support bot, ticket classifier, document extraction, search
summaries, a coding agent, email triage, report writing, translation) over OpenAI and Anthropic models priced by
genai-prices, one month (2026-10) of traffic, tasks of 1–64 calls, ~1–2 % failures, cache reads, and planted leaks:
context bloat (support-bot, doc-extractor), premium overuse (email-triage: 40 % gpt-4o beside gpt-4o-mini at the
same acceptance), retries (report-writer: 12 % timeouts / rate limits, each retried in the same task), agent loops
(coding-agent: 6 % of tasks run 64 steps against a budget of 30), output verbosity (search-summarizer: 5 % of
answers ×10 with no max_tokens), batchable traffic (doc-extractor, declared non-interactive) and a repeated
long prefix with no cache reads (report-writer, prompt caching). translation and ticket-classifier are clean.

Prompt text (gen_ai.system_instructions / gen_ai.input.messages, or request.messages) is on a SMALL share of
rows only (--text-permille, default 10 = 1 %) and drawn from small pools (a few hundred distinct prefixes):
tokenising hundreds of thousands of distinct texts would make ingest time mostly tokenizer time, which T6
measures on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ALL_FORMATS = ("otel", "openai", "csv", "parquet", "outcomes")
DEFAULT_FORMATS = ALL_FORMATS
MONTH_START = "2026-10-01"
MONTH_SECONDS = 30 * 86400

# fid, feature, code, team, service, provider, model, response_model, alt_model, alt_response_model,
# alt_permille, task_size, loop_permille, loop_size, in_base, in_growth, out_base, max_tokens,
# err_permille, cache_read_pct, cache_write_first, bloat_permille, verbose_permille, weight (‰ of blocks),
# prefix_sentences, prompt_pool, accept_permille
FEATURES = [
    (
        0,
        "support-bot",
        "sb",
        "customer-experience",
        "support-api",
        "anthropic",
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        None,
        None,
        0,
        6,
        0,
        6,
        3000,
        1200,
        250,
        1024,
        10,
        60,
        True,
        30,
        0,
        220,
        12,
        20000,
        880,
    ),
    (
        1,
        "ticket-classifier",
        "tc",
        "customer-experience",
        "ticket-router",
        "openai",
        "gpt-4.1-nano",
        "gpt-4.1-nano-2025-04-14",
        None,
        None,
        0,
        1,
        0,
        1,
        1500,
        0,
        8,
        16,
        5,
        0,
        False,
        0,
        0,
        200,
        6,
        20000,
        950,
    ),
    (
        2,
        "doc-extractor",
        "dx",
        "finance-ops",
        "doc-pipeline",
        "openai",
        "gpt-4o",
        "gpt-4o-2024-08-06",
        None,
        None,
        0,
        2,
        0,
        2,
        5000,
        0,
        400,
        1024,
        10,
        25,
        False,
        30,
        0,
        130,
        10,
        20000,
        900,
    ),
    (
        3,
        "search-summarizer",
        "ss",
        "growth",
        "search-api",
        "openai",
        "gpt-4.1-mini",
        "gpt-4.1-mini-2025-04-14",
        None,
        None,
        0,
        1,
        0,
        1,
        4000,
        0,
        300,
        None,
        8,
        0,
        False,
        0,
        50,
        120,
        8,
        20000,
        860,
    ),
    (
        4,
        "coding-agent",
        "ca",
        "platform-eng",
        "dev-agent",
        "anthropic",
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        None,
        None,
        0,
        8,
        60,
        64,
        12000,
        400,
        600,
        8192,
        15,
        80,
        True,
        0,
        0,
        110,
        40,
        20000,
        780,
    ),
    (
        5,
        "email-triage",
        "et",
        "operations",
        "mail-router",
        "openai",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
        "gpt-4o",
        "gpt-4o-2024-08-06",
        400,
        1,
        0,
        1,
        900,
        0,
        20,
        50,
        5,
        0,
        False,
        0,
        0,
        90,
        6,
        200,
        930,
    ),
    (
        6,
        "report-writer",
        "rw",
        "analytics",
        "report-svc",
        "openai",
        "gpt-4.1",
        "gpt-4.1-2025-04-14",
        None,
        None,
        0,
        3,
        0,
        3,
        6000,
        0,
        900,
        2048,
        120,
        0,
        False,
        0,
        0,
        60,
        160,
        20000,
        700,
    ),
    (
        7,
        "translation",
        "tr",
        "localization",
        "l10n-api",
        "anthropic",
        "claude-haiku-4-5",
        "claude-haiku-4-5-20251001",
        None,
        None,
        0,
        1,
        0,
        1,
        800,
        0,
        700,
        2000,
        5,
        0,
        False,
        0,
        0,
        70,
        6,
        20000,
        940,
    ),
]
FEATURE_COLUMNS = (
    "fid, feature, code, team, service, provider, model, response_model, alt_model, "
    "alt_response_model, alt_permille, task_size, loop_permille, loop_size, in_base, in_growth, "
    "out_base, max_tokens, err_permille, cache_read_pct, cache_write_first, bloat_permille, "
    "verbose_permille, weight, prefix_sentences, prompt_pool, accept_permille"
)

CSV_MAPPING = {
    "ts": "event_time",
    "call_id": "request_id",
    "provider": "vendor",
    "model": "llm_model",
    "feature": "feature_name",
    "task_id": "task_ref",
    "team": "team_name",
    "customer": "customer_ref",
    "input_tokens": "tokens_in",
    "cache_read_tokens": "tokens_cached",
    "cache_write_5m_tokens": "tokens_cache_write",
    "output_tokens": "tokens_out",
    "latency_ms": "duration_ms",
    "max_tokens": "max_out",
    "status": "outcome_status",
    "error_type": "error_kind",
    "http_status": "http_code",
}
PLANTED_LEAKS = {
    "context_bloat": ["support-bot", "doc-extractor"],
    "premium_overuse": ["email-triage"],
    "retries": ["report-writer"],
    "agent_loops": ["coding-agent"],
    "output_verbosity": ["search-summarizer"],
    "batchable": ["doc-extractor"],
    "cache_miss": ["report-writer", "email-triage"],
    "clean": ["translation", "ticket-classifier"],
}


def _feature_values() -> str:
    def lit(v: object) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
        return str(v)

    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in FEATURES)


def _fid_case() -> str:
    """Block hash (‰) → feature id, by the features' weights."""
    parts, low = [], 0
    for row in FEATURES:
        weight = row[23]
        parts.append(f"WHEN hb % 1000 < {low + weight} THEN {row[0]}")
        low += weight
    assert low == 1000, low
    return "CASE " + " ".join(parts) + f" ELSE {FEATURES[-1][0]} END"


def setup(con, calls: int, seed: int, text_permille: int) -> None:
    """Create the `features` table and the `bench_calls` view (one row per call, computed on the fly)."""
    con.execute(f"CREATE OR REPLACE TABLE features AS SELECT * FROM (VALUES {_feature_values()}) f({FEATURE_COLUMNS})")
    # A sentence of ordinary words: prefix texts repeat it with a revision number, so tokenising is realistic.
    sentence = (
        "Follow the house style: cite each source, keep numbers exact, answer in the language of the customer, "
        "never reveal internal notes, and flag uncertainty plainly. "
    )
    con.execute(f"""
CREATE OR REPLACE VIEW bench_calls AS
WITH r AS (
    SELECT range AS i, range // 64 AS blk, range % 64 AS p,
           CAST(hash(range // 64, {seed}) >> 1 AS BIGINT) AS hb, CAST(hash(range, {seed}) >> 1 AS BIGINT) AS h,
           CAST(hash(range, {seed} + 1) >> 1 AS BIGINT) AS h2
    FROM range({calls})
), rf AS (
    SELECT r.*, {_fid_case()} AS fid_pick FROM r
), j AS (
    SELECT rf.*, f.*,
           CASE WHEN (hb >> 20) % 1000 < f.loop_permille THEN f.loop_size ELSE f.task_size END AS k
    FROM rf JOIN features f ON f.fid = rf.fid_pick
), u AS (
    SELECT *,
           p // k AS task_no, p % k AS turn,
           (h % 10000) AS u1, ((h >> 14) % 10000) AS u2, ((h >> 28) % 10000) AS u3, ((h >> 42) % 1000) AS u4,
           (h2 % 1000) AS e1, ((h2 >> 10) % 10) AS e2, ((h2 >> 20) % 60000000) AS jitter_us,
           ((h2 >> 40) % 1000) AS t1, ((h2 >> 50) % 1000) AS o1
    FROM j
), v AS (
    SELECT *,
           alt_model IS NOT NULL AND u1 < alt_permille * 10 AS is_alt,
           e1 < err_permille AS failed,
           u4 < bloat_permille AS bloated,
           (u4 + 500) % 1000 < verbose_permille AS is_verbose,
           code || '-' || blk || '-' || task_no AS task_id,
           printf('%08x%08x%016x', {seed}, fid, blk * 64 + task_no) AS trace_id,
           printf('%04x%012x', {seed}, i) AS span_id,  -- with the seed: no repeat across seeds
           TIMESTAMP '{MONTH_START}' + to_microseconds(CAST(i * ({MONTH_SECONDS}e6 / {calls}) AS BIGINT) + jitter_us) AS ts,
           'cus-' || lpad(CAST((hb >> 30) % 400 AS VARCHAR), 4, '0') AS customer,
           t1 < {text_permille} AS has_text
    FROM u
), tok AS (
    SELECT *,
           CAST((in_base * (0.6 + u2 / 12500.0) + in_growth * turn) * CASE WHEN bloated THEN 6 ELSE 1 END AS BIGINT)
               AS total_in,
           CASE WHEN failed THEN CASE e2 WHEN 9 THEN 'context_length_exceeded' WHEN 8 THEN 'rate_limit_exceeded'
                                        WHEN 7 THEN 'server_error' ELSE 'timeout' END END AS error_type
    FROM v
), tok2 AS (
    SELECT *,
           CASE WHEN failed AND error_type <> 'timeout' THEN 0
                WHEN cache_read_pct > 0 AND (turn > 0 OR (u3 < 3000 AND NOT cache_write_first))
                    THEN total_in * cache_read_pct // 100
                ELSE 0 END AS cache_read,
           CASE WHEN failed AND error_type <> 'timeout' THEN 0
                WHEN cache_write_first AND turn = 0 THEN total_in // 2 ELSE 0 END AS cache_write,
           CASE WHEN failed THEN 0
                ELSE CAST(out_base * (0.5 + u3 / 10000.0) * CASE WHEN is_verbose THEN 10 ELSE 1 END AS BIGINT) END AS output,
           CASE WHEN failed AND error_type <> 'timeout' THEN 0 ELSE total_in END AS input_incl
    FROM tok
)
SELECT i, feature, code, team, service, fid, task_id, trace_id, span_id, turn, ts, customer, failed, error_type,
       CASE error_type WHEN 'context_length_exceeded' THEN 400 WHEN 'rate_limit_exceeded' THEN 429
                       WHEN 'server_error' THEN 500 WHEN 'timeout' THEN 504 END AS http_status,
       provider,
       CASE WHEN is_alt THEN alt_model ELSE model END AS request_model,
       CASE WHEN is_alt THEN alt_response_model ELSE response_model END AS response_model,
       CASE WHEN is_verbose THEN NULL ELSE max_tokens END AS max_tokens,
       input_incl AS input_tokens, cache_read AS cache_read_tokens, cache_write AS cache_write_tokens,
       output AS output_tokens,
       ts + to_microseconds(CAST(200000 + output * 12000 + (h2 >> 30) % 800000 AS BIGINT)) AS end_ts,
       CAST(200 + output * 12 + (h2 >> 30) % 800 AS BIGINT) AS latency_ms,
       has_text,
       CASE WHEN has_text THEN 'You are the ' || feature || ' assistant, policy revision '
            || ((h >> 8) % 40) || '. ' || repeat('{sentence}', prefix_sentences) END AS prefix_text,
       -- retries repeat their task's prompt: the prompt is drawn per task (and per turn) from the feature's pool
       CASE WHEN has_text THEN 'Request ' || (hash(task_id, CASE WHEN code = 'rw' THEN 0 ELSE turn END) % prompt_pool)
            || ' for ' || feature || ': please handle the attached item.' END AS user_text,
       o1 < 400 AND turn = 0 AS has_outcome,
       (h2 >> 5) % 1000 < accept_permille AS accepted
FROM tok2
""")


def _ts_text(col: str) -> str:
    return f"strftime({col}, '%Y-%m-%dT%H:%M:%S.%fZ')"


def otel_lines_sql() -> str:
    return f"""
SELECT concat(
  '{{"trace_id":"', trace_id, '","span_id":"', span_id, '","name":"chat ', request_model,
  '","kind":"CLIENT","start_time":"', {_ts_text("ts")}, '","end_time":"', {_ts_text("end_ts")},
  '","status":"', CASE WHEN failed THEN 'ERROR' ELSE 'OK' END,
  '","attributes":{{"gen_ai.operation.name":"chat","gen_ai.provider.name":"', provider,
  '","gen_ai.request.model":"', request_model, '","gen_ai.response.model":"', response_model,
  '","gen_ai.response.id":"', CASE WHEN provider = 'anthropic' THEN 'msg_' ELSE 'chatcmpl-' END, span_id,
  '","gen_ai.usage.input_tokens":', input_tokens, ',"gen_ai.usage.output_tokens":', output_tokens,
  CASE WHEN cache_read_tokens > 0 THEN ',"gen_ai.usage.cache_read.input_tokens":' || cache_read_tokens END,
  CASE WHEN cache_write_tokens > 0 THEN ',"gen_ai.usage.cache_creation.input_tokens":' || cache_write_tokens END,
  CASE WHEN max_tokens IS NOT NULL THEN ',"gen_ai.request.max_tokens":' || max_tokens END,
  CASE WHEN failed THEN ',"error.type":"' || error_type || '","http.response.status_code":' || http_status
       ELSE ',"gen_ai.response.finish_reasons":["' || CASE WHEN provider = 'anthropic' THEN 'end_turn' ELSE 'stop' END || '"]' END,
  CASE WHEN code IN ('sb', 'ca') THEN ',"gen_ai.conversation.id":"' || task_id || '"' END,
  CASE WHEN has_text THEN ',"gen_ai.system_instructions":' || to_json(prefix_text)
       || ',"gen_ai.input.messages":' || to_json(to_json([{{'role': 'user', 'content': user_text}}])::VARCHAR) END,
  ',"costlens.feature":"', feature, '","costlens.task_id":"', task_id, '","costlens.team":"', team,
  '","costlens.customer":"', customer,
  '"}},"resource":{{"service.name":"', service, '","deployment.environment.name":"production"}}}}') AS line
FROM bench_calls ORDER BY i"""


def openai_lines_sql() -> str:
    openai_response = """concat('{"id":"chatcmpl-', span_id, '","object":"chat.completion","created":',
        epoch(ts)::BIGINT, ',"model":"', response_model,
        '","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null}}],',
        '"usage":{"prompt_tokens":', input_tokens, ',"completion_tokens":', output_tokens,
        ',"total_tokens":', input_tokens + output_tokens, ',"prompt_tokens_details":{"cached_tokens":',
        cache_read_tokens, '},"completion_tokens_details":{"reasoning_tokens":0}}}')"""
    anthropic_response = """concat('{"id":"msg_', span_id, '","type":"message","role":"assistant","model":"',
        response_model, '","stop_reason":"end_turn","usage":{"input_tokens":',
        input_tokens - cache_read_tokens - cache_write_tokens, ',"output_tokens":', output_tokens,
        ',"cache_read_input_tokens":', cache_read_tokens, ',"cache_creation_input_tokens":', cache_write_tokens,
        '}}')"""
    return f"""
SELECT concat(
  '{{"timestamp":"', {_ts_text("ts")}, '","latency_ms":', latency_ms,
  ',"metadata":{{"feature":"', feature, '","task_id":"', task_id, '","team":"', team, '","customer":"', customer,
  '","environment":"production"}},"request":{{"model":"', request_model, '"',
  CASE WHEN max_tokens IS NOT NULL THEN ',"max_tokens":' || max_tokens END,
  CASE WHEN has_text THEN ',"messages":' || to_json([{{'role': 'system', 'content': prefix_text}},
                                                    {{'role': 'user', 'content': user_text}}])::VARCHAR END,
  '}},',
  CASE WHEN failed AND error_type <> 'timeout'
       THEN '"response":null,"error":{{"type":"' || error_type || '","http_status":' || http_status || '}}'
       WHEN failed THEN '"response":null,"error":{{"type":"timeout","http_status":504}}'
       WHEN provider = 'anthropic' THEN '"response":' || {anthropic_response}
       ELSE '"response":' || {openai_response} END,
  '}}') AS line
FROM bench_calls ORDER BY i"""


def warehouse_sql(text_timestamps: bool) -> str:
    ts = _ts_text("ts") if text_timestamps else "ts"
    return f"""
SELECT {ts} AS event_time, 'req_' || span_id AS request_id, provider AS vendor, response_model AS llm_model,
       feature AS feature_name, task_id AS task_ref, team AS team_name, customer AS customer_ref,
       input_tokens AS tokens_in, cache_read_tokens AS tokens_cached, cache_write_tokens AS tokens_cache_write,
       output_tokens AS tokens_out, latency_ms AS duration_ms, max_tokens AS max_out,
       CASE WHEN failed THEN 'error' ELSE 'ok' END AS outcome_status, error_type AS error_kind,
       http_status AS http_code
FROM bench_calls ORDER BY i"""


def outcomes_sql() -> str:
    return """
SELECT task_id, accepted, round(CASE WHEN accepted THEN 0.7 + (i % 30) / 100.0 ELSE 0.2 + (i % 40) / 100.0 END, 2)
           AS quality_score,
       (i % 17 = 0) AS human_review, CASE WHEN NOT accepted THEN 5 + i % 40 END AS rework_minutes
FROM bench_calls WHERE has_outcome ORDER BY i"""


def bench_config_toml() -> str:
    cols = "\n".join(f'{canonical} = "{source}"' for canonical, source in CSV_MAPPING.items())
    features = []
    for row in FEATURES:
        name, team = row[1], row[3]
        interactive = "false" if name == "doc-extractor" else "true"
        extra = "\nstep_budget = 30" if name == "coding-agent" else ""
        features.append(f'[features.{name}]\nteam = "{team}"\ninteractive = {interactive}{extra}\n')
    return (
        "# costlens configuration for the benchmark data (written by benchmarks/generate.py).\n\n"
        "[economics]\nloaded_hourly_rate_usd = 85\n\n"
        "# The warehouse CSV / Parquet export has its own column names.\n"
        '[[ingest.mappings]]\nname = "bench-warehouse"\nmatch = "bench_warehouse*"\n'
        "input_tokens_include_cached = true\n[ingest.mappings.columns]\n" + cols + "\n\n" + "\n".join(features)
    )


def _raw_lines_copy(con, select_sql: str, path: Path) -> None:
    # Each row is one finished JSON line: write it verbatim (no quoting, a delimiter that never occurs).
    con.execute(f"COPY ({select_sql}) TO '{path}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f')")


def generate(
    out: str | os.PathLike[str],
    calls: int,
    seed: int = 7,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    text_permille: int = 10,
    threads: int | None = None,
    quiet: bool = False,
    start: str = MONTH_START,
    seconds: int = MONTH_SECONDS,
) -> dict:
    """Write the formats asked for under `out`; return the manifest (also written to out/manifest.json).
    Files already present with the same seed and N (per the manifest) are kept, so a rerun resumes.
    `start` / `seconds`: the span the calls are spread over (default the month; one day for T10's new day)."""
    import duckdb

    global MONTH_START, MONTH_SECONDS  # read by the SQL builders below
    MONTH_START, MONTH_SECONDS = start, seconds

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    manifest = {
        "seed": seed,
        "calls": calls,
        "text_permille": text_permille,
        "start": start,
        "seconds": seconds,
        "files": {},
    }
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        same = (seed, calls, text_permille, start, seconds)
        if (
            old.get("seed"),
            old.get("calls"),
            old.get("text_permille"),
            old.get("start", MONTH_START),
            old.get("seconds", MONTH_SECONDS),
        ) == same:
            manifest["files"] = {k: v for k, v in old.get("files", {}).items() if Path(v["path"]).exists()}
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    con.execute(f"SET temp_directory = '{out_dir / '.gen_tmp'}'")
    con.execute("SET preserve_insertion_order = true")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    setup(con, calls, seed, text_permille)
    targets = {
        "otel": (out_dir / "otel" / "calls.jsonl", lambda p: _raw_lines_copy(con, otel_lines_sql(), p)),
        "openai": (out_dir / "openai" / "calls.jsonl", lambda p: _raw_lines_copy(con, openai_lines_sql(), p)),
        "csv": (
            out_dir / "csv" / "bench_warehouse.csv",
            lambda p: con.execute(f"COPY ({warehouse_sql(True)}) TO '{p}' (FORMAT csv, HEADER true)"),
        ),
        "parquet": (
            out_dir / "parquet" / "bench_warehouse.parquet",
            lambda p: con.execute(
                f"COPY ({warehouse_sql(False)}) TO '{p}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
            ),
        ),
        "outcomes": (
            out_dir / "outcomes" / "outcomes.csv",
            lambda p: con.execute(f"COPY ({outcomes_sql()}) TO '{p}' (FORMAT csv, HEADER true)"),
        ),
    }
    for fmt in formats:
        if fmt not in targets:
            raise SystemExit(f"unknown format {fmt!r}; use some of {', '.join(ALL_FORMATS)}")
        path, write = targets[fmt]
        if fmt in manifest["files"]:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        started = time.perf_counter()
        write(tmp)
        os.replace(tmp, path)
        rows = (
            calls
            if fmt != "outcomes"
            else con.execute("SELECT count(*) FROM bench_calls WHERE has_outcome").fetchone()[0]
        )
        manifest["files"][fmt] = {
            "path": str(path),
            "rows": int(rows),
            "bytes": path.stat().st_size,
            "seconds": round(time.perf_counter() - started, 2),
        }
        manifest_path.write_text(json.dumps(manifest, indent=2))
        if not quiet:
            print(
                f"{fmt:9s} {path} {path.stat().st_size / 1e6:,.1f} MB in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
    (out_dir / "costlens.toml").write_text(bench_config_toml())
    manifest["config"] = str(out_dir / "costlens.toml")
    manifest["planted_leaks"] = PLANTED_LEAKS
    manifest_path.write_text(json.dumps(manifest, indent=2))
    con.close()
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000_000, help="calls per format (default 10M)")
    parser.add_argument("--out", required=True, help="output directory (outside the repository)")
    parser.add_argument(
        "--formats", default=",".join(DEFAULT_FORMATS), help=f"comma-separated subset of {','.join(ALL_FORMATS)}"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--text-permille", type=int, default=10, help="rows per thousand that carry prompt text (default 10 = 1 %%)"
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--start", default=MONTH_START, help=f"first timestamp (default {MONTH_START})")
    parser.add_argument("--seconds", type=int, default=MONTH_SECONDS, help="span of the calls (default 30 days)")
    args = parser.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    manifest = generate(
        args.out,
        args.calls,
        args.seed,
        formats,
        args.text_permille,
        args.threads,
        start=args.start,
        seconds=args.seconds,
    )
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
