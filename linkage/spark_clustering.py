"""Clustering as Spark jobs (``linkage.backend: spark``): the spine never passes through the
driver.

The constrained greedy of :mod:`linkage.clustering` only ever joins records that a chain of
links at or above the threshold connects, and whether it accepts a link depends only on the
earlier links among those records. So Spark finds the connected components of the links
(Splink's own ``cluster_pairwise_predictions_at_threshold``), then runs the same greedy,
:func:`linkage.clustering.cluster_component`, on the executors, once per bucket of whole
components. A cluster is named after its smallest ``unique_id`` in both, so the spine is
identical to :func:`linkage.clustering.cluster_records`'s, row for row.

One connected component is held by one executor in Python: a component of millions of
records (links chaining through a dense population at a low threshold) would have to fit
there; :func:`cluster_records_spark` reports the largest.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from linkage.clustering import (
    MAX_RECORDS_PER_SOURCE,
    SPINE_COLUMNS,
    cluster_component,
    person_id_width,
)

if TYPE_CHECKING:
    import pandas as pd

    from linkage.backends import SparkEngine

logger = logging.getLogger(__name__)

NODE_COLUMNS = ("unique_id", "source", "record_id", "unique_people")
"""Columns every node needs; ``person_number`` and ``shared_number`` are used when present."""

NUMBER_COLUMNS = ("person_number", "shared_number")

GREEDY_SCHEMA = "unique_id long, root long, best double"

RECORDS_PER_BUCKET = 500_000
"""Records the greedy holds in one call at most, on average (whole components are dealt
into buckets of records; the polars path holds every record at once)."""


def _greedy_on_components(max_per_source: int) -> Any:
    """The function Spark applies to a bucket of whole components' nodes and links (pandas
    frames, as ``applyInPandas`` hands them), running :func:`cluster_component`."""

    def run(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
        frame = pl.from_pandas(nodes)
        # A group whose numbers are all missing arrives as an untyped column.
        frame = frame.with_columns(
            pl.col(c).cast(pl.Utf8) for c in NUMBER_COLUMNS if c in frame.columns
        )
        links = pl.from_pandas(edges).select(
            pl.col("unique_id_l", "unique_id_r").cast(pl.Int64),
            pl.col("match_probability").cast(pl.Float64),
        )
        result = cluster_component(frame, links, max_per_source=max_per_source)
        return result.to_pandas()

    return run


def _check_ids(nodes: Any) -> int:
    """The number of records, after checking their ids run 0..n-1 (as the polars path
    requires: ``person_id`` pads the root id to a width set by the count)."""
    from pyspark.sql import functions as F

    low, high, count, distinct = nodes.agg(
        F.min("unique_id"), F.max("unique_id"), F.count("*"), F.countDistinct("unique_id")
    ).first()
    if count and (low != 0 or high != count - 1 or distinct != count):
        raise ValueError("node unique_id must run 0..n-1 in order")
    return int(count)


def _components(engine: SparkEngine, nodes: Any, links: Any) -> Any:
    """``unique_id`` and ``component`` of every record, by Splink's connected components
    (the links are already thresholded)."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    found = cluster_pairwise_predictions_at_threshold(
        nodes.select("unique_id"), links, engine.db_api, node_id_column_name="unique_id"
    )
    return found.as_spark_dataframe().withColumnRenamed("cluster_id", "component")


def _greedy_results(
    nodes: Any, links: Any, components: Any, *, buckets: int, max_per_source: int
) -> Any:
    """``unique_id``, ``root`` and ``best`` of every record in a component with links;
    records without links are their own clusters and skip the greedy.

    Whole components are dealt into ``buckets`` and the greedy runs once per bucket: a
    union of components is as closed under the links as one component is, and one call per
    component would spend its time setting the greedy up (at 20,000 people one call for each
    of 16,645 components took 84 s, one per bucket 7.5 s).
    """
    from pyspark.sql import functions as F

    linked = links.join(
        components.withColumnRenamed("unique_id", "unique_id_l"), "unique_id_l"
    ).withColumn("bucket", F.pmod(F.xxhash64("component"), F.lit(buckets)))
    # The records of those components are the links' ends (every other record is alone).
    # Their bucket is a new column to Spark: the two sides of the cogroup below come from
    # one table, and Spark refuses as ambiguous a column both sides share.
    ends = (
        linked.select(F.col("unique_id_l").alias("unique_id"), F.col("bucket").alias("part"))
        .union(linked.select(F.col("unique_id_r").alias("unique_id"), F.col("bucket")))
        .distinct()
    )
    members = nodes.join(ends, "unique_id")
    return (
        members.groupBy("part")
        .cogroup(linked.groupBy("bucket"))
        .applyInPandas(_greedy_on_components(max_per_source), schema=GREEDY_SCHEMA)
    )


