"""End to end in a real browser: practise both sides, watch replies stream, read the report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import API_KEY, DESKTOP, PHONE, Server, Visit

# Starting a server and a browser can take a while on a busy machine.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# --- helpers -----------------------------------------------------------------------------------


def start_interview(visit: Visit, side: str) -> str:
    """Pick a side and its first persona on the home page; returns the persona's name."""
    page = visit.page
    visit.go("/")
    page.get_by_text("I'm a candidate" if side == "candidate" else "I'm hiring").click()
    group = page.locator(f'.persona-group[data-side="{side}"]')
    card = group.locator(".persona-card").first
    card.click()
    name = card.locator(".choice-title").inner_text()
    page.get_by_role("button", name="Start interview").click()
    page.wait_for_url("**/interviews/*")
    return name


LAST_REPLY = "#transcript > li.msg-ai:last-child"


def send_and_watch(visit: Visit, text: str) -> list[int]:
    """Send ``text`` with Enter and sample the reply's length until it is saved."""
    page = visit.page
    before = page.locator("#transcript > li").count()
    page.locator("#message").fill(text)
    page.locator("#message").press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#transcript > li').length >= {before + 2}")
    lengths: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = page.evaluate(
            """(sel) => { const li = document.querySelector(sel);
                 return {n: li.querySelector('.bubble').textContent.length,
                         typing: !!li.querySelector('.typing'), done: 'index' in li.dataset}; }""",
            LAST_REPLY,
        )
        if not state["typing"]:
            lengths.append(state["n"])
        if state["done"]:
            break
        time.sleep(0.015)
    assert page.locator(LAST_REPLY).get_attribute("data-index") is not None, "reply never finished"
    return lengths


def assert_streamed(lengths: list[int]) -> None:
    growth = [b for a, b in zip([0, *lengths], lengths, strict=False) if b > a]
    assert len(growth) >= 3, f"the reply arrived in {len(growth)} step(s): {lengths}"


def check_grades(visit: Visit) -> None:
    page = visit.page
    mine = page.locator("#transcript > li.msg-you").last
    chips = mine.locator(".chip")
    chips.first.wait_for()
    assert chips.count() >= 1
    for i in range(chips.count()):
        label = chips.nth(i).inner_text()
        assert any(ch.isdigit() for ch in label) or "N/A" in label
    chip = chips.first
    assert chip.get_attribute("aria-expanded") == "false"
    chip.click()
    assert chip.get_attribute("aria-expanded") == "true"
    detail = page.locator(f"#{chip.get_attribute('aria-controls')}")
    assert detail.is_visible()
    assert "Tip:" in detail.inner_text()
    chip.click()
    assert chip.get_attribute("aria-expanded") == "false"
    assert detail.is_hidden()


def check_report(visit: Visit) -> None:
    page = visit.page
    page.wait_for_url("**/report")
    assert page.locator(".bar-chart svg").count() >= 1, "no bar per rubric"
    assert page.locator("#talk-title ~ svg, section[aria-labelledby=talk-title] svg").count() == 1
    assert page.locator(".line-chart svg circle").count() >= 1, "no timeline points"
    assert page.get_by_role("heading", name="Strengths").is_visible()
    md = page.get_by_role("link", name="Report as Markdown")
    assert md.get_attribute("href", timeout=1000).endswith("/report?format=md")


# --- the two sides, end to end ----------------------------------------------------------------


def test_candidate_practice_end_to_end(visit: Visit, screenshots: Path) -> None:
    page = visit.page
    visit.go("/")
    assert "Backend:" in page.locator(".backend-banner").inner_text()
    # Keyboard: arrow keys switch the side, and the persona list follows.
    page.get_by_label("I'm a candidate").focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_label("I'm hiring").is_checked()
    assert page.locator('.persona-group[data-side="interviewer"]').is_visible()
    page.keyboard.press("ArrowLeft")
    assert page.locator('.persona-group[data-side="candidate"]').is_visible()
    visit.shoot(screenshots, "home")

    name = start_interview(visit, "candidate")
    # The hiring manager speaks first.
    opening = page.locator("#transcript > li.msg-ai").first
    assert opening.locator(".msg-meta").inner_text() == name
    assert page.locator("#transcript[aria-live=polite]").count() == 1

    # Shift+Enter makes a new line instead of sending.
    box = page.locator("#message")
    box.fill("First line")
    box.press("Shift+Enter")
    box.type("second line")
    assert box.input_value() == "First line\nsecond line"
    assert page.locator("#transcript > li.msg-you").count() == 0

    lengths = send_and_watch(
        visit,
        "I found my way here through a routing bug at a food delivery startup. I rewrote the "
        "dispatcher in Go, cut late deliveries by 18%, and loved how a small model of the city "
        "changed what drivers did every day. What is the hardest routing problem on your team?",
    )
    assert_streamed(lengths)
    assert box.input_value() == ""
    check_grades(visit)
    share = page.locator("#talk-share-value").inner_text()
    assert share.endswith("%") and share != "0%"

    page.locator("#message").fill("That sounds like the puzzle I enjoy most. How would I work?")
    page.get_by_role("button", name="Send").click()
    page.locator("#transcript > li.msg-you").nth(1).locator(".chip").first.wait_for()
    page.locator(f"{LAST_REPLY}[data-index]").wait_for()
    visit.shoot(screenshots, "interview-candidate", full_page=False)

    page.get_by_role("button", name="End interview").click()
    check_report(visit)
    visit.shoot(screenshots, "report-candidate")

    page.get_by_role("link", name="History").click()
    page.wait_for_url("**/history")
    row = page.locator("table.list tbody tr", has_text=name).first
    assert "Candidate" in row.inner_text()
    assert page.locator(".trend-card svg").count() >= 1
    visit.shoot(screenshots, "history")


