"""One age-band definition with one reference date, and the published labels."""

import datetime as dt

import polars as pl

from analysis.reference import ETHNIC_GROUPS, STUDY_START
from evaluation.groups import AGE_REFERENCE_DATE, age_band, order_of, person_groups


def test_age_is_taken_on_the_study_start():
    assert AGE_REFERENCE_DATE == STUDY_START == dt.date(2019, 11, 1)
    dobs = pl.DataFrame(
        {
            "dob": [
                dt.date(2003, 11, 1),  # 16 on the reference date itself
                dt.date(2003, 11, 2),  # 15, turns 16 the day after
                dt.date(1955, 11, 1),  # 64
                dt.date(1954, 11, 1),  # 65
                None,
            ]
        }
    )
    bands = dobs.select(age_band(pl.col("dob"))).to_series().to_list()
    assert bands == ["16-24", "0-15", "50-64", "65+", "Unknown"]


def test_person_groups_use_the_published_labels():
    people = pl.DataFrame(
        {
            "person_id": ["A", "B"],
            "ethnic_group": ["14", "01"],
            "sex": ["F", "M"],
            "date_of_birth": [dt.date(1990, 1, 1), dt.date(1980, 1, 1)],
            "lsoa11cd_2011": ["E01000001", None],
            "region_2011": [None, None],
        }
    )
    groups = person_groups(people).sort("person_id").to_dicts()
    assert groups[0]["ethnic_group"] == "Black African"
    assert groups[0]["region"] == "London"
    assert groups[0]["sex"] == "Female"
    # Not resident in 2011: no LSOA, so neither a quintile nor a region.
    assert groups[1]["imd_quintile"] == groups[1]["region"] == "Not resident in 2011"
    assert set(order_of("ethnic_group")) >= set(ETHNIC_GROUPS.values())
