"""Who can reach what: every interview route for the owner, another user and nobody; the /v1
endpoints; the login cookie; cross-site form posts; and CORS."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.api.auth import COOKIE_NAME
from app.config import Settings
from app.llm.scripted import ScriptedModel
from app.main import create_app
from tests.api.support import ANSWER, MAYA

ALICE, BOB = "alice-key-0c1d2e3f4a", "bob-key-9a8b7c6d5e"
AUTH = {"alice": {"authorization": f"Bearer {ALICE}"}, "bob": {"authorization": f"Bearer {BOB}"}}
FOREIGN = "https://evil.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_keys": f"{ALICE}=alice,{BOB}=bob"})


@pytest.fixture
async def interview(client: httpx.AsyncClient) -> str:
    """Alice's interview, with one exchange in it."""
    created = await client.post("/api/interviews", json={"persona_id": MAYA}, headers=AUTH["alice"])
    iid: str = created.json()["id"]
    turn = await client.post(
        f"/api/interviews/{iid}/turns", json={"text": ANSWER}, headers=AUTH["alice"]
    )
    assert turn.status_code == 200
    return iid


# Pages are left out of the OpenAPI document; these are the ones that show an interview.
PAGES = [("GET", "/interviews/{interview_id}"), ("GET", "/interviews/{interview_id}/report")]


