"""The world check measures shares on hand-made records whose answers are counted by hand."""

from datetime import date

import polars as pl
import pytest

from evaluation.world import census_flags, census_record_outcomes, world_shares


def _inputs():
    # Four people with census records: P1 (woman, 50 in 2021, London) linked to GP and DWP;
    # P2 (man, 25 in 2021) has a GP record the linkage missed; P3 (man, 25) died in 2015;
    # P4 is wholly imputed. P5 has no census record at all.
    people = pl.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4", "P5"],
            "sex": ["F", "M", "M", "F", "M"],
            "date_of_birth": [
                date(1970, 6, 1),
                date(1995, 6, 1),
                date(1995, 6, 1),
                date(1980, 1, 1),
                date(1980, 1, 1),
            ],
            "ethnic_group": ["01", "10", "01", "01", "01"],
            "region_2011": ["London", "North West", "North West", "London", "London"],
            "date_of_death": [None, None, date(2015, 1, 1), None, None],
            "emigration_date": [None] * 5,
        },
        schema_overrides={"date_of_death": pl.Date, "emigration_date": pl.Date},
    )
    record_map = pl.DataFrame(
        {
            "source": ["census", "census", "census", "census", "gp", "gp", "dwp", "dwp"],
            "record_id": ["C1", "C2", "C3", "C4", "G1", "G2", "D1", "D5"],
            "person_id": ["P1", "P2", "P3", "P4", "P1", "P2", "P1", "P5"],
        }
    )
    spine = pl.DataFrame(
        {
            "source": record_map.get_column("source"),
            "record_id": record_map.get_column("record_id"),
            "person_id": ["S1", "S2", "S3", "S4", "S1", "S9", "S1", "S5"],
        }
    )
    census = pl.DataFrame(
        {
            "census_person_id": ["C1", "C2", "C3", "C4"],
            "wholly_imputed": [False, False, False, True],
        }
    )
    return people, record_map, spine, census


def _share(table, measure, breakdown, group):
    row = table.filter(
        (pl.col("measure") == measure)
        & (pl.col("breakdown") == breakdown)
        & (pl.col("group") == group)
    )
    return row.get_column("count").item(), row.get_column("records").item()


def test_outcomes_leave_out_imputed_records_and_know_who_is_still_here():
    outcomes = census_record_outcomes(*_inputs())
    assert outcomes.get_column("person_id").sort().to_list() == ["P1", "P2", "P3"]
    by_person = {row["person_id"]: row for row in outcomes.iter_rows(named=True)}
    assert by_person["P3"]["here_at_extract"] is False
    assert by_person["P2"]["in_gp"] is True and by_person["P2"]["linked_gp"] is False
    assert by_person["P1"]["age_band"] == "45-54" and by_person["P2"]["age_band"] == "20-29"


def test_shares_count_linked_and_covered_records_by_group():
    table = world_shares(census_record_outcomes(*_inputs()))
    # Census to GP: P1 and P2 are still here; only P1 is linked, both have a GP record.
    assert _share(table, "census_to_gp", "all", "all") == (1, 2)
    assert _share(table, "in_gp", "all", "all") == (2, 2)
    assert _share(table, "census_to_gp", "age_band", "20-29") == (0, 1)
    assert _share(table, "census_to_gp", "minority", "All ethnic minority groups") == (0, 1)
    assert _share(table, "census_to_gp", "london", "London") == (1, 1)
    # Census to DWP: all three are adults by 2021 (DWP keeps the dead); only P1 is linked.
    assert _share(table, "census_to_dwp", "sex", "Male") == (0, 2)
    share = table.filter(
        (pl.col("measure") == "census_to_dwp") & (pl.col("breakdown") == "all")
    ).row(0, named=True)
    assert share["share"] == pytest.approx(1 / 3)
    assert share["share_lower"] < 1 / 3 < share["share_upper"]


def test_the_stage_reads_wholly_imputed_records_from_the_linkage_exclusions():
    people, record_map, spine, census = _inputs()
    excluded = pl.DataFrame({"source": ["census", "gp"], "record_id": ["C4", "G2"]})
    flags = census_flags(record_map, excluded)
    assert flags.sort("census_person_id").equals(census)
    assert census_record_outcomes(people, record_map, spine, flags).equals(
        census_record_outcomes(people, record_map, spine, census)
    )
