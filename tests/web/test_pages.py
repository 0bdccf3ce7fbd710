"""The server-rendered pages, through the app in process: fast checks without a browser."""

from __future__ import annotations

import re

import httpx

from app.config import PROJECT_ROOT


async def _finished(client: httpx.AsyncClient, persona_id: str) -> str:
    created = await client.post("/api/interviews", json={"persona_id": persona_id})
    assert created.status_code == 201, created.text
    interview_id: str = created.json()["id"]
    turn = await client.post(
        f"/api/interviews/{interview_id}/turns",
        json={"text": "How did you get into this work, and what sparked your choices?"},
    )
    assert turn.status_code == 200, turn.text
    assert (await client.post(f"/api/interviews/{interview_id}/finish")).status_code == 200
    return interview_id


async def test_home_lists_personas_for_both_sides(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    html = page.text
    assert 'data-side="candidate"' in html and 'data-side="interviewer"' in html
    personas = (await client.get("/api/personas")).json()
    for persona in personas:
        assert f'value="{persona["id"]}"' in html
    assert "Backend: <strong data-backend>" in html


async def test_pages_load_only_local_assets(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url
    for asset in (PROJECT_ROOT / "web" / "static").iterdir():
        # The SVG namespace is a name, not a request.
        text = asset.read_text(encoding="utf-8").replace("http://www.w3.org/2000/svg", "")
        assert "http://" not in text and "https://" not in text, asset.name


async def test_report_and_history_render_on_the_server(client: httpx.AsyncClient) -> None:
    personas = (await client.get("/api/personas", params={"side": "candidate"})).json()
    interview_id = await _finished(client, personas[0]["id"])

    report = await client.get(f"/interviews/{interview_id}/report")
    assert report.status_code == 200
    assert report.text.count("<svg") >= 3  # rubric bars, talk share, timeline
    assert "Hidden facts discovered" in report.text  # the human was hiring
    assert f"/api/interviews/{interview_id}/report?format=md" in report.text

    history = await client.get("/history")
    assert history.status_code == 200
    assert personas[0]["name"] in history.text
    assert "trend-card" in history.text


async def test_open_interview_report_leads_back_to_the_interview(
    client: httpx.AsyncClient,
) -> None:
    personas = (await client.get("/api/personas", params={"side": "interviewer"})).json()
    created = await client.post("/api/interviews", json={"persona_id": personas[0]["id"]})
    interview_id = created.json()["id"]
    page = await client.get(f"/interviews/{interview_id}")
    assert page.status_code == 200
    assert 'aria-live="polite"' in page.text
    assert personas[0]["name"] in page.text
    report = await client.get(f"/interviews/{interview_id}/report")
    assert report.status_code == 303
    assert report.headers["location"] == f"/interviews/{interview_id}"


async def test_unknown_interview_is_a_friendly_404(client: httpx.AsyncClient) -> None:
    page = await client.get("/interviews/nope")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "Unknown interview" in page.text


async def test_form_start_works_without_javascript(client: httpx.AsyncClient) -> None:
    personas = (await client.get("/api/personas", params={"side": "interviewer"})).json()
    started = await client.post("/interviews", data={"persona_id": personas[0]["id"]})
    assert started.status_code == 303
    assert started.headers["location"].startswith("/interviews/")
    missing = await client.post("/interviews", data={"persona_id": "nobody"})
    assert missing.status_code == 303
    assert "error=" in missing.headers["location"]
    home = await client.get(missing.headers["location"])
    assert "Unknown persona" in home.text


async def test_login_page_only_redirects_to_local_paths(client: httpx.AsyncClient) -> None:
    # With no keys configured there is nothing to sign in to: the page sends you on.
    local = await client.get("/login", params={"next": "/history"})
    assert local.status_code == 303 and local.headers["location"] == "/history"
    for target in ("//evil.example", "https://evil.example", "/\\evil.example"):
        away = await client.get("/login", params={"next": target})
        assert away.headers["location"] == "/", target


async def test_report_of_an_interview_ended_at_once(client: httpx.AsyncClient) -> None:
    personas = (await client.get("/api/personas", params={"side": "interviewer"})).json()
    created = await client.post("/api/interviews", json={"persona_id": personas[0]["id"]})
    interview_id = created.json()["id"]
    assert (await client.post(f"/api/interviews/{interview_id}/finish")).status_code == 200
    report = await client.get(f"/interviews/{interview_id}/report")
    assert report.status_code == 200
    assert "Take a turn to see how your scores move." in report.text
    transcript = await client.get(f"/interviews/{interview_id}")
    assert "This interview has ended." in transcript.text
    assert 'id="composer"' not in transcript.text
