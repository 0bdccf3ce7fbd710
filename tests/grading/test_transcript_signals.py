"""Whole transcripts are read once: the batch signals match the per-turn ones, in linear work."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.config import PROJECT_ROOT
from app.grading.conversation import Conversation, TurnLike
from app.grading.grader import Grader
from app.grading.rubrics import RubricCatalog
from app.grading.signals import TranscriptAnalysis, clear_memo, transcript_signals, turn_signals
from app.interview.models import HiddenFact, Turn
from bench.signals import transcript

CATALOG = RubricCatalog.from_dir(PROJECT_ROOT / "rubrics")
FACTS = [
    HiddenFact(text="I was laid off in March after the Ferrous acquisition", triggers=["leave"]),
    HiddenFact(text="I turned down a promotion to stay hands-on", triggers=["promotion"]),
]


def long_transcript(n: int) -> list[Turn]:
    """Real turns from the labelled set, alternating sides, with the facts let slip midway."""
    turns = transcript(n)
    turns[n // 2 + 1] = Turn("candidate", "Honestly I was laid off in March after the acquisition.")
    turns[n - 3] = Turn("candidate", "I turned down a promotion because I wanted to stay hands-on.")
    return turns


def test_batch_signals_equal_turn_signals_at_every_index() -> None:
    turns = long_transcript(60)
    stock = CATALOG.stock_phrases("interviewer")
    batch = transcript_signals(turns, hidden_facts=FACTS, stock_phrases=stock)
    assert len(batch) == len(turns)
    for index in range(len(turns)):
        clear_memo()
        assert batch[index] == turn_signals(turns, index, hidden_facts=FACTS, stock_phrases=stock)
    assert batch[-1]["hidden_facts_drawn"] == 2 and batch[20]["hidden_facts_drawn"] == 0


def test_signals_as_other_words_match_a_transcript_that_said_them() -> None:
    turns = long_transcript(30)
    analysis = TranscriptAnalysis(turns, hidden_facts=FACTS)
    said = "I was laid off in March after the Ferrous acquisition, to be honest."
    edited = [*turns[:11], Turn("candidate", said)]
    assert analysis.signals_as(11, said) == turn_signals(edited, 11, hidden_facts=FACTS)
    assert analysis.signals(11) == turn_signals(turns, 11, hidden_facts=FACTS)
    with pytest.raises(IndexError, match="index: 30"):
        analysis.signals(30)


@dataclass
class Reads:
    """How many turns were read into a conversation (``Conversation.push`` calls)."""

    pushes: int = 0


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    """Counts every turn read from here on, starting with nothing remembered."""
    counter = Reads()
    push = Conversation.push

    def counted(self: Conversation, turn: TurnLike) -> None:
        counter.pushes += 1
        push(self, turn)

    monkeypatch.setattr(Conversation, "push", counted)
    clear_memo()
    return counter


async def test_grading_a_whole_transcript_reads_each_turn_a_bounded_number_of_times(
    reads: Reads,
) -> None:
    turns = long_transcript(200)
    grader = Grader(CATALOG.list("interviewer"), None)
    grades, session = await grader.grade_transcript(turns, human_side="interviewer")
    assert {g.turn_index for g in grades} == set(range(0, 200, 2)) and session
    # One pass for the turn signals and one for the session: linear, where calling
    # turn_signals turn by turn re-read the conversation before every turn (~10,000 here).
    assert reads.pushes <= 2 * len(turns) + 10, reads.pushes


async def test_grading_turn_by_turn_extends_one_analysis(reads: Reads) -> None:
    """Callers that grade a whole transcript one ``grade_turn`` at a time stay linear too."""
    turns = long_transcript(200)
    grader = Grader(CATALOG.list("interviewer"), None)
    for index in range(0, len(turns), 2):
        await grader.grade_turn(turns, index, human_side="interviewer")
    assert reads.pushes <= len(turns) + 10, reads.pushes
    before = reads.pushes
    # An earlier turn of a conversation already read is served by that reading.
    assert turn_signals(turns, 37) == transcript_signals(turns)[37]
    assert reads.pushes - before == len(turns)  # only transcript_signals read the turns again
