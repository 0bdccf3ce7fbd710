"""A lean OpenAI-compatible model stub: a fixed reply of N tokens at a fixed gap.

Written on bare asyncio protocols so that, sharing two cores with the server under test and
the load generator, it spends as little CPU as possible per token. It answers
``POST /v1/chat/completions`` (streamed or not; a request with ``response_format`` gets the
``--json-reply`` object) and ``GET /v1/models``.

    python -m bench.stub --port 9100 --tokens 40 --gap-ms 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import time
from typing import Any

DEFAULT_JSON_REPLY: dict[str, Any] = {
    "evidence": ["what you said"],
    "rationale": "The turn builds on the last answer.",
    "score": 4,
    "tip": "Name one concrete thing they said before asking the next question.",
}


class StubConfig:
    """What every connection serves."""

    def __init__(
        self, *, tokens: int, gap_ms: float, first_ms: float, json_reply: dict[str, Any]
    ) -> None:
        self.gap = gap_ms / 1000
        self.first = first_ms / 1000
        words = [f" word{i}" for i in range(tokens)]
        words[0] = words[0].lstrip()
        self.text = "".join(words)
        created = int(time.time())
        head = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": created,
                "model": "stub"}
        self.chunks: list[bytes] = []
        for word in words:
            body = {**head, "choices": [{"index": 0, "delta": {"content": word},
                                         "finish_reason": None}]}
            self.chunks.append(_chunked(b"data: " + json.dumps(body).encode() + b"\n\n"))
        last = {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.tail = (
            _chunked(b"data: " + json.dumps(last).encode() + b"\n\n")
            + _chunked(b"data: [DONE]\n\n")
            + b"0\r\n\r\n"
        )
        self.json_reply = json.dumps(json_reply)
        self.requests = 0


def _chunked(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _completion(text: str) -> bytes:
    body = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "stub",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return json.dumps(body).encode()


class StubProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, config: StubConfig) -> None:
        self.config = config
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while not self.busy:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path, *_ = [*head.split(" ", 2), "", ""]
            self.handle(method, path, body)

    def handle(self, method: str, path: str, body: bytes) -> None:
        self.config.requests += 1
        if method == "GET" and path.rstrip("/").endswith("/models"):
            self.respond(200, json.dumps({"object": "list", "data": [
                {"id": "stub", "object": "model", "owned_by": "bench"}]}).encode())
            return
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            self.respond(404, b'{"error": {"message": "not found"}}')
            return
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            self.respond(400, b'{"error": {"message": "body is not JSON"}}')
            return
        if request.get("response_format"):
            self.respond(200, _completion(self.config.json_reply))
        elif request.get("stream"):
            self.start_stream()
        else:
            self.respond(200, _completion(self.config.text))

    def respond(self, status: int, payload: bytes) -> None:
        if self.transport is None:
            return
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
            % (status, reason.encode(), len(payload)) + payload
        )

    def start_stream(self) -> None:
        assert self.transport is not None
        self.busy = True
        self.transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n"
        )
        loop = asyncio.get_running_loop()
        # Each token is due at start + first + i*gap, so a late tick does not delay the rest.
        start = loop.time() + self.config.first
        self.timer = loop.call_at(start, self.send, 0, start)

    def send(self, index: int, start: float) -> None:
        self.timer = None
        if self.transport is None:
            return
        chunks = self.config.chunks
        if index < len(chunks):
            self.transport.write(chunks[index])
            loop = asyncio.get_running_loop()
            self.timer = loop.call_at(start + (index + 1) * self.config.gap, self.send,
                                      index + 1, start)
            return
        self.transport.write(self.config.tail)
        self.busy = False
        if self.buffer:
            self.data_received(b"")


def raise_fd_limit(wanted: int = 65536) -> int:
    """Lift the soft open-files limit towards ``wanted`` (within the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return max(soft, target)


async def serve(host: str, port: int, config: StubConfig) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: StubProtocol(config), host, port, backlog=4096)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"stub listening on http://{host}:{port}/v1", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--tokens", type=int, default=40, help="tokens per streamed reply")
    parser.add_argument("--gap-ms", type=float, default=15.0, help="milliseconds between tokens")
    parser.add_argument("--first-ms", type=float, default=None,
                        help="milliseconds before the first token (default: the gap)")
    parser.add_argument("--json-reply", default=None,
                        help="JSON object answered to requests with response_format")
    args = parser.parse_args(argv)
    if args.tokens < 1:
        parser.error("--tokens must be at least 1")
    raise_fd_limit()
    config = StubConfig(
        tokens=args.tokens,
        gap_ms=args.gap_ms,
        first_ms=args.gap_ms if args.first_ms is None else args.first_ms,
        json_reply=json.loads(args.json_reply) if args.json_reply else DEFAULT_JSON_REPLY,
    )
    asyncio.run(serve(args.host, args.port, config))


if __name__ == "__main__":
    main()
