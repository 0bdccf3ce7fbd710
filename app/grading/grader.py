"""Grade the human's turns and session on every rubric: signals always, the judge when able."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from app.grading.evidence import screen
from app.grading.judge import Excerpt, Judge, session_excerpt, signals_only, turn_excerpt
from app.grading.models import Grade, Rubric
from app.grading.scoring import applies, cap_score, signals_grade
from app.grading.signals import Signals, TranscriptAnalysis, session_signals, turn_signals
from app.grading.wording import NOT_APPLICABLE, capped
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
    start = score
    for signals in signal_sets:
        score, bit = cap_score(rubric, signals, score)
        reasons += [r for r in bit if r not in reasons]
    if score == start:
        return score, ""
    return score, capped(score, reasons) or f"Capped at {score} by the rubric."


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
        facts = list(hidden_facts)
        stock = self._stock[human_side]
        turn = turns[index]

        def signals_as(text: str) -> Signals:
            said = [*turns[:index], replace(turn, text=text)]
            return turn_signals(said, index, hidden_facts=facts, stock_phrases=stock)

        return await self._grade_turn(
            turns,
            index,
            human_side,
            lambda: turn_signals(turns, index, hidden_facts=facts, stock_phrases=stock),
            signals_as,
        )

    async def _grade_turn(
        self,
        turns: Sequence[Turn],
        index: int,
        human_side: Side,
        written_signals: Callable[[], Signals],
        signals_as: Callable[[str], Signals],
    ) -> list[Grade]:
        """Grades of one human turn, given how to get its signals as written and as cleaned."""
        turn = turns[index]
        if turn.speaker != human_side:
            raise InvalidInput(
                "index", f"turn {index} is the {turn.speaker}'s; only the {human_side}'s are graded"
            )
        rubrics = self.for_side(human_side, "turn")
        if not rubrics:
            return []
        written = written_signals()
        screened = screen(turn.text)
        signals = written
        if screened.flagged:
            # Grade the turn as if the text aimed at the grader were not there; caps still
            # look at the turn as written.
            signals = signals_as(screened.clean or ".")
        partner = other_side(human_side)
        partner_text = next(
            (turns[j].text for j in range(index - 1, -1, -1) if turns[j].speaker == partner), ""
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
            return _na(rubric, index, NOT_APPLICABLE)
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
        """Every human turn's grades (in order) and the session grades.

        The transcript's signals are worked out in one pass, so a few hundred turns take
        linear time, not the quadratic time of calling ``grade_turn`` on each.
        """
        indices = [i for i, t in enumerate(turns) if t.speaker == human_side]
        limit = asyncio.Semaphore(TURN_CONCURRENCY if self.judge else 1)
        analysis = TranscriptAnalysis(
            turns, hidden_facts=list(hidden_facts), stock_phrases=self._stock[human_side]
        )

        async def one(index: int) -> list[Grade]:
            async with limit:
                return await self._grade_turn(
                    turns,
                    index,
                    human_side,
                    partial(analysis.signals, index),
                    partial(analysis.signals_as, index),
                )

        per_turn = await asyncio.gather(*(one(i) for i in indices))
        session = await self.grade_session(turns, human_side=human_side, hidden_facts=hidden_facts)
        return [g for grades in per_turn for g in grades], session
