"""Empty databases for tests: a new SQLite file, or a fresh schema on the PostgreSQL server
that TEST_DATABASE_URL names."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import pytest
from sqlalchemy import text

from app.store.db import make_engine


def postgres_url() -> str | None:
    """TEST_DATABASE_URL, or None when the PostgreSQL tests are to be skipped."""
    return os.environ.get("TEST_DATABASE_URL") or None


@contextmanager
def fresh_schema(prefix: str) -> Iterator[str]:
    """The URL of a new, empty schema on TEST_DATABASE_URL, dropped with all it holds
    afterwards. Its name is ``prefix`` and a random suffix, so parallel runs never clash.
    Skips the test when TEST_DATABASE_URL is not set."""
    base = postgres_url()
    if base is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def new_database(kind: str, sqlite_file: Path, prefix: str) -> AbstractContextManager[str]:
    """The URL of an empty database: ``sqlite_file`` when ``kind`` is "sqlite" (created on first
    use, left for tmp_path to clean), else a fresh PostgreSQL schema named after ``prefix``."""
    if kind == "sqlite":
        return nullcontext(f"sqlite:///{sqlite_file}")
    return fresh_schema(prefix)
