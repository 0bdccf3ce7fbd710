"""Taking a turn: save the human's words, then stream the persona's reply while grading them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.grading.grader import Grader
from app.grading.models import Grade
from app.grading.signals import turn_signals
from app.interview.engine import Engine, Final
from app.llm.base import ModelError
from app.services.channel import TurnChannel
from app.services.claims import Claim, check_text, claim_new, claim_new_fast, claim_retry
from app.services.runtime import Runtime
from app.services.views import TurnOut, TurnStatus, grade_values, hidden_facts
from app.store import repository as repo
from app.store.tables import utcnow

log = logging.getLogger("rapport.turns")


def retry_url(interview_id: str, index: int) -> str:
    return f"/api/interviews/{interview_id}/turns/{index}/retry"


@dataclass
class ExchangeResult:
    reply: TurnOut
    grades: list[Grade] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)
    error: ModelError | None = None
    grades_saved: bool = False


GradeWork = Coroutine[Any, Any, tuple[list[Grade], dict[str, Any]]]


class Grading:
    """Grading of the turn's human words, started once the reply is under way."""

    def __init__(self, work: Callable[[], GradeWork]) -> None:
        self._work = work
        self._task: asyncio.Task[tuple[list[Grade], dict[str, Any]]] | None = None

    def start(self) -> asyncio.Task[tuple[list[Grade], dict[str, Any]]]:
        if self._task is None:
            self._task = asyncio.create_task(self._work())
        return self._task

    def ready(self) -> list[Grade] | None:
        """The grades when they are already done, else None."""
        if self._task is None or not self._task.done():
            return None
        return self._task.result()[0]

    async def result(self) -> tuple[list[Grade], dict[str, Any]]:
        return await self.start()

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


@dataclass
class Exchange:
    """A turn under way. ``task`` finishes and saves the reply whether or not anyone listens."""

    claim: Claim
    events: TurnChannel
    task: asyncio.Task[ExchangeResult]


