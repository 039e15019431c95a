"""Who each person is, for breakdowns: ethnic group, IMD quintile, age band, sex, region.

Attributes come from the ground truth (``truth/people.parquet``) joined to the project's
reference lookups, because the point of a breakdown is to see for whom linkage worked
worse, whatever the records themselves said.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import polars as pl

# The published labels, so the report and the study's tables name groups alike.
from analysis.reference import ETHNIC_GROUPS

AGE_REFERENCE_DATE = date(2019, 11, 1)
"""Ages are taken at the start of the study period, the month the published series begin."""

AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 15, "0-15"),
    (16, 24, "16-24"),
    (25, 34, "25-34"),
    (35, 49, "35-49"),
    (50, 64, "50-64"),
    (65, 200, "65+"),
)
"""The study's working-age bands, with the ages outside them kept as their own groups."""

BREAKDOWNS: tuple[str, ...] = ("ethnic_group", "imd_quintile", "age_band", "sex", "region")
"""Dimensions every by-group table of the report is broken down by."""

IMD_QUINTILES: dict[int, str] = {
    1: "1 (most deprived)",
    2: "2",
    3: "3",
    4: "4",
    5: "5 (least deprived)",
}


REFERENCE_DIR = Path(__file__).resolve().parent.parent / "synthetic_data" / "reference"
"""The project's reference lookups (IMD 2019 by LSOA, LSOA to region)."""


@cache
def _lsoa_lookup() -> pl.DataFrame:
    imd = pl.read_csv(
        REFERENCE_DIR / "imd2019_lsoa11_england.csv", columns=["lsoa11cd", "imd_decile"]
    )
    region = pl.read_csv(
        REFERENCE_DIR / "lsoa11_lad19_region_england.csv", columns=["lsoa11cd", "rgn11nm"]
    )
    return imd.join(region, on="lsoa11cd", how="left")


def age_band(dob: pl.Expr, on: date = AGE_REFERENCE_DATE) -> pl.Expr:
    """Age band on ``on`` of a date-of-birth expression."""
    age = (
        pl.lit(on.year)
        - dob.dt.year()
        - (
            (dob.dt.month() > on.month) | ((dob.dt.month() == on.month) & (dob.dt.day() > on.day))
        ).cast(pl.Int32)
    )
    expr = pl.when(dob.is_null()).then(pl.lit("unknown"))
    for low, high, label in AGE_BANDS:
        expr = expr.when(age.is_between(low, high)).then(pl.lit(label))
    return expr.otherwise(pl.lit("unknown"))


def person_groups(people: pl.DataFrame) -> pl.DataFrame:
    """One row per person with the breakdown columns of :data:`BREAKDOWNS`.

    Parameters
    ----------
    people
        ``truth/people.parquet``.
    """
    lookup = _lsoa_lookup()
    quintile = ((pl.col("imd_decile") + 1) // 2).cast(pl.Int64)
    frame = people.select(
        "person_id", "ethnic_group", "sex", "date_of_birth", "lsoa11cd_2011", "region_2011"
    ).join(lookup, left_on="lsoa11cd_2011", right_on="lsoa11cd", how="left")
    return frame.select(
        "person_id",
        pl.col("ethnic_group")
        .replace_strict(ETHNIC_GROUPS, default="unknown", return_dtype=pl.Utf8)
        .alias("ethnic_group"),
        quintile.replace_strict(
            IMD_QUINTILES, default="not resident in 2011", return_dtype=pl.Utf8
        ).alias("imd_quintile"),
        age_band(pl.col("date_of_birth")).alias("age_band"),
        pl.col("sex")
        .replace_strict({"M": "Male", "F": "Female"}, default="unknown", return_dtype=pl.Utf8)
        .alias("sex"),
        pl.coalesce(
            pl.col("rgn11nm"), pl.col("region_2011").cast(pl.Utf8), pl.lit("unknown")
        ).alias("region"),
    )


def order_of(breakdown: str) -> list[str] | None:
    """Display order of a breakdown's categories (``None``: alphabetical)."""
    if breakdown == "ethnic_group":
        return [*ETHNIC_GROUPS.values(), "unknown"]
    if breakdown == "imd_quintile":
        return [*IMD_QUINTILES.values(), "not resident in 2011"]
    if breakdown == "age_band":
        return [label for _, _, label in AGE_BANDS] + ["unknown"]
    return None
