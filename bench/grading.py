"""Grading cost: signals per turn, CPU per judge call, and the wait for the ``grade`` event.

    python -m bench.grading

1. Signals: ``app.grading.signals.turn_signals`` on every human turn of a 60-turn interview,
   and a signals-only ``Grader.grade_turn`` (every rubric of the side), in this process.
2. Judge: ``Grader.grade_turn`` with an ``OpenAICompatibleModel`` judge against the stub
   (one JSON call per rubric); this process's CPU time per judge call.
3. Service: a real ``rapport serve`` with the judge on against the stub; for each streamed
   turn, the time from the last ``token`` event to the ``grade`` event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.client import RapportClient
from bench.common import (
    ROOT,
    Server,
    fmt,
    markdown_table,
    median,
    percentile,
    raise_fd_limit,
    sqlite_url,
    start_rapport,
    start_stub,
    write_result,
)
from bench.prompt_cost import human_answers, play

# Every human answer carries this phrase, and the stub's verdict quotes it, so the judge's
# evidence check passes as it would with a real model.
QUOTE = "That is how I would approach the routing service."


async def signals_figures(persona_id: str, turns: int, repeat: int) -> dict[str, float]:
    from app.config import Settings
    from app.grading.grader import Grader
    from app.grading.rubrics import RubricCatalog
    from app.grading.signals import turn_signals
    from app.interview.personas import PersonaCatalog

    settings = Settings()
    persona = PersonaCatalog.from_dir(settings.personas_dir).get(persona_id)
    rubrics = RubricCatalog.from_dir(settings.rubrics_dir)
    transcript, _ = play(persona_id, turns, settings.transcript_window, quote=QUOTE)
    facts = list(persona.hidden.facts)
    human = [i for i, t in enumerate(transcript) if t.speaker == persona.human_side]  # type: ignore[attr-defined]
    stock = rubrics.stock_phrases(persona.human_side)
    per_turn: list[float] = []
    for index in human:
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            turn_signals(transcript, index, hidden_facts=facts, stock_phrases=stock)  # type: ignore[arg-type]
            runs.append(time.perf_counter() - start)
        per_turn.append(median(runs) * 1e6)
    grader = Grader([rubrics.get(r) for r in persona.rubrics], None)

    async def grade_all() -> list[float]:
        out = []
        for index in human:
            start = time.perf_counter()
            await grader.grade_turn(transcript, index, human_side=persona.human_side,  # type: ignore[arg-type]
                                    hidden_facts=facts)
            out.append((time.perf_counter() - start) * 1e6)
        return out

    await grade_all()  # warm the caches once
    grade_times = await grade_all()
    return {
        "signals_us_p50": percentile(per_turn, 50),
        "signals_us_max": max(per_turn),
        "signals_us_last": per_turn[-1],
        "grade_turn_us_p50": percentile(grade_times, 50),
        "grade_turn_us_max": max(grade_times),
        "rubrics": len(grader.for_side(persona.human_side, "turn")),
        "human_turns": len(human),
    }


async def judge_figures(stub_base: str, persona_id: str, turns: int) -> dict[str, float]:
    from app.config import Settings
    from app.grading.grader import Grader
    from app.grading.rubrics import RubricCatalog
    from app.interview.personas import PersonaCatalog
    from app.llm.openai_compatible import OpenAICompatibleModel, make_client

    settings = Settings()
    persona = PersonaCatalog.from_dir(settings.personas_dir).get(persona_id)
    rubrics = [RubricCatalog.from_dir(settings.rubrics_dir).get(r) for r in persona.rubrics]
    transcript, _ = play(persona_id, turns, settings.transcript_window, quote=QUOTE)
    human = [i for i, t in enumerate(transcript) if t.speaker == persona.human_side]  # type: ignore[attr-defined]
    model = OpenAICompatibleModel(make_client(base_url=stub_base, api_key="x", timeout=30),
                                  model="stub")
    calls = 0
    complete_json = model.complete_json

    async def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return await complete_json(*args, **kwargs)

    model.complete_json = counted  # type: ignore[method-assign]
    with_judge = Grader(rubrics, model)
    signals_only = Grader(rubrics, None)
    methods: list[str] = []
    try:
        await with_judge.grade_turn(transcript, human[0], human_side=persona.human_side)  # type: ignore[arg-type]
        calls = 0
        cpu = time.process_time()
        for index in human:
            grades = await with_judge.grade_turn(transcript, index,  # type: ignore[arg-type]
                                                 human_side=persona.human_side)
            methods += [g.method for g in grades]
        judged_cpu = time.process_time() - cpu
        cpu = time.process_time()
        for index in human:
            await signals_only.grade_turn(transcript, index, human_side=persona.human_side)  # type: ignore[arg-type]
        base_cpu = time.process_time() - cpu
    finally:
        await model.aclose()
    return {
        "judge_calls": calls,
        "judge_cpu_ms_per_call": judged_cpu * 1000 / max(1, calls),
        "judge_net_cpu_ms_per_call": (judged_cpu - base_cpu) * 1000 / max(1, calls),
        "judge_used_share": methods.count("llm+signals") / max(1, len(methods)),
    }


async def service_figures(work: Path, stub: Server, args: argparse.Namespace) -> dict[str, float]:
    server = start_rapport(work, stub, sqlite_url(work, "grading"), judge=True,
                           name="rapport-judge")
    waits: list[float] = []
    ends: list[float] = []
    try:
        client = RapportClient(server.port, args.persona, turns_per_interview=6,
                               answers=human_answers(6, quote=QUOTE))
        used = 0
        grades_seen = 0
        for index in range(args.warmup + args.turns):
            last_token = grade_at = done_at = None
            async for event in client.turn():
                if event.name == "token":
                    last_token = event.at
                elif event.name == "grade":
                    grade_at = event.at
                    grades = json.loads(event.data)["grades"]
                    grades_seen += len(grades)
                    used += sum(1 for g in grades if g["method"] == "llm+signals")
                elif event.name == "done":
                    done_at = event.at
            if index < args.warmup or last_token is None or grade_at is None:
                continue
            waits.append((grade_at - last_token) * 1000)
            if done_at is not None:
                ends.append((done_at - last_token) * 1000)
        await client.close()
    finally:
        server.stop()
    return {
        "grade_wait_ms_p50": percentile(waits, 50),
        "grade_wait_ms_p99": percentile(waits, 99),
        "done_wait_ms_p50": percentile(ends, 50),
        "service_judge_used_share": used / max(1, grades_seen),
        "service_turns": len(waits),
    }


async def run(args: argparse.Namespace) -> dict[str, float]:
    raise_fd_limit()
    figures = await signals_figures(args.persona, args.transcript_turns, args.repeat)
    work = Path(tempfile.mkdtemp(prefix="rapport-grading-"))
    verdict = json.dumps({"evidence": [QUOTE], "rationale": "Builds on the last answer.",
                          "score": 4})
    stub = start_stub(work, tokens=args.tokens, gap_ms=args.gap_ms, json_reply=verdict)
    try:
        figures.update(await judge_figures(stub.base, args.persona, args.judge_turns))
        figures.update(await service_figures(work, stub, args))
    finally:
        stub.stop()
    rows = [
        ["signals per human turn (`turn_signals`), p50", fmt(figures["signals_us_p50"] / 1000, 3)
         + " ms", f"max {figures['signals_us_max'] / 1000:.3f} ms over "
         f"{int(figures['human_turns'])} turns of a {args.transcript_turns}-turn interview"],
        ["signals-only grade of a turn (all rubrics), p50",
         fmt(figures["grade_turn_us_p50"] / 1000, 3) + " ms",
         f"{int(figures['rubrics'])} rubrics; max {figures['grade_turn_us_max'] / 1000:.3f} ms"],
        ["CPU per judge call", fmt(figures["judge_cpu_ms_per_call"], 2) + " ms",
         f"net of signals grading {figures['judge_net_cpu_ms_per_call']:.2f} ms; "
         f"{int(figures['judge_calls'])} calls, {figures['judge_used_share'] * 100:.0f}% of "
         "verdicts used"],
        ["end of reply → `grade` event, p50", fmt(figures["grade_wait_ms_p50"], 1) + " ms",
         f"p99 {figures['grade_wait_ms_p99']:.1f} ms; → `done` p50 "
         f"{figures['done_wait_ms_p50']:.1f} ms; {int(figures['service_turns'])} turns, judge on"],
    ]
    table = markdown_table(["figure", "value", "notes"], rows)
    target = "met" if figures["signals_us_max"] <= 1000 else "NOT met"
    table += f"\nTarget (signals ≤ 1 ms per turn): {target}.\n"
    print(table)
    notes = (f"Persona `{args.persona}`; stub {args.tokens} tokens at {args.gap_ms:g} ms, its "
             "JSON verdicts answered at once (so the wait shows Rapport's own share).\n\n")
    write_result(Path(args.out), "Grading", notes + table)
    return figures


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--persona", default="maya-startup-eng-manager")
    p.add_argument("--transcript-turns", type=int, default=60)
    p.add_argument("--repeat", type=int, default=20, help="timings per turn for signals")
    p.add_argument("--judge-turns", type=int, default=20)
    p.add_argument("--turns", type=int, default=30, help="streamed turns through the service")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--tokens", type=int, default=40)
    p.add_argument("--gap-ms", type=float, default=15.0)
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "grading.md"))
    return p


def main() -> None:
    asyncio.run(run(parser().parse_args()))


if __name__ == "__main__":
    main()
