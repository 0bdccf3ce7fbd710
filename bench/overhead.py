"""Overhead at one client: the model direct, the bare relay and Rapport, interleaved.

    python -m bench.overhead --rounds 200

Every round streams one turn through each path in a rotating order, so drift on a noisy
machine hits all three alike. Time to first token (TTFT) is taken at the first ``token``
event (for the model direct, the first content chunk from the ``openai`` client).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from openai import AsyncOpenAI

from bench.client import Connection, RapportClient
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
    start_relay,
    start_stub,
    write_result,
)

Timing = tuple[float, float]  # (ttft seconds, total seconds)


async def time_direct(client: AsyncOpenAI) -> Timing:
    start = time.perf_counter()
    first = None
    stream = await client.chat.completions.create(
        model="stub", stream=True, messages=[{"role": "user", "content": "Tell me about you."}]
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
    end = time.perf_counter()
    return (first or end) - start, end - start


async def time_relay(conn: Connection) -> Timing:
    start = time.perf_counter()
    first = None
    async for event in conn.events("/relay", {"text": "Tell me about you."}):
        if first is None and event.name == "token":
            first = event.at
    end = time.perf_counter()
    return (first or end) - start, end - start


async def time_rapport(client: RapportClient) -> Timing:
    await client.ready()  # a new interview, when one is due, is set up outside the clock
    start = time.perf_counter()
    first = None
    async for event in client.turn():
        if first is None and event.name == "token":
            first = event.at
    end = time.perf_counter()
    return (first or end) - start, end - start


def summarize(samples: dict[str, list[Timing]]) -> tuple[str, dict[str, float]]:
    direct_ttft = [t for t, _ in samples["direct"]]
    direct_total = median([total for _, total in samples["direct"]])
    figures: dict[str, float] = {}
    rows = []
    for name, values in samples.items():
        ttft = [t * 1000 for t, _ in values]
        total = [s * 1000 for _, s in values]
        p50, p99 = percentile(ttft, 50), percentile(ttft, 99)
        figures[f"{name}_ttft_p50"] = p50
        figures[f"{name}_ttft_p99"] = p99
        figures[f"{name}_total_p50"] = median(total)
        rows.append([
            name, fmt(p50), fmt(p99),
            fmt(p50 - percentile(direct_ttft, 50) * 1000), fmt(p99 - percentile(direct_ttft, 99)
                                                               * 1000),
            fmt(median(total)), fmt(median(total) / (direct_total * 1000), 3),
        ])
    table = markdown_table(
        ["path", "TTFT p50 ms", "TTFT p99 ms", "added p50 ms", "added p99 ms",
         "total p50 ms", "total ÷ direct"], rows)
    added_p50 = figures["rapport_ttft_p50"] - figures["relay_ttft_p50"]
    added_p99 = figures["rapport_ttft_p99"] - figures["relay_ttft_p99"]
    ratio = figures["rapport_total_p50"] / figures["relay_total_p50"]
    figures.update(rapport_vs_relay_p50=added_p50, rapport_vs_relay_p99=added_p99,
                   rapport_vs_relay_total=ratio)
    verdict = "met" if added_p50 <= 3 else "NOT met"
    table += (
        f"\nRapport against the relay: TTFT {added_p50:+.1f} ms at p50, {added_p99:+.1f} ms at "
        f"p99; total time × {ratio:.3f}. Target (p50 within 3 ms of the relay): {verdict}.\n"
    )
    return table, figures


async def run(args: argparse.Namespace) -> dict[str, float]:
    raise_fd_limit()
    work = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    stub = start_stub(work, tokens=args.tokens, gap_ms=args.gap_ms)
    servers: list[Server] = [stub]
    try:
        relay = start_relay(work, stub)
        servers.append(relay)
        rapport = start_rapport(work, stub, sqlite_url(work, "overhead"), judge=False,
                                root=Path(args.root))
        servers.append(rapport)
        other = None
        if args.compare:
            other = start_rapport(work, stub, sqlite_url(work, "overhead-compare"), judge=False,
                                  name="rapport-compare", root=Path(args.compare))
            servers.append(other)
        direct = AsyncOpenAI(base_url=stub.base, api_key="x", max_retries=0)
        relay_conn = Connection(relay.port)
        client = RapportClient(rapport.port, args.persona,
                               turns_per_interview=args.turns_per_interview)
        paths: dict[str, Callable[[], Awaitable[Timing]]] = {
            "direct": lambda: time_direct(direct),
            "relay": lambda: time_relay(relay_conn),
            "rapport": lambda: time_rapport(client),
        }
        if other is not None:
            compared = RapportClient(other.port, args.persona,
                                     turns_per_interview=args.turns_per_interview)
            paths[args.compare_label] = lambda: time_rapport(compared)
        samples: dict[str, list[Timing]] = {name: [] for name in paths}
        names = list(paths)
        for index in range(args.warmup + args.rounds):
            shift = index % len(names)
            order = names[shift:] + names[:shift]
            for name in order:
                timing = await paths[name]()
                if index >= args.warmup:
                    samples[name].append(timing)
                # Each path starts once the previous one's server has finished its own
                # after-work (closing the stream, saving), which would otherwise fall on the
                # next path's clock.
                await asyncio.sleep(args.pause_ms / 1000)
        await direct.close()
        await relay_conn.close()
        await client.close()
    finally:
        for server in reversed(servers):
            server.stop()
    table, figures = summarize(samples)
    print(table)
    settings = (f"{args.rounds} rounds after {args.warmup} warm-up, stub {args.tokens} tokens at "
                f"{args.gap_ms:g} ms; Rapport on SQLite, 1 worker, judge off, "
                f"{args.turns_per_interview} turns per interview.\n\n")
    write_result(Path(args.out), "Overhead at one client", settings + table)
    return figures


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--tokens", type=int, default=40)
    p.add_argument("--gap-ms", type=float, default=15.0)
    p.add_argument("--pause-ms", type=float, default=20.0, help="idle time between paths")
    p.add_argument("--persona", default="maya-startup-eng-manager")
    p.add_argument("--turns-per-interview", type=int, default=6)
    p.add_argument("--root", default=str(ROOT), metavar="DIR",
                   help="the checkout whose Rapport is timed (default: this one)")
    p.add_argument("--compare", default=None, metavar="DIR",
                   help="also time the Rapport of the checkout in DIR")
    p.add_argument("--compare-label", default="rapport-compared",
                   help="the table row of --compare's Rapport")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "overhead.md"))
    return p


def main() -> None:
    asyncio.run(run(parser().parse_args()))


if __name__ == "__main__":
    main()
