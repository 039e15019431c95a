import datetime as dt

import polars as pl

from quality_report.validation import cluster_checks, record_attributes, validation_counts


def test_each_rule_flags_its_cluster():
    census = pl.DataFrame(
        {
            "census_person_id": ["C1", "C2", "C3"],
            "sex": ["1", "2", "1"],
            "date_of_birth": [dt.date(1980, 1, 2), dt.date(1990, 1, 1), dt.date(1970, 1, 1)],
        }
    )
    gp = pl.DataFrame(
        {
            "gp_record_id": ["G1", "G2", "G3"],
            "sex": ["F", "F", "M"],
            "date_of_birth": [dt.date(1980, 1, 2), dt.date(1990, 1, 1), dt.date(1970, 1, 1)],
            "date_of_death": [None, dt.date(2020, 1, 1), None],
        }
    )
    dwp = pl.DataFrame(
        {
            "dwp_master_key": ["D1", "D3"],
            "sex": ["Male", "Male"],
            "date_of_birth": [dt.date(1983, 1, 2), dt.date(1970, 1, 1)],
        }
    )
    spells = pl.DataFrame(
        {
            "dwp_master_key": ["D3"],
            "benefit": ["UC"],
            "start_date": [dt.date(1960, 1, 1)],
            "end_date": [None],
        },
        schema_overrides={"end_date": pl.Date},
    )
    members = pl.DataFrame(
        {
            "source": ["census", "gp", "dwp", "census", "gp", "census", "gp", "dwp"],
            "record_id": ["C1", "G1", "D1", "C2", "G2", "C3", "G3", "D3"],
            "cluster_id": ["K1", "K1", "K1", "K2", "K2", "K3", "K3", "K3"],
        }
    )
    checks = cluster_checks(members, record_attributes(census, gp, dwp), spells).sort("cluster_id")
    # K1: census male, GP female, DWP male; DWP birth date three years later.
    assert checks.get_column("conflicting_sex").to_list() == [True, False, False]
    assert checks.get_column("dob_over_a_year_apart").to_list() == [True, False, False]
    assert checks.get_column("benefit_before_birth").to_list() == [False, False, True]
    assert checks.get_column("benefit_after_death").to_list() == [False, False, False]
    counts = dict(validation_counts(checks).select("rule", "clusters").iter_rows())
    assert counts["conflicting_sex"] == 1 and counts["several_census_records"] == 0


def test_benefit_after_death():
    gp = pl.DataFrame(
        {
            "gp_record_id": ["G1"],
            "sex": ["M"],
            "date_of_birth": [dt.date(1970, 1, 1)],
            "date_of_death": [dt.date(2020, 1, 1)],
        }
    )
    dwp = pl.DataFrame(
        {"dwp_master_key": ["D1"], "sex": ["Male"], "date_of_birth": [dt.date(1970, 1, 1)]}
    )
    spells = pl.DataFrame(
        {"dwp_master_key": ["D1"], "benefit": ["UC"], "start_date": [dt.date(2020, 6, 1)]}
    )
    members = pl.DataFrame(
        {"source": ["gp", "dwp"], "record_id": ["G1", "D1"], "cluster_id": ["K", "K"]}
    )
    checks = cluster_checks(members, record_attributes(None, gp, dwp), spells)
    assert checks.get_column("benefit_after_death").to_list() == [True]
