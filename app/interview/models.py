"""Persona files and transcripts as plain, validated data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Side = Literal["interviewer", "candidate"]
SIDES: tuple[Side, Side] = ("interviewer", "candidate")
Phase = Literal["story", "topic", "vision", "questions", "close"]
Tendency = Literal["strong", "oversells", "rambles", "nervous", "balanced"]


def other_side(side: Side) -> Side:
    return "candidate" if side == "interviewer" else "interviewer"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Style(_Strict):
    formality: Literal["casual", "neutral", "formal"] = "neutral"
    max_words: int = Field(90, ge=15, le=400, description="upper bound on words per reply")
    voice: str = Field("", description="how this person sounds: pace, quirks, pet phrases")


class AgendaStep(_Strict):
    phase: Phase
    ask: str = Field(min_length=3, description="the question to ask at this step")
    topic: str = ""
    share: str = Field("", description="what the interviewer tells the candidate at this step")
    follow_ups: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(
        default_factory=list, description="words a full answer tends to contain"
    )


class HiddenFact(_Strict):
    """Something true that the persona only says when a question really asks for it."""

    text: str = Field(min_length=3)
    triggers: list[str] = Field(
        min_length=1, description="words or phrases in a question that draw this fact out"
    )


class Hidden(_Strict):
    concerns: list[str] = Field(default_factory=list)
    facts: list[HiddenFact] = Field(default_factory=list)


class Story(_Strict):
    title: str = ""
    topics: list[str] = Field(min_length=1)
    text: str = Field(min_length=10)


class Persona(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    side: Side
    name: str = Field(min_length=1)
    role: str = Field(min_length=1)
    company: str = Field(min_length=1)
    goal: str = ""
    backstory: str = ""
    traits: list[str] = Field(default_factory=list)
    temperament: str = Field("", description="one line shown on the persona card")
    tendency: Tendency = "balanced"
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    style: Style = Field(default_factory=Style)
    agenda: list[AgendaStep] = Field(default_factory=list)
    hidden: Hidden = Field(default_factory=Hidden)
    stories: list[Story] = Field(default_factory=list)
    questions_to_ask: list[str] = Field(default_factory=list)
    facts: dict[str, str] = Field(
        default_factory=dict,
        description="public facts an interviewer answers candidates' questions from",
    )
    first_message: str = Field(min_length=1)
    closing_message: str = ""
    rubrics: list[str] = Field(default_factory=list)
    extensions: dict[str, Any] = Field(default_factory=dict)

    @field_validator("traits", "questions_to_ask", "rubrics")
    @classmethod
    def _no_blank_items(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError("items must be non-empty text")
        return value

    @model_validator(mode="after")
    def _side_specific(self) -> Persona:
        if self.side == "interviewer" and not self.agenda:
            raise ValueError("an interviewer needs an agenda (the steps of the interview)")
        if self.side == "candidate" and not self.stories:
            raise ValueError("a candidate needs stories (anecdotes with the topics they answer)")
        return self

    @property
    def human_side(self) -> Side:
        """The side the person practising takes: always opposite the persona."""
        return other_side(self.side)


@dataclass(frozen=True)
class Turn:
    """One message in the conversation."""

    speaker: Side
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
