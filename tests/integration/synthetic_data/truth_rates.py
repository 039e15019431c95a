"""Monthly working-age benefit prevalence computed straight from the truth tables.

A person counts in a month when they live in England on its first day and are aged 16-64
then; they count as receiving a benefit when an included (working-age) spell overlaps the
month. This is written independently of the generator, from the contract columns only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

INCLUDED = ["UC", "JSA", "ESA", "IS", "IB_SDA", "HB", "PIP", "DLA", "CA"]


def months() -> list[dt.date]:
    """First days of November 2019 .. March 2021 (17 months)."""
    out, year, month = [], 2019, 11
    while (year, month) <= (2021, 3):
        out.append(dt.date(year, month, 1))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def _month_end(first: dt.date) -> dt.date:
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def monthly_panel(truth: Path) -> pl.DataFrame:
    """One row per person and month in the working-age population, with ``claiming``."""
    people = pl.read_parquet(truth / "people.parquet")
    spells = pl.read_parquet(truth / "benefit_spells.parquet").filter(
        pl.col("benefit").is_in(INCLUDED)
    )
    residences = pl.read_parquet(truth / "residences.parquet")
    first_address = residences.group_by("person_id").agg(pl.col("from_date").min().alias("arr"))
    conditions = pl.read_parquet(truth / "conditions.parquet")
    autism_ld = (
        conditions.filter(pl.col("cluster").is_in(["AUTISM", "LD"]))
        .select("person_id")
        .unique()
        .with_columns(pl.lit(True).alias("autism_ld"))
    )
    frames = []
    for first in months():
        last = _month_end(first)
        pop = (
            people.join(first_address, on="person_id")
            .filter(
                (pl.col("arr") <= first)
                & (pl.col("date_of_death").is_null() | (pl.col("date_of_death") > first))
                & (pl.col("emigration_date").is_null() | (pl.col("emigration_date") > first))
            )
            .with_columns(
                ((pl.lit(first) - pl.col("date_of_birth")).dt.total_days() / 365.25).alias("age")
            )
            .filter((pl.col("age") >= 16) & (pl.col("age") < 65))
        )
        active = (
            spells.filter(
                (pl.col("start_date") <= last)
                & (pl.col("end_date").is_null() | (pl.col("end_date") >= first))
            )
            .select("person_id")
            .unique()
            .with_columns(pl.lit(True).alias("claiming"))
        )
        frames.append(
            pop.join(active, on="person_id", how="left").select(
                pl.lit(first).alias("month"),
                "person_id",
                "sex",
                "ethnic_group",
                "age",
                pl.col("claiming").fill_null(False),
            )
        )
    panel = pl.concat(frames)
    # Deprivation where the person lives on the first of the month.
    res = residences.with_columns(pl.col("to_date").fill_null(dt.date(2100, 1, 1)))
    panel = (
        panel.join(res, on="person_id")
        .filter((pl.col("from_date") <= pl.col("month")) & (pl.col("to_date") > pl.col("month")))
        .unique(["person_id", "month"])
    )
    imd = pl.read_csv(
        Path(__file__).resolve().parents[3] / "synthetic_data/reference/imd2019_lsoa11_england.csv",
        columns=["lsoa11cd", "imd_decile"],
    )
    panel = panel.join(imd, on="lsoa11cd", how="left").join(autism_ld, on="person_id", how="left")
    return panel.with_columns(
        ((pl.col("imd_decile") + 1) // 2).alias("imd_quintile"),
        pl.col("autism_ld").fill_null(False),
        pl.col("age")
        .cut([25, 35, 50], labels=["16-24", "25-34", "35-49", "50-64"], left_closed=True)
        .cast(pl.Utf8)
        .alias("age_band"),
    )


def rates(panel: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Crude monthly percentage claiming, by month and ``by``."""
    return (
        panel.group_by(["month", *by])
        .agg(pl.len().alias("n"), (pl.col("claiming").mean() * 100).alias("pct"))
        .sort(["month", *by])
    )
