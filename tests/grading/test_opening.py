"""Start-with-their-story grades the interviewer's opening question and nothing after it."""

from __future__ import annotations

import pytest

from app.config import PROJECT_ROOT
from app.grading.grader import Grader
from app.grading.rubrics import RubricCatalog
from app.grading.signals import transcript_signals, turn_signals
from app.interview.models import Turn

CATALOG = RubricCatalog.from_dir(PROJECT_ROOT / "rubrics")
STORY = CATALOG.get("start-with-their-story")
ANSWER = (
    "I taught maths for three years, then built a timetabling tool for the school and realised "
    "I liked the software more than the marking."
)
LATER = "How did you handle the on-call rota at your last job?"


async def story_scores(turns: list[Turn]) -> dict[int, int | None]:
    """The story rubric's score on each interviewer turn, graded the way a transcript is."""
    grades, _ = await Grader([STORY], None).grade_transcript(turns, human_side="interviewer")
    return {g.turn_index: g.score for g in grades if g.turn_index is not None}


async def test_the_ai_candidate_speaks_first_then_only_the_opening_question_is_graded() -> None:
    turns = [
        Turn("candidate", "Hey, great to meet you!"),
        Turn("interviewer", "Great to meet you too. What pulled you from teaching into data?"),
        Turn("candidate", ANSWER),
        Turn("interviewer", LATER),
        Turn("candidate", "We had a weekly rota with a shadow week for new starters."),
        Turn("interviewer", "Which databases have you run in production?"),
    ]
    scores = await story_scores(turns)
    assert scores[1] is not None and scores[1] >= 4
    assert scores[3] is None and scores[5] is None


async def test_the_human_opens_then_later_questions_are_not_applicable() -> None:
    turns = [
        Turn("interviewer", "Thanks for coming in. What pulled you from chemistry into code?"),
        Turn("candidate", ANSWER),
        Turn("interviewer", LATER),
        Turn("candidate", "We had a weekly rota with a shadow week for new starters."),
    ]
    scores = await story_scores(turns)
    assert scores[0] is not None and scores[0] >= 4
    assert scores[2] is None


async def test_a_weak_opening_is_still_graded_and_the_next_question_is_not() -> None:
    turns = [
        Turn("interviewer", "How many years of Python do you have?"),
        Turn("candidate", ANSWER),
        Turn("interviewer", "So what got you from teaching into software?"),
    ]
    scores = await story_scores(turns)
    assert scores[0] is not None and scores[0] <= 2
    assert scores[2] is None  # a better question later does not re-open the interview


async def test_a_pleasantry_is_not_the_opening_question() -> None:
    turns = [
        Turn("interviewer", "Hi Sam, how are you doing today?"),
        Turn("candidate", "Good, thanks. A little nervous, to be honest!"),
        Turn("interviewer", "Totally normal. So what got you from teaching into software?"),
        Turn("candidate", ANSWER),
        Turn("interviewer", LATER),
    ]
    scores = await story_scores(turns)
    assert scores == {0: None, 2: scores[2], 4: None}
    assert scores[2] is not None and scores[2] >= 4


async def test_no_question_in_the_first_two_turns_means_no_opening_to_grade() -> None:
    turns = [
        Turn("interviewer", "Welcome. Let me start with a word about the team."),
        Turn("candidate", "Sounds good."),
        Turn("interviewer", "We run routing for 300 drivers across the north of England."),
        Turn("candidate", "That's a big fleet."),
        Turn("interviewer", "What pulled you from teaching into data?"),
    ]
    assert set((await story_scores(turns)).values()) == {None}


@pytest.mark.parametrize("first", ["candidate", "interviewer"])
def test_opening_question_signal_is_counted_per_speaker(first: str) -> None:
    other = "interviewer" if first == "candidate" else "candidate"
    turns = [
        Turn(first, "Hello! What got you into this line of work?"),  # type: ignore[arg-type]
        Turn(other, "Hi! How did you end up hiring for this team?"),  # type: ignore[arg-type]
        Turn(first, "What would you change first?"),  # type: ignore[arg-type]
    ]
    batch = transcript_signals(turns)
    assert [s["opening_question"] for s in batch] == [True, True, False]
    assert [turn_signals(turns, i)["opening_question"] for i in range(3)] == [True, True, False]
