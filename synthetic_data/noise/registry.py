"""The ordered registry of noise types and the loop that applies it to one extract.

As in pseudopeople, a noise type is a record in an ordered registry and every function has
the same signature ``(data, node, rng, column) -> NoiseResult``. The order below is the order
applied; ``types.NOISE_TYPES`` lists the same names and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic_data.config import WorldConfig
from synthetic_data.noise import fields, names, rows
from synthetic_data.noise.base import NoiseFunction, NoiseNode
from synthetic_data.noise.types import ROW_NOISE_TYPES, SOURCE_COLUMNS, column_noise_types


@dataclass(frozen=True)
class NoiseType:
    """One entry of the registry."""

    name: str
    level: str  # "row" or "column"
    function: NoiseFunction


REGISTRY: tuple[NoiseType, ...] = (
    NoiseType("omit_row", "row", rows.omit_row),
    NoiseType("duplicate_row", "row", rows.duplicate_row),
    NoiseType("blank", "column", fields.blank),
    NoiseType("stale_surname", "column", fields.stale_surname),
    NoiseType("swap_names", "column", names.swap_names),
    NoiseType("nickname", "column", names.nickname),
    NoiseType("spelling_variant", "column", names.spelling_variant),
    NoiseType("fake_name", "column", names.fake_name),
    NoiseType("phonetic", "column", names.phonetic),
    NoiseType("ocr", "column", names.ocr),
    NoiseType("typo", "column", names.typo),
    NoiseType("swap_day_month", "column", fields.swap_day_month),
    NoiseType("wrong_digit_dob", "column", fields.wrong_digit_dob),
    NoiseType("jan_first", "column", fields.jan_first),
    NoiseType("wrong_category", "column", fields.wrong_category),
    NoiseType("stale_address", "column", fields.stale_address),
    NoiseType("postcode_digit", "column", fields.postcode_digit),
    NoiseType("postcode_format", "column", fields.postcode_format),
    NoiseType("other_person_id", "column", fields.other_person_id),
    NoiseType("wrong_digit_id", "column", fields.wrong_digit_id),
)


def apply_noise(
    data: pl.DataFrame,
    source: str,
    config: WorldConfig,
    rng_for: Callable[[int, int], np.random.Generator],
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
        Returns the generator for (noise type position, column position), so that changing
        one probability leaves every other draw unchanged.

    Returns
    -------
    The noisy data, and a log with ``_row``, ``column`` (null for rows) and ``noise_type``.
    """
    logs: list[pl.DataFrame] = []
    columns = list(SOURCE_COLUMNS[source])
    for t, entry in enumerate(REGISTRY):
        if entry.level == "row":
            if source not in ROW_NOISE_TYPES[entry.name]:
                continue
            targets = ["row"]
        else:
            targets = [c for c in columns if entry.name in column_noise_types(source, c)]
        for column in targets:
            probability = config.probability(source, column, entry.name)
            if probability <= 0:
                continue
            node = NoiseNode(source, column, entry.name, probability)
            c = columns.index(column) + 1 if column != "row" else 0
            result = entry.function(data, node, rng_for(t, c), column)
            data = result.data
            if entry.name == "omit_row":
                # An omitted record has no record id to log; the truth tables show who is
                # missing from the extract.
                continue
            logs.append(
                pl.DataFrame(
                    {
                        "_row": pl.Series(result.rows, dtype=pl.Int64),
                        "column": pl.Series(
                            [None if column == "row" else column] * len(result.rows), dtype=pl.Utf8
                        ),
                        "noise_type": pl.Series([entry.name] * len(result.rows), dtype=pl.Utf8),
                    }
                )
            )
    log = (
        pl.concat(logs)
        if logs
        else pl.DataFrame(schema={"_row": pl.Int64, "column": pl.Utf8, "noise_type": pl.Utf8})
    )
    return data, log
