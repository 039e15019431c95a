"""The separation step's tables as Spark jobs (with ``linkage.backend: spark``).

Spark reads each table and its executors pseudonymise their Arrow batches with the same
function the Python process uses (:func:`separation.pseudonyms.pseudonymised`); the driver
streams Spark's part files into the one file the analysis reads and holds no rows itself.

Each distinct id is hashed once per batch, as in the Python process
(:class:`separation.stage.LocalTables`); the hashing is shared between the executors.

The key reaches the executors inside each task, as the function's argument: it is never
written into a query, a plan or a log, but on a shared cluster the executors must be as
trusted with it as the driver.
"""

from __future__ import annotations

import functools
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from linkage.spark_batches import frames_per_batch, spark_schema
from linkage.sql_engine import single_file
from separation.pseudonyms import SeparationError, input_schema, pseudonymised

if TYPE_CHECKING:
    from linkage.backends import SparkEngine


def _output_schema(
    path: Path, schema: dict[str, pl.DataType], ids: Mapping[str, str]
) -> dict[str, pl.DataType]:
    """The schema of the pseudonymised table (checked to be one Spark can be handed)."""
    empty = pseudonymised(pl.DataFrame(schema=schema), b"schema-only-not-a-key", ids)
    out = dict(empty.schema)
    try:
        spark_schema(out)
    except KeyError:
        plain = {"Int64", "Int32", "Float64", "String", "Boolean", "Date"}
        odd = [f"{name} ({dtype})" for name, dtype in out.items() if str(dtype) not in plain]
        raise SeparationError(
            f"{path}: column(s) {', '.join(odd)} of a type the Spark separation does not "
            "write (strings, integers, floats, booleans and dates only)"
        ) from None
    return out


class SparkTables:
    """Writes each pseudonymised table as a Spark job (a :class:`separation.stage.TableWriter`).

    Parameters
    ----------
    engine
        The run's Spark session and scratch folder (:class:`linkage.backends.SparkEngine`).
    key
        The linkage key.
    """

    def __init__(self, engine: SparkEngine, key: bytes) -> None:
        self.engine = engine
        self.key = key

    def __call__(
        self, source: Path | pl.DataFrame, columns: list[str], ids: Mapping[str, str], target: Path
    ) -> int:
        if isinstance(source, pl.DataFrame):
            path = self.engine.scratch / f"separation_input_{uuid.uuid4().hex}.parquet"
            source.select(columns).write_parquet(path)
        else:
            path = source
        schema = _output_schema(path, input_schema(path, columns), ids)
        frame = self.engine.spark.read.parquet(path.as_uri()).select(*columns)
        hashed = frames_per_batch(
            frame, functools.partial(pseudonymised, key=self.key, ids=dict(ids)), schema
        )
        # One scan of a single file keeps its row order: the partitions are its row groups
        # in order, and the parts are numbered as the partitions.
        folder = self.engine.scratch / f"separation_{uuid.uuid4().hex}"
        hashed.write.mode("overwrite").parquet(folder.as_uri())
        single_file(folder, target)
        shutil.rmtree(folder, ignore_errors=True)
        return pl.scan_parquet(target).select(pl.len()).collect().item()
