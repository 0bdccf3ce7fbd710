"""Interviews and their turns: start, list, read, take a turn (JSON or SSE), finish, export."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sse_starlette import EventSourceResponse

from app.api.deps import CurrentUser, ServiceDep
from app.api.errors import ReplyFailed
from app.api.schemas import (
    ErrorOut,
    ExchangeOut,
    InterviewCreate,
    InterviewOut,
    InterviewPage,
    ReplyOut,
    TurnIn,
)
from app.grading.report import Report
from app.services import Exchange
from app.services.interviews import InterviewService
from app.services.turns import retry_url

router = APIRouter(prefix="/api/interviews", tags=["interviews"])

Format = Literal["json", "md"]
AcceptHeader = Annotated[str, Header(alias="accept")]

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such interview (or not yours)"},
    409: {"model": ErrorOut, "description": "a reply is in flight, or the interview is finished"},
    422: {"model": ErrorOut, "description": "bad input; the body names the field and the limit"},
}
_MODEL_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorOut, "description": "the model answered badly; retry_url regenerates"},
    503: {"model": ErrorOut, "description": "the model is unreachable; retry_url regenerates"},
}
_SSE_DOC = {
    "description": "The exchange as JSON, or with `Accept: text/event-stream` server-sent "
    "events: `turn` (the saved human turn), `token` {text} (the reply as it is generated), "
    "`grade` {turn_index, grades, signals}, `done` (the saved reply), or `error` "
    "{message, retry_url, turn_index}.",
    "content": {"text/event-stream": {"example": 'event: token\ndata: {"text": "Hi"}\n\n'}},
}
_MARKDOWN = {"content": {"text/markdown": {"example": "# Interview report\n..."}}}


def wants_events(accept: str) -> bool:
    return "text/event-stream" in accept.lower()


def stream(exchange: Exchange) -> EventSourceResponse:
    async def events() -> AsyncIterator[bytes]:
        # Leaving this loop (the client went away) does not stop the reply: it is a task of
        # its own that finishes and saves either way. Each event's data is one line of JSON,
        # so the frame is written directly rather than built through ServerSentEvent.
        async for event in exchange.events:
            yield b"event: %s\r\ndata: %s\r\n\r\n" % (event.kind.encode(), event.data.encode())

    return EventSourceResponse(events(), ping=15, headers={"X-Accel-Buffering": "no"})


async def outcome(exchange: Exchange) -> ExchangeOut:
    # Shielded, so a client hanging up does not cancel the reply it asked for.
    result = await asyncio.shield(exchange.task)
    claim = exchange.claim
    if result.error is not None:
        raise ReplyFailed(
            result.error,
            retry_url=retry_url(claim.interview_id, claim.reply_index),
            turn_index=claim.reply_index,
        )
    assert claim.human is not None
    return ExchangeOut(
        human=claim.human.model_copy(update={"grades": result.grades}),
        reply=result.reply,
        grades=result.grades,
        signals=result.signals,
    )


@router.post("", response_model=InterviewOut, status_code=201, responses=_ERRORS)
async def start_interview(
    body: InterviewCreate, user: CurrentUser, service: ServiceDep
) -> InterviewOut:
    """Start an interview; you take the side opposite the persona, who speaks first if an
    interviewer."""
    return await service.start(user, body)


@router.get("", response_model=InterviewPage)
async def list_interviews(
    user: CurrentUser,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> InterviewPage:
    """Your interviews, newest first."""
    return await service.list(user, limit=limit, offset=offset)


@router.get("/{interview_id}", response_model=InterviewOut, responses=_ERRORS)
async def get_interview(interview_id: str, user: CurrentUser, service: ServiceDep) -> InterviewOut:
    """The full transcript with each turn's grades."""
    return await service.get(user, interview_id)


@router.delete("/{interview_id}", status_code=204, responses=_ERRORS)
async def delete_interview(interview_id: str, user: CurrentUser, service: ServiceDep) -> Response:
    await service.delete(user, interview_id)
    return Response(status_code=204)


@router.post(
    "/{interview_id}/turns",
    response_model=ExchangeOut,
    responses={200: _SSE_DOC, **_ERRORS, **_MODEL_ERRORS},
)
async def take_turn(
    interview_id: str,
    body: TurnIn,
    user: CurrentUser,
    service: ServiceDep,
    accept: AcceptHeader = "application/json",
) -> ExchangeOut | EventSourceResponse:
    """Say something. Your turn is saved before the persona replies."""
    exchange = await service.take_turn(user, interview_id, body.text)
    return stream(exchange) if wants_events(accept) else await outcome(exchange)


@router.post(
    "/{interview_id}/turns/{index}/retry",
    response_model=ReplyOut,
    responses={200: _SSE_DOC, **_ERRORS, **_MODEL_ERRORS},
)
async def retry_turn(
    interview_id: str,
    index: int,
    user: CurrentUser,
    service: ServiceDep,
    accept: AcceptHeader = "application/json",
) -> ReplyOut | EventSourceResponse:
    """Regenerate the persona's last reply when it is incomplete or failed."""
    exchange = await service.retry(user, interview_id, index)
    if wants_events(accept):
        return stream(exchange)
    result = await asyncio.shield(exchange.task)
    if result.error is not None:
        raise ReplyFailed(
            result.error, retry_url=retry_url(interview_id, index), turn_index=index
        )
    return ReplyOut(reply=result.reply)


def report_response(report: Report, format: Format) -> Report | PlainTextResponse:
    if format == "md":
        return PlainTextResponse(
            InterviewService.report_markdown(report), media_type="text/markdown"
        )
    return report


@router.post(
    "/{interview_id}/finish",
    response_model=Report,
    responses={200: _MARKDOWN, **_ERRORS},
)
async def finish_interview(
    interview_id: str, user: CurrentUser, service: ServiceDep, format: Format = "json"
) -> Report | PlainTextResponse:
    """Grade the whole session and close the interview; answers the report."""
    return report_response(await service.finish(user, interview_id), format)


@router.get("/{interview_id}/report", response_model=Report, responses={200: _MARKDOWN, **_ERRORS})
async def get_report(
    interview_id: str, user: CurrentUser, service: ServiceDep, format: Format = "json"
) -> Report | PlainTextResponse:
    """The session report of a finished interview (JSON, or Markdown with ``?format=md``)."""
    return report_response(await service.report(user, interview_id), format)


@router.get(
    "/{interview_id}/transcript",
    responses={
        200: {"content": {"application/json": {}, "text/markdown": {}}},
        **_ERRORS,
    },
)
async def export_transcript(
    interview_id: str, user: CurrentUser, service: ServiceDep, format: Format = "json"
) -> Response:
    """The transcript as JSON or Markdown, in the formats ``rapport grade`` reads."""
    interview = await service.get(user, interview_id)
    filename = f"rapport-{interview_id}.{format}"
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    if format == "md":
        return PlainTextResponse(
            InterviewService.transcript_markdown(interview),
            media_type="text/markdown",
            headers=headers,
        )
    return JSONResponse(InterviewService.transcript_json(interview), headers=headers)
