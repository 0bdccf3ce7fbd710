"""Signals-only scores from a rubric's rules, bounded by its caps, with a quoted sentence.

A rubric's ``stock_phrase_count`` is its own: signals carry every stock phrase found for the
side, and ``rubric_signals`` narrows that to the phrases this rubric lists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from app.grading import lexicon as lx
from app.grading.conditions import holds, parse
from app.grading.models import Cap, Grade, Rubric, Rule
from app.grading.text import Sentence, analyse, normalise, phrases_in
from app.grading.wording import NOT_APPLICABLE, Reason, missed_targets, rationale

EVIDENCE_MAX_CHARS = 280

# Which cue in a sentence makes it the evidence for a signal that drove the score.
_CUES: dict[str, re.Pattern[str]] = {
    "story_question": lx.STORY_QUESTION,
    "passion_question": lx.PASSION_QUESTION,
    "position_question": lx.POSITION_QUESTION,
    "opinion_question": lx.OPINION_QUESTION,
    "role_question": lx.ROLE_QUESTION,
    "vision_statement": lx.VISION,
    "vision_turns": lx.VISION,
    "vision_with_opinion": lx.VISION,
    "trend_talk": lx.TREND,
    "trend_turns": lx.TREND,
    "solution_language": lx.SOLUTION,
    "self_promotion": lx.SELF_PROMOTION,
    "personal_disclosure": lx.PERSONAL,
    "story_markers": lx.STORY_MARKER,
    "humour": lx.HUMOUR,
    "enthusiasm": lx.ENTHUSIASM,
    "generic_enthusiasm": lx.ENTHUSIASM,
    "callback": lx.REFERENCE,
    "callback_turns": lx.REFERENCE,
}
_OVERLAP = frozenset(
    {
        "reflects",
        "reflective_opener",
        "reflections_in_turn",
        "shared_words",
        "shared_phrases",
        "follow_up_overlap",
        "acknowledges",
        "callbacks",
        "reflections",
        "reflection_to_question_ratio",
    }
)
_QUESTION = frozenset(
    {
        "questions_in_turn",
        "open_questions",
        "closed_questions",
        "stacked_questions",
        "question_only",
        "question_streak",
        "open_question_ratio",
        "questions",
        "question_turns",
        "longest_question_streak",
        "question_only_turns",
        "specific_question_turns",
        "stock_question_turns",
        "stock_question",
    }
)
_DETAIL = frozenset(
    {
        "specificity",
        "specific_details",
        "numbers",
        "proper_names",
        "concrete_terms",
        "specific_enthusiasm",
        "mean_specificity",
    }
)
_STOCK = frozenset({"stock_phrase_count", "stock_question", "stock_question_turns"})


def rubric_signals(
    rubric: Rubric, signals: Mapping[str, Any], text: str | None = None
) -> dict[str, Any]:
    """``signals`` with the stock-phrase entries narrowed to this rubric's own list.

    With ``text`` the phrases are looked up in it; otherwise the signals' ``stock_phrases_found``
    (computed over every rubric of the side) is filtered. Rubrics without a list keep the
    signals' count.
    """
    view = dict(signals)
    if not rubric.stock_phrases:
        return view
    own = tuple(rubric.stock_phrases)
    if text is not None:
        found = list(phrases_in(text, own))
    else:
        mine = {normalise(p) for p in own}
        found = [p for p in signals.get("stock_phrases_found", []) if normalise(p) in mine]
    view["stock_phrases_found"] = found
    if "stock_phrase_count" in view:
        view["stock_phrase_count"] = len(found)
    if "stock_question" in view:
        view["stock_question"] = bool(found) and bool(view["stock_question"])
    return view


def applies(rubric: Rubric, signals: Mapping[str, Any], text: str | None = None) -> bool:
    """Whether the rubric grades this turn (or session); False means N/A."""
    return holds(rubric.applies_when, rubric_signals(rubric, signals, text))


def binding_caps(rubric: Rubric, signals: Mapping[str, Any], score: int) -> list[Cap]:
    """The caps that lower ``score``, in the order they apply."""
    view = rubric_signals(rubric, signals)
    bit: list[Cap] = []
    for cap in rubric.caps:
        if score > cap.max_score and holds(cap.when, view):
            score = cap.max_score
            bit.append(cap)
    return bit


def cap_score(rubric: Rubric, signals: Mapping[str, Any], score: int) -> tuple[int, list[str]]:
    """``score`` lowered to every cap whose condition holds, and the reasons of those that bit
    (in words; a cap without a reason is applied without one)."""
    caps = binding_caps(rubric, signals, score)
    if caps:
        score = min(cap.max_score for cap in caps)
    return score, [cap.reason for cap in caps if cap.reason.strip()]


def apply_caps(rubric: Rubric, signals: Mapping[str, Any], score: int) -> int:
    """``score`` bounded by the rubric's caps (see ``cap_score`` for the reasons)."""
    return cap_score(rubric, signals, score)[0]


