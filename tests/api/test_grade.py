"""POST /api/grade: grading a transcript a caller sends, storing nothing."""

from __future__ import annotations

import httpx

TRANSCRIPT = [
    {"speaker": "interviewer", "text": "Thanks for coming in. How did you end up in logistics?"},
    {"speaker": "candidate", "text": "By accident: I fixed a routing bug at a food startup."},
    {
        "speaker": "interviewer",
        "text": "A routing bug pulled you in? What about fixing it hooked you?",
    },
    {"speaker": "candidate", "text": "Seeing drivers get home an hour earlier the next week."},
    {"speaker": "interviewer", "text": "What's your notice period? Salary? Can you relocate?"},
]


async def test_grades_each_human_turn_and_the_session(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/grade", json={"human_side": "interviewer", "turns": TRANSCRIPT}
    )
    assert response.status_code == 200
    body = response.json()
    assert [t["index"] for t in body["turns"]] == [0, 2, 4]
    assert all(t["speaker"] == "interviewer" for t in body["turns"])
    rubric_ids = {g["rubric_id"] for t in body["turns"] for g in t["grades"]}
    assert "listen-actively" in rubric_ids
    for turn in body["turns"]:
        for grade in turn["grades"]:
            assert grade["turn_index"] == turn["index"]
            assert grade["method"] == "signals"
            assert grade["score"] is None or 1 <= grade["score"] <= 5
    assert {g["rubric_id"] for g in body["session_grades"]} >= {"share-your-vision"}
    assert set(body["signals"]["talk_share"]) == {"interviewer", "candidate"}
    assert "reflection_to_question_ratio" in body["signals"]
    assert (await client.get("/api/interviews")).json()["total"] == 0


async def test_rubrics_can_be_chosen(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/grade",
        json={"human_side": "interviewer", "rubrics": ["listen-actively"], "turns": TRANSCRIPT},
    )
    body = response.json()
    assert {g["rubric_id"] for t in body["turns"] for g in t["grades"]} == {"listen-actively"}
    assert body["session_grades"] == []


async def test_bad_requests_name_the_field(client: httpx.AsyncClient) -> None:
    unknown = await client.post(
        "/api/grade",
        json={"human_side": "interviewer", "rubrics": ["nope"], "turns": TRANSCRIPT},
    )
    assert unknown.status_code == 404 and "listen-actively" in unknown.json()["valid"]
    wrong_side = await client.post(
        "/api/grade",
        json={"human_side": "candidate", "rubrics": ["listen-actively"], "turns": TRANSCRIPT},
    )
    assert wrong_side.status_code == 422 and wrong_side.json()["field"] == "rubrics"
    empty = await client.post(
        "/api/grade",
        json={"human_side": "candidate", "turns": [{"speaker": "candidate", "text": " "}]},
    )
    assert empty.status_code == 422 and empty.json()["field"] == "turns[0].text"
    side = await client.post("/api/grade", json={"human_side": "boss", "turns": TRANSCRIPT})
    assert side.status_code == 422 and side.json()["field"] == "human_side"
    none = await client.post("/api/grade", json={"human_side": "candidate", "turns": []})
    assert none.status_code == 422 and none.json()["field"] == "turns"


async def test_a_long_transcript_is_fine(client: httpx.AsyncClient) -> None:
    turns = [TRANSCRIPT[i % 4] for i in range(300)]
    response = await client.post("/api/grade", json={"human_side": "candidate", "turns": turns})
    assert response.status_code == 200
    assert len(response.json()["turns"]) == 150
