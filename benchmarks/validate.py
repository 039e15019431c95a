"""Benchmark: validate every source extract of a generated world with the source suites.

Usage::

    python benchmarks/validate.py [--people 1000000] [--world DIR] [--repeats 3]

Generates the world once (or reuses ``--world``), then times ``validate_sources`` (reading
the five Parquet files, cross-table preparation, every GX suite, reports) and prints the
median of the repeats with the time per suite. Target: at most 30 s at 1,000,000 people.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    from expectations import ValidationFailed, validate_sources
    from runcore.config import load_config
    from synthetic_data import generate_world

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20110327)
    parser.add_argument("--world", type=Path, help="An existing run folder to validate.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-noise", action="store_true", help="Generate the world without recording errors."
    )
    args = parser.parse_args()
    config = load_config(overrides={"world": {"noise": "no_noise"}} if args.no_noise else None)
    run = args.world
    if run is None:
        run = Path(tempfile.mkdtemp(prefix="validate-bench-"))
        started = time.perf_counter()
        generate_world(config.world, people=args.people, seed=args.seed, out_dir=run)
        print(f"generated {args.people:,} people in {time.perf_counter() - started:.1f} s")
    # Import GX and build its context once, as a pipeline process would.
    timings, cpu = [], []
    for _ in range(args.repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            validate_sources(run / "sources", run / "validation", config, people=args.people)
        except ValidationFailed as exc:
            print(f"note: critical failures in the data ({len(exc.failures)}): {exc.failures}")
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    rows = {p.stem: None for p in (run / "sources").glob("*.parquet")}
    for name in rows:
        record = json.loads((run / "validation" / "results" / f"{name}.json").read_text())
        extract = record["rows"].get("extract")
        print(
            f"  {name:<20} {extract:>10,} rows  {len(record['outcomes']):>3} expectations"
            f"  {record['seconds']:6.2f} s"
        )
    print(f"validate_sources wall times (s): {', '.join(f'{t:.2f}' for t in timings)}")
    print(f"validate_sources CPU times (s):  {', '.join(f'{t:.2f}' for t in cpu)}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"median: {statistics.median(timings):.2f} s for {args.people:,} people (target 30 s)")


if __name__ == "__main__":
    main()
