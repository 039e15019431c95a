"""Hand-computed change, gaps and slope and relative indices of inequality."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from analysis.inequality import change_table, deprivation_inequality, ethnic_gaps, slope_index
from analysis.reference import quintile_label

FEB20, MAR21 = dt.date(2020, 2, 1), dt.date(2021, 3, 1)


def test_slope_index_on_a_straight_line():
    # Equal shares: ridits 0.1 ... 0.9 from least to most deprived; rates 10, 12, ..., 18.
    index = slope_index(np.array([10, 12, 14, 16, 18]), np.ones(5), np.ones(5))
    assert index.sii == pytest.approx(10.0)
    # Fitted line 9 + 10 x: 19 at the most deprived end, 9 at the least.
    assert index.rii == pytest.approx(19 / 9)
    # SII coefficients 2.5 (x - 0.5) = -1, -0.5, 0, 0.5, 1: variance 2.5.
    assert index.sii_se == pytest.approx(np.sqrt(2.5))


def test_slope_index_weights_groups_by_population_share():
    # Shares 0.5 and 0.5 of two groups: ridits 0.25 and 0.75, slope = difference / 0.5.
    index = slope_index(np.array([10.0, 20.0]), np.ones(2), np.array([3, 3]))
    assert index.sii == pytest.approx(20.0)
    assert index.rii == pytest.approx(25.0 / 5.0)


def _results(rows):
    return pl.DataFrame(
        rows,
        schema=[
            "table",
            "breakdown",
            "group",
            "estimate",
            "month",
            "people",
            "asr_pct",
            "asr_var",
            "status",
        ],
        orient="row",
    )


def test_change_between_february_2020_and_march_2021():
    results = _results(
        [
            ("overall", "all", "All", "linked", FEB20, 100, 14.0, 0.09, "published"),
            ("overall", "all", "All", "linked", MAR21, 100, 19.0, 0.16, "published"),
            ("by_sex", "sex", "Male", "linked", FEB20, 50, 10.0, 0.01, "published"),
            ("by_sex", "sex", "Male", "linked", MAR21, 50, 12.0, 0.01, "[c]"),
        ]
    )
    change = change_table(results).sort("table", descending=True).row(0, named=True)
    assert change["abs_change"] == pytest.approx(5.0)
    # sqrt(0.09 + 0.16) = 0.5.
    assert change["abs_change_lower"] == pytest.approx(5.0 - 1.959964 * 0.5, abs=1e-5)
    assert change["rel_change"] == pytest.approx(5 / 14 * 100)
    assert change["hidden"] is False
    male = change_table(results).filter(pl.col("group") == "Male").row(0, named=True)
    assert male["hidden"] is True


def test_deprivation_gap_ratio_and_indices():
    rows = [
        (
            "by_imd_quintile",
            "imd_quintile",
            quintile_label(q),
            "linked",
            FEB20,
            100,
            rate,
            1.0,
            "published",
        )
        for q, rate in zip(range(1, 6), [30.0, 25.0, 20.0, 15.0, 10.0], strict=True)
    ]
    table = deprivation_inequality(_results(rows))
    values = dict(zip(table["measure"], table["value"], strict=True))
    assert values["gap_pp"] == pytest.approx(20.0)
    assert values["ratio"] == pytest.approx(3.0)
    assert values["sii_pp"] == pytest.approx(25.0)  # 5 points a quintile = 25 over the range
    assert values["rii"] == pytest.approx(32.5 / 7.5)


def test_ethnic_gap_to_white_british_widens():
    rows = [
        (
            "by_ethnic_group",
            "ethnic_group",
            "White British",
            "linked",
            FEB20,
            100,
            12.0,
            0.04,
            "published",
        ),
        (
            "by_ethnic_group",
            "ethnic_group",
            "White British",
            "linked",
            MAR21,
            100,
            16.0,
            0.04,
            "published",
        ),
        (
            "by_ethnic_group",
            "ethnic_group",
            "Bangladeshi",
            "linked",
            FEB20,
            100,
            25.0,
            0.05,
            "published",
        ),
        (
            "by_ethnic_group",
            "ethnic_group",
            "Bangladeshi",
            "linked",
            MAR21,
            100,
            33.0,
            0.05,
            "published",
        ),
    ]
    gap = ethnic_gaps(_results(rows)).row(0, named=True)
    assert gap["group"] == "Bangladeshi"
    assert gap["gap_before"] == pytest.approx(13.0)
    assert gap["gap_during"] == pytest.approx(17.0)
    assert gap["gap_widening"] == pytest.approx(4.0)
    assert gap["gap_before_upper"] == pytest.approx(13.0 + 1.959964 * 0.3, abs=1e-5)


def test_change_uses_the_paired_covariance_of_the_two_months():
    results = _results(
        [
            ("overall", "all", "All", "linked", FEB20, 100, 14.0, 0.09, "published"),
            ("overall", "all", "All", "linked", MAR21, 100, 19.0, 0.16, "published"),
        ]
    ).with_columns(pl.lit(0.06).alias("asr_cov"))
    change = change_table(results).row(0, named=True)
    # var = 0.09 + 0.16 - 2 * 0.06 = 0.13: narrower than the independent 0.25.
    half = 1.959964 * np.sqrt(0.13)
    assert change["abs_change_lower"] == pytest.approx(5.0 - half, abs=1e-5)
    assert change["abs_change_upper"] == pytest.approx(5.0 + half, abs=1e-5)


def test_gap_widening_interval_pairs_each_group_over_the_months():
    def row(group, month, rate, cov):
        return ("by_ethnic_group", "ethnic_group", group, "linked", month, 100, rate, 0.04, cov)

    frame = pl.DataFrame(
        [
            row("White British", FEB20, 12.0, 0.03),
            row("White British", MAR21, 16.0, 0.03),
            row("Bangladeshi", FEB20, 25.0, 0.01),
            row("Bangladeshi", MAR21, 33.0, 0.01),
        ],
        schema=[
            "table",
            "breakdown",
            "group",
            "estimate",
            "month",
            "people",
            "asr_pct",
            "asr_var",
            "asr_cov",
        ],
        orient="row",
    ).with_columns(pl.lit("published").alias("status"))
    gap = ethnic_gaps(frame).row(0, named=True)
    assert gap["gap_widening"] == pytest.approx(4.0)
    # (0.04 + 0.04 - 2 * 0.01) + (0.04 + 0.04 - 2 * 0.03) = 0.06 + 0.02 = 0.08.
    half = 1.959964 * np.sqrt(0.08)
    assert gap["gap_widening_lower"] == pytest.approx(4.0 - half, abs=1e-5)
    assert gap["gap_widening_upper"] == pytest.approx(4.0 + half, abs=1e-5)
