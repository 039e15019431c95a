"""Linkage quality measured from the person spine against the ground truth.

Everything here needs only ``linkage/spine.parquet`` (record -> cluster) and
``truth/record_map.parquet`` (record -> true person): two records are *linked* when they
share a spine cluster and *truly match* when they share a true person. Pairwise counts per
source pair follow from cluster and person sizes, so no pair is ever enumerated.
"""

from __future__ import annotations

import polars as pl

from quality_report.groups import BREAKDOWNS
from quality_report.stats import pair_counts, wilson_columns

OVERSIZED_CLUSTER = 6
"""A cluster with more records than this is implausible for one person (one census record,
a few GP registrations and DWP keys at most) and is flagged for review."""


def members(spine: pl.DataFrame, record_map: pl.DataFrame | None) -> pl.DataFrame:
    """One row per spine record: ``source, record_id, cluster_id`` and ``true_person``."""
    frame = spine.select("source", "record_id", pl.col("person_id").alias("cluster_id"))
    if record_map is None:
        return frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("true_person"))
    truth = record_map.select("source", "record_id", pl.col("person_id").alias("true_person"))
    return frame.join(truth, on=["source", "record_id"], how="left")


def pairwise_metrics(frame: pl.DataFrame) -> pl.DataFrame:
    """Pairwise precision and recall per source pair, with Wilson 95% intervals.

    Parameters
    ----------
    frame
        Output of :func:`members`.

    Returns
    -------
    polars.DataFrame
        ``source_pair, predicted_pairs, true_pairs, true_positive, precision, precision_lower,
        precision_upper, recall, recall_lower, recall_upper, f1``; one row per source pair
        and an ``all`` row.
    """
    keyed = frame.with_columns(
        (pl.col("cluster_id") + pl.lit("\x1f") + pl.col("true_person")).alias("both")
    )
    linked = pair_counts(keyed, "cluster_id").rename({"pairs": "predicted_pairs"})
    true = pair_counts(keyed.drop_nulls("true_person"), "true_person").rename(
        {"pairs": "true_pairs"}
    )
    tp = pair_counts(keyed.drop_nulls("both"), "both").rename({"pairs": "true_positive"})
    on = ["source_l", "source_r"]
    table = (
        linked.join(true, on=on, how="full", coalesce=True)
        .join(tp, on=on, how="full", coalesce=True)
        .fill_null(0)
        .with_columns((pl.col("source_l") + "-" + pl.col("source_r")).alias("source_pair"))
        .drop(on)
    )
    total = table.select(
        pl.lit("all").alias("source_pair"),
        pl.col("predicted_pairs").sum(),
        pl.col("true_pairs").sum(),
        pl.col("true_positive").sum(),
    )
    table = pl.concat([table.select(total.columns).sort("source_pair"), total]).filter(
        (pl.col("predicted_pairs") > 0) | (pl.col("true_pairs") > 0)
    )
    return table.with_columns(
        *wilson_columns("true_positive", "predicted_pairs", "precision"),
        *wilson_columns("true_positive", "true_pairs", "recall"),
    ).with_columns(
        (
            2 * pl.col("precision") * pl.col("recall") / (pl.col("precision") + pl.col("recall"))
        ).alias("f1")
    )


def cluster_sizes(frame: pl.DataFrame) -> pl.DataFrame:
    """Distribution of spine cluster sizes: ``size, clusters, records``."""
    return (
        frame.group_by("cluster_id")
        .agg(pl.len().alias("size"))
        .group_by("size")
        .agg(pl.len().alias("clusters"))
        .with_columns((pl.col("size") * pl.col("clusters")).alias("records"))
        .sort("size")
        .with_columns(pl.col("size").cast(pl.Int64), pl.col("clusters").cast(pl.Int64))
    )


def cluster_composition(frame: pl.DataFrame) -> pl.DataFrame:
    """Per cluster: records from each source, size and the number of true people in it."""
    sources = sorted(frame.get_column("source").unique().to_list())
    return (
        frame.group_by("cluster_id")
        .agg(
            pl.len().alias("size"),
            *[(pl.col("source") == s).sum().alias(f"n_{s}") for s in sources],
            pl.col("true_person").drop_nulls().n_unique().alias("true_people"),
        )
        .with_columns(pl.col("size").cast(pl.Int64))
        .sort(["size", "cluster_id"], descending=[True, False])
    )


