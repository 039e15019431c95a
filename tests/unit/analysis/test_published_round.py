"""Published values never carry a negative zero (the same run must publish the same bytes)."""

import math

import polars as pl

from analysis.disclosure import published_round


def test_small_negative_differences_publish_as_plain_zero():
    frame = pl.DataFrame({"x": [-1e-15, -0.04, 1e-15, -0.06, 2.25]})
    out = frame.select(published_round(pl.col("x"), 1)).to_series().to_list()
    assert out[:4] == [0.0, 0.0, 0.0, -0.1]
    assert not any(math.copysign(1.0, v) < 0 for v in out[:3])
