"""A lean HTTP and SSE client for the benchmarks, cheap on the cores it shares with the server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from bench.common import ANSWERS, HOST


class HttpError(Exception):
    """A response that was not 2xx, or a broken stream."""


@dataclass
class Event:
    name: str
    data: str
    at: float


class Connection:
    """One keep-alive connection; requests run one after another on it.

    Hand-rolled on asyncio streams so that the load generator, sharing the cores with the
    server under test, spends little CPU per event.
    """

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = headers or {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port,
                                                                     limit=1 << 20)
        return self.reader, self.writer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def _send(self, method: str, path: str, body: Any, accept: str) -> bool:
        """Write the request; True when it went out on a connection that served others."""
        reused = self.writer is not None and not self.writer.is_closing()
        if reused and self.reader is not None and self.reader.at_eof():
            await self.close()
            reused = False
        _, writer = await self._open()
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"host: {HOST}:{self.port}", f"accept: {accept}",
                 f"content-length: {len(payload)}"]
        if body is not None:
            lines.append("content-type: application/json")
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        return reused

    async def _exchange(self, method: str, path: str, body: Any,
                        accept: str) -> tuple[int, dict[str, str]]:
        """Send and read the response head. A keep-alive connection the server closed while
        idle fails before any byte of the answer; that request is sent again on a new one,
        as HTTP clients do."""
        reused = await self._send(method, path, body, accept)
        try:
            return await self._head()
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            partial = getattr(exc, "partial", b"")
            if not reused or partial:
                raise
            await self.close()
            await self._send(method, path, body, accept)
            return await self._head()

    async def _head(self) -> tuple[int, dict[str, str]]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return status, headers

    async def _body_parts(self, headers: dict[str, str]) -> AsyncIterator[bytes]:
        reader = self.reader
        assert reader is not None
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    return
                part = await reader.readexactly(size + 2)
                yield part[:-2]
        elif "content-length" in headers:
            yield await reader.readexactly(int(headers["content-length"]))
        else:
            yield await reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A plain JSON request; returns (status, parsed body or text)."""
        status, headers = await self._exchange(method, path, body, "application/json")
        raw = b"".join([part async for part in self._body_parts(headers)])
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    async def events(self, path: str, body: Any) -> AsyncIterator[Event]:
        """POST and yield server-sent events as they arrive, stamped with monotonic time."""
        status, headers = await self._exchange("POST", path, body, "text/event-stream")
        if status >= 300:
            raw = b"".join([part async for part in self._body_parts(headers)])
            raise HttpError(f"HTTP {status}: {raw[:300].decode(errors='replace')}")
        buffer = ""
        async for part in self._body_parts(headers):
            now = time.perf_counter()
            buffer += part.decode().replace("\r\n", "\n")
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                name, data = "message", []
                for line in block.split("\n"):
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
                if data or name != "message":
                    yield Event(name, "\n".join(data), now)


# -- statistics and tables -----------------------------------------------------------------


class RapportClient:
    """One interview over one keep-alive connection; opens a new interview when one ends."""

    def __init__(self, port: int, persona: str, *, turns_per_interview: int = 8,
                 answers: Sequence[str] = ANSWERS) -> None:
        self.conn = Connection(port)
        self.answers = list(answers)
        self.persona = persona
        self.turns_per_interview = turns_per_interview
        self.interview: str | None = None
        self.taken = 0
        self.answer = 0

    async def start(self) -> None:
        status, body = await self.conn.request("POST", "/api/interviews",
                                               {"persona_id": self.persona})
        if status != 201 and status != 200:
            raise HttpError(f"creating an interview: HTTP {status}: {body}")
        self.interview = body["id"]
        self.taken = 0

    async def ready(self) -> None:
        if self.interview is None or self.taken >= self.turns_per_interview:
            await self.start()

    async def turn(self) -> AsyncIterator[Event]:
        """Stream one turn; raises HttpError on an ``error`` event or a failed request."""
        await self.ready()
        text = self.answers[self.answer % len(self.answers)]
        self.answer += 1
        self.taken += 1
        finished = False
        async for event in self.conn.events(f"/api/interviews/{self.interview}/turns",
                                            {"text": text}):
            if event.name == "error":
                raise HttpError(f"error event: {event.data[:300]}")
            if event.name == "done":
                finished = True
                done = json.loads(event.data)
                if done.get("status") != "complete":
                    raise HttpError(f"reply status {done.get('status')}")
            yield event
        if not finished:
            raise HttpError("the stream ended without a done event")

    async def close(self) -> None:
        await self.conn.close()
