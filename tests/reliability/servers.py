"""Real ``python -m app`` processes for the crash and load tests, and fresh databases."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.store.db import make_engine
from tests.reliability.conftest import MODEL_KEY, PERSONA_MODEL
from tests.support.fake_openai import FakeOpenAI, free_port


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh schema on TEST_DATABASE_URL, dropped afterwards, so parallel runs never clash."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"rapport_rel_{uuid.uuid4().hex[:10]}"
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


def server_env(database_url: str, fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RAPPORT_", "OPENAI_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "RAPPORT_DATABASE_URL": database_url,
            "RAPPORT_LLM": "openai",
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": MODEL_KEY,
            "RAPPORT_MODEL": PERSONA_MODEL,
            "RAPPORT_JUDGE_MODEL": "off",
            "RAPPORT_REQUEST_TIMEOUT": "30",
            "RAPPORT_LOG_LEVEL": "warning",
            **extra,
        }
    )
    return env


def migrate(env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "db", "upgrade"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr


class Server:
    """One ``python -m app`` process on a free port; ``kill()`` is SIGKILL, nothing graceful."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(self.port)],
            env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.log_path = log

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()


@contextmanager
def running(env: dict[str, str], cwd: Path, log: Path) -> Iterator[Server]:
    server = Server(env, cwd, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
