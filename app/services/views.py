"""What the service hands back: interviews, turns and grades as plain response models."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.grading.models import Grade
from app.interview.models import HiddenFact, Persona, Side
from app.store.tables import GradeRow, InterviewRow, TurnRow

TurnStatus = Literal["complete", "incomplete", "failed"]

GRADE_EXAMPLE: dict[str, Any] = {
    "rubric_id": "listen-actively",
    "score": 4,
    "evidence": "So the rollback scared you more than the outage",
    "rationale": "Reflects a specific detail before asking the next question.",
    "tip": "Name one concrete thing they said before asking the next question.",
    "method": "signals",
    "model": None,
    "turn_index": 2,
}

PERSONA_EXAMPLE: dict[str, Any] = {
    "id": "maya-startup-eng-manager",
    "name": "Maya Okafor",
    "role": "Engineering Manager",
    "company": "Lumen Logistics (Series B)",
    "side": "interviewer",
}


class NewInterview(BaseModel):
    """What starting an interview takes; the human takes the side opposite the persona."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "persona_id": "maya-startup-eng-manager",
                "job_description": "Senior backend engineer, routing service",
            }
        },
    )

    persona_id: str = Field(min_length=1, max_length=64)
    rubric_ids: list[str] | None = Field(
        None, description="rubrics that grade your turns; defaults to the persona's own"
    )
    job_description: str = Field("", max_length=20_000)
    resume: str = Field("", max_length=20_000)
    backend: Literal["scripted", "openai", "local"] | None = Field(
        None,
        description="the model backend for this interview; defaults to the server's own. "
        "GET /readyz lists the backends this server offers.",
    )


# Who an interview is with, validated from a persona or its stored snapshot: only the fields
# declared here are read, so hidden facts and concerns never pass through.
class PersonaBrief(BaseModel):
    id: str
    name: str
    role: str
    company: str
    side: Side


class TurnOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "index": 1,
                "speaker": "candidate",
                "text": "I moved into logistics after building a delivery router.",
                "status": "complete",
                "fallback": False,
                "created_at": "2026-01-05T10:00:00Z",
                "grades": [GRADE_EXAMPLE],
            }
        }
    )

    index: int
    speaker: Side
    text: str
    status: TurnStatus
    fallback: bool = False
    created_at: datetime
    grades: list[Grade] = Field(default_factory=list)


class InterviewSummary(BaseModel):
    id: str
    persona_id: str
    persona: PersonaBrief
    human_side: Side
    status: Literal["active", "finished"]
    backend: str
    model: str
    rubric_ids: list[str]
    created_at: datetime
    finished_at: datetime | None
    overall_score: float | None
    turn_count: int
    turn_in_flight: int | None = Field(
        None, description="index of the reply being generated right now, if any"
    )


class InterviewOut(InterviewSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "5f0c6d3b9a2e4f7d8c1b0a9e8d7c6b5a",
                "persona_id": "maya-startup-eng-manager",
                "persona": PERSONA_EXAMPLE,
                "human_side": "candidate",
                "status": "active",
                "backend": "scripted",
                "model": "scripted",
                "rubric_ids": ["show-your-true-self", "specific-enthusiasm"],
                "created_at": "2026-01-05T10:00:00Z",
                "finished_at": None,
                "overall_score": None,
                "turn_count": 1,
                "turn_in_flight": None,
                "turns": [
                    {
                        "index": 0,
                        "speaker": "interviewer",
                        "text": "Thanks for coming in! How did you end up in logistics software?",
                        "status": "complete",
                        "fallback": False,
                        "created_at": "2026-01-05T10:00:00Z",
                        "grades": [],
                    }
                ],
            }
        }
    )

    turns: list[TurnOut]


def hidden_facts(persona: Persona) -> list[HiddenFact]:
    """Facts the human can draw out: only an AI candidate's count (interviewer practice)."""
    return list(persona.hidden.facts) if persona.side == "candidate" else []


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def grade_out(row: GradeRow) -> Grade:
    """A stored grade; the grades table has a column for each of a grade's fields."""
    return Grade.model_validate(row, from_attributes=True)


def grade_values(interview_id: str, grade: Grade) -> dict[str, Any]:
    """A grade as the grades table's column values."""
    return {"interview_id": interview_id, **grade.model_dump()}


def turn_out(row: TurnRow, grades: list[Grade] | None = None) -> TurnOut:
    status: TurnStatus = row.status if row.status in ("complete", "failed") else "incomplete"  # type: ignore[assignment]
    speaker: Side = "interviewer" if row.speaker == "interviewer" else "candidate"
    return TurnOut(
        index=row.index,
        speaker=speaker,
        text=row.text,
        status=status,
        fallback=row.fallback,
        created_at=aware(row.created_at),
        grades=grades or [],
    )


def summary_fields(row: InterviewRow) -> dict[str, object]:
    return {
        "id": row.id,
        "persona_id": row.persona_id,
        "persona": PersonaBrief.model_validate(row.persona),
        "human_side": row.human_side,
        "status": row.status,
        "backend": row.backend,
        "model": row.model,
        "rubric_ids": [rubric["id"] for rubric in row.rubrics],
        "created_at": aware(row.created_at),
        "finished_at": aware(row.finished_at) if row.finished_at else None,
        "overall_score": row.overall_score,
        "turn_count": row.turn_count,
        "turn_in_flight": row.inflight_turn,
    }


def interview_summary(row: InterviewRow) -> InterviewSummary:
    return InterviewSummary.model_validate(summary_fields(row))


def interview_out(
    row: InterviewRow, turns: list[TurnRow], grades: list[GradeRow]
) -> InterviewOut:
    by_turn: dict[int | None, list[Grade]] = defaultdict(list)
    for grade in grades:
        by_turn[grade.turn_index].append(grade_out(grade))
    return InterviewOut.model_validate(
        {
            **summary_fields(row),
            "turns": [turn_out(turn, by_turn.get(turn.index, [])) for turn in turns],
        }
    )
