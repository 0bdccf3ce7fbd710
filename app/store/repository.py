"""Every query Rapport runs: interviews, turns, grades, reports and the in-flight guard."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from app.interview.errors import NotFound
from app.store.tables import GradeRow, InterviewRow, ReportRow, TurnRow

# The statements a turn runs use the Core tables: the same SQL through the ORM costs several
# times the CPU, and the turn path neither loads nor tracks objects there.
INTERVIEWS = InterviewRow.__table__  # type: ignore[attr-defined]
TURNS = TurnRow.__table__  # type: ignore[attr-defined]
GRADES = GradeRow.__table__  # type: ignore[attr-defined]


_ID = re.compile(r"[0-9a-f]{32}")


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


def add_interview(session: Session, interview: InterviewRow, turns: Iterable[TurnRow]) -> None:
    session.add(interview)
    session.flush()
    session.add_all(list(turns))


def check_id(interview_id: str) -> None:
    if not _ID.fullmatch(interview_id):
        # Not an id we ever issue; don't send arbitrary bytes to the database.
        raise NotFound("interview", interview_id[:64])


def get_interview(session: Session, owner: str, interview_id: str) -> InterviewRow:
    """The interview if ``owner`` has it; anyone else's is reported as not found."""
    check_id(interview_id)
    row = session.get(InterviewRow, interview_id)
    if row is None or row.owner != owner:
        raise NotFound("interview", interview_id)
    return row


def list_interviews(
    session: Session, owner: str, *, limit: int, offset: int
) -> tuple[list[InterviewRow], int]:
    total = session.scalar(
        select(func.count()).select_from(InterviewRow).where(InterviewRow.owner == owner)  # type: ignore[arg-type]
    )
    rows = session.scalars(
        select(InterviewRow)
        .where(InterviewRow.owner == owner)  # type: ignore[arg-type]
        .order_by(InterviewRow.created_at.desc(), InterviewRow.id.desc())  # type: ignore[attr-defined]
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total or 0)


def delete_interview(session: Session, interview_id: str) -> None:
    # Children first, so the delete also works where the foreign keys do not cascade.
    for table in (GradeRow, TurnRow, ReportRow):
        session.execute(delete(table).where(table.interview_id == interview_id))  # type: ignore[arg-type]
    session.execute(delete(InterviewRow).where(InterviewRow.id == interview_id))  # type: ignore[arg-type]


def list_turns(session: Session, interview_id: str) -> list[TurnRow]:
    return list(
        session.scalars(
            select(TurnRow)
            .where(TurnRow.interview_id == interview_id)  # type: ignore[arg-type]
            .order_by(TurnRow.index)  # type: ignore[arg-type]
        ).all()
    )


def list_grades(session: Session, interview_id: str) -> list[GradeRow]:
    return list(
        session.scalars(
            select(GradeRow)
            .where(GradeRow.interview_id == interview_id)  # type: ignore[arg-type]
            .order_by(GradeRow.id)  # type: ignore[arg-type]
        ).all()
    )


def replace_grades(
    session: Session | Connection,
    interview_id: str,
    turn_index: int | None,
    grades: Iterable[dict[str, Any]],
) -> None:
    c = GRADES.c
    where_turn = c.turn_index.is_(None) if turn_index is None else c.turn_index == turn_index
    session.execute(delete(GRADES).where(c.interview_id == interview_id, where_turn))
    add_grades(session, grades)


_INSERT_GRADES = insert(GRADES)


def add_grades(session: Session | Connection, grades: Iterable[dict[str, Any]]) -> None:
    """Insert grades (column values) in one statement."""
    rows = list(grades)
    if rows:
        session.execute(_INSERT_GRADES, rows)


def get_report(session: Session, interview_id: str) -> ReportRow | None:
    return session.get(ReportRow, interview_id)


def save_report(session: Session, report: ReportRow) -> None:
    session.merge(report)


# --- the in-flight guard -------------------------------------------------------------------
#
# A conditional UPDATE is atomic on every database we support, so exactly one of several
# workers or hosts racing for the same interview sees rowcount 1. A holder that died leaves
# its mark behind; it counts as free once ``inflight_since`` is older than the stale limit
# (holders refresh it while they generate), or at once when ``dead_owner`` names it.


