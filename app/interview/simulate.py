"""AI versus AI: an interviewer persona and a candidate persona talk for a number of turns."""

from __future__ import annotations

from collections.abc import Callable

from app.interview.engine import Engine, Final, Move
from app.interview.errors import InvalidInput
from app.interview.models import Persona, Turn
from app.llm.base import ChatModel

MIN_TURNS = 2
MAX_TURNS = 200


async def speak(engine: Engine, model: ChatModel, turns: list[Turn], move: Move) -> Turn:
    """Let one persona phrase ``move``; the turn's meta says whether it fell back to the plan."""
    final: Final | None = None
    async for event in engine.stream_reply(model, turns, move):
        if isinstance(event, Final):
            final = event
    if final is None:  # stream_reply always ends with a Final; this guards a broken model
        raise RuntimeError("the reply stream ended without a final reply")
    meta = {
        "move_kind": final.move_kind,
        "fallback": final.fallback,
        "fallback_reason": final.fallback_reason,
        "backend": model.backend,
    }
    return Turn(engine.persona.side, final.text, meta)


async def simulate(
    interviewer: Persona,
    candidate: Persona,
    *,
    turns: int,
    interviewer_model: ChatModel,
    candidate_model: ChatModel,
    window: int = 16,
    on_turn: Callable[[Turn], None] | None = None,
) -> list[Turn]:
    """Run an interview of at most ``turns`` turns and return the transcript.

    The interviewer opens and, on its last turn within the budget, closes, so the transcript
    always ends with the interviewer's goodbye (with an even budget, one turn short of it).
    """
    if interviewer.side != "interviewer":
        raise InvalidInput("interviewer", f"'{interviewer.id}' is a candidate persona")
    if candidate.side != "candidate":
        raise InvalidInput("candidate", f"'{candidate.id}' is an interviewer persona")
    if not MIN_TURNS <= turns <= MAX_TURNS:
        raise InvalidInput("turns", f"expected a number from {MIN_TURNS} to {MAX_TURNS}")
    asking = Engine(interviewer, window=window)
    answering = Engine(candidate, window=window)
    states = {"interviewer": asking.initial_state(), "candidate": answering.initial_state()}
    transcript: list[Turn] = []

    def record(turn: Turn, move: Move) -> None:
        transcript.append(turn)
        states[turn.speaker] = move.state_after
        if on_turn is not None:
            on_turn(turn)

    opening = asking.opening(states["interviewer"])
    if opening is not None:
        record(await speak(asking, interviewer_model, transcript, opening), opening)
    while len(transcript) < turns:
        if transcript and transcript[-1].speaker == "interviewer":
            move = answering.next_move(transcript, states["candidate"])
            record(await speak(answering, candidate_model, transcript, move), move)
            continue
        # Close on the interviewer's last turn so every transcript ends like an interview.
        last_chance = len(transcript) + 3 > turns  # no room for another question and answer
        move = asking.next_move(transcript, states["interviewer"], ending=last_chance)
        record(await speak(asking, interviewer_model, transcript, move), move)
        if move.kind == "close":
            break
    return transcript
