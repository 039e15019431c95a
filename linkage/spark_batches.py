"""Run a polars function over a Spark frame's Arrow batches on the executors.

The inputs are checked and standardised by plain functions of a polars frame
(:mod:`linkage.inputs`: a slice's tally of checks, its standardised records). On one machine
the Python process calls them slice by slice; with ``linkage.backend: spark`` the executors
call the same functions on their Arrow batches (``mapInArrow``), so the two paths share one
definition and the driver receives only small results. This module knows Spark, not the
inputs: it is handed the functions.
"""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from linkage.sql_engine import single_file

if TYPE_CHECKING:
    import pyarrow as pa

    from linkage.sql_engine import SparkSql

RESULT_SCHEMA = "first_row long, result binary"
"""One row per batch: the batch's first ``file_row`` and the function's result, pickled."""


def _frames(batches: Iterator[pa.RecordBatch]) -> Iterator[pl.DataFrame]:
    for batch in batches:
        if batch.num_rows:
            yield pl.from_arrow(batch)  # type: ignore[misc]


def _quoted(column: str) -> str:
    return "`" + column.replace("`", "``") + "`"


def input_frame(engine: SparkSql, view: str, columns: list[str]) -> Any:
    """The Spark frame of ``columns`` of a view (names quoted: a user's file may use any)."""
    frame = engine.spark.table(view)
    return frame.select(*[frame[_quoted(column)] for column in columns])


def per_batch(frame: Any, function: Callable[[pl.DataFrame], Any]) -> list[Any]:
    """``function`` of each batch of ``frame`` (which carries ``file_row``), run on the
    executors; the results, small and picklable, in the order of the batches' first rows.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        for part in _frames(batches):
            first = int(part.get_column("file_row").min())  # type: ignore[arg-type]
            yield pa.RecordBatch.from_pylist(
                [{"first_row": first, "result": pickle.dumps(function(part))}]
            )

    rows = frame.mapInArrow(run, RESULT_SCHEMA).orderBy("first_row").collect()
    return [pickle.loads(row["result"]) for row in rows]  # noqa: S301 (our own executors)


def _spark_type(dtype: pl.DataType) -> str:
    if dtype == pl.List(pl.Utf8):
        return "array<string>"
    names = {
        pl.Int64: "bigint",
        pl.Int32: "int",
        pl.Float64: "double",
        pl.Utf8: "string",
        pl.Boolean: "boolean",
        pl.Date: "date",
    }
    return names[dtype]  # type: ignore[index]


def spark_schema(schema: dict[str, pl.DataType]) -> str:
    """A polars schema of plain types as a Spark DDL schema."""
    return ", ".join(f"{_quoted(name)} {_spark_type(dtype)}" for name, dtype in schema.items())


def _plain_arrow(schema: dict[str, pl.DataType]) -> pa.Schema:
    """The Arrow schema Spark reads for ``schema``: plain strings and lists (polars writes
    large ones)."""
    import pyarrow as pa

    def plain(field: pa.Field) -> pa.Field:
        if pa.types.is_large_list(field.type):
            return pa.field(field.name, pa.list_(pa.string()))
        if pa.types.is_large_string(field.type):
            return pa.field(field.name, pa.string())
        return field

    return pa.schema([plain(field) for field in pl.DataFrame(schema=schema).to_arrow().schema])


def frames_per_batch(
    frame: Any, function: Callable[[pl.DataFrame], pl.DataFrame], schema: dict[str, pl.DataType]
) -> Any:
    """A Spark frame of ``function`` of each batch of ``frame``, run on the executors;
    ``function`` returns frames of ``schema``."""
    arrow_schema = _plain_arrow(schema)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for part in _frames(batches):
            yield from function(part).to_arrow().cast(arrow_schema).to_batches()

    return frame.mapInArrow(run, spark_schema(schema))


def write_sorted(frames: list[Any], key: str, path: Path, scratch: Path) -> None:
    """The rows of ``frames`` (one schema), sorted by ``key``, into one Parquet file: Spark
    sorts and writes part files, the driver streams them into ``path`` a batch at a time."""
    folder = scratch / f"{path.stem}_parts"
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    union.orderBy(key).write.mode("overwrite").parquet(folder.as_uri())
    single_file(folder, path)
    shutil.rmtree(folder, ignore_errors=True)
