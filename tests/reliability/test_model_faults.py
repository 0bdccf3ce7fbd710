"""Every fault of the model server, through the whole service on the openai backend.

Each case checks that the human's turn stays saved, that the client gets an event it can act
on, and that the interview carries on afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.api.support import ANSWER, SSE, kinds, parse_events, start
from tests.support.apps import JUDGE_MODEL, PERSONA_MODEL
from tests.support.fake_openai import FakeOpenAI, free_port

Events = list[tuple[str, Any]]


async def take_turn(client: httpx.AsyncClient, iid: str, text: str = ANSWER) -> Events:
    response = await client.post(f"/api/interviews/{iid}/turns", json={"text": text}, headers=SSE)
    assert response.status_code == 200, response.text
    return parse_events(response.text)


def streamed(events: Events) -> str:
    return "".join(data["text"] for kind, data in events if kind == "token")


def persona_requests(fake: FakeOpenAI) -> list[str]:
    return [r.kind for r in fake.requests if r.body.get("model") == PERSONA_MODEL]


async def assert_recovers(
    client: httpx.AsyncClient, fake: FakeOpenAI, iid: str, events: Events, *, partial: bool
) -> None:
    """The error event is actionable, the human turn is kept, and retry and the next turn work."""
    assert events[0][0] == "turn" and events[0][1]["text"] == ANSWER
    assert events[-1][0] == "error", kinds(events)
    error = events[-1][1]
    assert error["turn_index"] == 2
    assert error["retry_url"] == f"/api/interviews/{iid}/turns/2/retry"
    assert len(error["message"]) > 20 and "Traceback" not in error["message"]
    saved = (await client.get(f"/api/interviews/{iid}")).json()
    assert saved["turns"][1]["text"] == ANSWER and saved["turns"][1]["status"] == "complete"
    reply = saved["turns"][2]
    assert reply["status"] == ("incomplete" if partial else "failed")
    assert reply["text"] == streamed(events).strip()
    assert bool(reply["text"]) is partial
    assert saved["turn_in_flight"] is None

    fake.reset()
    retried = parse_events((await client.post(error["retry_url"], headers=SSE)).text)
    assert retried[-1][0] == "done", retried
    assert retried[-1][1]["status"] == "complete" and retried[-1][1]["index"] == 2
    after = await client.post(f"/api/interviews/{iid}/turns", json={"text": "Happy to go on."})
    assert after.status_code == 200, after.text
    assert after.json()["reply"]["index"] == 4 and after.json()["reply"]["status"] == "complete"
    final = (await client.get(f"/api/interviews/{iid}")).json()
    assert [t["status"] for t in final["turns"]] == ["complete"] * 5
    assert [t["index"] for t in final["turns"]] == [0, 1, 2, 3, 4]


async def test_a_normal_stream_arrives_token_by_token(
    openai_client: httpx.AsyncClient, fake_openai: FakeOpenAI
) -> None:
    fake_openai.control.gap_ms = 5
    iid = (await start(openai_client))["id"]
    events = await take_turn(openai_client, iid)
    assert kinds(events) == ["turn", "token", "grade", "done"]
    assert sum(kind == "token" for kind, _ in events) >= 2, "tokens arrive as they are made"
    assert streamed(events).startswith("word0 word1")
    done = events[-1][1]
    assert done["status"] == "complete" and done["index"] == 2 and done["text"]
    sent = fake_openai.requests[-1]
    assert sent.body["stream"] is True and sent.body["model"] == PERSONA_MODEL
    assert sent.headers["authorization-present"] == "True"
    assert ANSWER in sent.body["messages"][-1]["content"] or any(
        ANSWER in str(m["content"]) for m in sent.body["messages"]
    )


@dataclass(frozen=True)
class Fault:
    """A reply the model server fails, and what the client must be told of it.

    ``says`` checks the error event's message; ``shown`` is the text streamed before the fault,
    which the saved reply keeps, marked incomplete; ``tries`` are the requests for the persona's
    reply (``why`` explains them) and ``kinds`` the events, where a case pins them down.
    """

    behaviour: str
    options: dict[str, Any] = field(default_factory=dict)
    says: Callable[[str], bool] = lambda message: True
    shown: str = ""
    tries: list[str] | None = None
    why: str = ""
    kinds: list[str] | None = None


REPORTED_FAULTS = [
    pytest.param(
        {},
        Fault(
            "rate_limit",
            {"retry_after": 0.05, "times": 50},
            says=lambda message: "429" in message or "rate" in message.lower(),
            tries=["rate_limit"] * 3,
            why="one try and max_retries=2",
        ),
        id="429-every-time-retries-are-bounded",
    ),
    pytest.param(
        {"max_retries": 1},
        Fault(
            "error",
            {"status": 500, "times": 50},
            says=lambda message: "500" in message,
            tries=["error", "error"],
        ),
        id="500-every-time-is-reported",
    ),
    pytest.param(
        {"request_timeout": 0.5, "max_retries": 1},
        Fault(
            "hang",
            {"times": 2},
            says=lambda message: "0.5 s" in message and "RAPPORT_REQUEST_TIMEOUT" in message,
            tries=["hang", "hang"],
        ),
        id="a-server-that-never-answers-times-out",
    ),
    pytest.param(
        {"request_timeout": 0.5},
        Fault(
            "stall",
            {"after_tokens": 4},
            shown="word0 word1 word2 word3 ",
            tries=["stall"],
            why="text was shown: no silent second try",
        ),
        id="a-stream-that-stalls-mid-reply-keeps-the-partial-text",
    ),
    pytest.param(
        {},
        Fault(
            "cut",
            {"after_tokens": 5},
            says=lambda message: "mid-reply" in message,
            shown="word0 word1 word2 word3 word4 ",
            tries=["cut"],
            kinds=["turn", "token", "grade", "error"],
        ),
        id="a-stream-cut-mid-reply-is-saved-incomplete",
    ),
    pytest.param(
        {},
        Fault("empty", says=lambda message: "empty" in message),
        id="an-empty-reply-is-reported",
    ),
]


@pytest.mark.parametrize(("backend_changes", "fault"), REPORTED_FAULTS)
async def test_a_failed_reply_is_reported_and_can_be_retried(
    openai_client: httpx.AsyncClient, fake_openai: FakeOpenAI, fault: Fault
) -> None:
    iid = (await start(openai_client))["id"]
    fake_openai.behave(fault.behaviour, **fault.options)
    events = await take_turn(openai_client, iid)
    if fault.kinds is not None:
        assert kinds(events) == fault.kinds
    assert streamed(events) == fault.shown
    if fault.tries is not None:
        assert persona_requests(fake_openai) == fault.tries, fault.why
    message = events[-1][1]["message"]
    assert fault.says(message), message
    await assert_recovers(openai_client, fake_openai, iid, events, partial=bool(fault.shown))


@pytest.mark.parametrize(
    ("backend_changes", "behaviour", "options"),
    [
        pytest.param({}, "rate_limit", {"retry_after": 0.4}, id="429-after-its-retry-after"),
        pytest.param({"max_retries": 1}, "error", {"status": 500}, id="500"),
    ],
)
async def test_a_fault_once_is_retried(
    openai_client: httpx.AsyncClient,
    fake_openai: FakeOpenAI,
    behaviour: str,
    options: dict[str, Any],
) -> None:
    iid = (await start(openai_client))["id"]
    fake_openai.behave(behaviour, **options)
    events = await take_turn(openai_client, iid)
    assert events[-1][0] == "done" and events[-1][1]["status"] == "complete"
    assert persona_requests(fake_openai) == [behaviour, "normal"]
    if "retry_after" in options:
        waited = fake_openai.requests[1].at - fake_openai.requests[0].at
        assert waited >= options["retry_after"], f"retried after {waited:.2f} s, before Retry-After"


async def test_a_json_turn_cut_mid_reply_answers_503_with_the_retry_url(
    openai_client: httpx.AsyncClient, fake_openai: FakeOpenAI
) -> None:
    iid = (await start(openai_client))["id"]
    fake_openai.behave("cut", after_tokens=2)
    response = await openai_client.post(f"/api/interviews/{iid}/turns", json={"text": ANSWER})
    assert response.status_code == 503 and response.headers["retry-after"]
    body = response.json()
    assert body["retry_url"] == f"/api/interviews/{iid}/turns/2/retry"
    retried = await openai_client.post(body["retry_url"])
    assert retried.status_code == 200 and retried.json()["reply"]["status"] == "complete"


async def test_a_very_long_reply_is_replaced_by_the_plan_and_bounded(
    openai_client: httpx.AsyncClient, fake_openai: FakeOpenAI
) -> None:
    iid = (await start(openai_client))["id"]
    fake_openai.behave("long", tokens=2000)
    events = await take_turn(openai_client, iid)
    assert events[-1][0] == "done", kinds(events)
    done = events[-1][1]
    assert done["status"] == "complete" and done["fallback"] is True
    assert len(done["text"].split()) < 200, "the saved reply keeps to the persona's length"
    saved = (await openai_client.get(f"/api/interviews/{iid}")).json()
    assert saved["turns"][2]["text"] == done["text"]
    after = await openai_client.post(f"/api/interviews/{iid}/turns", json={"text": "Go on."})
    assert after.status_code == 200 and after.json()["reply"]["status"] == "complete"


# --- the judge ---------------------------------------------------------------------------


def judged(events: Events) -> list[dict[str, Any]]:
    """The human turn's grades that a rubric applied to (N/A ones never reach the judge)."""
    grades: list[dict[str, Any]] = next(data for kind, data in events if kind == "grade")["grades"]
    return [g for g in grades if g["score"] is not None]


