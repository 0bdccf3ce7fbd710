"""Rubric files and grades as plain, validated data."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.interview.models import Side

Method = Literal["signals", "llm+signals"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Cap(_Strict):
    """A ceiling on the score when a signal condition holds, whatever the judge says."""

    when: str = Field(
        min_length=1, description="condition over signals, e.g. 'questions_in_turn >= 3'"
    )
    max_score: int = Field(ge=1, le=5)
    reason: str = ""


class Rule(_Strict):
    """One step of the signals-only score: add ``add`` when ``when`` holds."""

    when: str = Field(min_length=1)
    add: float = Field(ge=-4, le=4)
    reason: str = ""


class Scoring(_Strict):
    base: float = Field(3, ge=1, le=5)
    rules: list[Rule] = Field(default_factory=list)


class Rubric(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    title: str = Field(min_length=1)
    applies_to: Side
    scope: Literal["turn", "session"]
    criterion: str = Field(min_length=10)
    anchors: dict[int, str]
    exemplar: str = Field(min_length=3)
    signals: dict[str, dict[str, float]] = Field(default_factory=dict)
    caps: list[Cap] = Field(default_factory=list)
    scoring: Scoring = Field(default_factory=Scoring)
    applies_when: str = Field("", description="condition for grading a turn; otherwise N/A")
    stock_phrases: list[str] = Field(default_factory=list)
    tip: str = Field(min_length=10)

    @model_validator(mode="after")
    def _anchors_one_to_five(self) -> Rubric:
        if sorted(self.anchors) != [1, 2, 3, 4, 5]:
            raise ValueError("anchors must describe each score 1, 2, 3, 4 and 5")
        if any(len(text.strip()) < 5 for text in self.anchors.values()):
            raise ValueError("each anchor needs a real description")
        return self


class Grade(BaseModel):
    """One rubric's verdict on one turn (or on the session when ``turn_index`` is None)."""

    rubric_id: str
    score: int | None = Field(None, ge=1, le=5, description="1-5, or null for N/A")
    evidence: str = Field("", description="a quote from the transcript")
    rationale: str = ""
    tip: str = ""
    method: Method = "signals"
    model: str | None = None
    turn_index: int | None = None
