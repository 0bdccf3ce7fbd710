"""A ChatModel for any OpenAI-compatible server: OpenAI, vLLM, Ollama, llama.cpp, LM Studio."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import openai

from app.llm.base import (
    ChatRequest,
    ModelBadOutput,
    ModelError,
    ModelRateLimited,
    ModelUnavailable,
)
from app.llm.wire import (
    display_url,
    extract_json,
    message_text,
    parse_chunk,
    redact,
    response_format,
    retry_after,
    schema_hint,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Tried in this order; the first mode a server accepts is remembered per model instance.
JSON_MODES = ("json_schema", "json_object", "text")
# How long to read past [DONE] for the end of a streamed body.
DRAIN_SECONDS = 1.0


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs a third of a second; every client can share one context.
    return ssl.create_default_context()


def make_client(*, base_url: str | None, api_key: str, timeout: float) -> openai.AsyncOpenAI:
    """One client per backend; the model objects share it. Retries are ours, not the SDK's."""
    return openai.AsyncOpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(verify=_tls_context()),
    )


class RequestRejected(ModelError):
    """The server refused the request itself (HTTP 400/422), e.g. an unsupported option."""

    retryable = False


def sdk_arguments(params: dict[str, Any]) -> dict[str, Any]:
    """The SDK call's arguments for a request body: everything but the model as ``extra_body``.

    The SDK passes every message through its typed-dict transform before sending, which for
    an interview's prompt costs more CPU than the rest of the turn (about 8 ms here). Our
    body is plain JSON already, and ``extra_body`` is sent as is, its keys taking precedence.
    """
    body = {key: value for key, value in params.items() if key != "model"}
    return {"model": params["model"], "messages": [], "extra_body": body}


async def drain(lines: AsyncIterator[str]) -> None:
    """Read a streamed body to its end after [DONE], so its connection goes back to the pool.

    Closed unread, the connection is dropped, and the next reply pays for a new one on the
    way to its first token. A server that stalls after [DONE] gets a short wait, no more.
    """
    with contextlib.suppress(Exception):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _line in lines:
                pass