def record_outcomes(frame: pl.DataFrame) -> pl.DataFrame:
    """For each census record: linked to GP/DWP at all, correctly, falsely, or missed.

    Returns
    -------
    polars.DataFrame
        ``record_id, true_person`` and booleans ``linked_<s>``, ``true_<s>`` (the person has
        a record in ``s``), ``correct_<s>``, ``false_<s>`` (a record of another person of
        source ``s`` in the cluster) and ``missed_<s>``, for ``s`` in ``gp``, ``dwp``.
    """
    census = frame.filter(pl.col("source") == "census").select(
        "record_id", "cluster_id", "true_person"
    )
    out = census
    for source in ("gp", "dwp"):
        others = frame.filter(pl.col("source") == source)
        by_cluster = others.group_by("cluster_id").agg(
            pl.col("true_person").alias(f"_people_{source}")
        )
        persons = others.drop_nulls("true_person").select("true_person").unique()
        out = (
            out.join(by_cluster, on="cluster_id", how="left")
            .join(
                persons.with_columns(pl.lit(True).alias(f"true_{source}")),
                on="true_person",
                how="left",
            )
            .with_columns(
                pl.col(f"_people_{source}").is_not_null().alias(f"linked_{source}"),
                pl.col(f"true_{source}").fill_null(False),
                pl.col(f"_people_{source}")
                .list.contains(pl.col("true_person"))
                .fill_null(False)
                .alias(f"correct_{source}"),
            )
            .with_columns(
                (
                    pl.col(f"_people_{source}")
                    .list.set_difference(pl.concat_list(pl.col("true_person")))
                    .list.len()
                    .fill_null(0)
                    > 0
                ).alias(f"false_{source}"),
                (pl.col(f"true_{source}") & ~pl.col(f"correct_{source}")).alias(f"missed_{source}"),
            )
            .drop(f"_people_{source}")
        )
    return out


def rates_by_group(outcomes: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Linkage, recall and false-link rates of census records, overall and by subgroup.

    Parameters
    ----------
    outcomes
        Output of :func:`record_outcomes`.
    groups
        ``person_id`` with the breakdown columns (:func:`quality_report.groups.person_groups`).

    Returns
    -------
    polars.DataFrame
        Per ``target`` (``gp``, ``dwp``), ``breakdown`` and ``group``: ``census_records``,
        ``linked``, ``linkage_rate`` (with Wilson limits), ``true_links`` (records whose
        person has a record in the target), ``correct``, ``recall`` (with limits),
        ``missed``, ``false_links`` and ``false_link_rate`` (share of linked records joined
        to another person).
    """
    joined = outcomes.join(groups, left_on="true_person", right_on="person_id", how="left")
    parts = []
    for target in ("gp", "dwp"):
        for breakdown in ("all", *BREAKDOWNS):
            group = pl.lit("all") if breakdown == "all" else pl.col(breakdown).fill_null("unknown")
            parts.append(
                joined.group_by(group.alias("group"))
                .agg(
                    pl.len().alias("census_records"),
                    pl.col(f"linked_{target}").sum().alias("linked"),
                    pl.col(f"true_{target}").sum().alias("true_links"),
                    pl.col(f"correct_{target}").sum().alias("correct"),
                    pl.col(f"missed_{target}").sum().alias("missed"),
                    pl.col(f"false_{target}").sum().alias("false_links"),
                )
                .with_columns(pl.lit(target).alias("target"), pl.lit(breakdown).alias("breakdown"))
            )
    counts = ["census_records", "linked", "true_links", "correct", "missed", "false_links"]
    table = pl.concat(parts).with_columns([pl.col(c).cast(pl.Int64) for c in counts])
    return (
        table.sort("target", "breakdown", "group")
        .with_columns(
            *wilson_columns("linked", "census_records", "linkage_rate"),
            *wilson_columns("correct", "true_links", "recall"),
            *wilson_columns("false_links", "linked", "false_link_rate"),
        )
        .select(
            "target",
            "breakdown",
            "group",
            *counts,
            "linkage_rate",
            "linkage_rate_lower",
            "linkage_rate_upper",
            "recall",
            "recall_lower",
            "recall_upper",
            "false_link_rate",
            "false_link_rate_lower",
            "false_link_rate_upper",
        )
    )
