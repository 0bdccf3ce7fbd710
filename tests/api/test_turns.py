"""Taking turns: JSON and streamed, validation, model faults, retries and the in-flight guard."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.llm.base import ModelUnavailable
from app.llm.scripted import ScriptedModel
from app.services import turns as turns_module
from app.services.channel import TurnChannel
from app.store import repository as repo
from app.store.db import transaction
from app.store.tables import utcnow
from tests.api.support import (
    ANSWER,
    SAMUEL,
    SSE,
    BreakingModel,
    kinds,
    parse_events,
    start,
)


async def test_a_json_turn_returns_the_whole_exchange(client: httpx.AsyncClient) -> None:
    interview = await start(client)
    response = await client.post(f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER})
    assert response.status_code == 200
    body = response.json()
    assert body["human"]["index"] == 1 and body["human"]["text"] == ANSWER
    assert body["reply"]["index"] == 2 and body["reply"]["speaker"] == "interviewer"
    assert body["reply"]["status"] == "complete" and body["reply"]["text"]
    assert body["grades"], "the candidate's turn is graded by the persona's rubrics"
    assert {g["rubric_id"] for g in body["grades"]} <= set(interview["rubric_ids"])
    assert all(g["method"] == "signals" and g["turn_index"] == 1 for g in body["grades"])
    assert "talk_share" in body["signals"]


async def test_a_streamed_turn_sends_turn_tokens_grade_done(
    client: httpx.AsyncClient, llm: ScriptedModel
) -> None:
    interview = await start(client)
    llm.queue("That routing bug sounds like a story. What did fixing it teach you?")
    response = await client.post(
        f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER}, headers=SSE
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_events(response.text)
    assert kinds(events) == ["turn", "token", "grade", "done"]
    turn, done = events[0][1], events[-1][1]
    assert turn["text"] == ANSWER and turn["index"] == 1
    streamed = "".join(data["text"] for kind, data in events if kind == "token")
    assert streamed == "That routing bug sounds like a story. What did fixing it teach you?"
    assert done["text"] == streamed and done["status"] == "complete" and done["index"] == 2
    grade = events[-2][1]
    assert grade["turn_index"] == 1 and grade["grades"]
    assert "question_streak" in grade["signals"]
    saved = (await client.get(f"/api/interviews/{interview['id']}")).json()
    assert saved["turns"][2]["text"] == streamed
    assert saved["turns"][1]["grades"] == grade["grades"]


async def test_grading_waits_until_the_reply_is_under_way(
    client: httpx.AsyncClient, llm: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Grading runs on the same event loop as the model request; started first, it would
    # delay the reply's first token. It starts once the first token is out.
    order: list[str] = []
    signals = turns_module.turn_signals

    def graded(*args: Any, **kwargs: Any) -> Any:
        order.append("grading")
        return signals(*args, **kwargs)

    monkeypatch.setattr(turns_module, "turn_signals", graded)
    channel_token = TurnChannel.token

    def token(self: TurnChannel, text: str) -> None:
        order.append("token")
        channel_token(self, text)

    monkeypatch.setattr(TurnChannel, "token", token)
    interview = await start(client)
    llm.token_delay = 0.01  # the model takes a moment, as a real one does, to its first token
    llm.queue("What did fixing it teach you?")
    response = await client.post(
        f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER}, headers=SSE
    )
    assert kinds(parse_events(response.text)) == ["turn", "token", "grade", "done"]
    assert order[0] == "token" and order.count("grading") == 1


async def test_a_turn_waits_for_another_process_writing_the_same_sqlite_file(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's file lock")
    interview = await start(client)
    other = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), timeout=10)
    other.isolation_level = None
    other.execute("BEGIN IMMEDIATE")  # another worker process is writing

    async def finish_writing() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    writer = asyncio.create_task(finish_writing())
    try:
        response = await client.post(
            f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER}
        )
    finally:
        await writer
        other.close()
    assert response.status_code == 200, response.text
    assert response.json()["human"]["text"] == ANSWER


async def test_the_model_sees_the_transcript_and_the_engine_state_is_kept(
    client: httpx.AsyncClient, llm: ScriptedModel, app: FastAPI
) -> None:
    interview = await start(client)
    url = f"/api/interviews/{interview['id']}/turns"
    await client.post(url, json={"text": ANSWER})
    await client.post(url, json={"text": "The first system I owned was the dispatch queue."})
    last = llm.requests[-1]
    prompt = "\n".join(m["content"] for m in last.messages)
    assert "dispatch queue" in prompt and "routing bug" in prompt
    runtime = app.state.rapport.runtime
    with transaction(runtime.db) as session:
        row = repo.get_interview(session, "local", interview["id"])
        assert row.engine_state["moves"] == 3
        assert row.turn_count == 5 and row.inflight_turn is None


async def test_a_human_can_ask_a_candidate_persona_first(client: httpx.AsyncClient) -> None:
    interview = await start(client, SAMUEL)
    response = await client.post(
        f"/api/interviews/{interview['id']}/turns",
        json={"text": "Tell me how you ended up moving into software?"},
    )
    body = response.json()
    assert body["human"]["speaker"] == "interviewer" and body["human"]["index"] == 0
    assert body["reply"]["speaker"] == "candidate" and body["reply"]["text"]


@pytest.mark.parametrize("text", ["", "   \n  "])
async def test_empty_text_is_422_naming_the_field(client: httpx.AsyncClient, text: str) -> None:
    interview = await start(client)
    response = await client.post(f"/api/interviews/{interview['id']}/turns", json={"text": text})
    assert response.status_code == 422
    assert response.json()["field"] == "text"
    assert "empty" in response.json()["detail"]
    assert (await client.get(f"/api/interviews/{interview['id']}")).json()["turn_count"] == 1


async def test_text_over_the_limit_is_422_naming_the_limit(client: httpx.AsyncClient) -> None:
    interview = await start(client)
    response = await client.post(
        f"/api/interviews/{interview['id']}/turns", json={"text": "x" * 4001}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "text" and "4000" in body["detail"] and "4001" in body["detail"]


async def test_a_wrongly_typed_text_is_422(client: httpx.AsyncClient) -> None:
    interview = await start(client)
    response = await client.post(f"/api/interviews/{interview['id']}/turns", json={"text": 5})
    assert response.status_code == 422 and response.json()["field"] == "text"


class TestModelFaults:
    @pytest.fixture
    def llm(self) -> BreakingModel:
        return BreakingModel([3, None])

    async def test_a_break_mid_stream_keeps_the_partial_reply_and_retry_completes_it(
        self, client: httpx.AsyncClient, llm: BreakingModel
    ) -> None:
        interview = await start(client)
        iid = interview["id"]
        response = await client.post(
            f"/api/interviews/{iid}/turns", json={"text": ANSWER}, headers=SSE
        )
        events = parse_events(response.text)
        assert kinds(events) == ["turn", "token", "grade", "error"]
        error = events[-1][1]
        assert error["turn_index"] == 2
        assert error["retry_url"] == f"/api/interviews/{iid}/turns/2/retry"
        assert "try again" in error["message"]
        partial = "".join(data["text"] for kind, data in events if kind == "token")
        saved = (await client.get(f"/api/interviews/{iid}")).json()
        assert saved["turns"][1]["text"] == ANSWER and saved["turns"][1]["status"] == "complete"
        assert saved["turns"][2]["status"] == "incomplete"
        assert saved["turns"][2]["text"] == partial.strip() and partial
        assert saved["turn_in_flight"] is None

        retried = await client.post(error["retry_url"], headers=SSE)
        events = parse_events(retried.text)
        assert kinds(events) == ["token", "done"]
        done = events[-1][1]
        assert done["status"] == "complete" and done["index"] == 2
        saved = (await client.get(f"/api/interviews/{iid}")).json()
        assert [t["status"] for t in saved["turns"]] == ["complete"] * 3
        assert saved["turns"][2]["text"] == done["text"]
        # the conversation carries on afterwards
        after = await client.post(f"/api/interviews/{iid}/turns", json={"text": "Sure, go on."})
        assert after.status_code == 200 and after.json()["reply"]["index"] == 4

    async def test_a_json_turn_that_fails_is_503_with_the_retry_url(
        self, client: httpx.AsyncClient
    ) -> None:
        interview = await start(client)
        iid = interview["id"]
        response = await client.post(f"/api/interviews/{iid}/turns", json={"text": ANSWER})
        assert response.status_code == 503
        body = response.json()
        assert body["retry_url"] == f"/api/interviews/{iid}/turns/2/retry"
        assert "retry" in body["detail"]
        retried = await client.post(body["retry_url"])
        assert retried.status_code == 200
        assert retried.json()["reply"]["status"] == "complete"


class TestModelDownBeforeAnyToken:
    @pytest.fixture
    def llm(self) -> ScriptedModel:
        return ScriptedModel([ModelUnavailable("The model server refused the connection.")])

    async def test_the_human_turn_is_saved_and_the_reply_marked_failed(
        self, client: httpx.AsyncClient
    ) -> None:
        interview = await start(client)
        response = await client.post(
            f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER}, headers=SSE
        )
        events = parse_events(response.text)
        assert kinds(events) == ["turn", "grade", "error"]
        saved = (await client.get(f"/api/interviews/{interview['id']}")).json()
        assert saved["turns"][1]["text"] == ANSWER
        assert saved["turns"][2]["status"] == "failed" and saved["turns"][2]["text"] == ""


async def test_retry_answers_clear_errors(client: httpx.AsyncClient) -> None:
    interview = await start(client)
    iid = interview["id"]
    await client.post(f"/api/interviews/{iid}/turns", json={"text": ANSWER})
    complete = await client.post(f"/api/interviews/{iid}/turns/2/retry")
    assert complete.status_code == 409 and "complete" in complete.json()["detail"]
    human = await client.post(f"/api/interviews/{iid}/turns/1/retry")
    assert human.status_code == 404 and human.json()["valid"] == ["0", "2"]
    missing = await client.post(f"/api/interviews/{iid}/turns/9/retry")
    assert missing.status_code == 404


class TestSlowModel:
    @pytest.fixture
    def llm(self) -> ScriptedModel:
        return ScriptedModel(token_delay=0.02)

    async def test_a_second_turn_while_one_is_in_flight_is_409(
        self, client: httpx.AsyncClient
    ) -> None:
        interview = await start(client)
        url = f"/api/interviews/{interview['id']}/turns"
        first = asyncio.create_task(client.post(url, json={"text": ANSWER}))
        await asyncio.sleep(0.1)
        second = await client.post(url, json={"text": "And another thing."})
        assert second.status_code == 409
        assert "still being generated" in second.json()["detail"]
        assert (await first).status_code == 200
        saved = (await client.get(f"/api/interviews/{interview['id']}")).json()
        assert [t["index"] for t in saved["turns"]] == [0, 1, 2]
        assert "And another thing." not in [t["text"] for t in saved["turns"]]

    async def test_concurrent_posts_let_exactly_one_through(
        self, client: httpx.AsyncClient
    ) -> None:
        interview = await start(client)
        url = f"/api/interviews/{interview['id']}/turns"
        responses = await asyncio.gather(
            *(client.post(url, json={"text": f"Answer number {n}."}) for n in range(5))
        )
        assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
        saved = (await client.get(f"/api/interviews/{interview['id']}")).json()
        assert [t["index"] for t in saved["turns"]] == [0, 1, 2]

    async def test_finishing_while_a_reply_is_in_flight_is_409(
        self, client: httpx.AsyncClient
    ) -> None:
        interview = await start(client)
        iid = interview["id"]
        url = f"/api/interviews/{iid}/turns"
        first = asyncio.create_task(client.post(url, json={"text": ANSWER}))
        await asyncio.sleep(0.1)
        assert (await client.post(f"/api/interviews/{iid}/finish")).status_code == 409
        assert (await first).status_code == 200
        assert (await client.post(f"/api/interviews/{iid}/finish")).status_code == 200


async def test_a_stale_guard_from_a_vanished_host_is_taken_over(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    interview = await start(client)
    runtime = app.state.rapport.runtime
    iid = interview["id"]
    with transaction(runtime.db) as session:
        repo.update_interview(
            session,
            iid,
            inflight_turn=0,
            inflight_owner="another-host:4242:cafe:beef",
            inflight_since=utcnow(),
        )
    blocked = await client.post(f"/api/interviews/{iid}/turns", json={"text": ANSWER})
    assert blocked.status_code == 409
    with transaction(runtime.db) as session:
        repo.update_interview(
            session, iid, inflight_since=utcnow() - timedelta(seconds=runtime.stale_after + 1)
        )
    taken = await client.post(f"/api/interviews/{iid}/turns", json={"text": ANSWER})
    assert taken.status_code == 200


async def test_a_turn_on_a_finished_interview_is_409_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    interview = await start(client)
    iid = interview["id"]
    await client.post(f"/api/interviews/{iid}/turns", json={"text": ANSWER})
    assert (await client.post(f"/api/interviews/{iid}/finish")).status_code == 200
    before = (await client.get(f"/api/interviews/{iid}")).json()
    late = await client.post(f"/api/interviews/{iid}/turns", json={"text": "One more?"})
    assert late.status_code == 409 and "finished" in late.json()["detail"]
    assert (await client.get(f"/api/interviews/{iid}")).json() == before


async def test_text_the_database_cannot_hold_is_cleaned_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    interview = await start(client)
    raw = b'{"text": "Null\\u0000 and a lone \\ud800 surrogate."}'
    response = await client.post(
        f"/api/interviews/{interview['id']}/turns",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["human"]["text"] == "Null and a lone ? surrogate."
    odd = await client.get("/api/interviews/..%00weird")
    assert odd.status_code == 404
    far = await client.get("/api/interviews", params={"offset": 10**12})
    assert far.status_code == 422
