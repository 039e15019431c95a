"""Standardisation rules on hand-written cases."""

import datetime as dt

import polars as pl
import pytest

from linkage.standardise import (
    postcode_parts,
    standardise_date_column,
    standardise_names,
    standardise_person_number,
    standardise_postcode,
    standardise_sex,
)


def _names(forename, surname, middle=None):
    frame = pl.DataFrame(
        {"forename": [forename], "surname": [surname], "middle_names": [middle]},
        schema={"forename": pl.Utf8, "surname": pl.Utf8, "middle_names": pl.Utf8},
    )
    return standardise_names(frame).row(0, named=True)


def test_case_accents_and_punctuation_are_removed():
    row = _names("  José ", "O'Brien")
    assert row["forename"] == "JOSE"
    assert row["surname"] == "OBRIEN"


def test_titles_are_dropped():
    assert _names("Dr. Amina", "Mrs Begum")["forename"] == "AMINA"
    assert _names("Dr. Amina", "Mrs Begum")["surname"] == "BEGUM"


def test_extra_forenames_move_to_middle_names():
    row = _names("Mary Jane", "Smith", "Ann")
    assert row["forename"] == "MARY"
    assert row["middle_names"] == "JANE ANN"


def test_double_barrelled_surnames_keep_whole_and_parts():
    for written in ("Smith-Jones", "smith jones", "SMITH - JONES"):
        row = _names("Ann", written)
        assert row["surname"] == "SMITHJONES"
        assert row["surname_first"] == "SMITH"
        assert row["surname_last"] == "JONES"


def test_name_key_ignores_order():
    assert _names("Ali", "Khan")["name_key"] == _names("Khan", "Ali")["name_key"] == "ALI KHAN"


def test_blank_names_become_null():
    row = _names("  ", None)
    assert row["forename"] is None
    assert row["surname"] is None
    assert row["name_key"] is None


@pytest.mark.parametrize(
    "text",
    [
        "1980-03-27",
        "27/03/1980",
        "27-03-1980",
        "27.03.1980",
        "19800327",
        "1980/03/27",
        "27 Mar 1980",
        "27 March 1980",
        " 27/03/1980 ",
    ],
)
def test_dates_parse_from_common_formats(text):
    frame = pl.DataFrame({"d": [text]})
    assert standardise_date_column(frame, "d").to_list() == [dt.date(1980, 3, 27)]


def test_day_first_wins_for_ambiguous_dates():
    frame = pl.DataFrame({"d": ["05/11/1975"]})
    assert standardise_date_column(frame, "d").to_list() == [dt.date(1975, 11, 5)]


def test_unparseable_dates_become_null_and_dates_pass_through():
    assert standardise_date_column(pl.DataFrame({"d": ["31/02/1980", "soon"]}), "d").to_list() == [
        None,
        None,
    ]
    dates = pl.DataFrame({"d": [dt.date(2000, 1, 2)]})
    assert standardise_date_column(dates, "d").to_list() == [dt.date(2000, 1, 2)]


def test_postcodes_are_normalised_with_parts():
    frame = pl.DataFrame({"postcode": ["sw1a1aa", " M1 1AE", "ec1a-1bb", "nonsense", None]})
    out = frame.select(standardise_postcode(pl.col("postcode")).alias("postcode")).with_columns(
        postcode_parts()
    )
    assert out.get_column("postcode").to_list() == ["SW1A 1AA", "M1 1AE", "EC1A 1BB", None, None]
    assert out.get_column("postcode_district").to_list()[:3] == ["SW1A", "M1", "EC1A"]
    assert out.get_column("postcode_sector").to_list()[:3] == ["SW1A 1", "M1 1", "EC1A 1"]
    assert out.get_column("postcode_area").to_list()[:3] == ["SW", "M", "EC"]


def test_sex_codes_from_every_source_map_to_m_and_f():
    codes = ["1", "2", "M", "F", "U", "Male", "Female", "male ", None, "9"]
    out = pl.DataFrame({"s": codes}).select(standardise_sex(pl.col("s"))).to_series().to_list()
    assert out == ["M", "F", "M", "F", None, "M", "F", "M", None, None]


@pytest.mark.parametrize("placeholder", ["Unknown", "NOT KNOWN", "not-stated", "Baby", "xxx"])
def test_placeholder_names_become_missing(placeholder):
    row = _names(placeholder, placeholder, placeholder)
    assert row["forename"] is None and row["surname"] is None and row["middle_names"] is None
    # A real name containing a placeholder word is kept.
    assert _names("Ann", "Testa")["surname"] == "TESTA"


def test_person_numbers_keep_letters_and_digits_only():
    values = pl.Series(["943 476 5919", "ab 12 34 56 c", "  ", None])
    out = pl.select(standardise_person_number(pl.lit(values))).to_series().to_list()
    assert out == ["9434765919", "AB123456C", None, None]
