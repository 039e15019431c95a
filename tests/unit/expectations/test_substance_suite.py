"""The substance gates on hand-made published rates and main points."""

import datetime as dt

import polars as pl
import pytest

from expectations import substance
from expectations.config import ExpectationsConfig
from expectations.runner import run_suite
from expectations.suites import published_substance_suite
from tests.unit.expectations.helpers import failed

Z = 1.959964
JAN, FEB, MAR = dt.date(2020, 1, 1), dt.date(2020, 2, 1), dt.date(2020, 3, 1)


def _rates(rows):
    return pl.DataFrame(
        rows,
        schema=[
            "table",
            "group",
            "estimate",
            "month",
            "people",
            "crude_pct",
            "asr_pct",
            "asr_lower",
            "asr_upper",
        ],
        orient="row",
    )


# Standard errors 1 point (half-width 1.96) each month: a jump of d points is d / sqrt(2) SE.
GOOD = _rates(
    [
        ("overall", "All", "linked", JAN, 5000, 13.0, 13.0, 13.0 - Z, 13.0 + Z),
        ("overall", "All", "linked", FEB, 5000, 13.5, 14.0, 14.0 - Z, 14.0 + Z),
        ("by_x", "Small", "linked", JAN, 60, 30.0, 31.0, 31.0 - Z, 31.0 + Z),
    ]
)


def test_rate_substance_by_hand():
    frame = substance.rate_substance(GOOD)
    overall = frame.filter(pl.col("table") == "overall").sort("month")
    # Jump of 1 point over sqrt(1 + 1) standard errors; the first month has none.
    assert overall["jump_standard_errors"].to_list() == [None, pytest.approx(1 / 2**0.5)]
    assert overall["asr_crude_gap_pp"].to_list() == pytest.approx([0.0, 0.5])
    small = frame.filter(pl.col("group") == "Small").row(0, named=True)
    assert small["asr_crude_gap_pp"] == pytest.approx(1.0)


def _run(rates, points=()):
    frames = {
        "rate_substance": substance.rate_substance(rates),
        "main_point_claims": substance.main_point_claims(list(points)),
    }
    return run_suite(published_substance_suite(ExpectationsConfig()), frames)


def test_good_tables_pass():
    assert (
        failed(_run(GOOD, ["a rise of 3.2 percentage points (95% confidence interval 2.1 to 4.4)"]))
        == set()
    )


def test_standardised_far_from_crude_on_small_base_warns():
    bad = pl.concat([GOOD, _rates([("by_x", "Tiny", "linked", JAN, 40, 31.4, 43.0, 30.0, 56.0)])])
    result = _run(bad)
    assert failed(result, "warning") == {"asr_within_5pp_of_crude_on_small_base"}
    # The same gap on a large base is not a sign of capture: no warning.
    large = bad.with_columns(pl.lit(50_000).alias("people"))
    assert failed(_run(large)) == set()


def test_jump_beyond_its_interval_warns():
    jump = pl.concat(
        [GOOD, _rates([("overall", "All", "linked", MAR, 5000, 20.0, 20.0, 20.0 - Z, 20.0 + Z)])]
    )
    # 6 points over sqrt(2) = 4.24 standard errors > 4: a real step on 5,000 people ...
    assert failed(_run(jump)) == set()
    # ... and a warning on 500.
    small = jump.with_columns(pl.lit(500).alias("people"))
    assert failed(_run(small), "warning") == {"month_on_month_jump_within_4_standard_errors"}


def test_main_point_claiming_an_unsupported_change_fails():
    points = [
        "Rises: 16-24 (rise of 7.7 percentage points, 95% confidence interval 4.3 to 11.2).",
        "The gap widened for Pakistani (+5.0 percentage points, 95% confidence interval -1.8 "
        "to 11.7); it narrowed for Arab (-2.0 percentage points, 95% confidence interval "
        "-3.0 to -0.5).",
        "no clear change (+1.5 percentage points, 95% confidence interval -0.4 to 3.4).",
    ]
    claims = substance.main_point_claims(points)
    assert claims["claim"].to_list() == ["rise", "widened", "narrowed"]
    assert claims["supported"].to_list() == [True, False, True]
    result = _run(GOOD, points)
    assert failed(result, "critical") == {"main_point_change_supported_by_interval"}
