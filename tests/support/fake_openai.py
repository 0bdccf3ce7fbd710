"""An OpenAI-compatible model server with scriptable faults, for tests and benchmarks.

In-process: ``FakeOpenAI().start()`` serves on a free loopback port from a background
thread; ``.behave(...)`` queues behaviours and ``.requests`` records what arrived.
Out of process: ``python -m tests.support.fake_openai --port 8089 --tokens 40 --gap-ms 15``;
``POST /_control`` takes ``{"reset": true, "behave": [{"kind": "rate_limit", ...}]}`` and
``GET /_control`` returns the recorded requests.

Behaviour kinds (each may set ``times``: how many requests it applies to, default 1;
``only``: "judge" for requests that want JSON, "persona" for the others; ``model``: only
requests for that model name):
  normal       stream/complete ``tokens`` words with ``gap_ms`` between them (or ``content``)
  rate_limit   429 with ``Retry-After: retry_after``
  error        HTTP ``status`` (500) with an error body
  hang         accept the request and never answer (a read timeout)
  stall        stream ``after_tokens`` tokens, then go silent (a read timeout mid-reply)
  cut          stream ``after_tokens`` tokens, then drop the connection before [DONE]
  bad_json     a reply that is not JSON (for the judge)
  wrong_json   valid JSON that breaks the judge's schema
  empty        a reply with no text
  long         a reply of ``tokens`` words (default 5000)
``reject_formats`` lists response_format types answered with ``reject_status`` (400), like a
server lacking them (llama.cpp answers 500).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[2]
KINDS = {
    "normal",
    "rate_limit",
    "error",
    "hang",
    "stall",
    "cut",
    "bad_json",
    "wrong_json",
    "empty",
    "long",
}
DEFAULT_JSON: dict[str, Any] = {
    "evidence": ["a quote"],
    "rationale": "The turn meets the rubric.",
    "score": 4,
}


@dataclass
class Behaviour:
    kind: str = "normal"
    times: int = 1
    tokens: int | None = None
    gap_ms: float | None = None
    content: str | None = None
    retry_after: float = 1.0
    status: int = 500
    after_tokens: int = 3
    only: str | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {sorted(KINDS)}, got {self.kind!r}")
        if self.only not in (None, "judge", "persona"):
            raise ValueError(f"only: expected 'judge' or 'persona', got {self.only!r}")

    def applies_to(self, body: dict[str, Any]) -> bool:
        if self.model is not None and body.get("model") != self.model:
            return False
        if self.only is not None:
            return (self.only == "judge") == _wants_json(body)
        return True


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    kind: str
    at: float = field(default_factory=time.monotonic)
    # The client's port: requests on one kept-alive connection share it.
    peer: int | None = None


class Control:
    """What the server does next. Thread-safe: tests change it while the server runs."""

    def __init__(self, *, tokens: int = 12, gap_ms: float = 0.0) -> None:
        self.tokens = tokens
        self.gap_ms = gap_ms
        self.json_reply: dict[str, Any] = dict(DEFAULT_JSON)
        self.reject_formats: set[str] = set()
        self.reject_status = 400
        self.requests: list[Recorded] = []
        self.record = True
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()

    def behave(self, kind: str = "normal", **options: Any) -> None:
        with self._lock:
            self._queue.append(Behaviour(kind=kind, **options))

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.reject_formats = set()
            self.reject_status = 400
            self.json_reply = dict(DEFAULT_JSON)

    def next(self, body: dict[str, Any]) -> Behaviour:
        """The first queued behaviour that applies to this request, else normal."""
        with self._lock:
            for behaviour in self._queue:
                if behaviour.applies_to(body):
                    behaviour.times -= 1
                    if behaviour.times <= 0:
                        self._queue.remove(behaviour)
                    return behaviour
            return Behaviour()

    def configure(self, data: dict[str, Any]) -> None:
        """Apply a POST /_control body."""
        if data.get("reset"):
            self.reset()
        for key in ("tokens", "gap_ms", "json_reply", "reject_status"):
            if key in data:
                setattr(self, key, data[key])
        if "reject_formats" in data:
            self.reject_formats = set(data["reject_formats"])
        if "record" in data:
            self.record = bool(data["record"])
        known = {f.name for f in fields(Behaviour)}
        for item in data.get("behave", []):
            self.behave(**{k: v for k, v in item.items() if k in known})


def _words(count: int) -> list[str]:
    return [f"word{i} " if i < count - 1 else f"word{i}." for i in range(count)]


def _chunk(piece: str | None, finish: str | None = None) -> bytes:
    delta = {} if piece is None else {"content": piece}
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _wants_json(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format") or {}
    if fmt.get("type") in ("json_object", "json_schema"):
        return True
    return any("json" in str(m.get("content", "")).lower() for m in body.get("messages", []))


class _Cut(Exception):
    """Raised inside a streaming body so the server drops the connection mid-reply."""


def build_app(control: Control) -> Starlette:
    async def models(request: Request) -> Response:
        return JSONResponse(
            {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "tests"}]}
        )

    async def chat(request: Request) -> Response:
        body = await request.json()
        behaviour = control.next(body)
        if control.record:
            headers = {k: v for k, v in request.headers.items() if k != "authorization"}
            headers["authorization-present"] = str("authorization" in request.headers)
            peer = request.client.port if request.client else None
            control.requests.append(
                Recorded(request.url.path, body, headers, behaviour.kind, peer=peer)
            )
        fmt = (body.get("response_format") or {}).get("type")
        if fmt in control.reject_formats:
            return JSONResponse(
                {"error": {"message": f"response_format {fmt} is not supported", "code": 400}},
                status_code=control.reject_status,
            )
        kind = behaviour.kind
        if kind == "rate_limit":
            return JSONResponse(
                {"error": {"message": "Rate limit reached", "type": "rate_limit"}},
                status_code=429,
                headers={"retry-after": f"{behaviour.retry_after:g}"},
            )
        if kind == "error":
            return JSONResponse(
                {"error": {"message": "The server had an error", "type": "server_error"}},
                status_code=behaviour.status,
            )
        if kind == "hang":
            await asyncio.sleep(3600)
        text_pieces = _reply(control, behaviour, body)
        gap = (behaviour.gap_ms if behaviour.gap_ms is not None else control.gap_ms) / 1000
        if not body.get("stream"):
            if gap:
                await asyncio.sleep(gap * len(text_pieces))
            return JSONResponse(_completion("".join(text_pieces)))
        return StreamingResponse(
            _events(text_pieces, gap, behaviour), media_type="text/event-stream"
        )

    async def control_get(request: Request) -> Response:
        return JSONResponse({"requests": [asdict(r) for r in control.requests]})

    async def control_post(request: Request) -> Response:
        try:
            control.configure(await request.json())
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/_control", control_get),
            Route("/_control", control_post, methods=["POST"]),
        ]
    )


def _reply(control: Control, behaviour: Behaviour, body: dict[str, Any]) -> list[str]:
    kind = behaviour.kind
    if behaviour.content is not None:
        return [behaviour.content] if behaviour.content else []
    if kind == "empty":
        return []
    if kind == "bad_json":
        return ['{"evidence": ["a quote"], "score": 4', " and then some prose"]
    if kind == "wrong_json":
        return ['["not", "an", "object"]']
    if kind == "long":
        return _words(behaviour.tokens or 5000)
    if _wants_json(body) and kind == "normal":
        return [json.dumps(control.json_reply)]
    return _words(behaviour.tokens if behaviour.tokens is not None else control.tokens)


async def _events(pieces: list[str], gap: float, behaviour: Behaviour) -> AsyncIterator[bytes]:
    yield _chunk(None)  # the role-only first chunk real servers send
    for index, piece in enumerate(pieces):
        if behaviour.kind in ("cut", "stall") and index == behaviour.after_tokens:
            if behaviour.kind == "stall":
                await asyncio.sleep(3600)
            raise _Cut("dropping the connection mid-reply")
        if gap:
            await asyncio.sleep(gap)
        yield _chunk(piece)
    if behaviour.kind == "cut":
        raise _Cut("dropping the connection mid-reply")
    yield _chunk(None, "stop")
    yield b"data: [DONE]\n\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FakeOpenAI:
    """The server running in a background thread; use as a context manager or start/stop."""

    def __init__(self, *, tokens: int = 12, gap_ms: float = 0.0, port: int | None = None) -> None:
        self.control = Control(tokens=tokens, gap_ms=gap_ms)
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        config = uvicorn.Config(
            build_app(self.control),
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[Recorded]:
        return self.control.requests

    def behave(self, kind: str = "normal", **options: Any) -> None:
        self.control.behave(kind, **options)

    def reset(self) -> None:
        self.control.reset()

    def start(self) -> FakeOpenAI:
        self._thread = threading.Thread(target=self._server.run, name="fake-openai", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the fake model server did not start on port {self.port}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--tokens", type=int, default=40, help="words in a normal reply")
    parser.add_argument("--gap-ms", type=float, default=15.0, help="pause between tokens")
    parser.add_argument("--no-record", action="store_true", help="keep no request log")
    args = parser.parse_args(argv)
    control = Control(tokens=args.tokens, gap_ms=args.gap_ms)
    control.record = not args.no_record
    print(f"fake OpenAI server on http://{args.host}:{args.port}/v1", flush=True)
    uvicorn.run(
        build_app(control), host=args.host, port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
