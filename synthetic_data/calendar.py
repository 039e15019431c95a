"""Key dates of the synthetic world, as integer days since 1970-01-01 for vectorised work."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

EPOCH = dt.date(1970, 1, 1)


def day(value: dt.date | str) -> int:
    """Days since 1970-01-01 of a date (or ISO string)."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return (value - EPOCH).days


CENSUS_DAY = day("2011-03-27")
STUDY_START = day("2019-11-01")
EXTRACT_DAY = day("2021-03-31")
YEAR = 365.25
#: A sentinel for "never" in integer date arrays (later than any real date).
NEVER = np.iinfo(np.int32).max


def birth_year(dob: np.ndarray) -> np.ndarray:
    """Calendar year of each day number."""
    return dob.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def to_date_series(name: str, days: np.ndarray, *, missing: int | None = None) -> pl.Series:
    """A polars Date Series from day numbers; ``missing`` (or NEVER/-1 sentinels) become null."""
    values = pl.Series(name, np.asarray(days, dtype=np.int64))
    null = (values == NEVER) | (values < -40_000)
    if missing is not None:
        null = null | (values == missing)
    return pl.select(
        pl.when(~null).then(values).cast(pl.Int32).cast(pl.Date).alias(name)
    ).to_series()
