"""A conversation read turn by turn: running word totals, question streaks and openings.

``Conversation`` holds, for every turn, what the turn signals need from the turns before it,
built in one forward pass and extended in place. ``read_upto`` remembers recent readings, so a
transcript graded one turn at a time is read once rather than once per turn.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from app.grading.text import TextInfo, analyse, exchange

Key = tuple[tuple[str, str], ...]

MEMO_SIZE = 64


class TurnLike(Protocol):
    @property
    def speaker(self) -> str: ...
    @property
    def text(self) -> str: ...


class SpeakerState(NamedTuple):
    """One speaker's running counts after one of their turns."""

    streak: int = 0  # question-only turns in a row, ending here
    longest: int = 0
    taken: int = 0  # turns taken
    asked: int = 0  # turns that asked a question
    opened: bool = False  # has asked something beyond a pleasantry


class Conversation:
    """Running totals and streaks per turn, built in one forward pass and extended in place."""

    def __init__(self) -> None:
        self.turns: list[TurnLike] = []
        self.infos: list[TextInfo] = []
        self.partner: list[int] = []
        self.words: list[dict[str, int]] = []
        self.after: list[SpeakerState] = []  # the speaker's state after each turn
        self.prior: list[tuple[int, int]] = []  # (earlier turns, earlier question turns)
        self.opening: list[bool] = []
        self._totals: dict[str, int] = {"interviewer": 0, "candidate": 0}
        self._state: dict[str, SpeakerState] = {}

    @classmethod
    def of(cls, turns: Sequence[TurnLike]) -> Conversation:
        doc = cls()
        for turn in turns:
            doc.push(turn)
        return doc

    def prefix(self, upto: int) -> Conversation:
        """A copy holding the first ``upto`` turns, ready to be extended."""
        doc = Conversation()
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

    def copy(self) -> Conversation:
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
        before = self._state.get(who, SpeakerState())
        question_only = exchange(turn.text, partner_text).question_only
        streak = before.streak + 1 if question_only else 0
        real = info.asks_beyond_small_talk
        after = SpeakerState(
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


_MEMO: dict[Key, Conversation] = {}
_MEMO_LOCK = threading.Lock()


def _remembered(key: Key) -> tuple[Conversation | None, Conversation | None]:
    """(a reading covering ``key``, else the longest remembered reading of a prefix of it).

    A reading of a longer conversation serves any of its prefixes, since a turn's signals
    only look back; so grading turn after turn of one transcript extends one reading.
    """
    known = _MEMO.get(key)
    if known is not None:
        return known, None
    size = len(key)
    base: Conversation | None = None
    for seen, doc in reversed(_MEMO.items()):
        length = len(seen)
        if length > size and seen[:size] == key:
            return doc, None
        if length < size and length > (len(base.turns) if base else 0) and key[:length] == seen:
            base = doc
    return None, base


def read_upto(turns: Sequence[TurnLike], upto: int) -> Conversation:
    """The reading of ``turns[:upto + 1]`` (or of a longer conversation that starts with them),
    extending a remembered shorter prefix when the same conversation was read before
    (live grading adds one turn at a time)."""
    key: Key = tuple((t.speaker, t.text) for t in turns[: upto + 1])
    with _MEMO_LOCK:
        known, base = _remembered(key)
    if known is not None:
        return known
    if base is not None:
        doc = base.copy()
        for turn in turns[len(base.turns) : upto + 1]:
            doc.push(turn)
    else:
        doc = Conversation.of(turns[: upto + 1])
    with _MEMO_LOCK:
        if len(_MEMO) >= MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = doc
    return doc


def clear_memo() -> None:
    """Forget remembered transcripts (benchmarks use it to measure cold calls)."""
    with _MEMO_LOCK:
        _MEMO.clear()
