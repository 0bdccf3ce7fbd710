"""Shared fixtures: settings on a fresh database, an app with a scripted model, a client."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.config import PROJECT_ROOT, Settings
from app.interview.personas import PersonaCatalog
from app.llm.scripted import ScriptedModel
from app.main import create_app
from app.store.db import make_engine
from app.store.migrations import upgrade
from tests.support.databases import new_database, postgres_url

pytest_plugins = ["tests.support.fixtures"]

TABLES = ("grades", "reports", "turns", "interviews")


# Storage and API tests run on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is set.
DATABASES = ["sqlite", *(["postgresql"] if postgres_url() else [])]


@pytest.fixture(scope="session", params=DATABASES)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated to head once per session: a SQLite file that each test copies, or
    a fresh PostgreSQL schema that each test empties."""
    template = tmp_path_factory.mktemp("db") / "template.db"
    with new_database(request.param, template, "rapport_test") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """An empty, migrated database for one test."""
    if migrated_database.startswith("sqlite"):
        path = tmp_path / "rapport.db"
        shutil.copy(migrated_database.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    engine = make_engine(migrated_database)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    engine.dispose()
    return migrated_database


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm="scripted",
        judge_model="off",
        database_url=database_url,
        personas_dir=PROJECT_ROOT / "personas",
        rubrics_dir=PROJECT_ROOT / "rubrics",
        api_keys="",
        secret_key=None,
    )


@pytest.fixture
def llm() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
async def app(settings: Settings, llm: ScriptedModel) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running, as a server would run it."""
    application = create_app(settings, llm=llm)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="session")
def personas() -> PersonaCatalog:
    """The persona files shipped in personas/, validated."""
    return PersonaCatalog.from_dir(PROJECT_ROOT / "personas")


@pytest.fixture
def scripted() -> ScriptedModel:
    """A recording model that speaks each move's script unless replies are queued."""
    return ScriptedModel()
