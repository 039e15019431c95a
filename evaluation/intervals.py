"""The one Wilson score interval of the project (linkage metrics, report and analysis).

The Wilson interval is used because rates near 100% (precision, recall, linkage rates) make
the normal approximation useless. The formula is written once, in :func:`_wilson_limits`,
with operators that numpy arrays and polars expressions share; the three wrappers only
differ in how they receive counts (scalars, arrays, columns).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

Z95 = 1.959963984540054
"""Two-sided 95% standard-normal quantile."""


def z_for(confidence: float) -> float:
    """Standard-normal quantile of a two-sided confidence level (0.95 -> 1.96)."""
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def _wilson_limits(successes: Any, trials: Any, z: float) -> tuple[Any, Any, Any]:
    # Works unchanged on floats, numpy arrays and polars expressions (no sqrt function:
    # ``** 0.5`` is understood by all three). Limits are not clipped here. The exact limits
    # always hold p, but at p = 0 or 1 rounding can leave a limit a hair inside it
    # (0.9999999999999999 at p = 1): the wrappers widen the limits to p.
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * (p * (1 - p) / trials + z * z / (4 * trials * trials)) ** 0.5 / denominator
    return p, centre - half, centre + half


def wilson(successes: float, trials: float, z: float = Z95) -> tuple[float, float, float]:
    """Proportion with its Wilson interval; ``(nan, nan, nan)`` when there are no trials."""
    if trials <= 0:
        return (math.nan, math.nan, math.nan)
    p, lower, upper = _wilson_limits(float(successes), float(trials), z)
    return (p, max(0.0, min(lower, p)), min(1.0, max(upper, p)))


def wilson_interval(
    successes: np.ndarray, totals: np.ndarray, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson limits of arrays of proportions (fractions); NaN where ``totals`` is 0."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p, lower, upper = _wilson_limits(k, n, z_for(confidence))
        lower, upper = np.minimum(lower, p), np.maximum(upper, p)
    valid = n > 0
    return (
        np.where(valid, np.clip(lower, 0.0, 1.0), np.nan),
        np.where(valid, np.clip(upper, 0.0, 1.0), np.nan),
    )


def wilson_columns(successes: str, trials: str, prefix: str, z: float = Z95) -> list[pl.Expr]:
    """Polars expressions adding ``prefix``, ``prefix_lower`` and ``prefix_upper``."""
    n = pl.col(trials).cast(pl.Float64)
    k = pl.col(successes).cast(pl.Float64)
    p, lower, upper = _wilson_limits(k, n, z)
    valid = n > 0
    return [
        pl.when(valid).then(p).alias(prefix),
        pl.when(valid).then(pl.min_horizontal(lower, p).clip(0.0, 1.0)).alias(f"{prefix}_lower"),
        pl.when(valid).then(pl.max_horizontal(upper, p).clip(0.0, 1.0)).alias(f"{prefix}_upper"),
    ]


def difference_columns(
    first: str, second: str, prefix: str, *, second_limits: tuple[str, str] | None = None
) -> list[pl.Expr]:
    """Polars expressions for ``first - second`` of two independent proportions, with the
    Newcombe (1998, method 10) hybrid score interval built from their Wilson limits.

    ``first`` and ``second`` name share columns whose Wilson limits are ``<name>_lower`` and
    ``<name>_upper`` (or ``second_limits``). The interval reuses the one Wilson interval, so
    it stays sensible near 0% and 100% where a normal approximation of the difference is not.
    Adds ``prefix``, ``prefix_lower`` and ``prefix_upper``.
    """
    low2, high2 = second_limits or (f"{second}_lower", f"{second}_upper")
    p1, p2 = pl.col(first), pl.col(second)
    below1, above1 = p1 - pl.col(f"{first}_lower"), pl.col(f"{first}_upper") - p1
    below2, above2 = p2 - pl.col(low2), pl.col(high2) - p2
    difference = p1 - p2
    return [
        difference.alias(prefix),
        (difference - (below1**2 + above2**2) ** 0.5).alias(f"{prefix}_lower"),
        (difference + (above1**2 + below2**2) ** 0.5).alias(f"{prefix}_upper"),
    ]
