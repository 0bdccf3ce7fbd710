"""Cost under load: server CPU per streamed turn at many concurrent interviews.

    python -m bench.load --concurrency 50,200,500 --rounds 3

Every server runs for the whole benchmark; each round gives every server the same load in a
rotating order, and the table shows medians over rounds. Server CPU is read from
/proc/<pid>/stat for the server process and all its descendants (uvicorn's workers). The
load generator and the model stub are separate processes and are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import Connection, RapportClient
from bench.common import (
    PG_ADMIN_URL,
    ROOT,
    RssSampler,
    Server,
    cpu_seconds,
    drop_pg_database,
    fmt,
    fresh_pg_database,
    markdown_table,
    median,
    percentile,
    process_tree,
    raise_fd_limit,
    rss_bytes,
    sqlite_url,
    start_rapport,
    start_relay,
    start_stub,
    write_result,
)

SERVERS = ("relay", "sqlite-1", "sqlite-2", "pg-1", "pg-2")


def count_tokens(data: str) -> int:
    """Stub tokens in a ``token`` event: one word each, however many an event carries."""
    return len(json.loads(data)["text"].split())


@dataclass
class Round:
    server: str
    concurrency: int
    turns: int = 0
    errors: int = 0
    tokens: int = 0
    ttft: list[float] = field(default_factory=list)
    cpu_ms_per_turn: float = float("nan")
    wall: float = 0.0
    rss_per_interview_kb: float = float("nan")
    peak_rss_mb: float = float("nan")
    client_cpu_share: float = float("nan")
    first_errors: list[str] = field(default_factory=list)

    def error(self, exc: BaseException) -> None:
        self.errors += 1
        if len(self.first_errors) < 3:
            self.first_errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")


class RelayUser:
    """One relay conversation over one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.conn = Connection(port)

    async def ready(self) -> None:
        await self.conn._open()

    async def stream(self, result: Round) -> None:
        start = time.perf_counter()
        first = None
        async for event in self.conn.events("/relay", {"text": "Tell me about you."}):
            if event.name == "token":
                result.tokens += count_tokens(event.data)
                if first is None:
                    first = event.at
        result.ttft.append(((first or time.perf_counter()) - start) * 1000)

    async def close(self) -> None:
        await self.conn.close()


class RapportUser:
    """One Rapport interview; a failed turn starts a fresh interview for the next one."""

    def __init__(self, port: int, persona: str, turns_per_interview: int) -> None:
        self.client = RapportClient(port, persona, turns_per_interview=turns_per_interview)

    async def ready(self) -> None:
        await self.client.ready()

    async def stream(self, result: Round) -> None:
        start = time.perf_counter()
        first = None
        try:
            async for event in self.client.turn():
                if event.name == "token":
                    result.tokens += count_tokens(event.data)
                    if first is None:
                        first = event.at
        except BaseException:
            self.client.interview = None
            await self.client.conn.close()
            raise
        result.ttft.append(((first or time.perf_counter()) - start) * 1000)

    async def close(self) -> None:
        await self.client.close()


User = RelayUser | RapportUser


async def one_round(name: str, server: Server, concurrency: int,
                    args: argparse.Namespace) -> Round:
    result = Round(name, concurrency)
    users: list[User] = [
        RelayUser(server.port) if name.startswith("relay")
        else RapportUser(server.port, args.persona, args.turns_per_interview)
        for _ in range(concurrency)
    ]
    pids = process_tree(server.proc.pid)
    rss_before = rss_bytes(pids)
    setup = asyncio.Semaphore(32)

    async def prepare(user: User) -> None:
        async with setup:
            await user.ready()

    await asyncio.gather(*(prepare(user) for user in users))

    async def converse(user: User, delay: float) -> None:
        await asyncio.sleep(delay)
        for _ in range(args.turns):
            try:
                await asyncio.wait_for(user.stream(result), args.turn_timeout)
                result.turns += 1
            except Exception as exc:
                result.error(exc)

    client_cpu = time.process_time()
    cpu_before = cpu_seconds(pids)
    started = time.perf_counter()
    with RssSampler(pids) as sampler:
        await asyncio.gather(*(converse(user, random.uniform(0, args.ramp)) for user in users))
    result.wall = time.perf_counter() - started
    cpu = cpu_seconds(pids) - cpu_before
    result.client_cpu_share = (time.process_time() - client_cpu) / result.wall
    result.cpu_ms_per_turn = cpu * 1000 / max(1, result.turns)
    result.peak_rss_mb = sampler.peak / 2**20
    result.rss_per_interview_kb = max(0, sampler.peak - rss_before) / 1024 / concurrency
    await asyncio.gather(*(user.close() for user in users))
    return result


