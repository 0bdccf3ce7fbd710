"""The ChatModel protocol that every backend satisfies, and the errors it raises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

Role = Literal["system", "user", "assistant"]
Purpose = Literal["persona", "judge", "repair"]


class Message(TypedDict):
    role: Role
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """One call to a model.

    ``script`` is the engine's own phrasing of the step it chose. Real models ignore it; the
    scripted backend speaks it, which is what keeps offline transcripts coherent.
    """

    messages: list[Message]
    purpose: Purpose = "persona"
    temperature: float = 0.7
    max_tokens: int | None = None
    script: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class ModelError(Exception):
    """The model could not answer. ``message`` is written for the person using the app."""

    retryable: bool = True

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class ModelUnavailable(ModelError):
    """The server could not be reached, timed out or kept failing."""


class ModelRateLimited(ModelError):
    """The provider kept answering 429 after the bounded retries."""


class ModelBadOutput(ModelError):
    """The model answered, but not in a shape we could use (for example invalid JSON)."""

    retryable = False


@runtime_checkable
class ChatModel(Protocol):
    """What the interview engine and the judge need from a model.

    ``backend`` is ``scripted``, ``openai`` or ``local``; ``model`` the model's name.
    ``can_judge`` says whether its JSON is worth asking for: when it is false, grading uses
    signals alone.
    """

    backend: str
    model: str
    can_judge: bool

    def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        """Yield the reply token by token (as text chunks)."""
        ...

    async def complete(self, request: ChatRequest) -> str:
        """Return the whole reply."""
        ...

    async def complete_json(
        self, request: ChatRequest, schema: dict[str, Any], *, name: str
    ) -> dict[str, Any]:
        """Return a JSON object that the caller validates against ``schema``.

        Raises ModelBadOutput when no JSON object can be had.
        """
        ...

    async def aclose(self) -> None:
        """Release connections or processes."""
        ...
