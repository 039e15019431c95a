"""Small statistical helpers: Wilson intervals and pair counts from cluster memberships."""

from __future__ import annotations

import math

import polars as pl

Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float, float]:
    """Proportion with its Wilson score interval (95% by default).

    Returns ``(nan, nan, nan)`` when there are no trials. The Wilson interval is used
    because rates near 100% (precision, recall) make the normal approximation useless.
    """
    if trials <= 0:
        return (math.nan, math.nan, math.nan)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (p, max(0.0, centre - half), min(1.0, centre + half))


def wilson_columns(successes: str, trials: str, prefix: str) -> list[pl.Expr]:
    """Polars expressions adding ``prefix``, ``prefix_lower`` and ``prefix_upper``."""
    n = pl.col(trials).cast(pl.Float64)
    k = pl.col(successes).cast(pl.Float64)
    z2 = Z95 * Z95
    p = k / n
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = Z95 * ((p * (1 - p) / n + z2 / (4 * n * n)).sqrt()) / denom
    valid = n > 0
    return [
        pl.when(valid).then(p).alias(prefix),
        pl.when(valid).then((centre - half).clip(0.0, 1.0)).alias(f"{prefix}_lower"),
        pl.when(valid).then((centre + half).clip(0.0, 1.0)).alias(f"{prefix}_upper"),
    ]


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
