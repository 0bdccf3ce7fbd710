"""The tables: interviews (with persona and rubric snapshots), turns, grades and reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class InterviewRow(SQLModel, table=True):
    __tablename__ = "interviews"
    __table_args__ = (Index("ix_interviews_owner_created", "owner", "created_at"),)

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    owner: str = Field(sa_column=Column(String(200), nullable=False))
    persona_id: str = Field(sa_column=Column(String(64), nullable=False))
    human_side: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(default="active", sa_column=Column(String(16), nullable=False))
    backend: str = Field(sa_column=Column(String(32), nullable=False))
    model: str = Field(sa_column=Column(String(200), nullable=False))
    # Snapshots: later edits to persona or rubric files never change a past interview.
    persona: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    rubrics: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    job_description: str = Field(default="", sa_column=Column(Text, nullable=False))
    resume: str = Field(default="", sa_column=Column(Text, nullable=False))
    engine_state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    turn_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    overall_score: float | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # The one-turn-in-flight guard, shared by every worker and host through the database.
    inflight_turn: int | None = None
    inflight_owner: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    inflight_since: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class TurnRow(SQLModel, table=True):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("interview_id", "index", name="uq_turns_interview_index"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("interviews.id", ondelete="CASCADE"), nullable=False
        )
    )
    index: int = Field(sa_column=Column("index", Integer, nullable=False))
    speaker: str = Field(sa_column=Column(String(16), nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="complete", sa_column=Column(String(16), nullable=False))
    fallback: bool = False
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class GradeRow(SQLModel, table=True):
    __tablename__ = "grades"
    __table_args__ = (Index("ix_grades_interview_turn", "interview_id", "turn_index"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("interviews.id", ondelete="CASCADE"), nullable=False
        )
    )
    turn_index: int | None = None
    rubric_id: str = Field(sa_column=Column(String(64), nullable=False))
    score: int | None = None
    evidence: str = Field(default="", sa_column=Column(Text, nullable=False))
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False))
    tip: str = Field(default="", sa_column=Column(Text, nullable=False))
    method: str = Field(sa_column=Column(String(16), nullable=False))
    model: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))


class ReportRow(SQLModel, table=True):
    __tablename__ = "reports"

    interview_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True
        )
    )
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
