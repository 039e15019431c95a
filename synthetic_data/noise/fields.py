"""Recording errors in dates, categories, postcodes and identifiers, and blanks."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic_data.noise.base import (
    NoiseNode,
    NoiseResult,
    not_null,
    replace_at,
    row_ids,
    select_rows,
)

#: Valid codes of each categorical column, per source (wrong-category errors stay valid).
CATEGORY_OPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("census", "sex"): ("1", "2"),
    ("gp", "sex"): ("M", "F", "U"),
    ("dwp", "sex"): ("Male", "Female"),
    ("census", "ethnic_group"): tuple(f"{i:02d}" for i in range(1, 19)),
    ("census", "disability"): ("1", "2", "3"),
}


def blank(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """The value is missing."""
    pos = select_rows(data, node, rng, not_null(data, column))
    dtype = data.schema[column]
    data = replace_at(data, column, pos, pl.Series([None] * len(pos), dtype=dtype))
    return NoiseResult(data, row_ids(data, pos))


def stale_surname(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """A surname change (marriage) that this organisation never recorded."""
    previous = data.get_column("_prev_surname")
    eligible = (previous.is_not_null() & (previous != data.get_column(column))).fill_null(False)
    pos = select_rows(data, node, rng, eligible.to_numpy())
    data = replace_at(data, column, pos, previous.gather(pos))
    return NoiseResult(data, row_ids(data, pos))


def _dates(data: pl.DataFrame, column: str, pos: np.ndarray) -> pl.DataFrame:
    sub = data.get_column(column).gather(pos)
    return pl.DataFrame({"d": sub}).select(
        pl.col("d").dt.year().alias("y"),
        pl.col("d").dt.month().alias("m"),
        pl.col("d").dt.day().alias("dd"),
    )


def swap_day_month(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """Day and month transposed (only where the result is a valid, different date)."""
    values = data.get_column(column)
    parts = pl.DataFrame({"d": values}).select(
        (pl.col("d").dt.day() <= 12) & (pl.col("d").dt.day() != pl.col("d").dt.month())
    )
    eligible = parts.to_series().fill_null(False).to_numpy()
    pos = select_rows(data, node, rng, eligible)
    ymd = _dates(data, column, pos)
    new = ymd.select(pl.date("y", "dd", "m")).to_series()
    data = replace_at(data, column, pos, new)
    return NoiseResult(data, row_ids(data, pos))


def wrong_digit_dob(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """One part of the date mistyped: the day, the month, or the year by 1 or 10."""
    pos = select_rows(data, node, rng, not_null(data, column))
    ymd = _dates(data, column, pos)
    k = len(pos)
    part = rng.integers(0, 3, k)
    y, m, d = (ymd.get_column(c).to_numpy().astype(np.int64) for c in ("y", "m", "dd"))
    new_d = np.where(part == 0, (d - 1 + rng.integers(1, 28, k)) % 28 + 1, np.minimum(d, 28))
    new_m = np.where(part == 1, (m - 1 + rng.integers(1, 12, k)) % 12 + 1, m)
    shift = rng.choice([-10, -1, 1, 10], size=k)
    new_y = np.where(part == 2, y + shift, y)
    new_d = np.where(part == 0, new_d, np.where(new_m != m, np.minimum(d, 28), d))
    # 29 February moved to another year may not exist: use the 28th.
    new_d = np.where((part == 2) & (m == 2) & (d == 29), 28, new_d)
    new = pl.DataFrame({"y": new_y, "m": new_m, "d": new_d}).select(pl.date("y", "m", "d"))
    data = replace_at(data, column, pos, new.to_series())
    return NoiseResult(data, row_ids(data, pos))


def jan_first(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """1 January of the birth year, the placeholder used when only the year is known."""
    values = data.get_column(column)
    eligible = (
        pl.DataFrame({"d": values})
        .select((pl.col("d").dt.ordinal_day() != 1).fill_null(False))
        .to_series()
        .to_numpy()
    )
    pos = select_rows(data, node, rng, eligible)
    new = (
        pl.DataFrame({"d": values.gather(pos)})
        .select(pl.date(pl.col("d").dt.year(), 1, 1))
        .to_series()
    )
    data = replace_at(data, column, pos, new)
    return NoiseResult(data, row_ids(data, pos))


def wrong_category(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """Another valid code of the same column (a mis-ticked box or keying slip)."""
    options = np.array(CATEGORY_OPTIONS[(node.source, column)])
    values = data.get_column(column)
    pos = select_rows(data, node, rng, not_null(data, column))
    lookup = {value: i for i, value in enumerate(options.tolist())}
    current = values.gather(pos).replace_strict(lookup, default=0, return_dtype=pl.Int64)
    offset = rng.integers(1, len(options), len(pos))
    new = options[(current.to_numpy() + offset) % len(options)]
    data = replace_at(data, column, pos, pl.Series(new, dtype=pl.Utf8))
    return NoiseResult(data, row_ids(data, pos))


def stale_address(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """The address before the latest move, never updated (with its LSOA where held)."""
    previous = data.get_column("_prev_postcode")
    pos = select_rows(data, node, rng, previous.is_not_null().to_numpy())
    data = replace_at(data, column, pos, previous.gather(pos))
    if "lsoa11cd" in data.columns:
        data = replace_at(data, "lsoa11cd", pos, data.get_column("_prev_lsoa").gather(pos))
    return NoiseResult(data, row_ids(data, pos))


def postcode_digit(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """One digit of the postcode wrong (the sector digit or the last district digit)."""
    values = data.get_column(column)
    text = values.fill_null("")
    # The sector digit is the first character of the inward code; the district digit is the
    # last character of the outward code (all synthetic outward codes end in a digit).
    eligible = text.str.contains(r"\d\s*\d[A-Z]{2}$").to_numpy()
    pos = select_rows(data, node, rng, eligible)
    sub = values.gather(pos)
    k = len(pos)
    which = rng.integers(0, 2, k)
    shift = rng.integers(1, 10, k)
    frame = pl.DataFrame({"s": sub, "w": which, "k": shift}).with_columns(
        pl.col("s").str.len_chars().alias("n")
    )
    at = (
        pl.when(pl.col("w") == 0)
        .then(pl.col("n") - 3)
        .otherwise(pl.col("n") - 3 - 1 - pl.col("s").str.contains(r"\s\d[A-Z]{2}$").cast(pl.Int64))
    )
    digit = pl.col("s").str.slice(at, 1).cast(pl.Int64, strict=False).fill_null(0)
    new_digit = ((digit + pl.col("k")) % 10).cast(pl.Utf8)
    new = frame.select(
        pl.concat_str(pl.col("s").str.head(at), new_digit, pl.col("s").str.slice(at + 1))
    ).to_series()
    data = replace_at(data, column, pos, new)
    return NoiseResult(data, row_ids(data, pos))


def postcode_format(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """The same postcode written differently: no space, lower case, or a double space."""
    values = data.get_column(column)
    pos = select_rows(data, node, rng, not_null(data, column))
    style = rng.integers(0, 4, len(pos))
    frame = pl.DataFrame({"s": values.gather(pos), "k": style})
    new = frame.select(
        pl.when(pl.col("k") == 0)
        .then(pl.col("s").str.replace(" ", "", literal=True))
        .when(pl.col("k") == 1)
        .then(pl.col("s").str.to_lowercase())
        .when(pl.col("k") == 2)
        .then(pl.col("s").str.replace(" ", "", literal=True).str.to_lowercase())
        .otherwise(pl.col("s").str.replace(" ", "  ", literal=True))
    ).to_series()
    data = replace_at(data, column, pos, new)
    return NoiseResult(data, row_ids(data, pos))


def other_person_id(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """Another person's valid identifier (a record matched to the wrong patient)."""
    values = data.get_column(column)
    present = np.flatnonzero(not_null(data, column))
    mask = np.zeros(data.height, dtype=bool)
    mask[present] = True
    pos = select_rows(data, node, rng, mask)
    if len(pos) == 0 or len(present) < 2:
        return NoiseResult(data, pos[:0])
    donor = present[rng.integers(0, len(present), len(pos))]
    same = donor == pos
    donor[same] = present[(np.searchsorted(present, donor[same]) + 1) % len(present)]
    data = replace_at(data, column, pos, values.gather(donor))
    return NoiseResult(data, row_ids(data, pos))


def wrong_digit_id(data: pl.DataFrame, node: NoiseNode, rng: np.random.Generator, column: str):
    """One digit of a NINO wrong; NINOs have no check digit, so it still looks valid."""
    values = data.get_column(column)
    pos = select_rows(data, node, rng, not_null(data, column))
    k = len(pos)
    at = rng.integers(2, 8, k)
    frame = pl.DataFrame({"s": values.gather(pos), "p": at, "k": rng.integers(1, 10, k)})
    digit = pl.col("s").str.slice(pl.col("p"), 1).cast(pl.Int64)
    new = frame.select(
        pl.concat_str(
            pl.col("s").str.head(pl.col("p")),
            ((digit + pl.col("k")) % 10).cast(pl.Utf8),
            pl.col("s").str.slice(pl.col("p") + 1),
        )
    ).to_series()
    data = replace_at(data, column, pos, new)
    return NoiseResult(data, row_ids(data, pos))
