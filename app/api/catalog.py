"""The persona and rubric catalogues."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from app.api.deps import CurrentUser, StateDep
from app.api.schemas import ErrorOut, PersonaOut
from app.grading.models import Rubric
from app.interview.models import Persona, Side

router = APIRouter(prefix="/api", tags=["catalog"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "unknown id; the body lists valid ids"}
}


def persona_out(persona: Persona) -> PersonaOut:
    return PersonaOut.model_validate(persona, from_attributes=True)


@router.get("/personas", response_model=list[PersonaOut])
async def list_personas(
    state: StateDep, _user: CurrentUser, side: Side | None = None
) -> list[PersonaOut]:
    """Personas to practise against; ``side`` is the side the persona takes."""
    return [persona_out(p) for p in state.personas.list(side)]


@router.get("/personas/{persona_id}", response_model=PersonaOut, responses=_NOT_FOUND)
async def get_persona(state: StateDep, _user: CurrentUser, persona_id: str) -> PersonaOut:
    return persona_out(state.personas.get(persona_id))


@router.get("/rubrics", response_model=list[Rubric])
async def list_rubrics(
    state: StateDep,
    _user: CurrentUser,
    side: Side | None = None,
    scope: Literal["turn", "session"] | None = None,
) -> list[Rubric]:
    """Rubrics; ``side`` is the side whose turns a rubric grades."""
    return list(state.rubrics.list(side=side, scope=scope))


@router.get("/rubrics/{rubric_id}", response_model=Rubric, responses=_NOT_FOUND)
async def get_rubric(state: StateDep, _user: CurrentUser, rubric_id: str) -> Rubric:
    return state.rubrics.get(rubric_id)
