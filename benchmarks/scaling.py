"""The scaling curve: wall time and peak memory of each pipeline stage against world size.

Each stage runs in its own child process; a sampler in this process reads the resident
memory of the child and all its descendants (worker processes, Spark's JVM) from /proc
every quarter second, so the peak is that of the whole process tree. Results are appended
to a JSON-lines file; ``--fit`` prints the per-stage table and the growth exponents
(least squares of log time on log people). Figures are recorded in
benchmarks/README_scaling.md.

    .venv/bin/python benchmarks/scaling.py --people 10000 100000 1000000
    .venv/bin/python benchmarks/scaling.py --compare-backends --people 10000
    .venv/bin/python benchmarks/scaling.py --fit [--people 10000 100000 1000000 5000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "scaling.jsonl"
STAGES = ("generate", "validate-sources", "link", "evaluate", "analyse")
SEED = 20110327

_CHILD = r"""
import json, logging, sys, time
from pathlib import Path
logging.basicConfig(level=logging.WARNING)
stage, run_dir, people, backend = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
from runcore.config import load_config
config = load_config()
started = time.perf_counter()
if stage == "generate":
    from synthetic_data import generate_world
    out = generate_world(config.world, people=people, seed=int(sys.argv[5]), out_dir=run_dir)
elif stage == "validate-sources":
    from expectations import validate_sources
    out = validate_sources(run_dir / "sources", run_dir / "validation", config, people=people)
elif stage == "link":
    from linkage import link_sources
    linkage = config.linkage.model_copy(update={"backend": backend, "charts": False})
    out = link_sources(run_dir / "sources", run_dir / f"linkage-{backend}", linkage)
elif stage == "evaluate":
    from evaluation.linkage import evaluate_linkage
    out = evaluate_linkage(run_dir / f"linkage-{backend}", run_dir / "truth")
elif stage == "analyse":
    import shutil
    from analysis import analyse_run
    linkage_dir = run_dir / "linkage"
    if linkage_dir.exists():
        shutil.rmtree(linkage_dir)
    shutil.copytree(run_dir / f"linkage-{backend}", linkage_dir)
    # As the pipeline does it: pseudonymise into analysis_inputs/, then analyse only that.
    from runcore.runs import RunFolder
    from separation.stage import separate_linked_run
    folder, thresholds = RunFolder.in_place(run_dir), config.analysis.thresholds
    separate_linked_run(folder, thresholds, demo=True)
    out = analyse_run(folder.analysis_inputs, folder.analysis, config.analysis,
                      threshold_spines=folder.threshold_spines(thresholds))
print("RESULT " + json.dumps({"seconds": time.perf_counter() - started, "summary": out},
                             default=str))
