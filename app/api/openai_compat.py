"""An OpenAI-compatible face for the personas: any OpenAI client or chat UI can talk to one."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from app.api.deps import CurrentUser, ServiceDep
from app.api.errors import model_status, openai_error
from app.interview.engine import Final
from app.llm.base import ModelError
from app.services.play import CallerMessage, Performance

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(
                str(part.get("text", "")) for part in self.content if part.get("type") == "text"
            )
        return self.content or ""


class ChatCompletionIn(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "model": "maya-startup-eng-manager",
                "messages": [{"role": "user", "content": "Hi Maya, thanks for having me."}],
                "stream": True,
            }
        },
    )

    model: str = Field(description="a persona id, as listed by GET /v1/models")
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=500)
    stream: bool = False


class ModelCard(BaseModel):
    id: str
    object: str = "model"
    created: int = 0
    owned_by: str = "rapport"


class ModelList(BaseModel):
    object: str = "list"
    data: list[ModelCard]


@router.get("/models", response_model=ModelList)
async def list_models(service: ServiceDep, _user: CurrentUser) -> ModelList:
    """Every persona, as a model to chat with."""
    personas = service.runtime.personas.list()
    return ModelList(data=[ModelCard(id=p.id) for p in personas])


def _chunk(ident: str, created: int, model: str, delta: dict[str, Any], finish: str | None) -> str:
    return json.dumps(
        {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
    )


async def _stream(service: ServiceDep, show: Performance, model: str) -> AsyncIterator[str]:
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    yield _chunk(ident, created, model, {"role": "assistant", "content": ""}, None)
    try:
        async for item in service.player.perform(show):
            if not isinstance(item, Final):
                yield _chunk(ident, created, model, {"content": item.text}, None)
    except ModelError as error:
        # Mid-stream, the status line is long gone: OpenAI clients read an error chunk.
        yield json.dumps(openai_error(model_status(error), error.message))
        return
    yield _chunk(ident, created, model, {}, "stop")
    yield "[DONE]"


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorOut(BaseModel):
    """Errors in the shape OpenAI clients parse."""

    error: OpenAIErrorDetail


def _error_doc(description: str) -> dict[str, Any]:
    return {"model": OpenAIErrorOut, "description": description}


@router.post(
    "/chat/completions",
    responses={
        200: {
            "description": "A chat.completion, or with `stream: true` server-sent "
            "chat.completion.chunk events ending in `[DONE]`.",
            "content": {"text/event-stream": {"example": 'data: {"object": '
                                              '"chat.completion.chunk", ...}\n\ndata: [DONE]'}},
        },
        401: _error_doc("a key is needed, or the key is not valid"),
        404: _error_doc("no persona with that id; the message lists the valid ids"),
        422: _error_doc("bad input; param names the field"),
        502: _error_doc("the model answered badly"),
        503: _error_doc("the model is unreachable; try again"),
    },
)
async def chat_completions(
    body: ChatCompletionIn, service: ServiceDep, _user: CurrentUser
) -> Any:
    """Play the persona named by ``model`` against ``messages`` (user = you, assistant = the
    persona). System messages are ignored: the persona file is the system prompt."""
    messages = [CallerMessage(role=m.role, content=m.text()) for m in body.messages]
    show = service.player.prepare(body.model, messages)
    if body.stream:
        return EventSourceResponse(_stream(service, show, body.model), ping=15)
    text = ""
    async for item in service.player.perform(show):
        if isinstance(item, Final):
            text = item.text
    words = len(text.split())
    return JSONResponse(
        {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": words, "total_tokens": words},
        }
    )
