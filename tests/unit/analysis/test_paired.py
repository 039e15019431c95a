"""Hand-computed covariance of a standardised rate in February 2020 and March 2021."""

import numpy as np
import polars as pl
import pytest

from analysis.monthly import monthly_counts
from analysis.paired import (
    PAIRED_MONTHS,
    add_pair_sums,
    covariances_from_sums,
    pair_sums,
    paired_covariances,
)

# One band with the whole standard weight.
STANDARD = pl.DataFrame({"age_band": ["16-19"], "weight": [1.0]})


def _pm(before: list[int], after: list[int], weight: float = 1.0) -> pl.DataFrame:
    """Person-months of people 0..n-1 aged 16-19 in both paired months."""
    rows = [(pid, PAIRED_MONTHS[0], y) for pid, y in enumerate(before)]
    rows += [(pid, PAIRED_MONTHS[1], y) for pid, y in enumerate(after)]
    frame = pl.DataFrame(rows, schema=["pid", "k", "y"], orient="row")
    return frame.select(
        pl.col("pid").cast(pl.Int64),
        pl.col("k").cast(pl.Int32),
        pl.lit(0, dtype=pl.Int8).alias("band"),
        pl.lit(0, dtype=pl.Int8).alias("age_group"),
        (pl.col("y") * 1).cast(pl.UInt16).alias("benefits"),
        (pl.col("y") == 1).alias("on_any"),
        pl.lit(0, dtype=pl.UInt8).alias("conditions"),
        pl.lit(weight).alias("weight"),
        pl.lit(weight**2).alias("weight2"),
    )


def test_covariance_of_the_same_people_by_hand():
    # Before 2 of 4 (p = 0.5), after 3 of 4 (p = 0.75); each person's share c = 1/4.
    # z(before) = 0.25 (y - 0.5) = .125, .125, -.125, -.125;
    # z(after) = 0.25 (y - 0.75) = .0625, .0625, .0625, -.1875.
    # cov = .0078125 + .0078125 - .0078125 + .0234375 = 0.03125 (312.5 per cent squared).
    pm = _pm([1, 1, 0, 0], [1, 1, 1, 0])
    counts = monthly_counts(pm, tables=["overall"])
    cov = paired_covariances(pm, counts, STANDARD)
    assert cov["asr_cov"].to_list() == [pytest.approx(312.5)]
    # The paired variance of the change, var(before) + var(after) - 2 cov
    # = 625 + 468.75 - 625, equals the sum of squared person-level differences of z:
    # 2 * 0.0625^2 + 0.1875^2 + 0.0625^2 = 0.046875.
    assert 625 + 468.75 - 2 * 312.5 == pytest.approx(0.046875 * 1e4)


def test_constant_weights_give_the_unweighted_covariance():
    pm = _pm([1, 1, 0, 0], [1, 1, 1, 0], weight=2.0)
    counts = monthly_counts(pm, tables=["overall"], weighted=True)
    cov = paired_covariances(pm, counts, STANDARD, weighted=True)
    assert cov["asr_cov"][0] == pytest.approx(312.5)


def test_people_in_only_one_month_add_no_covariance():
    # Person 4 (a recipient) is present only before; person 5 (not) only after.
    pm = _pm([1, 1, 0, 0, 1], [1, 1, 1, 0])
    extra = _pm([0] * 6, [0] * 6).filter((pl.col("pid") == 5) & (pl.col("k") == PAIRED_MONTHS[1]))
    pm = pl.concat([pm, extra])
    counts = monthly_counts(pm, tables=["overall"])
    cov = paired_covariances(pm, counts, STANDARD)
    # Before: p = 3/5, c = 1/5; after: p = 3/5, c = 1/5. Shared people 0-3:
    # z(before) = .2 (y - .6) = .08, .08, -.12, -.12; z(after) = .08, .08, .08, -.12.
    # cov = .0064 + .0064 - .0096 + .0144 = 0.0176.
    assert cov["asr_cov"][0] == pytest.approx(0.0176 * 1e4)
    assert np.isfinite(cov["asr_cov"][0])


def test_pair_sums_of_parts_add_up_to_the_whole_covariance():
    # The hand-computed case split into two parts of people: the counts and pair sums of
    # each part, added, give 312.5 again (the sums need no totals, so parts are independent).
    pm = _pm([1, 1, 0, 0], [1, 1, 1, 0])
    counts = monthly_counts(pm, tables=["overall"])
    parts = [pm.filter(pl.col("pid") < 2), pm.filter(pl.col("pid") >= 2)]
    sums = add_pair_sums([pair_sums(part, tables=["overall"]) for part in parts])
    assert sums["s00"].sum() == 4, "four people in both months"
    assert sums["s11"].sum() == 2, "two recipients in both months"
    cov = covariances_from_sums(sums, counts, STANDARD)
    assert cov["asr_cov"].to_list() == [pytest.approx(312.5)]
