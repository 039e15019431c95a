"""The written world honours docs/data_contracts.md."""

import polars as pl
import pytest

from synthetic_data import WorldConfig, generate_world
from synthetic_data.block_output import SCHEMAS
from synthetic_data.identifiers import nhs_number_is_valid, nino_is_valid

SOURCES = ["census", "gp_registrations", "gp_conditions", "dwp_customers", "dwp_benefit_spells"]
TRUTH = ["people", "record_map", "residences", "conditions", "benefit_spells", "noise_log"]

# Column names as written in docs/data_contracts.md (typed out here, not imported, so that a
# change to the code cannot silently change the contract).
CONTRACT = {
    "census": ["census_person_id", "household_id", "forename", "middle_names", "surname",
               "date_of_birth", "sex", "postcode", "lsoa11cd", "ethnic_group", "disability",
               "usual_resident", "wholly_imputed"],
    "gp_registrations": ["gp_record_id", "nhs_number", "forename", "middle_names", "surname",
                         "date_of_birth", "sex", "postcode", "lsoa11cd", "practice_code",
                         "registration_date", "deregistration_date", "date_of_death"],
    "gp_conditions": ["gp_record_id", "nhs_number", "cluster", "snomed_code", "event_date"],
    "dwp_customers": ["dwp_master_key", "nino", "forename", "surname", "date_of_birth", "sex",
                      "postcode"],
    "dwp_benefit_spells": ["dwp_master_key", "benefit", "start_date", "end_date"],
    "record_map": ["source", "record_id", "person_id"],
    "residences": ["person_id", "from_date", "to_date", "postcode", "lsoa11cd"],
    "conditions": ["person_id", "cluster", "onset_date"],
    "benefit_spells": ["person_id", "benefit", "start_date", "end_date"],
    "noise_log": ["source", "record_id", "column", "noise_type"],
}  # fmt: skip
PEOPLE_CONTRACT = [
    "person_id", "household_id_2011", "forename", "middle_names", "surname", "sex",
    "date_of_birth", "ethnic_group", "disability", "lsoa11cd_2011", "in_census",
    "immigration_date", "emigration_date", "date_of_death", "region_2011",
]  # fmt: skip


def _read(world, group, name):
    return pl.read_parquet(world / group / f"{name}.parquet")


def test_every_contract_file_has_the_contract_columns(small_world):
    world, _ = small_world
    for name in SOURCES:
        assert _read(world, "sources", name).columns == CONTRACT[name], name
    for name in TRUTH:
        table = _read(world, "truth", name)
        if name == "people":
            assert table.columns[: len(PEOPLE_CONTRACT)] == PEOPLE_CONTRACT
        else:
            assert table.columns == CONTRACT[name], name
    assert SCHEMAS["census"] == CONTRACT["census"]


def test_dates_are_dates_and_ids_are_strings(small_world):
    world, _ = small_world
    census = _read(world, "sources", "census")
    assert census.schema["date_of_birth"] == pl.Date
    assert census.schema["usual_resident"] == pl.Boolean
    for name, column in [
        ("census", "census_person_id"),
        ("gp_registrations", "gp_record_id"),
        ("dwp_customers", "dwp_master_key"),
    ]:
        table = _read(world, "sources", name)
        assert table.schema[column] == pl.Utf8
        assert table.get_column(column).n_unique() == table.height, f"{column} not unique"


def test_every_source_record_traces_to_exactly_one_true_person(small_world):
    world, summary = small_world
    record_map = _read(world, "truth", "record_map")
    people = _read(world, "truth", "people")
    assert record_map.select("source", "record_id").is_duplicated().sum() == 0
    assert record_map.get_column("person_id").is_in(people.get_column("person_id")).all()
    for source, table, column in [
        ("census", "census", "census_person_id"),
        ("gp", "gp_registrations", "gp_record_id"),
        ("dwp", "dwp_customers", "dwp_master_key"),
    ]:
        ids = _read(world, "sources", table).get_column(column)
        mapped = record_map.filter(pl.col("source") == source).get_column("record_id")
        assert ids.sort().equals(mapped.sort()), source
        assert summary["records"][table] == len(ids)


def test_every_nhs_number_passes_mod_11(small_world):
    world, _ = small_world
    gp = _read(world, "sources", "gp_registrations").get_column("nhs_number").drop_nulls()
    assert len(gp) > 1000
    assert nhs_number_is_valid(gp).all()
    truth = _read(world, "truth", "people").get_column("nhs_number")
    assert nhs_number_is_valid(truth).all()
    assert truth.n_unique() == len(truth)


def test_every_nino_matches_the_format_rules(small_world):
    world, _ = small_world
    dwp = _read(world, "sources", "dwp_customers").get_column("nino").drop_nulls()
    assert len(dwp) > 1000
    assert nino_is_valid(dwp).all()


def test_noise_log_points_at_real_records(small_world):
    world, _ = small_world
    log = _read(world, "truth", "noise_log")
    record_map = _read(world, "truth", "record_map")
    assert log.height > 0
    assert log.get_column("record_id").is_in(record_map.get_column("record_id")).all()


@pytest.mark.parametrize("people", [1, 3, 25])
def test_tiny_worlds_still_write_every_table(tmp_path, people):
    summary = generate_world(WorldConfig(), people=people, seed=people, out_dir=tmp_path)
    assert summary["truth_rows"]["people"] == people
    for name in SOURCES:
        assert _read(tmp_path, "sources", name).columns == CONTRACT[name]
    assert _read(tmp_path, "sources", "census").schema["date_of_birth"] == pl.Date
