"""Prompt cost: prompt tokens per turn as an interview grows, and the stable-prefix share.

    python -m bench.prompt_cost --turns 60

Plays an interview with the engine (the persona speaks the plan's own phrasing, the human
cycles through prepared answers), builds every persona request with ``Engine.request_for``
and counts tokens with a simple estimate: words and punctuation marks, as a BPE tokenizer
roughly splits English. Two prefix figures per request:
- stable prefix: the messages before the transcript window (system prompt, documents),
  identical on every turn of an interview;
- cached prefix: the part identical to the previous request's start, which is what a
  provider's prefix cache can reuse.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from bench.common import ANSWERS, ROOT, fmt, markdown_table, write_result

TOKEN = re.compile(r"\w+|[^\w\s]")


def estimate_tokens(text: str) -> int:
    return len(TOKEN.findall(text))


def serialize(messages: list[dict[str, str]] | list[object]) -> list[str]:
    """Each message as a chat template would lay it out, one string per message."""
    out = []
    for message in messages:
        assert isinstance(message, dict)
        out.append(f"<|{message['role']}|>\n{message['content']}\n")
    return out


def common_prefix(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    index = 0
    while index < limit and a[index] == b[index]:
        index += 1
    return index


@dataclass
class PromptRow:
    turn: int
    messages: int
    tokens: int
    stable: int
    cached: int


def human_answers(count: int, *, quote: str = "") -> list[str]:
    """``count`` human turns cycling through the prepared answers (each with ``quote``)."""
    answers = []
    for index in range(count):
        text = ANSWERS[index % len(ANSWERS)]
        answers.append(f"{text} {quote}".strip() if quote else text)
    return answers


def play(persona_id: str, turns: int, window: int, *, quote: str = "") -> tuple[
    list[object], list[tuple[int, object]]
]:
    """Play ``turns`` turns; returns the transcript and the persona's requests in order, each
    with the number of turns before it."""
    from app.config import Settings
    from app.interview.engine import Engine
    from app.interview.models import Turn
    from app.interview.personas import PersonaCatalog

    settings = Settings()
    persona = PersonaCatalog.from_dir(settings.personas_dir).get(persona_id)
    engine = Engine(persona, window=window)
    state = engine.initial_state()
    transcript: list[Turn] = []
    requests: list[tuple[int, object]] = []
    opening = engine.opening(state)
    if opening is not None:
        requests.append((0, engine.request_for(transcript, opening)))
        transcript.append(Turn(speaker=persona.side, text=opening.script))
        state = opening.state_after
    answers = iter(human_answers(turns, quote=quote))
    while len(transcript) < turns:
        transcript.append(Turn(speaker=persona.human_side, text=next(answers)))
        if len(transcript) >= turns:
            break
        move = engine.next_move(transcript, state)
        requests.append((len(transcript), engine.request_for(transcript, move)))
        transcript.append(Turn(speaker=persona.side, text=move.script))
        state = move.state_after
    return list(transcript), requests


def measure(persona_id: str, turns: int, window: int) -> list[PromptRow]:
    transcript, requests = play(persona_id, turns, window)
    rows = []
    previous = ""
    for before, request in requests:
        messages = list(request.messages)  # type: ignore[attr-defined]
        parts = serialize(messages)
        whole = "".join(parts)
        # The window's turns sit between the stable head and the closing directive.
        shown = min(before, window)
        stable = "".join(parts[: len(parts) - 1 - shown])
        cached = whole[: common_prefix(whole, previous)]
        rows.append(PromptRow(before + 1, len(messages), estimate_tokens(whole),
                              estimate_tokens(stable), estimate_tokens(cached)))
        previous = whole
    del transcript
    return rows


def report(rows: list[PromptRow], window: int) -> tuple[str, dict[str, float]]:
    wanted = {0, 2, 4, 8, 12, 16, 18, 20, 24, 30, 40, 50, 60}
    picked = [r for r in rows if r.turn - 1 in wanted or r is rows[-1]]
    table = markdown_table(
        ["turns before", "messages", "prompt tokens", "stable prefix", "stable share",
         "cached vs previous", "cached share"],
        [[str(r.turn - 1), str(r.messages), str(r.tokens), str(r.stable),
          fmt(r.stable / r.tokens * 100, 0) + "%", str(r.cached),
          fmt(r.cached / r.tokens * 100, 0) + "%"] for r in picked],
    )
    full = [r for r in rows if r.turn - 1 >= window]
    figures: dict[str, float] = {"max_tokens": max(r.tokens for r in rows)}
    if full:
        low, high = min(r.tokens for r in full), max(r.tokens for r in full)
        figures.update(window_min=low, window_max=high, flat_ratio=high / low)
        table += (
            f"\nOnce the window of {window} turns is full, prompts stay "
            f"between {low} and {high} tokens (max ÷ min = {high / low:.2f}); the stable prefix "
            f"is {rows[-1].stable} tokens.\n"
        )
    return table, figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--turns", type=int, default=60)
    p.add_argument("--window", type=int, default=None, help="default: RAPPORT_TRANSCRIPT_WINDOW")
    p.add_argument("--persona", default="maya-startup-eng-manager")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "prompt_cost.md"))
    args = p.parse_args()
    from app.config import Settings

    window = args.window or Settings().transcript_window
    rows = measure(args.persona, args.turns, window)
    table, _ = report(rows, window)
    print(table)
    notes = (f"Persona `{args.persona}`, {args.turns} turns, window {window}; tokens estimated "
             "as words plus punctuation marks.\n\n")
    write_result(Path(args.out), "Prompt cost", notes + table)


if __name__ == "__main__":
    main()
