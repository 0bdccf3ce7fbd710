"""The one-turn-in-flight guard, raced from many threads as several workers would."""

from __future__ import annotations

import threading
from datetime import timedelta

from app.store import repository as repo
from app.store.db import make_engine, transaction
from app.store.tables import InterviewRow, utcnow


def make_interview(url: str) -> str:
    engine = make_engine(url)
    with transaction(engine) as session:
        repo.add_interview(
            session,
            InterviewRow(
                id="guarded",
                owner="local",
                persona_id="p",
                human_side="candidate",
                backend="scripted",
                model="scripted",
                persona={},
                rubrics=[],
                engine_state={},
                turn_count=1,
                created_at=utcnow(),
            ),
            [],
        )
    engine.dispose()
    return "guarded"


def claim(url: str, holder: str, results: dict[str, bool], start: threading.Barrier) -> None:
    engine = make_engine(url)
    start.wait()
    now = utcnow()
    with transaction(engine) as session:
        results[holder] = repo.claim_turn(
            session,
            "guarded",
            holder=holder,
            now=now,
            stale_before=now - timedelta(seconds=60),
            advance=2,
        ) is not None
    engine.dispose()


def test_exactly_one_of_many_racing_claims_wins(database_url: str) -> None:
    make_interview(database_url)
    results: dict[str, bool] = {}
    start = threading.Barrier(6)
    threads = [
        threading.Thread(target=claim, args=(database_url, f"h{n}", results, start))
        for n in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [False] * 5 + [True]
    engine = make_engine(database_url)
    with transaction(engine) as session:
        row = repo.reload_interview(session, "guarded")
        winner = next(h for h, won in results.items() if won)
        assert row.inflight_owner == winner and row.inflight_turn == 2 and row.turn_count == 3
        assert not repo.release_turn(session, "guarded", "someone-else")
        assert repo.release_turn(session, "guarded", winner, {"engine_state": {"moves": 2}})
        row = repo.reload_interview(session, "guarded")
        assert row.inflight_turn is None and row.engine_state == {"moves": 2}
    engine.dispose()


def test_a_stale_claim_can_be_taken_over(database_url: str) -> None:
    make_interview(database_url)
    engine = make_engine(database_url)
    old = utcnow() - timedelta(minutes=5)
    with transaction(engine) as session:
        assert (
            repo.claim_turn(session, "guarded", holder="old", now=old, stale_before=old, advance=2)
            == 3
        )
    now = utcnow()
    with transaction(engine) as session:
        fresh = now - timedelta(seconds=60)
        assert (
            repo.claim_turn(
                session, "guarded", holder="new", now=now, stale_before=fresh, advance=0
            )
            == 3
        )
        assert not repo.refresh_claim(session, "guarded", "old", now)
        assert repo.refresh_claim(session, "guarded", "new", now)
    engine.dispose()
