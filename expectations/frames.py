"""Reading files to validate, and the one boundary where polars frames become pandas.

Great Expectations 1.x validates pandas DataFrames. Strings, integers, floats and booleans
convert to Arrow-backed pandas columns, so contract types survive unchanged (an ``Int64``
column with nulls stays integer). ``Date`` becomes numpy ``datetime64[ns]`` and ``Float64``
numpy ``float64`` (nulls as NaN, which GX counts as missing): GX fingerprints every batch
with pandas hashing, which walks Arrow date columns value by value in Python, and its
range checks are vectorised only for numpy numbers and nanosecond datetimes (otherwise a
Python function per value: about 12 s per million dates).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import polars as pl

from expectations.errors import InputFileError


def read_frame(
    path: Path | str,
    *,
    columns: list[str] | None = None,
    types: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Read a Parquet or CSV file, with a clear error naming the file when it cannot be read.

    Parameters
    ----------
    path
        A ``.parquet`` or ``.csv`` file.
    columns
        Read only these columns (Parquet only).
    types
        Contract types (``str``, ``Date``, ``bool``, ``Int64``, ``Float64``) used to parse CSV
        columns; a column whose values do not all parse stays a string, so the suite's type
        expectation reports it rather than the values being lost here.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"File not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path, columns=columns)
        if suffix == ".csv":
            return _parse_csv_types(pl.read_csv(path, infer_schema=False), types or {})
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise InputFileError(f"Cannot read {path}: {exc}") from exc
    raise InputFileError(f"Cannot read {path}: expected a .parquet or .csv file")


def _parse_csv_types(frame: pl.DataFrame, types: Mapping[str, str]) -> pl.DataFrame:
    converted = []
    for name in frame.columns:
        column = frame[name]
        kind = types.get(name, "str")
        if kind == "Date":
            parsed = column.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        elif kind in ("Int64", "Float64"):
            parsed = column.cast(getattr(pl, kind), strict=False)
        elif kind == "bool":
            parsed = column.str.to_lowercase().replace_strict(
                {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
            )
        else:
            parsed = column
        converted.append(parsed if parsed.null_count() == column.null_count() else column)
    return pl.DataFrame(converted)


def to_pandas(frame: pl.DataFrame) -> pd.DataFrame:
    """Convert a polars frame for Great Expectations (the package's only conversion)."""
    converted = frame.to_pandas(use_pyarrow_extension_array=True)
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            converted[name] = frame[name].cast(pl.Datetime("ns")).to_pandas()
        elif dtype == pl.Float64:
            converted[name] = frame[name].to_numpy()
    return converted
