"""The session report: rubric scores and trends, talk balance, strengths, the best moment."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.grading.models import Grade, Rubric
from app.grading.signals import session_signals
from app.interview.models import HiddenFact, Side, Turn, other_side

QUOTE_CHARS = 240
TOP_N = 3
RQBand = Literal["no questions", "below fair", "fair", "good"]


class TrendPoint(BaseModel):
    turn_index: int
    score: int


class RubricSummary(BaseModel):
    """One rubric over the session: the mean of its turn scores, or its session score."""

    rubric_id: str
    title: str
    scope: Literal["turn", "session"]
    score: float | None = Field(description="1-5, or null when no turn was graded (all N/A)")
    trend: list[TrendPoint]
    n_graded: int
    method: str = Field(description="signals, llm+signals, or mixed")


class Highlight(BaseModel):
    """A strength or an improvement, with the words that show it and what to try next."""

    rubric_id: str
    title: str
    score: float
    quote: str
    turn_index: int | None
    rationale: str
    tip: str


class Moment(BaseModel):
    turn_index: int
    score: float = Field(description="mean of the turn's scored grades")
    quote: str
    scores: dict[str, int]


class HiddenFactsFound(BaseModel):
    discovered: list[str]
    total: int


class Report(BaseModel):
    human_side: Side
    turns: int
    human_turns: int
    overall_score: float | None = Field(description="mean of the rubric scores (1-5)")
    rubrics: list[RubricSummary]
    talk_share: dict[str, float]
    talk_share_note: str
    reflection_to_question_ratio: float | None
    reflection_to_question_band: RQBand
    reflection_to_question_note: str
    longest_question_streak: int
    strengths: list[Highlight]
    improvements: list[Highlight]
    best_moment: Moment | None
    hidden_facts: HiddenFactsFound | None = Field(
        None, description="for interviewer practice: facts the candidate let slip"
    )
    signals: dict[str, Any] = Field(default_factory=dict, description="the session signals")


def rq_band(reflections: int, questions: int) -> tuple[float | None, RQBand, str]:
    """Reflection-to-question ratio, its band and a plain-language note.

    Motivational interviewing counts a ratio of 1:1 as fair and 2:1 as good practice.
    """
    if questions == 0:
        note = "You asked no questions, so there is no reflection-to-question ratio."
        return None, "no questions", note
    ratio = round(reflections / questions, 2)
    band: RQBand = "good" if ratio >= 2 else "fair" if ratio >= 1 else "below fair"
    counts = f"{reflections} reflection{'s' * (reflections != 1)} to {questions} "
    counts += f"question{'s' * (questions != 1)} (R:Q {ratio:g}:1)"
    advice = {
        "good": "a good balance: you showed you heard before you asked again.",
        "fair": "fair. Reflecting twice as often as you ask (2:1) counts as good.",
        "below fair": "below fair. Say back something specific you heard before the next "
        "question; 1:1 is fair and 2:1 is good.",
    }[band]
    return ratio, band, f"{counts}: {advice}"


def _talk_note(share: dict[str, float], side: Side) -> str:
    mine = round(100 * share.get(side, 0.0))
    theirs = round(100 * share.get(other_side(side), 0.0))
    base = f"You spoke {mine}% of the words; the {other_side(side)} spoke {theirs}%."
    if side == "interviewer" and mine > 50:
        return base + " Interviewers learn more when the candidate does most of the talking."
    if side == "candidate" and mine < 40:
        return base + " Candidates usually carry more of the conversation: add a story or detail."
    return base


def _cut(text: str, limit: int = QUOTE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _mean(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _method(grades: Sequence[Grade]) -> str:
    methods = {g.method for g in grades if g.score is not None} or {g.method for g in grades}
    if not methods:
        return "signals"
    return methods.pop() if len(methods) == 1 else "mixed"


def _quote(grade: Grade, turns: Sequence[Turn]) -> str:
    if grade.evidence.strip():
        return _cut(grade.evidence)
    if grade.turn_index is not None and 0 <= grade.turn_index < len(turns):
        return _cut(turns[grade.turn_index].text)
    return ""


def _highlight(
    summary: RubricSummary, grades: Sequence[Grade], rubric: Rubric, turns: Sequence[Turn], *,
    best: bool,
) -> Highlight:
    scored = [g for g in grades if g.score is not None]
    # Prefer a grade with a quote; among equals, the latest turn shows where the person ended up.
    def rank(g: Grade) -> tuple[int, bool, int]:
        score = g.score or 0
        return (score if best else -score, bool(g.evidence.strip()), g.turn_index or 0)

    pick = max(scored, key=rank)
    return Highlight(
        rubric_id=summary.rubric_id,
        title=summary.title,
        score=summary.score or 0.0,
        quote=_quote(pick, turns),
        turn_index=pick.turn_index,
        rationale=pick.rationale,
        tip=rubric.tip,
    )


def build_report(
    turns: Sequence[Turn],
    turn_grades: Sequence[Grade],
    session_grades: Sequence[Grade],
    *,
    human_side: Side,
    rubrics: Sequence[Rubric],
    hidden_facts: Sequence[HiddenFact] = (),
) -> Report:
    """Sum a graded interview up: what went well, what to practise, and the numbers behind it."""
    signals = session_signals(list(turns), human_side, list(hidden_facts))
    by_rubric: dict[str, list[Grade]] = defaultdict(list)
    for grade in turn_grades:
        by_rubric[grade.rubric_id].append(grade)
    session_by_rubric = {g.rubric_id: g for g in session_grades}

    summaries: list[RubricSummary] = []
    graded: dict[str, list[Grade]] = {}
    for rubric in rubrics:
        if rubric.applies_to != human_side:
            continue
        if rubric.scope == "session":
            own = [session_by_rubric[rubric.id]] if rubric.id in session_by_rubric else []
        else:
            own = sorted(by_rubric.get(rubric.id, []), key=lambda g: g.turn_index or 0)
        scored = [g for g in own if g.score is not None]
        trend = [
            TrendPoint(turn_index=g.turn_index, score=g.score)
            for g in scored
            if g.turn_index is not None and g.score is not None
        ]
        summaries.append(
            RubricSummary(
                rubric_id=rubric.id,
                title=rubric.title,
                scope=rubric.scope,
                score=_mean([g.score for g in scored if g.score is not None]),
                trend=trend,
                n_graded=len(scored),
                method=_method(own),
            )
        )
        graded[rubric.id] = own

    rated = [s for s in summaries if s.score is not None]
    by_id = {r.id: r for r in rubrics}
    ranked = sorted(rated, key=lambda s: (-(s.score or 0), -s.n_graded))
    # With few rubrics, keep both lists honest: no more than half can be strengths.
    room = min(TOP_N, math.ceil(len(ranked) / 2))
    strengths = [s for s in ranked if (s.score or 0) >= 3][:room]
    rest = [s for s in reversed(ranked) if s not in strengths and (s.score or 0) < 5]
    improvements = rest[:TOP_N]

    ratio, band, rq_note = rq_band(int(signals["reflections"]), int(signals["questions"]))
    facts = signals.get("hidden_facts") or {}
    total_facts = int(facts.get("total", 0))
    talk = {side: float(value) for side, value in signals["talk_share"].items()}
    return Report(
        human_side=human_side,
        turns=len(turns),
        human_turns=sum(1 for t in turns if t.speaker == human_side),
        overall_score=_mean_float([s.score for s in rated if s.score is not None]),
        rubrics=summaries,
        talk_share=talk,
        talk_share_note=_talk_note(talk, human_side),
        reflection_to_question_ratio=ratio,
        reflection_to_question_band=band,
        reflection_to_question_note=rq_note,
        longest_question_streak=int(signals["longest_question_streak"]),
        strengths=[_highlight(s, graded[s.rubric_id], by_id[s.rubric_id], turns, best=True)
                   for s in strengths],
        improvements=[_highlight(s, graded[s.rubric_id], by_id[s.rubric_id], turns, best=False)
                      for s in improvements],
        best_moment=_best_moment(turns, turn_grades),
        hidden_facts=HiddenFactsFound(discovered=list(facts.get("discovered", [])),
                                      total=total_facts) if total_facts else None,
        signals=signals,
    )


def _mean_float(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _best_moment(turns: Sequence[Turn], grades: Sequence[Grade]) -> Moment | None:
    per_turn: dict[int, dict[str, int]] = defaultdict(dict)
    for grade in grades:
        if grade.turn_index is not None and grade.score is not None:
            per_turn[grade.turn_index][grade.rubric_id] = grade.score
    if not per_turn:
        return None

    def rank(index: int) -> tuple[float, int, int]:
        scores = per_turn[index]
        return (sum(scores.values()) / len(scores), len(scores), -index)

    index = max(per_turn, key=rank)
    scores = per_turn[index]
    text = turns[index].text if 0 <= index < len(turns) else ""
    return Moment(
        turn_index=index,
        score=round(sum(scores.values()) / len(scores), 2),
        quote=_cut(text),
        scores=dict(sorted(scores.items())),
    )


# --- Markdown -------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md(text: str) -> str:
    """User text made inert in Markdown: one line, with markup characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _score(value: float | None) -> str:
    return "N/A" if value is None else f"{value:.1f}"


