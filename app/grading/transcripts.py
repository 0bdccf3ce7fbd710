"""Transcripts from files (JSON or Markdown), graded the way a live interview is."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.grading.grader import Grader
from app.grading.models import Grade
from app.grading.report import Report, build_report
from app.grading.rubrics import RubricCatalog
from app.interview.errors import InvalidInput
from app.interview.models import SIDES, HiddenFact, Side, Turn
from app.llm.base import ChatModel

MAX_TRANSCRIPT_BYTES = 5 * 1024 * 1024
MAX_TURNS = 5000
MARKDOWN_SUFFIXES = {".md", ".markdown", ".txt"}

_SIDE_NAMES: dict[str, Side] = {side: side for side in SIDES}
_MD_TURN = re.compile(
    r"^\s*(?:[-*+>]\s+)?(?:\*\*|__)?\s*(?P<speaker>interviewer|candidate)\b\s*"
    r"(?:\([^)]{0,60}\))?\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(?P<text>.*)$",
    re.IGNORECASE,
)
_MD_SIDE = re.compile(
    r"^\s*(?:[-*+>]\s+)?(?:\*\*|__)?\s*human[ _-]side\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*"
    r"(?P<side>[a-z]+)",
    re.IGNORECASE,
)
_MD_SKIP = re.compile(r"^\s*(?:#{1,6}\s.*|#{1,6}|[-*_]{3,}|```.*)\s*$")
_MD_FORMAT_HINT = "write each turn as '**Interviewer:** text' or 'Candidate: text' on its own line"


@dataclass(frozen=True)
class Transcript:
    """Turns to grade, the side the human took (when the file says) and where they came from."""

    turns: list[Turn]
    human_side: Side | None = None
    source: str = "transcript"
    hidden_facts: list[HiddenFact] = field(default_factory=list)
    rubric_ids: list[str] = field(default_factory=list)


def _side(value: Any, where: str) -> Side:
    if isinstance(value, str) and value.strip().lower() in _SIDE_NAMES:
        return _SIDE_NAMES[value.strip().lower()]
    raise InvalidInput(where, f"expected 'interviewer' or 'candidate', got {value!r}")


def _checked(turns: list[Turn], source: str) -> list[Turn]:
    if not turns:
        raise InvalidInput(f"{source}: turns", "no turns found; a transcript needs at least one")
    if len(turns) > MAX_TURNS:
        raise InvalidInput(f"{source}: turns", f"{len(turns)} turns; the limit is {MAX_TURNS}")
    return turns


def transcript_from_data(data: Any, source: str = "transcript") -> Transcript:
    """Build a transcript from parsed JSON: ``{"human_side", "turns": [...]}`` or a bare list."""
    human_side: Side | None = None
    facts: list[HiddenFact] = []
    rubric_ids: list[str] = []
    if isinstance(data, dict):
        if "turns" not in data:
            raise InvalidInput(f"{source}: turns", "field required (a list of {speaker, text})")
        if data.get("human_side") is not None:
            human_side = _side(data["human_side"], f"{source}: human_side")
        facts = _hidden_facts(data.get("hidden_facts") or [], source)
        rubric_ids = _rubric_ids(data.get("rubrics") or [], source)
        items = data["turns"]
    else:
        items = data
    if not isinstance(items, list):
        raise InvalidInput(f"{source}: turns", f"expected a list of turns, got {_kind(items)}")
    turns: list[Turn] = []
    for position, item in enumerate(items):
        where = f"{source}: turns[{position}]"
        if not isinstance(item, dict):
            raise InvalidInput(where, f"expected an object {{speaker, text}}, got {_kind(item)}")
        speaker = _side(item.get("speaker"), f"{where}.speaker")
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f"{where}.text", "expected non-empty text")
        turns.append(Turn(speaker, text.strip()))
    return Transcript(_checked(turns, source), human_side, source, facts, rubric_ids)


def _hidden_facts(value: Any, source: str) -> list[HiddenFact]:
    if not isinstance(value, list):
        raise InvalidInput(f"{source}: hidden_facts", "expected a list of {text, triggers}")
    facts: list[HiddenFact] = []
    for position, item in enumerate(value):
        try:
            facts.append(HiddenFact.model_validate(item))
        except ValueError as exc:
            raise InvalidInput(
                f"{source}: hidden_facts[{position}]",
                "expected {\"text\": ..., \"triggers\": [words that draw it out]}",
            ) from exc
    return facts


def _rubric_ids(value: Any, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{source}: rubrics", "expected a list of rubric ids")
    return [v.strip() for v in value if v.strip()]


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_json(text: str, source: str = "transcript") -> Transcript:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            source, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return transcript_from_data(data, source)


def parse_markdown(text: str, source: str = "transcript") -> Transcript:
    """Turns are lines starting with a speaker label; lines after one continue that turn."""
    human_side: Side | None = None
    speakers: list[Side] = []
    bodies: list[list[str]] = []
    starts: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        turn = _MD_TURN.match(line)
        if turn:
            speakers.append(_side(turn["speaker"], f"{source}: line {number}"))
            bodies.append([turn["text"].rstrip().removesuffix("**").rstrip()])
            starts.append(number)
        elif not speakers and (side := _MD_SIDE.match(line)):
            human_side = _side(side["side"], f"{source}: line {number}: human side")
        elif speakers and not _MD_SKIP.match(line):
            bodies[-1].append(line.rstrip())
    if not speakers:
        raise InvalidInput(source, f"no turns found; {_MD_FORMAT_HINT}")
    turns: list[Turn] = []
    for speaker, body, start in zip(speakers, bodies, starts, strict=True):
        # Markdown joins the lines of a paragraph; a blank line starts a new one.
        paragraphs = "\n\n".join(
            " ".join(line.strip() for line in block.splitlines() if line.strip())
            for block in re.split(r"\n\s*\n", "\n".join(body))
            if block.strip()
        )
        if not paragraphs:
            raise InvalidInput(f"{source}: line {start}", f"the {speaker}'s turn has no text")
        turns.append(Turn(speaker, paragraphs))
    return Transcript(_checked(turns, source), human_side, source)


def load_transcript(path: Path) -> Transcript:
    """Read a transcript file; Markdown by suffix (.md, .markdown, .txt), otherwise JSON."""
    source = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(source, f"cannot read file ({exc.strerror})") from None
    if size > MAX_TRANSCRIPT_BYTES:
        raise InvalidInput(source, f"file is {size} bytes; the limit is {MAX_TRANSCRIPT_BYTES}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(source, "not UTF-8 text") from None
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        return parse_markdown(text, source)
    return parse_json(text, source)


def graded_transcript(
    source: str,
    transcript: Transcript,
    human_side: Side,
    turn_grades: Sequence[Grade],
    session_grades: Sequence[Grade],
    report: Report,
) -> dict[str, Any]:
    """A graded transcript as JSON: each human turn's grades, the session grades and signals
    (the shape ``POST /api/grade`` answers with), and the report."""
    by_turn: dict[int, list[dict[str, Any]]] = {}
    for grade in turn_grades:
        by_turn.setdefault(grade.turn_index or 0, []).append(grade.model_dump())
    return {
        "file": source,
        "human_side": human_side,
        "turns": [
            {"index": i, "speaker": t.speaker, "grades": by_turn.get(i, [])}
            for i, t in enumerate(transcript.turns)
            if t.speaker == human_side
        ],
        "session_grades": [g.model_dump() for g in session_grades],
        "signals": report.signals,
        "report": report.model_dump(exclude={"signals"}),
    }


async def grade_file(
    path: Path,
    *,
    catalog: RubricCatalog,
    rubric_ids: Sequence[str] = (),
    side: Side | None = None,
    judge: ChatModel | None = None,
) -> tuple[dict[str, Any], Report]:
    """Load and grade one transcript file. ``side`` overrides the file's ``human_side``;
    ``rubric_ids`` (else the file's ``rubrics``, else every rubric of the side) choose rubrics."""
    transcript = load_transcript(path)
    human_side = side or transcript.human_side
    if human_side is None:
        raise InvalidInput(
            str(path),
            "the file does not say which side the human took (human_side); "
            "pass --side interviewer or --side candidate",
        )
    ids = list(rubric_ids) or transcript.rubric_ids
    chosen = [catalog.get(i) for i in ids] if ids else catalog.list(human_side)
    rubrics = [r for r in chosen if r.applies_to == human_side]
    if not rubrics:
        raise InvalidInput(f"{path}: rubrics", f"none of {', '.join(ids)} grade the {human_side}")
    turn_grades, session_grades = await Grader(rubrics, judge).grade_transcript(
        transcript.turns, human_side=human_side, hidden_facts=transcript.hidden_facts
    )
    report = build_report(
        transcript.turns,
        turn_grades,
        session_grades,
        human_side=human_side,
        rubrics=rubrics,
        hidden_facts=transcript.hidden_facts,
    )
    data = graded_transcript(str(path), transcript, human_side, turn_grades, session_grades, report)
    return data, report