def start_servers(args: argparse.Namespace, work: Path) -> tuple[Server, dict[str, Server],
                                                                   list[str]]:
    stub = start_stub(work, tokens=args.tokens, gap_ms=args.gap_ms)
    servers: dict[str, Server] = {}
    databases: list[str] = []
    try:
        for name in args.servers:
            if name.startswith("relay"):
                workers = int(name.split("-")[1]) if "-" in name else 1
                servers[name] = start_relay(work, stub, workers=workers, name=name)
                continue
            # "sqlite-1@/path/to/checkout" serves another checkout's app, to compare.
            spec, _, root = name.partition("@")
            kind, workers = spec.split("-")
            if kind == "sqlite":
                url = sqlite_url(work, f"rapport-{len(servers)}")
            else:
                database = f"rapport_bench_{uuid.uuid4().hex[:10]}"
                url = fresh_pg_database(args.pg_admin_url, database)
                databases.append(database)
            servers[name] = start_rapport(work, stub, url, workers=int(workers),
                                          name=f"rapport-{len(servers)}",
                                          root=Path(root) if root else ROOT)
    except BaseException:
        for server in servers.values():
            server.stop()
        stub.stop()
        for database in databases:
            drop_pg_database(args.pg_admin_url, database)
        raise
    return stub, servers, databases


def summarize(rounds: list[Round], servers: list[str], levels: list[int]) -> str:
    rows = []
    for level in levels:
        relay_cpu = median([r.cpu_ms_per_turn for r in rounds
                            if r.server == "relay" and r.concurrency == level])
        for name in servers:
            mine = [r for r in rounds if r.server == name and r.concurrency == level]
            if not mine:
                continue
            cpu = median([r.cpu_ms_per_turn for r in mine])
            ttft = [t for r in mine for t in r.ttft]
            spec, _, root = name.partition("@")
            shown = f"{spec} @{Path(root).name}" if root else name
            rows.append([
                str(level), shown, fmt(cpu), fmt(cpu / relay_cpu, 2) if relay_cpu else "–",
                str(sum(r.errors for r in mine)), str(sum(r.turns for r in mine)),
                fmt(percentile(ttft, 50), 0), fmt(percentile(ttft, 99), 0),
                fmt(median([r.tokens / r.wall for r in mine]), 0),
                fmt(median([r.rss_per_interview_kb for r in mine]), 0),
                fmt(median([r.peak_rss_mb for r in mine]), 0),
                fmt(median([r.client_cpu_share for r in mine]) * 100, 0),
            ])
    return markdown_table(
        ["concurrent", "server", "CPU ms/turn", "× relay", "errors", "turns", "TTFT p50 ms",
         "TTFT p99 ms", "tokens/s", "RSS KiB/interview", "peak RSS MiB", "load gen CPU %"],
        rows,
    )


async def run(args: argparse.Namespace) -> list[Round]:
    raise_fd_limit()
    work = Path(tempfile.mkdtemp(prefix="rapport-load-"))
    stub, servers, databases = start_servers(args, work)
    rounds: list[Round] = []
    try:
        names = list(servers)
        for level in args.concurrency:
            for index in range(args.rounds):
                shift = index % len(names)
                for name in names[shift:] + names[:shift]:
                    result = await one_round(name, servers[name], level, args)
                    rounds.append(result)
                    print(f"{level:4d} {name:12s} round {index + 1}: "
                          f"{result.cpu_ms_per_turn:6.1f} ms CPU/turn, {result.turns} turns, "
                          f"{result.errors} errors, wall {result.wall:5.1f} s, TTFT p50 "
                          f"{percentile(result.ttft, 50):.0f} ms"
                          + (f"  {result.first_errors}" if result.first_errors else ""),
                          flush=True)
                    await asyncio.sleep(args.settle)
    finally:
        for server in servers.values():
            server.stop()
        stub.stop()
        for database in databases:
            drop_pg_database(args.pg_admin_url, database)
    table = summarize(rounds, list(servers), args.concurrency)
    print(table)
    notes = (
        f"Median of {args.rounds} rounds per cell; each round: every interview streams "
        f"{args.turns} turns back to back (starts spread over {args.ramp:g} s); stub "
        f"{args.tokens} tokens at {args.gap_ms:g} ms; judge off. CPU is the server's "
        "processes' user+system time over the round ÷ streamed turns. `sqlite-2` = SQLite "
        "with 2 workers, `pg-1` = PostgreSQL with 1 worker. Wall-clock figures (TTFT, "
        "tokens/s) are reported, not targeted: the load generator, the stub and the server "
        "share the cores.\n\n"
    )
    write_result(Path(args.out), "Cost under load", notes + table)
    return rounds


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--concurrency", default="50,200,500",
                   type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--servers", default=",".join(SERVERS), type=lambda s: s.split(","),
                   help=f"any of {', '.join(SERVERS)}, relay-2; NAME@DIR serves the "
                   "checkout in DIR (to compare a change)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--turns", type=int, default=2, help="turns each interview streams a round")
    p.add_argument("--turns-per-interview", type=int, default=6)
    p.add_argument("--ramp", type=float, default=1.0, help="seconds over which clients start")
    p.add_argument("--turn-timeout", type=float, default=300.0)
    p.add_argument("--settle", type=float, default=1.0, help="idle seconds between rounds")
    p.add_argument("--tokens", type=int, default=40)
    p.add_argument("--gap-ms", type=float, default=15.0)
    p.add_argument("--persona", default="maya-startup-eng-manager")
    p.add_argument("--pg-admin-url", default=os.environ.get("BENCH_PG_URL", PG_ADMIN_URL))
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.md"))
    return p


def main() -> None:
    args = parser().parse_args()
    for name in args.servers:
        if name.partition("@")[0] not in (*SERVERS, "relay-2"):
            raise SystemExit(f"--servers: unknown server '{name}'; choose from "
                             f"{', '.join(SERVERS)}, relay-2")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
