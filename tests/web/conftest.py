"""Browser fixtures: a real uvicorn server on a loopback port and Debian's chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
TOKEN_DELAY = 0.04  # seconds between streamed words: slow enough to watch the reply grow
API_KEY = "browser-test-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    base_url: str
    log: Path
    process: subprocess.Popen[bytes]
    api_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30)


def _start_server(tmp: Path, *, api_keys: str = "") -> Iterator[Server]:
    port = _free_port()
    log = tmp / "server.log"
    env = {
        **os.environ,
        "RAPPORT_LLM": "scripted",
        "RAPPORT_JUDGE_MODEL": "off",
        "RAPPORT_DATABASE_URL": f"sqlite:///{tmp / 'rapport.db'}",
        "RAPPORT_SCRIPTED_TOKEN_DELAY": str(TOKEN_DELAY),
        "RAPPORT_PERSONAS_DIR": str(PROJECT_ROOT / "personas"),
        "RAPPORT_RUBRICS_DIR": str(PROJECT_ROOT / "rubrics"),
        "RAPPORT_API_KEYS": api_keys,
        "RAPPORT_LOG_LEVEL": "warning",
    }
    env.pop("DATABASE_URL", None)
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        # cwd is the temp folder, so a developer's .env cannot change what is tested.
        process = subprocess.Popen(command, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start in time:\n{log.read_text()}")
            time.sleep(0.1)
        key = api_keys.split("=", 1)[0] if api_keys else None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        yield Server(base_url, log, process, api_key=key, headers=headers)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _start_server(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _start_server(tmp_path_factory.mktemp("web-keys"), api_keys=f"{API_KEY}=alice")


@pytest.fixture
def browser() -> Iterator[object]:
    """One chromium per test: the sync API runs an event loop of its own while it is open, so
    it must be closed before any async test runs."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


class Visit:
    """A browser page on the test server that remembers every URL it asked for."""

    def __init__(self, browser: Any, server: Server, viewport: dict[str, int], **options: Any):
        self.server = server
        self.viewport = viewport
        self.context = browser.new_context(viewport=viewport, **options)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def go(self, path: str) -> None:
        self.page.goto(self.server.base_url + path)

    def shoot(self, screenshots: Path, name: str, *, full_page: bool = True) -> None:
        """Save the page at phone and desktop widths; the last size set stays."""
        for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(viewport)
            if full_page:
                # A window as tall as the page, so sticky bars sit where a reader sees them.
                height = self.page.evaluate("document.documentElement.scrollHeight")
                self.page.set_viewport_size({"width": viewport["width"], "height": height})
            else:
                self.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            path = screenshots / f"{name}-{label}-{viewport['width']}.png"
            self.page.screenshot(path=str(path))
        self.page.set_viewport_size(self.viewport)

    def close(self) -> None:
        self.context.close()

    def outside_requests(self) -> list[str]:
        local = (self.server.base_url + "/", "data:", "blob:", "about:")
        return [url for url in self.requests if not url.startswith(local)]


@pytest.fixture
def visit(browser: Any, server: Server) -> Iterator[Visit]:
    session = Visit(browser, server, DESKTOP)
    yield session
    session.close()
    assert session.outside_requests() == []
    assert session.errors == []


@pytest.fixture
def phone_visit(browser: Any, server: Server) -> Iterator[Visit]:
    session = Visit(browser, server, PHONE, has_touch=True)
    yield session
    session.close()
    assert session.outside_requests() == []
    assert session.errors == []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"Browser screenshots: {SCREENSHOTS}")
