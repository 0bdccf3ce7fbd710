"""Events of one turn, from the task that generates it to whoever is listening."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True)
class TurnEvent:
    """One server-sent event: ``kind`` is turn, token, grade, done or error; ``data`` is JSON."""

    kind: str
    data: str


class TurnChannel:
    """A one-reader queue that merges tokens the reader has not yet taken into one event.

    The generating task never waits for the reader: a slow client gets fewer, larger ``token``
    events instead of slowing the model down or piling up one event per token.
    """

    def __init__(self) -> None:
        self._tokens: list[str] = []
        self._events: deque[TurnEvent] = deque()
        self._wake = asyncio.Event()
        self._closed = False

    def token(self, text: str) -> None:
        self._tokens.append(text)
        self._wake.set()

    def event(self, kind: str, data: str) -> None:
        self._flush_tokens()
        self._events.append(TurnEvent(kind, data))
        self._wake.set()

    def close(self) -> None:
        self._flush_tokens()
        self._closed = True
        self._wake.set()

    def _flush_tokens(self) -> None:
        if self._tokens:
            text = "".join(self._tokens)
            self._tokens.clear()
            self._events.append(TurnEvent("token", json.dumps({"text": text})))

    async def __aiter__(self) -> AsyncIterator[TurnEvent]:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._flush_tokens()
            while self._events:
                yield self._events.popleft()
            if self._closed and not self._events and not self._tokens:
                return
