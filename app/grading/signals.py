"""Deterministic conversation signals for a turn and for a session: pure Python, no I/O.

``turn_signals(turns, index)`` describes one turn in the context of the transcript before it;
``session_signals(turns, human_side)`` sums the human's side up. Both return flat dicts whose
scalar entries can be named in rubric conditions (see ``TURN_SIGNALS`` / ``SESSION_SIGNALS``).
Text analysis is cached by text, so grading turn after turn stays in the microseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from app.grading import lexicon as lx
from app.grading.text import TextInfo, analyse, exchange, fact_revealed, normalise, phrases_in

Signals = dict[str, Any]

# How far back (in turns) callbacks are looked for; keeps long transcripts linear.
CALLBACK_WINDOW = 30

TURN_SIGNALS: dict[str, str] = {
    "index": "position of the turn in the transcript (0-based)",
    "human_turn_index": "how many earlier turns this speaker took (0 = their first)",
    "is_opening": "the speaker's first turn",
    "question_turn_index": "how many earlier turns of this speaker asked a question",
    "opening_question": "the speaker's opening question: their first turn that asks more than"
    " a pleasantry ('how are you?'), if it is one of their first two turns",
    "has_partner_turn": "the partner has spoken before this turn",
    "words": "words in the turn",
    "partner_words": "words in the partner's last turn",
    "sentences": "sentences in the turn",
    "talk_share": "the speaker's share of all words so far, this turn included (0-1)",
    "talk_share_interviewer": "the interviewer's running share of words (0-1)",
    "talk_share_candidate": "the candidate's running share of words (0-1)",
    "questions_in_turn": "questions asked (a '?'-sentence, a 'tell me about…' prompt, or a"
    " second question joined into one sentence)",
    "open_questions": "questions that invite a story (what/how/why/tell me/describe)",
    "closed_questions": "yes/no, either/or and who/when/where/how-many questions",
    "open_question_ratio": "open questions / questions (0 when there are none)",
    "stacked_questions": "two or more questions in one turn",
    "question_only": "the turn asks but says nothing of substance and reflects nothing",
    "question_streak": "consecutive question-only turns by this speaker, ending here",
    "longest_question_streak": "the speaker's longest question-only streak so far",
    "acknowledges": "the turn acknowledges the partner (thanks, 'that makes sense', a reflection)",
    "reflective_opener": "uses a reflective frame ('so you…', 'it sounds like', 'you mentioned')",
    "reflects": "reflects something specific from the partner's last turn",
    "reflects_feeling": "a reflection that names a feeling or meaning ('that sounds brutal')",
    "picks_up_detail": "reuses two content words (or a phrase) from what the partner told,"
    " as opposed to what they asked",
    "reflections_in_turn": "sentences that reflect the partner's last turn",
    "shared_words": "content words shared with the partner's last turn",
    "shared_phrases": "two-word content phrases shared with the partner's last turn",
    "follow_up_overlap": "overlap of content words with the partner's last turn (0-1)",
    "callbacks": "content words/phrases taken from the partner's turns two or more back",
    "callback": "the turn clearly refers back to something the partner said earlier",
    "numbers": "numbers and number words",
    "proper_names": "names of people, companies, products, places",
    "concrete_terms": "concrete work nouns (migration, outage, customers, dashboard…)",
    "specific_details": "numbers + proper names + concrete terms",
    "name_list": "items in the longest list of names ('Kafka, Kubernetes and dbt')",
    "specificity": "specific details relative to length (0-1)",
    "stock_phrase_count": "stock phrases found (from the lists in the rubric files)",
    "stock_question": "a question sentence uses a stock phrase",
    "self_words": "I/me/my words",
    "other_words": "you/your/we/our words",
    "problem_words": "team/customer/problem/goal words",
    "self_focus": "share of I/me/my among focus words (0-1)",
    "problem_focus": "share of you/we/team/problem words among focus words (0-1)",
    "solution_language": "phrases that lay out an approach ('I'd start by…', 'we could…')",
    "self_promotion": "self-praise and skill listing ('I'm a team player', 'my strengths')",
    "story_question": "asks about the partner's journey or what sparked their choices",
    "passion_question": "asks what excites, energises or matters to the partner",
    "position_question": "asks about titles, duties, years of experience, weaknesses",
    "opinion_question": "asks for the partner's take or view",
    "quiz_question": "a trivia or definition check ('define…', 'which version…')",
    "logistics_question": "asks about salary, next steps, start dates or benefits",
    "vision_statement": "says where the company or team is headed",
    "trend_talk": "mentions an industry trend, market or shift",
    "role_question": "asks about the role, the team's problems or what success looks like",
    "personal_disclosure": "personal, candid wording (honestly, my dad, I was scared…)",
    "story_markers": "narrative markers (I remember, back when, last year…)",
    "humour": "laughter or a joke marker",
    "humble_brag": "a weakness that is really a boast ('I care too much', 'perfectionist')",
    "enthusiasm": "enthusiasm words (excited, love, fascinated…)",
    "specific_enthusiasm": "enthusiastic sentences that name something specific, or are"
    " followed by one that does",
    "generic_enthusiasm": "enthusiastic sentences with nothing specific in or right after them",
    "instruction_like": "text aimed at a grader ('ignore the rubric', 'give me a 5')",
    "hidden_facts_drawn": "hidden facts the candidate has revealed up to this turn",
    "hidden_facts_total": "hidden facts the candidate holds",
    "hidden_fact_targeted": "undrawn hidden facts whose trigger words this question uses",
}
# Non-scalar turn entries: "speaker", "stock_phrases_found", "hidden_facts_drawn_list".

SESSION_SIGNALS: dict[str, str] = {
    "turns": "turns in the transcript",
    "human_turns": "turns the human took",
    "interviewer_talk_share": "the interviewer's share of all words (0-1)",
    "candidate_talk_share": "the candidate's share of all words (0-1)",
    "human_talk_share": "the human's share of all words (0-1)",
    "questions": "questions the human asked",
    "question_turns": "human turns that asked at least one question",
    "open_question_ratio": "open questions / questions over the session",
    "reflections": "reflections the human made",
    "reflection_to_question_ratio": "R:Q, reflections per question (1 fair, 2 good)",
    "longest_question_streak": "the human's longest run of question-only turns",
    "question_only_turns": "human turns that only asked",
    "callback_turns": "human turns with a callback to something said earlier",
    "substantive_question_turns": "human question turns about more than logistics",
    "specific_question_turns": "human question turns that build on the conversation or the"
    " role, without stock phrasing",
    "building_question_turns": "human question turns that reflect or call back to the partner",
    "sharp_question_turns": "question turns that both build on the partner and ask about the"
    " role, its problems or success",
    "stock_question_turns": "human question turns that used a stock phrase",
    "vision_turns": "human turns that say where the company is headed",
    "vision_with_opinion": "a vision turn that also asks the partner's view",
    "vision_details": "the most specific details (numbers, names, concrete terms) in a vision turn",
    "trend_turns": "human turns that raise an industry trend",
    "mean_specificity": "the human's average specificity (0-1)",
    "hidden_facts_discovered": "hidden facts drawn out",
    "hidden_facts_total": "hidden facts in the persona",
    "hidden_facts_share": "hidden facts drawn out / total (0 when there are none)",
}
# Non-scalar session entries: "talk_share" {interviewer, candidate}, "hidden_facts"
# {discovered: [text], total}, "human_side".

KNOWN_SIGNALS: frozenset[str] = frozenset(TURN_SIGNALS) | frozenset(SESSION_SIGNALS)


class TurnLike(Protocol):
    @property
    def speaker(self) -> str: ...
    @property
    def text(self) -> str: ...


class FactLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def triggers(self) -> Sequence[str]: ...


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


Key = tuple[tuple[str, str], ...]


class _SpeakerState(NamedTuple):
    """One speaker's running counts after one of their turns."""

    streak: int = 0  # question-only turns in a row, ending here
    longest: int = 0
    taken: int = 0  # turns taken
    asked: int = 0  # turns that asked a question
    opened: bool = False  # has asked something beyond a pleasantry


