"""Record- and cluster-level linkage outcomes measured from the person spine and the truth.

Everything here needs only ``linkage/spine.parquet`` (record -> cluster) and
``truth/record_map.parquet`` (record -> true person): two records are *linked* when they
share a spine cluster and *truly match* when they share a true person. Pairwise counts per
source pair follow from cluster and person sizes, so no pair is ever enumerated. Pairwise
precision and recall are :func:`evaluation.linkage.pairwise_metrics`'s alone.
"""

from __future__ import annotations

import polars as pl

from analysis.reference import UNKNOWN
from evaluation.groups import BREAKDOWNS
from evaluation.intervals import wilson_columns

OVERSIZED_CLUSTER = 6
"""A cluster with more records than this is implausible for one person (one census record,
a few GP registrations and DWP keys at most) and is flagged for review."""


SOURCE_ORDER: dict[str, int] = {"census": 0, "gp": 1, "dwp": 2}
"""Order of sources in a pair name (``census-gp``, ``census-dwp``, ``gp-dwp``)."""


def source_order(source: pl.Expr) -> pl.Expr:
    """Sort key putting the census first, then GP, DWP and any other source alphabetically."""
    rank = source.replace_strict(SOURCE_ORDER, default=9, return_dtype=pl.Int64)
    return rank.cast(pl.Utf8) + source


def pair_counts(members: pl.DataFrame, group: str) -> pl.DataFrame:
    """Pairs of records sharing ``group``, per ordered source pair.

    Parameters
    ----------
    members
        One row per record with columns ``source`` and ``group``.
    group
        The column whose equal values make two records a pair (a cluster or a true person).

    Returns
    -------
    polars.DataFrame
        ``source_l``, ``source_r`` (census, GP, DWP order, equal for within-source pairs)
        and ``pairs``.
    """
    counts = (
        members.group_by(group, "source")
        .agg(pl.len().alias("n"))
        .with_columns(source_order(pl.col("source")).alias("order"))
    )
    cross = counts.join(counts, on=group, suffix="_r").filter(pl.col("order") <= pl.col("order_r"))
    pairs = (
        pl.when(pl.col("source") == pl.col("source_r"))
        .then(pl.col("n") * (pl.col("n") - 1) // 2)
        .otherwise(pl.col("n") * pl.col("n_r"))
    )
    return (
        cross.with_columns(pairs.alias("pairs"))
        .group_by(pl.col("source").alias("source_l"), "source_r")
        .agg(pl.col("pairs").sum().cast(pl.Int64))
        .sort("source_l", "source_r")
    )


def members(spine: pl.DataFrame, record_map: pl.DataFrame | None) -> pl.DataFrame:
    """One row per spine record: ``source, record_id, cluster_id`` and ``true_person``."""
    frame = spine.select("source", "record_id", pl.col("person_id").alias("cluster_id"))
    if record_map is None:
        return frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("true_person"))
    truth = record_map.select("source", "record_id", pl.col("person_id").alias("true_person"))
    return frame.join(truth, on=["source", "record_id"], how="left")


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