def _spine(nodes: Any, greedy: Any, records: int) -> Any:
    """The spine in Spark, in ``unique_id`` order, with the polars path's columns."""
    from pyspark.sql import functions as F

    root = F.coalesce(F.col("root"), F.col("unique_id"))
    return (
        nodes.select("unique_id", "source", "record_id")
        .join(greedy, "unique_id", "left")
        .select(
            "source",
            "record_id",
            F.format_string(f"S%0{person_id_width(records)}d", root).alias("person_id"),
            F.when(root == F.col("unique_id"), F.lit(1.0))
            .otherwise(F.col("best"))
            .alias("match_probability"),
            "unique_id",
        )
        .orderBy("unique_id")
    )


def _cluster_sizes(spine: Any, components: Any) -> dict[str, Any]:
    """Small figures for the run summary: clusters, how many of each size, and the largest
    connected component the greedy had to hold at once."""
    from pyspark.sql import functions as F

    sizes = spine.groupBy("person_id").count().groupBy("count").agg(F.count("*").alias("n"))
    by_size = {int(size): int(n) for size, n in sizes.collect()}
    largest = components.groupBy("component").count().agg(F.max("count")).first()[0]
    return {
        "clusters": sum(by_size.values()),
        "cluster_sizes": {str(size): by_size[size] for size in sorted(by_size)},
        "largest_component": int(largest or 0),
    }


def cluster_records_spark(
    engine: SparkEngine,
    nodes_path: Path,
    edges_path: Path,
    threshold: float,
    out_path: Path,
    *,
    max_per_source: int = MAX_RECORDS_PER_SOURCE,
) -> dict[str, Any]:
    """Cluster records on Spark and write the spine to ``out_path``.

    Parameters
    ----------
    engine
        The run's Spark session and Splink API (:class:`linkage.backends.SparkEngine`).
    nodes_path
        Parquet of the records, with the columns :func:`linkage.clustering.cluster_records`
        takes as ``nodes``.
    edges_path
        Parquet of the links (``unique_id_l``, ``unique_id_r``, ``match_probability``; other
        columns are ignored), e.g. ``predictions.parquet``.
    threshold
        Links below this probability are ignored.
    out_path
        The spine's Parquet file: :data:`linkage.clustering.SPINE_COLUMNS`, in
        ``unique_id`` order, identical to what ``cluster_records`` gives.
    max_per_source
        As in :func:`linkage.clustering.cluster_records`.

    Returns
    -------
    dict
        ``clusters``, ``cluster_sizes`` (clusters of each size) and ``largest_component``.
    """
    from pyspark.sql import functions as F

    spark = engine.spark
    nodes = spark.read.parquet(Path(nodes_path).as_uri())
    wanted = [*NODE_COLUMNS, *(c for c in NUMBER_COLUMNS if c in nodes.columns)]
    nodes = nodes.select(*wanted)
    records = _check_ids(nodes)
    links = (
        spark.read.parquet(Path(edges_path).as_uri())
        .select("unique_id_l", "unique_id_r", "match_probability")
        .where(F.col("match_probability") >= F.lit(float(threshold)))
    )
    components = _components(engine, nodes, links).cache()
    buckets = max(engine.config.spark_shuffle_partitions, math.ceil(records / RECORDS_PER_BUCKET))
    greedy = _greedy_results(
        nodes, links, components, buckets=buckets, max_per_source=max_per_source
    )
    folder = engine.scratch / "spine"
    # Written once and read back: the sizes below and the single-file artefact then come
    # from the same rows rather than recomputing the greedy.
    _spine(nodes, greedy, records).write.mode("overwrite").parquet(folder.as_uri())
    spine = spark.read.parquet(folder.as_uri())
    figures = _cluster_sizes(spine, components)
    components.unpersist()
    _single_file(folder, out_path)
    logger.info(
        "Clustered %d records into %d people on Spark (largest component %d records)",
        records,
        figures["clusters"],
        figures["largest_component"],
    )
    return figures


def _single_file(folder: Path, out_path: Path) -> None:
    """Stream Spark's part files, in order, into one Parquet file with the spine's columns
    (the artefact other stages read as one file); the driver holds a batch at a time."""
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        raise RuntimeError(f"Spark wrote no spine parts to {folder}")
    pl.scan_parquet(parts).select(SPINE_COLUMNS).sink_parquet(out_path)
