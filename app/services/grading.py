"""Grading a transcript someone sends, without storing anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.grading.grader import Grader
from app.grading.models import Grade, Rubric
from app.grading.signals import session_signals
from app.interview.errors import InvalidInput
from app.interview.models import Side, Turn
from app.services.runtime import Runtime

MAX_TEXT = 20_000


@dataclass(frozen=True)
class GradedTurn:
    index: int
    speaker: Side
    grades: list[Grade]


@dataclass(frozen=True)
class TranscriptGrades:
    turns: list[GradedTurn]
    session_grades: list[Grade]
    signals: dict[str, Any]


class GradingService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def rubrics_for(self, human_side: Side, rubric_ids: list[str] | None) -> list[Rubric]:
        return self.runtime.rubrics.choose(
            human_side, rubric_ids, field="rubrics", why=f"(human_side is '{human_side}')"
        )

    async def grade(
        self, human_side: Side, rubric_ids: list[str] | None, turns: list[Turn]
    ) -> TranscriptGrades:
        for number, turn in enumerate(turns):
            if not turn.text.strip():
                raise InvalidInput(f"turns[{number}].text", "must not be empty")
            if len(turn.text) > MAX_TEXT:
                raise InvalidInput(
                    f"turns[{number}].text",
                    f"is {len(turn.text)} characters; the limit is {MAX_TEXT}",
                )
        rubrics = self.rubrics_for(human_side, rubric_ids)
        grader = Grader(rubrics, self.runtime.models.judge)
        # One pass over the transcript: a few hundred turns grade in linear time.
        turn_grades, session_grades = await grader.grade_transcript(turns, human_side=human_side)
        by_turn: dict[int, list[Grade]] = {
            i: [] for i, turn in enumerate(turns) if turn.speaker == human_side
        }
        for grade in turn_grades:
            if grade.turn_index is not None:
                by_turn.setdefault(grade.turn_index, []).append(grade)
        graded = [
            GradedTurn(index=index, speaker=human_side, grades=grades)
            for index, grades in sorted(by_turn.items())
        ]
        phrases = sorted({p for r in rubrics for p in r.stock_phrases})
        signals = session_signals(turns, human_side, stock_phrases=phrases)
        return TranscriptGrades(list(graded), list(session_grades), dict(signals))