def interview_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route that names an interview: the API's are read from its
    OpenAPI document rather than listed by hand, so a route added later is covered too."""
    found = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if "{interview_id}" in path
        for method in operations
    ]
    return [*found, *PAGES]


def fill(path: str, iid: str) -> str:
    return path.replace("{interview_id}", iid).replace("{index}", "2")


def body_for(path: str) -> dict[str, Any] | None:
    return {"text": "Hello there."} if path.endswith("/turns") else None


async def test_the_route_list_covers_what_the_issue_names(app: FastAPI) -> None:
    paths = {f"{m} {p}" for m, p in interview_routes(app)}
    for expected in (
        "GET /api/interviews/{interview_id}",
        "DELETE /api/interviews/{interview_id}",
        "POST /api/interviews/{interview_id}/turns",
        "POST /api/interviews/{interview_id}/turns/{index}/retry",
        "POST /api/interviews/{interview_id}/finish",
        "GET /api/interviews/{interview_id}/report",
        "GET /api/interviews/{interview_id}/transcript",
        "GET /interviews/{interview_id}",
        "GET /interviews/{interview_id}/report",
    ):
        assert expected in paths


async def test_only_the_owner_reaches_an_interview(
    app: FastAPI, client: httpx.AsyncClient, interview: str
) -> None:
    before = (await client.get(f"/api/interviews/{interview}", headers=AUTH["alice"])).json()
    for method, path in interview_routes(app):
        url = fill(path, interview)
        for fmt in ("", "?format=md"):
            bob = await client.request(
                method, url + fmt, json=body_for(path), headers=AUTH["bob"]
            )
            assert bob.status_code == 404, (method, url + fmt, bob.status_code)
            assert "alice" not in bob.text and ANSWER not in bob.text
            nobody = await client.request(method, url + fmt, json=body_for(path))
            if path.startswith("/api/"):
                assert nobody.status_code == 401, (method, url, nobody.status_code)
            else:  # pages send the visitor to the login form
                assert nobody.status_code == 303 and "/login" in nobody.headers["location"]
            assert ANSWER not in nobody.text
    after = (await client.get(f"/api/interviews/{interview}", headers=AUTH["alice"])).json()
    assert after == before, "nothing another user or nobody did changed the interview"
    listed = (await client.get("/api/interviews", headers=AUTH["bob"])).json()
    assert listed["total"] == 0 and listed["items"] == []


async def test_the_owner_gets_through_on_every_route(
    app: FastAPI, client: httpx.AsyncClient, interview: str
) -> None:
    await client.post(f"/api/interviews/{interview}/finish", headers=AUTH["alice"])
    for method, path in interview_routes(app):
        if method == "DELETE" or path.endswith(("/turns", "/retry")):
            continue  # a finished interview takes no turns; deleting is checked last
        response = await client.request(method, fill(path, interview), headers=AUTH["alice"])
        assert response.status_code == 200, (method, path, response.text[:200])
    gone = await client.delete(f"/api/interviews/{interview}", headers=AUTH["alice"])
    assert gone.status_code == 204
    assert (await client.get(f"/api/interviews/{interview}", headers=AUTH["alice"])).status_code \
        == 404


async def test_a_guessed_id_answers_exactly_like_another_users(
    client: httpx.AsyncClient, interview: str
) -> None:
    """Nothing tells an outsider whether an id exists."""
    theirs = await client.get(f"/api/interviews/{interview}", headers=AUTH["bob"])
    made_up = await client.get(f"/api/interviews/{'0' * 32}", headers=AUTH["bob"])
    assert theirs.status_code == made_up.status_code == 404
    assert theirs.json()["detail"].replace(interview, "X") == made_up.json()["detail"].replace(
        "0" * 32, "X"
    )


async def test_v1_needs_a_key_when_keys_are_configured(client: httpx.AsyncClient) -> None:
    chat = {"model": MAYA, "messages": [{"role": "user", "content": "Hello Maya."}]}
    for method, url, body in (
        ("GET", "/v1/models", None),
        ("POST", "/v1/chat/completions", chat),
        ("POST", "/v1/chat/completions", {**chat, "stream": True}),
    ):
        nobody = await client.request(method, url, json=body)
        assert nobody.status_code == 401, url
        assert nobody.json()["error"]["type"] == "authentication_error"
        wrong = await client.request(
            method, url, json=body, headers={"authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401 and "nope" not in wrong.text
        ok = await client.request(method, url, json=body, headers=AUTH["bob"])
        assert ok.status_code == 200, ok.text


# --- the login cookie ----------------------------------------------------------------------


async def login(client: httpx.AsyncClient, key: str, **headers: str) -> httpx.Response:
    return await client.post("/login", data={"key": key, "next": "/"}, headers=headers)


async def test_the_cookie_is_signed_httponly_samesite_and_carries_no_key(
    client: httpx.AsyncClient, interview: str
) -> None:
    response = await login(client, ALICE)
    header = response.headers["set-cookie"]
    assert re.search(r"(?i)\bhttponly\b", header)
    assert re.search(r"(?i)samesite=(lax|strict)", header)
    assert ALICE not in header and "alice-key" not in header
    value = response.cookies[COOKIE_NAME]
    client.cookies.clear()
    cookie = {"cookie": f"{COOKIE_NAME}={value}"}
    assert (await client.get(f"/api/interviews/{interview}", headers=cookie)).status_code == 200
    payload, _, signature = value.rpartition(".")
    # The signature's last base64 character carries padding bits that decode to the same
    # bytes, so the tampered character sits in the middle of the signature.
    middle = len(value) - len(signature) // 2
    flipped = "A" if value[middle] != "A" else "B"
    for forged in (
        value[:middle] + flipped + value[middle + 1 :],
        payload.replace(payload[:4], "eyJ1"),
        "eyJ1IjoiYWxpY2UifQ",  # {"u":"alice"} with no signature
        f"{payload}.{signature[::-1]}",
    ):
        answer = await client.get(
            f"/api/interviews/{interview}", headers={"cookie": f"{COOKIE_NAME}={forged}"}
        )
        assert answer.status_code == 401, forged


async def test_the_cookie_is_secure_over_https(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://rapport.test") as https:
        response = await https.post("/login", data={"key": ALICE})
    assert re.search(r"(?i)\bsecure\b", response.headers["set-cookie"])


async def test_a_cookie_signed_with_another_secret_is_refused(
    settings: Settings, client: httpx.AsyncClient, interview: str
) -> None:
    other: FastAPI = create_app(
        settings.model_copy(update={"secret_key": SecretStr("another-secret")}), llm=ScriptedModel()
    )
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        foreign = (await login(elsewhere, ALICE)).cookies[COOKIE_NAME]
    answer = await client.get(
        f"/api/interviews/{interview}", headers={"cookie": f"{COOKIE_NAME}={foreign}"}
    )
    assert answer.status_code == 401


# --- cross-site form posts -----------------------------------------------------------------


@pytest.mark.parametrize("origin", [FOREIGN, "null", "http://testserver.evil.example"])
async def test_login_and_logout_refuse_other_origins(
    client: httpx.AsyncClient, origin: str
) -> None:
    refused = await login(client, ALICE, origin=origin)
    assert refused.status_code == 403 and COOKIE_NAME not in refused.cookies
    by_referer = await login(client, ALICE, referer=f"{FOREIGN}/phish")
    assert by_referer.status_code == 403
    assert (await client.post("/logout", headers={"origin": origin})).status_code == 403
    assert (await login(client, ALICE, origin="http://testserver")).status_code == 303


async def test_a_cross_site_form_cannot_act_with_the_cookie(
    client: httpx.AsyncClient, interview: str
) -> None:
    value = (await login(client, ALICE)).cookies[COOKIE_NAME]
    client.cookies.clear()
    cookie = {"cookie": f"{COOKIE_NAME}={value}"}
    count = (await client.get("/api/interviews", headers=AUTH["alice"])).json()["total"]
    for origin in (FOREIGN, "null"):
        form = await client.post(
            "/interviews", data={"persona_id": MAYA}, headers={**cookie, "origin": origin}
        )
        assert form.status_code in (303, 403)
        assert not form.headers.get("location", "").startswith("/interviews/")
        for method, url, body in (
            ("POST", f"/api/interviews/{interview}/turns", {"text": "Forged."}),
            ("POST", f"/api/interviews/{interview}/finish", None),
            ("DELETE", f"/api/interviews/{interview}", None),
            ("POST", "/api/interviews", {"persona_id": MAYA}),
        ):
            forged = await client.request(
                method, url, json=body, headers={**cookie, "origin": origin}
            )
            assert forged.status_code in (401, 403), (method, url, forged.status_code)
    after = (await client.get("/api/interviews", headers=AUTH["alice"])).json()
    assert after["total"] == count
    mine = (await client.get(f"/api/interviews/{interview}", headers=AUTH["alice"])).json()
    assert mine["status"] == "active" and "Forged." not in [t["text"] for t in mine["turns"]]
    same_site = await client.post(
        "/interviews", data={"persona_id": MAYA}, headers={**cookie, "origin": "http://testserver"}
    )
    assert same_site.status_code == 303 and same_site.headers["location"].startswith(
        "/interviews/"
    )


# --- CORS ----------------------------------------------------------------------------------


async def test_cors_is_closed_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/interviews",
        headers={"origin": FOREIGN, "access-control-request-method": "POST",
                 "access-control-request-headers": "authorization"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/api/personas", headers={"origin": FOREIGN, **AUTH["bob"]})
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-credentials" not in simple.headers


@pytest.fixture
async def open_to_one_origin(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        settings.model_copy(update={"cors_origins": "https://ok.example"}), llm=ScriptedModel()
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_cors_opens_only_to_the_configured_origins(
    open_to_one_origin: httpx.AsyncClient,
) -> None:
    headers = {"access-control-request-method": "POST"}
    ok = await open_to_one_origin.options(
        "/api/interviews", headers={"origin": "https://ok.example", **headers}
    )
    assert ok.headers.get("access-control-allow-origin") == "https://ok.example"
    assert ok.headers.get("access-control-allow-credentials") != "true"
    evil = await open_to_one_origin.options(
        "/api/interviews", headers={"origin": FOREIGN, **headers}
    )
    assert "access-control-allow-origin" not in evil.headers
