"""The environment of a real server process on the openai backend, for the crash tests."""

from __future__ import annotations

import os

from tests.support.apps import MODEL_KEY, PERSONA_MODEL
from tests.support.fake_openai import FakeOpenAI


def server_env(database_url: str, fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RAPPORT_", "OPENAI_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "RAPPORT_DATABASE_URL": database_url,
            "RAPPORT_LLM": "openai",
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": MODEL_KEY,
            "RAPPORT_MODEL": PERSONA_MODEL,
            "RAPPORT_JUDGE_MODEL": "off",
            "RAPPORT_REQUEST_TIMEOUT": "30",
            "RAPPORT_LOG_LEVEL": "warning",
            **extra,
        }
    )
    return env
