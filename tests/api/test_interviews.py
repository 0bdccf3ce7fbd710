"""Starting, listing, reading, exporting and deleting interviews."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from app.config import PROJECT_ROOT, Settings
from app.llm.scripted import ScriptedModel
from app.main import create_app
from tests.api.support import ANSWER, MAYA, SAMUEL, start


async def test_an_interviewer_persona_opens_with_its_first_message(
    client: httpx.AsyncClient,
) -> None:
    interview = await start(client, MAYA)
    assert interview["human_side"] == "candidate"
    assert interview["persona"]["side"] == "interviewer"
    assert interview["status"] == "active"
    [opening] = interview["turns"]
    assert opening["index"] == 0 and opening["speaker"] == "interviewer"
    assert opening["text"].startswith("Hi! I'm Maya")
    assert opening["status"] == "complete"


async def test_a_candidate_persona_waits_to_be_asked(client: httpx.AsyncClient) -> None:
    interview = await start(client, SAMUEL)
    assert interview["human_side"] == "interviewer"
    assert interview["turns"] == []
    assert interview["turn_count"] == 0


async def test_unknown_persona_is_404_naming_the_valid_ids(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/interviews", json={"persona_id": "nobody"})
    assert response.status_code == 404
    body = response.json()
    assert "nobody" in body["detail"] and MAYA in body["detail"]
    assert MAYA in body["valid"]


async def test_unknown_rubric_is_404_naming_the_valid_ids(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/interviews", json={"persona_id": MAYA, "rubric_ids": ["no-such-rubric"]}
    )
    assert response.status_code == 404
    assert "no-such-rubric" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"persona_id": ',
        b"not json at all",
        b"[1, 2",
    ],
)
async def test_malformed_json_is_422_not_500(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(
        "/api/interviews", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


async def test_missing_and_unknown_fields_are_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/interviews", json={"persona": MAYA})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "persona_id: field required" in detail
    assert "persona:" in detail


async def test_list_is_newest_first_and_paginated(client: httpx.AsyncClient) -> None:
    ids = [(await start(client, persona))["id"] for persona in (MAYA, SAMUEL, MAYA)]
    first = (await client.get("/api/interviews", params={"limit": 2})).json()
    assert first["total"] == 3 and first["limit"] == 2 and first["offset"] == 0
    assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
    second = (await client.get("/api/interviews", params={"limit": 2, "offset": 2})).json()
    assert [item["id"] for item in second["items"]] == [ids[0]]
    bad = await client.get("/api/interviews", params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["field"] == "limit"


async def test_get_returns_the_transcript_with_grades(client: httpx.AsyncClient) -> None:
    interview = await start(client)
    await client.post(f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER})
    full = (await client.get(f"/api/interviews/{interview['id']}")).json()
    assert [t["speaker"] for t in full["turns"]] == ["interviewer", "candidate", "interviewer"]
    assert full["turns"][1]["text"] == ANSWER
    assert all(isinstance(t["grades"], list) for t in full["turns"])


async def test_unknown_interview_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/interviews/0123456789abcdef")
    assert response.status_code == 404
    assert "0123456789abcdef" in response.json()["detail"]


async def test_delete_removes_the_interview_and_its_turns(client: httpx.AsyncClient) -> None:
    interview = await start(client)
    await client.post(f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER})
    assert (await client.delete(f"/api/interviews/{interview['id']}")).status_code == 204
    assert (await client.get(f"/api/interviews/{interview['id']}")).status_code == 404
    assert (await client.delete(f"/api/interviews/{interview['id']}")).status_code == 404
    assert (await client.get("/api/interviews")).json()["total"] == 0


async def test_transcript_exports_as_json_and_markdown(client: httpx.AsyncClient) -> None:
    interview = await start(client)
    url = f"/api/interviews/{interview['id']}/transcript"
    await client.post(f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER})
    as_json = (await client.get(url)).json()
    assert as_json["human_side"] == "candidate"
    assert [t["speaker"] for t in as_json["turns"]] == ["interviewer", "candidate", "interviewer"]
    markdown = await client.get(url, params={"format": "md"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert f"**Candidate (you):** {ANSWER}" in markdown.text
    assert "human side: candidate" in markdown.text
    wrong = await client.get(url, params={"format": "pdf"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "format"


async def test_the_markdown_transcript_reads_back_for_grading(client: httpx.AsyncClient) -> None:
    from app.grading.transcripts import parse_markdown

    interview = await start(client)
    await client.post(f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER})
    text = (
        await client.get(f"/api/interviews/{interview['id']}/transcript", params={"format": "md"})
    ).text
    transcript = parse_markdown(text)
    assert transcript.human_side == "candidate"
    assert [t.text for t in transcript.turns][1] == ANSWER


async def test_an_interview_keeps_its_persona_snapshot(settings: Settings, tmp_path: Path) -> None:
    personas = tmp_path / "personas"
    shutil.copytree(PROJECT_ROOT / "personas", personas)
    first = create_app(settings.model_copy(update={"personas_dir": personas}), llm=ScriptedModel())
    async with first.router.lifespan_context(first):
        transport = httpx.ASGITransport(app=first)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            interview = await start(client)
    path = personas / f"{MAYA}.yaml"
    path.write_text(path.read_text().replace("name: Maya Okafor", "name: Maya Renamed"))
    second = create_app(settings.model_copy(update={"personas_dir": personas}), llm=ScriptedModel())
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get(f"/api/personas/{MAYA}")).json()["name"] == "Maya Renamed"
            old = (await client.get(f"/api/interviews/{interview['id']}")).json()
            assert old["persona"]["name"] == "Maya Okafor"
            turn = await client.post(
                f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER}
            )
            assert turn.status_code == 200