def judge_on() -> dict[str, object]:
    return {"judge_model": JUDGE_MODEL, "max_retries": 0}


@pytest.mark.parametrize("backend_changes", [judge_on()])
async def test_a_judge_that_quotes_the_turn_is_used(
    openai_client: httpx.AsyncClient, fake_openai: FakeOpenAI
) -> None:
    """The control case: with a sound judge answer, grades say llm+signals."""
    iid = (await start(openai_client))["id"]
    fake_openai.control.json_reply = {
        "evidence": ["fixing a routing bug at a food startup"],
        "rationale": "Specific and personal.",
        "score": 3,
    }
    events = await take_turn(openai_client, iid)
    grades = judged(events)
    assert grades and all(g["method"] == "llm+signals" for g in grades), grades


@pytest.mark.parametrize("backend_changes", [judge_on()])
@pytest.mark.parametrize("fault", ["bad_json", "wrong_json", "empty", "error", "rate_limit"])
async def test_a_misbehaving_judge_falls_back_to_signals(
    openai_client: httpx.AsyncClient, fake_openai: FakeOpenAI, fault: str
) -> None:
    iid = (await start(openai_client))["id"]
    fake_openai.behave(fault, only="judge", times=1000, retry_after=0.01)
    events = await take_turn(openai_client, iid)
    assert events[-1][0] == "done", kinds(events)
    grades = judged(events)
    assert grades, "the turn is still graded"
    assert all(g["method"] == "signals" for g in grades), grades
    assert all("Judge answer not used" in g["rationale"] for g in grades)
    assert any(r.kind == fault for r in fake_openai.requests), "the judge was asked"
    saved = (await openai_client.get(f"/api/interviews/{iid}")).json()
    assert [g for g in saved["turns"][1]["grades"] if g["score"] is not None] == grades
    after = await openai_client.post(f"/api/interviews/{iid}/turns", json={"text": "Next one."})
    assert after.status_code == 200


@pytest.mark.parametrize(
    "backend_changes",
    [{"openai_base_url": f"http://127.0.0.1:{free_port()}/v1", "max_retries": 1}],
)
async def test_a_model_server_that_is_not_running_is_reported(
    openai_client: httpx.AsyncClient,
) -> None:
    iid = (await start(openai_client))["id"]
    events = await take_turn(openai_client, iid)
    error = events[-1][1]
    assert events[-1][0] == "error" and "OPENAI_BASE_URL" in error["message"]
    assert error["retry_url"] == f"/api/interviews/{iid}/turns/2/retry"
    saved = (await openai_client.get(f"/api/interviews/{iid}")).json()
    assert saved["turns"][1]["text"] == ANSWER and saved["turn_in_flight"] is None
    again = await openai_client.post(error["retry_url"])
    assert again.status_code == 503 and again.json()["retry_url"] == error["retry_url"]