def test_hiring_practice_end_to_end(phone_visit: Visit, screenshots: Path) -> None:
    visit = phone_visit
    page = visit.page
    name = start_interview(visit, "interviewer")
    # The AI candidate waits for the hiring manager to open.
    assert page.locator("#transcript > li").count() == 0
    assert page.locator("#empty-hint").is_visible()

    lengths = send_and_watch(
        visit,
        "Thanks for coming in. Before we get to the role, I'd love to hear your story: how did "
        "you get into this work, and what sparked the choices you made along the way?",
    )
    assert_streamed(lengths)
    check_grades(visit)
    streak = page.locator("#streak-value").inner_text()
    assert streak.isdigit()

    send_and_watch(visit, "So the late nights on that project taught you a lot. What changed?")
    visit.shoot(screenshots, "interview-hiring", full_page=False)

    page.get_by_role("button", name="End interview").click()
    check_report(visit)
    assert page.get_by_role("heading", name="Hidden facts discovered").count() == 1
    visit.shoot(screenshots, "report-hiring")

    visit.go("/history")
    row = page.locator("table.list tbody tr", has_text=name).first
    assert "Hiring" in row.inner_text()


# --- errors never lose what you typed ---------------------------------------------------------


def test_failed_turn_shows_message_and_keeps_text(visit: Visit) -> None:
    page = visit.page
    start_interview(visit, "candidate")
    text = "I rebuilt our billing pipeline in a month and I'd like to tell you how."

    def model_down(route: Any) -> None:
        body = {"detail": "The model is unreachable right now. Check it is running, then retry."}
        route.fulfill(status=503, content_type="application/json", body=json.dumps(body))

    page.route("**/api/interviews/*/turns", model_down)
    page.locator("#message").fill(text)
    page.locator("#message").press("Enter")
    error = page.locator("#turn-error")
    error.wait_for()
    assert "model is unreachable" in error.inner_text()
    assert page.locator("#message").input_value() == text
    assert page.locator("#transcript > li.msg-you").count() == 0

    page.unroute("**/api/interviews/*/turns")
    page.get_by_role("button", name="Retry", exact=True).click()
    page.locator(f"{LAST_REPLY}[data-index]").wait_for()
    assert error.is_hidden()
    assert page.locator("#transcript > li.msg-you .bubble").first.inner_text() == text
    assert page.locator("#message").input_value() == ""


def test_network_failure_and_over_limit_keep_text(visit: Visit) -> None:
    page = visit.page
    start_interview(visit, "interviewer")
    page.route("**/api/interviews/*/turns", lambda route: route.abort())
    page.locator("#message").fill("What drew you to this role?")
    page.locator("#message").press("Enter")
    page.locator("#turn-error").wait_for()
    assert "Can't reach" in page.locator("#turn-error").inner_text()
    assert page.locator("#message").input_value() == "What drew you to this role?"
    page.unroute("**/api/interviews/*/turns")

    too_long = "word " * 1000
    page.locator("#message").fill(too_long)
    assert "over" in (page.locator("#char-count").get_attribute("class") or "")
    page.locator("#message").press("Enter")
    assert "the limit is 4,000" in page.locator("#turn-error").inner_text()
    assert page.locator("#message").input_value() == too_long

    # Blank text is refused before anything is sent.
    page.locator("#message").fill("   \n  ")
    page.locator("#message").press("Enter")
    assert "empty" in page.locator("#turn-error").inner_text()


def _sse(*events: tuple[str, dict[str, Any]]) -> str:
    return "".join(f"event: {kind}\r\ndata: {json.dumps(data)}\r\n\r\n" for kind, data in events)


def _turn(index: int, speaker: str, text: str, status: str = "complete") -> dict[str, Any]:
    return {
        "index": index, "speaker": speaker, "text": text, "status": status,
        "fallback": False, "created_at": "2026-01-05T10:00:00Z", "grades": [],
    }  # fmt: skip


