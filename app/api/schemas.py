"""Request and response bodies of the JSON API, with the examples the OpenAPI document shows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.grading.models import Grade
from app.interview.models import Side
from app.services.interviews import Page
from app.services.views import (
    PERSONA_EXAMPLE,
    InterviewOut,
    InterviewSummary,
    NewInterview,
    PersonaBrief,
    TurnOut,
)

InterviewCreate = NewInterview
InterviewPage = Page

__all__ = [
    "ErrorOut",
    "ExchangeOut",
    "GradeIn",
    "GradeOut",
    "GradedTurn",
    "Health",
    "InterviewCreate",
    "InterviewOut",
    "InterviewPage",
    "InterviewSummary",
    "PersonaBrief",
    "PersonaOut",
    "Readiness",
    "ReplyOut",
    "TurnIn",
    "TurnOut",
]


class PersonaOut(PersonaBrief):
    """What a person practising sees of a persona: never its hidden facts or concerns."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                **PERSONA_EXAMPLE,
                "human_side": "candidate",
                "temperament": "Warm, curious and direct",
                "difficulty": "medium",
                "traits": ["warm", "curious", "direct"],
                "goal": "find a backend engineer who will own the routing service",
                "rubrics": ["show-your-true-self", "ask-insightful-questions"],
            }
        }
    )

    human_side: Side
    temperament: str
    tendency: str
    difficulty: str
    traits: list[str]
    goal: str
    backstory: str
    rubrics: list[str]


class TurnIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"text": "I got into logistics by accident, honestly."}},
    )

    text: str = Field(description="what you say; 1 to RAPPORT_MAX_TURN_CHARS characters")


class ExchangeOut(BaseModel):
    """The whole exchange of one turn, for clients that do not read server-sent events."""

    human: TurnOut
    reply: TurnOut
    grades: list[Grade]
    signals: dict[str, Any] = Field(default_factory=dict)


class ReplyOut(BaseModel):
    """The regenerated reply of a retried turn."""

    reply: TurnOut


class ErrorOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "detail": "Unknown persona 'nobody'. Valid persona ids: maya-startup-eng-manager.",
                "field": "persona_id",
                "valid": ["maya-startup-eng-manager"],
            }
        }
    )

    detail: str
    field: str | None = None
    valid: list[str] | None = None
    retry_url: str | None = None
    turn_index: int | None = None


class TranscriptTurn(BaseModel):
    speaker: Side
    text: str


class GradeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "human_side": "interviewer",
                "turns": [
                    {"speaker": "interviewer", "text": "How did you end up in logistics?"},
                    {"speaker": "candidate", "text": "By accident: I fixed a routing bug."},
                    {
                        "speaker": "interviewer",
                        "text": "A routing bug pulled you in? What about it hooked you?",
                    },
                ],
            }
        },
    )

    human_side: Side
    rubrics: list[str] | None = Field(
        None, description="rubric ids; defaults to every rubric for that side"
    )
    turns: list[TranscriptTurn] = Field(min_length=1, max_length=1000)


class GradedTurn(BaseModel):
    index: int
    speaker: Side
    grades: list[Grade]


class GradeOut(BaseModel):
    turns: list[GradedTurn]
    session_grades: list[Grade]
    signals: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "status": "ready",
                "database": "ok",
                "database_backend": "sqlite",
                "backend": "scripted",
                "persona_model": "scripted",
                "judge_model": None,
                "description": "offline scripted mode",
                "backends": ["scripted"],
            }
        }
    )

    status: Literal["ready", "unavailable"]
    database: str
    database_backend: str
    backend: str
    persona_model: str
    judge_model: str | None
    description: str
    backends: list[str] = Field(
        description="backends an interview may choose (POST /api/interviews), the default first"
    )
