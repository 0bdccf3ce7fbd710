"""Taking a turn: save the human's words, then stream the persona's reply while grading them."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.grading.grader import Grader
from app.grading.models import Grade, Rubric
from app.grading.signals import turn_signals
from app.interview.engine import Engine, EngineState, Final
from app.interview.errors import Conflict, InvalidInput, NotFound
from app.interview.models import Persona, Side, Turn
from app.llm.base import ModelError
from app.services.channel import TurnChannel
from app.services.runtime import Runtime, holder_is_dead, new_holder
from app.services.views import TurnOut, grade_row, hidden_facts, turn_out
from app.store import repository as repo
from app.store.tables import InterviewRow, TurnRow, utcnow

log = logging.getLogger("rapport.turns")


def retry_url(interview_id: str, index: int) -> str:
    return f"/api/interviews/{interview_id}/turns/{index}/retry"


@dataclass
class Claim:
    """What a turn needs once the guard is taken: everything read in one short transaction."""

    interview_id: str
    holder: str
    reply_index: int
    reply_created_at: datetime
    persona: Persona
    rubrics: list[Rubric]
    human_side: Side
    history: list[Turn]
    state: EngineState
    job_description: str
    resume: str
    human: TurnOut | None = None
    grade_index: int | None = None


@dataclass
class ExchangeResult:
    reply: TurnOut
    grades: list[Grade] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)
    error: ModelError | None = None


@dataclass
class Exchange:
    """A turn under way. ``task`` finishes and saves the reply whether or not anyone listens."""

    claim: Claim
    events: TurnChannel
    task: asyncio.Task[ExchangeResult]


def check_text(text: str, limit: int) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("text", "must not be empty; say something to the persona")
    if len(text) > limit:
        raise InvalidInput(
            "text",
            f"is {len(text)} characters; the limit is {limit} (RAPPORT_MAX_TURN_CHARS)",
        )
    return text


def _history(turns: list[TurnRow]) -> list[Turn]:
    # Interrupted replies stay in the transcript for the person, but the model never sees them.
    return [
        Turn(speaker="interviewer" if t.speaker == "interviewer" else "candidate", text=t.text)
        for t in turns
        if t.status == "complete"
    ]


class TurnService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # --- claiming ----------------------------------------------------------------------------

    def _claim(
        self,
        session: Session,
        row: InterviewRow,
        *,
        advance: int,
        expected_count: int | None = None,
    ) -> str:
        holder = new_holder()
        now = utcnow()
        options: dict[str, Any] = {
            "holder": holder,
            "now": now,
            "stale_before": self.runtime.stale_before(now),
            "advance": advance,
            "expected_count": expected_count,
        }
        if repo.claim_turn(session, row.id, **options):
            return holder
        current = repo.reload_interview(session, row.id)
        if current.status != "active":
            raise Conflict("This interview is finished; start a new one to keep practising.")
        if (
            current.inflight_turn is not None
            and holder_is_dead(current.inflight_owner)
            and repo.claim_turn(session, row.id, dead_owner=current.inflight_owner, **options)
        ):
            return holder
        if current.inflight_turn is not None:
            raise Conflict(
                f"The reply to turn {current.inflight_turn} is still being generated. "
                "Wait for it to finish, then post again."
            )
        raise Conflict("The interview changed while you posted; reload it and try again.")

    def _claim_new(self, session: Session, owner: str, interview_id: str, text: str) -> Claim:
        row = repo.get_interview(session, owner, interview_id)
        if row.status != "active":
            raise Conflict("This interview is finished; start a new one to keep practising.")
        holder = self._claim(session, row, advance=2)
        row = repo.reload_interview(session, interview_id)
        human_index = row.turn_count - 2
        existing = repo.list_turns(session, interview_id)
        persona = Persona.model_validate(row.persona)
        now = utcnow()
        human = TurnRow(
            interview_id=interview_id,
            index=human_index,
            speaker=row.human_side,
            text=text,
            status="complete",
            created_at=now,
        )
        reply = TurnRow(
            interview_id=interview_id,
            index=human_index + 1,
            speaker=persona.side,
            text="",
            status="incomplete",
            created_at=now,
        )
        repo.add_turns(session, [human, reply])
        return Claim(
            interview_id=interview_id,
            holder=holder,
            reply_index=human_index + 1,
            reply_created_at=now,
            persona=persona,
            rubrics=[Rubric.model_validate(r) for r in row.rubrics],
            human_side=persona.human_side,
            history=[*_history(existing), Turn(speaker=persona.human_side, text=text)],
            state=EngineState.from_dict(row.engine_state),
            job_description=row.job_description,
            resume=row.resume,
            human=turn_out(human),
            grade_index=human_index,
        )

    def _claim_retry(self, session: Session, owner: str, interview_id: str, index: int) -> Claim:
        row = repo.get_interview(session, owner, interview_id)
        if row.status != "active":
            raise Conflict("This interview is finished; its replies can no longer be retried.")
        turns = repo.list_turns(session, interview_id)
        target = next((t for t in turns if t.index == index), None)
        persona = Persona.model_validate(row.persona)
        if target is None or target.speaker != persona.side:
            retryable = [str(t.index) for t in turns if t.speaker == persona.side]
            raise NotFound("reply turn", str(index), retryable)
        if target.status == "complete":
            raise Conflict(f"Turn {index} is complete; only incomplete or failed replies retry.")
        if index != row.turn_count - 1:
            raise Conflict(f"Turn {index} is no longer the last; only the latest reply retries.")
        holder = self._claim(session, row, advance=0, expected_count=row.turn_count)
        now = utcnow()
        repo.update_turn(session, interview_id, index, text="", status="incomplete", fallback=False)
        earlier = [t for t in turns if t.index < index]
        graded = {g.turn_index for g in repo.list_grades(session, interview_id)}
        last_human = next((t for t in reversed(earlier) if t.speaker == row.human_side), None)
        ungraded = last_human is not None and last_human.index not in graded and row.rubrics
        return Claim(
            interview_id=interview_id,
            holder=holder,
            reply_index=index,
            reply_created_at=now,
            persona=persona,
            rubrics=[Rubric.model_validate(r) for r in row.rubrics],
            human_side=persona.human_side,
            history=_history(earlier),
            state=EngineState.from_dict(row.engine_state),
            job_description=row.job_description,
            resume=row.resume,
            grade_index=last_human.index if ungraded and last_human else None,
        )

    # --- use cases ---------------------------------------------------------------------------

    async def post(self, owner: str, interview_id: str, text: str) -> Exchange:
        """Commit the human's turn and the guard, then start the reply and the grading."""
        text = check_text(text, self.runtime.settings.max_turn_chars)
        claim = await self.runtime.run_db(
            lambda s: self._claim_new(s, owner, interview_id, text)
        )
        return self._start(claim)

    async def retry(self, owner: str, interview_id: str, index: int) -> Exchange:
        claim = await self.runtime.run_db(
            lambda s: self._claim_retry(s, owner, interview_id, index)
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
        grading = (
            asyncio.create_task(self._grade(claim)) if claim.grade_index is not None else None
        )
        heartbeat = asyncio.create_task(self._heartbeat(claim))
        try:
            try:
                result = await self._generate(claim, channel)
            finally:
                heartbeat.cancel()
            if grading is not None:
                result.grades, result.signals = await grading
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
            if grading is not None and not grading.done():
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

    async def _generate(self, claim: Claim, channel: TurnChannel) -> ExchangeResult:
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
            move = engine.next_move(claim.history, claim.state)
            async for item in engine.stream_reply(
                self.runtime.models.persona, claim.history, move
            ):
                if isinstance(item, Final):
                    final = item
                else:
                    parts.append(item.text)
                    channel.token(item.text)
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
        reply = await self.runtime.run_db(lambda s: self._save_reply(s, claim, done))
        return ExchangeResult(reply=reply)

    def _reply_out(self, claim: Claim, text: str, status: str, fallback: bool) -> TurnOut:
        return turn_out(
            TurnRow(
                interview_id=claim.interview_id,
                index=claim.reply_index,
                speaker=claim.persona.side,
                text=text,
                status=status,
                fallback=fallback,
                created_at=claim.reply_created_at,
            )
        )

    def _save_reply(self, session: Session, claim: Claim, final: Final) -> TurnOut:
        meta = {"move": final.move_kind, "fallback_reason": final.fallback_reason}
        repo.update_turn(
            session,
            claim.interview_id,
            claim.reply_index,
            text=final.text,
            status="complete",
            fallback=final.fallback,
            meta=meta,
        )
        if not repo.release_turn(
            session, claim.interview_id, claim.holder, {"engine_state": final.state.to_dict()}
        ):
            log.warning("interview %s: the guard was taken over before turn %s was saved",
                        claim.interview_id, claim.reply_index)
        return self._reply_out(claim, final.text, "complete", final.fallback)

    def _save_broken(self, session: Session, claim: Claim, parts: list[str]) -> TurnOut:
        text = "".join(parts).strip()
        status = "incomplete" if text else "failed"
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
            grader = Grader(claim.rubrics, self.runtime.models.judge)
            grades = await grader.grade_turn(
                claim.history, local, human_side=claim.human_side, hidden_facts=facts
            )
        except Exception:
            log.exception("grading turn %s of interview %s failed", index, claim.interview_id)
            return [], {}
        grades = [g.model_copy(update={"turn_index": index}) for g in grades]
        await self.runtime.run_db(
            lambda s: repo.replace_grades(
                s, claim.interview_id, index, [grade_row(claim.interview_id, g) for g in grades]
            )
        )
        return grades, signals