def rule_score(rubric: Rubric, signals: Mapping[str, Any]) -> tuple[int, list[Rule]]:
    """Base plus every rule that holds, rounded half up and clamped to 1-5, with the rules that
    fired."""
    fired = [r for r in rubric.scoring.rules if holds(r.when, signals)]
    raw = rubric.scoring.base + sum(r.add for r in fired)
    return max(1, min(5, math.floor(raw + 0.5))), fired


def _relevance(
    sentence: Sentence, driver: str, partner: frozenset[str], stock: tuple[str, ...]
) -> float:
    lower = sentence.text.lower().replace("’", "'")
    if driver in _STOCK:
        return float(bool(stock and phrases_in(sentence.text, stock)))
    if driver in _CUES:
        return float(len(_CUES[driver].findall(lower)))
    if driver in _OVERLAP:
        return len(sentence.stems & partner) + 2 * sentence.reflect_cue
    if driver in _QUESTION:
        return sentence.questions + 0.1 * len(sentence.stems)
    if driver in _DETAIL:
        return sentence.details + 0.5 * sentence.enthusiasm
    return 0.0


def evidence_sentence(
    text: str, drivers: list[str], partner_text: str = "", stock: tuple[str, ...] = ()
) -> str:
    """The sentence of ``text`` that best shows the driving signals, quoted verbatim."""
    sentences = analyse(text).sentences
    if not sentences:
        return ""
    partner = analyse(partner_text).stems if partner_text else frozenset()
    best = sentences[0]
    for driver in drivers:
        scored = [(_relevance(s, driver, partner, stock), -i, s) for i, s in enumerate(sentences)]
        top = max(scored, key=lambda item: (item[0], item[1]))
        if top[0] > 0:
            best = top[2]
            break
    quote = best.text
    if len(quote) > EVIDENCE_MAX_CHARS:
        cut = quote.rfind(" ", 0, EVIDENCE_MAX_CHARS)
        quote = quote[: cut if cut > 40 else EVIDENCE_MAX_CHARS]
    return quote


def _first_name(condition: str) -> str:
    names = [c.name for group in parse(condition).any_of for c in group]
    return names[0] if names else ""


def _names(condition: str) -> frozenset[str]:
    """The signals a condition is about; "not callback" in it only narrows when it applies."""
    clauses = [c for group in parse(condition).any_of for c in group]
    return frozenset(c.name for c in clauses if not c.negate) or frozenset(parse(condition).names)


def signals_grade(
    rubric: Rubric, signals: Mapping[str, Any], turn_text: str, partner_text: str = ""
) -> Grade:
    """Grade from signals alone (``method: signals``): N/A when ``applies_when`` is false,
    otherwise base + rules, clamped to 1-5, then capped.

    The rationale says in plain words what raised and what held back the score (the rubric's
    rule and cap reasons, and the targets missed); it never names signals or shows the sums.
    For session rubrics pass the human's turns joined by newlines as ``turn_text`` and the
    partner's as ``partner_text``; the evidence is then the most telling sentence among them.
    """
    view = rubric_signals(rubric, signals, turn_text)
    if not holds(rubric.applies_when, view):
        return Grade(
            rubric_id=rubric.id,
            score=None,
            rationale=NOT_APPLICABLE,
            tip=rubric.tip,
            method="signals",
        )
    score, fired = rule_score(rubric, view)
    caps = binding_caps(rubric, view, score)
    capped = min([score, *(cap.max_score for cap in caps)])
    ranked = sorted(fired, key=lambda rule: -abs(rule.add))
    good = [Reason(r.reason, _names(r.when)) for r in ranked if r.add > 0 and r.reason]
    lost = [Reason(r.reason, _names(r.when)) for r in ranked if r.add < 0 and r.reason]
    # A cap that bit decides the score, so it is said first; then the biggest deduction and
    # the most useful thing the turn left out.
    bad = [Reason(c.reason, _names(c.when)) for c in caps if c.reason] + lost[:1]
    if capped < 5:
        said = frozenset().union(*(r.signals for r in lost))
        bad += [m for m in missed_targets(rubric.signals, view) if not m.signals <= said]
    bad += lost[1:]
    drivers = [_first_name(r.when) for r in ranked]
    drivers += [_first_name(c.when) for c in rubric.caps if holds(c.when, view)]
    drivers += list(rubric.signals)
    stock = tuple(rubric.stock_phrases)
    evidence = evidence_sentence(turn_text, [d for d in drivers if d], partner_text, stock)
    return Grade(
        rubric_id=rubric.id,
        score=capped,
        evidence=evidence,
        rationale=rationale(good, bad, score=capped, scope=rubric.scope),
        tip=rubric.tip,
        method="signals",
    )
