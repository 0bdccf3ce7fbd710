"""Finishing an interview and reading its report."""

from __future__ import annotations

import httpx

from tests.api.support import ANSWER, SAMUEL, start


async def play(client: httpx.AsyncClient, persona: str | None = None) -> str:
    interview = await start(client, persona) if persona else await start(client)
    iid = str(interview["id"])
    for text in (
        ANSWER,
        "At Lumen I'd start by measuring where routes go wrong. What does the team see today?",
    ):
        assert (
            await client.post(f"/api/interviews/{iid}/turns", json={"text": text})
        ).status_code == 200
    return iid


async def test_finish_grades_the_session_and_returns_the_report(
    client: httpx.AsyncClient,
) -> None:
    iid = await play(client)
    response = await client.post(f"/api/interviews/{iid}/finish")
    assert response.status_code == 200
    report = response.json()
    assert report["human_side"] == "candidate"
    assert report["human_turns"] == 2
    assert report["rubrics"], "every rubric of the interview appears in the report"
    interview = (await client.get(f"/api/interviews/{iid}")).json()
    assert interview["status"] == "finished" and interview["finished_at"]
    assert interview["overall_score"] is not None
    assert (await client.get(f"/api/interviews/{iid}/report")).json() == report


async def test_finishing_twice_returns_the_same_report(client: httpx.AsyncClient) -> None:
    iid = await play(client)
    first = (await client.post(f"/api/interviews/{iid}/finish")).json()
    second = await client.post(f"/api/interviews/{iid}/finish")
    assert second.status_code == 200 and second.json() == first


async def test_the_report_comes_as_markdown(client: httpx.AsyncClient) -> None:
    iid = await play(client)
    finished = await client.post(f"/api/interviews/{iid}/finish", params={"format": "md"})
    assert finished.headers["content-type"].startswith("text/markdown")
    again = await client.get(f"/api/interviews/{iid}/report", params={"format": "md"})
    assert again.text == finished.text and again.text.startswith("#")


async def test_a_report_before_finishing_is_409_saying_what_to_do(
    client: httpx.AsyncClient,
) -> None:
    iid = await play(client)
    response = await client.get(f"/api/interviews/{iid}/report")
    assert response.status_code == 409
    assert f"/api/interviews/{iid}/finish" in response.json()["detail"]


async def test_interviewer_practice_reports_hidden_facts(client: httpx.AsyncClient) -> None:
    interview = await start(client, SAMUEL)
    iid = interview["id"]
    await client.post(
        f"/api/interviews/{iid}/turns",
        json={"text": "What made you leave teaching for software, really?"},
    )
    report = (await client.post(f"/api/interviews/{iid}/finish")).json()
    assert report["human_side"] == "interviewer"
    assert report["hidden_facts"]["total"] > 0
