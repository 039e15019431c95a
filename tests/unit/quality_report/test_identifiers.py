import datetime as dt

import polars as pl

from quality_report.identifiers import completeness, nhs_number_valid, record_flags


def _valid_nhs(values):
    return pl.DataFrame({"n": values}).select(nhs_number_valid(pl.col("n"))).to_series().to_list()


def test_nhs_number_modulus_11():
    # 943 476 5919: weights 10..2 give 299; 11 - 299 % 11 = 9, the last digit.
    assert _valid_nhs(["9434765919", "9434765918", "943476591", "94347659ab", None]) == [
        True,
        False,
        False,
        False,
        False,
    ]
    # A check value of 10 is never valid: 000 000 001 sums to 2, 11 - 2 = 9 -> valid 0000000019.
    assert _valid_nhs(["0000000019"]) == [True]


def test_flags_and_completeness_by_hand():
    frame = pl.DataFrame(
        {
            "record_id": ["D1", "D2", "D3", "D4"],
            "nino": ["AB123456C", "BG123456A", "DA123456A", None],
            "forename": ["ANN", "UNKNOWN", " ", "ZOE"],
            "surname": ["LEE", "LEE", "LEE", "LEE"],
            "date_of_birth": [dt.date(1980, 1, 1), dt.date(1899, 5, 5), None, dt.date(1990, 2, 3)],
            "sex": ["Male", "Female", "M", None],
            "postcode": ["sw1a 1aa", "SW1A1AA", "NOT KNOWN", "LS2 9JT"],
        }
    )
    flags = record_flags("dwp", frame)
    assert flags.get_column("valid_nino").to_list() == [True, False, False, False]
    assert flags.get_column("complete_forename").to_list() == [True, True, False, True]
    assert flags.get_column("valid_forename").to_list() == [True, False, False, True]
    assert flags.get_column("valid_date_of_birth").to_list() == [True, False, False, True]
    assert flags.get_column("valid_sex").to_list() == [True, True, False, False]
    assert flags.get_column("valid_postcode").to_list() == [True, True, False, True]
    assert flags.get_column("jan_first_dob").to_list() == [True, False, False, False]
    groups = pl.DataFrame(
        {
            "record_id": ["D1", "D2", "D3", "D4"],
            "ethnic_group": ["A", "A", "B", "B"],
            "imd_quintile": ["1"] * 4,
            "age_band": ["16-24"] * 4,
            "sex": ["Male"] * 4,
            "region": ["London"] * 4,
        }
    )
    table = completeness("dwp", frame, groups)
    nino = table.filter((pl.col("identifier") == "nino") & (pl.col("breakdown") == "all")).row(
        0, named=True
    )
    assert (nino["records"], nino["complete"], nino["valid"]) == (4, 3, 1)
    by_group = table.filter(
        (pl.col("identifier") == "forename") & (pl.col("breakdown") == "ethnic_group")
    ).sort("group")
    assert by_group.get_column("valid").to_list() == [1, 1]
    assert by_group.get_column("complete").to_list() == [2, 1]
