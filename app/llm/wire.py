"""What OpenAI-compatible servers send and how we quote it: reply text, JSON, Retry-After."""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.llm.base import Message, ModelBadOutput, ModelUnavailable

_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")
_KEY_LIKE = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-]{8,}")


def display_url(url: str) -> str:
    """The server's address without any user:password part, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")


def redact(text: str, key: str | None) -> str:
    """``text`` without the API key or anything shaped like a provider key."""
    if key and len(key) >= 4:
        text = text.replace(key, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)


def response_format(mode: str, schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The ``response_format`` for a JSON mode: json_schema, json_object or text (None)."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {
                "name": _SCHEMA_NAME.sub("_", name)[:64] or "answer",
                "schema": schema,
                "strict": False,
            },
        }
    if mode == "json_object":
        # llama.cpp turns "schema" into a grammar; other servers ignore the extra key.
        return {"type": "json_object", "schema": schema}
    return None


def schema_hint(schema: dict[str, Any]) -> Message:
    return {
        "role": "system",
        "content": "Answer with one JSON object that matches this JSON schema, and nothing "
        "else:\n" + json.dumps(schema, separators=(",", ":")),
    }


def message_text(data: Any) -> str:
    """The reply text of a chat completion body, or "" when it has none."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else ""


def retry_after(headers: Any) -> float | None:
    """Seconds from Retry-After (seconds or an HTTP date) or retry-after-ms; None if absent."""
    millis = headers.get("retry-after-ms")
    if millis:
        with contextlib.suppress(ValueError):
            return max(0.0, float(millis) / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def extract_json(text: str) -> Any:
    """Parse ``text`` as JSON, else the first decodable {...} block inside it; None if none."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    index = stripped.find("{")
    while index != -1:
        try:
            value, _ = decoder.raw_decode(stripped, index)
        except ValueError:
            index = stripped.find("{", index + 1)
            continue
        return value
    return None


def parse_chunk(data: str, where: str, key: str | None = None) -> tuple[str, bool]:
    """The text of one streamed ``data:`` payload and whether it ends the reply."""
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise ModelBadOutput(
            f"The model server at {where} sent a stream line that is not JSON."
        ) from exc
    if not isinstance(chunk, dict):
        return "", False
    if "error" in chunk:
        error = chunk["error"]
        detail = error.get("message") if isinstance(error, dict) else error
        raise ModelUnavailable(
            redact(f"The model server at {where} failed mid-reply: {detail}", key)
        )
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return "", False
    choice = choices[0]
    delta = choice.get("delta") or choice.get("message") or {}
    piece = delta.get("content") if isinstance(delta, dict) else None
    return (piece if isinstance(piece, str) else ""), bool(choice.get("finish_reason"))
