"""Writing a stream of polars frames to one Parquet file, one frame held at a time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq


def write_frames(
    frames: Iterable[pl.DataFrame],
    out: Path,
    *,
    empty: pl.DataFrame | None = None,
) -> int:
    """Write ``frames``, in order, to the Parquet file ``out`` (zstd) and return the rows.

    Each frame is cast to the first frame's schema, so a later batch whose column came out
    narrower or as a string view still lands in the same file. With no frames,
    ``empty`` is written when given (the file then still has its columns); otherwise no file
    is.
    """
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for frame in frames:
            table = frame.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
            rows += frame.height
    finally:
        if writer is not None:
            writer.close()
    if writer is None and empty is not None:
        empty.write_parquet(out)
    return rows
