"""SIGKILL in the middle of a streamed reply loses nothing that was complete, and the
interview carries on after a restart, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.support import ANSWER, MAYA, SSE
from tests.reliability.servers import server_env
from tests.support.databases import new_database
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import Server, migrate, running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

SECOND = "The dispatch queue was the first system I owned end to end."


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with new_database(request.param, tmp_path / "crash.db", "rapport_rel") as url:
        yield url


def kill_mid_stream(server: Server, iid: str) -> str:
    """Post a turn, read tokens until the reply is well under way, then SIGKILL the server."""
    seen: list[str] = []
    with httpx.stream(
        "POST",
        f"{server.url}/api/interviews/{iid}/turns",
        json={"text": SECOND},
        headers=SSE,
        timeout=30,
    ) as response:
        assert response.status_code == 200
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind == "token":
                seen.append(json.loads(line[5:])["text"])
                if len(seen) >= 5:
                    break
            assert kind not in ("done", "error"), "the reply ended before the kill"
        server.kill()
    return "".join(seen)


def test_sigkill_mid_stream_then_restart(
    database: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    env = server_env(database, fake_openai)
    if not database.startswith("sqlite"):
        migrate(env, tmp_path)
    log = tmp_path / "server.log"
    first = Server(env, tmp_path, log)
    first.wait_ready()
    try:
        client = httpx.Client(base_url=first.url, timeout=30)
        iid = client.post("/api/interviews", json={"persona_id": MAYA}).json()["id"]
        done = client.post(f"/api/interviews/{iid}/turns", json={"text": ANSWER})
        assert done.status_code == 200 and done.json()["reply"]["status"] == "complete"
        completed = client.get(f"/api/interviews/{iid}").json()["turns"]
        client.close()
        fake_openai.behave("normal", tokens=2000, gap_ms=20)
        partial = kill_mid_stream(first, iid)
        assert partial.startswith("word0")
    finally:
        first.stop()

    fake_openai.reset()
    with running(env, tmp_path, log) as second, httpx.Client(
        base_url=second.url, timeout=30
    ) as client:
        after = client.get(f"/api/interviews/{iid}").json()
        turns = after["turns"]
        assert [t["index"] for t in turns] == [0, 1, 2, 3, 4]
        for before, now in zip(completed, turns[:3], strict=True):
            assert (now["text"], now["status"]) == (before["text"], before["status"])
        assert turns[3]["text"] == SECOND and turns[3]["status"] == "complete"
        assert turns[4]["status"] in ("incomplete", "failed")
        assert after["turn_in_flight"] is None, "the dead process's guard is cleared"

        retried = client.post(f"/api/interviews/{iid}/turns/4/retry")
        assert retried.status_code == 200, retried.text
        assert retried.json()["reply"]["status"] == "complete"
        going = client.post(f"/api/interviews/{iid}/turns", json={"text": "Shall we go on?"})
        assert going.status_code == 200, going.text
        final = client.get(f"/api/interviews/{iid}").json()
        assert [t["status"] for t in final["turns"]] == ["complete"] * 7

    if database.startswith("sqlite"):
        with sqlite3.connect(database.removeprefix("sqlite:///")) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
