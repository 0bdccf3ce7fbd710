"""Claiming a turn: in one short transaction, take the interview's in-flight guard, save the
human's words and a placeholder reply, and read everything the reply needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.grading.models import Rubric
from app.interview.engine import EngineState
from app.interview.errors import Conflict, InvalidInput, NotFound
from app.interview.models import Persona, Side, Turn
from app.services.runtime import Runtime, holder_is_dead, new_holder
from app.services.views import TurnOut
from app.store import repository as repo
from app.store.tables import InterviewRow, utcnow


@dataclass
class Claim:
    """What a turn needs once the guard is taken: everything read in one short transaction."""

    interview_id: str
    backend: str
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


def storable(text: str) -> str:
    """Text every database can hold: no NUL characters, no lone UTF-16 surrogates."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def check_text(text: str, limit: int) -> str:
    text = storable(text).strip()
    if not text:
        raise InvalidInput("text", "must not be empty; say something to the persona")
    if len(text) > limit:
        raise InvalidInput(
            "text",
            f"is {len(text)} characters; the limit is {limit} (RAPPORT_MAX_TURN_CHARS)",
        )
    return text


def history_of(turns: Sequence[Any]) -> list[Turn]:
    """The model's view of stored turns (TurnRow objects or transcript rows)."""
    # Interrupted replies stay in the transcript for the person, but the model never sees them.
    return [
        Turn(speaker="interviewer" if t.speaker == "interviewer" else "candidate", text=t.text)
        for t in turns
        if t.status == "complete"
    ]


# --- claiming ----------------------------------------------------------------------------

def take_guard(
    runtime: Runtime,
    session: Session,
    row: InterviewRow,
    *,
    advance: int,
    expected_count: int | None = None,
) -> tuple[str, int]:
    """Take the guard; returns the holder name and the interview's new turn count."""
    holder = new_holder()
    now = utcnow()
    options: dict[str, Any] = {
        "holder": holder,
        "now": now,
        "stale_before": runtime.stale_before(now),
        "advance": advance,
        "expected_count": expected_count,
    }
    count = repo.claim_turn(session, row.id, **options)
    if count is not None:
        return holder, count
    current = repo.reload_interview(session, row.id)
    if current.status != "active":
        raise Conflict("This interview is finished; start a new one to keep practising.")
    if current.inflight_turn is not None and holder_is_dead(current.inflight_owner):
        count = repo.claim_turn(session, row.id, dead_owner=current.inflight_owner, **options)
        if count is not None:
            return holder, count
    if current.inflight_turn is not None:
        raise Conflict(
            f"The reply to turn {current.inflight_turn} is still being generated. "
            "Wait for it to finish, then post again."
        )
    raise Conflict("The interview changed while you posted; reload it and try again.")

def claim_new_fast(
    runtime: Runtime, connection: Connection, owner: str, interview_id: str, text: str
) -> Claim | None:
    """The usual case in three statements: take a free guard (reading the interview in the
    same UPDATE), read the transcript, insert the two turns. None when the guard was not
    plainly free; ``claim_new`` then finds out why."""
    repo.check_id(interview_id)
    holder = new_holder()
    now = utcnow()
    row = repo.guard_new_exchange(
        connection,
        interview_id,
        owner=owner,
        holder=holder,
        now=now,
        stale_before=runtime.stale_before(now),
    )
    if row is None:
        return None
    persona, rubrics = runtime.snapshot(
        interview_id, lambda: repo.snapshot_data(connection, interview_id)
    )
    return _exchange(connection, row, interview_id, text, holder, persona, rubrics, now)


def claim_new(
    runtime: Runtime, session: Session, owner: str, interview_id: str, text: str
) -> Claim:
    row = repo.get_interview(session, owner, interview_id)
    if row.status != "active":
        raise Conflict("This interview is finished; start a new one to keep practising.")
    holder, count = take_guard(runtime, session, row, advance=2)
    persona, rubrics = runtime.snapshots(row)
    fields = SimpleNamespace(
        turn_count=count,
        human_side=row.human_side,
        engine_state=row.engine_state,
        job_description=row.job_description,
        resume=row.resume,
        backend=row.backend,
    )
    return _exchange(session, fields, interview_id, text, holder, persona, rubrics, utcnow())


def _exchange(
    db: Session | Connection,
    row: Any,
    interview_id: str,
    text: str,
    holder: str,
    persona: Persona,
    rubrics: list[Rubric],
    now: datetime,
) -> Claim:
    """Save the human's turn and an empty reply once the guard is taken; ``row`` carries the
    interview's new turn_count, human_side, engine_state, job_description, resume, backend."""
    human_index = row.turn_count - 2
    existing = repo.transcript_rows(db, interview_id)
    human = {
        "interview_id": interview_id,
        "index": human_index,
        "speaker": row.human_side,
        "text": text,
        "status": "complete",
        "fallback": False,
        "meta": {},
        "created_at": now,
    }
    reply = {
        **human,
        "index": human_index + 1,
        "speaker": persona.side,
        "text": "",
        "status": "incomplete",
    }
    repo.insert_turns(db, [human, reply])
    return Claim(
        interview_id=interview_id,
        backend=row.backend,
        holder=holder,
        reply_index=human_index + 1,
        reply_created_at=now,
        persona=persona,
        rubrics=rubrics,
        human_side=persona.human_side,
        history=[*history_of(existing), Turn(speaker=persona.human_side, text=text)],
        state=EngineState.from_dict(row.engine_state),
        job_description=row.job_description,
        resume=row.resume,
        human=TurnOut(
            index=human_index,
            speaker=persona.human_side,
            text=text,
            status="complete",
            created_at=now,
        ),
        grade_index=human_index if rubrics else None,
    )


def claim_retry(
    runtime: Runtime, session: Session, owner: str, interview_id: str, index: int
) -> Claim:
    row = repo.get_interview(session, owner, interview_id)
    if row.status != "active":
        raise Conflict("This interview is finished; its replies can no longer be retried.")
    turns = repo.list_turns(session, interview_id)
    target = next((t for t in turns if t.index == index), None)
    persona, rubrics = runtime.snapshots(row)
    if target is None or target.speaker != persona.side:
        retryable = [str(t.index) for t in turns if t.speaker == persona.side]
        raise NotFound("reply turn", str(index), retryable)
    if target.status == "complete":
        raise Conflict(f"Turn {index} is complete; only incomplete or failed replies retry.")
    if index != row.turn_count - 1:
        raise Conflict(f"Turn {index} is no longer the last; only the latest reply retries.")
    holder, _count = take_guard(
        runtime, session, row, advance=0, expected_count=row.turn_count
    )
    now = utcnow()
    repo.update_turn(session, interview_id, index, text="", status="incomplete", fallback=False)
    earlier = [t for t in turns if t.index < index]
    graded = {g.turn_index for g in repo.list_grades(session, interview_id)}
    last_human = next((t for t in reversed(earlier) if t.speaker == row.human_side), None)
    ungraded = last_human is not None and last_human.index not in graded and row.rubrics
    return Claim(
        interview_id=interview_id,
        backend=row.backend,
        holder=holder,
        reply_index=index,
        reply_created_at=now,
        persona=persona,
        rubrics=rubrics,
        human_side=persona.human_side,
        history=history_of(earlier),
        state=EngineState.from_dict(row.engine_state),
        job_description=row.job_description,
        resume=row.resume,
        grade_index=last_human.index if ungraded and last_human else None,
    )
