"""Address histories of the GP and DWP extracts: the previous addresses each record holds.

The Personal Demographics Service behind GP registrations, and DWP's customer records,
keep a person's earlier addresses with the dates they lived there. Each extract comes
with a history table keyed by the extract's record id, one row per previous address
(``postcode``, ``from_date``, ``to_date``: the day the person moved out).

A record's history is the person's residences before the address the record holds as
current. A record whose current address is stale (the ``stale_address`` error, or a
duplicate registration left at the previous address) never learnt of the latest move, so
its history stops one address earlier. Histories then pick up their own recording errors
(a previous address never recorded, a mistyped or differently written postcode) from the
same registry as the extracts, with their own random streams.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from synthetic_data.config import WorldConfig
from synthetic_data.noise.apply import apply_noise
from synthetic_data.noise.base import QUALITY, ROW_ID

#: The history table of each extract that has one, and its columns (the data contract).
HISTORY_TABLE = {"gp": "gp_address_history", "dwp": "dwp_address_history"}
HISTORY_SOURCE = {"gp": "gp_address_history", "dwp": "dwp_address_history"}


def history_schema(id_column: str) -> list[str]:
    """Columns of a history table keyed by ``id_column``."""
    return [id_column, "postcode", "from_date", "to_date"]


def ranked_residences(residences: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Each residence (truth table ``residences``) with its person's block index
    (``person``), ``rank`` (0 = first address) and ``n_addresses``."""
    index = people.select("person_id", "person")
    return (
        residences.join(index, on="person_id", how="inner")
        .sort("person", "from_date", maintain_order=True)
        .select("person", "from_date", "to_date", "postcode")
        .with_columns(
            pl.int_range(pl.len()).over("person").alias("rank"),
            pl.len().over("person").alias("n_addresses"),
        )
    )


def known_addresses(records: pl.DataFrame, stale_rows: np.ndarray) -> pl.DataFrame:
    """Per record (``_row``, ``_person``), how many of the person's addresses it knows of:
    all of them, or all but the latest when its current address is stale."""
    stale = pl.Series(records.get_column(ROW_ID).is_in(pl.Series(stale_rows)).to_numpy())
    behind = stale | (
        records.get_column("_dup") & records.get_column("_prev_postcode").is_not_null()
    )
    return records.select(ROW_ID, "_person", QUALITY, pl.Series("behind", behind.cast(pl.Int64)))


def record_histories(
    records: pl.DataFrame, ranked: pl.DataFrame, stale_rows: np.ndarray
) -> pl.DataFrame:
    """One row per previous address of each record, before recording errors.

    ``records`` is an extract after its own errors (``_row``, ``_person``, ``_dup``,
    ``_prev_postcode``, ``_quality``); ``stale_rows`` the ``_row`` ids its
    ``stale_address`` error hit; ``ranked`` comes from :func:`ranked_residences`. Rows
    keep the record's ``_quality``, so a poorly kept record has a poorly kept history too.
    """
    known = known_addresses(records, stale_rows)
    joined = known.join(ranked, left_on="_person", right_on="person", how="inner")
    # The current address the record knows is rank n - 1 - behind; its history is before it.
    history = joined.filter(pl.col("rank") < pl.col("n_addresses") - 1 - pl.col("behind"))
    return history.sort(ROW_ID, "rank").select(
        pl.col(ROW_ID).alias("_record_row"),
        "postcode",
        "from_date",
        "to_date",
        pl.col(QUALITY),
    )


def noisy_histories(
    history: pl.DataFrame,
    source: str,
    config: WorldConfig,
    rng_for: Callable[[str, str], np.random.Generator],
) -> pl.DataFrame:
    """Apply the history's recording errors (``HISTORY_SOURCE[source]`` in the noise
    configuration); the rows keep ``_record_row`` to be given their record's id."""
    data = history.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW_ID), pl.lit(False).alias("_dup")
    )
    noisy, _ = apply_noise(data, HISTORY_SOURCE[source], config, rng_for)
    return noisy
