"""Apps served in-process for a test, and settings that point one at the fake model server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from app.config import Settings
from app.main import create_app
from tests.support.fake_openai import FakeOpenAI

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


@asynccontextmanager
async def serving(
    settings: Settings, *, http_timeout: float = 30
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app built from ``settings``, its lifespan running as a server runs it;
    ``http_timeout`` bounds each request."""
    application: FastAPI = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=http_timeout
        ) as http:
            yield http
