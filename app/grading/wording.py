"""Plain-language rationales: what a coach would say about a grade, without signal names or sums.

Rubric files word their rule and cap reasons as clauses addressed to the person ("you asked
about their journey"); this module turns the reasons behind a score into one or two sentences.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SIGNALS_NOTE = "Scored from conversation signals."
NOT_APPLICABLE = "Not applicable here."
MAX_CLAUSES = 2  # per sentence: what worked, then what held the score back

# A rubric's signal targets (``signals: {name: {min, max}}``) in words: (below min, above max).
TARGETS: dict[str, tuple[str, str]] = {
    "reflects": ("you didn't say back anything they told you", ""),
    "follow_up_overlap": ("your question wasn't built on what they just said", ""),
    "questions_in_turn": ("", "you asked several questions at once"),
    "question_streak": ("", "you've asked question after question without responding"),
    "callback": ("there's no callback to something they said earlier", ""),
    "story_question": ("you didn't ask about their journey", ""),
    "open_question_ratio": ("your questions were mostly closed", ""),
    "passion_question": ("you didn't ask what excites them", ""),
    "position_question": ("", "you asked about titles, duties or credentials"),
    "opinion_question": ("you didn't ask for their view", ""),
    "trend_talk": ("you didn't raise where the field is heading", ""),
    "solution_language": ("you didn't say how you'd approach their problem", ""),
    "self_promotion": ("", "you described yourself with adjectives and skills"),
    "problem_focus": ("you talked more about yourself than about their problem", ""),
    "personal_disclosure": ("you didn't share anything of yourself", ""),
    "stock_phrase_count": ("", "you leaned on stock phrases"),
    "specific_enthusiasm": ("your enthusiasm wasn't tied to anything specific", ""),
    "generic_enthusiasm": ("", "some of the enthusiasm was generic"),
    "specific_question_turns": ("none of your questions built on the role or the conversation", ""),
    "stock_question_turns": ("", "you asked stock questions"),
    "vision_turns": ("you never said where the company is headed", ""),
    "vision_with_opinion": ("you didn't ask for their take on the direction", ""),
}


# Signals that speak for the same thing, so a rationale does not say it twice.
SAME_AS = {"stacked_questions": "questions_in_turn", "reflections_in_turn": "reflects"}


@dataclass(frozen=True)
class Reason:
    """One clause of a rationale and the signals it speaks for (to avoid saying a thing twice)."""

    text: str
    signals: frozenset[str]


def missed_targets(
    targets: Mapping[str, Mapping[str, float]], signals: Mapping[str, Any]
) -> list[Reason]:
    """The targets a turn misses, in words; targets without wording are left unsaid."""
    missed = []
    for name, bounds in targets.items():
        value = signals.get(name)
        if not isinstance(value, int | float):
            continue
        below, above = TARGETS.get(name, ("", ""))
        if "min" in bounds and value < bounds["min"] and below:
            missed.append(Reason(below, frozenset({name})))
        if "max" in bounds and value > bounds["max"] and above:
            missed.append(Reason(above, frozenset({name})))
    return missed


def _distinct(reasons: Iterable[Reason]) -> list[Reason]:
    """Reasons minus those about signals already spoken for, and empty or repeated ones."""
    kept: list[Reason] = []
    covered: set[str] = set()
    for reason in reasons:
        text = reason.text.strip()
        if not text or any(text == k.text for k in kept):
            continue
        names = {SAME_AS.get(n, n) for n in reason.signals}
        if names and names <= covered:
            continue
        kept.append(reason)
        covered |= names
    return kept


def sentence(clauses: Sequence[str]) -> str:
    """Clauses joined into one sentence, capitalised and full-stopped."""
    text = "; ".join(c.strip().rstrip(".") for c in clauses if c.strip())
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def rationale(
    good: Sequence[Reason], bad: Sequence[Reason], *, score: int, scope: str = "turn"
) -> str:
    """One sentence on what worked and one on what held the score back, the weaker side first
    when the score is low."""
    worked = sentence([r.text for r in _distinct(good)[:MAX_CLAUSES]])
    lacking = sentence([r.text for r in _distinct(bad)[:MAX_CLAUSES]])
    if not worked and not lacking:
        where = "this turn" if scope == "turn" else "the conversation"
        return f"Nothing in {where} stood out either way for this rubric."
    if score <= 2:
        # Lead with what to fix; what worked comes second, as a coach would soften it.
        return " ".join(p for p in [lacking, f"On the plus side, {worked[:1].lower()}{worked[1:]}"
                                    if worked else ""] if p)
    return " ".join(p for p in [worked, lacking] if p)


def capped(score: int, reasons: Sequence[str]) -> str:
    """Why a score was held down by the rubric's caps."""
    clauses = [r.strip().rstrip(".") for r in reasons if r.strip()]
    if not clauses:
        return ""
    return f"Capped at {score} because {' and '.join(dict.fromkeys(clauses))}."
