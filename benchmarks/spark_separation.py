"""The separation step on Spark against the Python process, on a world already linked by
``benchmarks/spark_driver.py`` (issue #18, item 1: separation as Spark jobs).

For the given world folder (``world-<people>-<seed>`` holding ``sources/``, ``truth/`` and
``linkage-spark/``), a run folder of links to those files is laid out in a temporary folder
and separated twice, each time in its own process: once in the Python process, once as
Spark jobs (``linkage.backend: spark``, ``local[2]``), both with the pipeline's three
sensitivity thresholds. Reported:

- wall time of each;
- peak memory of the Python process (for Spark: the driver's Python side) and of Spark's
  JVM (in ``local[N]`` mode the driver *and* the executors), sampled from ``/proc``;
- whether the two wrote the same analysis inputs (every table, row for row).

One JSON line per world is appended to ``benchmarks/results/spark_separation.jsonl``.

    .venv/bin/python benchmarks/spark_separation.py /tmp/spark-driver-x/world-1000000-9601
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.spark_driver import measured_process, record  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "spark_separation.jsonl"
THRESHOLDS = (0.5, 0.9, 0.99)
LINKAGE_FILES = (
    "spine.parquet",
    "records.parquet",
    "predictions.parquet",
    "accepted_links.parquet",
)


def _run_folder(world: Path, run: Path) -> None:
    """A run folder whose files are links to the world's sources, truth and Spark links."""
    (run / "linkage").mkdir(parents=True)
    for name in LINKAGE_FILES:
        (run / "linkage" / name).symlink_to(world / "linkage-spark" / name)
    (run / "sources").symlink_to(world / "sources")
    (run / "truth").symlink_to(world / "truth")


def _child(backend: str, run: str, driver_memory: str) -> None:
    from linkage import LinkageConfig
    from runcore.runs import RunFolder
    from separation.stage import separate_linked_run

    folder = RunFolder.in_place(Path(run))
    config = LinkageConfig(backend=backend, spark_driver_memory=driver_memory)
    separate_linked_run(folder, THRESHOLDS, demo=True, linkage=config)
    folder.analysis_inputs.rename(Path(run) / f"analysis_inputs-{backend}")


def _same_tables(first: Path, second: Path) -> tuple[bool, int]:
    """Whether two analysis-input folders hold the same tables, row for row; rows in all."""
    names = sorted(p.relative_to(first) for p in first.rglob("*.parquet"))
    if names != sorted(p.relative_to(second) for p in second.rglob("*.parquet")):
        return False, 0
    rows = 0
    for name in names:
        left, right = pl.read_parquet(first / name), pl.read_parquet(second / name)
        if not left.equals(right):
            return False, rows
        rows += left.height
    return True, rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("world", type=Path, help="a world folder linked by spark_driver.py")
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()
    world = args.world.resolve()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="spark-separation-") as tmp:
        run = Path(tmp) / "run"
        _run_folder(world, run)
        figures = {}
        # ``duckdb`` is the one-machine backend: separation then runs in the Python process.
        for backend, label in (("duckdb", "local"), ("spark", "spark")):
            command = [sys.executable, __file__, "--child", backend, str(run), args.driver_memory]
            figures[label] = measured_process(command, f"the {label} separation")
        same, rows = _same_tables(run / "analysis_inputs-duckdb", run / "analysis_inputs-spark")
        shutil.rmtree(run, ignore_errors=True)
    people = int(world.name.split("-")[1])
    row = {
        "people": people,
        "world": world.name,
        "driver_memory": args.driver_memory,
        "load_before": load_before,
        **{f"{b}_{k}": v for b, values in figures.items() for k, v in values.items()},
        "same_tables": same,
        "rows_compared": rows,
    }
    record(row, RESULTS)


if __name__ == "__main__":
    main()
