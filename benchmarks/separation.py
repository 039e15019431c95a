"""Time the separation step (``separation.stage.separate_linked_run``) on a linked run.

Usage::

    .venv/bin/python benchmarks/separation.py --run-dir /tmp/world1m     # 3 repeats
    .venv/bin/python benchmarks/separation.py --run-dir outputs/<run> --repeats 1

The run folder must be linked (``sources/``, ``linkage/spine.parquet``, ``records.parquet``
and ``predictions.parquet``, optionally ``truth/record_map.parquet``). It is never written
to: the files the step reads are copied into a temporary folder first (not timed). Each
measurement runs in its own process, so its peak resident memory is its own:

- ``pipeline``: the step as the pipeline runs it: input digests, the three sensitivity
  spines re-clustered from the saved accepted links (from the saved predictions when the
  run has none), keyed hashes of every id, the folder written and moved into place;
- ``no-thresholds``: the same without the sensitivity spines (pure separation);
- ``reuse``: ``triangulate analyse`` finding the folder current (digests only).

Figures go to stdout; see ``benchmarks/README_separation.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INPUTS = [
    "sources/census.parquet",
    "sources/gp_registrations.parquet",
    "sources/gp_conditions.parquet",
    "sources/dwp_benefit_spells.parquet",
    "linkage/spine.parquet",
    "linkage/records.parquet",
    "linkage/predictions.parquet",
    "linkage/accepted_links.parquet",
    "truth/record_map.parquet",
]
THRESHOLDS = (0.5, 0.9, 0.99)
MODES = ("pipeline", "no-thresholds", "reuse")


def copy_inputs(source: Path, target: Path) -> None:
    """Copy the files the separation reads, so the original run is never written to."""
    for name in INPUTS:
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, target / name)


def measure_once(run_dir: Path, mode: str) -> dict[str, float]:
    """One measurement in this process: wall and CPU seconds, peak resident memory."""
    from runcore.runs import RunFolder
    from separation.stage import separate_linked_run

    thresholds = () if mode == "no-thresholds" else THRESHOLDS
    folder = RunFolder.in_place(run_dir)
    started, cpu = time.perf_counter(), time.process_time()
    summary = separate_linked_run(folder, thresholds, demo=True, reuse=mode == "reuse")
    wall = time.perf_counter() - started
    assert summary["reused"] is (mode == "reuse"), summary
    return {
        "wall": wall,
        "cpu": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": summary["tables"]["linkage/spine"],
    }


def measure(run_dir: Path, mode: str) -> dict[str, float]:
    """One measurement in a fresh process."""
    result = subprocess.run(
        [sys.executable, __file__, "--measure-once", mode, "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="a linked run folder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--measure-once", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_once:
        print(json.dumps(measure_once(args.run_dir, args.measure_once)))
        return
    with tempfile.TemporaryDirectory(prefix="separation-bench-") as tmp:
        run_dir = Path(tmp) / "run"
        copy_inputs(args.run_dir, run_dir)
        for mode in args.modes:
            if mode == "reuse":  # the folder the last run wrote must be the pipeline's
                measure(run_dir, "pipeline")
            walls = []
            for repeat in range(args.repeats):
                figures = measure(run_dir, mode)
                walls.append(figures["wall"])
                print(
                    f"{mode} run {repeat + 1}: {figures['wall']:.1f} s wall, "
                    f"{figures['cpu']:.1f} s CPU, peak {figures['peak_mb']:,.0f} MB, "
                    f"{figures['rows']:,} spine rows, load average {os.getloadavg()[0]:.1f}"
                )
            print(f"{mode} median: {statistics.median(walls):.1f} s over {len(walls)} run(s)")
    print(f"date: {dt.date.today().isoformat()}, load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
