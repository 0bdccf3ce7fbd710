"""What every use case shares: settings, the database, the catalogues, the models, and tasks."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session

from app.config import Settings
from app.grading.models import Rubric
from app.grading.rubrics import RubricCatalog
from app.interview.models import Persona
from app.interview.personas import PersonaCatalog
from app.llm.backends import Backends
from app.llm.factory import ModelSet
from app.store.db import core_transaction, is_sqlite, transaction
from app.store.tables import InterviewRow

T = TypeVar("T")
SNAPSHOT_CACHE = 512
log = logging.getLogger("rapport.service")

_HOST = socket.gethostname()
_BOOT = uuid.uuid4().hex[:8]


def new_holder() -> str:
    """Names the process (host, pid, boot) that takes an interview's in-flight guard."""
    return f"{_HOST}:{os.getpid()}:{_BOOT}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str | None) -> bool:
    """True only when the holder certainly died: a process on this host that no longer runs.

    Holders on other hosts are judged by the stale timeout alone.
    """
    if not holder:
        return False
    parts = holder.split(":")
    if len(parts) != 4 or parts[0] != _HOST or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return parts[2] != _BOOT
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class Runtime:
    settings: Settings
    db: DbEngine
    personas: PersonaCatalog
    rubrics: RubricCatalog
    backends: Backends
    # A holder refreshes its guard every ``heartbeat`` seconds while it generates, so a guard
    # older than ``stale_after`` belongs to a process that died on another host.
    stale_after: float = 60.0
    heartbeat: float = 10.0
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)
    _snapshots: OrderedDict[str, tuple[Persona, list[Rubric]]] = field(
        default_factory=OrderedDict
    )

    @property
    def models(self) -> ModelSet:
        """The server's default models (RAPPORT_LLM); an interview may have chosen others."""
        return self.backends.default

    def snapshots(self, row: InterviewRow) -> tuple[Persona, list[Rubric]]:
        return self.snapshot(row.id, lambda: (row.persona, row.rubrics))

    def snapshot(
        self, interview_id: str, load: Callable[[], tuple[Any, Any]]
    ) -> tuple[Persona, list[Rubric]]:
        """The interview's persona and rubrics, read (``load``) and parsed once per process:
        snapshots never change, and parsing them on every turn would cost more than the
        turn's queries."""
        cached = self._snapshots.get(interview_id)
        if cached is None:
            persona, rubrics = load()
            cached = (
                Persona.model_validate(persona),
                [Rubric.model_validate(r) for r in rubrics],
            )
            self._snapshots[interview_id] = cached
            if len(self._snapshots) > SNAPSHOT_CACHE:
                self._snapshots.popitem(last=False)
        else:
            self._snapshots.move_to_end(interview_id)
        return cached

    async def run_db(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one short transaction on a worker thread, off the event loop."""

        def unit() -> T:
            with transaction(self.db) as session:
                return work(session)

        return await anyio.to_thread.run_sync(unit, limiter=self._db_limiter())

    def _db_limiter(self) -> anyio.CapacityLimiter:
        # SQLite runs one writer at a time. With the thread pool's 40 threads all queueing on
        # its file lock, a lock holder starved of the GIL under load made others give up
        # ("database is locked"); queueing here instead keeps one transaction per process in
        # flight. PostgreSQL gets as many as its connection pool holds.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1 if is_sqlite(self.db.url) else 20)
        return self._limiter

    async def run_core(self, work: Callable[[Connection], T]) -> T:
        """``run_db`` on a Core connection: for the statements on a turn's critical path."""

        def unit() -> T:
            with core_transaction(self.db) as connection:
                return work(connection)

        return await anyio.to_thread.run_sync(unit, limiter=self._db_limiter())

    def run_db_now(self, work: Callable[[Session], T]) -> T:
        with transaction(self.db) as session:
            return work(session)

    def stale_before(self, now: datetime) -> datetime:
        return now - timedelta(seconds=self.stale_after)

    def spawn(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start work that must finish even if the client that asked for it goes away."""
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._settle)
        return task

    def _settle(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        # Nobody may be waiting on the task (the client left); its failure was already logged
        # and reported as an ``error`` event, so mark the exception as seen.
        if not task.cancelled():
            task.exception()

    async def drain(self, grace: float) -> None:
        """At shutdown: let replies in progress finish and save, then cancel the rest."""
        pending = set(self.tasks)
        if not pending:
            return
        _done, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=5)


