"""Grade the human's turns and session on every rubric: signals always, the judge when able."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from app.grading.evidence import screen
from app.grading.judge import Excerpt, Judge, session_excerpt, signals_only, turn_excerpt
from app.grading.models import Grade, Rubric
from app.grading.scoring import applies, cap_score, signals_grade
from app.grading.signals import session_signals, turn_signals
from app.interview.errors import InvalidInput
from app.interview.models import SIDES, HiddenFact, Side, Turn, other_side
from app.llm.base import ChatModel

TURN_CONCURRENCY = 4  # turns graded at once by grade_transcript when a judge is in play
SET_ASIDE_NOTE = "Text addressed to the grader was set aside."


def ceiling(
    rubric: Rubric, signal_sets: Sequence[Mapping[str, Any]], score: int
) -> tuple[int, str]:
    """``score`` under every cap that any of ``signal_sets`` triggers, and why it was lowered."""
    reasons: list[str] = []
    for signals in signal_sets:
        score, bit = cap_score(rubric, signals, score)
        reasons += [r for r in bit if r not in reasons]
    return score, f"Capped {'; '.join(reasons)}." if reasons else ""


def _na(rubric: Rubric, index: int | None, why: str) -> Grade:
    return Grade(rubric_id=rubric.id, score=None, rationale=why, tip=rubric.tip, turn_index=index)


class Grader:
    """Grades with signals alone, or with a judge model whose scores the signals bound."""

    def __init__(self, rubrics: Sequence[Rubric], judge: ChatModel | None) -> None:
        self.rubrics = list(rubrics)
        self.judge = Judge(judge) if judge is not None and judge.can_judge else None
        self._stock = {
            side: tuple(
                sorted({p for r in self.rubrics if r.applies_to == side for p in r.stock_phrases})
            )
            for side in SIDES
        }

    @property
    def method(self) -> str:
        return "llm+signals" if self.judge else "signals"

    @property
    def model_name(self) -> str | None:
        return self.judge.model_name if self.judge else None

    def for_side(self, side: Side, scope: str) -> list[Rubric]:
        return [r for r in self.rubrics if r.applies_to == side and r.scope == scope]

    async def grade_turn(
        self,
        turns: Sequence[Turn],
        index: int,
        *,
        human_side: Side,
        hidden_facts: Sequence[HiddenFact] = (),
    ) -> list[Grade]:
        """Grades of ``turns[index]`` (the human's) on every turn rubric of that side, N/A too."""
        if not 0 <= index < len(turns):
            raise InvalidInput("index", f"{index} is outside the transcript of {len(turns)} turns")
        turn = turns[index]
        if turn.speaker != human_side:
            raise InvalidInput(
                "index", f"turn {index} is the {turn.speaker}'s; only the {human_side}'s are graded"
            )
        rubrics = self.for_side(human_side, "turn")
        if not rubrics:
            return []
        facts = list(hidden_facts)
        stock = self._stock[human_side]
        written = turn_signals(turns, index, hidden_facts=facts, stock_phrases=stock)
        screened = screen(turn.text)
        signals = written
        if screened.flagged:
            # Grade the turn as if the text aimed at the grader were not there; caps still
            # look at the turn as written.
            cleaned = [*turns[:index], replace(turn, text=screened.clean or ".")]
            signals = turn_signals(cleaned, index, hidden_facts=facts, stock_phrases=stock)
        partner_text = next(
            (t.text for t in reversed(turns[:index]) if t.speaker == other_side(human_side)), ""
        )
        excerpt = turn_excerpt(turns, index) if self.judge else None
        jobs = [
            self._grade_one(
                rubric,
                signals,
                written if screened.flagged else None,
                screened.clean,
                partner_text,
                index,
                excerpt,
            )
            for rubric in rubrics
        ]
        return list(await asyncio.gather(*jobs))

    async def _grade_one(
        self,
        rubric: Rubric,
        signals: Mapping[str, Any],
        written: Mapping[str, Any] | None,
        text: str,
        partner_text: str,
        index: int | None,
        excerpt: Excerpt | None,
    ) -> Grade:
        """One rubric's grade. ``written`` holds the signals of the text as written when text
        aimed at the grader was set aside (``signals`` and ``text`` are then the cleaned turn)."""
        if not applies(rubric, signals, text):
            return _na(rubric, index, "Not applicable here.")
        base = signals_grade(rubric, dict(signals), text, partner_text)
        base = base.model_copy(update={"turn_index": index, "tip": base.tip or rubric.tip})
        if base.score is None:
            return signals_only(base, "")
        if written is not None:
            score, why = ceiling(rubric, [written], base.score)
            if not text.strip():
                score, why = 1, "The turn only addressed the grader."
            note = " ".join(filter(None, [base.rationale, why, SET_ASIDE_NOTE]))
            base = base.model_copy(update={"score": score, "rationale": note})
        if self.judge is None or excerpt is None or not text.strip():
            return signals_only(base, "")
        sets = [signals] if written is None else [signals, written]
        return await self.judge.grade(
            rubric, excerpt, fallback=base, ceiling=lambda score: ceiling(rubric, sets, score)
        )

    async def grade_session(
        self,
        turns: Sequence[Turn],
        *,
        human_side: Side,
        hidden_facts: Sequence[HiddenFact] = (),
    ) -> list[Grade]:
        """Grades of the session-scope rubrics for the human's side, from the whole transcript."""
        rubrics = self.for_side(human_side, "session")
        if not rubrics:
            return []
        if not any(t.speaker == human_side for t in turns):
            return [_na(r, None, f"The {human_side} has not spoken yet.") for r in rubrics]
        facts = list(hidden_facts)
        stock = self._stock[human_side]
        written = session_signals(turns, human_side, facts, stock_phrases=stock)
        flagged = any(screen(t.text).flagged for t in turns if t.speaker == human_side)
        cleaned = [
            replace(t, text=screen(t.text).clean or ".") if t.speaker == human_side else t
            for t in turns
        ]
        signals = (
            session_signals(cleaned, human_side, facts, stock_phrases=stock) if flagged else written
        )
        human_text = "\n".join(t.text for t in cleaned if t.speaker == human_side)
        partner_text = "\n".join(t.text for t in cleaned if t.speaker != human_side)
        excerpt = session_excerpt(turns, side=human_side) if self.judge else None
        jobs = [
            self._grade_one(
                rubric, signals, written if flagged else None, human_text, partner_text, None,
                excerpt,
            )
            for rubric in rubrics
        ]
        return list(await asyncio.gather(*jobs))

    async def grade_transcript(
        self,
        turns: Sequence[Turn],
        *,
        human_side: Side,
        hidden_facts: Sequence[HiddenFact] = (),
    ) -> tuple[list[Grade], list[Grade]]:
        """Every human turn's grades (in order) and the session grades."""
        indices = [i for i, t in enumerate(turns) if t.speaker == human_side]
        limit = asyncio.Semaphore(TURN_CONCURRENCY if self.judge else 1)

        async def one(index: int) -> list[Grade]:
            async with limit:
                return await self.grade_turn(
                    turns, index, human_side=human_side, hidden_facts=hidden_facts
                )

        per_turn = await asyncio.gather(*(one(i) for i in indices))
        session = await self.grade_session(turns, human_side=human_side, hidden_facts=hidden_facts)
        return [g for grades in per_turn for g in grades], session
