"""Reading what OpenAI-compatible servers send: JSON in text, Retry-After, stream chunks."""

from __future__ import annotations

import email.utils
import time

import pytest

from app.llm.base import ModelBadOutput, ModelUnavailable
from app.llm.wire import display_url, extract_json, parse_chunk, redact, retry_after


def test_display_url_hides_credentials() -> None:
    assert display_url("https://user:pw@example.com:8443/v1/") == "https://example.com:8443/v1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Result: {"a": {"b": [1, 2]}} done', {"a": {"b": [1, 2]}}),
        ('```json\n{"a": "}"}\n```', {"a": "}"}),
        ('{broken {"a": 2}', {"a": 2}),
        ("[1, 2]", [1, 2]),
        ("no json here", None),
        ("", None),
    ],
)
def test_extract_json(text: str, expected: object) -> None:
    assert extract_json(text) == expected


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after": "0.5"}) == 0.5
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    soon = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 15 <= (retry_after({"retry-after": soon}) or 0) <= 21
    assert retry_after({"retry-after": "whenever"}) is None
    assert retry_after({}) is None


def test_redact_removes_the_key_and_key_shaped_strings() -> None:
    assert redact("bad key local-secret-1", "local-secret-1") == "bad key [redacted]"
    assert "abcdefgh" not in redact("Incorrect API key provided: sk-proj-abcdefghijk", None)


def test_parse_chunk() -> None:
    delta = '{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}'
    assert parse_chunk(delta, "http://x/v1") == ("Hi", False)
    assert parse_chunk('{"choices":[{"delta":{},"finish_reason":"stop"}]}', "u") == ("", True)
    assert parse_chunk('{"choices":[]}', "u") == ("", False)
    with pytest.raises(ModelUnavailable, match="failed mid-reply: overloaded"):
        parse_chunk('{"error":{"message":"overloaded"}}', "u")
    with pytest.raises(ModelBadOutput):
        parse_chunk("{not json", "u")
