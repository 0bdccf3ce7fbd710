"""The FastAPI application factory: create_app(settings, llm=None)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.api import auth, catalog, grade, health, interviews, openai_compat, pages
from app.api.auth import AccessPolicy
from app.api.deps import AppState
from app.api.errors import install_error_handlers
from app.config import PROJECT_ROOT, Settings
from app.grading.rubrics import RubricCatalog
from app.interview.personas import PersonaCatalog
from app.llm.backends import Backends
from app.llm.base import ChatModel
from app.llm.factory import ModelSet, build_models
from app.services import RapportService, Runtime
from app.store.db import is_sqlite, make_engine
from app.store.migrations import upgrade

log = logging.getLogger("rapport")

DESCRIPTION = """Practise either side of the interview table against an AI persona, with every
turn you take graded against rubric files.

Authenticate with `Authorization: Bearer <key>` when the server has `RAPPORT_API_KEYS`.
`POST /api/interviews/{id}/turns` streams server-sent events when you send
`Accept: text/event-stream`. `/v1` speaks the OpenAI chat completions protocol, with a
persona id as the model."""

# Replies in progress at shutdown get this long to finish and be saved.
DRAIN_SECONDS = 30.0


class LifespanState(TypedDict):
    rapport: AppState


def supplied_models(settings: Settings, llm: ChatModel) -> ModelSet:
    """Wrap a model handed to create_app (tests, embedding) like the factory would."""
    judge = llm if settings.judge_enabled and llm.can_judge else None
    return ModelSet(
        persona=llm,
        judge=judge,
        backend=llm.backend,
        description=f"{llm.model} ({llm.backend})",
        persona_model_name=llm.model,
        judge_model_name=llm.model if judge else None,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[LifespanState]:
    state: AppState = app.state.rapport
    runtime = state.runtime
    if is_sqlite(runtime.db.url):
        await anyio.to_thread.run_sync(upgrade, runtime.db)
    cleared = await state.service.clear_dead_claims()
    if cleared:
        log.info("Freed %d interview(s) left in flight by a process that stopped", cleared)
    try:
        yield {"rapport": state}
    finally:
        await runtime.drain(DRAIN_SECONDS)
        await runtime.backends.aclose()
        runtime.db.dispose()


def create_app(settings: Settings | None = None, llm: ChatModel | None = None) -> FastAPI:
    """Build the app: catalogues, database engine, models and routes. No I/O beyond reading
    the content folders (and starting the embedded model, when that backend is chosen)."""
    settings = settings or Settings()
    runtime = Runtime(
        settings=settings,
        db=make_engine(settings.database_url),
        personas=PersonaCatalog.from_dir(settings.personas_dir),
        rubrics=RubricCatalog.from_dir(settings.rubrics_dir),
        backends=Backends(
            settings,
            supplied_models(settings, llm) if llm is not None else build_models(settings),
        ),
    )
    state = AppState(
        settings=settings,
        runtime=runtime,
        service=RapportService(runtime),
        access=AccessPolicy.from_settings(settings),
    )
    app = FastAPI(
        title="Rapport",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.rapport = state
    install_error_handlers(app)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
        )
    for module in (health, auth, catalog, interviews, grade, openai_compat, pages):
        app.include_router(module.router)
    static = PROJECT_ROOT / "web" / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")
    return app
