"""A client that hangs up mid-stream does not lose the reply; a crashed holder frees its guard."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.config import Settings
from app.llm.scripted import ScriptedModel
from app.main import create_app
from app.store import repository as repo
from app.store.db import transaction
from app.store.tables import utcnow
from tests.api.support import ANSWER, SSE, start

REPLY = (
    "A routing bug is a good way in. I fixed one of those on my first week here too, and it "
    "taught me more about our drivers than any dashboard. What did fixing yours teach you "
    "about the people using the routes?"
)


@pytest.fixture
def llm() -> ScriptedModel:
    return ScriptedModel([REPLY], token_delay=0.01)


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    """The app behind a real uvicorn on a free loopback port, in this event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning")
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve(sockets=[sock]))
    for _ in range(1000):
        if served.started:
            break
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    await task
    sock.close()


async def test_a_client_that_hangs_up_mid_stream_still_gets_its_reply_saved(
    server: str,
) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        interview = await start(client)
        url = f"/api/interviews/{interview['id']}/turns"
        async with client.stream("POST", url, json={"text": ANSWER}, headers=SSE) as response:
            assert response.status_code == 200
            seen = ""
            async for chunk in response.aiter_text():
                seen += chunk
                if "event: token" in seen:
                    break
        # The connection is closed now; the reply goes on without anyone listening.
        for _ in range(200):
            saved = (await client.get(f"/api/interviews/{interview['id']}")).json()
            if saved["turn_in_flight"] is None and saved["turns"][2]["status"] == "complete":
                break
            await asyncio.sleep(0.05)
        assert saved["turns"][2]["text"] == REPLY
        assert saved["turns"][2]["status"] == "complete"
        assert "done" not in seen


async def test_tokens_arrive_as_they_are_generated(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        interview = await start(client)
        url = f"/api/interviews/{interview['id']}/turns"
        arrivals: list[float] = []
        loop = asyncio.get_running_loop()
        async with client.stream("POST", url, json={"text": ANSWER}, headers=SSE) as response:
            async for line in response.aiter_lines():
                if line == "event: token":
                    arrivals.append(loop.time())
        assert len(arrivals) >= 5, "the reply streams in several events, not one at the end"
        assert arrivals[-1] - arrivals[0] >= 0.1


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def test_a_guard_left_by_a_dead_process_is_freed_at_start(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient
) -> None:
    interview = await start(client)
    iid = interview["id"]
    runtime = app.state.rapport.runtime
    holder = f"{socket.gethostname()}:{dead_pid()}:0badb00t:1"
    with transaction(runtime.db) as session:
        repo.update_interview(
            session, iid, inflight_turn=2, inflight_owner=holder, inflight_since=utcnow()
        )
    assert (await client.get(f"/api/interviews/{iid}")).json()["turn_in_flight"] is None
    assert (
        await client.post(f"/api/interviews/{iid}/turns", json={"text": ANSWER})
    ).status_code == 200, "a live process takes over a dead one's guard at once"
    with transaction(runtime.db) as session:
        repo.update_interview(
            session, iid, inflight_turn=4, inflight_owner=holder, inflight_since=utcnow()
        )
    restarted = create_app(settings, llm=ScriptedModel())
    async with restarted.router.lifespan_context(restarted):
        with transaction(runtime.db) as session:
            row = repo.reload_interview(session, iid)
            assert row.inflight_owner is None and row.inflight_turn is None
    assert os.getpid() != int(holder.split(":")[1])
