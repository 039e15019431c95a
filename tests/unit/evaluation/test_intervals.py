import math

import numpy as np
import polars as pl

from evaluation.intervals import wilson, wilson_columns, wilson_interval
from evaluation.spine import pair_counts


def test_wilson_by_hand():
    # 0 of 10: lower 0, upper z^2 / (n + z^2).
    p, low, high = wilson(0, 10)
    z2 = 1.959963984540054**2
    assert p == 0 and low == 0 and math.isclose(high, z2 / (10 + z2))
    # 5 of 10 is symmetric about one half.
    p, low, high = wilson(5, 10)
    assert math.isclose(low + high, 1.0)
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_array_version_agrees_and_a_lower_level_narrows_the_interval():
    lower, upper = wilson_interval(np.array([8, 0]), np.array([10, 0]))
    # Wilson 95% for 8/10 is about (0.490, 0.943) (Newcombe 1998, table I style check).
    assert abs(lower[0] - 0.4902) < 1e-3 and abs(upper[0] - 0.9433) < 1e-3
    assert np.isnan(lower[1]) and np.isnan(upper[1])
    low90, high90 = wilson_interval(np.array([8]), np.array([10]), confidence=0.90)
    assert lower[0] < low90[0] and high90[0] < upper[0]


def test_wilson_columns_agree_with_the_scalar_version():
    frame = pl.DataFrame({"k": [3, 97, 0], "n": [10, 100, 0]})
    out = frame.with_columns(wilson_columns("k", "n", "rate"))
    for k, n, rate, low, high in out.iter_rows():
        expected = wilson(k, n)
        if n == 0:
            assert rate is None and low is None
            continue
        assert math.isclose(rate, expected[0]) and math.isclose(low, expected[1])
        assert math.isclose(high, expected[2])


def test_pair_counts_within_and_across_sources():
    members = pl.DataFrame(
        {"source": ["gp", "gp", "gp", "census", "dwp"], "k": ["a", "a", "a", "a", "b"]}
    )
    pairs = {(a, b): n for a, b, n in pair_counts(members, "k").iter_rows()}
    assert pairs[("gp", "gp")] == 3  # three records, three pairs
    assert pairs[("census", "gp")] == 3  # census first in a pair name
    assert pairs[("census", "census")] == 0
    assert ("dwp", "census") not in pairs and ("census", "dwp") not in pairs


def test_limits_hold_the_proportion_at_its_bounds_despite_rounding():
    """At p = 1 the exact upper limit is 1; rounding must not leave it below p."""
    for k, n in [(757, 757), (0, 757), (30817, 30817), (1, 1)]:
        p, lower, upper = wilson(k, n)
        assert lower <= p <= upper
        lo, up = wilson_interval(np.array([k]), np.array([n]))
        assert lo[0] <= k / n <= up[0]
        row = pl.DataFrame({"k": [k], "n": [n]}).select(wilson_columns("k", "n", "r")).row(0)
        assert row[1] <= row[0] <= row[2]
