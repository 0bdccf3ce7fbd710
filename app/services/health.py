"""Readiness of the database and models, and freeing guards left by processes that died."""

from __future__ import annotations

import logging

from sqlmodel import Session

from app.services.runtime import Runtime, holder_is_dead
from app.store import repository as repo
from app.store.migrations import current_revision, head_revision

log = logging.getLogger("rapport.health")


async def readiness(runtime: Runtime) -> dict[str, object]:
    models = runtime.models
    database = "ok"
    try:
        await runtime.run_db(repo.ping)
        current = await runtime.run_db(lambda s: current_revision(s.connection()))
        head = head_revision()
        if current != head:
            database = (
                f"schema at revision {current or 'none'}, code expects {head}: "
                "run `rapport db upgrade`"
            )
    except Exception as error:
        # The type only: a driver's message can carry the URL and its password.
        database = f"unreachable ({type(error).__name__}); check RAPPORT_DATABASE_URL"
    return {
        "status": "ready" if database == "ok" else "unavailable",
        "database": database,
        "database_backend": runtime.db.url.get_backend_name(),
        "backend": models.backend,
        "persona_model": models.persona_model_name,
        "judge_model": models.judge_model_name,
        "description": models.description,
        "backends": runtime.backends.available(),
    }


async def clear_dead_claims(runtime: Runtime) -> int:
    """Free the in-flight guards of processes on this host that no longer run."""

    def clear(session: Session) -> int:
        freed = 0
        for interview_id, holder in repo.stale_claims(session):
            if holder_is_dead(holder) and repo.release_turn(session, interview_id, holder):
                freed += 1
        return freed

    try:
        return await runtime.run_db(clear)
    except Exception as error:
        log.warning("Could not check for interrupted replies: %s", type(error).__name__)
        return 0
