"""Counted repairs: unreadable values become missing and are counted; mostly unreadable
columns are refused. Expected values worked out by hand."""

import datetime as dt

import polars as pl
import pytest

from linkage import LinkageInputError
from linkage.repairs import repair_values

TODAY = dt.date(2026, 1, 1)


def _repair(frame, columns=None, **options):
    columns = columns or {c: f"raw_{c}" for c in frame.columns}
    return repair_values(
        frame, input_name="left", path="left.csv", columns=columns, today=TODAY, **options
    )


def test_compact_dates_with_some_corrupt_are_repaired_and_counted():
    dates = ["19560909", "19801301", "20110327", "", None, "19990231", "18501212", "20300101"]
    frame = pl.DataFrame({"date_of_birth": dates + ["19700101"] * 12})
    out, repairs = _repair(frame, date_formats=("%Y%m%d",), max_invalid_share=0.25)
    parsed = out.get_column("date_of_birth").to_list()
    assert parsed[:3] == [dt.date(1956, 9, 9), None, dt.date(2011, 3, 27)]
    # month 13, 31 February, before 1880 and after today are unreadable; blanks stay blank
    assert parsed[3:8] == [None] * 5
    (repair,) = repairs
    assert (repair.recorded, repair.invalid) == (18, 4)
    assert repair.column == "raw_date_of_birth"
    assert repair.share == pytest.approx(4 / 18)


def test_month_first_format_reads_us_dates():
    frame = pl.DataFrame({"date_of_birth": ["05/06/1994", "12/31/1980"]})
    out, _ = _repair(frame, date_formats=("%m/%d/%Y",))
    assert out.get_column("date_of_birth").to_list() == [dt.date(1994, 5, 6), dt.date(1980, 12, 31)]


def test_a_list_of_formats_is_tried_in_order():
    frame = pl.DataFrame({"date_of_birth": ["05/06/1994", "19940607"]})
    out, repairs = _repair(frame, date_formats=("%m/%d/%Y", "%Y%m%d"))
    assert out.get_column("date_of_birth").to_list() == [dt.date(1994, 5, 6), dt.date(1994, 6, 7)]
    assert repairs[0].invalid == 0


def test_default_formats_read_uk_day_first():
    frame = pl.DataFrame({"date_of_birth": ["05/06/1994", "1994-06-07"]})
    out, _ = _repair(frame)
    assert out.get_column("date_of_birth").to_list() == [dt.date(1994, 6, 5), dt.date(1994, 6, 7)]


def test_mostly_unreadable_column_is_refused_with_rows():
    frame = pl.DataFrame({"date_of_birth": ["05/06/1994", "13/13/1994", "32/01/1990", "x"]})
    with pytest.raises(LinkageInputError) as info:
        _repair(frame)
    message = str(info.value)
    for fragment in ("left.csv", "raw_date_of_birth", "3 of 4 values (75%)", "rows: [2, 3, 4]"):
        assert fragment in message


def test_threshold_is_inclusive_of_its_share():
    # one of five unreadable: 20%, not more than the default 0.2, so repaired not refused
    frame = pl.DataFrame({"date_of_birth": ["1990-01-01"] * 4 + ["never"]})
    _, repairs = _repair(frame)
    assert repairs[0].invalid == 1


def test_uk_postcodes_with_a_stray_value_keep_uk_rule():
    frame = pl.DataFrame({"postcode": ["sw1a 1aa", "M11AE", "B1 1AA", "12345", None]})
    out, repairs = _repair(frame, max_invalid_share=0.3)
    assert out.get_column("postcode").to_list() == ["SW1A 1AA", "M1 1AE", "B1 1AA", None, None]
    assert (repairs[0].recorded, repairs[0].invalid) == (4, 1)


def test_zip_codes_are_kept_as_exact_strings():
    frame = pl.DataFrame({"postcode": ["2617", " 2913", "90210-1234", "x", "2617"]})
    out, repairs = _repair(frame, max_invalid_share=0.3)
    assert out.get_column("postcode").to_list() == ["2617", "2913", "902101234", None, "2617"]
    assert repairs[0].invalid == 1
    assert "2 to 10" in repairs[0].rule


def test_numbers_of_the_wrong_shape_are_missing():
    frame = pl.DataFrame(
        {"shared_number": ["943 476 5919", "ab 12 34 56 c", "n/a", "12"] + ["1234"] * 6}
    )
    out, repairs = _repair(frame)
    assert out.get_column("shared_number").to_list()[:4] == ["9434765919", "AB123456C", None, None]
    assert repairs[0].invalid == 2


def test_other_roles_are_untouched():
    frame = pl.DataFrame({"forename": ["??"], "date_of_birth": [dt.date(1990, 1, 1)]})
    out, repairs = _repair(frame)
    assert out.get_column("forename").to_list() == ["??"]
    assert [r.role for r in repairs] == ["date_of_birth"]
