"""The analysis's parts built on Spark's executors (with ``linkage.backend: spark``).

Spark splits each table the analysis reads by the part of its records' person, as
:func:`analysis.population.population_parts` does in the Python process (Spark's own hash
of ``person_id`` chooses the part; any choice that keeps a person's records together gives
the same sums), and writes a folder per part. Each executor task then reads one part's
files with polars and builds that part's study population with the same functions as the
Python process; the pass's function (:mod:`analysis.sums`) returns its small result, and
the driver adds them up. The driver holds no person's rows.

A census record the spine does not list is a person of its own (``census:<id>``); a census
record keeps its position in the extract (Spark's row index), so "the first census record
of a cluster describes the person" holds in the parts too. The folders are under Spark's
scratch folder, which on a cluster must be on storage every executor sees.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from analysis.config import AnalysisConfig
from analysis.inputs import SOURCE_COLUMNS, SPINE_COLUMNS, Sources
from analysis.population import StudyPopulation, build_study_population, prepare_sources

if TYPE_CHECKING:
    import pyarrow as pa

    from linkage.backends import SparkEngine

T = TypeVar("T")

RESULT_SCHEMA = "part long, result binary"
POSITION = "file_row"


def _split_tables(
    engine: SparkEngine, sources: dict[str, Path], spine: Path, parts: int
) -> dict[str, Any]:
    """Spark frames of the spine and each source table, each row with its person's ``part``
    (the census with its position in the extract, too)."""
    from pyspark.sql import functions as F

    def part_of(person: Any) -> Any:
        return F.pmod(F.xxhash64(person), F.lit(parts)).alias("part")

    read = engine.spark.read.parquet
    linked = read(spine.as_uri()).select(
        "source",
        F.col("record_id").cast("string").alias("record_id"),
        F.col("person_id").cast("string").alias("person_id"),
    )
    tables = {"spine": linked.select(*SPINE_COLUMNS, part_of(F.col("person_id")))}
    census = read(sources["census"].as_uri()).selectExpr("*", f"_metadata.row_index AS {POSITION}")
    census_people = (
        linked.where(F.col("source") == "census")
        .groupBy("record_id")
        .agg(F.first("person_id").alias("person_id"))
    )
    own_person = F.concat(F.lit("census:"), F.col("census_person_id").cast("string"))
    tables["census"] = census.join(
        census_people,
        census["census_person_id"].cast("string") == census_people["record_id"],
        "left",
    ).select(
        *SOURCE_COLUMNS["census"], POSITION, part_of(F.coalesce(F.col("person_id"), own_person))
    )
    for name, source in (
        ("gp_registrations", "gp"),
        ("gp_conditions", "gp"),
        ("dwp_benefit_spells", "dwp"),
    ):
        columns = SOURCE_COLUMNS[name]
        records = (
            tables["spine"]
            .where(F.col("source") == source)
            .select(F.col("record_id").alias("_record"), "part")
            .distinct()
        )
        table = read(sources[name].as_uri()).select(*columns)
        tables[name] = table.join(
            records, table[columns[0]].cast("string") == records["_record"], "inner"
        ).select(*columns, "part")
    return tables


def _read_part(folder: Path, part: int, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """One part's rows of a table Spark wrote partitioned by part (none: an empty frame)."""
    files = sorted((folder / f"part={part}").glob("*.parquet"))
    if not files:
        return pl.DataFrame(schema=schema)
    return pl.read_parquet(files).select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def part_population(
    folder: Path, schemas: dict[str, dict[str, pl.DataType]], config: AnalysisConfig, part: int
) -> StudyPopulation:
    """The study population of one part, from the part's files (run on an executor)."""
    frames = {name: _read_part(folder / name, part, schema) for name, schema in schemas.items()}
    census = frames["census"].sort(POSITION).drop(POSITION)
    sources = Sources(
        census=census,
        gp_registrations=frames["gp_registrations"],
        gp_conditions=frames["gp_conditions"],
        dwp_benefit_spells=frames["dwp_benefit_spells"],
    )
    return build_study_population(prepare_sources(sources, config), frames["spine"], config)


class SparkParts:
    """The study population of one spine in parts built on Spark's executors: the
    :class:`analysis.sums.Parts` a pass maps its function over.

    Parameters
    ----------
    engine
        The Spark session and scratch folder (:class:`linkage.backends.SparkEngine`).
    sources
        The source files (:func:`analysis.inputs.source_files`).
    spine
        The spine's file.
    config
        The analysis options; ``people_per_part`` census records per part at most, and at
        least as many parts as Spark's shuffle partitions, so every core has work.
    label
        Names the spine's folder of parts (``linked``, ``truth``, a threshold).
    """

    def __init__(
        self,
        engine: SparkEngine,
        sources: dict[str, Path],
        spine: Path,
        config: AnalysisConfig,
        label: str,
    ) -> None:
        census_records = pl.scan_parquet(sources["census"]).select(pl.len()).collect().item()
        self.engine = engine
        self.config = config
        self.parts = max(
            math.ceil(census_records / config.people_per_part),
            engine.config.spark_shuffle_partitions,
        )
        self.folder = engine.scratch / "analysis_parts" / label
        self.schemas: dict[str, dict[str, pl.DataType]] = {}
        for name, frame in _split_tables(engine, sources, spine, self.parts).items():
            frame.write.mode("overwrite").partitionBy("part").parquet((self.folder / name).as_uri())
            self.schemas[name] = _schema(frame.drop("part"))

    def map(self, function: Callable[[StudyPopulation], T]) -> list[T]:
        """``function`` of each part's population, run on the executors, in part order."""
        folder, schemas, config = self.folder, self.schemas, self.config

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            import pyarrow as pa

            for batch in batches:
                for part in batch.column(0).to_pylist():
                    result = function(part_population(folder, schemas, config, part))
                    yield pa.RecordBatch.from_pylist(
                        [{"part": part, "result": pickle.dumps(result)}]
                    )

        ids = self.engine.spark.range(self.parts).repartition(self.parts)
        rows = ids.mapInArrow(run, RESULT_SCHEMA).collect()
        ordered = sorted(rows, key=lambda row: row["part"])
        return [pickle.loads(row["result"]) for row in ordered]  # noqa: S301 (our executors)


def _schema(frame: Any) -> dict[str, pl.DataType]:
    """The polars types of a Spark frame's columns (from an empty Arrow table of them)."""
    return dict(pl.from_arrow(frame.limit(0).toArrow()).schema)  # type: ignore[union-attr]
