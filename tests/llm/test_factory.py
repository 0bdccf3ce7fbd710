"""Which backend the app picks, how it is described, and what a bad configuration says."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.llm.base import ChatRequest
from app.llm.factory import ModelConfigError, build_models, choose_backend
from app.llm.openai_compatible import OpenAICompatibleModel
from app.llm.scripted import ScriptedModel
from tests.support.fake_openai import FakeOpenAI

REQUEST_TEXT = "Tell me about the role."


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("RAPPORT_", "OPENAI_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_unset_backend_prefers_the_embedded_model_when_installed() -> None:
    assert choose_backend(settings(), local_installed=True) == "local"
    assert choose_backend(settings(), local_installed=False) == "scripted"
    assert choose_backend(settings(llm="openai"), local_installed=True) == "openai"


def test_scripted_when_nothing_is_configured() -> None:
    models = build_models(settings(), local_installed=False)
    assert models.backend == "scripted"
    assert models.description == "offline scripted mode"
    assert isinstance(models.persona, ScriptedModel)
    assert models.persona.token_delay == 0.02
    assert models.judge is None and models.judge_model_name is None


def test_scripted_token_delay_comes_from_settings() -> None:
    persona = build_models(settings(llm="scripted", scripted_token_delay=0.0)).persona
    assert isinstance(persona, ScriptedModel) and persona.token_delay == 0.0


def test_openai_without_key_or_base_url_names_both_variables() -> None:
    with pytest.raises(ModelConfigError) as caught:
        build_models(settings(llm="openai"))
    assert "OPENAI_API_KEY" in caught.value.message
    assert "OPENAI_BASE_URL" in caught.value.message


async def test_openai_persona_and_judge_share_one_client() -> None:
    models = build_models(
        settings(llm="openai", openai_api_key="sk-abcdefghijklmnop", judge_model="gpt-4o")
    )
    assert models.backend == "openai"
    assert models.description == "gpt-4o-mini via OpenAI"
    assert isinstance(models.persona, OpenAICompatibleModel)
    assert isinstance(models.judge, OpenAICompatibleModel)
    assert (models.persona.model, models.judge.model) == ("gpt-4o-mini", "gpt-4o")
    assert models.persona._client is models.judge._client
    assert models.persona._client.max_retries == 0
    assert (models.persona_model_name, models.judge_model_name) == ("gpt-4o-mini", "gpt-4o")
    assert "sk-" not in models.description
    await models.aclose()


async def test_base_url_description_hides_credentials() -> None:
    models = build_models(
        settings(llm="openai", openai_base_url="http://me:secret@gpu-box:8000/v1", model="qwen")
    )
    assert models.description == "qwen via http://gpu-box:8000/v1"
    assert models.judge is not None and models.judge.model == "qwen"
    await models.aclose()


async def test_judge_off_grades_by_signals() -> None:
    models = build_models(settings(llm="openai", openai_api_key="k", judge_model="off"))
    assert models.judge is None and models.judge_model_name is None
    await models.aclose()


async def test_built_models_talk_to_the_configured_server(fake_openai: FakeOpenAI) -> None:
    models = build_models(
        settings(llm="openai", openai_base_url=fake_openai.base_url, model="m", max_retries=0)
    )
    fake_openai.behave("normal", content="Welcome to the interview.")
    request = ChatRequest(messages=[{"role": "user", "content": REQUEST_TEXT}])
    reply = [piece async for piece in models.persona.stream(request)]
    assert "".join(reply) == "Welcome to the interview."
    assert models.judge is not None
    judge_request = ChatRequest(messages=[{"role": "user", "content": "grade as JSON"}])
    assert (await models.judge.complete_json(judge_request, {}, name="r"))["score"] == 4
    await models.aclose()
    await models.aclose()  # closing twice is harmless


def test_local_with_missing_model_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelConfigError) as caught:
        build_models(settings(llm="local", local_model=tmp_path / "missing.gguf"))
    assert "RAPPORT_LOCAL_MODEL" in caught.value.message
    assert "missing.gguf" in caught.value.message


class _FakeLocal:
    """What start_local returns, without starting llama.cpp's server."""

    def __init__(self) -> None:
        self.persona = ScriptedModel(model="SmolLM2")
        self.judge = ScriptedModel(model="SmolLM2", can_judge=True)
        self.label = "SmolLM2"


@pytest.mark.parametrize(
    ("judge_model", "judged"), [(None, False), ("off", False), ("local", True), ("on", True)]
)
def test_the_embedded_judge_runs_only_when_asked_for(
    monkeypatch: pytest.MonkeyPatch, judge_model: str | None, judged: bool
) -> None:
    monkeypatch.setattr("app.llm.factory.start_local", lambda *args, **kwargs: _FakeLocal())
    models = build_models(settings(llm="local", judge_model=judge_model))
    assert (models.judge is not None) is judged
    assert (models.judge_model_name == "SmolLM2") is judged
