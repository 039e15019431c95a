"""Write published tables atomically: a reader never sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_table(frame: pl.DataFrame, folder: Path, name: str) -> list[Path]:
    """Write ``name.parquet`` and ``name.csv`` (ISO dates, empty cells for suppressed values)."""
    return [
        atomic_write(folder / f"{name}.parquet", frame.write_parquet),
        atomic_write(
            folder / f"{name}.csv", lambda tmp: frame.write_csv(tmp, date_format="%Y-%m-%d")
        ),
    ]


def write_text(path: Path, text: str) -> Path:
    """Write a UTF-8 text file atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
