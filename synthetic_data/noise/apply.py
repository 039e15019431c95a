"""Applying the registry's recording errors to one extract."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from synthetic_data.config import WorldConfig
from synthetic_data.noise.base import NoiseNode
from synthetic_data.noise.registry import REGISTRY, NoiseType, column_noise_types
from synthetic_data.noise.types import SOURCE_COLUMNS

_EMPTY_LOG = {"_row": pl.Int64, "column": pl.Utf8, "noise_type": pl.Utf8}


def apply_noise(
    data: pl.DataFrame,
    source: str,
    config: WorldConfig,
    rng_for: Callable[[str, str], np.random.Generator],
    registry: tuple[NoiseType, ...] = REGISTRY,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply every configured noise type to one extract, in registry order.

    Parameters
    ----------
    data
        The extract with its helper columns (``_row``, ``_quality`` ...).
    source
        ``census``, ``gp`` or ``dwp``.
    config
        The world configuration (probabilities per source, column and noise type).
    rng_for
        Returns the generator for (noise type name, column name). Streams are keyed by name,
        not by position, so that changing one probability, or adding a noise type anywhere in
        the registry, leaves every other type's draws unchanged.
    registry
        The noise types to apply, in order (the project's registry unless a test says).

    Returns
    -------
    The noisy data, and a log with ``_row``, ``column`` (null for rows) and ``noise_type``.
    """
    logs: list[pl.DataFrame] = []
    for entry in registry:
        for column in _targets(entry, source):
            probability = config.probability(source, column, entry.name)
            if probability <= 0:
                continue
            node = NoiseNode(source, column, entry.name, probability)
            result = entry.function(data, node, rng_for(entry.name, column), column)
            data = result.data
            # An omitted record has no record id to log; the truth tables show who is
            # missing from the extract.
            if entry.name != "omit_row":
                logs.append(_log(result.rows, column, entry.name))
    log = pl.concat(logs) if logs else pl.DataFrame(schema=_EMPTY_LOG)
    return data, log


def _targets(entry: NoiseType, source: str) -> list[str]:
    """The columns one noise type acts on in one source (``["row"]`` for a row error)."""
    if entry.level == "row":
        return ["row"] if source in entry.scope else []
    return [c for c in SOURCE_COLUMNS[source] if entry.name in column_noise_types(source, c)]


def _log(rows: np.ndarray, column: str, noise_type: str) -> pl.DataFrame:
    n = len(rows)
    return pl.DataFrame(
        {
            "_row": pl.Series(rows, dtype=pl.Int64),
            "column": pl.Series([None if column == "row" else column] * n, dtype=pl.Utf8),
            "noise_type": pl.Series([noise_type] * n, dtype=pl.Utf8),
        }
    )
