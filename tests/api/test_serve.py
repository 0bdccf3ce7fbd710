"""``rapport serve``: safe defaults, and two real server processes sharing PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from app.cli.server import is_loopback
from app.config import PROJECT_ROOT
from app.store.db import make_engine
from tests.api.support import MAYA


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"rapport_serve_{uuid.uuid4().hex[:8]}"
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
    upgrade = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "db", "upgrade"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"{port}.log").open("w") for port in ports]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(port)],
            env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 180
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the servers did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for log in logs:
            log.close()


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
