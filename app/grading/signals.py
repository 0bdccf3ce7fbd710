"""Deterministic conversation signals for a turn and for a session: pure Python, no I/O.

``turn_signals(turns, index)`` describes one turn in the context of the transcript before it;
``session_signals(turns, human_side)`` sums the human's side up. Both return flat dicts whose
scalar entries can be named in rubric conditions (see ``app.grading.signal_names``).
Text analysis is cached by text, and the running state of the conversation before a turn is
read once and remembered (see ``app.grading.conversation``), so grading turn after turn stays
in the microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.grading import lexicon as lx
from app.grading.conversation import Conversation, TurnLike, read_upto
from app.grading.conversation import clear_memo as clear_memo
from app.grading.signal_names import KNOWN_SIGNALS as KNOWN_SIGNALS
from app.grading.signal_names import SESSION_SIGNALS as SESSION_SIGNALS
from app.grading.signal_names import TURN_SIGNALS as TURN_SIGNALS
from app.grading.text import exchange, fact_revealed, normalise, phrases_in

Signals = dict[str, Any]

# How far back (in turns) callbacks are looked for; keeps long transcripts linear.
CALLBACK_WINDOW = 30


class FactLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def triggers(self) -> Sequence[str]: ...


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


@dataclass(frozen=True)
class _Said:
    speaker: str
    text: str


def _callbacks(doc: Conversation, index: int) -> tuple[int, bool]:
    info, partner = doc.infos[index], doc.partner[index]
    if partner < 0:
        return 0, False
    last = doc.infos[partner]
    who = doc.turns[partner].speaker
    stems: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for j in range(max(0, index - CALLBACK_WINDOW), partner):
        if doc.turns[j].speaker == who:
            stems |= doc.infos[j].stems
            pairs |= doc.infos[j].bigrams
    hit_pairs = (info.bigrams & pairs) - last.bigrams
    hit_stems = {s for s in (info.stems & stems) - last.stems if len(s) >= 4}
    explicit = any(lx.REFERENCE.search(s.text.lower()) for s in info.sentences)
    strong = bool(hit_pairs) or len(hit_stems) >= 3 or (explicit and bool(hit_stems))
    return len(hit_pairs) + len(hit_stems), strong


def _facts_drawn(turns: Sequence[TurnLike], upto: int, facts: Sequence[FactLike]) -> list[str]:
    said = [t.text for t in turns[: upto + 1] if t.speaker == "candidate"]
    return [f.text for f in facts if any(fact_revealed(f.text, text) for text in said)]


def _facts_drawn_by_turn(
    turns: Sequence[TurnLike], facts: Sequence[FactLike]
) -> list[list[str]]:
    """``_facts_drawn`` at every index, in one pass (a fact once drawn stays drawn)."""
    found = [False] * len(facts)
    current: list[str] = []
    out: list[list[str]] = []
    for turn in turns:
        if facts and turn.speaker == "candidate":
            fresh = [
                k
                for k, f in enumerate(facts)
                if not found[k] and fact_revealed(f.text, turn.text)
            ]
            if fresh:
                for k in fresh:
                    found[k] = True
                current = [f.text for k, f in enumerate(facts) if found[k]]
        out.append(current)
    return out


def _signals_at(
    doc: Conversation,
    index: int,
    facts: Sequence[FactLike],
    stock: tuple[str, ...],
    drawn: Sequence[str] | None = None,
) -> Signals:
    """Signals of ``doc.turns[index]``; ``drawn`` is the facts drawn so far when already known."""
    turn, info = doc.turns[index], doc.infos[index]
    partner = doc.partner[index]
    partner_text = doc.turns[partner].text if partner >= 0 else ""
    ex = exchange(turn.text, partner_text)
    totals = doc.words[index]
    all_words = sum(totals.values())
    callbacks, callback = _callbacks(doc, index)
    earlier_turns, earlier_question_turns = doc.prior[index]
    focus = info.self_words + info.other_words + info.problem_words
    details = info.numbers + info.names + info.concrete
    found = phrases_in(turn.text, stock) if stock else ()
    asked = " ".join(s.text for s in info.sentences if s.is_question)
    stock_question = bool(found) and bool(asked) and bool(phrases_in(asked, found))
    if drawn is None:
        drawn = _facts_drawn(doc.turns, index, facts) if facts else []
    drawn = list(drawn)
    targeted = 0
    if facts and info.questions:
        targeted = sum(
            1
            for f in facts
            if f.text not in drawn
            and any(normalise(t) in normalise(turn.text) for t in f.triggers if t.strip())
        )
    sentences = info.sentences
    # Enthusiasm is often generic in one sentence and specific in the next ("I'm excited.
    # Specifically, the Leeds launch…"), so the following sentence counts too.
    enthusiastic = [
        s.specific or (i + 1 < len(sentences) and sentences[i + 1].specific)
        for i, s in enumerate(sentences)
        if s.enthusiasm
    ]
    out: Signals = {
        "index": index,
        "speaker": turn.speaker,
        "human_turn_index": earlier_turns,
        "is_opening": earlier_turns == 0,
        "question_turn_index": earlier_question_turns,
        "opening_question": doc.opening[index],
        "has_partner_turn": partner >= 0,
        "words": info.words,
        "partner_words": doc.infos[partner].words if partner >= 0 else 0,
        "sentences": len(info.sentences),
        "talk_share": _share(totals.get(turn.speaker, 0), all_words),
        "talk_share_interviewer": _share(totals.get("interviewer", 0), all_words),
        "talk_share_candidate": _share(totals.get("candidate", 0), all_words),
        "questions_in_turn": info.questions,
        "open_questions": info.open,
        "closed_questions": info.questions - info.open,
        "open_question_ratio": _share(info.open, info.questions),
        "stacked_questions": info.questions >= 2,
        "question_only": ex.question_only,
        "question_streak": doc.after[index].streak,
        "longest_question_streak": doc.after[index].longest,
        "acknowledges": bool(info.counts["acknowledges"]) or ex.reflections > 0,
        "reflective_opener": any(s.reflect_cue for s in info.sentences),
        "reflects": ex.reflections > 0,
        "reflects_feeling": ex.reflects_feeling,
        "picks_up_detail": ex.picks_up,
        "reflections_in_turn": ex.reflections,
        "shared_words": ex.shared_words,
        "shared_phrases": ex.shared_phrases,
        "follow_up_overlap": ex.overlap,
        "callbacks": callbacks,
        "callback": callback,
        "numbers": info.numbers,
        "proper_names": info.names,
        "concrete_terms": info.concrete,
        "specific_details": details,
        "name_list": info.name_list,
        "specificity": round(min(1.0, details / (2 + info.words / 40)), 3),
        "stock_phrases_found": list(found),
        "stock_phrase_count": len(found),
        "stock_question": stock_question,
        "self_words": info.self_words,
        "other_words": info.other_words,
        "problem_words": info.problem_words,
        "self_focus": _share(info.self_words, focus),
        "problem_focus": _share(info.other_words + info.problem_words, focus),
        "specific_enthusiasm": sum(enthusiastic),
        "generic_enthusiasm": len(enthusiastic) - sum(enthusiastic),
        "hidden_facts_drawn": len(drawn),
        "hidden_facts_drawn_list": drawn,
        "hidden_facts_total": len(facts),
        "hidden_fact_targeted": targeted,
    }
    for name, count in info.counts.items():
        if name != "acknowledges":
            out[name] = bool(count) if name == "instruction_like" else count
    return out


def turn_signals(
    turns: Sequence[TurnLike],
    index: int,
    *,
    hidden_facts: Sequence[FactLike] = (),
    stock_phrases: Iterable[str] = (),
) -> Signals:
    """Signals for ``turns[index]``, using only the turns up to and including it.

    ``hidden_facts`` are the AI candidate's facts (interviewer practice); ``stock_phrases``
    is usually the union of the lists in the rubrics that grade this side.
    """
    if not 0 <= index < len(turns):
        raise IndexError(f"index: {index} is outside the transcript of {len(turns)} turns")
    doc = read_upto(turns, index)
    return _signals_at(doc, index, hidden_facts, tuple(stock_phrases))


class TranscriptAnalysis:
    """Signals for every turn of one transcript, read in a single forward pass.

    Calling ``turn_signals`` for each turn re-reads the conversation before it every time, so a
    whole transcript costs quadratic time; this reads it once. ``signals_as(index, text)`` gives
    a turn's signals as if it had said ``text`` instead (the turns before it unchanged).
    """

    def __init__(
        self,
        turns: Sequence[TurnLike],
        *,
        hidden_facts: Sequence[FactLike] = (),
        stock_phrases: Iterable[str] = (),
    ) -> None:
        self._doc = Conversation.of(turns)
        self._facts = tuple(hidden_facts)
        self._stock = tuple(stock_phrases)
        self._drawn = _facts_drawn_by_turn(self._doc.turns, self._facts)

    def __len__(self) -> int:
        return len(self._doc.turns)

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self._doc.turns):
            raise IndexError(
                f"index: {index} is outside the transcript of {len(self._doc.turns)} turns"
            )

    def signals(self, index: int) -> Signals:
        """What ``turn_signals(turns, index, ...)`` returns, without re-reading the transcript."""
        self._check(index)
        return _signals_at(self._doc, index, self._facts, self._stock, self._drawn[index])

    def signals_as(self, index: int, text: str) -> Signals:
        """Signals of ``turns[index]`` had it said ``text``, in the same context."""
        self._check(index)
        doc = self._doc.prefix(index)
        speaker = self._doc.turns[index].speaker
        doc.push(_Said(speaker, text))
        drawn = self._drawn[index - 1] if index else []
        if self._facts and speaker == "candidate":
            drawn = [
                f.text for f in self._facts if f.text in drawn or fact_revealed(f.text, text)
            ]
        return _signals_at(doc, index, self._facts, self._stock, drawn)

    def all(self) -> list[Signals]:
        return [self.signals(i) for i in range(len(self))]


def transcript_signals(
    turns: Sequence[TurnLike],
    *,
    hidden_facts: Sequence[FactLike] = (),
    stock_phrases: Iterable[str] = (),
) -> list[Signals]:
    """``turn_signals`` for every turn, in linear time (one forward pass)."""
    return TranscriptAnalysis(turns, hidden_facts=hidden_facts, stock_phrases=stock_phrases).all()


def session_signals(
    turns: Sequence[TurnLike],
    human_side: str,
    hidden_facts: Sequence[FactLike] = (),
    *,
    stock_phrases: Iterable[str] = (),
) -> Signals:
    """Signals for the whole conversation, summed over the human's turns."""
    doc = Conversation.of(turns)
    stock = tuple(stock_phrases)
    human = [
        _signals_at(doc, i, (), stock) for i, t in enumerate(doc.turns) if t.speaker == human_side
    ]
    totals = doc.words[-1] if doc.words else {"interviewer": 0, "candidate": 0}
    all_words = sum(totals.values())
    questions = sum(s["questions_in_turn"] for s in human)
    reflections = sum(s["reflections_in_turn"] for s in human)
    asked = [s for s in human if s["questions_in_turn"]]
    vision = [s for s in human if s["vision_statement"]]
    drawn = _facts_drawn(doc.turns, len(doc.turns) - 1, hidden_facts) if hidden_facts else []
    return {
        "human_side": human_side,
        "turns": len(doc.turns),
        "human_turns": len(human),
        "talk_share": {
            side: _share(totals.get(side, 0), all_words) for side in ("interviewer", "candidate")
        },
        "interviewer_talk_share": _share(totals.get("interviewer", 0), all_words),
        "candidate_talk_share": _share(totals.get("candidate", 0), all_words),
        "human_talk_share": _share(totals.get(human_side, 0), all_words),
        "questions": questions,
        "question_turns": len(asked),
        "open_question_ratio": _share(sum(s["open_questions"] for s in human), questions),
        "reflections": reflections,
        "reflection_to_question_ratio": round(reflections / questions, 3)
        if questions
        else float(reflections),
        "longest_question_streak": max((s["question_streak"] for s in human), default=0),
        "question_only_turns": sum(1 for s in human if s["question_only"]),
        "callback_turns": sum(1 for s in human if s["callback"]),
        "substantive_question_turns": sum(
            1
            for s in asked
            if not s["logistics_question"] or s["questions_in_turn"] > s["logistics_question"]
        ),
        "building_question_turns": sum(1 for s in asked if s["reflects"] or s["callback"]),
        "sharp_question_turns": sum(
            1 for s in asked if (s["reflects"] or s["callback"]) and s["role_question"]
        ),
        "specific_question_turns": sum(
            1
            for s in asked
            if not s["stock_question"]
            and (s["reflects"] or s["callback"] or s["role_question"] or s["specificity"] >= 0.5)
        ),
        "stock_question_turns": sum(1 for s in asked if s["stock_question"]),
        "vision_turns": len(vision),
        "vision_details": max((s["specific_details"] for s in vision), default=0),
        "vision_with_opinion": any(s["opinion_question"] or s["questions_in_turn"] for s in vision),
        "trend_turns": sum(1 for s in human if s["trend_talk"]),
        "mean_specificity": round(sum(s["specificity"] for s in human) / len(human), 3)
        if human
        else 0.0,
        "hidden_facts": {"discovered": drawn, "total": len(hidden_facts)},
        "hidden_facts_discovered": len(drawn),
        "hidden_facts_total": len(hidden_facts),
        "hidden_facts_share": _share(len(drawn), len(hidden_facts)),
    }
