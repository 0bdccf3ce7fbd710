"""Every query Rapport runs: interviews, turns, grades, reports and the in-flight guard."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, text, update
from sqlmodel import Session, col

from app.interview.errors import NotFound
from app.store.tables import GradeRow, InterviewRow, ReportRow, TurnRow


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


def add_interview(session: Session, interview: InterviewRow, turns: Iterable[TurnRow]) -> None:
    session.add(interview)
    session.flush()
    session.add_all(list(turns))


def get_interview(session: Session, owner: str, interview_id: str) -> InterviewRow:
    """The interview if ``owner`` has it; anyone else's is reported as not found."""
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


def get_turn(session: Session, interview_id: str, index: int) -> TurnRow | None:
    return session.scalars(
        select(TurnRow).where(
            TurnRow.interview_id == interview_id,  # type: ignore[arg-type]
            TurnRow.index == index,  # type: ignore[arg-type]
        )
    ).first()


def add_turns(session: Session, turns: Iterable[TurnRow]) -> None:
    session.add_all(list(turns))


def list_grades(session: Session, interview_id: str) -> list[GradeRow]:
    return list(
        session.scalars(
            select(GradeRow)
            .where(GradeRow.interview_id == interview_id)  # type: ignore[arg-type]
            .order_by(GradeRow.id)  # type: ignore[arg-type]
        ).all()
    )


def replace_grades(
    session: Session, interview_id: str, turn_index: int | None, grades: Iterable[GradeRow]
) -> None:
    where_turn = (
        GradeRow.turn_index.is_(None)  # type: ignore[union-attr]
        if turn_index is None
        else GradeRow.turn_index == turn_index
    )
    session.execute(
        delete(GradeRow).where(GradeRow.interview_id == interview_id, where_turn)  # type: ignore[arg-type]
    )
    session.add_all(list(grades))


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
    free = [
        InterviewRow.inflight_turn.is_(None),  # type: ignore[union-attr]
        InterviewRow.inflight_since < stale_before,  # type: ignore[operator]
    ]
    if dead_owner is not None:
        free.append(InterviewRow.inflight_owner == dead_owner)
    conditions = [
        InterviewRow.id == interview_id,
        InterviewRow.status == "active",
        or_(*free),
    ]
    if expected_count is not None:
        conditions.append(InterviewRow.turn_count == expected_count)
    count = InterviewRow.turn_count
    result = session.execute(
        update(InterviewRow)
        .where(*conditions)  # type: ignore[arg-type]
        .values(
            inflight_turn=marker if marker is not None else count + advance - 1,
            inflight_owner=holder,
            inflight_since=now,
            turn_count=count + advance,
        )
        .returning(col(InterviewRow.turn_count))
        .execution_options(synchronize_session=False)
    )
    value = result.scalar_one_or_none()
    return None if value is None else int(value)


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
        update(InterviewRow)
        .where(InterviewRow.id == interview_id, InterviewRow.inflight_owner == holder)  # type: ignore[arg-type]
        .values(inflight_since=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_turn(
    session: Session, interview_id: str, holder: str, values: dict[str, Any] | None = None
) -> bool:
    """Clear the guard if ``holder`` still has it, applying ``values`` in the same statement."""
    result = session.execute(
        update(InterviewRow)
        .where(InterviewRow.id == interview_id, InterviewRow.inflight_owner == holder)  # type: ignore[arg-type]
        .values(inflight_turn=None, inflight_owner=None, inflight_since=None, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def update_turn(session: Session, interview_id: str, index: int, **values: Any) -> None:
    session.execute(
        update(TurnRow)
        .where(TurnRow.interview_id == interview_id, TurnRow.index == index)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def update_interview(session: Session, interview_id: str, **values: Any) -> None:
    session.execute(
        update(InterviewRow)
        .where(InterviewRow.id == interview_id)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
