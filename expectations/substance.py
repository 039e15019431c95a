"""Facts about the substance of the published tables, computed in polars for the gates.

Form checks (schema, ranges, rounding) pass while a standardised rate drifts ten points from
its crude rate on a handful of people. These frames let the published suite check what a
statistician would: that standardisation is not captured by a few people, that the series
does not jump further than its intervals allow, and that every main point that calls
something a rise, fall, widening or narrowing quotes an interval that excludes zero.
"""

from __future__ import annotations

import re

import polars as pl
from scipy import stats

#: Two-sided level of the published intervals (the analysis default).
PUBLISHED_CONFIDENCE = 0.95

# "rise of 3.2 percentage points (95% confidence interval 2.1 to 4.4)", "widened for
# Black Caribbean (+2.5 percentage points, 95% confidence interval 0.4 to 4.6)", ...
_CLAIM = re.compile(
    r"\b(?P<word>rise|fall|widened|narrowed)\b[^;]*?confidence interval "
    r"(?P<lower>-?\d+(?:\.\d+)?) to (?P<upper>-?\d+(?:\.\d+)?)"
)
_UPWARD = {"rise", "widened"}


def rate_substance(
    rates: pl.DataFrame, *, confidence: float = PUBLISHED_CONFIDENCE
) -> pl.DataFrame:
    """One row per published rate: ``asr_crude_gap_pp`` (absolute, percentage points),
    ``people`` and ``jump_standard_errors``: the change from the previous month of the
    same table, group and estimate over its standard error, each month's standard error
    taken from its published interval (half-width / z) and the months treated as
    independent (conservative: the same people make adjacent months correlated)."""
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    keys = ["table", "group", "estimate"]
    se = (pl.col("asr_upper") - pl.col("asr_lower")) / (2.0 * z)
    frame = rates.sort([*keys, "month"]).with_columns(se.alias("_se"))
    previous = [pl.col(c).shift(1).over(keys) for c in ("asr_pct", "_se")]
    return (
        frame.with_columns(previous[0].alias("_prev"), previous[1].alias("_prev_se"))
        .select(
            *keys,
            "month",
            "people",
            (pl.col("asr_pct") - pl.col("crude_pct")).abs().alias("asr_crude_gap_pp"),
            (
                (pl.col("asr_pct") - pl.col("_prev")).abs()
                / (pl.col("_se") ** 2 + pl.col("_prev_se") ** 2).sqrt()
            ).alias("jump_standard_errors"),
        )
        .with_columns(pl.col("jump_standard_errors").fill_nan(None))
    )


def main_point_claims(points: list[str]) -> pl.DataFrame:
    """Each claimed rise, fall, widening or narrowing in the main points, with the interval
    it quotes and ``supported``: the interval lies wholly on the claimed side of zero."""
    rows = []
    for number, point in enumerate(points, start=1):
        for match in _CLAIM.finditer(point):
            lower, upper = float(match["lower"]), float(match["upper"])
            upward = match["word"] in _UPWARD
            rows.append(
                {
                    "point": number,
                    "claim": match["word"],
                    "lower": lower,
                    "upper": upper,
                    "supported": lower > 0 if upward else upper < 0,
                }
            )
    schema = {
        "point": pl.Int64,
        "claim": pl.String,
        "lower": pl.Float64,
        "upper": pl.Float64,
        "supported": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)
