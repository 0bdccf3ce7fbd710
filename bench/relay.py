"""The floor of our stack: FastAPI + the openai client + SSE, forwarding tokens and nothing else.

    OPENAI_BASE_URL=http://127.0.0.1:9100/v1 uvicorn bench.relay:app --port 9200
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from openai import AsyncOpenAI
from sse_starlette.sse import EventSourceResponse

app = FastAPI()
# The same timeout as Rapport's default (RAPPORT_REQUEST_TIMEOUT), so both face equal odds.
client = AsyncOpenAI(base_url=os.environ.get("OPENAI_BASE_URL"),
                     api_key=os.environ.get("OPENAI_API_KEY", "x"), max_retries=0, timeout=60)


@app.post("/relay")
async def relay(request: Request) -> EventSourceResponse:
    message = (await request.json()).get("text", "")

    async def events() -> AsyncIterator[dict[str, str]]:
        stream = await client.chat.completions.create(
            model="stub", stream=True, messages=[{"role": "user", "content": message}])
        async for chunk in stream:
            text = chunk.choices[0].delta.content if chunk.choices else None
            if text:
                yield {"event": "token", "data": json.dumps({"text": text})}
        yield {"event": "done", "data": "{}"}

    return EventSourceResponse(events())
