"""Row-level recording errors: omitted rows and duplicate records."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic_data.noise.base import ROW_ID, NoiseNode, NoiseResult, row_ids, select_rows


def omit_row(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """The record is missing from the extract (returns the ids of the dropped rows)."""
    pos = select_rows(data, node, rng)
    dropped = row_ids(data, pos)
    keep = np.ones(data.height, dtype=bool)
    keep[pos] = False
    return NoiseResult(data.filter(pl.Series(keep)), dropped)


def duplicate_row(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """A second record of the same person (a GP registration never closed; a second DWP key).

    The copy carries the person's older details where they have any: the address before
    their latest move and, at the DWP, the surname before marriage. It then picks up its own
    column errors, since row errors are applied first. Returns the new rows' ids.
    """
    pos = select_rows(data, node, rng)
    if len(pos) == 0:
        return NoiseResult(data, pos)
    copy = data[pos]
    start = int(data.get_column(ROW_ID).max()) + 1
    new_ids = np.arange(start, start + len(pos), dtype=np.int64)
    copy = copy.with_columns(
        pl.Series(ROW_ID, new_ids, dtype=data.schema[ROW_ID]), pl.lit(True).alias("_dup")
    )
    old = pl.col("_prev_postcode").is_not_null()
    updates = [pl.when(old).then(pl.col("_prev_postcode")).otherwise("postcode").alias("postcode")]
    if "lsoa11cd" in copy.columns:
        updates.append(
            pl.when(old).then(pl.col("_prev_lsoa")).otherwise("lsoa11cd").alias("lsoa11cd")
        )
    if "practice_code" in copy.columns:
        updates.append(
            pl.when(old)
            .then(pl.col("_prev_practice"))
            .otherwise("practice_code")
            .alias("practice_code")
        )
        back = pl.Series(rng.integers(30, 3000, len(pos)))
        updates.append(
            pl.max_horizontal(
                pl.col("registration_date") - pl.duration(days=back), pl.col("date_of_birth")
            ).alias("registration_date")
        )
    if node.source == "dwp":
        updates.append(pl.coalesce("_prev_surname", "surname").alias("surname"))
    copy = copy.with_columns(updates)
    return NoiseResult(pl.concat([data, copy], how="vertical"), new_ids)
