"""costlens on spans the real instrumentation libraries wrote (tests/realworld/otel: each library wraps the real
openai / anthropic SDK calling a local mock API that answers with recorded bodies). Per set-up and per file form
(OTLP JSON, flat span JSON): the calls, the cost and the attribution equal the harness's independent reference
(genai-prices `calc_price` of what the spans carry, expected.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costlens import api
from costlens.config import Config

from conftest import CANNOT_SHARE_THE_ENVIRONMENT, load_otel_harness

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]  # the OTel corpus: each set-up in its own interpreter

_harness = load_otel_harness()
SETUPS = _harness["setups"].SETUPS
compute = _harness["expected"].compute
reference = _harness["expected"].reference

# Which of the harness's figures each set-up must reach (expected.py `totals`):
#   reference            the genai-prices cost of what the library-under-test's spans carry;
#   reference_with_tools the same plus web searches at their price, when the spans count them;
#   truth                the recorded bodies' tokens (without web searches): a second span of the same request,
#                        the Anthropic SDK's own, carries the 1h cache split the library's span drops.
EXPECTED = {
    "anthropic_sdk_native": "reference_cost_with_tools_usd",
    "logfire_anthropic": "reference_cost_with_tools_usd",  # web searches and the 1h split from gen_ai.usage.raw
    "logfire_openai_chat": "reference_cost_with_tools_usd",
    "logfire_openai_responses": "reference_cost_with_tools_usd",
    "openinference_anthropic": "truth_cost_with_tools_usd",  # SDK span: 1h split; OpenInference metadata: searches
    "openinference_anthropic_sdk_off": "reference_cost_with_tools_usd",
    "openinference_openai_chat": "reference_cost_with_tools_usd",
    "openinference_openai_responses": "reference_cost_with_tools_usd",
    "otel_genai_anthropic": "truth_cost_usd",  # SDK span: 1h split; neither span counts web searches
    "otel_genai_anthropic_sdk_off": "reference_cost_with_tools_usd",
    "otel_genai_openai_chat": "reference_cost_with_tools_usd",
    "otel_genai_openai_responses": "reference_cost_with_tools_usd",
    "otel_openai_v2_chat": "reference_cost_with_tools_usd",  # no cached tokens on its spans: the library's gap
    "pydantic_ai_anthropic": "reference_cost_with_tools_usd",
    "pydantic_ai_anthropic_stacked": "reference_cost_with_tools_usd",
    "pydantic_ai_openai_chat": "reference_cost_with_tools_usd",
    "pydantic_ai_openai_chat_stacked": "reference_cost_with_tools_usd",
    "pydantic_ai_openai_responses": "reference_cost_with_tools_usd",
    "traceloop_anthropic": "truth_cost_usd",  # SDK span: 1h split; Traceloop's stream output is one too high
    "traceloop_anthropic_sdk_off": "reference_cost_with_tools_usd",
    "traceloop_openai_chat": "reference_cost_with_tools_usd",  # Traceloop drops OpenAI cache writes
    "traceloop_openai_responses": "reference_cost_with_tools_usd",
}
# Traceloop's Anthropic span and the SDK's are siblings; for the failed call both are roots of their own traces
# with no response id, so nothing ties them together: that failed request counts twice (no cost: no usage).
EXTRA_FAILED_CALLS = {"traceloop_anthropic": 1}


@pytest.mark.slow
@pytest.mark.parametrize("form", ["otlp", "spans"])
@pytest.mark.parametrize("setup", sorted(SETUPS))
def test_costlens_equals_the_reference(otel_corpus, tmp_path, setup, form):
    folder, results = otel_corpus
    code, output = results[setup]
    if setup in CANNOT_SHARE_THE_ENVIRONMENT:
        pytest.skip(output.strip())
    assert code == 0, output
    truth = compute(setup, folder)
    totals = truth["totals"]
    db = str(tmp_path / "costlens.duckdb")
    (file,) = api.ingest([str(folder / f"{setup}.{form}.jsonl")], db=db, config=Config()).files
    assert file.status == "ingested", file.message
    report = api.report(db=db, config=Config())

    assert report.totals.calls == totals["calls"] + EXTRA_FAILED_CALLS.get(setup, 0)
    assert report.totals.unpriced_calls == 0
    assert report.totals.cost_usd == Decimal(str(totals[EXPECTED[setup]]))
    # tokens by kind: the reference's (what the library's spans carry), or the recorded bodies' where another
    # span of the request carries what the library's drops
    if EXPECTED[setup].startswith("truth"):
        want = {
            k: sum(c["truth"][k] for c in truth["calls"])
            for k in ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")
        }
    else:
        want = {k: v for k, v in reference(setup, folder)["tokens"].items() if k != "reasoning"}
    got = {"input": 0, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0, "output": 0}
    for row in report.by_model:
        got["input"] += row.input_tokens
        got["cache_read"] += row.cache_read_tokens
        got["output"] += row.output_tokens
    con_tokens = _write_split(tmp_path / "costlens.duckdb")
    got.update(con_tokens)
    assert got == want
    # attribution set on the app's parent spans reaches the model calls under them
    features = {u.key: u.calls for u in report.unit_economics}
    assert (features.get("support-bot"), features.get("summarizer")) == (2, 1)
    # every span that carried usage is a call or a duplicate with its reason: nothing unaccounted for
    assert file.rows_read == file.rows_loaded + file.rows_duplicate + file.rows_quarantined + file.rows_skipped


def _write_split(db) -> dict:
    from costlens import db as database

    con = database.connect(str(db))
    try:
        five, hour = con.execute("SELECT sum(cache_write_5m_tokens), sum(cache_write_1h_tokens) FROM calls").fetchone()
    finally:
        con.close()
    return {"cache_write_5m": int(five or 0), "cache_write_1h": int(hour or 0)}


@pytest.mark.slow
def test_every_span_of_one_request_is_one_call_and_says_which_was_kept(otel_corpus, tmp_path):
    from costlens import db as database

    folder, results = otel_corpus
    db = str(tmp_path / "costlens.duckdb")
    api.ingest([str(folder / "otel_genai_anthropic.spans.jsonl")], db=db, config=Config())
    con = database.connect(db)
    duplicates = con.execute("SELECT reason FROM quarantine WHERE disposition = 'duplicate'").fetchall()
    tasks = dict(con.execute("SELECT call_id, task_id FROM calls WHERE feature = 'support-bot'").fetchall())
    con.close()
    # six requests traced twice (the official span over the SDK's) and the failed one: seven duplicates, each
    # naming the span that was kept
    assert len(duplicates) == 7
    assert all("anthropic.messages.create" in reason for (reason,) in duplicates)
    assert set(tasks.values()) == {"task-1"}  # the parent span's costlens.task_id, not the trace id


@pytest.mark.slow
def test_every_libraries_span_files_load_in_batches_exactly_as_file_by_file(otel_corpus, tmp_path, monkeypatch):
    """Every set-up's OTLP and flat span files in one folder, the flat ones also cut in two (so traces and one
    request's spans fall into different files, as a collector's file rotation cuts them): loaded in batches,
    the calls, ids, costs, duplicates, quarantine and per-file counts equal loading the files one by one."""
    import shutil

    from costlens import db
    from costlens.ingest import runner
    from costlens.ingest.otel import OtelAdapter

    corpus, results = otel_corpus
    folder = tmp_path / "spans"
    (folder / "otlp").mkdir(parents=True)
    (folder / "flat").mkdir()
    for setup in sorted(SETUPS):
        if results[setup][0] != 0:
            continue  # a set-up that cannot share this environment wrote nothing
        shutil.copy(corpus / f"{setup}.otlp.jsonl", folder / "otlp" / f"{setup}.jsonl")
        lines = (corpus / f"{setup}.spans.jsonl").read_text().splitlines()
        (folder / "flat" / f"{setup}.jsonl").write_text("\n".join(lines) + "\n")
        half = len(lines) // 2
        (folder / "flat" / f"{setup}.part-1.jsonl").write_text("\n".join(lines[:half]) + "\n")
        (folder / "flat" / f"{setup}.part-2.jsonl").write_text("\n".join(lines[half:]) + "\n")

    batches: list[int] = []
    original = OtelAdapter.stage_batch
    monkeypatch.setattr(
        OtelAdapter,
        "stage_batch",
        lambda self, c, srcs, ctx: (batches.append(len(srcs)), original(self, c, srcs, ctx))[1],
    )
    batched_db, single_db = db.connect(":memory:"), db.connect(":memory:")
    batched = runner.ingest_paths(batched_db, [str(folder)], Config())
    flat, otlp = (len(list((folder / kind).iterdir())) for kind in ("flat", "otlp"))
    assert batches == [flat, otlp] and flat == 3 * otlp > 0  # one batch per kind of file
    monkeypatch.setattr(runner, "BATCH_MAX_FILES", 1)  # every batch is one file: the file-by-file path
    single = runner.ingest_paths(single_db, [str(folder)], Config())

    def per_file(result):
        return [
            (f.path, f.status, f.rows_read, f.rows_loaded, f.rows_duplicate, f.rows_quarantined, f.rows_skipped)
            for f in result.files
        ]

    assert all(f.status == "ingested" for f in batched.files)
    assert per_file(batched) == per_file(single)
    for query in (
        "SELECT * EXCLUDE (run_id) FROM calls ORDER BY call_id",
        "SELECT source_file, source_row, disposition, reason FROM quarantine ORDER BY ALL",
        "SELECT count(*), sum(stored_cost_usd) FROM calls",
    ):
        assert batched_db.execute(query).fetchall() == single_db.execute(query).fetchall(), query
    # the same requests came from several libraries' files: most of the corpus's call rows are duplicates
    loaded = sum(f.rows_loaded for f in batched.files)
    assert 0 < loaded < sum(f.rows_duplicate for f in batched.files)
