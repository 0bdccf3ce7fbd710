"""The interview engine: decides each move from the plan and streams the persona's reply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.interview.candidate import plan_candidate
from app.interview.errors import InvalidInput
from app.interview.models import Persona, Turn
from app.interview.plan import EngineState, Move, last_text, plan_interviewer
from app.interview.prompts import build_messages, prefix_messages
from app.interview.replies import SecretWatch, clean_reply, settle_reply
from app.llm.base import ChatModel, ChatRequest, Message

__all__ = ["Engine", "EngineState", "Final", "Move", "Token"]

# Real models count tokens, not words; this leaves room for the checks' length slack.
TOKENS_PER_WORD = 2.2


@dataclass(frozen=True)
class Token:
    """A chunk of the reply as the model streams it."""

    text: str


@dataclass(frozen=True)
class Final:
    """The reply to save. With ``fallback`` the model's text failed a check and ``text`` is the
    plan's own phrasing; ``fallback_reason`` says why and ``fallback_code`` which check.

    Without ``fallback``, ``text`` is the model's reply, cut to its opening whole sentences
    when it ran past the persona's length limit.
    """

    text: str
    fallback: bool
    fallback_reason: str | None
    move_kind: str
    state: EngineState
    fallback_code: str | None = None


class Engine:
    """Plays one persona: an interviewer walking its agenda, or a candidate telling its stories."""

    def __init__(
        self,
        persona: Persona,
        *,
        window: int = 16,
        job_description: str = "",
        resume: str = "",
    ) -> None:
        if window < 1:
            raise InvalidInput("window", "expected at least 1 turn of transcript")
        self.persona = persona
        self.window = window
        self.job_description = job_description
        self.resume = resume
        self._prefixes: dict[str, list[Message]] = {}

    def initial_state(self) -> EngineState:
        return EngineState(side=self.persona.side)

    def opening(self, state: EngineState) -> Move | None:
        """The interviewer's first words; a candidate persona waits to be asked."""
        if self.persona.side != "interviewer":
            return None
        s = state.copy()
        s.moves += 1
        first = self.persona.agenda[0]
        script = self.persona.first_message
        directive = f"Greet the candidate in character, then ask: {first.ask}"
        if "?" in script:
            # The greeting asks its own question; the agenda starts after the reply to it.
            directive = "Greet the candidate in character with this opening."
        else:
            s.step = 0
            script = f"{script} {first.ask}"
        return Move(
            kind="open",
            script=script,
            directive=directive,
            expects_question=True,
            topic_words=[first.topic, *first.keywords] if first.topic else list(first.keywords),
            max_words=max(self.persona.style.max_words, len(script.split())),
            state_after=s,
        )

    def next_move(self, turns: list[Turn], state: EngineState, *, ending: bool = False) -> Move:
        """Decide what the persona does after the latest turn; ``ending`` closes politely."""
        if state.side != self.persona.side:
            raise InvalidInput(
                "state.side",
                f"this state belongs to a {state.side} persona, not a {self.persona.side} one",
            )
        if self.persona.side == "interviewer":
            return plan_interviewer(self.persona, turns, state, ending=ending)
        return plan_candidate(self.persona, turns, state, ending=ending)

    def request_for(self, turns: list[Turn], move: Move, *, compact: bool = False) -> ChatRequest:
        """The request for a model to phrase ``move``. ``compact`` fits a small model's short
        context: the persona's identity and the step, without the full persona sheet."""
        key = "compact" if compact else "full"
        if key not in self._prefixes:
            self._prefixes[key] = prefix_messages(
                self.persona, self.job_description, self.resume, compact=compact
            )
        messages = build_messages(
            self._prefixes[key], self.persona, turns, move, window=self.window, compact=compact
        )
        return ChatRequest(
            messages=messages,
            purpose="persona",
            temperature=0.7,
            max_tokens=int(move.max_words * TOKENS_PER_WORD) + 16,
            script=move.script,
            metadata={"persona_id": self.persona.id, "move_kind": move.kind},
        )

    async def stream_reply(
        self, model: ChatModel, turns: list[Turn], move: Move
    ) -> AsyncIterator[Token | Final]:
        """Stream the model's phrasing of ``move``, then a Final with the text to save.

        Each chunk is passed on as it arrives. Once the reply begins to tell a private fact
        that the plan has not revealed, no more of it is shown: the model finishes its reply
        unseen, and the checks then decide on the whole of it (a reply that tells the fact
        falls back to the plan's script; the Final's text is what the client should show).
        Only a chunk whose word would complete that much of a fact waits for the word's end
        (see ``SecretWatch``).

        A ModelError raised mid-stream propagates: the caller keeps what was streamed.
        """
        chunks: list[str] = []
        # The embedded backend runs a small model with a short context window.
        request = self.request_for(turns, move, compact=model.backend == "local")
        secrets = [
            fact.text
            for index, fact in enumerate(self.persona.hidden.facts)
            if index not in move.state_after.revealed
        ]
        watch = SecretWatch(secrets, allowed=move.script)
        async for chunk in model.stream(request):
            chunks.append(chunk)
            for shown in watch.feed(chunk):
                yield Token(shown)
        for shown in watch.finish():
            yield Token(shown)
        # The watch only hides; whether the whole reply may be saved is the checks' call.
        text = clean_reply("".join(chunks), self.persona.name)
        partner = last_text(turns, self.persona.human_side)
        saved, result = settle_reply(text, move, partner, secrets)
        if result.ok:
            yield Final(saved, False, None, move.kind, move.state_after)
        else:
            yield self._fallback(move, result.code, result.reason)

    @staticmethod
    def _fallback(move: Move, code: str, reason: str | None) -> Final:
        return Final(move.script, True, reason, move.kind, move.state_after, code)
