"""Small polars helpers shared by the generator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def labels(values: Sequence[str], index: np.ndarray, name: str = "") -> pl.Series:
    """Strings ``values[index]`` as a polars Series.

    Gathering from a small polars Series is many times faster than building a numpy array of
    Python strings and converting it, which matters at a million rows.
    """
    return pl.Series(name, list(values), dtype=pl.Utf8).gather(
        pl.Series(np.asarray(index, dtype=np.int64))
    )