class TurnService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # --- use cases ---------------------------------------------------------------------------

    async def post(self, owner: str, interview_id: str, text: str) -> Exchange:
        """Commit the human's turn and the guard, then start the reply and the grading."""
        text = check_text(text, self.runtime.settings.max_turn_chars)
        claim = await self.runtime.run_core(
            lambda c: claim_new_fast(self.runtime, c, owner, interview_id, text)
        )
        if claim is None:
            claim = await self.runtime.run_db(
                lambda s: claim_new(self.runtime, s, owner, interview_id, text)
            )
        return self._start(claim)

    async def retry(self, owner: str, interview_id: str, index: int) -> Exchange:
        claim = await self.runtime.run_db(
            lambda s: claim_retry(self.runtime, s, owner, interview_id, index)
        )
        return self._start(claim)

    def _start(self, claim: Claim) -> Exchange:
        channel = TurnChannel()
        if claim.human is not None:
            channel.event("turn", claim.human.model_dump_json())
        task = self.runtime.spawn(self._run(claim, channel))
        return Exchange(claim=claim, events=channel, task=task)

    # --- the work, in a task of its own ------------------------------------------------------

    async def _run(self, claim: Claim, channel: TurnChannel) -> ExchangeResult:
        grading = Grading(lambda: self._grade(claim)) if claim.grade_index is not None else None
        heartbeat = asyncio.create_task(self._heartbeat(claim))
        try:
            try:
                result = await self._generate(claim, channel, grading)
            finally:
                heartbeat.cancel()
            if grading is not None:
                result.grades, result.signals = await grading.result()
                if not result.grades_saved:
                    grades = result.grades
                    await self.runtime.run_core(lambda c: self._save_grades(c, claim, grades))
                channel.event(
                    "grade",
                    json.dumps(
                        {
                            "turn_index": claim.grade_index,
                            "grades": [g.model_dump(mode="json") for g in result.grades],
                            "signals": result.signals,
                        },
                        default=str,
                    ),
                )
            if result.error is None:
                channel.event("done", result.reply.model_dump_json())
            else:
                channel.event("error", self._error_json(claim, result.error.message))
            return result
        except Exception:
            log.exception("turn %s of interview %s failed", claim.reply_index, claim.interview_id)
            channel.event(
                "error",
                self._error_json(claim, "The reply failed unexpectedly. Retry it in a moment."),
            )
            raise
        finally:
            if grading is not None:
                grading.cancel()
            channel.close()

    def _error_json(self, claim: Claim, message: str) -> str:
        return json.dumps(
            {
                "message": message,
                "retry_url": retry_url(claim.interview_id, claim.reply_index),
                "turn_index": claim.reply_index,
            }
        )

    async def _generate(
        self, claim: Claim, channel: TurnChannel, grading: Grading | None = None
    ) -> ExchangeResult:
        settings = self.runtime.settings
        engine = Engine(
            claim.persona,
            window=settings.transcript_window,
            job_description=claim.job_description,
            resume=claim.resume,
        )
        parts: list[str] = []
        final: Final | None = None
        try:
            models = await self.runtime.backends.for_interview(claim.backend)
            move = engine.next_move(claim.history, claim.state)
            async for item in engine.stream_reply(models.persona, claim.history, move):
                if isinstance(item, Final):
                    final = item
                else:
                    parts.append(item.text)
                    channel.token(item.text)
                    if grading is not None:
                        # Only now: until the model request is out, grading would compete
                        # with it for the event loop.
                        grading.start()
            if final is None:
                raise ModelError("The model stopped before finishing its reply.")
        except ModelError as error:
            reply = await self.runtime.run_db(lambda s: self._save_broken(s, claim, parts))
            return ExchangeResult(reply=reply, error=error)
        except BaseException:
            # Cancelled at shutdown, or a fault: keep what was said and free the interview.
            self.runtime.run_db_now(lambda s: self._save_broken(s, claim, parts))
            raise
        done = final
        # Grades ready by now (always, with the judge off) share the reply's transaction.
        grades = grading.ready() if grading is not None else None

        def save(connection: Connection) -> TurnOut:
            if grades is not None:
                self._save_grades(connection, claim, grades)
            return self._save_reply(connection, claim, done)

        reply = await self.runtime.run_core(save)
        return ExchangeResult(reply=reply, grades_saved=grades is not None)

    def _reply_out(
        self, claim: Claim, text: str, status: TurnStatus, fallback: bool
    ) -> TurnOut:
        return TurnOut(
            index=claim.reply_index,
            speaker=claim.persona.side,
            text=text,
            status=status,
            fallback=fallback,
            created_at=claim.reply_created_at,
        )

    def _save_reply(self, connection: Connection, claim: Claim, final: Final) -> TurnOut:
        if not repo.save_reply(
            connection,
            claim.interview_id,
            claim.reply_index,
            text=final.text,
            status="complete",
            fallback=final.fallback,
            meta={"move": final.move_kind, "fallback_reason": final.fallback_reason},
            holder=claim.holder,
            engine_state=final.state.to_dict(),
        ):
            log.warning("interview %s: the guard was taken over before turn %s was saved",
                        claim.interview_id, claim.reply_index)
        return self._reply_out(claim, final.text, "complete", final.fallback)

    def _save_broken(self, session: Session, claim: Claim, parts: list[str]) -> TurnOut:
        text = "".join(parts).strip()
        status: TurnStatus = "incomplete" if text else "failed"
        repo.update_turn(
            session, claim.interview_id, claim.reply_index, text=text, status=status
        )
        repo.release_turn(session, claim.interview_id, claim.holder)
        return self._reply_out(claim, text, status, False)

    async def _heartbeat(self, claim: Claim) -> None:
        while True:
            await asyncio.sleep(self.runtime.heartbeat)
            await self.runtime.run_db(
                lambda s: repo.refresh_claim(s, claim.interview_id, claim.holder, utcnow())
            )

    async def _grade(self, claim: Claim) -> tuple[list[Grade], dict[str, Any]]:
        index = claim.grade_index
        assert index is not None
        # The history ends with the turn being graded; grades keep its stored index.
        local = len(claim.history) - 1
        facts = hidden_facts(claim.persona)
        try:
            signals = turn_signals(claim.history, local, hidden_facts=facts)
            models = await self.runtime.backends.for_interview(claim.backend)
            grader = Grader(claim.rubrics, models.judge)
            grades = await grader.grade_turn(
                claim.history, local, human_side=claim.human_side, hidden_facts=facts
            )
        except Exception:
            log.exception("grading turn %s of interview %s failed", index, claim.interview_id)
            return [], {}
        grades = [g.model_copy(update={"turn_index": index}) for g in grades]
        return grades, signals

    def _save_grades(self, connection: Connection, claim: Claim, grades: list[Grade]) -> None:
        # The turn has no grades yet: it is new, or a retry's claim only grades a turn whose
        # grades were never saved, so an insert is enough.
        if claim.grade_index is not None and grades:
            rows = [grade_values(claim.interview_id, g) for g in grades]
            repo.add_grades(connection, rows)
