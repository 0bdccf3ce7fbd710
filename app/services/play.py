"""Playing a persona against a caller's own messages, for the OpenAI-compatible endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from app.interview.engine import Engine, Final, Move, Token
from app.interview.errors import InvalidInput
from app.interview.models import Persona, Turn
from app.services.runtime import Runtime

Role = Literal["system", "developer", "user", "assistant", "tool"]


@dataclass(frozen=True)
class CallerMessage:
    role: str
    content: str


@dataclass
class Performance:
    persona: Persona
    engine: Engine
    history: list[Turn]
    move: Move


class PersonaPlayer:
    """Stateless: the engine's state is replayed from the messages on every call."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def prepare(self, persona_id: str, messages: list[CallerMessage]) -> Performance:
        persona = self.runtime.personas.get(persona_id)
        history: list[Turn] = []
        for number, message in enumerate(messages):
            if message.role in ("system", "developer"):
                # The persona file is the system prompt; a caller's cannot replace it.
                continue
            if message.role not in ("user", "assistant"):
                raise InvalidInput(
                    f"messages[{number}].role",
                    f"'{message.role}' is not supported; use user or assistant",
                )
            speaker = persona.side if message.role == "assistant" else persona.human_side
            if len(message.content) > self.runtime.settings.max_turn_chars * 5:
                raise InvalidInput(f"messages[{number}].content", "is too long")
            history.append(Turn(speaker=speaker, text=message.content))
        engine = Engine(persona, window=self.runtime.settings.transcript_window)
        state = engine.initial_state()
        start = 0
        opening = engine.opening(state)
        if opening is not None:
            if not history:
                return Performance(persona, engine, history, opening)
            if history[0].speaker == persona.side:
                state, start = opening.state_after, 1
        if not history:
            raise InvalidInput(
                "messages",
                f"{persona.name} is a candidate and waits to be asked: send a user message",
            )
        for position in range(start, len(history)):
            if history[position].speaker == persona.side:
                state = engine.next_move(history[:position], state).state_after
        return Performance(persona, engine, history, engine.next_move(history, state))

    async def perform(self, performance: Performance) -> AsyncIterator[Token | Final]:
        async for item in performance.engine.stream_reply(
            self.runtime.models.persona, performance.history, performance.move
        ):
            yield item
