"""Profile a server's streaming path under load with py-spy and print where the time goes.

    python -m bench.profile --server sqlite-1 --concurrency 50 --seconds 20

Needs ``py-spy`` (``pip install py-spy``). Writes a collapsed-stack file (for flame graph
tools) next to a summary of the hottest frames, both by own time and including callees.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import (
    ROOT,
    cpu_seconds,
    process_tree,
    raise_fd_limit,
    sqlite_url,
    start_rapport,
    start_relay,
    start_stub,
)
from bench.load import RapportUser, RelayUser, Round

# Frames of idle threads and the event loop's own wait, which py-spy may still sample.
IDLE = (
    "_worker (concurrent/futures/thread.py",
    "select (selectors.py",
    "Condition.wait (threading.py",
    "WorkerThread.run (anyio/_backends/_asyncio.py",
)


def summarize(collapsed: Path, top: int) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in IDLE):
            continue
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    lines = [f"{total} busy samples", "", "own time:"]
    lines += [f"{n * 100 / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "including callees:"]
    lines += [f"{n * 100 / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top * 2)]
    return "\n".join(lines)


async def drive(port: int, relay: bool, concurrency: int, seconds: float,
                persona: str) -> Round:
    result = Round("relay" if relay else "rapport", concurrency)
    deadline = time.monotonic() + seconds

    async def user_loop() -> None:
        user = RelayUser(port) if relay else RapportUser(port, persona, 6)
        try:
            while time.monotonic() < deadline:
                try:
                    await user.stream(result)
                    result.turns += 1
                except Exception as exc:
                    result.error(exc)
        finally:
            await user.close()

    await asyncio.gather(*(user_loop() for _ in range(concurrency)))
    return result


async def run(args: argparse.Namespace) -> None:
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    raise_fd_limit()
    work = Path(tempfile.mkdtemp(prefix="rapport-profile-"))
    stub = start_stub(work, tokens=args.tokens, gap_ms=args.gap_ms)
    relay = args.server.startswith("relay")
    try:
        if relay:
            server = start_relay(work, stub)
        else:
            workers = int(args.server.split("-")[1])
            server = start_rapport(work, stub, sqlite_url(work, "profile"), workers=workers)
        try:
            # Warm up first, so imports and first-call setup stay out of the profile.
            await drive(server.port, relay, 2, 2.0, args.persona)
            pids = process_tree(server.proc.pid)
            before = cpu_seconds(pids)
            out = Path(args.out)
            record = subprocess.Popen(  # noqa: ASYNC220 - started once, before the load
                [spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--format",
                 "raw", "--rate", str(args.rate), "--output", str(out), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            result = await drive(server.port, relay, args.concurrency, args.seconds,
                                 args.persona)
            cpu = cpu_seconds(pids) - before
            record.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
            _, err = record.communicate(timeout=120)
            if not out.exists():  # noqa: ASYNC240
                raise SystemExit(f"py-spy failed: {err.decode()[-500:]}")
        finally:
            server.stop()
    finally:
        stub.stop()
    print(f"{args.server}: {result.turns} turns, {result.errors} errors, "
          f"{cpu * 1000 / max(1, result.turns):.1f} ms CPU per turn (sampling inflates this)")
    print(summarize(out, args.top))
    print(f"\ncollapsed stacks: {out}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default="sqlite-1", help="relay, sqlite-1 or sqlite-2")
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--rate", type=int, default=250, help="samples per second")
    p.add_argument("--tokens", type=int, default=40)
    p.add_argument("--gap-ms", type=float, default=15.0)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--persona", default="maya-startup-eng-manager")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "profile.txt"))
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
