"""Real ``python -m app`` processes: migrating their database, starting, killing, stopping."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.fake_openai import free_port


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
