"""Interviews: start one, list, read, delete, finish with a report, and export transcripts."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from app.grading.grader import Grader
from app.grading.models import Grade, Rubric
from app.grading.report import Report, build_report, report_markdown
from app.interview.engine import Engine
from app.interview.errors import Conflict, InvalidInput
from app.interview.models import Persona, Side, Turn
from app.llm.backends import BackendUnavailable
from app.services.claims import storable
from app.services.runtime import Runtime, holder_is_dead, new_holder
from app.services.views import (
    InterviewOut,
    InterviewSummary,
    NewInterview,
    aware,
    grade_out,
    grade_values,
    hidden_facts,
    interview_out,
    interview_summary,
)
from app.store import repository as repo
from app.store.tables import InterviewRow, ReportRow, TurnRow, utcnow

# The guard's marker while a finish is being graded: no turn has a negative index.
FINISHING = -1


class Page(BaseModel):
    """One page of a user's interviews, newest first, with the total across all pages."""

    items: list[InterviewSummary]
    total: int
    limit: int
    offset: int


def stock_phrases(rubrics: list[Rubric]) -> list[str]:
    return sorted({phrase for rubric in rubrics for phrase in rubric.stock_phrases})


class InterviewService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def choose_rubrics(self, persona: Persona, rubric_ids: list[str] | None) -> list[Rubric]:
        """The rubrics asked for, else the persona's own, else every rubric for the human side."""
        ids = rubric_ids if rubric_ids is not None else persona.rubrics
        return self.runtime.rubrics.choose(
            persona.human_side,
            ids,
            field="rubric_ids",
            why=f"(they grade the {persona.side}; you take the {persona.human_side} side "
            f"opposite {persona.name})",
        )

    async def create(self, owner: str, request: NewInterview) -> InterviewOut:
        if request.backend is not None:
            try:
                self.runtime.backends.check(request.backend)
            except BackendUnavailable as error:
                raise InvalidInput("backend", str(error)) from None
        persona = self.runtime.personas.get(request.persona_id)
        rubrics = self.choose_rubrics(persona, request.rubric_ids)
        engine = Engine(
            persona,
            window=self.runtime.settings.transcript_window,
            job_description=request.job_description,
            resume=request.resume,
        )
        state = engine.initial_state()
        models = await self.runtime.backends.get(request.backend)
        now = utcnow()
        interview_id = uuid.uuid4().hex
        turns: list[TurnRow] = []
        opening = engine.opening(state)
        if opening is not None:
            # The opening is the persona file's own words, so it needs no model call.
            state = opening.state_after
            turns.append(
                TurnRow(
                    interview_id=interview_id,
                    index=0,
                    speaker=persona.side,
                    text=opening.script,
                    status="complete",
                    meta={"move": opening.kind},
                    created_at=now,
                )
            )
        row = InterviewRow(
            id=interview_id,
            owner=owner,
            persona_id=persona.id,
            human_side=persona.human_side,
            status="active",
            backend=models.backend,
            model=models.persona_model_name,
            persona=persona.model_dump(mode="json"),
            rubrics=[r.model_dump(mode="json") for r in rubrics],
            job_description=storable(request.job_description),
            resume=storable(request.resume),
            engine_state=state.to_dict(),
            turn_count=len(turns),
            created_at=now,
        )

        def save(session: Session) -> InterviewOut:
            repo.add_interview(session, row, turns)
            return interview_out(row, turns, [])

        return await self.runtime.run_db(save)

    async def page(self, owner: str, *, limit: int, offset: int) -> Page:
        rows, total = await self.runtime.run_db(
            lambda s: repo.list_interviews(s, owner, limit=limit, offset=offset)
        )
        items = [interview_summary(self._live(r)) for r in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    def _live(self, row: InterviewRow) -> InterviewRow:
        """Hide a guard whose holder died, so a crashed reply shows as retryable."""
        if row.inflight_turn is not None and (
            holder_is_dead(row.inflight_owner)
            or (
                row.inflight_since is not None
                and aware(row.inflight_since) < self.runtime.stale_before(utcnow())
            )
        ):
            row.inflight_turn = None
        if row.inflight_turn is not None and row.inflight_turn < 0:
            row.inflight_turn = None
        return row

    async def get(self, owner: str, interview_id: str) -> InterviewOut:
        def read(session: Session) -> InterviewOut:
            row = repo.get_interview(session, owner, interview_id)
            turns = repo.list_turns(session, interview_id)
            grades = repo.list_grades(session, interview_id)
            session.expunge(row)
            return interview_out(self._live(row), turns, grades)

        return await self.runtime.run_db(read)

    async def delete(self, owner: str, interview_id: str) -> None:
        def remove(session: Session) -> None:
            repo.get_interview(session, owner, interview_id)
            repo.delete_interview(session, interview_id)

        await self.runtime.run_db(remove)

    # --- finishing and reports ---------------------------------------------------------------

    async def finish(self, owner: str, interview_id: str) -> Report:
        """Grade the session, store the report and close the interview. Finishing twice is fine."""
        holder = new_holder()

        def claim(session: Session) -> tuple[InterviewRow, list[TurnRow], list[Grade]] | None:
            row = repo.get_interview(session, owner, interview_id)
            if row.status == "finished":
                return None
            now = utcnow()
            options: dict[str, Any] = {
                "holder": holder,
                "now": now,
                "stale_before": self.runtime.stale_before(now),
                "advance": 0,
                "marker": FINISHING,
            }
            taken = repo.claim_turn(session, interview_id, **options)
            if taken is None and holder_is_dead(row.inflight_owner):
                taken = repo.claim_turn(
                    session, interview_id, dead_owner=row.inflight_owner, **options
                )
            if taken is None:
                current = repo.reload_interview(session, interview_id)
                if current.status == "finished":
                    return None
                raise Conflict(
                    "A reply is still being generated; wait for it to finish, then finish the "
                    "interview."
                )
            turns = repo.list_turns(session, interview_id)
            grades = [grade_out(g) for g in repo.list_grades(session, interview_id)]
            session.expunge(row)
            return row, turns, grades

        claimed = await self.runtime.run_db(claim)
        if claimed is None:
            return await self.report(owner, interview_id)
        row, turn_rows, stored = claimed
        try:
            report, session_grades, score = await self._grade_session(row, turn_rows, stored)
        except BaseException:
            await self.runtime.run_db(lambda s: repo.release_turn(s, interview_id, holder))
            raise
        data = report.model_dump(mode="json")

        def save(session: Session) -> None:
            now = utcnow()
            repo.replace_grades(
                session, interview_id, None, [grade_values(interview_id, g) for g in session_grades]
            )
            repo.save_report(
                session, ReportRow(interview_id=interview_id, data=data, created_at=now)
            )
            repo.release_turn(
                session,
                interview_id,
                holder,
                {"status": "finished", "finished_at": now, "overall_score": score},
            )

        await self.runtime.run_db(save)
        return report

    async def _grade_session(
        self, row: InterviewRow, turn_rows: list[TurnRow], stored: list[Grade]
    ) -> tuple[Report, list[Grade], float | None]:
        persona = Persona.model_validate(row.persona)
        rubrics = [Rubric.model_validate(r) for r in row.rubrics]
        side: Side = persona.human_side
        # Grades keep stored indices; the report works on positions in the complete turns.
        kept = [t for t in turn_rows if t.status == "complete" and t.text]
        position = {t.index: i for i, t in enumerate(kept)}
        turns = [Turn(speaker=persona.side if t.speaker == persona.side else side, text=t.text)
                 for t in kept]
        turn_grades = [
            g.model_copy(update={"turn_index": position[g.turn_index]})
            for g in stored
            if g.turn_index is not None and g.turn_index in position
        ]
        facts = hidden_facts(persona)
        models = await self.runtime.backends.for_interview(row.backend)
        grader = Grader(rubrics, models.judge)
        session_grades = await grader.grade_session(turns, human_side=side, hidden_facts=facts)
        report = build_report(
            turns,
            turn_grades,
            session_grades,
            human_side=side,
            rubrics=rubrics,
            hidden_facts=facts,
        )
        scores = [g.score for g in (*stored, *session_grades) if g.score is not None]
        score = round(sum(scores) / len(scores), 2) if scores else None
        return report, [g.model_copy(update={"turn_index": None}) for g in session_grades], score

    async def report(self, owner: str, interview_id: str) -> Report:
        def read(session: Session) -> ReportRow | None:
            row = repo.get_interview(session, owner, interview_id)
            if row.status != "finished":
                raise Conflict(
                    "The report is written when the interview finishes: "
                    f"POST /api/interviews/{interview_id}/finish first."
                )
            return repo.get_report(session, interview_id)

        stored = await self.runtime.run_db(read)
        if stored is None:
            raise Conflict("This interview finished without a report; finish it again.")
        return Report.model_validate(stored.data)

    @staticmethod
    def report_markdown(report: Report) -> str:
        return report_markdown(report)

    # --- exports -----------------------------------------------------------------------------

    @staticmethod
    def transcript_json(interview: InterviewOut) -> dict[str, Any]:
        """A transcript that ``rapport grade`` and ``POST /api/grade`` read back as it is."""
        return {
            "id": interview.id,
            "persona_id": interview.persona_id,
            "persona": interview.persona.model_dump(mode="json"),
            "human_side": interview.human_side,
            "rubrics": interview.rubric_ids,
            "status": interview.status,
            "created_at": interview.created_at.isoformat(),
            "turns": [
                {
                    "index": t.index,
                    "speaker": t.speaker,
                    "text": t.text,
                    "status": t.status,
                    "grades": [g.model_dump(mode="json") for g in t.grades],
                }
                for t in interview.turns
            ],
        }

    @staticmethod
    def transcript_markdown(interview: InterviewOut) -> str:
        persona = interview.persona
        lines = [
            f"# Interview with {persona.name} ({persona.role}, {persona.company})",
            "",
            f"- human side: {interview.human_side}",
            f"- persona: {persona.id} ({persona.side})",
            f"- started: {interview.created_at.isoformat()}",
            f"- status: {interview.status}",
            "",
        ]
        for turn in interview.turns:
            who = "you" if turn.speaker == interview.human_side else persona.name[:30]
            note = "" if turn.status == "complete" else f", reply {turn.status}"
            text = markdown_turn_text(turn.text) or "(no text)"
            # The format `rapport grade` reads back: "**Speaker (who):** text".
            lines.append(f"**{turn.speaker.capitalize()} ({who}{note}):** {text}")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


# A line inside a turn that reads as a speaker label, a heading or a rule would start a forged
# turn, or vanish, when `rapport grade` reads the file back; a leading backslash keeps it text.
_MD_STRUCTURE = re.compile(r"^\s*(?:[-*+>#_`=|]|(?:interviewer|candidate)\b)", re.IGNORECASE)


def markdown_turn_text(text: str) -> str:
    first, *rest = text.strip().splitlines() or [""]
    escaped = [f"\\{line.lstrip()}" if _MD_STRUCTURE.match(line) else line for line in rest]
    return "\n".join([first, *escaped])


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
