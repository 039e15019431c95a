"""Clustering on Spark against polars, on a linked world's saved artefacts.

Re-clusters a run's ``records.parquet`` and ``predictions.parquet`` at the run's threshold,
once with polars on the driver (:func:`linkage.clustering.cluster_records`) and once as
Spark jobs (:func:`linkage.spark_clustering.cluster_records_spark`), and reports the wall
time of each (Spark's session start apart), the pairs of records the two spines put
together and the pairs they have in common. Figures are recorded in
benchmarks/README_scaling.md ("Clustering on Spark").

    .venv/bin/python benchmarks/link.py --people 20000 --seed 5 --no-baseline --work /tmp/w
    .venv/bin/python benchmarks/spark_clustering.py /tmp/w/world-20000-5/linkage-ours
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _pairs(spine: pl.DataFrame) -> set[tuple[int, int]]:
    """Pairs of records (by unique_id) that share a person_id."""
    keyed = spine.select("unique_id", "person_id")
    joined = keyed.join(keyed, on="person_id").filter(
        pl.col("unique_id") < pl.col("unique_id_right")
    )
    return set(joined.select("unique_id", "unique_id_right").iter_rows())


def main() -> None:
    """Time both and compare their spines; print the figures as JSON."""
    from linkage.backends import SparkEngine
    from linkage.clustering import SPINE_COLUMNS, cluster_records
    from linkage.config import LinkageConfig
    from linkage.pipeline import _cluster_nodes
    from linkage.spark_clustering import cluster_records_spark

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("linkage_dir", type=Path)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    summary = json.loads((args.linkage_dir / "linkage_summary.json").read_text())
    threshold = float(summary["threshold"])
    limit = int(summary["config"]["max_records_per_source"])
    nodes = _cluster_nodes(
        pl.read_parquet(args.linkage_dir / "records.parquet"),
        summary["training"]["shared_number_constraint"],
    )
    predictions = args.linkage_dir / "predictions.parquet"
    edges = pl.read_parquet(
        predictions, columns=["unique_id_l", "unique_id_r", "match_probability"]
    )

    started = time.perf_counter()
    polars_spine = cluster_records(nodes, edges, threshold, max_per_source=limit)
    polars_seconds = time.perf_counter() - started

    config = LinkageConfig(
        backend="spark", spark_master=args.master, spark_shuffle_partitions=args.partitions
    )
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        with closing(SparkEngine(config)) as engine:
            start_seconds = time.perf_counter() - started
            nodes.write_parquet(Path(scratch) / "nodes.parquet")
            started = time.perf_counter()
            figures = cluster_records_spark(
                engine,
                Path(scratch) / "nodes.parquet",
                predictions,
                threshold,
                Path(scratch) / "spine.parquet",
                max_per_source=limit,
            )
            spark_seconds = time.perf_counter() - started
        spark_spine = pl.read_parquet(Path(scratch) / "spine.parquet")

    identical = spark_spine.equals(polars_spine.select(SPINE_COLUMNS))
    with_ids = spark_spine.with_columns(polars_spine.get_column("unique_id"))
    ours, theirs = _pairs(with_ids), _pairs(polars_spine)
    print(
        json.dumps(
            {
                "records": nodes.height,
                "links_at_or_above_threshold": edges.filter(
                    pl.col("match_probability") >= threshold
                ).height,
                "threshold": threshold,
                "polars_seconds": round(polars_seconds, 2),
                "spark_session_start_seconds": round(start_seconds, 2),
                "spark_seconds": round(spark_seconds, 2),
                "master": args.master,
                "shuffle_partitions": args.partitions,
                "spines_identical": identical,
                "pairs_polars": len(theirs),
                "pairs_spark": len(ours),
                "pairs_in_common": len(ours & theirs),
                **figures,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
