"""Time the linkage quality report on a freshly generated, linked and analysed run.

Usage: python benchmarks/quality_report_bench.py [--people 50000] [--repeats 3] [--keep DIR]

Prints the time of each upstream stage once, then the median wall time of building the
report (and of a redacted build), with the size of index.html.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from analysis import analyse_run
from evaluation.linkage import evaluate_linkage
from linkage import link_sources, spine_at_threshold
from quality_report import build_quality_report
from runcore.config import load_config
from synthetic_data.world import generate_world


def _timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"{label:<28} {time.perf_counter() - started:8.1f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20110327)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="Run folder to keep.")
    args = parser.parse_args()
    run = args.keep or Path(tempfile.mkdtemp(prefix="qr-bench-")) / "run"
    config = load_config(overrides={"run": {"people": args.people, "seed": args.seed}})
    if not (run / "analysis").is_dir():
        _timed(
            "generate",
            generate_world,
            config.world,
            people=args.people,
            seed=args.seed,
            out_dir=run,
        )
        (run / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
        _timed("link", link_sources, run / "sources", run / "linkage", config.linkage)
        _timed("evaluate", evaluate_linkage, run / "linkage", run / "truth")
        spines = {t: spine_at_threshold(run / "linkage", t) for t in config.analysis.thresholds}
        _timed(
            "analyse", analyse_run, run, run / "analysis", config.analysis, threshold_spines=spines
        )
    for redact in (False, True):
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            index = build_quality_report(run, run / "report", redact=redact)
            times.append(time.perf_counter() - started)
        label = "report (redacted)" if redact else "report"
        print(
            f"{label:<28} {statistics.median(times):8.1f} s median of {args.repeats}; "
            f"index.html {index.stat().st_size / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