class _Retry(Exception):
    """Internal: one attempt failed in a way worth another try."""

    def __init__(self, error: ModelError, delay: float | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay = delay


class OpenAICompatibleModel:
    """Streams and completes chat replies, with bounded retries and JSON output fallbacks.

    ``gate`` serialises calls when the server can only run one at a time (the embedded
    llama.cpp server); ``on_close`` releases what the model's owner started.
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        model: str,
        backend: str = "openai",
        max_retries: int = 2,
        can_judge: bool = True,
        retry_after_cap: float = 30.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        gate: asyncio.Semaphore | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
        json_mode: str | None = None,
    ) -> None:
        self.backend = backend
        self.model = model
        self.can_judge = can_judge
        self.max_retries = max_retries
        self.retry_after_cap = retry_after_cap
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.json_mode = json_mode  # the first JSON mode to try; updated by what works
        self._client = client
        self._gate = gate
        self._on_close = on_close
        self.where = display_url(str(client.base_url))
        timeout = client.timeout
        self._timeout = timeout if isinstance(timeout, int | float) else None

    # -- public protocol ---------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        params = self._params(request)
        async with self._gate or contextlib.nullcontext():
            attempt = 0
            while True:
                yielded = False
                try:
                    async for piece in self._stream_once(params):
                        yielded = True
                        yield piece
                    return
                except _Retry as retry:
                    # Text already reached the caller: a second attempt would repeat or
                    # contradict it, so the caller gets the error and keeps the partial text.
                    if yielded or attempt >= self.max_retries:
                        raise retry.error from retry.__cause__
                    await self._wait(retry, attempt)
                    attempt += 1

    async def complete(self, request: ChatRequest) -> str:
        params = self._params(request)
        async with self._gate or contextlib.nullcontext():
            data = await self._with_retries(lambda: self._create(params))
        text = message_text(data)
        if not text:
            raise self._empty()
        return text

    async def complete_json(
        self, request: ChatRequest, schema: dict[str, Any], *, name: str
    ) -> dict[str, Any]:
        start = JSON_MODES.index(self.json_mode) if self.json_mode else 0
        async with self._gate or contextlib.nullcontext():
            for mode in JSON_MODES[start:]:
                params = self._json_params(request, schema, name, mode)
                try:
                    data = await self._with_retries(functools.partial(self._create, params))
                except RequestRejected:
                    if mode != "text":
                        log.info("%s at %s does not accept %s output", self.model, self.where, mode)
                        continue
                    raise
                self.json_mode = mode
                return self._parse_json(message_text(data))
        raise ModelBadOutput(f"The model server at {self.where} accepted no JSON output mode.")

    async def aclose(self) -> None:
        await self._client.close()
        if self._on_close is not None:
            await self._on_close()

    # -- requests ----------------------------------------------------------------------

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": list(request.messages),
            "temperature": request.temperature,
        }
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        return params

    def _json_params(
        self, request: ChatRequest, schema: dict[str, Any], name: str, mode: str
    ) -> dict[str, Any]:
        params = self._params(request)
        fmt = response_format(mode, schema, name)
        if fmt is not None:
            params["response_format"] = fmt
        if mode != "json_schema":
            # Without a schema-aware response format the model sees the schema only here.
            params["messages"] = [*params["messages"], schema_hint(schema)]
        return params

    async def _create(self, params: dict[str, Any]) -> Any:
        create = self._client.chat.completions.with_raw_response.create
        response = await create(**sdk_arguments(params))
        return self._json_body(response.http_response.content)

    def _json_body(self, content: bytes) -> Any:
        try:
            return json.loads(content)
        except ValueError as exc:
            raise ModelBadOutput(
                f"The model server at {self.where} answered with something that is not JSON."
            ) from exc

    async def _stream_once(self, params: dict[str, Any]) -> AsyncIterator[str]:
        """One streamed attempt. Failures are raised as _Retry or final ModelErrors."""
        create = self._client.chat.completions.with_streaming_response.create
        received = 0  # characters of reply text passed on
        connected = finished = False
        try:
            async with create(**sdk_arguments(params), stream=True) as response:
                connected = True
                kind = response.headers.get("content-type", "")
                if kind.startswith("application/json"):
                    # Some servers ignore stream=true and send the whole completion at once.
                    text = message_text(self._json_body(await response.read()))
                    if not text:
                        raise self._empty()
                    yield text
                    return
                lines = response.iter_lines()
                async for line in lines:
                    if not line.startswith("data:"):
                        continue  # blank separators, ": ping" comments, event: lines
                    data = line[5:].strip()
                    if data == "[DONE]":
                        finished = True
                        await drain(lines)
                        break
                    piece, finish = parse_chunk(data, self.where, self._key)
                    if piece:
                        received += len(piece)
                        yield piece
                    if finish:
                        finished = True
                if not finished:
                    raise _Retry(self._cut_off(received), None)
                if not received:
                    raise self._empty()
        except (_Retry, ModelError):
            raise
        except openai.APIError as exc:
            raise self._classify(exc) from exc
        except Exception as exc:
            if finished and received:
                return  # the reply was complete; only the closing [DONE] went missing
            # The transport (httpx) raises its own errors once the body is being read.
            failure = self._transport(exc)
            if connected and "timeout" not in type(exc).__name__.lower():
                failure = _Retry(self._cut_off(received), None)
            raise failure from exc

    def _parse_json(self, text: str) -> dict[str, Any]:
        value = extract_json(text)
        if value is None:
            raise ModelBadOutput(
                f"The model {self.model} at {self.where} did not return valid JSON "
                f"(it began: {text[:80]!r})."
            )
        if not isinstance(value, dict):
            raise ModelBadOutput(
                f"The model {self.model} at {self.where} returned JSON that is not an object."
            )
        return value

    # -- retries -----------------------------------------------------------------------

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await call()
            except openai.APIError as exc:
                failure: Exception = self._classify(exc)
            except ModelError:
                raise
            except Exception as exc:
                failure = self._transport(exc)
            if not isinstance(failure, _Retry):
                raise failure
            if attempt >= self.max_retries:
                raise failure.error
            await self._wait(failure, attempt)
            attempt += 1

    async def _wait(self, retry: _Retry, attempt: int) -> None:
        if retry.delay is not None:
            delay = min(retry.delay, self.retry_after_cap)
        else:
            ceiling = min(self.backoff_cap, self.backoff_base * 2**attempt)
            delay = random.uniform(ceiling / 2, ceiling)  # jitter spreads out synchronized clients
        log.warning(
            "%s (retry %d of %d in %.2f s)",
            retry.error.message,
            attempt + 1,
            self.max_retries,
            delay,
        )
        await asyncio.sleep(delay)

    # -- errors ------------------------------------------------------------------------

    def _classify(self, exc: openai.APIError) -> Exception:
        """Map an SDK error to a ModelError, wrapped in _Retry when another try may help."""
        if isinstance(exc, openai.APITimeoutError):
            return _Retry(self._timed_out(), None)
        if isinstance(exc, openai.APIConnectionError):
            return _Retry(self._unreachable(exc), None)
        if not isinstance(exc, openai.APIStatusError):
            return ModelError(self._redact(f"The model server at {self.where} failed: {exc}"))
        status = exc.status_code
        detail = self._detail(exc)
        if status == 429:
            error: ModelError = ModelRateLimited(
                f"The model server at {self.where} is rate limiting requests (HTTP 429) and "
                f"still was after {self.max_retries} retries. Wait a minute and try again."
            )
            return _Retry(error, retry_after(exc.response.headers))
        if status in (400, 422) or (status == 500 and "response_format" in str(exc.body)):
            # llama.cpp answers 500 to a response_format it cannot validate.
            return RequestRejected(
                f"The model server at {self.where} rejected the request (HTTP {status}{detail})."
            )
        if status >= 500:
            return _Retry(
                ModelUnavailable(
                    f"The model server at {self.where} kept failing (HTTP {status}{detail}) "
                    f"after {self.max_retries + 1} attempts. Try again shortly."
                ),
                retry_after(exc.response.headers),
            )
        if status in (401, 403):
            # Never echo the server's text here: providers quote part of the key back.
            return ModelError(
                f"The model server at {self.where} refused the API key (HTTP {status}). "
                "Check OPENAI_API_KEY.",
                retryable=False,
            )
        if status == 404:
            return ModelError(
                f"The model server at {self.where} does not know the model '{self.model}' "
                f"(HTTP 404{detail}). Check RAPPORT_MODEL / RAPPORT_JUDGE_MODEL and "
                "OPENAI_BASE_URL.",
                retryable=False,
            )
        return ModelError(
            f"The model server at {self.where} refused the request (HTTP {status}{detail}).",
            retryable=False,
        )

    def _transport(self, exc: Exception) -> _Retry:
        if "timeout" in type(exc).__name__.lower():
            return _Retry(self._timed_out(), None)
        return _Retry(self._unreachable(exc), None)

    def _timed_out(self) -> ModelUnavailable:
        after = f"within {self._timeout:g} s" if self._timeout else "in time"
        return ModelUnavailable(
            f"The model server at {self.where} did not answer {after}. Check that it is "
            "running, or raise RAPPORT_REQUEST_TIMEOUT."
        )

    def _unreachable(self, exc: Exception) -> ModelUnavailable:
        reason = str(exc.__cause__ or exc) or type(exc).__name__
        return ModelUnavailable(
            self._redact(
                f"Could not reach the model server at {self.where} ({reason}). Check that it "
                "is running and that OPENAI_BASE_URL is right."
            )
        )

    def _cut_off(self, received: int) -> ModelUnavailable:
        return ModelUnavailable(
            f"The model server at {self.where} closed the connection mid-reply after "
            f"{received} characters. Try the turn again."
        )

    def _empty(self) -> ModelUnavailable:
        return ModelUnavailable(f"The model {self.model} at {self.where} returned an empty reply.")

    def _detail(self, exc: openai.APIStatusError) -> str:
        body = exc.body
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message:
            return ""
        return ": " + self._redact(message[:200])

    @property
    def _key(self) -> str | None:
        key = self._client.api_key
        return key if isinstance(key, str) else None

    def _redact(self, text: str) -> str:
        return redact(text, self._key)