def trend_text(points: Sequence[TrendPoint]) -> str:
    """Scores in turn order, e.g. '2 → 3 → 5', shortened in the middle when long."""
    scores = [str(p.score) for p in points]
    if len(scores) > 10:
        scores = [*scores[:4], "…", *scores[-5:]]
    return " → ".join(scores) or "-"


def _highlight_lines(items: Sequence[Highlight], empty: str) -> list[str]:
    if not items:
        return [empty]
    lines: list[str] = []
    for number, item in enumerate(items, start=1):
        # People read turns counted from 1, as the web pages show them; JSON keeps 0-based indices.
        where = f" (turn {item.turn_index + 1})" if item.turn_index is not None else ""
        lines.append(f"{number}. **{_md(item.title)}** ({item.score:.1f}/5){where}")
        if item.quote:
            lines.append(f"   > {_md(item.quote)}")
            lines.append("")
        lines.append(f"   Tip: {_md(item.tip)}")
    return lines


def report_markdown(report: Report, *, title: str = "Interview report") -> str:
    """The report as plain Markdown (no HTML), ready to paste or print."""
    overall = (
        f"Overall score: **{report.overall_score:.1f} / 5**"
        if report.overall_score is not None
        else "Overall score: not graded"
    )
    lines = [
        f"# {_md(title)}",
        "",
        f"You practised as the **{report.human_side}**, over {report.human_turns} of "
        f"{report.turns} turns. {overall}.",
        "",
        "## Scores",
        "",
        "| Rubric | Score | Trend | Graded | Method |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in report.rubrics:
        graded = "session" if item.scope == "session" else str(item.n_graded)
        lines.append(
            f"| {_md(item.title)} | {_score(item.score)} | {trend_text(item.trend)} | {graded} "
            f"| {item.method} |"
        )
    lines += [
        "",
        "## Conversation",
        "",
        f"- Talk share: {_md(report.talk_share_note)}",
        f"- Reflections to questions: {_md(report.reflection_to_question_note)}",
        f"- Longest run of question-only turns: {report.longest_question_streak}.",
    ]
    if report.hidden_facts is not None:
        found = report.hidden_facts
        lines.append(f"- Hidden facts drawn out: {len(found.discovered)} of {found.total}.")
        lines += [f"  - {_md(text)}" for text in found.discovered]
    lines += ["", "## Strengths", ""]
    lines += _highlight_lines(report.strengths, "No rubric scored 3 or more yet.")
    lines += ["", "## To improve", ""]
    lines += _highlight_lines(report.improvements, "Nothing below 5: keep it up.")
    lines += ["", "## Best moment", ""]
    if report.best_moment is None:
        lines.append("No turn was graded.")
    else:
        moment = report.best_moment
        lines += [
            f"Turn {moment.turn_index + 1}, scoring {moment.score:.1f} on average:",
            "",
            f"> {_md(moment.quote)}",
        ]
    return "\n".join(lines).rstrip() + "\n"
