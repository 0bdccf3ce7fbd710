"""Database engines from the URLs people write, and short transactional sessions."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlmodel import Session, create_engine

# Database work runs on anyio's worker threads (40 by default); one connection for each keeps
# a burst of turns from queueing on the pool as well as on the threads.
POOL_SIZE = 10
POOL_OVERFLOW = 30

# SQLite takes one writer at a time and its busy handler polls with growing sleeps, so under a
# burst of turns a thread can lose every race until busy_timeout runs out ("database is
# locked"). Queueing this process's transactions on a lock keeps them fair; busy_timeout still
# covers other processes sharing the file.
_SQLITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def normalize_url(url: str) -> URL:
    """Pick the driver: ``postgresql://`` (or ``postgres://``) gets psycopg 3, SQLite stays."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ValueError(
            f"database_url: unsupported database '{parsed.drivername}'; "
            "use sqlite:///path/rapport.db or postgresql://user@host/db"
        )
    return parsed


def is_sqlite(url: str | URL) -> bool:
    return (make_url(url) if isinstance(url, str) else url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers carry on while a turn is written; busy_timeout queues writers from
    # several workers instead of failing; foreign keys make deletes cascade to turns.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    parsed = normalize_url(url)
    if is_sqlite(parsed):
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _SQLITE_LOCKS[engine] = threading.RLock()
        return engine
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
    )


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One short unit of work: commit when the block succeeds, roll back when it raises."""
    lock = _SQLITE_LOCKS.get(engine)
    queue: AbstractContextManager[object] = lock if lock is not None else nullcontext()
    with queue, Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def core_transaction(engine: Engine) -> Iterator[Connection]:
    """``transaction`` on a plain Core connection, for the hot path of a turn: statements go
    straight to the connection, without the ORM's unit of work around them."""
    lock = _SQLITE_LOCKS.get(engine)
    queue: AbstractContextManager[object] = lock if lock is not None else nullcontext()
    with queue, engine.begin() as connection:
        yield connection
