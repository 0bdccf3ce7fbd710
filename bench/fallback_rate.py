"""How often the embedded model's replies fail the engine's check and fall back to the script.

    python -m bench.fallback_rate --turns 6
    python -m bench.fallback_rate --turns 4 --pairs 3 --seed 7 --samples /tmp/replies.jsonl

Runs an AI-vs-AI interview for every interviewer x candidate persona pair in personas/, with
the embedded local model (SmolLM2-135M-Instruct, or RAPPORT_LOCAL_MODEL) playing both sides
through one shared llama.cpp server, exactly as `rapport simulate --backend local` does.
Counts the model's replies, how many fell back to the plan's scripted phrasing, and why
(overall, per side, per persona, per move kind and per check), with the model's decode
rate and the wall time. Prints a Markdown report and writes it to
bench/results/fallback_rate.md. A pair that errors is counted and reported, not fatal.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import statistics
import sys
import time
import traceback
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.config import Settings
from app.interview.checks import word_count
from app.interview.models import Persona, Turn
from app.interview.personas import PersonaCatalog
from app.interview.simulate import simulate
from app.llm.base import ChatModel, ChatRequest, ModelError
from app.llm.factory import build_models

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "fallback_rate.md"

# check_reply's codes, in the order it applies them; the engine saves only the reason text.
REASONS = (
    ("empty", re.compile(r"empty reply")),
    ("out_of_character", re.compile(r"out of character")),
    ("too_long", re.compile(r"words; the persona's limit")),
    ("no_question", re.compile(r"asks a question and the reply has none")),
    ("question_at_close", re.compile(r"goodbye asks a new question")),
    ("leaks_private_fact", re.compile(r"private fact")),
    ("off_topic", re.compile(r"shares no words")),
)


def reason_code(reason: str | None) -> str:
    for code, pattern in REASONS:
        if reason and pattern.search(reason):
            return code
    return "other"


@dataclass
class Call:
    """One streamed model call: the raw text, its token count and timings."""

    text: str
    tokens: int
    first_token: float
    total: float


class Metered:
    """A ChatModel that passes everything to the shared model and records each stream.

    llama.cpp streams one token per chunk, so chunks are counted as tokens.
    """

    def __init__(self, model: ChatModel) -> None:
        self._model = model
        self.backend = model.backend
        self.model = model.model
        self.calls: list[Call] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        sent = time.monotonic()
        first = 0.0
        pieces: list[str] = []
        try:
            async for piece in self._model.stream(request):
                if not pieces:
                    first = time.monotonic() - sent
                pieces.append(piece)
                yield piece
        finally:
            self.calls.append(Call("".join(pieces), len(pieces), first, time.monotonic() - sent))

    async def complete(self, request: ChatRequest) -> str:
        return await self._model.complete(request)

    async def complete_json(
        self, request: ChatRequest, schema: dict[str, Any], *, name: str
    ) -> dict[str, Any]:
        return await self._model.complete_json(request, schema, name=name)

    async def aclose(self) -> None:  # the bench closes the shared model itself
        return None


def seed_requests(model: ChatModel) -> dict[str, int]:
    """Send a seed with every request (llama.cpp's server accepts it) so runs repeat; the
    returned dict's ``seed`` is the one sent, changed per pair so that the same opening
    prompt does not give the same reply in every pair.

    The ChatRequest has no seed field, so this wraps the OpenAI-compatible model's
    request-body builder; a model without one is left as it is.
    """
    current = {"seed": 0}
    build = getattr(model, "_params", None)
    if build is None:
        return current

    def with_seed(request: ChatRequest) -> dict[str, Any]:
        return {**build(request), "seed": current["seed"]}

    model._params = with_seed  # type: ignore[attr-defined]
    return current


@dataclass
class Reply:
    pair: str
    index: int
    side: str
    persona: str
    kind: str
    fallback: bool
    code: str | None
    reason: str | None
    raw: str  # what the model said (cleaned text is what it saved when not a fallback)
    saved: str
    partner_last: str
    tokens: int
    first_token: float
    total: float


@dataclass
class PairResult:
    interviewer: str
    candidate: str
    seconds: float
    replies: list[Reply] = field(default_factory=list)
    error: str | None = None

    @property
    def name(self) -> str:
        return f"{self.interviewer} × {self.candidate}"


async def run_pair(
    asking: Persona, answering: Persona, model: ChatModel, turns: int, limit: float
) -> PairResult:
    result = PairResult(asking.id, answering.id, 0.0)
    metered = Metered(model)
    transcript: list[Turn] = []
    started = time.monotonic()

    def on_turn(turn: Turn) -> None:
        transcript.append(turn)
        call = metered.calls[-1] if metered.calls else Call("", 0, 0.0, 0.0)
        partner = next((t.text for t in reversed(transcript[:-1]) if t.speaker != turn.speaker), "")
        fallback = bool(turn.meta.get("fallback"))
        reason = turn.meta.get("fallback_reason")
        result.replies.append(
            Reply(
                pair=result.name,
                index=len(transcript),
                side=turn.speaker,
                persona=asking.id if turn.speaker == "interviewer" else answering.id,
                kind=str(turn.meta.get("move_kind", "?")),
                fallback=fallback,
                code=reason_code(reason) if fallback else None,
                reason=reason,
                raw=call.text.strip(),
                saved=turn.text,
                partner_last=partner,
                tokens=call.tokens,
                first_token=call.first_token,
                total=call.total,
            )
        )

    try:
        await asyncio.wait_for(
            simulate(
                asking,
                answering,
                turns=turns,
                interviewer_model=metered,
                candidate_model=metered,
                on_turn=on_turn,
            ),
            limit,
        )
    except Exception as exc:  # one broken pair must not end the benchmark
        kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        result.error = f"{kind}: {str(exc).splitlines()[0] if str(exc) else ''}".strip(": ")
        traceback.print_exc(file=sys.stderr)
    result.seconds = time.monotonic() - started
    return result


# -- report ------------------------------------------------------------------------------


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def rate_rows(groups: dict[str, list[Reply]], codes: list[str]) -> list[str]:
    rows = []
    for name, replies in groups.items():
        fell = [r for r in replies if r.fallback]
        by_code = Counter(r.code for r in fell)
        cells = " | ".join(str(by_code.get(c, 0)) for c in codes)
        rows.append(
            f"| {name} | {len(replies)} | {len(fell)} | {pct(len(fell), len(replies))} | {cells} |"
        )
    return rows


def quote(text: str, limit: int = 70) -> str:
    words = text.split()
    short = " ".join(words[:limit]) + (" …" if len(words) > limit else "")
    return short.replace("|", "\\|").replace("\n", " ")


def pick_excerpts(replies: list[Reply]) -> tuple[Reply | None, Reply | None]:
    """A kept model reply and a fallback, chosen by rule so a rerun picks comparable ones:
    the kept reply (not an opening) with the most words, up to 60, and a fallback for the
    most common reason whose raw text is shortest above 8 words."""
    kept = [
        r for r in replies
        if not r.fallback and r.kind != "open" and 12 <= word_count(r.raw) <= 60
    ]  # fmt: skip
    good = max(kept, key=lambda r: word_count(r.raw), default=None)
    fell = [r for r in replies if r.fallback]
    bad = None
    if fell:
        common = Counter(r.code for r in fell).most_common(1)[0][0]
        candidates = [r for r in fell if r.code == common and word_count(r.raw) >= 8] or [
            r for r in fell if r.code == common
        ]
        bad = min(candidates, key=lambda r: word_count(r.raw))
    return good, bad


def report(
    results: list[PairResult],
    args: argparse.Namespace,
    label: str,
    startup: float,
    wall: float,
    skipped: list[str] | None = None,
) -> str:
    replies = [r for p in results for r in p.replies]
    fell = [r for r in replies if r.fallback]
    errors = [p for p in results if p.error]
    codes = [c for c, _ in REASONS] + (["other"] if any(r.code == "other" for r in fell) else [])
    head = " | ".join(codes)
    sep = "|".join(["---"] * (4 + len(codes)))

    def table(title: str, groups: dict[str, list[Reply]]) -> list[str]:
        return [
            f"| {title} | replies | fell back | rate | {head} |",
            f"|{sep}|",
            *rate_rows(groups, codes),
        ]

    calls = [r for r in replies if r.tokens > 1 and r.total > r.first_token]
    decode_tokens = sum(r.tokens - 1 for r in calls)
    decode_time = sum(r.total - r.first_token for r in calls)
    rate = decode_tokens / decode_time if decode_time else 0.0
    ttft = statistics.median([r.first_token for r in calls]) if calls else 0.0
    model_time = sum(r.total for r in replies)
    load = os.getloadavg()

    lines = [
        "# Fallback rate of the embedded model (AI vs AI)",
        "",
        f"`python -m bench.fallback_rate --turns {args.turns} --seed {args.seed}"
        + (f" --pairs {args.pairs}" if args.pairs else "")
        + (f" --budget {args.budget:g}" if getattr(args, "budget", 0) else "")
        + f"` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; model {label}, start-up "
        f"{startup:.1f} s; load average at the end {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} on {os.cpu_count()} cores.",
        "",
        f"- pairs: {len(results)} run, {len(errors)} errored"
        + (f", {len(skipped)} not run (time budget)" if skipped else ""),
        f"- model replies: {len(replies)}, fell back to the script: {len(fell)} "
        f"(**{pct(len(fell), len(replies))}**), kept: {len(replies) - len(fell)}",
        f"- decode rate: {rate:.1f} tokens/s ({decode_tokens} tokens after the first); "
        f"median time to first token {ttft:.2f} s; {sum(r.tokens for r in replies)} tokens "
        "generated",
        f"- wall time: {wall / 60:.1f} min for the pairs ({wall / max(len(results), 1):.0f} s "
        f"per pair, {model_time / max(len(replies), 1):.1f} s per reply), plus start-up",
        "",
        "## By side",
        "",
        *table(
            "side", {s: [r for r in replies if r.side == s] for s in ("interviewer", "candidate")}
        ),
        f"| **all** | {len(replies)} | {len(fell)} | **{pct(len(fell), len(replies))}** | "
        + " | ".join(str(sum(1 for r in fell if r.code == c)) for c in codes)
        + " |",
        "",
        "## By persona (its own replies)",
        "",
        *table(
            "persona",
            {
                f"{p} ({side})": [r for r in replies if r.persona == p and r.side == side]
                for side in ("interviewer", "candidate")
                for p in sorted({r.persona for r in replies if r.side == side})
            },
        ),
        "",
        "## By move kind",
        "",
        *table(
            "move",
            {k: [r for r in replies if r.kind == k] for k in sorted({r.kind for r in replies})},
        ),
    ]
    if errors:
        lines += ["", "## Pairs that errored", ""]
        lines += [f"- {p.name}: {p.error} (after {len(p.replies)} replies)" for p in errors]
    if skipped:
        lines += [
            "",
            f"Not run (the --budget of {args.budget:g} min was spent): " + ", ".join(skipped),
        ]
    good, bad = pick_excerpts(replies)
    lines += ["", "## What the model says", ""]
    if good:
        lines += [
            f"A reply the check kept ({good.pair}, turn {good.index}, {good.side} "
            f"`{good.kind}`), after the other side said:",
            "",
            f"> {quote(good.partner_last, 40)}",
            "",
            f"**{good.persona}:** {quote(good.raw)}",
            "",
        ]
    if bad:
        lines += [
            f"A reply that fell back ({bad.pair}, turn {bad.index}, {bad.side} `{bad.kind}`): "
            f"{bad.reason}. The model said:",
            "",
            f"> {quote(bad.raw)}",
            "",
            f"and the turn saved the plan's script instead: “{quote(bad.saved, 50)}”",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


# -- main --------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> tuple[str, list[Reply]]:
    settings = Settings(llm="local", judge_model="off")
    catalog = PersonaCatalog.from_dir(args.personas_dir or settings.personas_dir)
    asking, answering = catalog.list("interviewer"), catalog.list("candidate")
    # Rounds in which every persona plays once, so that a run cut short by --budget still
    # covers every persona: round r pairs interviewer i with candidate (i + r).
    pairs = [
        (asking[i], answering[(i + r) % len(answering)])
        for r in range(len(answering))
        for i in range(len(asking))
    ]
    if len(asking) != len(answering):  # no rounds of equal size: plain order
        pairs = list(itertools.product(asking, answering))
    if args.pairs:
        # A seeded sample, so that a short run still spreads over several personas.
        pairs = random.Random(args.seed).sample(pairs, min(args.pairs, len(pairs)))
    print(
        f"{len(pairs)} pairs, {args.turns} turns each; starting the local model…", file=sys.stderr
    )
    started = time.monotonic()
    try:
        models = await asyncio.to_thread(build_models, settings)
    except ModelError as exc:
        # One retry: a start-up can fail by chance (e.g. a random API key starting with '-'
        # is read by the server's argument parser as an option).
        print(f"the local model did not start, retrying once: {exc}", file=sys.stderr)
        models = await asyncio.to_thread(build_models, settings)
    startup = time.monotonic() - started
    seeding = seed_requests(models.persona)
    results: list[PairResult] = []
    skipped: list[str] = []
    began = time.monotonic()
    try:
        for number, (asking, answering) in enumerate(pairs, 1):
            if args.budget and time.monotonic() - began > args.budget * 60:
                skipped = [f"{a.id} × {c.id}" for a, c in pairs[number - 1 :]]
                print(f"time budget spent: {len(skipped)} pairs not run", file=sys.stderr)
                break
            seeding["seed"] = args.seed * 1000 + number
            result = await run_pair(
                asking, answering, models.persona, args.turns, args.pair_timeout
            )
            results.append(result)
            fell = sum(r.fallback for r in result.replies)
            status = f"ERROR {result.error}" if result.error else "ok"
            print(
                f"[{number}/{len(pairs)}] {result.name}: {len(result.replies)} replies, "
                f"{fell} fell back, {result.seconds:.0f} s, {status}",
                file=sys.stderr,
            )
    finally:
        await models.aclose()
    wall = time.monotonic() - began
    replies = [r for p in results for r in p.replies]
    text = report(results, args, models.persona_model_name, startup, wall, skipped)
    return text, replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6, help="turns per interview (default 6)")
    parser.add_argument("--pairs", type=int, default=0, help="run only this many pairs (sampled)")
    parser.add_argument(
        "--seed", type=int, default=1, help="sampling seed for the model and --pairs"
    )
    parser.add_argument(
        "--budget", type=float, default=0.0, help="minutes; start no pair after this (0: none)"
    )
    parser.add_argument("--pair-timeout", type=float, default=900.0, help="seconds per pair")
    parser.add_argument("--personas-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the report")
    parser.add_argument(
        "--samples", type=Path, default=None, help="also write every reply as JSON lines"
    )
    args = parser.parse_args()
    text, replies = asyncio.run(run(args))
    print(text)
    if args.samples:
        args.samples.write_text("".join(json.dumps(r.__dict__) + "\n" for r in replies))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
