"""Run every benchmark and gather their tables into docs/benchmarks.md.

    python -m bench.run_all            # the full suite (about 20 minutes on 2 cores)
    python -m bench.run_all --quick    # fewer rounds and levels, a few minutes

Each script also runs alone (see bench/README.md) and writes its table to bench/results/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, machine_description

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"

INTRO = """# Benchmarks

What Rapport adds to the model's own speed, measured by the scripts in `bench/` (see
`bench/README.md` to run them). Every figure is compared, in the same run, with two
references: **the model direct** (a stub OpenAI-compatible server streaming a fixed reply
through the `openai` client) and **the bare relay** (`bench/relay.py`: FastAPI, the
`openai` client and SSE forwarding the stub's tokens, nothing else).

The load generator, the model stub and the server under test share the machine's cores, so
wall-clock figures (time to first token under load, tokens per second) swing between runs
and are reported, not targeted. Server CPU time per streamed turn, read from `/proc` for the
server's processes, is steady to about 10% and is the figure compared.

Targets, against the relay in the same run: one client, added time to first token within
3 ms of the relay's; at 200 concurrent interviews with the judge off, server CPU per streamed
turn at most 1.5× the relay's and zero errors; at 500, zero errors; signals at most 1 ms per
turn; prompt tokens per turn flat once the transcript window fills.
"""


def steps(quick: bool) -> list[tuple[str, list[str]]]:
    if quick:
        return [
            ("prompt_cost", []),
            ("grading", ["--turns", "10", "--judge-turns", "6"]),
            ("overhead", ["--rounds", "60", "--warmup", "5"]),
            ("load", ["--concurrency", "50,200", "--rounds", "1", "--servers",
                      "relay,sqlite-1,pg-1"]),
        ]
    return [
        ("prompt_cost", []),
        ("grading", []),
        ("overhead", []),
        ("load", ["--concurrency", "50,200,500", "--rounds", "2"]),
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds and load levels")
    p.add_argument("--only", default="", help="comma-separated scripts to run")
    p.add_argument("--doc", default=str(DOC), help="where to write the gathered tables")
    p.add_argument("--collect", action="store_true",
                   help="run nothing; gather the tables already in bench/results")
    args = p.parse_args()
    only = {name for name in args.only.split(",") if name}
    failed = []
    for name, extra in steps(args.quick):
        if args.collect or (only and name not in only):
            continue
        print(f"\n=== bench.{name} {' '.join(extra)}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *extra], cwd=str(ROOT))
        print(f"=== bench.{name}: exit {code} after {time.monotonic() - started:.0f} s",
              flush=True)
        if code != 0:
            failed.append(name)
    sections = [
        (RESULTS / f"{name}.md").read_text()
        for name in ("overhead", "load", "grading", "prompt_cost")
        if (RESULTS / f"{name}.md").exists()
    ]
    doc = Path(args.doc)
    doc.parent.mkdir(parents=True, exist_ok=True)
    machine = f"Machine: {machine_description()}.\n"
    notes = RESULTS / "notes.md"  # optional, written by hand after a run: verdicts, changes
    extra = [notes.read_text()] if notes.exists() else []
    doc.write_text(INTRO + "\n" + machine + "\n" + "\n".join([*extra, *sections]))
    print(f"wrote {doc}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
