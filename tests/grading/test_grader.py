"""The grader: every applicable rubric per human turn, signals always, the judge when able."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from app.config import Settings
from app.grading.grader import Grader
from app.grading.models import Rubric
from app.grading.rubrics import RubricCatalog
from app.interview.errors import InvalidInput
from app.interview.models import Turn
from app.llm.base import ChatRequest
from app.llm.scripted import ScriptedModel

ANCHORS = {1: "poor at this", 2: "weak at this", 3: "fair at this", 4: "good at this",
           5: "excellent at this"}


def rubric(rubric_id: str, **fields: Any) -> Rubric:
    data: dict[str, Any] = {
        "id": rubric_id,
        "title": rubric_id.replace("-", " ").capitalize(),
        "applies_to": "interviewer",
        "scope": "turn",
        "criterion": f"How well does the turn do {rubric_id}?",
        "anchors": ANCHORS,
        "exemplar": "So the rollback scared you more than the outage?",
        "tip": f"A tip for {rubric_id}, specific and short.",
    }
    data.update(fields)
    return Rubric.model_validate(data)


LISTEN = rubric(
    "listen-actively",
    applies_when="has_partner_turn",
    scoring={"base": 2, "rules": [{"when": "reflects", "add": 2, "reason": "reflects"},
                                  {"when": "question_only", "add": -1, "reason": "only asks"}]},
    caps=[{"when": "questions_in_turn >= 3", "max_score": 3, "reason": "three or more questions"}],
)
CONVERSATION = rubric(
    "conversation-not-interrogation",
    scoring={"base": 3, "rules": [{"when": "reflects", "add": 1},
                                  {"when": "stacked_questions", "add": -1}]},
    caps=[{"when": "questions_in_turn >= 4", "max_score": 2, "reason": "fires four questions"}],
)
STORY = rubric(
    "start-with-their-story",
    applies_when="is_opening",
    scoring={"base": 2, "rules": [{"when": "story_question", "add": 3}]},
)
VISION = rubric(
    "share-your-vision",
    scope="session",
    scoring={"base": 1, "rules": [{"when": "vision_turns >= 1", "add": 2}]},
)
CANDIDATE = rubric("specific-enthusiasm", applies_to="candidate")
RUBRICS = [LISTEN, CONVERSATION, STORY, VISION, CANDIDATE]

TURNS = [
    Turn("interviewer", "How did you end up in logistics software?"),
    Turn("candidate", "I fixed routing spreadsheets at a courier firm, and the rollback in 2019 "
                      "scared me more than the outage itself."),
    Turn("interviewer", "So the rollback scared you more than the outage. What changed after it?"),
    Turn("candidate", "We added canary releases and a kill switch, and I wrote the runbook."),
    Turn("interviewer", "Why? When? Who approved it? What did it cost?"),
    Turn("candidate", "Last spring; my manager Priya; about two weeks of work."),
]


class RubricJudge(ScriptedModel):
    """A judge fake that answers per rubric and records how many calls were in flight at once."""

    def __init__(self, answers: dict[str, dict[str, Any]], *, delay: float = 0.0) -> None:
        super().__init__(model="fake-judge", can_judge=True)
        self.answers = answers
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0

    async def complete_json(
        self, request: ChatRequest, schema: dict[str, Any], *, name: str
    ) -> dict[str, Any]:
        self.requests.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return dict(self.answers[request.metadata["rubric_id"]])
        finally:
            self.in_flight -= 1


def answer(quote: str, score: int | str = 5) -> dict[str, Any]:
    return {"evidence": [quote], "rationale": "The judge's reason.", "score": score}


async def test_signals_only_grades_every_turn_rubric_of_the_side_with_na() -> None:
    grader = Grader(RUBRICS, None)
    grades = await grader.grade_turn(TURNS, 2, human_side="interviewer")
    assert [g.rubric_id for g in grades] == [LISTEN.id, CONVERSATION.id, STORY.id]
    by_id = {g.rubric_id: g for g in grades}
    assert by_id[STORY.id].score is None  # the opening is over
    assert by_id[LISTEN.id].score == 4  # reflects the rollback detail
    assert all(g.method == "signals" and g.model is None for g in grades)
    assert all(g.turn_index == 2 for g in grades)
    assert by_id[LISTEN.id].tip == LISTEN.tip
    assert by_id[LISTEN.id].rationale.endswith("Scored from conversation signals.")
    assert by_id[LISTEN.id].evidence and by_id[LISTEN.id].evidence in TURNS[2].text


async def test_a_model_that_cannot_judge_is_not_asked() -> None:
    model = ScriptedModel(can_judge=False)
    grades = await Grader(RUBRICS, model).grade_turn(TURNS, 0, human_side="interviewer")
    assert model.requests == []
    assert all(g.method == "signals" for g in grades)
    assert {g.rubric_id: g.score for g in grades}[STORY.id] == 5


async def test_judge_grades_each_applicable_rubric_once_concurrently() -> None:
    judge = RubricJudge(
        {LISTEN.id: answer("the rollback scared you", 5),
         CONVERSATION.id: answer("What changed after it?", 4)},
        delay=0.01,
    )
    grades = await Grader(RUBRICS, judge).grade_turn(TURNS, 2, human_side="interviewer")
    asked = sorted(r.metadata["rubric_id"] for r in judge.requests)
    assert asked == [CONVERSATION.id, LISTEN.id]  # N/A rubric: no call
    assert judge.most_in_flight == 2
    by_id = {g.rubric_id: g for g in grades}
    assert by_id[LISTEN.id].score == 5 and by_id[LISTEN.id].method == "llm+signals"
    assert by_id[LISTEN.id].model == "fake-judge"
    assert by_id[CONVERSATION.id].score == 4
    assert by_id[STORY.id].score is None and by_id[STORY.id].method == "signals"
    assert all(r.purpose == "judge" and r.temperature == 0 for r in judge.requests)


async def test_caps_hold_whatever_the_judge_says() -> None:
    judge = RubricJudge({LISTEN.id: answer("Who approved it?"),
                         CONVERSATION.id: answer("Why? When? Who approved it?")})
    grades = await Grader(RUBRICS, judge).grade_turn(TURNS, 4, human_side="interviewer")
    by_id = {g.rubric_id: g for g in grades}
    assert by_id[CONVERSATION.id].score == 2
    assert by_id[CONVERSATION.id].method == "llm+signals"
    assert "fires four questions" in by_id[CONVERSATION.id].rationale
    assert by_id[LISTEN.id].score == 3 and "three or more questions" in by_id[LISTEN.id].rationale


async def test_judge_failure_falls_back_to_the_signals_grade() -> None:
    judge = RubricJudge({LISTEN.id: {"nonsense": True}, CONVERSATION.id: answer("not said")})
    grades = await Grader(RUBRICS, judge).grade_turn(TURNS, 2, human_side="interviewer")
    by_id = {g.rubric_id: g for g in grades}
    signals_only = {g.rubric_id: g for g in
                    await Grader(RUBRICS, None).grade_turn(TURNS, 2, human_side="interviewer")}
    for rubric_id in (LISTEN.id, CONVERSATION.id):
        assert by_id[rubric_id].method == "signals"
        assert by_id[rubric_id].score == signals_only[rubric_id].score
        assert "Judge answer not used" in by_id[rubric_id].rationale
    assert len([r for r in judge.requests if r.metadata["rubric_id"] == LISTEN.id]) == 2


async def test_only_the_human_sides_turns_are_graded() -> None:
    grader = Grader(RUBRICS, None)
    with pytest.raises(InvalidInput, match="index"):
        await grader.grade_turn(TURNS, 1, human_side="interviewer")
    with pytest.raises(InvalidInput, match="outside"):
        await grader.grade_turn(TURNS, 9, human_side="interviewer")
    grades = await grader.grade_turn(TURNS, 1, human_side="candidate")
    assert [g.rubric_id for g in grades] == [CANDIDATE.id]


async def test_session_rubrics_are_graded_from_session_signals() -> None:
    turns = [*TURNS, Turn("interviewer", "We want same-day routing in every city by 2027. "
                                          "What's your take on that?")]
    grades = await Grader(RUBRICS, None).grade_session(turns, human_side="interviewer")
    assert [g.rubric_id for g in grades] == [VISION.id]
    assert grades[0].score == 3 and grades[0].turn_index is None
    assert grades[0].method == "signals"
    no_vision = await Grader(RUBRICS, None).grade_session(TURNS, human_side="interviewer")
    assert no_vision[0].score == 1


async def test_session_judge_reads_the_whole_transcript() -> None:
    turns = [*TURNS, Turn("interviewer", "We want same-day routing in every city by 2027.")]
    judge = RubricJudge({VISION.id: answer("same-day routing in every city", 4)})
    [grade] = await Grader(RUBRICS, judge).grade_session(turns, human_side="interviewer")
    assert grade.score == 4 and grade.method == "llm+signals"
    assert judge.requests[0].metadata == {"rubric_id": VISION.id, "turn_index": None}
    user = judge.requests[0].messages[1]["content"]
    assert all(t.text.split()[0] in user for t in turns)


async def test_session_without_the_humans_turns_is_not_applicable() -> None:
    grades = await Grader(RUBRICS, None).grade_session(TURNS[1:2], human_side="interviewer")
    assert grades[0].score is None


async def test_grade_transcript_grades_every_human_turn_in_order() -> None:
    judge = RubricJudge({LISTEN.id: answer("the rollback scared you", 4),
                         CONVERSATION.id: answer("What", 3),
                         STORY.id: answer("How did you end up in logistics software?", 5),
                         VISION.id: {"evidence": [], "rationale": "No vision.", "score": "N/A"}})
    turn_grades, session = await Grader(RUBRICS, judge).grade_transcript(
        TURNS, human_side="interviewer"
    )
    assert sorted({g.turn_index for g in turn_grades}) == [0, 2, 4]
    assert [g.turn_index for g in turn_grades] == sorted(g.turn_index for g in turn_grades)
    assert len(turn_grades) == 9 and len(session) == 1


async def test_a_few_hundred_turns_grade_quickly_with_signals() -> None:
    turns = []
    for i in range(150):
        turns.append(Turn("interviewer", f"You said the migration {i} slipped. Why did the "
                                          f"team at site {i} push back?"))
        turns.append(Turn("candidate", f"Site {i} ran a night shift, so the cutover at {i}:00 "
                                        "clashed with their busiest hour."))
    started = time.perf_counter()
    turn_grades, session = await Grader(RUBRICS, None).grade_transcript(
        turns, human_side="interviewer"
    )
    elapsed = time.perf_counter() - started
    assert len(turn_grades) == 150 * 3 and len(session) == 1
    assert {g.turn_index for g in turn_grades} == set(range(0, 300, 2))
    assert all(g.method == "signals" for g in turn_grades)
    assert elapsed < 30  # generous: a guard against quadratic blow-ups, not a benchmark


async def test_shipped_rubric_caps_a_four_question_turn_judged_five() -> None:
    catalog = RubricCatalog.from_dir(Settings().rubrics_dir)
    rubric = catalog.get("conversation-not-interrogation")
    judge = RubricJudge({rubric.id: answer("Who approved it? What did it cost?", 5)})
    [grade] = await Grader([rubric], judge).grade_turn(TURNS, 4, human_side="interviewer")
    assert grade.method == "llm+signals" and grade.score is not None and grade.score < 5
    assert grade.score <= 3 and "Capped" in grade.rationale
