"""Streaming a reply: tokens as the model writes them, then the text to save (or the plan's)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from app.interview.checks import word_count
from app.interview.engine import Engine, Final, Move, Token
from app.interview.errors import InvalidInput
from app.interview.models import Turn
from app.interview.replies import length_limit
from app.llm.base import ChatRequest, ModelUnavailable
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


# --- a reply that runs long ----------------------------------------------------------------


async def test_a_long_reply_keeps_its_opening_whole_sentences() -> None:
    engine = Engine(interviewer())
    turns, move = first_answer_move(engine)
    opening = (
        "Fair enough, careers rarely go to plan. So what was the first system you truly owned?"
    )
    more = " I ask because the first thing someone owns shapes how they work for years after."
    assert word_count(opening + more * 4) <= length_limit(move) < word_count(opening + more * 5)
    streamed, final = await reply(engine, ScriptedModel([opening + more * 6]), turns, move)
    assert streamed == opening + more * 6
    assert final.text == opening + more * 4
    assert (final.fallback, final.fallback_reason, final.fallback_code) == (False, None, None)


async def test_a_long_reply_whose_first_sentence_is_too_long_falls_back() -> None:
    engine = Engine(interviewer())
    turns, move = first_answer_move(engine)
    long_one = "So " + "really " * length_limit(move) + "what was the first system you owned?"
    _, final = await reply(engine, ScriptedModel([long_one]), turns, move)
    assert (final.text, final.fallback, final.fallback_code) == (move.script, True, "too_long")
    assert final.fallback_reason is not None and "first sentence alone" in final.fallback_reason


async def test_a_long_reply_that_loses_its_question_when_shortened_falls_back() -> None:
    engine = Engine(interviewer())
    turns, move = first_answer_move(engine)
    musing = "Plenty of people find their way into backend work by accident, and that is fine. "
    long_one = musing * 8 + "So what was the first system you owned?"
    _, final = await reply(engine, ScriptedModel([long_one]), turns, move)
    assert (final.text, final.fallback, final.fallback_code) == (move.script, True, "too_long")
    assert final.fallback_reason is not None and "question" in final.fallback_reason


# --- private facts while streaming ---------------------------------------------------------


class ChunkedModel(ScriptedModel):
    """Streams the given chunks exactly, counting how many the engine has asked for."""

    def __init__(self, chunks: list[str]) -> None:
        super().__init__()
        self.chunks = chunks
        self.produced = 0

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        for chunk in self.chunks:
            self.produced += 1
            yield chunk


def conflict_move(engine: Engine) -> tuple[list[Turn], Move]:
    turns = say(("interviewer", "Tell me about a conflict with a stakeholder."))
    return turns, engine.next_move(turns, engine.initial_state())


async def test_the_stream_stops_before_a_private_fact_is_told() -> None:
    engine = Engine(candidate())
    turns, move = conflict_move(engine)
    # The fact: "I was laid off in March after a reorganisation, not by choice."
    chunks = [
        "We argued about pri", "cing with finance. ", "Honestly, I was la", "id off in Ma",
        "rch after a reorg", "anisation, not by choice. ", "Anyway, we ran a trial.",
    ]  # fmt: skip
    model = ChunkedModel(chunks)
    streamed, final = await reply(engine, model, turns, move)
    assert streamed == "".join(chunks[:4])
    assert "March" not in streamed and "reorg" not in streamed
    assert model.produced == len(chunks)  # the model was heard out to the end
    assert (final.text, final.fallback, final.fallback_code) == (
        move.script,
        True,
        "leaks_private_fact",
    )
    assert final.fallback_reason is not None and "private fact" in final.fallback_reason


async def test_a_reply_the_stream_hid_is_still_saved_when_it_tells_too_little() -> None:
    # Half of a fact's words stops the stream; the whole reply is then judged as usual, and
    # two of four words is not yet telling the fact, so the model's reply is kept.
    persona = candidate(
        hidden={
            "concerns": [],
            "facts": [{"text": "My work visa expires in June.", "triggers": ["visa"]}],
        }
    )
    engine = Engine(persona)
    turns, move = conflict_move(engine)
    text = "In June my work moved to pricing, and finance pushed back on nightly batches."
    model = ChunkedModel([word + " " for word in text.split()])
    streamed, final = await reply(engine, model, turns, move)
    assert "pricing" not in streamed and text.startswith(streamed.strip())
    assert (final.text, final.fallback) == (text, False)


async def test_a_normal_reply_streams_every_chunk_unchanged_and_in_order() -> None:
    engine = Engine(candidate())
    turns, move = conflict_move(engine)
    # "March" is one of the fact's words: one word alone is not a leak.
    chunks = [
        "In Ma", "rch our fin", "ance lead wanted nightly ", "pricing", " batches",
        ". We ran a two-week trial,\n", "and conversion rose 4 percent.",
    ]  # fmt: skip
    events = [event async for event in engine.stream_reply(ChunkedModel(chunks), turns, move)]
    assert events[:-1] == [Token(chunk) for chunk in chunks]
    final = events[-1]
    assert isinstance(final, Final)
    assert (final.text, final.fallback) == ("".join(chunks), False)


async def test_the_first_token_is_passed_on_before_the_model_writes_its_second() -> None:
    engine = Engine(candidate())
    turns, move = conflict_move(engine)
    model = ChunkedModel(["Our finance ", "lead wanted ", "nightly pricing batches."])
    produced_at_token: list[int] = []
    async for event in engine.stream_reply(model, turns, move):
        if isinstance(event, Token):
            produced_at_token.append(model.produced)
    assert produced_at_token == [1, 2, 3]
