"""Write published tables atomically: a reader never sees a half-written file."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from common.files import atomic_write


def write_table(frame: pl.DataFrame, folder: Path, name: str) -> list[Path]:
    """Write ``name.parquet`` and ``name.csv`` (ISO dates, empty cells for suppressed values)."""
    return [
        atomic_write(folder / f"{name}.parquet", frame.write_parquet),
        atomic_write(
            folder / f"{name}.csv", lambda tmp: frame.write_csv(tmp, date_format="%Y-%m-%d")
        ),
    ]
