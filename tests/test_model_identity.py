"""One model identity whoever wrote it: Bedrock ARNs and profiles, Vertex resource names, route prefixes and
config aliases reduce to the name the price book knows; `costlens prices MODEL` shows each step."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from costlens import api, db
from costlens.config import Config


@pytest.mark.slow
@pytest.mark.parametrize(
    ("provider", "written", "model", "resolved_provider"),
    [
        (
            None,
            "projects/p-1/locations/europe-central2/publishers/google/models/gemini-2.5-flash",
            "gemini-2.5-flash",
            "gcp.vertex_ai",
        ),
        (None, "models/gemini-2.5-flash", "gemini-2.5-flash", None),
        ("openai", "openai/gpt-4o", "gpt-4o", "openai"),
        (None, "vertex_ai/gemini-2.5-pro", "gemini-2.5-pro", "gcp.vertex_ai"),
        (
            None,
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "aws.bedrock",
        ),
        (
            None,
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "aws.bedrock",
        ),
        (
            "openrouter",
            "anthropic/claude-sonnet-4.5",
            "anthropic/claude-sonnet-4.5",
            "openrouter",
        ),  # OpenRouter's own id
        (None, "meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", None),  # a Hugging Face id
    ],
)
def test_the_model_as_written_becomes_the_catalog_name(tmp_path, provider, written, model, resolved_provider):
    line = {
        "trace_id": "a" * 32,
        "span_id": "b" * 16,
        "start_time": "2026-10-05T10:00:00Z",
        "attributes": {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": written,
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 1,
        },
    }
    if provider:
        line["attributes"]["gen_ai.provider.name"] = provider
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(line) + "\n")
    dbfile = str(tmp_path / "c.duckdb")
    api.ingest([str(path)], db=dbfile, config=Config())
    con = db.connect(dbfile)
    assert con.execute("SELECT model, provider FROM calls").fetchone() == (model, resolved_provider)
    con.close()


@pytest.mark.slow
def test_an_azure_deployment_name_is_priced_through_an_alias(tmp_path):
    line = {
        "trace_id": "a" * 32,
        "span_id": "b" * 16,
        "start_time": "2026-10-05T10:00:00Z",
        "attributes": {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "azure.ai.openai",
            "gen_ai.request.model": "prod-gpt4o-eastus",
            "gen_ai.usage.input_tokens": 1_000_000,
            "gen_ai.usage.output_tokens": 100_000,
        },
    }
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(line) + "\n")
    dbfile = str(tmp_path / "c.duckdb")
    api.ingest([str(path)], db=dbfile, config=Config())
    unmapped = api.report(db=dbfile, config=Config(), period="2026-10")
    assert unmapped.totals.unpriced_calls == 1 and unmapped.totals.cost_usd == 0
    config = Config.model_validate({"models": {"aliases": {"prod-gpt4o-eastus": "gpt-4o"}}})
    mapped = api.report(db=dbfile, config=config, period="2026-10")
    # 1M input × $2.50 + 100k output × $10 per million (gpt-4o, by hand)
    assert mapped.totals.unpriced_calls == 0 and mapped.totals.cost_usd == Decimal("3.5")
    (row,) = mapped.by_model
    assert row.key == "prod-gpt4o-eastus"  # reported under the name the calls carry


def test_prices_explains_each_identity_step(tmp_path):
    config = Config.model_validate({"models": {"aliases": {"gemini-2.5-flash": "gemini-2.5-flash-preview-05-20"}}})
    view = api.prices(
        db=str(tmp_path / "c.duckdb"),
        config=config,
        model="projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash",
        at="2025-10-01",
    )
    steps = view.explanation["identity_steps"]
    assert steps == [
        "canonical form: projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash → gemini-2.5-flash",
        "provider from the model name: gcp.vertex_ai",
        "[models.aliases]: gemini-2.5-flash is priced as gemini-2.5-flash-preview-05-20",
    ]
    assert view.explanation["priced"] and view.explanation["catalog_model"] == "gemini-2.5-flash-preview"
