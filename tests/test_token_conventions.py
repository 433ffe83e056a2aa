"""One table proving that every producer's token counts land in the ONE canonical convention
(docs/definitions.md#token-convention):
input = uncached input only; cache reads; 5-minute and 1-hour cache writes; output including reasoning;
reasoning as an informational subset. Each case is one raw record, ingested through the real runner."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

TS = "2025-10-01T12:00:00Z"


def _otlp_line(provider: str, tokens: dict[str, int], model: str) -> dict:
    """A collector file-exporter line holding one GenAI chat span."""

    def attr(key, value):
        kind = "intValue" if isinstance(value, int) else "stringValue"
        return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}

    attributes = [
        attr("gen_ai.operation.name", "chat"),
        attr("gen_ai.provider.name", provider),
        attr("gen_ai.request.model", model),
        attr("gen_ai.response.model", model),
    ]
    attributes += [attr(f"gen_ai.usage.{name}", value) for name, value in tokens.items()]
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": f"chat {model}",
        "kind": 3,
        "startTimeUnixNano": "1759320000000000000",
        "endTimeUnixNano": "1759320002000000000",
        "attributes": attributes,
        "status": {},
    }
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [attr("service.name", "app")]},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": [span]}],
            }
        ]
    }


def _wrapped(response: dict, model: str) -> dict:
    return {"timestamp": TS, "request": {"model": model}, "response": response, "error": None}


def _chat(usage: dict, model: str = "gpt-4o-2024-08-06") -> dict:
    return {
        "id": "chatcmpl-tc",
        "object": "chat.completion",
        "created": 1759320000,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "x"}}],
        "usage": usage,
    }


def _message(usage: dict, model: str = "claude-sonnet-4-5-20250929") -> dict:
    return {
        "id": "msg_tc",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": "end_turn",
        "usage": usage,
    }


# (producer, raw record, canonical (input, cache_read, cache_write_5m, cache_write_1h, output, reasoning))
CASES = [
    pytest.param(
        "openai",
        _chat(
            {
                "prompt_tokens": 2000,
                "completion_tokens": 150,
                "total_tokens": 2150,
                "prompt_tokens_details": {"cached_tokens": 1536},
                "completion_tokens_details": {"reasoning_tokens": 0},
            }
        ),
        (464, 1536, 0, 0, 150, 0),
        id="openai-chat-cached-prompt-includes-cache",
    ),
    pytest.param(
        "openai",
        _chat(
            {
                "prompt_tokens": 300,
                "completion_tokens": 1200,
                "total_tokens": 1500,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 1024},
            },
            model="o3-mini-2025-01-31",
        ),
        (300, 0, 0, 0, 1200, 1024),
        id="openai-chat-reasoning-inside-completion",
    ),
    pytest.param(
        "openai",
        {
            "id": "resp_tc",
            "object": "response",
            "created_at": 1759320000,
            "status": "completed",
            "model": "gpt-5-mini",
            "usage": {
                "input_tokens": 5000,
                "input_tokens_details": {"cached_tokens": 4096},
                "output_tokens": 900,
                "output_tokens_details": {"reasoning_tokens": 512},
                "total_tokens": 5900,
            },
        },
        (904, 4096, 0, 0, 900, 512),
        id="openai-responses-cached-and-reasoning",
    ),
    pytest.param(
        "openai",
        _wrapped(
            _chat({"prompt_tokens": 1000, "completion_tokens": 50, "prompt_tokens_details": {"cached_tokens": 1000}}),
            "gpt-4o",
        ),
        (0, 1000, 0, 0, 50, 0),
        id="openai-wrapped-fully-cached-prompt",
    ),
    pytest.param(
        "anthropic",
        _wrapped(_message({"input_tokens": 1500, "output_tokens": 80}), "claude-sonnet-4-5"),
        (1500, 0, 0, 0, 80, 0),
        id="anthropic-no-cache",
    ),
    pytest.param(
        "anthropic",
        _wrapped(
            _message(
                {
                    "input_tokens": 50,
                    "output_tokens": 400,
                    "cache_read_input_tokens": 12000,
                    "cache_creation_input_tokens": 3000,
                }
            ),
            "claude-sonnet-4-5",
        ),
        (50, 12000, 3000, 0, 400, 0),
        id="anthropic-cache-read-and-write-without-split-is-5m",
    ),
    pytest.param(
        "anthropic",
        _wrapped(
            _message(
                {
                    "input_tokens": 20,
                    "output_tokens": 600,
                    "cache_read_input_tokens": 700,
                    "cache_creation_input_tokens": 5000,
                    "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 3000},
                }
            ),
            "claude-sonnet-4-5",
        ),
        (20, 700, 2000, 3000, 600, 0),
        id="anthropic-5m-and-1h-split",
    ),
    pytest.param(
        "anthropic",
        {
            "custom_id": "doc-1",
            "result": {
                "type": "succeeded",
                "message": _message(
                    {
                        "input_tokens": 3000,
                        "output_tokens": 200,
                        "cache_read_input_tokens": 1000,
                        "cache_creation_input_tokens": 500,
                        "service_tier": "batch",
                    }
                ),
            },
        },
        (3000, 1000, 500, 0, 200, 0),
        id="anthropic-batch-result-line",
    ),
    pytest.param(
        "otel",
        _otlp_line(
            "anthropic",
            {
                "input_tokens": 12000,
                "cache_read.input_tokens": 8000,
                "cache_creation.input_tokens": 3000,
                "output_tokens": 500,
            },
            "claude-sonnet-4-5-20250929",
        ),
        (1000, 8000, 3000, 0, 500, 0),
        id="otel-inclusive-input-with-cache-read-and-creation",
    ),
    pytest.param(
        "otel",
        _otlp_line(
            "openai",
            {
                "input_tokens": 2000,
                "cache_read.input_tokens": 1536,
                "output_tokens": 700,
                "reasoning.output_tokens": 512,
            },
            "o4-mini",
        ),
        (464, 1536, 0, 0, 700, 512),
        id="otel-openai-inclusive-input-with-reasoning",
    ),
    pytest.param(
        "otel",
        _otlp_line(
            "anthropic",
            {
                "input_tokens": 50,
                "cache_read.input_tokens": 8000,
                "cache_creation.input_tokens": 3000,
                "output_tokens": 500,
            },
            "claude-sonnet-4-5-20250929",
        ),
        (50, 8000, 3000, 0, 500, 0),
        id="otel-anthropic-legacy-exclusive-input",
    ),
]


@pytest.mark.parametrize(("producer", "record", "expected"), CASES)
def test_canonical_tokens(producer, record, expected, tmp_path, con, ingest):
    path = tmp_path / f"{producer}.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")

    result = ingest(path, fmt=producer)

    assert [f.status for f in result.files] == ["ingested"], result.files[0].message
    assert result.total("rows_loaded") == 1, con.execute("SELECT reason FROM quarantine").fetchall()
    row = con.execute(
        """SELECT input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
                  output_tokens, reasoning_tokens, source_format, status FROM calls"""
    ).fetchone()
    assert row[:6] == expected
    assert row[6:] == (producer, "ok")
