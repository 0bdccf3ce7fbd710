"""The real embedded model: one streamed turn and one judge call through llama.cpp's server."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.config import Settings
from app.llm.base import ChatRequest
from app.llm.factory import start_models

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),  # a busy 2-core machine runs the 135M model at ~10 tokens/s
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed (pip install 'rapport[local]')",
    ),
]

PERSONA = ChatRequest(
    messages=[
        {
            "role": "system",
            "content": "You are Maya, an engineering manager at a logistics start-up, "
            "interviewing a backend engineer. Reply in one or two short sentences and ask "
            "one question.",
        },
        {"role": "user", "content": "Hi Maya, I'm Sam. Thanks for having me."},
    ],
    temperature=0.2,
    max_tokens=32,
)
JUDGE = ChatRequest(
    messages=[
        {
            "role": "system",
            "content": "You grade interview answers. Reply with JSON only.",
        },
        {
            "role": "user",
            "content": 'Answer: "I rebuilt the routing service and cut latency by 40%." '
            "Quote the evidence, then give a score from 1 to 5.",
        },
    ],
    purpose="judge",
    temperature=0.0,
    max_tokens=64,
)
SCHEMA = {
    "type": "object",
    "properties": {"evidence": {"type": "string"}, "score": {"type": "integer"}},
    "required": ["evidence", "score"],
}


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if name.startswith(("RAPPORT_", "OPENAI_")):
            monkeypatch.delenv(name)
    return Settings(  # type: ignore[call-arg]
        _env_file=None, llm="local", judge_model="local", request_timeout=60
    )


async def test_embedded_model_streams_a_turn_and_answers_a_judge_call(settings: Settings) -> None:
    models = await start_models(settings)
    try:
        assert models.backend == "local"
        assert models.description.endswith("(embedded, llama.cpp)")
        assert models.judge is not None and models.judge.can_judge

        pieces = [piece async for piece in models.persona.stream(PERSONA)]
        assert len(pieces) >= 3, pieces  # streamed token by token, not in one piece
        assert "".join(pieces).strip()

        verdict = await models.judge.complete_json(JUDGE, SCHEMA, name="specificity")
        assert isinstance(verdict, dict)
        assert isinstance(verdict.get("score"), int)
    finally:
        await models.aclose()


async def test_concurrent_requests_queue_instead_of_cutting_each_other_off(
    settings: Settings,
) -> None:
    models = await start_models(settings)
    try:
        short = ChatRequest(messages=PERSONA.messages, temperature=0.0, max_tokens=10)

        async def turn() -> list[str]:
            return [piece async for piece in models.persona.stream(short)]

        replies = await asyncio.gather(*(turn() for _ in range(3)))
        # An interrupted reply ends after a token or two; a queued one runs its course.
        assert all(len(pieces) >= 5 for pieces in replies), replies
    finally:
        await models.aclose()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process state from /proc")
def test_server_exits_when_the_app_is_killed() -> None:
    script = (
        "from app.llm.local import LocalServer, find_gguf\n"
        "server = LocalServer(find_gguf(None))\n"
        "server.start()\n"
        "print(server._process.pid, flush=True)\n"
        "import time; time.sleep(600)\n"
    )
    app = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert app.stdout is not None
    server_pid = int(app.stdout.readline())
    assert _alive(server_pid)
    app.kill()  # SIGKILL: no atexit, no cleanup in the app
    app.wait()
    app.stdout.close()
    deadline = time.monotonic() + 15
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(server_pid)
