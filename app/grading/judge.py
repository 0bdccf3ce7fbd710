"""The LLM judge: one rubric per call, evidence before score, checked before the score counts."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.grading.evidence import SET_ASIDE, check_quotes, screen
from app.grading.models import Grade, Rubric
from app.grading.wording import SIGNALS_NOTE
from app.interview.models import Side, Turn
from app.llm.base import ChatModel, ChatRequest, Message, ModelBadOutput, ModelError, Purpose

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
CONTEXT_TURNS = 6  # turns before the graded one that the judge reads
CONTEXT_CHARS = 1500  # each context turn is cut to this; the graded turn is shown whole
SESSION_CHARS = 16_000  # budget for a whole-session excerpt; older turns are left out first
RATIONALE_CHARS = 400  # a grade's rationale is one line, not an essay
QUOTE_CHARS = 280
_NA_WORDS = {"n/a", "na", "n.a.", "not applicable", "none", "null", ""}

# Keys in this order so that a model writing left to right commits to evidence before a score.
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "evidence": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "rationale": {"type": "string"},
        "score": {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 5},
                {"type": "string", "enum": ["N/A"]},
            ]
        },
    },
    "required": ["evidence", "rationale", "score"],
    "additionalProperties": False,
}


class Verdict(BaseModel):
    """The judge's answer, as validated data."""

    model_config = ConfigDict(extra="ignore")

    evidence: list[str] = Field(default_factory=list, max_length=6)
    rationale: str = Field("", max_length=2000)
    score: int | Literal["N/A"]

    @field_validator("evidence", mode="before")
    @classmethod
    def _quotes(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("score", mode="before")
    @classmethod
    def _score(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in _NA_WORDS):
            return "N/A"
        if isinstance(value, bool):
            raise ValueError("score must be an integer 1-5 or 'N/A', not true/false")
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or not 1 <= value <= 5:
            raise ValueError(f"score must be an integer 1-5 or 'N/A', got {value!r}")
        return value


class JudgeFailure(Exception):
    """The judge's answer cannot be used: ``reason`` says why in words fit for the grade's
    rationale; ``detail`` (backend errors, validation messages) goes to the log only."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ExcerptTurn:
    index: int
    speaker: Side
    shown: str  # what the judge reads: text for the grader replaced by a marker
    clean: str  # what quotes are checked against: text for the grader removed

    @property
    def line(self) -> str:
        data = json.dumps(
            {"index": self.index, "speaker": self.speaker, "text": self.shown}, ensure_ascii=False
        )
        # No literal angle brackets: a turn can never close the <transcript> tag around it.
        return data.replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass(frozen=True)
class Excerpt:
    """The part of a transcript the judge reads, and the turn it grades (None: the session)."""

    turns: tuple[ExcerptTurn, ...]
    side: Side
    graded_index: int | None
    omitted: int = 0
    set_aside: tuple[str, ...] = ()

    @property
    def graded_text(self) -> str:
        if self.graded_index is None:
            return "\n".join(t.clean for t in self.turns if t.speaker == self.side)
        return next(t.clean for t in self.turns if t.index == self.graded_index)

    @property
    def context_texts(self) -> list[str]:
        return [t.clean for t in self.turns if t.index != self.graded_index]

    @property
    def held(self) -> bool:
        """True when the graded text addressed the grader, so its score is held to signals."""
        return bool(self.set_aside)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _excerpt_turn(
    index: int, turn: Turn, limit: int | None
) -> tuple[ExcerptTurn, tuple[str, ...]]:
    screened = screen(turn.text)
    shown, clean = screened.shown, screened.clean
    if limit is not None:
        shown, clean = _cut(shown, limit), _cut(clean, limit)
    return ExcerptTurn(index, turn.speaker, shown, clean), screened.set_aside


def turn_excerpt(
    turns: Sequence[Turn], index: int, *, context_turns: int = CONTEXT_TURNS
) -> Excerpt:
    """The graded turn in full, after up to ``context_turns`` earlier turns (each cut short)."""
    start = max(0, index - context_turns)
    shown: list[ExcerptTurn] = []
    for position in range(start, index):
        shown.append(_excerpt_turn(position, turns[position], CONTEXT_CHARS)[0])
    graded, set_aside = _excerpt_turn(index, turns[index], None)
    shown.append(graded)
    return Excerpt(tuple(shown), turns[index].speaker, index, start, set_aside)


def session_excerpt(turns: Sequence[Turn], *, side: Side, budget: int = SESSION_CHARS) -> Excerpt:
    """The latest turns that fit in ``budget`` characters; the opening is kept when it fits."""
    picked: list[ExcerptTurn] = []
    set_aside: list[str] = []
    used = 0
    for index in range(len(turns) - 1, -1, -1):
        item, flagged = _excerpt_turn(index, turns[index], CONTEXT_CHARS)
        if used + len(item.shown) > budget and picked:
            break
        picked.append(item)
        used += len(item.shown)
        if item.speaker == side:
            set_aside.extend(flagged)
    picked.reverse()
    if picked and picked[0].index > 0:
        opening, _ = _excerpt_turn(0, turns[0], CONTEXT_CHARS)
        if used + len(opening.shown) <= budget + CONTEXT_CHARS:
            picked.insert(0, opening)
    omitted = len(turns) - len(picked)
    return Excerpt(tuple(picked), side, None, omitted, tuple(set_aside))


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text prompts; transcript text is JSON-escaped by ExcerptTurn
        keep_trailing_newline=False,
        trim_blocks=False,
    )


def render(name: str, **values: Any) -> str:
    return _templates().get_template(name).render(**values).strip()


Ceiling = Callable[[int], tuple[int, str]]
"""Bounds a judge's score by the signals: returns the allowed score and why it was lowered."""


class Judge:
    """Asks a model to grade one rubric, with one repair attempt, and checks the quotes."""

    def __init__(self, model: ChatModel, *, max_tokens: int = 400) -> None:
        self.model = model
        self.max_tokens = max_tokens

    @property
    def can_judge(self) -> bool:
        return bool(getattr(self.model, "can_judge", False))

    @property
    def model_name(self) -> str:
        return str(self.model.model)

    def messages(self, rubric: Rubric, excerpt: Excerpt) -> list[Message]:
        scope = "turn" if excerpt.graded_index is not None else "session"
        system = render(
            "judge_system.j2",
            rubric=rubric,
            side=excerpt.side,
            scope=scope,
            anchors=sorted(rubric.anchors.items()),
            set_aside=SET_ASIDE,
        )
        lines: list[str] = []
        previous = -1
        for turn in excerpt.turns:
            if turn.index > previous + 1:
                gap = turn.index - previous - 1
                lines.append(json.dumps({"note": f"{gap} turns left out for length"}))
            lines.append(turn.line)
            previous = turn.index
        user = render(
            "judge_user.j2",
            rubric=rubric,
            side=excerpt.side,
            lines=lines,
            graded_index=excerpt.graded_index,
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _request(
        self, messages: list[Message], rubric: Rubric, excerpt: Excerpt, purpose: Purpose
    ) -> ChatRequest:
        return ChatRequest(
            messages=messages,
            purpose=purpose,
            temperature=0.0,
            max_tokens=self.max_tokens,
            metadata={"rubric_id": rubric.id, "turn_index": excerpt.graded_index},
        )

    async def verdict(self, rubric: Rubric, excerpt: Excerpt) -> Verdict:
        """Ask once; if the answer is malformed, ask once more with a repair prompt."""
        messages = self.messages(rubric, excerpt)
        name = "rubric_verdict"
        raw: dict[str, Any] | None = None
        try:
            raw = await self.model.complete_json(
                self._request(messages, rubric, excerpt, "judge"), VERDICT_SCHEMA, name=name
            )
            return Verdict.model_validate(raw)
        except ModelBadOutput as exc:
            problem = exc.message
        except ValidationError as exc:
            problem = _describe(exc)
        except ModelError as exc:
            raise JudgeFailure("the judge model did not answer", exc.message) from exc
        repair: list[Message] = list(messages)
        if raw is not None:
            repair.append({"role": "assistant", "content": _cut(json.dumps(raw), 2000)})
        repair.append({"role": "user", "content": render("judge_repair.j2", problem=problem)})
        try:
            raw = await self.model.complete_json(
                self._request(repair, rubric, excerpt, "repair"), VERDICT_SCHEMA, name=name
            )
            return Verdict.model_validate(raw)
        except ModelBadOutput as exc:
            raise JudgeFailure("its answer was malformed twice", exc.message) from exc
        except ValidationError as exc:
            raise JudgeFailure("its answer was malformed twice", _describe(exc)) from exc
        except ModelError as exc:
            raise JudgeFailure("the judge model did not answer", exc.message) from exc

    @staticmethod
    def checked_quotes(verdict: Verdict, excerpt: Excerpt) -> tuple[str, ...]:
        """The verdict's quotes from the graded text; raises JudgeFailure when any is made up."""
        check = check_quotes(verdict.evidence, excerpt.graded_text, excerpt.context_texts)
        if check.missing:
            raise JudgeFailure(
                "its quote is not in the transcript", repr(_cut(check.missing[0], 80))
            )
        if verdict.score != "N/A" and not check.from_graded:
            whose = "turn" if excerpt.graded_index is not None else "turns"
            raise JudgeFailure(f"it quoted nothing from the graded {whose}")
        return check.from_graded

    async def grade(
        self, rubric: Rubric, excerpt: Excerpt, *, fallback: Grade, ceiling: Ceiling
    ) -> Grade:
        """The judge's grade bounded by the signals, or ``fallback`` saying why it was not used."""
        try:
            verdict = await self.verdict(rubric, excerpt)
            quotes = self.checked_quotes(verdict, excerpt)
            if verdict.score == "N/A" and excerpt.held:
                raise JudgeFailure("the turn addressed the grader, so N/A is not accepted")
        except JudgeFailure as exc:
            log.info("judge not used for %s (turn %s): %s", rubric.id, excerpt.graded_index, exc)
            return signals_only(fallback, exc.reason)
        except Exception:  # a grade must never be lost to a misbehaving backend
            log.exception("judge failed for %s (turn %s)", rubric.id, excerpt.graded_index)
            return signals_only(fallback, "the judge failed unexpectedly")
        notes: list[str] = []
        score: int | None = None
        if isinstance(verdict.score, int):
            score, why = ceiling(verdict.score)
            if why:
                notes.append(why)
            if excerpt.held and fallback.score is not None and fallback.score < score:
                score = fallback.score
                notes.append("Held to the signals grade: the turn addressed the grader.")
        said = _cut(" ".join(verdict.rationale.split()), RATIONALE_CHARS)
        rationale = " ".join([said or "Graded by the judge.", *notes])
        return Grade(
            rubric_id=rubric.id,
            score=score,
            evidence=" … ".join(_cut(q.strip(), QUOTE_CHARS) for q in quotes[:2]),
            rationale=rationale,
            tip=rubric.tip,
            method="llm+signals",
            model=self.model_name,
            turn_index=excerpt.graded_index,
        )


def signals_only(grade: Grade, why: str) -> Grade:
    """A signals grade that says so in a short note and, when a judge was asked, why its
    answer was not used. An N/A grade needs no note."""
    if grade.score is None:
        return grade.model_copy(update={"method": "signals", "model": None})
    notes = [grade.rationale.strip(), SIGNALS_NOTE]
    if why:
        notes.append(f"Judge answer not used: {why.strip().rstrip('.')}.")
    rationale = " ".join(n for n in notes if n)
    return grade.model_copy(update={"rationale": rationale, "method": "signals", "model": None})


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "answer"
    return f"{where}: {first['msg']}"
