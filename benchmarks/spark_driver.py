"""A whole Spark link against DuckDB's on one generated world: the driver's memory and the
spines' agreement (issue #18, item 2).

Generates a world, links it with ``linkage.backend: duckdb`` and then ``spark``, each in its
own process, and reports:

- wall time of each link;
- peak memory of the Python process (the driver's Python side: reading and standardising the
  inputs, then only small results) and, for Spark, of its JVM (in ``local[N]`` mode the JVM
  is the driver *and* the executors, so it holds the work a cluster would spread): each the
  high-water mark (``VmHWM``) read from ``/proc`` every half second;
- the record pairs the two spines put in one cluster, and the pairs in common;
- each spine's pairwise F1 against the world's truth (read after linking, to report only).

One JSON line per run is appended to ``benchmarks/results/spark_driver.jsonl``.

    .venv/bin/python benchmarks/spark_driver.py --people 100000 --seed 9601 --driver-memory 10g
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "spark_driver.jsonl"


def _status_kb(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` figure in kB (0 once the process has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def record(row: dict, path: Path) -> None:
    """Append one JSON line of results to ``path`` and print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
    print(json.dumps(row, indent=2))


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _is_java(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "java"
    except (FileNotFoundError, ProcessLookupError):
        return False


def measured_process(command: list[str], what: str) -> dict:
    """Run ``command`` in a child process, sampling its peak and its JVM's (if it starts
    one) every half second: ``seconds``, ``python_peak_gb``, ``jvm_peak_gb``."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT)
    python_peak = java_peak = 0
    while child.poll() is None:
        python_peak = max(python_peak, _status_kb(child.pid, "VmHWM"))
        for pid in _descendants(child.pid):
            if _is_java(pid):
                java_peak = max(java_peak, _status_kb(pid, "VmHWM"))
        time.sleep(0.5)
    if child.returncode:
        raise SystemExit(f"{what} failed (exit {child.returncode})")
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "python_peak_gb": round(python_peak / 1024**2, 2),
        "jvm_peak_gb": round(java_peak / 1024**2, 2) if java_peak else None,
    }


def _measured_link(backend: str, run: Path, out: Path, driver_memory: str) -> dict:
    """Link in a child process, sampling the peaks of it and its JVM."""
    command = [
        sys.executable,
        __file__,
        "--child",
        backend,
        str(run / "sources"),
        str(out),
        driver_memory,
    ]
    figures = measured_process(command, f"the {backend} link")
    summary = json.loads((out / "linkage_summary.json").read_text())
    return {
        **figures,
        "threshold": summary["threshold"],
        "timings": summary["timings_seconds"],
    }


def _child(backend: str, sources: str, out: str, driver_memory: str) -> None:
    from linkage import LinkageConfig, link_sources

    config = LinkageConfig(backend=backend, spark_driver_memory=driver_memory, charts=False)
    link_sources(Path(sources), Path(out), config)


def _pairs(spine_path: Path) -> pl.DataFrame:
    """Pairs of records (by source and record id) that share a person_id."""
    spine = pl.read_parquet(spine_path).select(
        (pl.col("source") + ":" + pl.col("record_id")).alias("r"), "person_id"
    )
    joined = spine.join(spine, on="person_id", suffix="_b").filter(pl.col("r") < pl.col("r_b"))
    return joined.select("r", "r_b")


def _f1(linkage_dir: Path, truth: Path) -> float:
    from evaluation.linkage import evaluate_linkage, overall_f1

    evaluate_linkage(linkage_dir, truth)
    return overall_f1(linkage_dir)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--seed", type=int, default=9601)
    parser.add_argument("--driver-memory", default="10g")
    parser.add_argument("--work", type=Path, default=None, help="keep the world and links here")
    args = parser.parse_args()

    from synthetic_data import WorldConfig, generate_world

    load_before = os.getloadavg()[0]
    work = args.work or Path(tempfile.mkdtemp(prefix="spark-driver-"))
    run = work / f"world-{args.people}-{args.seed}"
    if not (run / "sources").is_dir():
        generate_world(WorldConfig(), people=args.people, seed=args.seed, out_dir=run)
    links = {}
    for backend in ("duckdb", "spark"):
        links[backend] = _measured_link(
            backend, run, run / f"linkage-{backend}", args.driver_memory
        )
    duck, spark = (_pairs(run / f"linkage-{b}" / "spine.parquet") for b in ("duckdb", "spark"))
    common = duck.join(spark, on=["r", "r_b"]).height
    f1 = {b: _f1(run / f"linkage-{b}", run / "truth") for b in ("duckdb", "spark")}
    row = {
        "people": args.people,
        "seed": args.seed,
        "records": json.loads((run / "linkage-duckdb" / "linkage_summary.json").read_text())[
            "records"
        ],
        "driver_memory": args.driver_memory,
        "load_before": load_before,
        **{f"{b}_{k}": v for b, figures in links.items() for k, v in figures.items()},
        "pairs_duckdb": duck.height,
        "pairs_spark": spark.height,
        "pairs_common": common,
        "share_of_duckdb": round(common / max(duck.height, 1), 6),
        "share_of_spark": round(common / max(spark.height, 1), 6),
        "f1_duckdb": round(f1["duckdb"], 6),
        "f1_spark": round(f1["spark"], 6),
    }
    record(row, RESULTS)


if __name__ == "__main__":
    main()
