"""What every noise function receives and returns, and the shared selection rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

#: Helper columns carried through noise and dropped before an extract is written.
ROW_ID = "_row"
QUALITY = "_quality"


@dataclass(frozen=True)
class NoiseNode:
    """The configuration node of one noise type on one column of one source."""

    source: str
    column: str
    noise_type: str
    probability: float


@dataclass
class NoiseResult:
    """The data after a noise function, and the ``_row`` ids of the rows it changed."""

    data: pl.DataFrame
    rows: np.ndarray


#: The one signature of every noise function: data, config node, seeded generator, column.
NoiseFunction = Callable[[pl.DataFrame, NoiseNode, np.random.Generator, str], NoiseResult]


def select_rows(
    data: pl.DataFrame,
    node: NoiseNode,
    rng: np.random.Generator,
    eligible: np.ndarray | None = None,
    multiplier: np.ndarray | None = None,
) -> np.ndarray:
    """Positions of the rows a noise type hits.

    Each eligible row is hit with probability ``min(1, p * quality)``, where ``quality`` is the
    record's quality factor (mean 1 over the source), so errors cluster in poor records and in
    the groups whose records are worse, while ``p`` stays the average rate.
    """
    n = data.height
    if node.probability <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    p = node.probability * data.get_column(QUALITY).to_numpy()
    if multiplier is not None:
        p = p * multiplier
    hit = rng.random(n) < np.minimum(p, 1.0)
    if eligible is not None:
        hit &= eligible
    return np.flatnonzero(hit)


def replace_at(
    data: pl.DataFrame, column: str, positions: np.ndarray, values: pl.Series
) -> pl.DataFrame:
    """A copy of ``data`` with ``column`` replaced at ``positions`` by ``values``."""
    if len(positions) == 0:
        return data
    series = data.get_column(column).clone()
    series = series.scatter(positions, values.cast(series.dtype))
    return data.with_columns(series)


def row_ids(data: pl.DataFrame, positions: np.ndarray) -> np.ndarray:
    """The ``_row`` ids at some positions."""
    return data.get_column(ROW_ID).to_numpy()[positions]


def not_null(data: pl.DataFrame, column: str) -> np.ndarray:
    """Boolean array: the column has a value."""
    return data.get_column(column).is_not_null().to_numpy()
