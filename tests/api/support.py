"""What the API tests share: reading server-sent events, and models that fail on cue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from app.llm.base import ChatRequest, ModelError, ModelUnavailable
from app.llm.scripted import ScriptedModel, split_tokens

MAYA = "maya-startup-eng-manager"  # an interviewer: the human is the candidate
SAMUEL = "samuel-career-changer-nervous"  # a candidate: the human interviews
ANSWER = "I got into logistics by fixing a routing bug at a food startup, and stayed for it."
SSE = {"accept": "text/event-stream"}


def parse_events(body: str) -> list[tuple[str, Any]]:
    """(event, parsed data) for each server-sent event in ``body``; comments are skipped."""
    events: list[tuple[str, Any]] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        kind, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((kind, json.loads("\n".join(data))))
    return events


def kinds(events: list[tuple[str, Any]]) -> list[str]:
    collapsed: list[str] = []
    for kind, _ in events:
        if not collapsed or collapsed[-1] != kind or kind != "token":
            collapsed.append(kind)
    return collapsed


async def start(client: httpx.AsyncClient, persona_id: str = MAYA, **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/interviews", json={"persona_id": persona_id, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class BreakingModel(ScriptedModel):
    """Streams ``tokens_before_failure`` tokens of its reply, then fails like a dropped server.

    Each call pops the next plan from ``failures``: an int breaks after that many tokens,
    None answers in full.
    """

    def __init__(self, failures: list[int | None], *, token_delay: float = 0.0) -> None:
        super().__init__(token_delay=token_delay)
        self.failures = list(failures)

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        plan = self.failures.pop(0) if self.failures else None
        text = self._next_text(request)
        for number, token in enumerate(split_tokens(text)):
            if plan is not None and number >= plan:
                raise ModelUnavailable("The model server stopped answering; try again.")
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            yield token
        if plan is not None:
            raise ModelError("The model server closed the stream early.", retryable=True)
