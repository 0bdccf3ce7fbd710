"""Personas and rubrics, health and the OpenAPI document."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.store.db import make_engine
from tests.api.support import MAYA, SAMUEL


async def test_personas_list_and_filter_by_side(client: httpx.AsyncClient) -> None:
    everyone = (await client.get("/api/personas")).json()
    assert {MAYA, SAMUEL} <= {p["id"] for p in everyone}
    interviewers = (await client.get("/api/personas", params={"side": "interviewer"})).json()
    assert interviewers and all(p["side"] == "interviewer" for p in interviewers)
    assert all(p["human_side"] == "candidate" for p in interviewers)
    wrong = await client.get("/api/personas", params={"side": "boss"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "side"


async def test_a_persona_never_shows_its_hidden_facts(client: httpx.AsyncClient) -> None:
    persona = (await client.get(f"/api/personas/{SAMUEL}")).json()
    assert persona["name"] and persona["rubrics"]
    assert "hidden" not in persona and "stories" not in persona


async def test_unknown_persona_and_rubric_name_the_valid_ids(client: httpx.AsyncClient) -> None:
    persona = await client.get("/api/personas/nobody")
    assert persona.status_code == 404 and MAYA in persona.json()["valid"]
    rubric = await client.get("/api/rubrics/nothing")
    assert rubric.status_code == 404 and "listen-actively" in rubric.json()["valid"]


async def test_rubrics_list_filter_and_get(client: httpx.AsyncClient) -> None:
    rubrics = (await client.get("/api/rubrics")).json()
    assert len(rubrics) >= 11
    turn_only = (
        await client.get("/api/rubrics", params={"side": "candidate", "scope": "turn"})
    ).json()
    assert turn_only and all(
        r["applies_to"] == "candidate" and r["scope"] == "turn" for r in turn_only
    )
    one = (await client.get("/api/rubrics/listen-actively")).json()
    assert one["applies_to"] == "interviewer" and set(one["anchors"]) == {"1", "2", "3", "4", "5"}


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ready" and ready["database"] == "ok"
    assert ready["backend"] == "scripted" and ready["persona_model"] == "scripted"
    assert ready["judge_model"] is None and ready["description"]


async def test_readiness_fails_when_the_database_is_gone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    runtime = app.state.rapport.runtime
    working = runtime.db
    runtime.db = make_engine("postgresql://nobody:s3cret@127.0.0.1:1/none")
    try:
        response = await client.get("/readyz")
    finally:
        runtime.db.dispose()
        runtime.db = working
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and "unreachable" in body["database"]
    assert "s3cret" not in response.text and "nobody" not in response.text
    assert (await client.get("/readyz")).status_code == 200


async def test_the_openapi_document_has_examples_and_every_route(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/interviews",
        "/api/interviews/{interview_id}",
        "/api/interviews/{interview_id}/turns",
        "/api/interviews/{interview_id}/turns/{index}/retry",
        "/api/interviews/{interview_id}/finish",
        "/api/interviews/{interview_id}/report",
        "/api/interviews/{interview_id}/transcript",
        "/api/personas",
        "/api/rubrics/{rubric_id}",
        "/api/grade",
        "/v1/models",
        "/v1/chat/completions",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    schemas = document["components"]["schemas"]
    for name in ("InterviewOut", "TurnOut", "NewInterview", "TurnIn", "GradeIn", "ErrorOut"):
        assert "example" in schemas[name], name
    turns = paths["/api/interviews/{interview_id}/turns"]["post"]["responses"]
    assert "text/event-stream" in turns["200"]["content"]
