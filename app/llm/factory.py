"""Choose and build the persona and judge models from Settings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from app.config import Settings
from app.llm.base import ChatModel, ModelError
from app.llm.local import local_available, start_local
from app.llm.openai_compatible import OpenAICompatibleModel, display_url, make_client
from app.llm.scripted import ScriptedModel

log = logging.getLogger(__name__)


class ModelConfigError(ModelError):
    """The backend settings cannot work; the message names the variables to set."""

    retryable = False


@dataclass
class ModelSet:
    """The models one app uses. ``judge`` is None when grading runs on signals alone."""

    persona: ChatModel
    judge: ChatModel | None
    backend: str
    description: str
    persona_model_name: str
    judge_model_name: str | None

    async def aclose(self) -> None:
        await self.persona.aclose()
        if self.judge is not None and self.judge is not self.persona:
            await self.judge.aclose()


def choose_backend(settings: Settings, *, local_installed: bool | None = None) -> str:
    """RAPPORT_LLM when set; otherwise the embedded model if installed, else scripted."""
    if settings.llm:
        return settings.llm
    if local_installed is None:
        local_installed = local_available(settings.local_model)
    return "local" if local_installed else "scripted"


def build_models(settings: Settings, *, local_installed: bool | None = None) -> ModelSet:
    """Build the models for ``settings``. The local backend starts its server here (blocking).

    ``local_installed`` overrides the detection of the local extra (tests use it).
    """
    backend = choose_backend(settings, local_installed=local_installed)
    if backend == "scripted":
        models = _scripted(settings)
    elif backend == "openai":
        models = _openai(settings)
    else:
        models = _local(settings)
    log.info(
        "Model backend: %s%s",
        models.description,
        "" if models.judge else "; grading uses signals only",
    )
    return models


async def start_models(settings: Settings) -> ModelSet:
    """``build_models`` off the event loop, for a lifespan: the local server takes seconds."""
    return await asyncio.to_thread(build_models, settings)


def _scripted(settings: Settings) -> ModelSet:
    return ModelSet(
        persona=ScriptedModel(token_delay=settings.scripted_token_delay),
        judge=None,
        backend="scripted",
        description="offline scripted mode",
        persona_model_name="scripted",
        judge_model_name=None,
    )


def _openai(settings: Settings) -> ModelSet:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    base_url = settings.openai_base_url or None
    if not key and not base_url:
        raise ModelConfigError(
            "RAPPORT_LLM=openai needs OPENAI_API_KEY (for OpenAI) or OPENAI_BASE_URL (for a "
            "compatible server such as Ollama, vLLM or llama.cpp). Set one, or unset "
            "RAPPORT_LLM to run offline."
        )
    # Servers without auth still need a non-empty key for the client to send a request.
    client = make_client(base_url=base_url, api_key=key or "none", timeout=settings.request_timeout)
    persona = OpenAICompatibleModel(client, model=settings.model, max_retries=settings.max_retries)
    judge = None
    if settings.judge_enabled:
        judge = OpenAICompatibleModel(
            client, model=settings.effective_judge_model, max_retries=settings.max_retries
        )
    where = f"via {display_url(base_url)}" if base_url else "via OpenAI"
    return ModelSet(
        persona=persona,
        judge=judge,
        backend="openai",
        description=f"{settings.model} {where}",
        persona_model_name=settings.model,
        judge_model_name=judge.model if judge else None,
    )


def _local(settings: Settings) -> ModelSet:
    try:
        local = start_local(
            settings.local_model,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
        )
    except ModelError as exc:
        if exc.retryable:
            raise
        raise ModelConfigError(exc.message) from exc
    # The packaged 135M model grades worse than signals alone (see `rapport calibrate
    # --judge`), so the embedded judge runs only when RAPPORT_JUDGE_MODEL asks for it.
    judging = settings.judge_model is not None and settings.judge_enabled
    return ModelSet(
        persona=local.persona,
        judge=local.judge if judging else None,
        backend="local",
        description=f"{local.label} (embedded, llama.cpp)",
        persona_model_name=local.label,
        judge_model_name=local.label if judging else None,
    )
