"""A deterministic, offline model: it speaks the engine's own phrasing, or replies it was given.

It satisfies the same ``ChatModel`` protocol as the real backends and records every request,
so tests can assert both what the persona said and what it was asked.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

from app.llm.base import ChatRequest, ModelBadOutput, ModelError

_TOKEN = re.compile(r"\S+\s*|\s+")


def split_tokens(text: str) -> list[str]:
    """Split text into word-sized chunks that join back to exactly the same text."""
    return _TOKEN.findall(text)


class ScriptedModel:
    backend = "scripted"

    def __init__(
        self,
        replies: Iterable[str | BaseException] = (),
        *,
        json_replies: Iterable[dict[str, Any] | str | BaseException] = (),
        model: str = "scripted",
        can_judge: bool | None = None,
        token_delay: float = 0.0,
    ) -> None:
        self.model = model
        self._replies: deque[str | BaseException] = deque(replies)
        self._json: deque[dict[str, Any] | str | BaseException] = deque(json_replies)
        self.can_judge = bool(self._json) if can_judge is None else can_judge
        self.token_delay = token_delay
        self.requests: list[ChatRequest] = []

    def queue(self, *replies: str | BaseException) -> None:
        self._replies.extend(replies)

    def queue_json(self, *replies: dict[str, Any] | str | BaseException) -> None:
        self._json.extend(replies)

    def _next_text(self, request: ChatRequest) -> str:
        if self._replies:
            reply = self._replies.popleft()
            if isinstance(reply, BaseException):
                raise reply
            return reply
        if request.script is not None:
            return request.script
        raise ModelError("The scripted model has nothing to say for this request.")

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        text = self._next_text(request)
        for token in split_tokens(text):
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            yield token

    async def complete(self, request: ChatRequest) -> str:
        self.requests.append(request)
        return self._next_text(request)

    async def complete_json(
        self, request: ChatRequest, schema: dict[str, Any], *, name: str
    ) -> dict[str, Any]:
        self.requests.append(request)
        if not self._json:
            raise ModelBadOutput("The scripted model has no JSON answer queued.")
        reply = self._json.popleft()
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, str):
            try:
                parsed = json.loads(reply)
            except json.JSONDecodeError as exc:
                raise ModelBadOutput(f"Model returned invalid JSON: {exc.msg}") from exc
            if not isinstance(parsed, dict):
                raise ModelBadOutput("Model returned JSON that is not an object.")
            return parsed
        return dict(reply)

    async def aclose(self) -> None:
        return None
