"""Two hundred interviews at once, each streaming several turns from the fault server's normal
mode through the whole service: no errors, and every transcript complete and in order."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.api.support import MAYA, SSE, kinds, parse_events
from tests.support.fake_openai import FakeOpenAI

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

INTERVIEWS = 200
TURNS = 3


async def one_interview(client: httpx.AsyncClient, number: int) -> tuple[str, list[str]]:
    created = await client.post("/api/interviews", json={"persona_id": MAYA})
    assert created.status_code == 201, created.text
    iid: str = created.json()["id"]
    said: list[str] = []
    for turn in range(TURNS):
        text = f"Interview {number}, answer {turn}: I rebuilt the routing service at a startup."
        response = await client.post(
            f"/api/interviews/{iid}/turns", json={"text": text}, headers=SSE
        )
        assert response.status_code == 200, response.text
        events = parse_events(response.text)
        assert kinds(events) == ["turn", "token", "grade", "done"], (number, turn, kinds(events))
        assert events[-1][1]["status"] == "complete"
        said.append(text)
    return iid, said


@pytest.mark.parametrize("backend_changes", [{"request_timeout": 60.0, "max_retries": 0}])
async def test_two_hundred_concurrent_interviews(
    openai_client: httpx.AsyncClient, fake_openai: FakeOpenAI
) -> None:
    fake_openai.control.tokens = 8
    fake_openai.control.gap_ms = 2
    fake_openai.control.record = False
    started = time.monotonic()
    try:
        results = await asyncio.gather(
            *(one_interview(openai_client, n) for n in range(INTERVIEWS))
        )
    finally:
        fake_openai.control.record = True
    elapsed = time.monotonic() - started
    assert len(results) == INTERVIEWS
    for iid, said in results:
        interview = (await openai_client.get(f"/api/interviews/{iid}")).json()
        turns = interview["turns"]
        assert [t["index"] for t in turns] == list(range(1 + 2 * TURNS))
        assert [t["speaker"] for t in turns] == ["interviewer", "candidate"] * TURNS + [
            "interviewer"
        ]
        assert [t["text"] for t in turns if t["speaker"] == "candidate"] == said
        assert all(t["status"] == "complete" and t["text"] for t in turns)
        assert interview["turn_in_flight"] is None
    listed = (await openai_client.get("/api/interviews", params={"limit": 1})).json()
    assert listed["total"] == INTERVIEWS
    print(f"{INTERVIEWS} interviews x {TURNS} streamed turns in {elapsed:.1f} s")