def test_final_text_replaces_tokens_and_interrupted_reply_retries(visit: Visit) -> None:
    page = visit.page
    start_interview(visit, "candidate")
    first = _sse(
        ("turn", _turn(1, "candidate", "Hello there.")),
        ("token", {"text": "Garbled "}),
        ("token", {"text": "half-reply"}),
        ("done", _turn(2, "interviewer", "Thanks. What made you apply?")),
    )
    page.route(
        "**/api/interviews/*/turns",
        lambda route: route.fulfill(status=200, content_type="text/event-stream", body=first),
    )
    page.locator("#message").fill("Hello there.")
    page.locator("#message").press("Enter")
    page.locator(f"{LAST_REPLY}[data-index='2']").wait_for()
    assert page.locator(f"{LAST_REPLY} .bubble").inner_text() == "Thanks. What made you apply?"

    broken = _sse(
        ("turn", _turn(3, "candidate", "I like hard problems.")),
        ("token", {"text": "Tell me "}),
        (
            "error",
            {
                "message": "The model stopped mid-reply. The reply was saved as incomplete.",
                "retry_url": "/api/interviews/x/turns/4/retry",
                "turn_index": 4,
            },
        ),
    )
    page.unroute("**/api/interviews/*/turns")
    page.route(
        "**/api/interviews/*/turns",
        lambda route: route.fulfill(status=200, content_type="text/event-stream", body=broken),
    )
    page.locator("#message").fill("I like hard problems.")
    page.locator("#message").press("Enter")
    page.locator("#turn-error").wait_for()
    assert "stopped mid-reply" in page.locator("#turn-error").inner_text()
    reply = page.locator(LAST_REPLY)
    assert "interrupted" in reply.locator(".msg-status").inner_text()
    assert reply.locator(".bubble").inner_text().strip() == "Tell me"
    # The human turn was saved, so the text box is not refilled (no duplicate turn).
    assert page.locator("#message").input_value() == ""

    fixed = _sse(
        ("token", {"text": "Tell me about one."}),
        ("done", _turn(4, "interviewer", "Tell me about one.")),
    )
    page.route(
        "**/turns/4/retry",
        lambda route: route.fulfill(status=200, content_type="text/event-stream", body=fixed),
    )
    reply.get_by_role("button", name="Retry reply").click()
    page.locator(
        f"{LAST_REPLY}:not(:has(.msg-status)) .bubble", has_text="Tell me about one."
    ).wait_for()
    assert page.locator("#turn-error").is_hidden()


# --- reading without JavaScript, and signing in ----------------------------------------------


def _finished_interview(server: Server) -> str:
    with server.api() as api:
        personas = api.get("/api/personas", params={"side": "interviewer"}).json()
        persona_id = personas[0]["id"]
        created = api.post("/api/interviews", json={"persona_id": persona_id})
        assert created.status_code == 201, created.text
        interview_id: str = created.json()["id"]
        turn = api.post(
            f"/api/interviews/{interview_id}/turns",
            json={"text": "I led a migration at Parcelly that cut costs by a third."},
        )
        assert turn.status_code == 200, turn.text
        assert api.post(f"/api/interviews/{interview_id}/finish").status_code == 200
        return interview_id


def test_report_and_history_read_without_javascript(
    browser: Any, server: Server, screenshots: Path
) -> None:
    interview_id = _finished_interview(server)
    visit = Visit(browser, server, PHONE, java_script_enabled=False)
    try:
        # Both sides' personas are listed, and the plain form starts an interview.
        visit.go("/")
        assert visit.page.locator(".persona-group").nth(1).is_visible()
        hiring = visit.page.locator('.persona-group[data-side="interviewer"] .persona-card')
        hiring.first.click()
        visit.page.get_by_role("button", name="Start interview").click()
        visit.page.wait_for_url("**/interviews/*")
        assert visit.page.locator("#empty-hint").is_visible()

        visit.go(f"/interviews/{interview_id}/report")
        assert visit.page.locator(".bar-chart svg").count() >= 1
        assert visit.page.locator(".line-chart svg.line-plot").count() == 1
        assert visit.page.get_by_role("heading", name="Score by rubric").is_visible()
        visit.go("/history")
        assert visit.page.locator("table.list tbody tr").count() >= 1
        assert visit.outside_requests() == []
    finally:
        visit.close()


def test_login_with_api_key(browser: Any, keyed_server: Server, screenshots: Path) -> None:
    visit = Visit(browser, keyed_server, DESKTOP)
    page = visit.page
    try:
        visit.go("/history")
        page.wait_for_url("**/login?next=**")
        visit.shoot(screenshots, "login")
        page.get_by_label("API key").fill("not-the-key")
        page.get_by_role("button", name="Sign in").click()
        assert "not valid" in page.get_by_role("alert").inner_text()
        page.get_by_label("API key").fill(API_KEY)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/history")
        assert page.get_by_role("heading", name="Your practice history").is_visible()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login**")
        assert visit.outside_requests() == []
    finally:
        visit.close()
