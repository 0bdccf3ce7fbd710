"""The schema: URLs as people write them, and migrations that match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app.store import tables  # noqa: F401  (registers the tables)
from app.store.db import make_engine, normalize_url
from app.store.migrations import current_revision, head_revision, upgrade
from tests.support.databases import new_database


def test_plain_urls_get_the_right_driver() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///rapport.db").drivername == "sqlite"
    with pytest.raises(ValueError, match="database_url: unsupported database 'mysql'"):
        normalize_url("mysql://u@h/db")


def test_a_sqlite_file_in_a_new_folder_is_created(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/deep/er/rapport.db")
    upgrade(engine)
    assert (tmp_path / "deep/er/rapport.db").is_file()
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with new_database(request.param, tmp_path / "empty.db", "rapport_migrate") as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def test_upgrade_from_empty_to_head_matches_the_models(empty_database: Engine) -> None:
    with empty_database.connect() as connection:
        assert current_revision(connection) is None
    upgrade(empty_database)
    with empty_database.connect() as connection:
        assert current_revision(connection) == head_revision()
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    names = set(inspect(empty_database).get_table_names())
    assert {"interviews", "turns", "grades", "reports", "alembic_version"} <= names


def test_upgrading_twice_changes_nothing(empty_database: Engine) -> None:
    upgrade(empty_database)
    upgrade(empty_database)
    with empty_database.connect() as connection:
        assert current_revision(connection) == head_revision()


def test_db_upgrade_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from app.cli import cli

    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
