"""The fault server itself: its HTTP control surface and its standalone process."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.support.fake_openai import ROOT, FakeOpenAI, free_port

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def test_http_control_queues_behaviours_and_lists_requests(fake_openai: FakeOpenAI) -> None:
    control = fake_openai.base_url.removesuffix("/v1") + "/_control"
    async with httpx.AsyncClient() as client:
        reply = await client.post(
            control, json={"behave": [{"kind": "rate_limit", "retry_after": 7}], "tokens": 3}
        )
        assert reply.status_code == 200
        limited = await client.post(f"{fake_openai.base_url}/chat/completions", json=CHAT)
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
        normal = await client.post(f"{fake_openai.base_url}/chat/completions", json=CHAT)
        assert normal.json()["choices"][0]["message"]["content"] == "word0 word1 word2."
        recorded = (await client.get(control)).json()["requests"]
        assert [r["kind"] for r in recorded] == ["rate_limit", "normal"]
        assert "authorization" not in recorded[0]["headers"]
        bad = await client.post(control, json={"behave": [{"kind": "explode"}]})
        assert bad.status_code == 400 and "kind" in bad.json()["error"]


def test_standalone_process_serves_a_stream() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--port", str(port), "--tokens", "4",
         "--gap-ms", "1"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the standalone fake server did not start")
                time.sleep(0.05)
        body = {**CHAT, "stream": True}
        with httpx.stream(
            "POST", f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=5
        ) as response:
            lines = [line for line in response.iter_lines() if line.startswith("data:")]
        assert lines[-1] == "data: [DONE]"
        assert len(lines) == 1 + 4 + 1 + 1  # role chunk, tokens, finish chunk, [DONE]
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_behaviours_can_target_judge_or_persona_requests(fake_openai: FakeOpenAI) -> None:
    fake_openai.behave("bad_json", only="judge")
    fake_openai.behave("error", model="other")
    judge = {**CHAT, "response_format": {"type": "json_object"}}
    async with httpx.AsyncClient(base_url=fake_openai.base_url) as client:
        persona = await client.post("/chat/completions", json=CHAT)
        assert persona.json()["choices"][0]["message"]["content"].startswith("word0")
        graded = await client.post("/chat/completions", json=judge)
        assert graded.json()["choices"][0]["message"]["content"].startswith('{"evidence"')
        assert not graded.json()["choices"][0]["message"]["content"].endswith("}")
        failed = await client.post("/chat/completions", json={**CHAT, "model": "other"})
        assert failed.status_code == 500
    assert [r.kind for r in fake_openai.requests] == ["normal", "bad_json", "error"]