def _guard_free(stale_before: Any, dead_owner: Any = None) -> ColumnElement[bool]:
    """The guard counts as free: nobody holds it, its holder went stale, or it is named dead."""
    c = INTERVIEWS.c
    free = [c.inflight_turn.is_(None), c.inflight_since < stale_before]
    if dead_owner is not None:
        free.append(c.inflight_owner == dead_owner)
    return or_(*free)


def _take_guard(advance: int, holder: Any, now: Any, marker: int | None = None) -> dict[str, Any]:
    """The guard's new values, with ``turn_count`` moved on by ``advance``; it marks the last
    new turn (the one being generated), or ``marker`` when given."""
    c = INTERVIEWS.c
    return {
        "inflight_turn": marker if marker is not None else c.turn_count + advance - 1,
        "inflight_owner": holder,
        "inflight_since": now,
        "turn_count": c.turn_count + advance,
    }


# Freeing the guard, and the condition that only its holder may.
_FREED: dict[str, Any] = {"inflight_turn": None, "inflight_owner": None, "inflight_since": None}


def _held_by(interview_id: Any, holder: Any) -> ColumnElement[bool]:
    return and_(INTERVIEWS.c.id == interview_id, INTERVIEWS.c.inflight_owner == holder)


def claim_turn(
    session: Session,
    interview_id: str,
    *,
    holder: str,
    now: datetime,
    stale_before: datetime,
    advance: int,
    expected_count: int | None = None,
    dead_owner: str | None = None,
    marker: int | None = None,
) -> int | None:
    """Take the guard and move ``turn_count`` on by ``advance`` in one atomic statement.

    The guard then marks the turn being generated (the last one), or ``marker`` when given.
    Returns the new ``turn_count``, or None when the guard is held or the interview is not
    active.
    """
    c = INTERVIEWS.c
    conditions = [c.id == interview_id, c.status == "active", _guard_free(stale_before, dead_owner)]
    if expected_count is not None:
        conditions.append(c.turn_count == expected_count)
    result = session.execute(
        update(INTERVIEWS)
        .where(*conditions)
        .values(**_take_guard(advance, holder, now, marker))
        .returning(c.turn_count)
    )
    value = result.scalar_one_or_none()
    return None if value is None else int(value)


_TRANSCRIPT = (
    select(TURNS.c.index, TURNS.c.speaker, TURNS.c.text, TURNS.c.status)
    .where(TURNS.c.interview_id == bindparam("interview_id"))
    .order_by(TURNS.c.index)
)


def transcript_rows(session: Session | Connection, interview_id: str) -> list[Any]:
    """(index, speaker, text, status) of every turn in order, as plain rows, not objects."""
    return list(session.execute(_TRANSCRIPT, {"interview_id": interview_id}).all())


def insert_turns(session: Session | Connection, turns: Iterable[dict[str, Any]]) -> None:
    """Insert new turns (column values) in one statement, without tracking them."""
    session.execute(_INSERT_TURNS, list(turns))


_INSERT_TURNS = insert(TURNS)

# Taking the guard for a new exchange (the human's turn and the reply), checking the owner,
# and reading what the reply needs, in one statement: the hot path of every turn.
_GUARD_NEW = (
    update(INTERVIEWS)
    .where(
        INTERVIEWS.c.id == bindparam("b_id"),
        INTERVIEWS.c.owner == bindparam("b_owner"),
        INTERVIEWS.c.status == "active",
        _guard_free(bindparam("b_stale_before")),
    )
    .values(**_take_guard(2, bindparam("b_holder"), bindparam("b_now")))
    .returning(
        INTERVIEWS.c.turn_count,
        INTERVIEWS.c.human_side,
        INTERVIEWS.c.engine_state,
        INTERVIEWS.c.job_description,
        INTERVIEWS.c.resume,
        INTERVIEWS.c.backend,
    )
)

