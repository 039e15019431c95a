"""Recording errors in a generated world follow the configuration and fall unevenly."""

import datetime as dt

import polars as pl
import pytest

from synthetic_data import NO_NOISE, WorldConfig, generate_world

P = 0.05
RATES = {
    "census": {"forename": {"blank": P, "typo": P}, "surname": {"blank": P, "typo": P},
               "date_of_birth": {"wrong_digit_dob": P}},
    "gp": {"nhs_number": {"blank": P}, "forename": {"blank": P}},
    "dwp": {"nino": {"blank": P}, "surname": {"blank": P}},
}  # fmt: skip


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    out = tmp_path_factory.mktemp("noisy")
    generate_world(WorldConfig(noise=RATES), people=8000, seed=99, out_dir=out)
    return out


def _log(world):
    return pl.read_parquet(world / "truth" / "noise_log.parquet")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "table", "column"),
    [("census", "census", "forename"), ("census", "census", "surname"),
     ("gp", "gp_registrations", "nhs_number"), ("gp", "gp_registrations", "forename"),
     ("dwp", "dwp_customers", "nino"), ("dwp", "dwp_customers", "surname")],
)  # fmt: skip
def test_blank_rate_follows_the_configuration(noisy, source, table, column):
    records = pl.read_parquet(noisy / "sources" / f"{table}.parquet")
    if source == "census":
        records = records.filter(~pl.col("wholly_imputed"))
    hits = _log(noisy).filter(
        (pl.col("source") == source)
        & (pl.col("column") == column)
        & (pl.col("noise_type") == "blank")
    )
    rate = hits.height / records.height
    # The quality factor has mean one over the people an extract is drawn from, not exactly
    # over the records it keeps, so allow 25% either side as well as sampling error.
    assert 0.75 * P <= rate <= 1.25 * P, rate
    blanked = records.filter(pl.col(column).is_null()).height
    assert blanked >= hits.height * 0.95


@pytest.mark.slow
def test_errors_cluster_within_records(noisy):
    log = _log(noisy).filter(pl.col("source") == "census")
    census = pl.read_parquet(noisy / "sources" / "census.parquet").filter(~pl.col("wholly_imputed"))
    n = census.height
    fore = set(log.filter(pl.col("column") == "forename").get_column("record_id"))
    sur = set(log.filter(pl.col("column") == "surname").get_column("record_id"))
    both = len(fore & sur)
    independent = len(fore) * len(sur) / n
    assert both > 1.15 * independent, (both, independent)


@pytest.mark.slow
def test_errors_fall_more_on_young_men(noisy):
    log = _log(noisy).filter(pl.col("source") == "census")
    people = pl.read_parquet(noisy / "truth" / "people.parquet")
    mapping = pl.read_parquet(noisy / "truth" / "record_map.parquet").filter(
        pl.col("source") == "census"
    )
    age = (pl.lit(dt.date(2011, 3, 27)) - pl.col("date_of_birth")).dt.total_days() / 365.25
    frame = mapping.join(people, on="person_id").with_columns(
        ((pl.col("sex") == "M") & age.is_between(20, 40, closed="left")).alias("young_man"),
        pl.col("record_id").is_in(log.get_column("record_id").implode()).alias("hit"),
    )
    rates = dict(frame.group_by("young_man").agg(pl.col("hit").mean()).iter_rows())
    assert rates[True] > 1.2 * rates[False], rates


def test_no_noise_world_has_an_empty_noise_log_and_true_values(tmp_path):
    generate_world(WorldConfig(noise=NO_NOISE), people=1500, seed=4, out_dir=tmp_path)
    assert _log(tmp_path).height == 0
    census = pl.read_parquet(tmp_path / "sources" / "census.parquet").filter(
        ~pl.col("wholly_imputed")
    )
    mapping = pl.read_parquet(tmp_path / "truth" / "record_map.parquet")
    people = pl.read_parquet(tmp_path / "truth" / "people.parquet")
    joined = census.join(mapping, left_on="census_person_id", right_on="record_id").join(
        people, on="person_id", suffix="_true"
    )
    assert (joined.get_column("forename") == joined.get_column("forename_true")).all()
    assert (joined.get_column("surname") == joined.get_column("surname_2011")).all()
    assert (joined.get_column("date_of_birth") == joined.get_column("date_of_birth_true")).all()
