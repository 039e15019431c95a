"""The one definition of the breakdown groups: ethnic group, IMD quintile, age band, sex,
region, with the published labels (:mod:`analysis.reference`).

Attributes come from the ground truth (``truth/people.parquet``) joined to the reference
lookups, because the point of a breakdown is to see for whom linkage worked worse, whatever
the records themselves said. The linkage evaluation, the report and any other table of
linkage quality by group all use :func:`person_groups`, so two tables never disagree on who
is in a group.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analysis.reference import ETHNIC_GROUPS, STUDY_START, UNKNOWN, lsoa_lookup, quintile_label

AGE_REFERENCE_DATE: date = STUDY_START
"""Ages are taken at the start of the study period, the month the published series begin."""

AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 15, "0-15"),
    (16, 24, "16-24"),
    (25, 34, "25-34"),
    (35, 49, "35-49"),
    (50, 64, "50-64"),
    (65, 200, "65+"),
)
"""The study's working-age bands (as published), with the ages outside them as own groups."""

BREAKDOWNS: tuple[str, ...] = ("ethnic_group", "imd_quintile", "age_band", "sex", "region")
"""Dimensions every by-group table is broken down by."""

IMD_QUINTILES: dict[int, str] = {q: quintile_label(q) for q in range(1, 6)}
NOT_RESIDENT_2011 = "Not resident in 2011"
SEX_LABELS: dict[str, str] = {"M": "Male", "F": "Female", "1": "Male", "2": "Female"}


def age_on(dob: pl.Expr, on: date = AGE_REFERENCE_DATE) -> pl.Expr:
    """Age in completed years on ``on`` of a date-of-birth expression."""
    birthday_to_come = (dob.dt.month() > on.month) | (
        (dob.dt.month() == on.month) & (dob.dt.day() > on.day)
    )
    return pl.lit(on.year) - dob.dt.year() - birthday_to_come.cast(pl.Int32)


def age_band(dob: pl.Expr, on: date = AGE_REFERENCE_DATE) -> pl.Expr:
    """Age band on ``on`` of a date-of-birth expression (``Unknown`` without a date)."""
    age = age_on(dob, on)
    expr = pl.when(dob.is_null()).then(pl.lit(UNKNOWN))
    for low, high, label in AGE_BANDS:
        expr = expr.when(age.is_between(low, high)).then(pl.lit(label))
    return expr.otherwise(pl.lit(UNKNOWN))


def person_groups(people: pl.DataFrame) -> pl.DataFrame:
    """One row per person with the breakdown columns of :data:`BREAKDOWNS`.

    Parameters
    ----------
    people
        ``truth/people.parquet`` (``person_id``, ``ethnic_group``, ``sex``,
        ``date_of_birth``, ``lsoa11cd_2011``, ``region_2011``).
    """
    lookup = lsoa_lookup().select("lsoa11cd", "imd_quintile", pl.col("region").alias("_region"))
    frame = people.select(
        "person_id", "ethnic_group", "sex", "date_of_birth", "lsoa11cd_2011", "region_2011"
    ).join(lookup, left_on="lsoa11cd_2011", right_on="lsoa11cd", how="left")
    return frame.select(
        "person_id",
        pl.col("ethnic_group")
        .cast(pl.Utf8)
        .replace_strict(ETHNIC_GROUPS, default=UNKNOWN, return_dtype=pl.Utf8)
        .alias("ethnic_group"),
        pl.col("imd_quintile")
        .cast(pl.Int64)
        .replace_strict(IMD_QUINTILES, default=NOT_RESIDENT_2011, return_dtype=pl.Utf8)
        .alias("imd_quintile"),
        age_band(pl.col("date_of_birth")).alias("age_band"),
        pl.col("sex")
        .cast(pl.Utf8)
        .replace_strict(SEX_LABELS, default=UNKNOWN, return_dtype=pl.Utf8)
        .alias("sex"),
        pl.coalesce(
            pl.col("_region"), pl.col("region_2011").cast(pl.Utf8), pl.lit(NOT_RESIDENT_2011)
        ).alias("region"),
    )


def order_of(breakdown: str) -> list[str] | None:
    """Display order of a breakdown's categories (``None``: alphabetical)."""
    if breakdown == "ethnic_group":
        return [*ETHNIC_GROUPS.values(), UNKNOWN]
    if breakdown == "imd_quintile":
        return [*IMD_QUINTILES.values(), NOT_RESIDENT_2011]
    if breakdown == "age_band":
        return [label for _, _, label in AGE_BANDS] + [UNKNOWN]
    return None
