"""Apps on the openai backend, pointed at the fault-injecting model server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.config import Settings
from app.main import create_app
from tests.support.fake_openai import FakeOpenAI
from tests.support.fixtures import _fake_openai_server, fake_openai

__all__ = ["_fake_openai_server", "fake_openai"]

MODEL_KEY = "sk-rapport-test-9f8e7d6c5b4a"
PERSONA_MODEL = "persona-model"
JUDGE_MODEL = "judge-model"


def openai_settings(settings: Settings, fake: FakeOpenAI, **changes: object) -> Settings:
    """``settings`` on the openai backend against ``fake``; the judge is off unless asked."""
    values: dict[str, object] = {
        "llm": "openai",
        "openai_base_url": fake.base_url,
        "openai_api_key": SecretStr(MODEL_KEY),
        "model": PERSONA_MODEL,
        "judge_model": "off",
        "request_timeout": 5.0,
        "max_retries": 2,
    }
    values.update(changes)
    return settings.model_copy(update=values)


@pytest.fixture
def backend_changes() -> dict[str, object]:
    """Settings a test changes for its app (override with parametrize or a fixture)."""
    return {}


@pytest.fixture
async def openai_client(
    settings: Settings, fake_openai: FakeOpenAI, backend_changes: dict[str, object]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app on the openai backend, talking to the fault server over loopback."""
    application: FastAPI = create_app(openai_settings(settings, fake_openai, **backend_changes))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=60
        ) as http:
            yield http
