"""Clustering as Spark jobs (``linkage.backend: spark``): neither the links nor the spine
pass through the driver.

Clustering on one machine marks, in one greedy pass at the lowest threshold considered,
which links it accepts (:func:`linkage.clustering.accepted_links`); the spine at any higher
threshold is then the connected components of the accepted links at or above it
(:func:`linkage.clustering.spine_from_accepted`). Spark does the same in three jobs:

1. the connected components of the links at the floor (Splink's own
   ``cluster_pairwise_predictions_at_threshold``);
2. the greedy on the executors, once per bucket of whole components
   (:func:`linkage.clustering.accepted_in_component`): whether a link is refused depends
   only on the earlier links among the records a chain of links connects, so the marks
   are those of one pass over every record;
3. the connected components of the accepted links at the chosen threshold, each cluster
   named after its smallest ``unique_id``, each record's probability its best accepted
   link, as :func:`linkage.clustering.spine_from_accepted` names and scores them.

So the spine is identical to the one-machine spine, row for row. One connected component
at the floor is held by one executor in Python: a component of millions of records (links
chaining through a dense population at a low floor) would have to fit there;
:func:`spine_on_spark` reports the largest.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from linkage.clustering import (
    ACCEPTED_LINKS_FILE,
    MAX_RECORDS_PER_SOURCE,
    RECORDS_FILE,
    SPINE_COLUMNS,
    accepted_in_component,
    person_id_width,
    saved_links_answer,
)
from linkage.sql_engine import single_file

if TYPE_CHECKING:
    import pandas as pd

    from linkage.backends import SparkEngine

logger = logging.getLogger(__name__)

NODE_COLUMNS = ("unique_id", "source", "record_id", "unique_people")
"""Columns every node needs; ``person_number`` and ``shared_number`` are used when present."""

NUMBER_COLUMNS = ("person_number", "shared_number")

ACCEPTED_SCHEMA = "unique_id_l long, unique_id_r long, match_probability double, accepted boolean"

CANDIDATE_LINKS = "candidate_links"
"""The Spark view of the links at the floor, each marked ``accepted`` or not (what
:func:`linkage.sql_steps.threshold_sums` reads)."""

RECORDS_PER_BUCKET = 500_000
"""Records the greedy holds in one call at most, on average (whole components are dealt
into buckets of records; the polars path holds every record at once)."""


def _greedy_on_components(floor: float, max_per_source: int) -> Any:
    """The function Spark applies to a bucket of whole components' nodes and links (pandas
    frames, as ``applyInPandas`` hands them), running :func:`accepted_in_component`."""

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
        marked = accepted_in_component(frame, links, floor, max_per_source=max_per_source)
        return marked.to_pandas()

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


def _marked_links(
    nodes: Any, links: Any, components: Any, *, buckets: int, floor: float, max_per_source: int
) -> Any:
    """Every link at the floor, marked ``accepted`` or not by the greedy.

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
        .applyInPandas(_greedy_on_components(floor, max_per_source), schema=ACCEPTED_SCHEMA)
    )


def mark_links_on_spark(
    engine: SparkEngine,
    nodes: Any,
    edges_path: Path,
    floor: float,
    *,
    max_per_source: int = MAX_RECORDS_PER_SOURCE,
) -> int:
    """Mark which links at or above ``floor`` clustering accepts, as the Spark view
    :data:`CANDIDATE_LINKS` (written once under the scratch folder); return the size of
    the largest connected component at the floor.

    Parameters
    ----------
    engine
        The run's Spark session and Splink API (:class:`linkage.backends.SparkEngine`).
    nodes
        A Spark frame of the records with the columns
        :func:`linkage.clustering.cluster_records` takes as ``nodes``.
    edges_path
        Parquet of the links (``unique_id_l``, ``unique_id_r``, ``match_probability``;
        other columns are ignored), e.g. ``predictions.parquet``.
    floor, max_per_source
        As in :func:`linkage.clustering.accepted_links`.
    """
    from pyspark.sql import functions as F

    links = (
        engine.spark.read.parquet(Path(edges_path).as_uri())
        .select("unique_id_l", "unique_id_r", "match_probability")
        .where(F.col("match_probability") >= F.lit(float(floor)))
    )
    components = _components(engine, nodes, links).cache()
    records = nodes.count()
    buckets = max(engine.config.spark_shuffle_partitions, math.ceil(records / RECORDS_PER_BUCKET))
    marked = _marked_links(
        nodes, links, components, buckets=buckets, floor=floor, max_per_source=max_per_source
    )
    folder = engine.scratch / CANDIDATE_LINKS
    marked.write.mode("overwrite").parquet(folder.as_uri())
    engine.sql.parquet_view(CANDIDATE_LINKS, folder)
    largest = components.groupBy("component").count().agg(F.max("count")).first()[0]
    components.unpersist()
    return int(largest or 0)


