"""Choosing the model backend per interview: the server's default, or another it offers."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.config import Settings
from app.llm.backends import Backends
from app.llm.factory import build_models
from tests.api.support import ANSWER, MAYA, SAMUEL, SSE, kinds, parse_events, start
from tests.support.apps import JUDGE_MODEL, PERSONA_MODEL, openai_settings, serving
from tests.support.fake_openai import FakeOpenAI


def persona_calls(fake: FakeOpenAI) -> int:
    return sum(1 for r in fake.requests if r.body.get("model") == PERSONA_MODEL)


async def test_readyz_lists_the_backends_an_interview_may_choose(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    async with serving(openai_settings(settings, fake_openai)) as client:
        ready = (await client.get("/readyz")).json()
    assert ready["backend"] == "openai"
    assert ready["backends"][:2] == ["openai", "scripted"]


async def test_a_scripted_interview_on_a_model_server_never_calls_the_model(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    judged = openai_settings(settings, fake_openai, judge_model=JUDGE_MODEL)
    async with serving(judged) as client:
        interview = await start(client, MAYA, backend="scripted")
        assert interview["backend"] == "scripted" and interview["model"] == "scripted"
        response = await client.post(
            f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER}, headers=SSE
        )
        events = parse_events(response.text)
        assert kinds(events)[-1] == "done", events
        assert events[-1][1]["text"]
        assert (await client.post(f"/api/interviews/{interview['id']}/finish")).status_code == 200
        # Neither the persona nor the judge: a scripted interview grades by signals alone.
        assert fake_openai.requests == []

        # The server's own backend still serves interviews that do not choose.
        default = await start(client, MAYA)
        assert default["backend"] == "openai" and default["model"] == PERSONA_MODEL
        reply = await client.post(
            f"/api/interviews/{default['id']}/turns", json={"text": ANSWER}
        )
        assert reply.status_code == 200, reply.text
        assert persona_calls(fake_openai) == 1
        assert any(r.body.get("model") == JUDGE_MODEL for r in fake_openai.requests)


async def test_an_interview_may_choose_openai_on_a_scripted_server(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    offline_default = openai_settings(settings, fake_openai, llm="scripted")
    async with serving(offline_default) as client:
        assert (await client.get("/readyz")).json()["backends"][:2] == ["scripted", "openai"]
        interview = await start(client, SAMUEL, backend="openai")
        assert interview["backend"] == "openai" and interview["model"] == PERSONA_MODEL
        response = await client.post(
            f"/api/interviews/{interview['id']}/turns",
            json={"text": "What drew you to logistics?"},
        )
        assert response.status_code == 200, response.text
        assert persona_calls(fake_openai) == 1
        assert response.json()["reply"]["status"] == "complete"


async def test_a_backend_without_credentials_is_422_naming_what_to_set(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/interviews", json={"persona_id": MAYA, "backend": "openai"})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "backend"
    assert "OPENAI_API_KEY" in body["detail"] and "scripted" in body["detail"]
    assert (await client.get("/api/interviews")).json()["total"] == 0


async def test_an_unknown_backend_is_422_naming_the_choices(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/interviews", json={"persona_id": MAYA, "backend": "gpt"})
    assert response.status_code == 422
    assert "backend" in response.text and "scripted" in response.text


async def test_an_interview_whose_backend_is_gone_goes_on_with_the_default(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    async with serving(openai_settings(settings, fake_openai, llm="scripted")) as client:
        interview = await start(client, MAYA, backend="openai")
    # Restarted without any OpenAI settings: the interview continues on the scripted default.
    async with serving(settings) as client:
        response = await client.post(
            f"/api/interviews/{interview['id']}/turns", json={"text": ANSWER}
        )
        assert response.status_code == 200, response.text
        assert response.json()["reply"]["status"] == "complete"
    assert persona_calls(fake_openai) == 0


async def test_the_start_form_offers_the_backends_and_keeps_the_choice(
    settings: Settings, fake_openai: FakeOpenAI
) -> None:
    async with serving(openai_settings(settings, fake_openai)) as client:
        page = (await client.get("/")).text
        assert '<select id="backend" name="backend">' in page
        assert 'value="scripted"' in page
        started = await client.post(
            "/interviews", data={"persona_id": MAYA, "backend": "scripted"}
        )
        assert started.status_code == 303
        interview_id = started.headers["location"].rsplit("/", 1)[-1]
        interview = (await client.get(f"/api/interviews/{interview_id}")).json()
        assert interview["backend"] == "scripted"


async def test_a_server_offering_one_backend_shows_no_choice(
    settings: Settings, tmp_path: Path
) -> None:
    # Scripted, with no OpenAI settings and no embedded model file: nothing else to offer.
    alone = settings.model_copy(update={"local_model": tmp_path / "missing.gguf"})
    async with serving(alone) as client:
        assert (await client.get("/readyz")).json()["backends"] == ["scripted"]
        assert 'name="backend"' not in (await client.get("/")).text


async def test_backends_are_built_once_and_closed_at_shutdown(settings: Settings) -> None:
    offline = settings.model_copy(update={"openai_base_url": "http://127.0.0.1:9/v1"})
    backends = Backends(offline, build_models(offline), local_installed=False)
    assert backends.available() == ["scripted", "openai"]
    first = await backends.get("openai")
    assert await backends.get("openai") is first
    assert first.backend == "openai" and backends.describe("openai") == first.description
    assert await backends.get(None) is backends.default
    await backends.aclose()
    assert backends.available() == ["scripted", "openai"]
