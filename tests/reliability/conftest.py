"""Apps on the openai backend, pointed at the fault-injecting model server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings
from tests.support.apps import openai_settings, serving
from tests.support.fake_openai import FakeOpenAI
from tests.support.fixtures import _fake_openai_server, fake_openai

__all__ = ["_fake_openai_server", "fake_openai"]


@pytest.fixture
def backend_changes() -> dict[str, object]:
    """Settings a test changes for its app (override with parametrize or a fixture)."""
    return {}


@pytest.fixture
async def openai_client(
    settings: Settings, fake_openai: FakeOpenAI, backend_changes: dict[str, object]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app on the openai backend, talking to the fault server over loopback."""
    changed = openai_settings(settings, fake_openai, **backend_changes)
    async with serving(changed, http_timeout=60) as http:
        yield http
