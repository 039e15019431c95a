"""Time the analysis stage (``analysis.analyse_run``) on a large run folder.

Usage::

    .venv/bin/python benchmarks/analyse.py                    # 1,000,000 people, 3 repeats
    .venv/bin/python benchmarks/analyse.py --people 200000 --repeats 1
    .venv/bin/python benchmarks/analyse.py --run-dir outputs/<run>   # an existing linked run

Without ``--run-dir`` it generates a world with ``synthetic_data.generate_world`` (not
timed) and analyses it with four spines derived from the truth (see ``build_world``): linked,
truth and three thresholds, as the Prefect flow would. Figures go to stdout; see
``benchmarks/README_analyse.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from analysis import AnalysisConfig, analyse_run
from synthetic_data import WorldConfig, generate_world


def build_world(run_dir: Path, people: int, seed: int = 20110327) -> None:
    """Generate a world with the project's generator and write the spines to analyse.

    The linked spine is the true one with 3% of GP and DWP records left unlinked (each its
    own cluster); three more, with 1%, 3% and 8% unlinked, stand for re-clustering at match
    thresholds. Only sizes matter for speed.
    """
    generate_world(WorldConfig(), people=people, seed=seed, out_dir=run_dir)
    record_map = pl.read_parquet(run_dir / "truth" / "record_map.parquet")
    rng = np.random.default_rng(seed)
    (run_dir / "linkage").mkdir(exist_ok=True)
    spines = (("spine", 0.03), ("spine_0.5", 0.01), ("spine_0.9", 0.03), ("spine_0.99", 0.08))
    for name, missed in spines:
        unlinked = pl.Series(rng.random(record_map.height) < missed) & (
            record_map["source"] != "census"
        )
        spine = record_map.with_columns(
            pl.when(unlinked)
            .then(pl.lit("U") + pl.col("record_id"))
            .otherwise(pl.col("person_id"))
            .alias("person_id"),
            pl.lit(1.0).alias("match_probability"),
        )
        spine.write_parquet(run_dir / "linkage" / f"{name}.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run-dir", type=Path, default=None, help="analyse this run folder")
    parser.add_argument("--keep", type=Path, default=None, help="generate the world here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run_dir
        thresholds: dict[float, Path] = {}
        if run_dir is None:
            run_dir = args.keep or Path(tmp) / "run"
            started = time.perf_counter()
            build_world(run_dir, args.people)
            print(f"world: {args.people:,} people written in {time.perf_counter() - started:.1f} s")
            thresholds = {t: run_dir / "linkage" / f"spine_{t}.parquet" for t in (0.5, 0.9, 0.99)}
        elif (run_dir / "linkage" / "spine_0.5.parquet").is_file():
            thresholds = {t: run_dir / "linkage" / f"spine_{t}.parquet" for t in (0.5, 0.9, 0.99)}
        seconds = []
        for repeat in range(args.repeats):
            out = Path(tmp) / f"analysis_{repeat}"
            started, cpu = time.perf_counter(), time.process_time()
            summary = analyse_run(run_dir, out, AnalysisConfig(), threshold_spines=thresholds)
            seconds.append(time.perf_counter() - started)
            print(
                f"run {repeat + 1}: {seconds[-1]:.1f} s wall, "
                f"{time.process_time() - cpu:.1f} s CPU (all threads), "
                f"{summary['people']:,} people, "
                f"{summary['person_months']:,} person-months, {len(summary['tables'])} tables"
            )
        print(f"median: {statistics.median(seconds):.1f} s over {len(seconds)} run(s)")
        print(f"date: {dt.date.today().isoformat()}, load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
