"""Streaming a reply: tokens as the model writes them, then the text to save (or the plan's)."""

from __future__ import annotations

import json

import pytest

from app.interview.engine import Engine, Final, Move, Token
from app.interview.errors import InvalidInput
from app.interview.models import Turn
from app.llm.base import ModelUnavailable
from app.llm.scripted import ScriptedModel
from tests.interview.factories import candidate, interviewer, say


async def reply(
    engine: Engine, model: ScriptedModel, turns: list[Turn], move: Move
) -> tuple[str, Final]:
    streamed = ""
    final: Final | None = None
    async for event in engine.stream_reply(model, turns, move):
        if isinstance(event, Token):
            streamed += event.text
        else:
            final = event
    assert final is not None
    return streamed, final


def first_answer_move(engine: Engine) -> tuple[list[Turn], Move]:
    state = engine.initial_state()
    opening = engine.opening(state)
    assert opening is not None
    turns = say(("interviewer", opening.script), ("candidate", "Not sure, it just happened."))
    return turns, engine.next_move(turns, opening.state_after)


async def test_the_scripted_model_speaks_the_plan_and_always_passes(
    scripted: ScriptedModel,
) -> None:
    engine = Engine(interviewer())
    turns, move = first_answer_move(engine)
    streamed, final = await reply(engine, scripted, turns, move)
    assert streamed == move.script
    assert final == Final(move.script, False, None, "follow_up", move.state_after)


async def test_a_good_model_reply_is_kept() -> None:
    engine = Engine(interviewer())
    turns, move = first_answer_move(engine)
    text = "Fair enough! So what was the first system you felt was properly yours?"
    streamed, final = await reply(engine, ScriptedModel([text]), turns, move)
    assert streamed == text
    assert final.text == text
    assert not final.fallback


async def test_a_reply_that_breaks_character_falls_back_to_the_plan() -> None:
    engine = Engine(interviewer())
    turns, move = first_answer_move(engine)
    model = ScriptedModel(["As an AI language model, I can ask: what was your first system?"])
    streamed, final = await reply(engine, model, turns, move)
    assert streamed.startswith("As an AI")  # the client saw the tokens; the saved text differs
    assert final.fallback
    assert final.text == move.script
    assert final.fallback_reason is not None and "character" in final.fallback_reason
    assert final.state == move.state_after


async def test_a_reply_that_tells_an_unasked_private_fact_falls_back() -> None:
    engine = Engine(candidate())
    turns = say(("interviewer", "Tell me about a conflict with a stakeholder."))
    move = engine.next_move(turns, engine.initial_state())
    leak = "We argued about pricing. Also, I was laid off in March after a reorganisation."
    _, final = await reply(engine, ScriptedModel([leak]), turns, move)
    assert final.fallback
    assert final.text == move.script
    assert "laid off" not in final.text


async def test_a_private_fact_the_question_asked_for_may_be_told_in_the_models_words() -> None:
    engine = Engine(candidate())
    turns = say(("interviewer", "Why did you leave your last job?"))
    move = engine.next_move(turns, engine.initial_state())
    told = "Honestly? I was laid off in March after a reorganisation. It wasn't my choice."
    _, final = await reply(engine, ScriptedModel([told]), turns, move)
    assert not final.fallback
    assert final.text == told


async def test_a_speaker_label_and_quotes_are_trimmed_from_a_model_reply() -> None:
    engine = Engine(interviewer())
    turns, move = first_answer_move(engine)
    model = ScriptedModel(['Maya: "Okay, so which system first felt properly yours?"'])
    _, final = await reply(engine, model, turns, move)
    assert final.text == "Okay, so which system first felt properly yours?"
    assert not final.fallback


async def test_a_model_error_mid_stream_propagates_to_the_caller() -> None:
    engine = Engine(interviewer())
    turns, move = first_answer_move(engine)
    model = ScriptedModel([ModelUnavailable("The model server timed out.")])
    with pytest.raises(ModelUnavailable):
        await reply(engine, model, turns, move)


async def test_the_state_in_final_is_json_and_continues_the_interview(
    scripted: ScriptedModel,
) -> None:
    engine = Engine(candidate())
    turns = say(("interviewer", "Why did you leave your last job?"))
    move = engine.next_move(turns, engine.initial_state())
    _, final = await reply(engine, scripted, turns, move)
    restored = type(final.state).from_dict(json.loads(json.dumps(final.state.to_dict())))
    turns += say(("candidate", final.text), ("interviewer", "And why did you leave, again?"))
    again = engine.next_move(turns, restored)
    assert again.kind != "reveal"  # the fact was told once; the state remembers


def test_a_window_below_one_turn_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        Engine(interviewer(), window=0)
    assert caught.value.field == "window"
