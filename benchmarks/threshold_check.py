"""Check the default threshold rule against the truth of worlds it has never seen.

The rule (``linkage.prediction.THRESHOLD_RULE``) chooses the threshold from the model's own
probabilities; this script only checks it. For each size and seed it generates a world,
links it with the default ``LinkageConfig`` (Splink's charts off: they do not touch the
threshold), scores the spine against the truth, breaks the false links down by where they
arise (``quality_report.operational.false_link_origins``) and, for context only, scores
spines re-clustered at a few fixed thresholds. Figures are in benchmarks/README_linkage.md.

    .venv/bin/python benchmarks/threshold_check.py --people 20000 50000 --seeds 9101 9102
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTEXT_THRESHOLDS = (0.2, 0.5)
"""Fixed thresholds scored beside the rule's choice, to show what it costs or buys."""

TARGET_PAIRS = ("census-gp", "census-dwp")


def make_world(people: int, seed: int, work: Path) -> Path:
    """Generate the world once per size and seed; later runs reuse it."""
    run_dir = work / f"world-{people}-{seed}"
    if not (run_dir / "truth" / "record_map.parquet").exists():
        from runcore.config import load_config
        from synthetic_data import generate_world

        generate_world(load_config().world, people=people, seed=seed, out_dir=run_dir)
    return run_dir


def _scores(spine: pl.DataFrame, run_dir: Path) -> dict[str, dict[str, float]]:
    """Precision and recall over linkable pairs of the census-GP and census-DWP links."""
    from evaluation.linkage import pairwise_metrics

    record_map = pl.read_parquet(run_dir / "truth" / "record_map.parquet")
    records = pl.read_parquet(
        run_dir / "linkage" / "records.parquet", columns=["source", "record_id", "linkable"]
    )
    excluded = records.filter(~pl.col("linkable")).drop("linkable")
    table = pairwise_metrics(spine, record_map, None, excluded)[0]
    table = table.filter(pl.col("scope") == "linkable")
    return {
        row["source_pair"]: {"precision": row["precision"], "recall": row["recall"]}
        for row in table.iter_rows(named=True)
        if row["source_pair"] in TARGET_PAIRS
    }


def _origins(run_dir: Path, threshold: float) -> list[dict[str, Any]]:
    """False links by where they arise, model-expected beside true, at ``threshold``."""
    from evaluation.spine import members
    from quality_report.operational import false_link_origins

    record_map = pl.read_parquet(run_dir / "truth" / "record_map.parquet")
    truth = record_map.select("source", "record_id", "person_id")
    labelled = pl.read_parquet(run_dir / "linkage" / "predictions.parquet")
    for side in ("l", "r"):
        labelled = labelled.join(
            truth.rename(
                {"source": f"source_{side}", "record_id": f"record_id_{side}", "person_id": side}
            ),
            on=[f"source_{side}", f"record_id_{side}"],
            how="left",
        )
    labelled = labelled.with_columns((pl.col("l") == pl.col("r")).alias("is_match"))
    spine = pl.read_parquet(run_dir / "linkage" / "spine.parquet")
    return false_link_origins(labelled, members(spine, record_map), threshold).to_dicts()


def check(people: int, seed: int, work: Path) -> dict[str, Any]:
    """Link one world with the default rule and score the result against its truth."""
    from linkage import LinkageConfig, link_sources, spine_at_threshold

    run_dir = make_world(people, seed, work)
    started = time.perf_counter()
    link_sources(run_dir / "sources", run_dir / "linkage", LinkageConfig(charts=False))
    seconds = time.perf_counter() - started
    summary = json.loads((run_dir / "linkage" / "linkage_summary.json").read_text())
    threshold = summary["threshold"]
    spine = pl.read_parquet(run_dir / "linkage" / "spine.parquet")
    context = {
        str(t): _scores(spine_at_threshold(run_dir / "linkage", t), run_dir)
        for t in CONTEXT_THRESHOLDS
    }
    return {
        "people": people,
        "seed": seed,
        "threshold": threshold,
        "rule": summary["threshold_rule"],
        "expected": summary["threshold_expected"],
        "true": _scores(spine, run_dir),
        "false_link_origins": _origins(run_dir, threshold),
        "context_thresholds": context,
        "link_seconds": seconds,
        "threshold_choice_seconds": summary["timings_seconds"]["threshold_choice"],
    }


def _line(row: dict[str, Any]) -> str:
    true, expected = row["true"], row["expected"]
    pairs = " | ".join(
        f"{pair} P {true[pair]['precision']:.5f} R {true[pair]['recall']:.5f}"
        for pair in TARGET_PAIRS
    )
    return (
        f"{row['people']:>9,} seed {row['seed']}: threshold {row['threshold']} "
        f"(expected P {expected['expected_precision']:.5f}, R {expected['expected_recall']:.5f}"
        f", F1 {expected['expected_f1']:.5f}); true {pairs}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[20000, 50000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[9101, 9102])
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "threshold_check")
    parser.add_argument("--json", type=Path, help="Also write the rows here.")
    args = parser.parse_args()
    rows = []
    for people in args.people:
        for seed in args.seeds:
            rows.append(check(people, seed, args.work))
            print(_line(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
