"""Benchmark the linkage: wall time, peak memory and accuracy, against a tutorial-style baseline.

For each world size it generates (or reuses) a synthetic world, then in separate processes
(so peak resident memory is measured per run) links it with our model and with a plain
Splink model in the style of Splink's tutorial, scores both against the truth and prints
one table. Figures are recorded in benchmarks/README_linkage.md.

    .venv/bin/python benchmarks/link.py --people 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASELINE_THRESHOLD = 0.9
"""Splink's tutorial clusters at match probability 0.9."""


def make_world(people: int, seed: int, work: Path, toy: bool) -> Path:
    """Generate the world once per size and seed; later runs reuse it."""
    run_dir = work / f"{'toy' if toy else 'world'}-{people}-{seed}"
    if (run_dir / "truth" / "record_map.parquet").exists():
        return run_dir
    if toy:
        sys.path.insert(0, str(ROOT / "tests" / "integration" / "linkage"))
        from small_world import write_small_world

        return write_small_world(run_dir, people=people, seed=seed)
    from runcore.config import load_config
    from synthetic_data import generate_world

    world = load_config().world
    generate_world(world, people=people, seed=seed, out_dir=run_dir)
    return run_dir


def _usage() -> dict[str, float]:
    """Peak resident memory and CPU seconds of this process (the machine may be shared, so
    CPU seconds show the work done whatever the wall time)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "peak_rss_gb": usage.ru_maxrss / 1024**2,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def _ours(run_dir: str, out_dir: str, queue: Any) -> None:
    from linkage import LinkageConfig, link_sources

    started = time.perf_counter()
    summary = link_sources(Path(run_dir) / "sources", Path(out_dir), LinkageConfig())
    queue.put(
        {
            "seconds": time.perf_counter() - started,
            "summary": summary,
            **_usage(),
        }
    )


def _baseline(run_dir: str, out_dir: str, queue: Any) -> None:
    """A plain Splink model as in Splink's tutorial: library comparisons, term frequencies
    from the inputs, u by sampling, two EM sessions, connected components at 0.9."""
    from splink import Linker, block_on

    from linkage import model
    from linkage.database import connect, splink_api
    from linkage.inputs import build_records, project_inputs

    started = time.perf_counter()
    records = build_records(project_inputs(Path(run_dir) / "sources"))
    con = connect()
    db_api = splink_api(con)
    table = db_api.register(records.to_arrow(), table_name="records")
    linker = Linker(table, model.baseline_settings_dict(), log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("forename", "surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("forename", "surname"), max_pairs=2e6
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), max_pairs=2e6
    )
    predictions = linker.inference.predict(threshold_match_probability=BASELINE_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, BASELINE_THRESHOLD
    )
    con.execute(
        f"COPY (SELECT r.source, r.record_id, 'B' || CAST(c.cluster_id AS VARCHAR) AS person_id, "
        f"1.0 AS match_probability FROM {clusters.physical_name} c "
        f"JOIN records r USING (unique_id)) TO '{out_dir}/spine.parquet' (FORMAT parquet)"
    )
    queue.put(
        {
            "seconds": time.perf_counter() - started,
            **_usage(),
        }
    )


def _in_process(target: Any, *args: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def _scores(spine_path: Path, truth: Path, records_path: Path) -> dict[str, float]:
    """Precision, recall and F1 over all true pairs, and over pairs of linkable records
    (without the census's wholly imputed records, which no model can link)."""
    from evaluation.linkage import pairwise_metrics

    excluded = (
        pl.read_parquet(records_path, columns=["source", "record_id", "linkable"])
        .filter(~pl.col("linkable"))
        .drop("linkable")
    )
    pairwise, _ = pairwise_metrics(
        pl.read_parquet(spine_path), pl.read_parquet(truth / "record_map.parquet"), None, excluded
    )
    out = {}
    for scope, label in (("all", ""), ("linkable", " (linkable)")):
        rows = pairwise.filter(pl.col("scope") == scope)
        by_pair = {r["source_pair"]: r for r in rows.iter_rows(named=True)}
        for pair in ("census-gp", "census-dwp"):
            out[f"{pair} precision{label}"] = by_pair[pair]["precision"]
            out[f"{pair} recall{label}"] = by_pair[pair]["recall"]
            out[f"{pair} F1{label}"] = by_pair[pair]["f1"]
        tp = rows.get_column("true_positive").sum()
        pred = rows.get_column("predicted_pairs").sum()
        true = rows.get_column("true_pairs").sum()
        out[f"all pairs F1{label}"] = 2 * tp / (pred + true)
    return out


def benchmark(people: int, seed: int, work: Path, toy: bool, baseline: bool) -> dict[str, Any]:
    """Link one world with our model (and the baseline) and return the figures."""
    from evaluation.linkage import evaluate_linkage

    run_dir = make_world(people, seed, work, toy)
    ours_dir = run_dir / "linkage"
    ours = _in_process(_ours, str(run_dir), str(ours_dir))
    evaluation = evaluate_linkage(ours_dir, run_dir / "truth")
    result = {
        "people": people,
        "records": ours["summary"]["records"],
        "ours_seconds": round(ours["seconds"], 1),
        "ours_peak_rss_gb": round(ours["peak_rss_gb"], 2),
        "ours_cpu_seconds": round(ours["cpu_seconds"], 1),
        "threshold": ours["summary"]["threshold"],
        "blocking_recall": evaluation["blocking_recall"],
        "ours": _scores(
            ours_dir / "spine.parquet", run_dir / "truth", ours_dir / "records.parquet"
        ),
    }
    if baseline:
        base_dir = run_dir / "baseline"
        base_dir.mkdir(exist_ok=True)
        base = _in_process(_baseline, str(run_dir), str(base_dir))
        result |= {
            "baseline_seconds": round(base["seconds"], 1),
            "baseline_peak_rss_gb": round(base["peak_rss_gb"], 2),
            "baseline_cpu_seconds": round(base["cpu_seconds"], 1),
            "baseline": _scores(
                base_dir / "spine.parquet", run_dir / "truth", ours_dir / "records.parquet"
            ),
        }
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"\n== {result['people']:,} people, {result['records']:,} records ==")
    print(
        f"ours:     {result['ours_seconds']:>7.1f} s wall, "
        f"{result['ours_cpu_seconds']:.0f} s CPU, peak RSS "
        f"{result['ours_peak_rss_gb']:.2f} GB, threshold {result['threshold']}, "
        f"blocking recall {result['blocking_recall']:.5f}"
    )
    if "baseline" in result:
        print(
            f"baseline: {result['baseline_seconds']:>7.1f} s wall, "
            f"{result['baseline_cpu_seconds']:.0f} s CPU, peak RSS "
            f"{result['baseline_peak_rss_gb']:.2f} GB"
        )
    print(f"{'metric':<34}{'ours':>10}{'baseline':>10}")
    for key, value in result["ours"].items():
        base = result.get("baseline", {}).get(key)
        base_text = f"{base:>10.5f}" if base is not None else f"{'-':>10}"
        print(f"{key:<34}{value:>10.5f}{base_text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=20110327)
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "benchmarks")
    parser.add_argument(
        "--toy-world",
        action="store_true",
        help="Use the tests' small world generator instead of synthetic_data.",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = []
    for people in args.people:
        result = benchmark(people, args.seed, args.work, args.toy_world, not args.no_baseline)
        _print(result)
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
