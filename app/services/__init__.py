"""Rapport's use cases: the only place that combines the engine, grading and the store."""

from __future__ import annotations

import builtins

from app.grading.report import Report
from app.interview.models import Side, Turn
from app.services import health
from app.services.grading import GradingService, TranscriptGrades
from app.services.interviews import InterviewService, Page
from app.services.play import PersonaPlayer
from app.services.runtime import Runtime
from app.services.turns import Exchange, TurnService
from app.services.views import InterviewOut, NewInterview

__all__ = ["Exchange", "NewInterview", "Page", "RapportService", "Runtime"]


class RapportService:
    """One object for the routes and pages: each method is one use case."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.interviews = InterviewService(runtime)
        self.turns = TurnService(runtime)
        self.grading = GradingService(runtime)
        self.player = PersonaPlayer(runtime)

    async def start(self, owner: str, request: NewInterview) -> InterviewOut:
        return await self.interviews.create(owner, request)

    async def list(self, owner: str, *, limit: int = 20, offset: int = 0) -> Page:
        return await self.interviews.page(owner, limit=limit, offset=offset)

    async def get(self, owner: str, interview_id: str) -> InterviewOut:
        return await self.interviews.get(owner, interview_id)

    async def delete(self, owner: str, interview_id: str) -> None:
        await self.interviews.delete(owner, interview_id)

    async def take_turn(self, owner: str, interview_id: str, text: str) -> Exchange:
        return await self.turns.post(owner, interview_id, text)

    async def retry(self, owner: str, interview_id: str, index: int) -> Exchange:
        return await self.turns.retry(owner, interview_id, index)

    async def finish(self, owner: str, interview_id: str) -> Report:
        return await self.interviews.finish(owner, interview_id)

    async def report(self, owner: str, interview_id: str) -> Report:
        return await self.interviews.report(owner, interview_id)

    async def grade(
        self, human_side: Side, rubric_ids: builtins.list[str] | None, turns: builtins.list[Turn]
    ) -> TranscriptGrades:
        return await self.grading.grade(human_side, rubric_ids, turns)

    async def readiness(self) -> dict[str, object]:
        return await health.readiness(self.runtime)

    async def clear_dead_claims(self) -> int:
        return await health.clear_dead_claims(self.runtime)
