"""Signals speed: microseconds per turn on a 40-turn interview, the way live grading calls them.

    python -m bench.signals [--turns 40] [--rounds 30] [--whole 300] [--out FILE.md]

The transcript alternates interviewer and candidate turns taken from the calibration labels
(real-length, varied text). Each round clears the text caches, then calls ``turn_signals`` for
turn 0, 1, … 39 in order with every stock phrase of the side and three hidden facts, as the
service does after each message. "Cold" is that first call per turn (each turn analysed once);
"warm" repeats a call whose texts are cached. CPU time is measured too, because wall time on a
shared machine includes waiting for a core.

"Whole" reads a --whole-turn transcript at once (texts cached), the way
``Grader.grade_transcript`` and ``rapport grade`` do, with ``transcript_signals`` (one pass), and
turn by turn with ``turn_signals`` for each interviewer turn in order, as a caller that grades
one turn at a time does (each call extends the remembered analysis of the turns before it).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from app.grading import text as text_analysis
from app.grading.calibrate import load_labels
from app.grading.rubrics import RubricCatalog
from app.grading.signals import clear_memo, session_signals, transcript_signals, turn_signals
from app.interview.models import HiddenFact, Side, Turn

ROOT = Path(__file__).resolve().parent.parent
FACTS = [
    HiddenFact(text="I was laid off in March after the Ferrous acquisition", triggers=["leave"]),
    HiddenFact(text="I turned down a promotion to stay hands-on", triggers=["promotion"]),
    HiddenFact(text="My dispatch tool is still used by 300 drivers", triggers=["built"]),
]


def transcript(n: int) -> list[Turn]:
    items = load_labels(ROOT / "calibration" / "labels.yaml")
    by_side: dict[Side, list[str]] = {"interviewer": [], "candidate": []}
    for item in items:
        for turn in item.turns():
            if turn.text not in by_side[turn.speaker]:
                by_side[turn.speaker].append(turn.text)
    turns = []
    for i in range(n):
        side: Side = "interviewer" if i % 2 == 0 else "candidate"
        pool = by_side[side]
        turns.append(Turn(side, pool[(i * 7) % len(pool)]))
    return turns


def clear_caches() -> None:
    for fn in (
        text_analysis.analyse,
        text_analysis.exchange,
        text_analysis.normalise,
        text_analysis.phrases_in,
        text_analysis.fact_revealed,
    ):
        fn.cache_clear()
    clear_memo()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--turns", type=int, default=40)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--whole", type=int, default=300, help="turns in the whole-transcript run")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "signals.md"))
    args = p.parse_args()

    catalog = RubricCatalog.from_dir(ROOT / "rubrics")
    stock = {side: catalog.stock_phrases(side) for side in ("interviewer", "candidate")}
    turns = transcript(args.turns)
    words = sum(len(t.text.split()) for t in turns)

    cold_wall: list[float] = []
    cold_cpu: list[float] = []
    warm_wall: list[float] = []
    for _ in range(args.rounds):
        clear_caches()
        for i, turn in enumerate(turns):
            wall, cpu = time.perf_counter(), time.thread_time()
            turn_signals(turns, i, hidden_facts=FACTS, stock_phrases=stock[turn.speaker])
            cold_cpu.append((time.thread_time() - cpu) * 1e6)
            cold_wall.append((time.perf_counter() - wall) * 1e6)
        wall = time.perf_counter()
        turn_signals(turns, len(turns) - 1, hidden_facts=FACTS, stock_phrases=stock["candidate"])
        warm_wall.append((time.perf_counter() - wall) * 1e6)

    session_ms = []
    for _ in range(5):
        clear_caches()
        start = time.perf_counter()
        session_signals(turns, "interviewer", FACTS, stock_phrases=stock["interviewer"])
        session_ms.append((time.perf_counter() - start) * 1e3)

    long = transcript(args.whole)
    side_stock = stock["interviewer"]
    transcript_signals(long, hidden_facts=FACTS, stock_phrases=side_stock)  # cache the texts
    per_turn_ms, batch_ms = [], []
    for _ in range(3):
        clear_memo()
        cpu = time.thread_time()
        for i in range(0, len(long), 2):
            turn_signals(long, i, hidden_facts=FACTS, stock_phrases=side_stock)
        per_turn_ms.append((time.thread_time() - cpu) * 1e3)
        cpu = time.thread_time()
        transcript_signals(long, hidden_facts=FACTS, stock_phrases=side_stock)
        batch_ms.append((time.thread_time() - cpu) * 1e3)

    reference = []
    for _ in range(200):
        cpu = time.thread_time()
        sum(range(1000))
        reference.append((time.thread_time() - cpu) * 1e6)

    row = {
        "median_us": statistics.median(cold_wall),
        "p95_us": percentile(cold_wall, 0.95),
        "median_cpu_us": statistics.median(cold_cpu),
        "warm_us": statistics.median(warm_wall),
        "session_ms": statistics.median(session_ms),
        "reference_us": statistics.median(reference),
        "per_turn_ms": statistics.median(per_turn_ms),
        "batch_ms": statistics.median(batch_ms),
    }
    print(f"transcript: {len(turns)} turns, {words} words; {args.rounds} rounds")
    print(
        f"turn_signals, cold: median {row['median_us']:.0f} µs/turn (p95 {row['p95_us']:.0f}), "
        f"CPU median {row['median_cpu_us']:.0f} µs/turn"
    )
    print(f"turn_signals, warm (texts cached): median {row['warm_us']:.0f} µs/turn")
    print(f"session_signals, cold: median {row['session_ms']:.1f} ms for the whole transcript")
    print(
        f"whole {len(long)}-turn transcript, CPU: turn_signals per interviewer turn "
        f"{row['per_turn_ms']:.0f} ms; transcript_signals {row['batch_ms']:.0f} ms"
    )
    print(
        f"machine reference: sum(range(1000)) takes {row['reference_us']:.1f} µs of CPU here "
        "(about 8-12 µs on a current laptop core)"
    )

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text(
            "# Signals speed (bench/signals.py)\n\n"
            "| date (UTC) | python | turns | median µs/turn | p95 µs/turn | CPU µs/turn "
            "| warm µs/turn | session ms | reference µs | whole: per-turn ms | whole: batch ms |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    with out.open("a") as handle:
        handle.write(
            f"| {stamp} | {platform.python_version()} | {len(turns)} | {row['median_us']:.0f} "
            f"| {row['p95_us']:.0f} | {row['median_cpu_us']:.0f} | {row['warm_us']:.0f} "
            f"| {row['session_ms']:.1f} | {row['reference_us']:.1f} "
            f"| {row['per_turn_ms']:.0f} | {row['batch_ms']:.0f} |\n"
        )
    print(f"row appended to {out}")


if __name__ == "__main__":
    main()
