"""``rapport serve``: safe defaults, and two real server processes sharing PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.cli.server import is_loopback
from app.config import PROJECT_ROOT
from tests.api.support import MAYA
from tests.support.databases import fresh_schema
from tests.support.servers import Server, migrate


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.4", "::", "example.com"))


@pytest.fixture
def recorded_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    import uvicorn

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append({"app": app, **kw}))
    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite:///{tmp_path}/serve.db")
    monkeypatch.delenv("RAPPORT_API_KEYS", raising=False)
    return runs


def test_serve_refuses_a_public_address_without_keys(recorded_runs: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "RAPPORT_API_KEYS" in result.output and "--insecure" in result.output
    assert recorded_runs == []


def test_serve_listens_publicly_with_keys_or_insecure(
    recorded_runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--insecure"]).exit_code == 0
    monkeypatch.setenv("RAPPORT_API_KEYS", "k=alice")
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "k=alice" not in result.output
    assert [r["host"] for r in recorded_runs] == ["0.0.0.0", "0.0.0.0"]
    assert recorded_runs[-1]["workers"] == 2 and recorded_runs[-1]["factory"] is True
    assert (tmp_path / "serve.db").is_file(), "SQLite is migrated before the workers start"


def test_serve_defaults_to_loopback_8000(recorded_runs: list[dict[str, Any]]) -> None:
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert recorded_runs[0]["host"] == "127.0.0.1" and recorded_runs[0]["port"] == 8000


# --- two real processes on PostgreSQL ---------------------------------------------------------


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    with fresh_schema("rapport_serve") as url:
        yield url


@pytest.fixture
def two_servers(postgres_schema: str, tmp_path: Path) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "RAPPORT_DATABASE_URL": postgres_schema,
        "RAPPORT_LLM": "scripted",
        "RAPPORT_JUDGE_MODEL": "off",
        "RAPPORT_SCRIPTED_TOKEN_DELAY": "0.01",
        "RAPPORT_API_KEYS": "",
    }
    migrate(env, PROJECT_ROOT)
    servers = [Server(env, PROJECT_ROOT, tmp_path / f"server-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.wait_ready(timeout=180)
        yield [server.url for server in servers]
    finally:
        for server in servers:
            server.stop()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(400)
async def test_two_processes_posting_at_once_never_interleave_or_duplicate(
    two_servers: list[str],
) -> None:
    a, b = (httpx.AsyncClient(base_url=url, timeout=30) for url in two_servers)
    async with a, b:
        created = await a.post("/api/interviews", json={"persona_id": MAYA})
        iid = created.json()["id"]
        accepted: list[str] = []
        rejected: list[str] = []
        for round_number in range(8):
            texts = [f"Answer {round_number} via {side}." for side in ("a", "b")]
            responses = await asyncio.gather(
                *(
                    client.post(f"/api/interviews/{iid}/turns", json={"text": t})
                    for client, t in zip((a, b), texts, strict=True)
                )
            )
            for response, sent in zip(responses, texts, strict=True):
                assert response.status_code in (200, 409), response.text
                (accepted if response.status_code == 200 else rejected).append(sent)
        assert accepted and rejected, "both servers raced for the same interview"
        transcript = (await b.get(f"/api/interviews/{iid}")).json()
    turns = transcript["turns"]
    assert [t["index"] for t in turns] == list(range(len(turns)))
    assert [t["speaker"] for t in turns] == ["interviewer", "candidate"] * (len(turns) // 2) + [
        "interviewer"
    ]
    human = [t["text"] for t in turns if t["speaker"] == "candidate"]
    assert human == accepted
    assert not set(rejected) & set(human)
    assert all(t["status"] == "complete" for t in turns)
    assert transcript["turn_in_flight"] is None
