"""Real recorded provider payloads (tests/realworld/*, provenance in each folder's PROVENANCE.md): every billed
quantity is read and priced. Expected figures come from each folder's expected.json, worked out independently
(by hand from the vendors' published prices, and with genai-prices' calc_price); where the two disagree the
test says which one costlens follows and why."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlens import api
from costlens.config import Config

REALWORLD = Path(__file__).resolve().parent / "realworld"


def expected(folder: str) -> dict:
    return json.loads((REALWORLD / folder / "expected.json").read_text())["files"]


def load(
    tmp_path: Path,
    folder: str,
    name: str,
    *,
    day: str,
    sets: list[str] | None = None,
    text: str | None = None,
    config: Config | None = None,
):
    """Ingest one corpus file (its modification time set to the request day: Anthropic, Gemini and Bedrock
    bodies carry no time of their own) and report that month."""
    path = tmp_path / name
    if text is None:
        shutil.copyfile(REALWORLD / folder / name, path)
    else:
        path.write_text(text)
    stamp = datetime.fromisoformat(day + "T12:00:00").timestamp()
    os.utime(path, (stamp, stamp))
    db = str(tmp_path / "costlens.duckdb")
    result = api.ingest([str(path)], db=db, config=config or Config(), mapping=api.parse_mapping(None, sets))
    (file,) = result.files
    assert file.status == "ingested", file.message
    report = api.report(db=db, config=config or Config(), period=day[:7])
    return file, report


def tokens(report) -> dict:
    (model,) = report.by_model
    return {
        "input_tokens": model.input_tokens,
        "cache_read_tokens": model.cache_read_tokens,
        "cache_write_tokens": model.cache_write_tokens,
        "output_tokens": model.output_tokens,
    }


def want_tokens(usage: dict) -> dict:
    return {
        "input_tokens": usage["input_tokens"],
        "cache_read_tokens": usage.get("cache_read_tokens") or 0,
        "cache_write_tokens": (usage.get("cache_write_5m_tokens") or 0)
        + (usage.get("cache_write_1h_tokens") or 0)
        + (usage.get("cache_write_tokens") or 0),
        "output_tokens": usage["output_tokens"],
    }


# (folder, file, --set values): totals equal the independent reference exactly
EXACT = [
    ("anthropic", "msg_claude-sonnet-4-5_cache-5m-write_cache-read.json", None),
    # usage.iterations: the compaction pass and the message pass are both billed (top level alone: $0.00066)
    ("anthropic", "msg_claude-sonnet-4-6_compaction_usage-iterations.json", None),
    # server_tool_use.web_search_requests: 1 search at $10 / 1,000 on top of the tokens
    ("anthropic", "msg_claude-sonnet-4_web-search.abridged.json", None),
    ("anthropic", "msg_claude-sonnet-4_web-fetch.abridged.json", None),
    ("openai", "chat_o3-mini_reasoning-tokens.json", None),
    # audio input tokens at the audio rate ($40 / M, shipped table: genai-prices has no audio price here)
    ("openai", "chat_gpt-4o-audio-preview_input-audio-tokens.json", None),
    ("openai", "chat_gpt-4o-audio-preview_input-audio-tokens_2.json", None),
    # web_search_preview on a non-reasoning model: $25 / 1,000 calls (genai-prices has the $10 web search)
    ("openai", "responses_gpt-4o_web_search_call.json", None),
    ("openai", "responses_gpt-4o_file_search_call.json", None),
    # code interpreter: one container, $0.03
    ("openai", "responses_gpt-5.5_code_interpreter_call_reasoning.json", None),
    # image generation tool: one high-quality 1536x1024 image, $0.25
    ("openai", "responses_gpt-5_image_generation_call.abridged.json", None),
    # a compaction response names no model: it comes from --set
    ("openai", "responses_compact_gpt-4o.abridged.json", ["model=gpt-4o"]),
    # thinking billed as output, tool-use prompt tokens as input, one grounded prompt at $35 / 1,000
    ("gemini", "generateContent_gemini-2.5-pro_google-search_thoughts_tooluse.abridged.json", None),
    ("gemini", "generateContent_gemini-2.5-pro_code-execution_thoughts_tooluse.json", None),
    ("gemini", "vertex_generateContent_gemini-2.0-flash.json", None),
    # Converse bodies name no model: --set gives it, as the request URI did
    (
        "bedrock",
        "converse_us.anthropic.claude-sonnet-4-5_cache-write-5m.json",
        ["model=us.anthropic.claude-sonnet-4-5-20250929-v1:0"],
    ),
    (
        "bedrock",
        "converse_us.anthropic.claude-sonnet-4-5_cache-read.json",
        ["model=us.anthropic.claude-sonnet-4-5-20250929-v1:0"],
    ),
    # serviceTier flex: genai-prices has no flex price for Nova, so standard (the reference says the same)
    ("bedrock", "converse_amazon.nova-pro_service-tier-flex.json", ["model=amazon.nova-pro-v1:0"]),
    # the ConverseStream metadata event (the last of a stream) carries the usage
    ("bedrock", "converse-stream_amazon.nova-micro_metadata-event.json", ["model=amazon.nova-micro-v1:0"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("folder", "name", "sets"), EXACT, ids=[f"{f}/{n}" for f, n, _ in EXACT])
def test_total_equals_the_reference(tmp_path, folder, name, sets):
    case = expected(folder)[name]
    day = case["request_date"][:10]
    file, report = load(tmp_path, folder, name, day=day, sets=sets)
    assert (file.rows_read, file.rows_loaded) == (1, 1)
    assert report.totals.unpriced_calls == 0
    assert Decimal(str(report.totals.cost_usd)) == Decimal(case["reference_total_usd"])
    assert tokens(report) == want_tokens(case["billed_usage"])
    charges = sum(
        Decimal(str(c.get("unit_price_usd") or 0)) * Decimal(str(c.get("quantity") or 0))
        for c in case.get("non_token_charges", [])
        if c.get("quantity")
    )
    assert Decimal(str(report.totals.tool_cost_usd)) == charges


@pytest.mark.slow
def test_anthropic_code_execution_is_never_silently_free(tmp_path):
    # the response shows code ran in a container (billed per container-hour) but reports no time: the tokens
    # are priced, and the code execution is listed as unpriced usage with the reason, never $0
    name = "msg_claude-sonnet-4_code-execution_container.json"
    case = expected("anthropic")[name]
    _, report = load(tmp_path, "anthropic", name, day="2025-09-16")
    assert Decimal(str(report.totals.cost_usd)) == Decimal(case["reference_total_usd"])  # tokens only: $0.007878
    (usage,) = report.coverage.unpriced_usage
    assert (usage.kind, usage.field, usage.calls, usage.quantity) == ("unpriced_charge", "code_execution", 1, 1)
    assert "container-hour" in usage.reason
    assert any("code_execution" in w for w in report.warnings)


@pytest.mark.slow
def test_anthropic_stream_events_take_the_final_usage(tmp_path):
    # a streamed message logged as its SSE events: message_start (id, input, the 1h cache write split) and
    # message_delta (no id, the final output count) make one call
    name = "stream_claude-sonnet-4-6_cache-1h-write.sse"
    case = expected("anthropic")[name]
    events = [
        line[len("data: ") :]
        for line in (REALWORLD / "anthropic" / name).read_text().splitlines()
        if line.startswith("data: ")
    ]
    file, report = load(tmp_path, "anthropic", "stream.jsonl", day="2026-10-09", text="\n".join(events) + "\n")
    assert (file.rows_read, file.rows_loaded, file.rows_duplicate, file.rows_skipped) == (7, 1, 1, 5)
    assert Decimal(str(report.totals.cost_usd)) == Decimal(case["reference_total_usd"])
    (model,) = report.by_model
    assert (model.input_tokens, model.cache_write_tokens, model.output_tokens) == (13, 3913, 4)


@pytest.mark.slow
def test_anthropic_batch_results_follow_genai_prices(tmp_path):
    # Message Batches are billed at half price; genai-prices 0.2.5 has Sonnet 4.5's batch price only from
    # 2026-10-14, so 2025 batch lines are priced at standard (its own calc_price says the same: $0.000528 for both)
    name = "batch_results_claude-sonnet-4-5.jsonl"
    case = expected("anthropic")[name]
    _, report = load(tmp_path, "anthropic", name, day="2025-11-01")
    assert report.totals.calls == 2
    assert Decimal(str(report.totals.cost_usd)) == Decimal(case["genai_prices_total_usd"])
    # after genai-prices' batch date, the batch price applies: half
    (tmp_path / "later").mkdir()
    _, later = load(tmp_path / "later", "anthropic", name, day="2026-11-02")
    assert Decimal(str(later.totals.cost_usd)) == Decimal(case["reference_total_usd"])


@pytest.mark.slow
def test_bedrock_invoke_model_body(tmp_path):
    # InvokeModel returns the Anthropic Messages body (msg_bdrk_ id): provider aws.bedrock, cache reads priced
    from genai_prices import Usage, calc_price

    name = "invoke_eu.anthropic.claude-haiku-4-5_cache-read.abridged.json"
    _, report = load(tmp_path, "bedrock", name, day="2025-11-01")
    (model,) = report.by_model
    assert (model.provider, model.key) == ("aws.bedrock", "claude-haiku-4-5-20251001")
    reference = calc_price(
        Usage(input_tokens=3 + 9511, cache_read_tokens=9511, output_tokens=2851),
        "claude-haiku-4-5-20251001",
        provider_id="aws",
        genai_request_timestamp=datetime(2025, 11, 1, 12),
    ).total_price
    assert Decimal(str(report.totals.cost_usd)) == reference


@pytest.mark.slow
def test_bedrock_application_inference_profile_is_unpriced_with_a_reason(tmp_path):
    # the ARN of an application inference profile names no model: unpriced (never $0) until mapped
    name = "converse_application-inference-profile-arn.json"
    arn = "arn:aws:bedrock:us-east-1:353014496775:application-inference-profile/mi1dadi0g15f"
    _, report = load(tmp_path, "bedrock", name, day="2025-11-01", sets=[f"model={arn}"])
    assert report.totals.unpriced_calls == 1
    (unpriced,) = report.coverage.unpriced_models
    assert unpriced.model == arn and unpriced.provider == "aws.bedrock"
    mapped = Config.model_validate({"models": {"aliases": {arn: "us.anthropic.claude-sonnet-4-5-20250929-v1:0"}}})
    (tmp_path / "mapped").mkdir()
    _, priced = load(tmp_path / "mapped", "bedrock", name, day="2025-11-01", sets=[f"model={arn}"], config=mapped)
    assert priced.totals.unpriced_calls == 0 and priced.totals.cost_usd > 0


@pytest.mark.slow
def test_openai_usage_api_audio_tokens_are_billing_lines(tmp_path):
    # a real Usage API export (the OpenAI cookbook): audio input and output tokens are lines of their own
    from costlens import db as database

    name = "usage_completions_buckets_2025-01-11_to_2025-01-16.excerpt.json"
    case = expected("openai_usage_api")[name]
    path = tmp_path / name
    shutil.copyfile(REALWORLD / "openai_usage_api" / name, path)
    dbfile = str(tmp_path / "costlens.duckdb")
    api.ingest([str(path)], db=dbfile, config=Config())
    con = database.connect(dbfile)
    got = dict(con.execute("SELECT token_type, sum(quantity_tokens) FROM billing_lines GROUP BY 1").fetchall())
    con.close()
    raw = case["totals_raw"]
    # input_tokens counts every modality (the current Usage API definition): text input = input − cached − audio
    assert got == {
        "input": raw["input_tokens"] - raw["input_cached_tokens"] - raw["input_audio_tokens"],
        "cache_read": raw["input_cached_tokens"],
        "input_audio": raw["input_audio_tokens"],
        "output": raw["output_tokens"] - raw["output_audio_tokens"],
        "output_audio": raw["output_audio_tokens"],
    }


LANGFUSE = sorted(name for name in expected("langfuse"))


@pytest.mark.slow
@pytest.mark.parametrize("name", LANGFUSE)
def test_langfuse_real_exports(tmp_path, name):
    # downloaded traces ({trace, observations}: each observation read once, not again under trace.observations)
    # and an observations v2 page: calls, tokens by kind, the trace name as the feature, Langfuse's own cost
    case = expected("langfuse")[name]
    path = tmp_path / name
    shutil.copyfile(REALWORLD / "langfuse" / name, path)
    dbfile = str(tmp_path / "costlens.duckdb")
    (file,) = api.ingest([str(path)], db=dbfile, config=Config()).files
    assert file.status == "ingested" and file.rows_loaded == case["generations"]
    from costlens import db as database

    con = database.connect(dbfile)
    rows = con.execute(
        "SELECT call_id, model, feature, input_tokens, cache_read_tokens, "
        "cache_write_5m_tokens + cache_write_1h_tokens, output_tokens, reasoning_tokens, "
        "reported_cost_usd FROM calls ORDER BY call_id"
    ).fetchall()
    hidden = dict(con.execute("SELECT call_id, quantity FROM call_charges WHERE kind = 'hidden_tokens'").fetchall())
    con.close()
    for (call_id, model, feature, inp, cr, cw, out, rs, cost), g in zip(
        rows, sorted(case["generations_detail"], key=lambda g: g["observation_id"])
    ):
        t = g["tokens"]
        assert call_id == g["observation_id"]
        assert model == g.get("model_normalized", g["model_as_logged"])
        assert feature == case["trace_name_feature"]
        assert (inp, cr, cw) == (t["input_uncached"], t["cache_read"], t["cache_write"])
        if g.get("reasoning_is_inferred"):
            # Vertex: thinking only in usageDetails.total — the call keeps what it reports (845 output) and
            # the 1,173 hidden tokens are flagged, never silently dropped or silently billed
            assert (out, hidden[call_id]) == (t["output_incl_reasoning"] - t["reasoning"], t["reasoning"])
        else:
            assert (out, rs) == (t["output_incl_reasoning"], t["reasoning"]) and call_id not in hidden
        assert cost == Decimal(str(g["costDetails_total"]))


@pytest.mark.slow
def test_langfuse_hidden_thinking_tokens_are_estimated_in_coverage(tmp_path):
    name = "langfuse_trace_vertex-ai-2025-08-01.json"
    case = expected("langfuse")[name]["generations_detail"][0]
    path = tmp_path / name
    shutil.copyfile(REALWORLD / "langfuse" / name, path)
    dbfile = str(tmp_path / "costlens.duckdb")
    api.ingest([str(path)], db=dbfile, config=Config())
    report = api.report(db=dbfile, config=Config(), period="2025-08")
    (model,) = report.by_model
    assert (model.provider, model.key) == ("gcp.vertex_ai", "gemini-2.5-flash")  # from the resource path
    (usage,) = report.coverage.unpriced_usage
    assert (usage.kind, usage.field, usage.quantity) == ("hidden_tokens", "usageDetails.total", 1173)
    # 1,173 tokens at the call's own output rate ($2.50 / M): the genai-prices reference minus what is billed
    assert usage.est_cost_usd == Decimal(case["genai_prices_reference"]["total_usd"]) - report.totals.cost_usd
    assert any("usageDetails.total" in w for w in report.warnings)
