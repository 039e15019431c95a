"""Benchmark ``generate_world``: wall time, records per second and peak memory.

Usage: ``python benchmarks/generate.py [--people 1000000] [--workers 2] [--repeats 1]``.
Each repeat runs in a fresh child process so that its peak resident memory (the maximum of
the child and its worker processes, from ``resource.getrusage``) is measured on its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
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


def run_once(people: int, workers: int, seed: int) -> dict:
    """Generate one world in a child process and return its summary with timings."""
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as out:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", _CHILD, str(people), str(workers), str(seed), out],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            sys.exit(f"generation failed:\n{result.stderr}")
        wall = time.perf_counter() - started
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    summary["wall_seconds"] = wall
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
    records = sum(runs[0]["records"].values())
    truth = sum(runs[0]["truth_rows"].values())
    print(f"people:              {args.people:,}")
    print(f"workers:             {args.workers}")
    print(f"repeats:             {args.repeats} (median shown)")
    print(f"wall time:           {wall:.1f} s (process start to exit)")
    print(f"generate_world:      {inner:.1f} s")
    print(f"source records:      {records:,}  ({records / wall:,.0f} records/s)")
    print(f"truth rows:          {truth:,}")
    print(f"peak resident:       {peak:,.0f} MB (largest single process)")
    for name, rows in runs[0]["records"].items():
        print(f"  {name:<20} {rows:>12,}")
    own = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak of any child:   {own:,.0f} MB")


if __name__ == "__main__":
    main()