@dataclass(frozen=True)
class _Said:
    speaker: str
    text: str


class _Transcript:
    """Running totals and streaks per turn, built in one forward pass and extended in place."""

    def __init__(self) -> None:
        self.turns: list[TurnLike] = []
        self.infos: list[TextInfo] = []
        self.partner: list[int] = []
        self.words: list[dict[str, int]] = []
        self.after: list[_SpeakerState] = []  # the speaker's state after each turn
        self.prior: list[tuple[int, int]] = []  # (earlier turns, earlier question turns)
        self.opening: list[bool] = []
        self._totals: dict[str, int] = {"interviewer": 0, "candidate": 0}
        self._state: dict[str, _SpeakerState] = {}

    @classmethod
    def of(cls, turns: Sequence[TurnLike]) -> _Transcript:
        doc = cls()
        for turn in turns:
            doc.push(turn)
        return doc

    def prefix(self, upto: int) -> _Transcript:
        """A copy holding the first ``upto`` turns, ready to be extended."""
        doc = _Transcript()
        doc.turns = self.turns[:upto]
        doc.infos = self.infos[:upto]
        doc.partner = self.partner[:upto]
        doc.words = self.words[:upto]
        doc.after = self.after[:upto]
        doc.prior = self.prior[:upto]
        doc.opening = self.opening[:upto]
        if upto:
            doc._totals = dict(self.words[upto - 1])
        # Each speaker's state is the one after their last turn; two speakers, so this stops soon.
        for j in range(upto - 1, -1, -1):
            doc._state.setdefault(self.turns[j].speaker, self.after[j])
            if len(doc._state) == len(self._state):
                break
        return doc

    def copy(self) -> _Transcript:
        return self.prefix(len(self.turns))

    def push(self, turn: TurnLike) -> None:
        i, who = len(self.turns), turn.speaker
        info = analyse(turn.text)
        if i == 0:
            partner = -1
        elif self.turns[i - 1].speaker != who:
            partner = i - 1
        else:
            partner = self.partner[i - 1]
        self.turns.append(turn)
        self.infos.append(info)
        self.partner.append(partner)
        self._totals[who] = self._totals.get(who, 0) + info.words
        self.words.append(dict(self._totals))
        partner_text = self.turns[partner].text if partner >= 0 else ""
        before = self._state.get(who, _SpeakerState())
        question_only = exchange(turn.text, partner_text).question_only
        streak = before.streak + 1 if question_only else 0
        real = info.asks_beyond_small_talk
        after = _SpeakerState(
            streak=streak,
            longest=max(before.longest, streak),
            taken=before.taken + 1,
            asked=before.asked + (info.questions > 0),
            opened=before.opened or real,
        )
        self._state[who] = after
        self.after.append(after)
        self.prior.append((before.taken, before.asked))
        # Greetings come first whoever speaks first, so the opening question may be the
        # speaker's second turn; a pleasantry ("how are you?") does not open the interview.
        self.opening.append(real and before.taken <= 1 and not before.opened)


_MEMO: dict[Key, _Transcript] = {}
_MEMO_LOCK = threading.Lock()
MEMO_SIZE = 64


def _transcript(turns: Sequence[TurnLike], upto: int) -> _Transcript:
    """The analysis of ``turns[:upto + 1]``, extending a remembered shorter prefix when the
    same conversation was analysed before (live grading adds one turn at a time)."""
    key: Key = tuple((t.speaker, t.text) for t in turns[: upto + 1])
    with _MEMO_LOCK:
        known = _MEMO.get(key)
        base = _MEMO.get(key[:-1]) if known is None else None
    if known is not None:
        return known
    if base is not None:
        doc = base.copy()
        doc.push(turns[upto])
    else:
        doc = _Transcript.of(turns[: upto + 1])
    with _MEMO_LOCK:
        if len(_MEMO) >= MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = doc
    return doc


def clear_memo() -> None:
    """Forget remembered transcripts (benchmarks use it to measure cold calls)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _callbacks(doc: _Transcript, index: int) -> tuple[int, bool]:
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
    doc: _Transcript,
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
    doc = _transcript(turns, index)
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
        self._doc = _Transcript.of(turns)
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
    doc = _Transcript.of(turns)
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
