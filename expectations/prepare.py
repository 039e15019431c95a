"""Cross-table facts computed in polars before validation.

Great Expectations checks one batch at a time, so facts that join two files (does this key
exist in the customers table? is this census record linked to a GP record?) are computed
here, vectorised, into small frames that the suites then check.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from evaluation.intervals import wilson_interval

#: Spine ``source`` code to the source extract and its record id column.
SPINE_SOURCES = {
    "census": ("census", "census_person_id"),
    "gp": ("gp_registrations", "gp_record_id"),
    "dwp": ("dwp_customers", "dwp_master_key"),
}
EXTRACT_DAY = dt.date(2021, 3, 31)


def key_exists(frame: pl.DataFrame, key: str, reference: pl.Series, flag: str) -> pl.DataFrame:
    """The key column of ``frame`` (row order kept) and whether each key is in ``reference``."""
    return frame.select(key, pl.col(key).is_in(reference.implode()).alias(flag))


def spine_relations(spine: pl.DataFrame, sources: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Each spine row with whether its record exists in the source extract it names."""
    known = pl.concat(
        [
            sources[extract].select(pl.lit(code).alias("source"), pl.col(column).alias("record_id"))
            for code, (extract, column) in SPINE_SOURCES.items()
        ]
    ).with_columns(pl.lit(True).alias("in_source"))
    return (
        spine.select("source", "record_id")
        .join(
            known.unique(["source", "record_id"]),
            on=["source", "record_id"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("in_source").fill_null(False))
    )


#: Two-sided level of the interval a linkage-rate floor is tested against: a floor fails only
#: when the whole 99% interval lies below it, so sampling noise in a small world cannot stop
#: a run (a run of 5,000 people has about 4,000 census records: a half-width near 1.7 points).
FLOOR_CONFIDENCE = 0.99


def with_upper_limits(rates: pl.DataFrame, *, confidence: float = FLOOR_CONFIDENCE) -> pl.DataFrame:
    """Add ``linked_<source>_upper``: the Wilson upper limit of each linkage rate."""
    records = rates["records"].to_numpy()
    columns = []
    for code in ("gp", "dwp"):
        linked = np.round(rates[f"linked_{code}"].to_numpy() * records)
        _, upper = wilson_interval(linked, np.maximum(records, 1), confidence=confidence)
        columns.append(pl.Series(f"linked_{code}_upper", upper, dtype=pl.Float64))
    return rates.with_columns(columns)


def linkage_rates(spine: pl.DataFrame, census: pl.DataFrame) -> pl.DataFrame:
    """Share of census records whose spine person also holds a GP / DWP record.

    One row with ``breakdown == "all"`` and one per ethnic group (missing codes grouped as
    ``missing``); ``records`` is the number of census records behind each rate, and
    ``linked_<source>_upper`` the rate's upper limit (see :data:`FLOOR_CONFIDENCE`).
    """
    holders = {
        code: spine.filter(pl.col("source") == code).select("person_id").unique()
        for code in ("gp", "dwp")
    }
    census_people = census.select(
        pl.col("census_person_id").alias("record_id"),
        pl.col("ethnic_group").fill_null("missing"),
    ).join(
        spine.filter(pl.col("source") == "census").select("record_id", "person_id"),
        on="record_id",
        how="left",
    )
    for code, people in holders.items():
        census_people = census_people.with_columns(
            pl.col("person_id")
            .is_in(people["person_id"].implode())
            .fill_null(False)
            .alias(f"linked_{code}")
        )
    rate_columns = [
        pl.len().cast(pl.Int64).alias("records"),
        pl.col("linked_gp").mean().alias("linked_gp"),
        pl.col("linked_dwp").mean().alias("linked_dwp"),
    ]
    overall = census_people.select(
        pl.lit("all").alias("breakdown"), pl.lit("all").alias("group"), *rate_columns
    )
    groups = (
        census_people.group_by("ethnic_group")
        .agg(rate_columns)
        .sort("ethnic_group")
        .select(
            pl.lit("ethnic_group").alias("breakdown"),
            pl.col("ethnic_group").alias("group"),
            "records",
            "linked_gp",
            "linked_dwp",
        )
    )
    return with_upper_limits(pl.concat([overall, groups]))


def benefit_timing(
    spine: pl.DataFrame,
    census: pl.DataFrame,
    gp_registrations: pl.DataFrame,
    spells: pl.DataFrame,
) -> pl.DataFrame:
    """Benefit spells of linked people beside their birth and death months.

    A person is linked when their spine cluster holds a DWP key and a census or GP record.
    Birth is the earliest date of birth on those census and GP records (so one mistyped
    date does not flag a true link); death is the latest GP date of death.
    """
    census_dates = census.select(
        pl.col("census_person_id").alias("record_id"),
        "date_of_birth",
        pl.lit(None, dtype=pl.Date).alias("date_of_death"),
    ).with_columns(pl.lit("census").alias("source"))
    gp_dates = gp_registrations.select(
        pl.col("gp_record_id").alias("record_id"), "date_of_birth", "date_of_death"
    ).with_columns(pl.lit("gp").alias("source"))
    people = (
        spine.join(pl.concat([census_dates, gp_dates]), on=["source", "record_id"], how="inner")
        .group_by("person_id")
        .agg(
            pl.col("date_of_birth").min().dt.truncate("1mo").alias("birth_month"),
            pl.col("date_of_death").max().dt.truncate("1mo").alias("death_month"),
        )
    )
    keys = spine.filter(pl.col("source") == "dwp").select(
        pl.col("record_id").alias("dwp_master_key"), "person_id"
    )
    last_day = pl.min_horizontal(pl.col("end_date").fill_null(EXTRACT_DAY), pl.lit(EXTRACT_DAY))
    return (
        spells.join(keys, on="dwp_master_key", how="inner")
        .join(people, on="person_id", how="inner")
        .select(
            "dwp_master_key",
            "person_id",
            "benefit",
            pl.col("start_date").dt.truncate("1mo").alias("first_benefit_month"),
            last_day.dt.truncate("1mo").alias("last_benefit_month"),
            "birth_month",
            "death_month",
        )
        .sort("dwp_master_key", "first_benefit_month")
    )
