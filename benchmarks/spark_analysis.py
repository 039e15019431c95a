"""The analysis counted in parts, in the Python process and on Spark, against the whole
population at once, on a world already linked by ``benchmarks/spark_driver.py`` (issue #18,
item 1: the analysis aggregations on the engine).

For the given world folder (``world-<people>-<seed>`` holding ``sources/``, ``truth/`` and
``linkage-spark/``), a run folder of links to those files is laid out in a temporary
folder, the pipeline's three sensitivity spines are re-clustered once (not timed), and the
analysis (``analysis.analyse_run``: every estimate, disclosure control and the publication)
runs three times, each in its own process:

- ``whole``: the population built and counted at once (one part: the analysis before it
  was counted in parts);
- ``parts``: in this process, ``--people-per-part`` census records at a time;
- ``spark``: on Spark (``local[2]``), the parts built and counted by the executors.

Reported: wall time, the peak memory of the Python process and of Spark's JVM (sampled from
``/proc``), and whether the three published the same tables (every CSV, cell for cell).
One JSON line per world is appended to ``benchmarks/results/spark_analysis.jsonl``.

    .venv/bin/python benchmarks/spark_analysis.py /tmp/spark-driver-x/world-1000000-9601
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.spark_driver import measured_process, record  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "spark_analysis.jsonl"
THRESHOLDS = (0.5, 0.9, 0.99)
MODES = ("whole", "parts", "spark")


def _run_folder(world: Path, run: Path) -> dict[float, Path]:
    """A run folder of links to the world's files, and its threshold spines' files."""
    from linkage import spines_at_thresholds

    (run / "linkage").mkdir(parents=True)
    (run / "linkage" / "spine.parquet").symlink_to(world / "linkage-spark" / "spine.parquet")
    (run / "sources").symlink_to(world / "sources")
    (run / "truth").symlink_to(world / "truth")
    spines = {}
    for threshold, spine in spines_at_thresholds(world / "linkage-spark", list(THRESHOLDS)).items():
        spines[threshold] = run / f"spine_{threshold:g}.parquet"
        spine.write_parquet(spines[threshold])
    return spines


def _child(mode: str, run: str, people_per_part: str, driver_memory: str) -> None:
    from analysis import AnalysisConfig, analyse_run
    from linkage import LinkageConfig

    folder = Path(run)
    parts = {"whole": 10**12, "parts": int(people_per_part), "spark": 1_000_000}[mode]
    linkage = LinkageConfig(
        backend="spark" if mode == "spark" else "duckdb", spark_driver_memory=driver_memory
    )
    spines = {t: folder / f"spine_{t:g}.parquet" for t in THRESHOLDS}
    analyse_run(
        folder,
        folder / f"analysis-{mode}",
        AnalysisConfig(people_per_part=parts),
        threshold_spines=spines,
        linkage=linkage,
    )


def _same_tables(first: Path, second: Path) -> bool:
    """Whether two publications hold the same CSV tables, byte for byte."""
    names = sorted(p.relative_to(first) for p in first.rglob("*.csv"))
    if not names or names != sorted(p.relative_to(second) for p in second.rglob("*.csv")):
        return False
    return all((first / n).read_bytes() == (second / n).read_bytes() for n in names)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("world", type=Path, help="a world folder linked by spark_driver.py")
    parser.add_argument("--people-per-part", type=int, default=250_000)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    args = parser.parse_args()
    world = args.world.resolve()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="spark-analysis-") as tmp:
        run = Path(tmp) / "run"
        _run_folder(world, run)
        figures = {}
        for mode in args.modes:
            command = [
                sys.executable,
                __file__,
                "--child",
                mode,
                str(run),
                str(args.people_per_part),
                args.driver_memory,
            ]
            figures[mode] = measured_process(command, f"the {mode} analysis")
        published = {mode: run / f"analysis-{mode}" / "published" for mode in args.modes}
        same = {
            f"same_tables_{mode}": _same_tables(published[args.modes[0]], published[mode])
            for mode in args.modes[1:]
        }
    row = {
        "people": int(world.name.split("-")[1]),
        "world": world.name,
        "people_per_part": args.people_per_part,
        "driver_memory": args.driver_memory,
        "load_before": load_before,
        **{f"{m}_{k}": v for m, values in figures.items() for k, v in values.items()},
        **same,
    }
    record(row, RESULTS)


if __name__ == "__main__":
    main()
