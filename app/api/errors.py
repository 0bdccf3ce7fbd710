"""The one place where domain errors become HTTP status codes and error bodies."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.content import describe_location
from app.interview.errors import Conflict, ContentError, InvalidInput, NotFound, RapportError
from app.llm.base import ModelBadOutput, ModelError, ModelRateLimited, ModelUnavailable

log = logging.getLogger("rapport.api")


class ReplyFailed(RapportError):
    """The persona's reply could not be generated; the turn is saved and can be retried."""

    def __init__(self, cause: ModelError, *, retry_url: str | None, turn_index: int) -> None:
        super().__init__(f"{cause.message} The reply was saved as incomplete; retry it.")
        self.cause = cause
        self.retry_url = retry_url
        self.turn_index = turn_index


def model_status(error: ModelError) -> int:
    """503 when waiting and retrying can help, 502 when the model answered badly."""
    if isinstance(error, ModelUnavailable | ModelRateLimited):
        return 503
    if isinstance(error, ModelBadOutput):
        return 502
    return 503 if error.retryable else 502


def status_for(error: Exception) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, ReplyFailed):
        return model_status(error.cause)
    if isinstance(error, ModelError):
        return model_status(error)
    if isinstance(error, ContentError):
        return 500
    return 400


_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def is_openai_route(request: Request) -> bool:
    return request.url.path.startswith("/v1/")


def openai_error(status: int, message: str, *, param: str | None = None) -> dict[str, Any]:
    """An error body in the shape OpenAI clients parse."""
    kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    extra = extra or {}
    if is_openai_route(request):
        body = openai_error(status, message, param=extra.get("field"))
    else:
        body = {"detail": message, **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse(body, status_code=status, headers=headers)


def body_for(error: Exception) -> tuple[str, dict[str, Any]]:
    if isinstance(error, NotFound):
        return error.message, {"valid": error.valid or None}
    if isinstance(error, InvalidInput):
        return error.message, {"field": error.field}
    if isinstance(error, ReplyFailed):
        return error.message, {"retry_url": error.retry_url, "turn_index": error.turn_index}
    if isinstance(error, RapportError | ModelError):
        return error.message, {}
    return str(error), {}


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status = status_for(exc)
    message, extra = body_for(exc)
    if status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, message)
    headers = {"Retry-After": "5"} if status == 503 else None
    return error_response(request, status, message, extra=extra, headers=headers)


def describe_validation(errors: list[Any]) -> tuple[str, list[dict[str, str]]]:
    problems: list[dict[str, str]] = []
    for item in errors:
        loc = tuple(item.get("loc", ()))
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]
        if item.get("type") == "json_invalid":
            where = item.get("ctx", {}).get("error", "")
            problems.append(
                {"field": "body", "message": f"the request body is not valid JSON ({where})"}
            )
            continue
        message = str(item.get("msg", "invalid value"))
        if item.get("type") == "missing":
            message = "field required"
        problems.append({"field": describe_location(loc) if loc else "body", "message": message})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "invalid request"
    return summary, problems


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    summary, problems = describe_validation(list(exc.errors()))
    field = problems[0]["field"] if problems else None
    return error_response(request, 422, summary, extra={"field": field, "errors": problems})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(
        request, exc.status_code, str(exc.detail), headers=dict(exc.headers or {}) or None
    )


def install_error_handlers(app: FastAPI) -> None:
    for kind in (RapportError, ModelError):
        app.add_exception_handler(kind, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
