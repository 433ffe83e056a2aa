"""The client half of requests to a vLLM server: OpenTelemetry's own OpenAI instrumentation
(opentelemetry-instrumentation-genai-openai) run against tests/realworld/otel/mockapi.py on 127.0.0.1, which
answers as vLLM's OpenAI-compatible server does (the response shape of vLLM's ChatCompletionResponse: `id`
chatcmpl-…, the served model's name, `usage` without details, `stop_reason`, `kv_transfer_params`).

The six requests are those of tests/fixtures/self_hosted/vllm_spans.jsonl, whose server spans carry the same
ids as `gen_ai.request.id`: two producers of the same calls. The SDK's span clock is set to each request's time
on the server (November 2026) — only the timestamps; every attribute is the instrumentation's own.

    python tests/realworld/vllm/client_spans.py OUT.otlp.jsonl
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "otel"))

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
# feature, task, prompt tokens, completion tokens, UTC start on the server (day, hour, minute of November 2026):
# the order of vllm_spans.jsonl (its ids chatcmpl-beef01 …)
CALLS = [
    ("rag-answer", "q-101", 1200, 300, (3, 9, 5)),
    ("rag-answer", "q-102", 2000, 500, (3, 9, 40)),
    ("rag-answer", "q-103", 800, 200, (4, 14, 10)),
    ("ticket-triage", "t-201", 400, 50, (3, 11, 0)),
    ("ticket-triage", "t-202", 600, 100, (4, 16, 30)),
    ("ticket-triage", "t-203", 300, 100, (5, 8, 15)),
]


def response_id(number: int) -> str:
    return f"chatcmpl-{0xBEEF00 + number:x}"


def fixtures() -> dict[str, dict]:
    out = {}
    for number, (_, task, prompt, completion, _) in enumerate(CALLS, 1):
        out[task.replace("-", "_")] = {
            "name": task.replace("-", "_"),
            "api": "chat",
            "status": 200,
            "json": {
                "id": response_id(number),
                "object": "chat.completion",
                "created": 1793696700 + number,
                "model": MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "…", "reasoning_content": None, "tool_calls": []},
                        "logprobs": None,
                        "finish_reason": "stop",
                        "stop_reason": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "total_tokens": prompt + completion,
                    "completion_tokens": completion,
                    "prompt_tokens_details": None,
                },
                "prompt_logprobs": None,
                "kv_transfer_params": None,
            },
        }
    return out


def main(out: Path) -> None:
    import time

    import openai
    import opentelemetry.sdk.trace as sdk_trace
    from mockapi import MockAPI
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from setups import otlp_json_lines

    clock = {"at": 0, "since": 0}  # the request's server time, and the real time it was set at

    def request_time_ns() -> int:
        return clock["at"] + (time.time_ns() - clock["since"])

    sdk_trace.time_ns = request_time_ns  # type: ignore[attr-defined]
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "support-app"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("support-app")
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with MockAPI(fixtures()) as api:
            client = openai.OpenAI(base_url=api.openai_base_url, api_key="not-needed-by-vllm", max_retries=0)
            for feature, task, _, _, (day, hour, minute) in CALLS:
                at = datetime(2026, 11, day, hour, minute, tzinfo=UTC)
                # the client's span starts 50 ms before the server receives the request
                clock["at"], clock["since"] = int(at.timestamp()) * 10**9 - 50_000_000, time.time_ns()
                with tracer.start_as_current_span(
                    "answer", attributes={"costlens.feature": feature, "costlens.task_id": task}
                ):
                    client.chat.completions.create(
                        model=MODEL,
                        messages=[{"role": "user", "content": f"[[mock:{task.replace('-', '_')}]] a question"}],
                    )
    finally:
        instrumentor.uninstrument()
    provider.force_flush()
    spans = sorted(exporter.get_finished_spans(), key=lambda s: (s.start_time or 0, s.end_time or 0))
    out.write_text("".join(line + "\n" for line in otlp_json_lines(spans)), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
