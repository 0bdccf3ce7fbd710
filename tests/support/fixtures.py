"""Pytest fixtures shared across the suite: a fault-injecting OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_openai import FakeOpenAI


@pytest.fixture(scope="session")
def _fake_openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake_openai(_fake_openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The shared fake server, reset to normal behaviour for each test."""
    _fake_openai_server.reset()
    _fake_openai_server.control.tokens = 12
    _fake_openai_server.control.gap_ms = 0.0
    yield _fake_openai_server
    _fake_openai_server.reset()
