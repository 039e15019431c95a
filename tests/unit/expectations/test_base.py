import math

import pytest

from expectations.suites.base import row_count_bounds


def test_row_count_bounds_hand_computed():
    # 1000 people x 0.5 = 500 expected; 20% tolerance -> 400..600; slack 3*sqrt(500) = 67.08.
    low, high = row_count_bounds(1000, 0.5, 0.2)
    assert low == math.floor(400 - 3 * math.sqrt(500)) == 332
    assert high == math.ceil(600 + 3 * math.sqrt(500)) == 668


def test_row_count_bounds_never_negative():
    assert row_count_bounds(1, 0.1, 0.5)[0] == 0


@pytest.mark.parametrize("people", [1_000, 1_000_000])
def test_relative_tolerance_dominates_at_scale(people):
    low, high = row_count_bounds(people, 1.0, 0.25)
    assert low < people * 0.75 and high > people * 1.25
    if people == 1_000_000:
        assert (high - people * 1.25) / people < 0.01
