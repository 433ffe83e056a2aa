"""A local mock of the OpenAI and Anthropic HTTP APIs that serves recorded response bodies.

Routes (POST only, on 127.0.0.1, port chosen by the OS):

- ``/v1/chat/completions``  OpenAI Chat Completions, JSON or SSE (``stream: true``)
- ``/v1/responses``         OpenAI Responses, JSON or SSE
- ``/v1/messages``          Anthropic Messages, JSON or SSE

Which recorded body answers a request (``fixtures/NAME.json``, see PROVENANCE.md) is chosen, in order, by:

1. the ``X-Mock-Scenario: NAME`` request header;
2. a ``[[mock:NAME]]`` marker anywhere in the request body (e.g. in the user message), which is how
   frameworks that do not let the caller set headers pick a scenario;
3. the request's model and ``stream`` flag, matched against the request each fixture was recorded for.

A Chat Completions stream ends with its usage chunk only when the request asked for it with
``stream_options: {"include_usage": true}``, as the real API does.

Every request served is appended to ``MockAPI.served`` (fixture name, path, model, stream) so that a
scenario run can tell which recorded body answered which call.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).parent / "fixtures"
API_BY_PATH = {"/v1/chat/completions": "chat", "/v1/responses": "responses", "/v1/messages": "messages"}
MARKER = re.compile(r"\[\[mock:([A-Za-z0-9_]+)\]\]")


def load_fixtures(directory: Path = FIXTURES_DIR) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


@dataclass
class Served:
    fixture: str | None
    path: str
    model: str | None
    stream: bool
    status: int
    headers: dict[str, str] = field(default_factory=dict)


def _strip_usage_chunk(sse: str) -> str:
    """The Chat Completions stream without its trailing usage chunk (``choices: []`` with ``usage``)."""
    events = sse.split("\n\n")
    kept = []
    for event in events:
        data = event.strip()
        if data.startswith("data: ") and data != "data: [DONE]":
            try:
                chunk = json.loads(data[len("data: ") :])
            except ValueError:
                chunk = None
            if isinstance(chunk, dict) and chunk.get("choices") == [] and chunk.get("usage"):
                continue
        kept.append(event)
    return "\n\n".join(kept)


class MockAPI:
    """``with MockAPI() as api: ... api.base_url ...``; or ``start()`` / ``stop()``."""

    def __init__(self, fixtures: dict[str, dict[str, Any]] | None = None) -> None:
        self.fixtures = fixtures if fixtures is not None else load_fixtures()
        self.served: list[Served] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> MockAPI:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_POST(self) -> None:  # noqa: N802
                mock._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                self._reply_json(404, {"error": {"message": "mock: only POST is served", "type": "not_found"}})

            def _reply_json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="mockapi", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> MockAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """Root URL: Anthropic clients take it as is; OpenAI clients need ``openai_base_url``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    # -- routing ---------------------------------------------------------------------------------------
    def choose(self, api: str, raw: bytes, req: dict[str, Any], header: str | None) -> str | None:
        if header:
            return header
        match = MARKER.search(raw.decode("utf-8", "replace"))
        if match:
            return match.group(1)
        model, stream = req.get("model"), bool(req.get("stream"))
        for name, fx in self.fixtures.items():
            rec = fx.get("recorded_request") or {}
            if fx["api"] == api and rec.get("model") == model and bool(rec.get("stream")) == stream:
                return name
        return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        length = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        api = API_BY_PATH.get(path)
        stream = bool(req.get("stream"))
        name = self.choose(api, raw, req, h.headers.get("x-mock-scenario")) if api else None
        fx = self.fixtures.get(name) if name else None
        status = 404
        if api is None or fx is None or fx["api"] != api:
            body = {
                "error": {
                    "message": f"mock: no fixture for {path} model={req.get('model')!r} "
                    f"stream={stream} scenario={name!r}",
                    "type": "invalid_request_error",
                }
            }
            h._reply_json(404, body)  # type: ignore[attr-defined]
        elif "sse" in fx and not stream or "json" in fx and stream and fx["status"] < 400:
            status = 400
            h._reply_json(
                400,
                {
                    "error": {
                        "message": f"mock: fixture {name} is "  # type: ignore[attr-defined]
                        f"{'SSE' if 'sse' in fx else 'JSON'} but stream={stream}",
                        "type": "invalid_request_error",
                    }
                },
            )
        elif "sse" in fx:
            status = fx["status"]
            sse = fx["sse"]
            if api == "chat" and not (req.get("stream_options") or {}).get("include_usage"):
                sse = _strip_usage_chunk(sse)
            data = sse.encode()
            h.send_response(status)
            h.send_header("content-type", "text/event-stream; charset=utf-8")
            h.send_header("cache-control", "no-cache")
            h.send_header("content-length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
        else:
            status = fx["status"]
            headers = dict(fx.get("headers") or {})
            if api == "messages":
                headers.setdefault("request-id", "req_mock_" + name)
            else:
                headers.setdefault("x-request-id", "req_mock_" + name)
            h._reply_json(status, fx["json"], headers)  # type: ignore[attr-defined]
        with self._lock:
            self.served.append(
                Served(
                    name if fx else None,
                    path,
                    req.get("model"),
                    stream,
                    status,
                    {
                        k.lower(): v
                        for k, v in h.headers.items()
                        if k.lower() in ("traceparent", "x-mock-scenario", "user-agent")
                    },
                )
            )


if __name__ == "__main__":  # manual poking: python mockapi.py
    import time

    with MockAPI() as api:
        print(api.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
