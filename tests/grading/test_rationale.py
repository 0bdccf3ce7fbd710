"""Grade rationales read as a coach's words: no signal names, sums or debug numbers."""

from __future__ import annotations

import re

import pytest

from app.config import PROJECT_ROOT
from app.grading.calibrate import load_labels
from app.grading.grader import SET_ASIDE_NOTE, Grader
from app.grading.models import Grade
from app.grading.rubrics import RubricCatalog
from app.grading.signals import KNOWN_SIGNALS
from app.grading.wording import SIGNALS_NOTE, TARGETS, Reason, rationale
from app.interview.models import Turn

CATALOG = RubricCatalog.from_dir(PROJECT_ROOT / "rubrics")
LABELS = load_labels(PROJECT_ROOT / "calibration" / "labels.yaml")
NAMES = sorted((re.escape(n) for n in KNOWN_SIGNALS), key=len, reverse=True)
SIGNAL_NAME = re.compile(r"\b(?:" + "|".join(NAMES) + r")\b")
DEBUG = re.compile(r"\([+-]?\d|\baim for\b|\bmissed:|[<>=]=?\s*\d|\b\d+(?:\.\d+)\b|_")


def debug_bits(text: str) -> list[str]:
    """Whatever in ``text`` reads like grader internals rather than plain words."""
    found = [m.group() for m in DEBUG.finditer(text)]
    # One-word signal names ("callback", "words") are ordinary English; compound ones are not.
    found += [m.group() for m in SIGNAL_NAME.finditer(text) if "_" in m.group()]
    return found


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def plain_enough(grade: Grade) -> None:
    text = grade.rationale
    assert not debug_bits(text), (grade.rubric_id, text)
    if grade.score is None:
        assert text == "Not applicable here."
        return
    assert text.endswith(SIGNALS_NOTE), text
    said = text.removesuffix(SIGNALS_NOTE).strip().removesuffix(SET_ASIDE_NOTE).strip()
    said = re.sub(r"\s*Capped at \d because [^.]*\.", "", said)
    assert 1 <= len(sentences(said)) <= 2, text
    assert said[:1].isupper() and len(said) <= 300, text


async def test_every_signals_grade_on_the_labelled_set_reads_as_plain_words() -> None:
    grader = Grader(CATALOG.list(), None)
    for item in LABELS:
        turns = item.turns()
        rubric = CATALOG.get(item.rubric_id)
        if rubric.scope == "session":
            grades = await grader.grade_session(turns, human_side=item.human_side)
        else:
            grades = await grader.grade_turn(turns, len(turns) - 1, human_side=item.human_side)
        for grade in grades:
            plain_enough(grade)


async def grade_last(rubric_id: str, *pairs: tuple[str, str]) -> Grade:
    turns = [Turn(s, t) for s, t in pairs]  # type: ignore[arg-type]
    grader = Grader([CATALOG.get(rubric_id)], None)
    grades = await grader.grade_turn(turns, len(turns) - 1, human_side=turns[-1].speaker)
    return grades[0]


ANSWER = (
    "At Ferrous the hardest thing was the billing migration. The first cutover failed at 2am, "
    "so we had to roll back, and the rollback took three days."
)


async def test_an_interviewer_who_ignores_the_answer_hears_it_plainly() -> None:
    grade = await grade_last(
        "listen-actively",
        ("interviewer", "Tell me about a hard project."),
        ("candidate", ANSWER),
        ("interviewer", "What are your salary expectations?"),
    )
    assert grade.score is not None and grade.score <= 2
    assert grade.rationale.startswith(
        "You moved to a new question without picking up anything they said"
    )
    plain_enough(grade)


async def test_a_candidate_who_does_not_connect_hears_why() -> None:
    grade = await grade_last(
        "personal-touch",
        ("interviewer", "We're rebuilding routing for our rural depots this year."),
        ("candidate", "Sure. I'm a team player and a fast learner."),
        ("interviewer", "Our drivers in Cumbria lose an hour a day to bad routes."),
        ("candidate", "I have worked with many different teams and I really enjoy new things."),
    )
    assert grade.score is not None and grade.score <= 3
    assert grade.rationale.startswith(
        "It doesn't connect to what they said; there's no callback to something they said earlier."
    )
    plain_enough(grade)


async def test_a_pitch_without_an_approach_says_so_in_words() -> None:
    grade = await grade_last(
        "solve-dont-sell",
        ("interviewer", "Our late deliveries doubled this quarter. How would you help?"),
        (
            "candidate",
            "I'm a proven leader with strong communication skills and I'm results-driven, "
            "so I'm sure I can add a lot of value to your team from day one.",
        ),
    )
    assert grade.score is not None and grade.score <= 2
    assert "you didn't say how you'd approach their problem" in grade.rationale
    plain_enough(grade)


def test_every_shipped_rule_and_cap_has_a_reason_and_every_target_has_words() -> None:
    for rubric in CATALOG.list():
        for rule in rubric.scoring.rules:
            assert rule.reason and not debug_bits(rule.reason), (rubric.id, rule.when)
        for cap in rubric.caps:
            assert cap.reason and not debug_bits(cap.reason), (rubric.id, cap.when)
        for name, bounds in rubric.signals.items():
            below, above = TARGETS[name]
            assert below or "min" not in bounds, (rubric.id, name)
            assert above or "max" not in bounds, (rubric.id, name)


@pytest.mark.parametrize(
    ("score", "first"), [(1, "You stacked"), (4, "You reflected")]
)
def test_low_scores_lead_with_the_fix_and_high_ones_with_what_worked(
    score: int, first: str
) -> None:
    good = [Reason("you reflected the outage", frozenset({"reflects"}))]
    bad = [
        Reason("you stacked questions", frozenset({"stacked_questions"})),
        Reason("you asked three or more questions", frozenset({"questions_in_turn"})),
    ]
    text = rationale(good, bad, score=score)
    assert text.startswith(first)
    assert "three or more" not in text  # the same point is not made twice
    assert len(sentences(text)) == 2
