"""Run the linkage's own SQL on the run's engine: DuckDB on one machine, or Spark.

The steps outside Splink that grow with the records (:mod:`linkage.sql_steps`) are written
once, in DuckDB SQL. An engine runs them where the records are: :class:`DuckDBSql` on the
stage's DuckDB connection, :class:`SparkSql` as Spark SQL (translated by
:func:`linkage.dialects.translate_sql`) on the executors. Either way the driver receives
only what :meth:`rows` and :meth:`frame` return, which the steps keep small (counts, sums,
frequency tables); tables and artefacts stay in the engine or go straight to Parquet.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from linkage.dialects import Dialect, translate_sql


class SqlEngine(Protocol):
    """What :mod:`linkage.sql_steps` needs of an engine."""

    dialect: Dialect

    def parquet_view(self, name: str, path: Path, *, row_numbers: bool = False) -> None:
        """Make ``name`` a view of a Parquet file (or a folder of part files); with
        ``row_numbers``, of one file with each row's position in it (0-based) as
        ``file_row``."""

    def register_frame(self, name: str, frame: pl.DataFrame) -> None:
        """Make ``name`` a table of a small polars frame held by the driver."""

    def view(self, name: str, sql: str) -> None:
        """Make ``name`` a view of a query (computed again where it is read)."""

    def table(self, name: str, sql: str) -> None:
        """Make ``name`` a table of a query (computed once, then read many times)."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """A small result, to the driver."""

    def frame(self, sql: str) -> pl.DataFrame:
        """A small result, to the driver, as a polars frame."""

    def columns(self, name: str) -> list[str]:
        """The columns of a table or view, in order."""

    def write_parquet(self, sql: str, path: Path) -> None:
        """Write a query's rows, in its order, to one Parquet file at ``path``."""


class DuckDBSql:
    """The SQL steps on a DuckDB connection (the stage's, inside its ``memory_limit``)."""

    dialect: Dialect = "duckdb"

    def __init__(self, con: Any) -> None:
        self.con = con

    def parquet_view(self, name: str, path: Path, *, row_numbers: bool = False) -> None:
        source = path / "*.parquet" if path.is_dir() else path
        if row_numbers:
            self.con.execute(
                f"CREATE OR REPLACE VIEW {name} AS SELECT * RENAME (file_row_number AS file_row) "
                f"FROM read_parquet('{source.as_posix()}', file_row_number = true)"
            )
            return
        self.con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{source.as_posix()}')"
        )

    def register_frame(self, name: str, frame: pl.DataFrame) -> None:
        self.con.register(f"{name}_arrow", frame.to_arrow())
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
        self.con.unregister(f"{name}_arrow")

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")

    def table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def frame(self, sql: str) -> pl.DataFrame:
        return self.con.sql(sql).pl()

    def columns(self, name: str) -> list[str]:
        return [row[0] for row in self.con.execute(f"DESCRIBE {name}").fetchall()]

    def write_parquet(self, sql: str, path: Path) -> None:
        self.con.execute(f"COPY ({sql}) TO '{path.as_posix()}' (FORMAT parquet, COMPRESSION zstd)")


class SparkSql:
    """The SQL steps as Spark SQL: tables are written as Parquet under ``scratch`` and read
    back (breaking lineage, as Splink's own ``break_lineage_method='parquet'`` does)."""

    dialect: Dialect = "spark"

    def __init__(self, spark: Any, scratch: Path) -> None:
        self.spark = spark
        self.scratch = Path(scratch) / "sql_tables"

    def _query(self, sql: str) -> Any:
        return self.spark.sql(translate_sql(sql, self.dialect))

    def parquet_view(self, name: str, path: Path, *, row_numbers: bool = False) -> None:
        frame = self.spark.read.parquet(Path(path).as_uri())
        if row_numbers:
            # Spark's own row index within each Parquet file (file metadata, not a count).
            frame = frame.selectExpr("*", "_metadata.row_index AS file_row")
        frame.createOrReplaceTempView(name)

    def register_frame(self, name: str, frame: pl.DataFrame) -> None:
        # Through a file rather than the driver's memory in the JVM: small frames only, but
        # Spark's Arrow conversion of an empty frame loses its types.
        folder = self.scratch / f"{name}_frame_{uuid.uuid4().hex}"
        folder.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(folder / "part-0.parquet")
        self.parquet_view(name, folder)

    def view(self, name: str, sql: str) -> None:
        self._query(sql).createOrReplaceTempView(name)

    def table(self, name: str, sql: str) -> None:
        folder = self.scratch / name
        self._query(sql).write.mode("overwrite").parquet(folder.as_uri())
        self.parquet_view(name, folder)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._query(sql).collect()]

    def frame(self, sql: str) -> pl.DataFrame:
        return pl.from_arrow(self._query(sql).toArrow())

    def columns(self, name: str) -> list[str]:
        return list(self.spark.table(name).columns)

    def write_parquet(self, sql: str, path: Path) -> None:
        folder = self.scratch / f"{Path(path).stem}_parts"
        self._query(sql).write.mode("overwrite").parquet(folder.as_uri())
        single_file(folder, path)
        shutil.rmtree(folder, ignore_errors=True)


STREAMED_ROWS = 100_000
"""Rows :func:`single_file` holds at a time."""


def single_file(folder: Path, out_path: Path, columns: list[str] | None = None) -> None:
    """Stream Spark's part files, in order, into one Parquet file (the artefacts other
    stages read as one file); the driver holds :data:`STREAMED_ROWS` rows at a time. Spark
    numbers the parts of a sorted result in order, so the file keeps the query's order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted(Path(folder).glob("part-*.parquet"))
    if not parts:
        raise RuntimeError(f"Spark wrote no part files to {folder}")
    # Part by part, batch by batch: a scan over every part at once (polars' sink) held
    # about 0.8 GB for 2.4 million records.
    schema = pq.read_schema(parts[0]).remove_metadata()
    if columns:
        schema = pa.schema([schema.field(name) for name in columns])
    with pq.ParquetWriter(out_path, schema, compression="zstd") as writer:
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches(STREAMED_ROWS, columns=columns):
                writer.write_batch(batch.select(schema.names).cast(schema))