_SNAPSHOTS = select(INTERVIEWS.c.persona, INTERVIEWS.c.rubrics).where(
    INTERVIEWS.c.id == bindparam("b_id")
)


def guard_new_exchange(
    connection: Connection,
    interview_id: str,
    *,
    owner: str,
    holder: str,
    now: datetime,
    stale_before: datetime,
) -> Any | None:
    """Take the guard for two new turns when it is plainly free; the row's new turn_count,
    human_side, engine_state, job_description, resume and backend, or None when the guard is
    held, the interview is not active or not ``owner``'s (the caller then finds out which)."""
    result = connection.execute(
        _GUARD_NEW,
        {
            "b_id": interview_id,
            "b_owner": owner,
            "b_holder": holder,
            "b_now": now,
            "b_stale_before": stale_before,
        },
    )
    return result.first()


def snapshot_data(connection: Connection, interview_id: str) -> tuple[Any, Any]:
    """The stored persona and rubrics of an interview, as JSON data."""
    row = connection.execute(_SNAPSHOTS, {"b_id": interview_id}).one()
    return row.persona, row.rubrics


def reload_interview(session: Session, interview_id: str) -> InterviewRow:
    row = session.get(InterviewRow, interview_id, populate_existing=True)
    if row is None:
        raise NotFound("interview", interview_id)
    return row


def stale_claims(session: Session) -> list[tuple[str, str]]:
    """(interview id, holder) of every guard currently taken."""
    rows = session.scalars(
        select(InterviewRow).where(
            InterviewRow.inflight_owner.is_not(None)  # type: ignore[union-attr]
        )
    ).all()
    return [(row.id, str(row.inflight_owner)) for row in rows]


def refresh_claim(session: Session, interview_id: str, holder: str, now: datetime) -> bool:
    result = session.execute(
        update(INTERVIEWS).where(_held_by(interview_id, holder)).values(inflight_since=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


_SAVE_REPLY = (
    update(TURNS)
    .where(TURNS.c.interview_id == bindparam("b_id"), TURNS.c.index == bindparam("b_index"))
    .values(
        text=bindparam("b_text"),
        status=bindparam("b_status"),
        fallback=bindparam("b_fallback"),
        meta=bindparam("b_meta", type_=TURNS.c.meta.type),
    )
)
_RELEASE_WITH_STATE = (
    update(INTERVIEWS)
    .where(_held_by(bindparam("b_id"), bindparam("b_holder")))
    .values(**_FREED, engine_state=bindparam("b_state", type_=INTERVIEWS.c.engine_state.type))
)


def save_reply(
    connection: Connection,
    interview_id: str,
    index: int,
    *,
    text: str,
    status: str,
    fallback: bool,
    meta: dict[str, Any],
    holder: str,
    engine_state: dict[str, Any],
) -> bool:
    """Save a finished reply and free the guard with the engine's new state, in two prepared
    statements. False when the guard was no longer ``holder``'s (the reply is saved anyway)."""
    connection.execute(
        _SAVE_REPLY,
        {
            "b_id": interview_id,
            "b_index": index,
            "b_text": text,
            "b_status": status,
            "b_fallback": fallback,
            "b_meta": meta,
        },
    )
    result = connection.execute(
        _RELEASE_WITH_STATE, {"b_id": interview_id, "b_holder": holder, "b_state": engine_state}
    )
    return bool(result.rowcount)


def release_turn(
    session: Session | Connection,
    interview_id: str,
    holder: str,
    values: dict[str, Any] | None = None,
) -> bool:
    """Clear the guard if ``holder`` still has it, applying ``values`` in the same statement."""
    result = session.execute(
        update(INTERVIEWS).where(_held_by(interview_id, holder)).values(**_FREED, **(values or {}))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def update_turn(
    session: Session | Connection, interview_id: str, index: int, **values: Any
) -> None:
    c = TURNS.c
    session.execute(
        update(TURNS).where(c.interview_id == interview_id, c.index == index).values(**values)
    )


def update_interview(session: Session, interview_id: str, **values: Any) -> None:
    session.execute(
        update(InterviewRow)
        .where(InterviewRow.id == interview_id)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