"""


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_stage(stage: str, run_dir: Path, people: int, backend: str) -> dict[str, Any]:
    """Run one stage in a child process; return its wall time, peak tree RSS and summary."""
    command = [sys.executable, "-c", _CHILD, stage, str(run_dir), str(people), backend, str(SEED)]
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = [0]

    def sample() -> None:
        while child.poll() is None:
            peak[0] = max(peak[0], _tree_rss(child.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    sampler.join()
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"stage {stage} failed at {people} people:\n{stderr[-4000:]}")
    result = json.loads(stdout.split("RESULT ", 1)[1])
    return {
        "stage": stage,
        "people": people,
        "backend": backend,
        "wall_seconds": round(wall, 2),
        "stage_seconds": round(result["seconds"], 2),
        "peak_rss_gb": round(peak[0] / 1024**3, 3),
        # The machine may be shared: the load average says how much the figures suffered.
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "summary": result["summary"],
    }


def _record(row: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(json.dumps({**row, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        f.write("\n")
    print(
        f"{row['people']:>9,} {row['stage']:<17} {row['backend']:<6} "
        f"{row['wall_seconds']:>9.1f} s {row['peak_rss_gb']:>7.2f} GB",
        flush=True,
    )


def overall_f1(evaluation: dict[str, Any], linkage_dir: Path) -> float:
    """Pairwise F1 over every source pair (true, predicted and correct pairs summed)."""
    import polars as pl

    del evaluation  # the per-pair scores are in the table, with their counts
    table = pl.read_parquet(linkage_dir / "evaluation" / "pairwise.parquet")
    sums = table.select(pl.col("true_pairs", "predicted_pairs", "true_positive").sum()).row(0)
    true, predicted, correct = sums
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    return 2 * precision * recall / (precision + recall)


def scale(people_sizes: list[int], work: Path, stages: tuple[str, ...], backend: str) -> None:
    """Run the chosen stages at each size, largest last, one heavy job at a time."""
    for people in sorted(people_sizes):
        run_dir = work / f"world-{people}"
        for stage in stages:
            if stage == "generate" and (run_dir / "truth" / "record_map.parquet").exists():
                continue  # worlds are reused: generation is measured once per size
            row = run_stage(stage, run_dir, people, backend)
            if stage == "evaluate":
                row["f1"] = overall_f1(row["summary"], run_dir / f"linkage-{backend}")
            _record(row)


def compare_backends(people: int, work: Path) -> None:
    """Link one world with DuckDB and with Spark; print the F1 and time of each."""
    run_dir = work / f"world-{people}"
    if not (run_dir / "truth" / "record_map.parquet").exists():
        _record(run_stage("generate", run_dir, people, "duckdb"))
    for backend in ("duckdb", "spark"):
        link = run_stage("link", run_dir, people, backend)
        link["stage"] = "link-compare"
        _record(link)
        evaluation = run_stage("evaluate", run_dir, people, backend)
        f1 = overall_f1(evaluation["summary"], run_dir / f"linkage-{backend}")
        evaluation.update(stage="evaluate-compare", f1=f1)
        _record(evaluation)
        print(f"  {backend}: F1 {100 * f1:.3f}%  link {link['wall_seconds']:.1f} s", flush=True)


def fit(
    path: Path = RESULTS, key: str = "wall_seconds", sizes: list[int] | None = None
) -> dict[str, Any]:
    """Print each stage's time and memory by size and its growth exponent on log-log axes.

    ``key`` is ``wall_seconds`` (the child process from start to exit, interpreter start
    and imports included) or ``stage_seconds`` (the stage function alone). Exponents are
    fitted over every size, and between the two largest sizes (the marginal exponent,
    least affected by fixed start-up costs).
    """
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["backend"] == "duckdb" and r["stage"] in STAGES]
    if sizes:
        rows = [r for r in rows if r["people"] in sizes]
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        latest[(row["stage"], row["people"])] = row
    sizes = sorted({p for _, p in latest})
    print(f"\n{key} / peak RSS of the process tree")
    header = f"{'stage':<17}" + "".join(f"{p:>16,}" for p in sizes)
    print(header + "  exponent  marginal")
    exponents: dict[str, Any] = {}
    totals: dict[int, float] = {}
    for stage in STAGES:
        points = [(p, latest[(stage, p)]) for p in sizes if (stage, p) in latest]
        if not points:
            continue
        cells = {p: f"{r[key]:.1f}s/{r['peak_rss_gb']:.1f}GB" for p, r in points}
        for p, r in points:
            totals[p] = totals.get(p, 0.0) + r[key]
        xs, ys = [p for p, _ in points], [r[key] for _, r in points]
        exponents[stage] = (_slope(xs, ys), _slope(xs[-2:], ys[-2:]))
        print(
            f"{stage:<17}"
            + "".join(f"{cells.get(p, '-'):>16}" for p in sizes)
            + f"{exponents[stage][0]:>10.2f}{exponents[stage][1]:>10.2f}"
        )
    complete = [p for p in sizes if all((s, p) in latest for s in STAGES)]
    if len(complete) >= 2:
        ys = [totals[p] for p in complete]
        exponents["pipeline"] = (_slope(complete, ys), _slope(complete[-2:], ys[-2:]))
        print(
            f"{'whole pipeline':<17}"
            + "".join(f"{totals[p]:>15.1f}s" for p in complete)
            + f"{exponents['pipeline'][0]:>10.2f}{exponents['pipeline'][1]:>10.2f}"
        )
    largest = max(sizes)
    for target in (5_000_000, 56_000_000):
        projected = {
            stage: latest[(stage, largest)][key] * (target / largest) ** exponents[stage][1]
            for stage in STAGES
            if (stage, largest) in latest and stage in exponents
        }
        cells = ", ".join(f"{stage} {seconds / 3600:.2f} h" for stage, seconds in projected.items())
        print(f"projected at {target:,} (marginal exponents from {largest:,}): {cells}")
    return exponents


def _slope(people: list[int], seconds: list[float]) -> float:
    if len(people) < 2:
        return float("nan")
    return float(np.polyfit(np.log(people), np.log(seconds), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--people",
        type=int,
        nargs="+",
        help="world sizes (default 10000 100000 1000000; with --fit, every size measured)",
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/triangulate-scaling"))
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    parser.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")
    parser.add_argument("--compare-backends", action="store_true")
    parser.add_argument("--fit", action="store_true", help="only print the fitted curve")
    args = parser.parse_args()
    if args.fit:
        fit(key="wall_seconds", sizes=args.people)
        fit(key="stage_seconds", sizes=args.people)
        return
    people_sizes = args.people or [10_000, 100_000, 1_000_000]
    if args.compare_backends:
        for people in people_sizes:
            compare_backends(people, args.work)
        return
    scale(people_sizes, args.work, tuple(args.stages), args.backend)
    fit()


if __name__ == "__main__":
    main()
