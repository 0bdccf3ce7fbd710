"""Shared benchmark plumbing: processes, /proc CPU and memory, statistics and tables."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
HOST = "127.0.0.1"


# -- processes ---------------------------------------------------------------------------


def raise_fd_limit(wanted: int = 65536) -> int:
    """Lift the soft open-files limit towards ``wanted``; children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return max(soft, target)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:g} s")


@dataclass
class Server:
    """A process under test, with the log it writes and the port it serves."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    prefix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}{self.prefix}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_process(
    name: str, argv: Sequence[str], port: int, *, env: dict[str, str] | None = None,
    logdir: Path, prefix: str = "", cwd: Path | None = None, timeout: float = 60.0,
) -> Server:
    logdir.mkdir(parents=True, exist_ok=True)
    log = logdir / f"{name}.log"
    merged = {**os.environ, **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, env=merged,
                                cwd=str(cwd or ROOT), start_new_session=True)
    server = Server(name, port, proc, log, prefix)
    try:
        wait_for_port(port, proc, timeout)
    except RuntimeError as exc:
        server.stop()
        raise RuntimeError(f"{name}: {exc}; see {log}:\n{log.read_text()[-2000:]}") from exc
    return server


def start_stub(logdir: Path, *, tokens: int, gap_ms: float, port: int | None = None,
               json_reply: str | None = None) -> Server:
    port = port or free_port()
    argv = [sys.executable, "-m", "bench.stub", "--port", str(port), "--tokens", str(tokens),
            "--gap-ms", str(gap_ms)]
    if json_reply:
        argv += ["--json-reply", json_reply]
    return start_process("stub", argv, port, logdir=logdir, prefix="/v1")


def start_relay(logdir: Path, stub: Server, *, workers: int = 1, name: str = "relay") -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.relay:app", "--host", HOST, "--port",
            str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    env = {"OPENAI_BASE_URL": stub.base, "OPENAI_API_KEY": "x"}
    return start_process(name, argv, port, env=env, logdir=logdir)


# -- /proc ---------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name sits in parentheses and may contain spaces.
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """``root`` and every live descendant (uvicorn's workers, multiprocessing helpers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time of these processes, including reaped children's."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # utime, stime, cutime, cstime are fields 14-17 of stat (11-14 after the name).
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLOCK_TICKS


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    return total


class RssSampler:
    """Samples the tree's RSS while a round runs and keeps the peak."""

    def __init__(self, pids: Sequence[int], interval: float = 0.1) -> None:
        self.pids = list(pids)
        self.interval = interval
        self.peak = rss_bytes(self.pids)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes(self.pids))
            await asyncio.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.peak = max(self.peak, rss_bytes(self.pids))


# -- statistics and tables (the SSE client is in bench/client.py) --------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value: float | int | str | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value != value:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine_description() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return (f"{os.cpu_count()} cores ({cpu}){mem}, Linux {os.uname().release}, "
            f"Python {sys.version.split()[0]}")


def write_result(path: Path, title: str, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    path.write_text(f"## {title}\n\n_{stamp} · {machine_description()}_\n\n{body}")
    print(f"wrote {path}")


@contextlib.contextmanager
def cleanup(*servers: Server) -> Iterator[list[Server]]:
    started = list(servers)
    try:
        yield started
    finally:
        for server in reversed(started):
            server.stop()


# -- Rapport -------------------------------------------------------------------------------

ANSWERS = [
    "I got into logistics by accident: I fixed a routing bug at a food delivery startup and "
    "stayed because the problems were so concrete.",
    "The project I loved most cut failed deliveries by 18% by re-planning routes every five "
    "minutes instead of every hour.",
    "When we disagreed about the rollout I wrote down both plans, ran a one-week pilot and let "
    "the numbers decide; my plan lost and that was fine.",
    "I would start with the on-call pain: which alerts wake people up, and which of them "
    "nobody acts on. Then I would fix the top three.",
    "What would the routing service need to look like a year from now for you to call the hire "
    "a success?",
    "Outside work I coach a junior robotics team, which taught me to explain queues to "
    "twelve-year-olds.",
]


def rapport_env(stub: Server, database_url: str, *, judge: bool) -> dict[str, str]:
    env = {
        "RAPPORT_LLM": "openai",
        "OPENAI_BASE_URL": stub.base,
        "OPENAI_API_KEY": "x",
        "RAPPORT_MODEL": "stub",
        "RAPPORT_DATABASE_URL": database_url,
        "RAPPORT_LOG_LEVEL": "warning",
    }
    env["RAPPORT_JUDGE_MODEL"] = "stub" if judge else "off"
    return env


def start_rapport(logdir: Path, stub: Server, database_url: str, *, workers: int = 1,
                  judge: bool = False, name: str = "rapport", root: Path = ROOT) -> Server:
    """A real ``rapport serve`` process against the stub, its schema migrated first.

    ``root`` is the checkout whose ``app`` package runs (another worktree, to compare).
    """
    env = rapport_env(stub, database_url, judge=judge)
    upgrade = subprocess.run([*RAPPORT, "db", "upgrade"], cwd=str(root),
                             env={**os.environ, **env}, capture_output=True, text=True)
    if upgrade.returncode != 0:
        raise RuntimeError(f"rapport db upgrade failed:\n{upgrade.stdout}\n{upgrade.stderr}")
    port = free_port()
    argv = [*RAPPORT, "serve", "--host", HOST, "--port", str(port),
            "--workers", str(workers)]
    server = start_process(name, argv, port, env=env, logdir=logdir, cwd=root)
    server.extra["database_url"] = database_url
    return server


def sqlite_url(folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


# ``rapport``, run with this interpreter so a venv need not be activated; ``-c`` puts the
# working directory first on the path, so the checkout it runs in is the one served.
RAPPORT = [sys.executable, "-c", "from app.cli import main; main()"]
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def fresh_pg_database(admin_url: str, name: str) -> str:
    """Create an empty database ``name`` next to ``admin_url``'s and return its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_pg_database(admin_url: str, name: str) -> None:
    import psycopg

    with contextlib.suppress(Exception), psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
