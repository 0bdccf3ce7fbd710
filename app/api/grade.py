"""Stateless grading of a transcript a caller sends."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentUser, ServiceDep
from app.api.schemas import ErrorOut, GradedTurn, GradeIn, GradeOut
from app.interview.models import Turn

router = APIRouter(prefix="/api", tags=["grading"])


@router.post(
    "/grade",
    response_model=GradeOut,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
async def grade_transcript(body: GradeIn, _user: CurrentUser, service: ServiceDep) -> GradeOut:
    """Grade each of the human's turns and the session; nothing is stored."""
    turns = [Turn(speaker=t.speaker, text=t.text) for t in body.turns]
    graded = await service.grade(body.human_side, body.rubrics, turns)
    return GradeOut(
        turns=[GradedTurn(index=t.index, speaker=t.speaker, grades=t.grades) for t in graded.turns],
        session_grades=graded.session_grades,
        signals=graded.signals,
    )