def _spine(nodes: Any, accepted: Any, components: Any, records: int) -> Any:
    """The spine in Spark, in ``unique_id`` order, with the polars path's columns."""
    from pyspark.sql import functions as F

    roots = components.groupBy("component").agg(F.min("unique_id").alias("root"))
    ends = accepted.select(F.col("unique_id_l").alias("unique_id"), "match_probability").union(
        accepted.select(F.col("unique_id_r").alias("unique_id"), "match_probability")
    )
    best = ends.groupBy("unique_id").agg(F.max("match_probability").alias("best"))
    root = F.coalesce(F.col("root"), F.col("unique_id"))
    return (
        nodes.select("unique_id", "source", "record_id")
        .join(components.join(roots, "component").select("unique_id", "root"), "unique_id", "left")
        .join(best, "unique_id", "left")
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


def spine_on_spark(
    engine: SparkEngine, nodes: Any, threshold: float, out_path: Path
) -> dict[str, Any]:
    """Write the spine at ``threshold`` from the marked links (:func:`mark_links_on_spark`,
    at a floor no higher) to ``out_path``: :data:`linkage.clustering.SPINE_COLUMNS`, in
    ``unique_id`` order, identical to what :func:`linkage.clustering.spine_from_accepted`
    gives. Returns ``clusters`` and ``cluster_sizes`` (clusters of each size)."""
    from pyspark.sql import functions as F

    records = _check_ids(nodes)
    accepted = (
        engine.spark.table(CANDIDATE_LINKS)
        .where(F.col("accepted") & (F.col("match_probability") >= F.lit(float(threshold))))
        .select("unique_id_l", "unique_id_r", "match_probability")
    )
    components = _components(engine, nodes, accepted)
    folder = engine.scratch / "spine"
    # Written once and read back: the sizes below and the single-file artefact then come
    # from the same rows rather than recomputing the components.
    _spine(nodes, accepted, components, records).write.mode("overwrite").parquet(folder.as_uri())
    spine = engine.spark.read.parquet(folder.as_uri())
    sizes = spine.groupBy("person_id").count().groupBy("count").agg(F.count("*").alias("n"))
    by_size = {int(size): int(n) for size, n in sizes.collect()}
    single_file(folder, out_path, list(SPINE_COLUMNS))
    return {
        "clusters": sum(by_size.values()),
        "cluster_sizes": {str(size): by_size[size] for size in sorted(by_size)},
    }


def spark_nodes(engine: SparkEngine, records_path: Path, *, numbers: tuple[str, ...]) -> Any:
    """The records as clustering sees them, read by Spark from ``records_path``: the node
    columns and those of ``numbers`` present."""
    frame = engine.spark.read.parquet(Path(records_path).as_uri())
    wanted = [*NODE_COLUMNS, *(c for c in numbers if c in frame.columns)]
    return frame.select(*wanted)


def cluster_records_spark(
    engine: SparkEngine,
    nodes_path: Path,
    edges_path: Path,
    threshold: float,
    out_path: Path,
    *,
    max_per_source: int = MAX_RECORDS_PER_SOURCE,
) -> dict[str, Any]:
    """Cluster records on Spark at ``threshold`` and write the spine to ``out_path``
    (:func:`mark_links_on_spark` at the threshold, then :func:`spine_on_spark`).

    Parameters
    ----------
    nodes_path
        Parquet of the records, with the columns :func:`linkage.clustering.cluster_records`
        takes as ``nodes``.
    edges_path, max_per_source
        As in :func:`mark_links_on_spark`.

    Returns
    -------
    dict
        ``clusters``, ``cluster_sizes`` (clusters of each size) and ``largest_component``.
    """
    nodes = spark_nodes(engine, nodes_path, numbers=NUMBER_COLUMNS)
    largest = mark_links_on_spark(
        engine, nodes, edges_path, threshold, max_per_source=max_per_source
    )
    figures = spine_on_spark(engine, nodes, threshold, out_path)
    logger.info(
        "Clustered into %d people on Spark (largest component %d records)",
        figures["clusters"],
        largest,
    )
    return {**figures, "largest_component": largest}


def spines_at_thresholds_spark(
    engine: SparkEngine,
    linkage_dir: Path,
    thresholds: list[float],
    folder: Path,
    *,
    max_per_source: int = MAX_RECORDS_PER_SOURCE,
) -> dict[float, Path]:
    """Re-cluster a run's saved links at several thresholds on Spark, each spine written to
    ``folder``: row for row what :func:`linkage.clustering.spines_at_thresholds` gives.

    The accepted links the run saved answer for every threshold at or above their floor;
    otherwise the saved predictions are marked again at the lowest threshold
    (:func:`mark_links_on_spark`). Returns each threshold's spine file.
    """
    from pyspark.sql import functions as F

    if not thresholds:
        return {}
    nodes = spark_nodes(engine, linkage_dir / RECORDS_FILE, numbers=NUMBER_COLUMNS)
    lowest = min(thresholds)
    if saved_links_answer(linkage_dir, lowest, max_per_source):
        accepted = engine.spark.read.parquet((linkage_dir / ACCEPTED_LINKS_FILE).as_uri())
        accepted.select(
            "unique_id_l", "unique_id_r", "match_probability", F.lit(True).alias("accepted")
        ).createOrReplaceTempView(CANDIDATE_LINKS)
    else:
        mark_links_on_spark(
            engine,
            nodes,
            linkage_dir / "predictions.parquet",
            lowest,
            max_per_source=max_per_source,
        )
    folder.mkdir(parents=True, exist_ok=True)
    spines: dict[float, Path] = {}
    for threshold in sorted(set(thresholds)):
        spines[threshold] = folder / f"spine_{threshold:g}.parquet"
        spine_on_spark(engine, nodes, threshold, spines[threshold])
    return spines
