"""Benchmark ``generate_world``: wall time, records per second and peak memory.

Usage: ``python benchmarks/generate.py [--people 1000000] [--workers 2] [--repeats 1]``.
Each repeat runs in a fresh child process so that its peak resident memory (the maximum of
the child and its worker processes, from ``resource.getrusage``) is measured on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

_CHILD = """
import json, sys, resource
from pathlib import Path
import logging; logging.basicConfig(level=logging.INFO)
from synthetic_data import WorldConfig, generate_world
people, workers, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
summary = generate_world(WorldConfig(workers=workers), people=people, seed=seed, out_dir=Path(out))
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
summary["peak_rss_mb"] = max(own, kids) / 1024
print(json.dumps(summary))
"""


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * resource.getpagesize()
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree) / 2**20


def run_once(people: int, workers: int, seed: int) -> dict:
    """Generate one world in a child process and return its summary with timings.

    A sampling thread sums the resident memory of the child and its worker processes every
    0.2 s, so the peak covers workers running at the same time.
    """
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(people), str(workers), str(seed), out],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        peak = [0.0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _tree_rss_mb(child.pid))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, stderr = child.communicate()
        done.set()
        sampler.join()
        wall = time.perf_counter() - started
        if child.returncode != 0:
            sys.exit(f"generation failed:\n{stderr}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    summary["wall_seconds"] = wall
    summary["tree_peak_rss_mb"] = peak[0]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20110327)
    args = parser.parse_args()

    runs = [run_once(args.people, args.workers, args.seed) for _ in range(args.repeats)]
    wall = statistics.median(r["wall_seconds"] for r in runs)
    inner = statistics.median(r["seconds"] for r in runs)
    peak = max(r["peak_rss_mb"] for r in runs)
    tree_peak = max(r["tree_peak_rss_mb"] for r in runs)
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (cpu.ru_utime + cpu.ru_stime) / len(runs)
    records = sum(runs[0]["records"].values())
    truth = sum(runs[0]["truth_rows"].values())
    print(f"people:              {args.people:,}")
    print(f"workers:             {args.workers}")
    print(f"repeats:             {args.repeats} (median shown)")
    print(f"wall time:           {wall:.1f} s (process start to exit)")
    print(f"generate_world:      {inner:.1f} s")
    print(f"source records:      {records:,}  ({records / wall:,.0f} records/s)")
    print(f"truth rows:          {truth:,}")
    print(f"CPU time:            {cpu_seconds:.1f} s per run (all processes, user + system)")
    print(f"peak resident:       {tree_peak:,.0f} MB (all processes together, sampled)")
    print(f"largest process:     {peak:,.0f} MB (getrusage maxrss)")
    for name, rows in runs[0]["records"].items():
        print(f"  {name:<20} {rows:>12,}")
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.1f} (other work on the machine slows this)")


if __name__ == "__main__":
    main()