def record_outcomes(frame: pl.DataFrame, unlinkable: pl.DataFrame | None = None) -> pl.DataFrame:
    """For each census record: linked to GP/DWP at all, correctly, falsely, or missed.

    Parameters
    ----------
    frame
        Output of :func:`members`.
    unlinkable
        ``source, record_id`` of records the linkage leaves unlinked by design (wholly
        imputed census records); their absent links are not *missed* links.

    Returns
    -------
    polars.DataFrame
        ``record_id, true_person, linkable`` and booleans ``linked_<s>``, ``true_<s>`` (the
        person has a record in ``s``), ``correct_<s>``, ``false_<s>`` (a record of another
        person of source ``s`` in the cluster), ``missed_<s>`` (a linkable record whose
        true link is absent) and ``by_design_<s>`` (an unlinkable record whose person has a
        record in ``s``), for ``s`` in ``gp``, ``dwp``.
    """
    census = frame.filter(pl.col("source") == "census").select(
        "record_id", "cluster_id", "true_person"
    )
    excluded = (
        unlinkable.filter(pl.col("source") == "census").get_column("record_id")
        if unlinkable is not None
        else pl.Series([], dtype=pl.Utf8)
    )
    out = census.with_columns((~pl.col("record_id").is_in(excluded.implode())).alias("linkable"))
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
                (
                    pl.col(f"true_{source}") & ~pl.col(f"correct_{source}") & pl.col("linkable")
                ).alias(f"missed_{source}"),
                (pl.col(f"true_{source}") & ~pl.col("linkable")).alias(f"by_design_{source}"),
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
        ``person_id`` with the breakdown columns (:func:`evaluation.groups.person_groups`).

    Returns
    -------
    polars.DataFrame
        Per ``target`` (``gp``, ``dwp``), ``breakdown`` and ``group``: ``census_records``,
        ``linked``, ``linkage_rate`` (with Wilson limits), ``true_links`` (records whose
        person has a record in the target), ``unlinkable_by_design`` (of those, records the
        linkage excludes by design), ``correct``, ``missed`` (true links of linkable records
        not made), ``recall`` (``correct`` over linkable true links, with limits),
        ``false_links`` and ``false_link_rate`` (share of linked records joined to another
        person). A group's shortfall is thus split into records unlinkable by design and
        links the model missed.
    """
    joined = outcomes.join(groups, left_on="true_person", right_on="person_id", how="left")
    parts = []
    for target in ("gp", "dwp"):
        for breakdown in ("all", *BREAKDOWNS):
            group = pl.lit("all") if breakdown == "all" else pl.col(breakdown).fill_null(UNKNOWN)
            parts.append(
                joined.group_by(group.alias("group"))
                .agg(
                    pl.len().alias("census_records"),
                    pl.col(f"linked_{target}").sum().alias("linked"),
                    pl.col(f"true_{target}").sum().alias("true_links"),
                    pl.col(f"by_design_{target}").sum().alias("unlinkable_by_design"),
                    pl.col(f"correct_{target}").sum().alias("correct"),
                    pl.col(f"missed_{target}").sum().alias("missed"),
                    pl.col(f"false_{target}").sum().alias("false_links"),
                )
                .with_columns(pl.lit(target).alias("target"), pl.lit(breakdown).alias("breakdown"))
            )
    counts = [
        "census_records",
        "linked",
        "true_links",
        "unlinkable_by_design",
        "correct",
        "missed",
        "false_links",
    ]
    table = pl.concat(parts).with_columns([pl.col(c).cast(pl.Int64) for c in counts])
    table = table.with_columns(
        (pl.col("true_links") - pl.col("unlinkable_by_design")).alias("_linkable_true")
    )
    return (
        table.sort("target", "breakdown", "group")
        .with_columns(
            *wilson_columns("linked", "census_records", "linkage_rate"),
            *wilson_columns("correct", "_linkable_true", "recall"),
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


def lowest_recall_cells(
    outcomes: pl.DataFrame, groups: pl.DataFrame, min_true_links: int = 10, top: int = 10
) -> pl.DataFrame:
    """The ethnic group by IMD quintile cells with the lowest recall, per target source.

    Only linkable records count (a wholly imputed record is not a missed link), and only
    cells with at least ``min_true_links`` linkable true links, so that one record does not
    make a cell look bad.

    Returns
    -------
    polars.DataFrame
        ``target, ethnic_group, imd_quintile, true_links, correct, recall`` with Wilson
        limits; at most ``top`` rows per target, lowest recall first.
    """
    joined = outcomes.filter(pl.col("linkable")).join(
        groups, left_on="true_person", right_on="person_id"
    )
    parts = []
    for target in ("gp", "dwp"):
        cells = (
            joined.filter(pl.col(f"true_{target}"))
            .group_by("ethnic_group", "imd_quintile")
            .agg(pl.len().alias("true_links"), pl.col(f"correct_{target}").sum().alias("correct"))
            .with_columns(pl.col("true_links").cast(pl.Int64), pl.col("correct").cast(pl.Int64))
            .filter(pl.col("true_links") >= min_true_links)
            .with_columns(*wilson_columns("correct", "true_links", "recall"))
            .sort("recall", "ethnic_group", "imd_quintile")
            .head(top)
        )
        parts.append(cells.select(pl.lit(target).alias("target"), pl.all()))
    return pl.concat(parts)
