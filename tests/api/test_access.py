"""Users and access: API keys, the login cookie, and nobody reaching another's interviews."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.api.auth import COOKIE_NAME, AccessPolicy, parse_api_keys
from app.config import Settings
from app.interview.errors import InvalidInput
from app.llm.scripted import ScriptedModel
from app.main import create_app
from tests.api.support import ANSWER, MAYA

ALICE, BOB = "alice-key-7f3a9c", "bob-key-2b8e41"
AUTH_ALICE = {"authorization": f"Bearer {ALICE}"}
AUTH_BOB = {"authorization": f"Bearer {BOB}"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_keys": f"{ALICE}=alice,{BOB}=bob"})


@pytest.fixture
async def alice_interview(client: httpx.AsyncClient) -> AsyncIterator[str]:
    response = await client.post(
        "/api/interviews", json={"persona_id": MAYA}, headers=AUTH_ALICE
    )
    assert response.status_code == 201
    iid = response.json()["id"]
    turn = await client.post(
        f"/api/interviews/{iid}/turns", json={"text": ANSWER}, headers=AUTH_ALICE
    )
    assert turn.status_code == 200
    yield iid


def as_cookie(value: str) -> dict[str, str]:
    return {"cookie": f"{COOKIE_NAME}={value}"}


def owner_routes(iid: str) -> list[tuple[str, str, dict[str, str] | None]]:
    return [
        ("GET", f"/api/interviews/{iid}", None),
        ("POST", f"/api/interviews/{iid}/turns", {"text": "hello"}),
        ("POST", f"/api/interviews/{iid}/turns/2/retry", None),
        ("POST", f"/api/interviews/{iid}/finish", None),
        ("GET", f"/api/interviews/{iid}/report", None),
        ("GET", f"/api/interviews/{iid}/transcript", None),
        ("GET", f"/api/interviews/{iid}/transcript?format=md", None),
        ("DELETE", f"/api/interviews/{iid}", None),
    ]


async def test_another_users_interview_is_404_everywhere(
    client: httpx.AsyncClient, alice_interview: str
) -> None:
    for method, url, body in owner_routes(alice_interview):
        response = await client.request(method, url, json=body, headers=AUTH_BOB)
        assert response.status_code == 404, (method, url, response.text)
    listed = (await client.get("/api/interviews", headers=AUTH_BOB)).json()
    assert listed["total"] == 0
    mine = (await client.get(f"/api/interviews/{alice_interview}", headers=AUTH_ALICE)).json()
    assert len(mine["turns"]) == 3, "Bob's attempts changed nothing"


async def test_no_key_is_401_everywhere(client: httpx.AsyncClient, alice_interview: str) -> None:
    routes = [
        *owner_routes(alice_interview),
        ("GET", "/api/interviews", None),
        ("POST", "/api/interviews", {"persona_id": MAYA}),
        ("GET", "/api/personas", None),
        ("GET", "/api/rubrics", None),
        ("POST", "/api/grade", {"human_side": "candidate", "turns": []}),
        ("GET", "/v1/models", None),
    ]
    for method, url, body in routes:
        response = await client.request(method, url, json=body)
        assert response.status_code == 401, (method, url)
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_wrong_key_is_401_and_never_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/interviews", headers={"authorization": "Bearer not-a-real-key"}
    )
    assert response.status_code == 401
    assert "not-a-real-key" not in response.text


async def test_health_needs_no_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200


async def test_the_login_form_sets_a_signed_httponly_samesite_cookie(
    client: httpx.AsyncClient, alice_interview: str
) -> None:
    bad = await client.post("/login", data={"key": "wrong", "next": "/history"})
    assert bad.status_code == 303 and bad.headers["location"].startswith("/login?error=")
    assert COOKIE_NAME not in bad.cookies
    good = await client.post("/login", data={"key": ALICE, "next": "/history"})
    assert good.status_code == 303 and good.headers["location"] == "/history"
    header = good.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header
    assert ALICE not in header
    cookie = good.cookies[COOKIE_NAME]
    client.cookies.clear()
    mine = await client.get(f"/api/interviews/{alice_interview}", headers=as_cookie(cookie))
    assert mine.status_code == 200
    forged = await client.get(
        f"/api/interviews/{alice_interview}", headers=as_cookie(cookie[:-2] + "xx")
    )
    assert forged.status_code == 401


async def test_a_cookie_cannot_post_from_another_site(
    client: httpx.AsyncClient, alice_interview: str
) -> None:
    cookie = (await client.post("/login", data={"key": ALICE})).cookies[COOKIE_NAME]
    client.cookies.clear()
    url = f"/api/interviews/{alice_interview}/turns"
    evil = await client.post(
        url,
        json={"text": "hi"},
        headers={**as_cookie(cookie), "origin": "https://evil.example"},
    )
    assert evil.status_code == 403
    ours = await client.post(
        url,
        json={"text": "Same site."},
        headers={**as_cookie(cookie), "origin": "http://testserver"},
    )
    assert ours.status_code == 200


async def test_login_only_redirects_within_the_site(client: httpx.AsyncClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await client.post("/login", data={"key": ALICE, "next": target})
        assert response.headers["location"] == "/"


async def test_logout_clears_the_cookie(client: httpx.AsyncClient) -> None:
    await client.post("/login", data={"key": ALICE})
    out = await client.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert 'rapport_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers[
        "set-cookie"
    ]


async def test_keys_never_appear_in_logs(
    client: httpx.AsyncClient, alice_interview: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.get("/api/interviews", headers=AUTH_ALICE)
    await client.get("/api/interviews", headers={"authorization": "Bearer guessed-key"})
    await client.post("/login", data={"key": BOB})
    text = caplog.text
    assert ALICE not in text and BOB not in text and "guessed-key" not in text


def test_keys_parse_from_a_list_or_a_file(tmp_path: Path) -> None:
    assert parse_api_keys(" a=alice , b=bob ") == {"a": "alice", "b": "bob"}
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nk1=ann\n\nk2=ben  # on call\n")
    assert parse_api_keys(str(keys)) == {"k1": "ann", "k2": "ben"}
    with pytest.raises(InvalidInput) as caught:
        parse_api_keys("secretvalue-without-user,b=bob")
    assert "secretvalue" not in caught.value.message and "entry 1" in caught.value.message


def test_the_cookie_secret_follows_the_keys(settings: Settings) -> None:
    policy = AccessPolicy.from_settings(settings)
    cookie = policy.cookie_for(ALICE)
    assert policy.user_for_cookie(cookie) == "alice"
    rotated = AccessPolicy.from_settings(settings.model_copy(update={"api_keys": f"{BOB}=bob"}))
    assert rotated.user_for_cookie(cookie) is None


async def test_without_keys_everyone_is_the_local_user(settings: Settings) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"api_keys": ""}), llm=ScriptedModel())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            created = await client.post("/api/interviews", json={"persona_id": MAYA})
            assert created.status_code == 201
            listed = (await client.get("/api/interviews")).json()
            assert listed["total"] == 1
