"""The world holds what real linked data holds: coverage gaps, hard non-matches and life events."""

import datetime as dt

import polars as pl
import pytest

CENSUS_DAY = dt.date(2011, 3, 27)


def _t(world, name):
    return pl.read_parquet(world / "truth" / f"{name}.parquet")


def _s(world, name):
    return pl.read_parquet(world / "sources" / f"{name}.parquet")


@pytest.fixture(scope="module")
def world(small_world):
    return small_world[0]


def _mapped(world, source):
    return _t(world, "record_map").filter(pl.col("source") == source)


def test_census_non_response_about_six_percent_and_uneven(world):
    people = _t(world, "people").filter(pl.col("lsoa11cd_2011").is_not_null())
    rate = 1 - people.get_column("in_census").mean()
    assert 0.045 <= rate <= 0.075, rate
    age = (pl.lit(CENSUS_DAY) - pl.col("date_of_birth")).dt.total_days() / 365.25
    young_men = people.filter((pl.col("sex") == "M") & age.is_between(20, 40, closed="left"))
    others = people.filter(~((pl.col("sex") == "M") & age.is_between(20, 40, closed="left")))
    assert 1 - young_men.get_column("in_census").mean() > 1.3 * (
        1 - others.get_column("in_census").mean()
    )


def test_people_absent_from_the_census_by_design(world):
    people = _t(world, "people")
    census_people = _mapped(world, "census").get_column("person_id")
    later = people.filter(
        pl.col("immigration_date").is_not_null() | (pl.col("date_of_birth") > CENSUS_DAY)
    )
    assert later.height > 0.1 * people.height
    assert not later.get_column("person_id").is_in(census_people.implode()).any()


def test_wholly_imputed_records_have_no_names(world):
    census = _s(world, "census")
    imputed = census.filter(pl.col("wholly_imputed"))
    assert 0.01 < imputed.height / census.height < 0.06
    assert imputed.get_column("forename").is_null().all()
    assert imputed.get_column("surname").is_null().all()


def test_gp_holds_ghosts_deaths_and_duplicates(world):
    gp = _s(world, "gp_registrations")
    mapped = _mapped(world, "gp").join(_t(world, "people"), on="person_id")
    assert mapped.filter(pl.col("emigration_date").is_not_null()).height > 0, "no ghosts"
    deaths = gp.filter(pl.col("date_of_death").is_not_null())
    assert deaths.height > 0
    assert (deaths.get_column("date_of_death") >= dt.date(2019, 11, 1)).all()
    per_person = _mapped(world, "gp").group_by("person_id").len()
    assert per_person.filter(pl.col("len") > 1).height > 0, "no duplicate registrations"
    # Registered people are a subset: never-registered, opted out, uncovered practices.
    alive = _t(world, "people").filter(
        pl.col("date_of_death").is_null() & pl.col("emigration_date").is_null()
    )
    covered = alive.get_column("person_id").is_in(
        _mapped(world, "gp").get_column("person_id").implode()
    )
    assert 0.80 < covered.mean() < 0.97


def test_some_dwp_customers_hold_two_keys(world):
    keys = _mapped(world, "dwp").group_by("person_id").len()
    share = keys.filter(pl.col("len") > 1).height / keys.height
    assert 0.01 < share < 0.04


def test_moves_change_postcode_and_lsoa_together(world):
    res = _t(world, "residences").sort("person_id", "from_date")
    moves = res.with_columns(
        pl.col("postcode").shift(1).over("person_id").alias("prev"),
    ).filter(pl.col("prev").is_not_null())
    assert moves.height > 0
    assert (moves.get_column("postcode") != moves.get_column("prev")).all()
    # A postcode belongs to one LSOA.
    assert (
        res.group_by("postcode").agg(pl.col("lsoa11cd").n_unique()).get_column("lsoa11cd").max()
        == 1
    )


def test_marriages_change_surnames_some_double_barrelled(world):
    people = _t(world, "people")
    changed = people.filter(pl.col("surname_2011") != pl.col("surname_2021"))
    assert changed.height > 0.01 * people.height
    assert changed.get_column("surname_2021").str.contains("-").any()


def test_hard_non_matches_are_present(world):
    people = _t(world, "people")
    # Twins: same household, birth date and surname, different forenames.
    twins = (
        people.filter(pl.col("household_id_2011").is_not_null())
        .group_by("household_id_2011", "date_of_birth", "surname")
        .agg(pl.col("forename").n_unique().alias("names"), pl.len())
        .filter(pl.col("len") >= 2)
    )
    assert twins.filter(pl.col("names") == pl.col("len")).height > 0
    # Father and son sharing a forename in one household.
    same_name = (
        people.filter(pl.col("household_id_2011").is_not_null())
        .group_by("household_id_2011", "forename", "surname")
        .agg(pl.col("sex").unique().alias("sexes"), pl.len())
        .filter(pl.col("len") >= 2)
    )
    assert same_name.height > 0
    # Shared, very common surnames.
    surnames = set(people.get_column("surname_2011").drop_nulls())
    assert {"Smith", "Khan", "Singh", "Kaur", "Begum"} <= surnames
    # People in different households sharing a date of birth and a 2011 postcode.
    census = _s(world, "census").filter(~pl.col("wholly_imputed"))
    shared = census.group_by("postcode", "date_of_birth").agg(
        pl.col("household_id").n_unique().alias("households")
    )
    assert shared.filter(pl.col("households") > 1).height > 0


def test_conditions_vary_with_age(world):
    people = _t(world, "people")
    conditions = _t(world, "conditions").join(people, on="person_id")
    age = (pl.col("onset_date") - pl.col("date_of_birth")).dt.total_days() / 365.25
    mean_age = conditions.group_by("cluster").agg(age.mean().alias("onset_age"))
    onset = dict(mean_age.iter_rows())
    assert onset["AUTISM"] < onset["DEPANX"] < onset["DIABETES"] < onset["CVD"]
    assert set(onset) == {"AUTISM", "LD", "SMI", "DEPANX", "DIABETES", "RESP", "CVD", "CANCER"}


def test_excluded_benefits_are_present(world):
    spells = _s(world, "dwp_benefit_spells")
    assert {"SP", "PC", "AA", "BB"} <= set(spells.get_column("benefit"))
    assert {"UC", "ESA", "PIP", "HB"} <= set(spells.get_column("benefit"))
