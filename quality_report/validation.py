"""Post-linkage validation: links that cannot all be right, found without the truth.

A cluster is implausible when its records disagree on sex, give birth dates more than a
year apart, carry benefit spells that start before the person's birth or after their
recorded death, hold more than one census record (the census has one per person), or are
simply too large for one person. These checks are what an analyst can run on real data.
"""

from __future__ import annotations

import polars as pl

from evaluation.spine import OVERSIZED_CLUSTER

_SEX = {"1": "M", "2": "F", "M": "M", "F": "F", "Male": "M", "Female": "F"}


def record_attributes(
    census: pl.DataFrame | None, gp: pl.DataFrame | None, dwp: pl.DataFrame | None
) -> pl.DataFrame:
    """Sex (``M``/``F``/null), date of birth and date of death per source record."""
    parts = []
    for source, frame, rid in (
        ("census", census, "census_person_id"),
        ("gp", gp, "gp_record_id"),
        ("dwp", dwp, "dwp_master_key"),
    ):
        if frame is None:
            continue
        death = (
            pl.col("date_of_death")
            if "date_of_death" in frame.columns
            else pl.lit(None, dtype=pl.Date)
        )
        parts.append(
            frame.select(
                pl.lit(source).alias("source"),
                pl.col(rid).alias("record_id"),
                pl.col("sex").cast(pl.Utf8).replace_strict(_SEX, default=None).alias("sex"),
                pl.col("date_of_birth").cast(pl.Date),
                death.cast(pl.Date).alias("date_of_death"),
            )
        )
    return pl.concat(parts)


def cluster_checks(
    members: pl.DataFrame, attributes: pl.DataFrame, spells: pl.DataFrame | None
) -> pl.DataFrame:
    """One row per cluster with a boolean per validation rule and the cluster's size.

    Parameters
    ----------
    members
        ``source, record_id, cluster_id`` (see :func:`evaluation.spine.members`).
    attributes
        Output of :func:`record_attributes`.
    spells
        ``sources/dwp_benefit_spells.parquet`` or ``None``.
    """
    frame = members.join(attributes, on=["source", "record_id"], how="left")
    per_cluster = frame.group_by("cluster_id").agg(
        pl.len().alias("size"),
        (pl.col("source") == "census").sum().alias("census_records"),
        pl.col("sex").drop_nulls().n_unique().alias("sexes"),
        pl.col("date_of_birth").drop_nulls().n_unique().alias("birth_dates"),
        pl.col("date_of_birth").min().alias("earliest_dob"),
        pl.col("date_of_birth").max().alias("latest_dob"),
        pl.col("date_of_birth").drop_nulls().mode().first().alias("modal_dob"),
        pl.col("date_of_death").min().alias("date_of_death"),
    )
    checks = per_cluster.with_columns(
        (pl.col("sexes") > 1).alias("conflicting_sex"),
        (pl.col("birth_dates") > 1).alias("conflicting_dob"),
        ((pl.col("latest_dob") - pl.col("earliest_dob")).dt.total_days() > 366)
        .fill_null(False)
        .alias("dob_over_a_year_apart"),
        (pl.col("census_records") > 1).alias("several_census_records"),
        (pl.col("size") > OVERSIZED_CLUSTER).alias("oversized"),
    )
    before, after = pl.lit(False), pl.lit(False)
    if spells is not None:
        keyed = spells.join(
            members.filter(pl.col("source") == "dwp").select(
                pl.col("record_id").alias("dwp_master_key"), "cluster_id"
            ),
            on="dwp_master_key",
            how="inner",
        ).join(per_cluster.select("cluster_id", "modal_dob", "date_of_death"), on="cluster_id")
        flags = keyed.group_by("cluster_id").agg(
            (pl.col("start_date") < pl.col("modal_dob")).fill_null(False).any().alias("_before"),
            (pl.col("start_date") > pl.col("date_of_death")).fill_null(False).any().alias("_after"),
        )
        checks = checks.join(flags, on="cluster_id", how="left")
        before = pl.col("_before").fill_null(False)
        after = pl.col("_after").fill_null(False)
    return checks.with_columns(
        before.alias("benefit_before_birth"), after.alias("benefit_after_death")
    ).select(
        "cluster_id",
        "size",
        "conflicting_sex",
        "conflicting_dob",
        "dob_over_a_year_apart",
        "benefit_before_birth",
        "benefit_after_death",
        "several_census_records",
        "oversized",
    )


RULES: dict[str, str] = {
    "conflicting_sex": "Records in the cluster disagree on sex",
    "conflicting_dob": "Records in the cluster give different dates of birth",
    "dob_over_a_year_apart": "Dates of birth in the cluster more than a year apart",
    "benefit_before_birth": "A benefit spell starts before the person's date of birth",
    "benefit_after_death": "A benefit spell starts after the GP-recorded date of death",
    "several_census_records": "More than one census record (one-per-source violation)",
    "oversized": f"More than {OVERSIZED_CLUSTER} records",
}
"""Validation rules and their plain-English descriptions, in display order."""


def validation_counts(
    checks: pl.DataFrame, composition: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Clusters failing each rule; with the cluster composition, how many of those are
    truly impure (hold more than one true person)."""
    rows = []
    impure = None
    if composition is not None:
        impure = checks.join(
            composition.select("cluster_id", "true_people"), on="cluster_id", how="left"
        )
    for rule, text in RULES.items():
        flagged = checks.filter(pl.col(rule))
        row = {"rule": rule, "description": text, "clusters": flagged.height}
        if impure is not None:
            row["truly_wrong"] = impure.filter(pl.col(rule) & (pl.col("true_people") > 1)).height
        rows.append(row)
    return pl.DataFrame(rows)
