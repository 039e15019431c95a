"""The GP and DWP address histories agree with the movers of the truth (6,000-person world,
seed 7, default noise)."""

import datetime as dt

import polars as pl
import pytest

CENSUS_DAY = dt.date(2011, 3, 27)
EXTRACTS = (("gp", "gp_registrations", "gp_record_id"), ("dwp", "dwp_customers", "dwp_master_key"))


@pytest.fixture(scope="module")
def world(small_world):
    return small_world[0]


def _read(world, group, name):
    return pl.read_parquet(world / group / f"{name}.parquet")


def _compact(column: str) -> pl.Expr:
    return pl.col(column).str.to_uppercase().str.replace_all(r"\s", "")


def _history_with_people(world, source, id_column):
    history = _read(world, "sources", f"{source}_address_history")
    record_map = _read(world, "truth", "record_map").filter(pl.col("source") == source)
    return history.join(
        record_map.select(pl.col("record_id").alias(id_column), "person_id"), on=id_column
    )


@pytest.mark.parametrize(("source", "table", "id_column"), EXTRACTS)
def test_every_previous_address_is_a_past_residence_of_the_person(world, source, table, id_column):
    history = _history_with_people(world, source, id_column)
    residences = _read(world, "truth", "residences")
    assert history.height > 0
    # Dates are recorded as lived: each row is one of the person's residences, and a past one.
    found = history.join(residences, on=["person_id", "from_date", "to_date"], how="left")
    assert found.get_column("lsoa11cd").null_count() == 0
    assert history.get_column("to_date").null_count() == 0
    # Postcodes carry only recording errors: written differently, blank, or a wrong digit
    # (0.5-1% blank and 0.3% wrong digits by default, times the quality factor).
    same = found.select((_compact("postcode") == _compact("postcode_right")).fill_null(False))
    assert same.to_series().mean() >= 0.97


@pytest.mark.parametrize(("source", "table", "id_column"), EXTRACTS)
def test_people_who_never_moved_have_no_history_and_most_movers_have_one(
    world, source, table, id_column
):
    residences = _read(world, "truth", "residences")
    addresses = residences.group_by("person_id").agg(pl.len().alias("n"))
    record_map = _read(world, "truth", "record_map").filter(pl.col("source") == source)
    records = record_map.join(addresses, on="person_id")
    with_history = _read(world, "sources", f"{source}_address_history").get_column(id_column)
    records = records.with_columns(pl.col("record_id").is_in(with_history.implode()).alias("h"))
    stayed = records.filter(pl.col("n") == 1)
    assert stayed.height > 0 and not stayed.get_column("h").any()
    # A mover's record lacks a history only when every earlier address went unrecorded
    # (10% of addresses by default, more in poor records) or its only earlier address is
    # the one it still holds as current (stale addresses: 25-30% of movers' records).
    movers = records.filter(pl.col("n") == 2)
    share = movers.get_column("h").mean()
    assert 0.5 <= share <= 0.85, share


def test_the_census_address_of_people_who_moved_since_is_in_most_gp_histories(world):
    history = _history_with_people(world, "gp", "gp_record_id")
    census = _read(world, "sources", "census").join(
        _read(world, "truth", "record_map")
        .filter(pl.col("source") == "census")
        .select(pl.col("record_id").alias("census_person_id"), "person_id"),
        on="census_person_id",
    )
    gp = _read(world, "sources", "gp_registrations").join(
        _read(world, "truth", "record_map")
        .filter(pl.col("source") == "gp")
        .select(pl.col("record_id").alias("gp_record_id"), "person_id"),
        on="gp_record_id",
    )
    moved = (
        census.join(gp, on="person_id", suffix="_gp")
        .filter(_compact("postcode") != _compact("postcode_gp"))
        .select("person_id", "gp_record_id", census_pc=_compact("postcode"))
    )
    held = history.select("gp_record_id", held=_compact("postcode"))
    found = moved.join(held, on="gp_record_id", how="left").with_columns(
        (pl.col("held") == pl.col("census_pc")).fill_null(False).alias("hit")
    )
    share = found.group_by("gp_record_id").agg(pl.col("hit").any()).get_column("hit").mean()
    # The GP postcode differs from the census one mostly because the person moved: then the
    # census address is in the history unless it went unrecorded (10%) or mistyped.
    assert moved.height > 200 and share >= 0.7, share
