"""The OpenAI-compatible backend, through the real openai client, against the fault server."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.llm.base import (
    ChatRequest,
    ModelBadOutput,
    ModelError,
    ModelRateLimited,
    ModelUnavailable,
)
from app.llm.openai_compatible import OpenAICompatibleModel, _tls_context, make_client
from tests.support.fake_openai import FakeOpenAI, free_port

SECRET = "sk-test-0123456789abcdefSECRET"
SCHEMA = {
    "type": "object",
    "properties": {"evidence": {"type": "array"}, "score": {"type": "integer"}},
    "required": ["evidence", "score"],
}
REQUEST = ChatRequest(messages=[{"role": "user", "content": "Tell me about yourself."}])
JUDGE = ChatRequest(
    messages=[{"role": "user", "content": "Grade this turn. Reply in JSON."}], purpose="judge"
)


def build(
    base_url: str, *, timeout: float = 5.0, max_retries: int = 2, **options: Any
) -> OpenAICompatibleModel:
    client = make_client(base_url=base_url, api_key=SECRET, timeout=timeout)
    return OpenAICompatibleModel(
        client, model="fake-model", max_retries=max_retries, backoff_base=0.01, **options
    )


@pytest.fixture
async def model(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAICompatibleModel]:
    built = build(fake_openai.base_url)
    yield built
    await built.aclose()


async def collect(model: OpenAICompatibleModel, request: ChatRequest = REQUEST) -> list[str]:
    return [piece async for piece in model.stream(request)]


async def test_stream_yields_tokens_in_order(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.control.tokens = 5
    pieces = await collect(model)
    assert pieces == ["word0 ", "word1 ", "word2 ", "word3 ", "word4."]
    sent = fake_openai.requests[0].body
    assert sent["stream"] is True
    assert sent["model"] == "fake-model"
    assert sent["messages"] == [{"role": "user", "content": "Tell me about yourself."}]


async def test_streamed_replies_reuse_one_connection(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    # Each stream is read past [DONE] to its end, so its connection goes back to the pool
    # instead of being closed: the next reply starts without a new TCP handshake.
    for _ in range(3):
        assert await collect(model)
    peers = {recorded.peer for recorded in fake_openai.requests}
    assert len(fake_openai.requests) == 3 and len(peers) == 1 and None not in peers


async def test_stream_sends_temperature_and_max_tokens(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    request = ChatRequest(messages=REQUEST.messages, temperature=0.2, max_tokens=33)
    await collect(model, request)
    body = fake_openai.requests[0].body
    assert (body["temperature"], body["max_tokens"]) == (0.2, 33)


async def test_stream_tokens_arrive_as_they_are_produced(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("normal", tokens=4, gap_ms=80)
    started = time.monotonic()
    arrivals = [time.monotonic() - started async for _ in model.stream(REQUEST)]
    assert len(arrivals) == 4
    assert arrivals[0] < 0.2 and arrivals[-1] >= 0.3


async def test_complete_returns_whole_reply(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("normal", content="Hello there, Sam.")
    assert await model.complete(REQUEST) == "Hello there, Sam."
    assert not fake_openai.requests[0].body.get("stream")


async def test_rate_limit_honours_retry_after_then_succeeds(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("rate_limit", retry_after=0.4, times=2)
    started = time.monotonic()
    text = await model.complete(REQUEST)
    assert time.monotonic() - started >= 0.8
    assert text.startswith("word0")
    assert [r.kind for r in fake_openai.requests] == ["rate_limit", "rate_limit", "normal"]


async def test_rate_limit_in_stream_is_retried(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("rate_limit", retry_after=0.3)
    started = time.monotonic()
    pieces = await collect(model)
    assert time.monotonic() - started >= 0.3
    assert "".join(pieces).startswith("word0")
    assert len(fake_openai.requests) == 2


async def test_rate_limit_gives_up_after_bounded_retries(fake_openai: FakeOpenAI) -> None:
    model = build(fake_openai.base_url, max_retries=1)
    fake_openai.behave("rate_limit", retry_after=0.05, times=5)
    with pytest.raises(ModelRateLimited, match="429"):
        await model.complete(REQUEST)
    assert len(fake_openai.requests) == 2
    await model.aclose()


async def test_retry_after_is_capped(fake_openai: FakeOpenAI) -> None:
    model = build(fake_openai.base_url, max_retries=1, retry_after_cap=0.1)
    fake_openai.behave("rate_limit", retry_after=60)
    started = time.monotonic()
    await model.complete(REQUEST)
    assert time.monotonic() - started < 2
    await model.aclose()


async def test_server_error_retries_then_unavailable(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("error", status=500, times=10)
    with pytest.raises(ModelUnavailable, match="HTTP 500") as caught:
        await collect(model)
    assert len(fake_openai.requests) == 3  # one attempt and max_retries=2 retries
    assert "Try again" in caught.value.message


async def test_server_error_once_is_recovered(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("error", status=503)
    assert (await model.complete(REQUEST)).startswith("word0")
    assert len(fake_openai.requests) == 2


async def test_read_timeout_names_the_setting(fake_openai: FakeOpenAI) -> None:
    model = build(fake_openai.base_url, timeout=0.3, max_retries=1)
    fake_openai.behave("hang", times=2)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        await collect(model)
    assert time.monotonic() - started < 3
    assert len(fake_openai.requests) == 2
    assert "did not answer within 0.3 s" in caught.value.message
    assert "RAPPORT_REQUEST_TIMEOUT" in caught.value.message
    await model.aclose()


async def test_stall_after_first_tokens_is_not_retried(fake_openai: FakeOpenAI) -> None:
    model = build(fake_openai.base_url, timeout=0.3)
    fake_openai.behave("stall", after_tokens=2)
    pieces: list[str] = []
    with pytest.raises(ModelUnavailable, match="did not answer"):
        async for piece in model.stream(REQUEST):
            pieces.append(piece)
    assert pieces == ["word0 ", "word1 "]
    assert len(fake_openai.requests) == 1
    await model.aclose()


async def test_cut_off_stream_raises_after_partial_tokens(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("cut", after_tokens=3)
    pieces: list[str] = []
    with pytest.raises(ModelUnavailable, match="mid-reply"):
        async for piece in model.stream(REQUEST):
            pieces.append(piece)
    assert pieces == ["word0 ", "word1 ", "word2 "]
    assert len(fake_openai.requests) == 1  # never retried once text reached the caller


async def test_cut_before_first_token_is_retried(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("cut", after_tokens=0)
    pieces = await collect(model)
    assert "".join(pieces).startswith("word0")
    assert len(fake_openai.requests) == 2


async def test_connection_refused_is_unavailable() -> None:
    model = build(f"http://127.0.0.1:{free_port()}/v1", max_retries=1)
    with pytest.raises(ModelUnavailable, match="Could not reach the model server"):
        await model.complete(REQUEST)
    await model.aclose()


@pytest.mark.parametrize("streamed", [True, False])
async def test_empty_reply_is_unavailable(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI, streamed: bool
) -> None:
    fake_openai.behave("empty")
    with pytest.raises(ModelUnavailable, match="empty reply"):
        if streamed:
            await collect(model)
        else:
            await model.complete(REQUEST)


async def test_long_reply_streams_completely(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("long", tokens=3000)
    pieces = await collect(model)
    assert len(pieces) == 3000
    assert pieces[-1] == "word2999."


async def test_json_schema_is_tried_first(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.control.json_reply = {"evidence": ["I led it"], "score": 5}
    assert await model.complete_json(JUDGE, SCHEMA, name="listen actively") == {
        "evidence": ["I led it"],
        "score": 5,
    }
    fmt = fake_openai.requests[0].body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "listen_actively"
    assert fmt["json_schema"]["schema"] == SCHEMA
    assert model.json_mode == "json_schema"


async def test_json_falls_back_to_json_object_and_remembers(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.control.reject_formats = {"json_schema"}
    assert (await model.complete_json(JUDGE, SCHEMA, name="r"))["score"] == 4
    kinds = [r.body.get("response_format", {}).get("type") for r in fake_openai.requests]
    assert kinds == ["json_schema", "json_object"]
    assert "JSON schema" in fake_openai.requests[1].body["messages"][-1]["content"]
    await model.complete_json(JUDGE, SCHEMA, name="r")
    assert fake_openai.requests[2].body["response_format"]["type"] == "json_object"


async def test_a_server_error_about_response_format_also_falls_back(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.control.reject_formats = {"json_schema"}
    fake_openai.control.reject_status = 500  # what llama.cpp's server does
    assert (await model.complete_json(JUDGE, SCHEMA, name="r"))["score"] == 4
    assert len(fake_openai.requests) == 2  # not retried as a server failure
    assert model.json_mode == "json_object"


async def test_json_falls_back_to_text_extraction(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.control.reject_formats = {"json_schema", "json_object"}
    fake_openai.behave(
        "normal", times=3, content='Sure! Here it is:\n```json\n{"evidence": [], "score": 2}\n```'
    )
    assert await model.complete_json(JUDGE, SCHEMA, name="r") == {"evidence": [], "score": 2}
    assert "response_format" not in fake_openai.requests[-1].body
    assert model.json_mode == "text"


async def test_malformed_json_is_bad_output(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("bad_json")
    with pytest.raises(ModelBadOutput, match="did not return valid JSON"):
        await model.complete_json(JUDGE, SCHEMA, name="r")
    assert len(fake_openai.requests) == 1  # bad output is not retried


async def test_json_that_is_not_an_object_is_bad_output(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("wrong_json")
    with pytest.raises(ModelBadOutput, match="not an object"):
        await model.complete_json(JUDGE, SCHEMA, name="r")


async def test_rejected_request_is_not_retried(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.behave("error", status=400)
    with pytest.raises(ModelError, match="HTTP 400") as caught:
        await model.complete(REQUEST)
    assert caught.value.retryable is False
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("error", {"status": 401, "times": 5}),
        ("error", {"status": 500, "times": 5}),
        ("rate_limit", {"retry_after": 0, "times": 5}),
        ("cut", {"times": 5}),
        ("bad_json", {}),
    ],
)
async def test_keys_never_appear_in_errors(
    model: OpenAICompatibleModel,
    fake_openai: FakeOpenAI,
    kind: str,
    options: dict[str, object],
) -> None:
    fake_openai.behave(kind, **options)
    with pytest.raises(ModelError) as caught:
        if kind == "bad_json":
            await model.complete_json(JUDGE, SCHEMA, name="r")
        else:
            await collect(model)
    assert SECRET not in str(caught.value)
    assert "sk-test" not in caught.value.message


def test_server_messages_quoting_a_key_are_redacted() -> None:
    model = build("http://127.0.0.1:9/v1")
    assert "[redacted]" in model._redact(f"Incorrect API key provided: {SECRET}")
    assert "sk-" not in model._redact("key sk-proj-abcdefghijklmnop is wrong")


async def test_authorization_is_sent_and_sdk_retries_are_off(
    model: OpenAICompatibleModel, fake_openai: FakeOpenAI
) -> None:
    await model.complete(REQUEST)
    headers = fake_openai.requests[0].headers
    assert headers["authorization-present"] == "True"
    assert headers.get("x-stainless-retry-count", "0") == "0"


async def test_gate_runs_one_request_at_a_time(fake_openai: FakeOpenAI) -> None:
    gate = asyncio.Semaphore(1)
    client = make_client(base_url=fake_openai.base_url, api_key="local", timeout=5)
    first = OpenAICompatibleModel(client, model="a", gate=gate)
    second = OpenAICompatibleModel(client, model="b", gate=gate)
    fake_openai.control.gap_ms = 20
    fake_openai.control.tokens = 5

    async def run(model: OpenAICompatibleModel) -> tuple[float, float]:
        stamps = [time.monotonic() async for _ in model.stream(REQUEST)]
        return stamps[0], stamps[-1]

    (a_first, a_last), (b_first, b_last) = await asyncio.gather(run(first), run(second))
    assert a_last <= b_first or b_last <= a_first  # the streams did not interleave
    await first.aclose()
    await second.aclose()


def test_shared_tls_context_still_verifies_servers() -> None:
    context = _tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
