"""Speed of the embedded model on this machine: time to first token and tokens per second.

    python -m bench.local_model --runs 5 --max-tokens 64

Starts llama.cpp's server exactly as the `local` backend does, warms it up once, then streams
the same persona turn several times and prints medians as a Markdown table. llama.cpp sends
one token per stream chunk, so chunks are counted as tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from app.llm.base import ChatRequest, Message
from app.llm.local import start_local

PROMPT = ChatRequest(
    messages=[
        {
            "role": "system",
            "content": "You are Maya Okafor, an engineering manager at Lumen Logistics, "
            "interviewing a backend engineer. Stay in character and ask one question.",
        },
        {
            "role": "user",
            "content": "I spent three years on a payments team, and last year I led the "
            "migration of our ledger to event sourcing. What would I own here?",
        },
    ],
    temperature=0.0,
)


def turn(index: int, max_tokens: int) -> ChatRequest:
    """The benchmark turn; the candidate's words change each run, as in an interview, so
    llama.cpp's prompt cache reuses only the stable system prefix."""
    system, user = PROMPT.messages
    varied: Message = {"role": "user", "content": f"Run {index}. {user['content']}"}
    return ChatRequest(
        messages=[system, varied], temperature=PROMPT.temperature, max_tokens=max_tokens
    )


@dataclass
class Run:
    first_token: float  # seconds from request to the first text
    tokens: int
    total: float

    @property
    def decode_rate(self) -> float:
        """Tokens per second after the first one: the speed a reader sees text appear."""
        generating = self.total - self.first_token
        return (self.tokens - 1) / generating if self.tokens > 1 and generating > 0 else 0.0


async def measure(runs: int, max_tokens: int, model: Path | None) -> tuple[list[Run], float, str]:
    started = time.monotonic()
    local = await asyncio.to_thread(start_local, model, timeout=120, max_retries=0)
    load = time.monotonic() - started
    results: list[Run] = []
    try:
        await local.persona.complete(turn(-1, max_tokens))  # warm-up: page the weights in
        for index in range(runs):
            request = turn(index, max_tokens)
            sent = time.monotonic()
            first = 0.0
            tokens = 0
            async for _piece in local.persona.stream(request):
                if not tokens:
                    first = time.monotonic() - sent
                tokens += 1
            results.append(Run(first, tokens, time.monotonic() - sent))
    finally:
        await local.persona.aclose()
    threads = local.server.threads
    return results, load, f"{local.label} ({threads} thread{'s' if threads > 1 else ''})"


def table(results: list[Run], load: float, label: str) -> str:
    def row(name: str, values: list[float], unit: str) -> str:
        return (
            f"| {name} | {statistics.median(values):.{2 if unit == 's' else 1}f} {unit} "
            f"| {min(values):.2f} | {max(values):.2f} |"
        )

    lines = [
        f"Embedded model: {label}, {len(results)} runs, start-up {load:.1f} s",
        "",
        "| metric | median | min | max |",
        "|---|---|---|---|",
        row("time to first token", [r.first_token for r in results], "s"),
        row("tokens per second", [r.decode_rate for r in results], "tok/s"),
        row("tokens per reply", [float(r.tokens) for r in results], "tokens"),
        row("whole reply", [r.total for r in results], "s"),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: packaged)")
    args = parser.parse_args()
    results, load, label = asyncio.run(measure(args.runs, args.max_tokens, args.model))
    print(table(results, load, label))


if __name__ == "__main__":
    main()
