"""The separation step: what the analysis may see of a linked run.

Real linkage environments keep the people who see names apart from the people who see
attributes. After linkage this step writes the run's analysis inputs (``<run>/analysis_inputs/``),
the only folder the analysis stage reads, in the layout of a run folder (``sources/``,
``linkage/spine.parquet``, ``truth/record_map.parquet``, ``spines/``) but holding:

- record ids and person ids replaced by keyed hashes (HMAC-SHA256, hex) under a linkage key
  that the analysis never holds, so ids join across tables but cannot be traced back;
- only the attribute columns the analysis uses: no name, postcode, NHS number or NINO;
- the date of birth reduced to the month of birth: ``date_of_birth`` holds the first of the
  birth month for people born on the 1st and the 2nd for everyone else, which is exactly
  what completed age on the first day of each study month needs (``analysis.population``).

The key comes from ``TRIANGULATE_LINKAGE_KEY`` or the file named by
``TRIANGULATE_LINKAGE_KEY_FILE``; a run on synthetic data may fall back to a published demo
key, with a warning. The key is never logged or written.

:func:`separate_linked_run` is the entry point of both the pipeline and ``triangulate
analyse``; the folder it writes records the digests of the files it was made from
(``separation.json``), so a later call can tell whether it is still current.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from analysis.inputs import SOURCE_COLUMNS
from common.files import staged_output
from common.parquet import write_frames
from separation.pseudonyms import (
    DEMO_KEY,
    KEY_ENV,
    KEY_FILE_ENV,
    MIN_KEY_BYTES,
    SPINE_IDS,
    MissingKeyError,
    SeparationError,
    input_batches,
    input_schema,
    keyed_hash,
    linkage_key,
    missing_input,
    month_of_birth,
    pseudonymised,
)

if TYPE_CHECKING:
    from linkage import LinkageConfig

logger = logging.getLogger(__name__)

__all__ = [
    "DEMO_KEY",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "MIN_KEY_BYTES",
    "ROWS_PER_BATCH",
    "LocalTables",
    "RECORD",
    "MissingKeyError",
    "RunLayout",
    "SeparationError",
    "input_record",
    "is_current",
    "keyed_hash",
    "linkage_key",
    "month_of_birth",
    "saved_record",
    "separate_linked_run",
    "separate_run",
]

RECORD = "separation.json"
# Raise when the layout or the meaning of the written files changes, so older folders are
# no longer reused.
RECORD_VERSION = 1

# Columns the analysis reads from each extract, split into the id column that is
# pseudonymised (listed first in analysis.inputs.SOURCE_COLUMNS) and the attributes.
SOURCE_ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    source: (columns[0], columns[1:]) for source, columns in SOURCE_COLUMNS.items()
}


SPINE_COLUMNS = ["source", "record_id", "person_id"]


class RunLayout(Protocol):
    """Where a run folder keeps what this step reads and writes. The caller passes the run
    core's ``runcore.runs.RunFolder``, the one owner of the layout; a stage does not import
    the run core, so the layout is described here by what is used of it."""

    @property
    def work(self) -> Path: ...

    @property
    def sources(self) -> Path: ...

    @property
    def linkage(self) -> Path: ...

    @property
    def spine(self) -> Path: ...

    @property
    def record_map(self) -> Path: ...

    @property
    def analysis_inputs(self) -> Path: ...

    def threshold_spine(self, threshold: float) -> Path: ...


def _in_inputs(run: RunLayout, path: Path) -> Path:
    """Where ``path`` goes within the analysis inputs: they mirror the run folder, so a file
    read from the run keeps its path within it; a threshold spine is laid out there already."""
    if path.is_relative_to(run.analysis_inputs):
        return path.relative_to(run.analysis_inputs)
    return path.relative_to(run.work)


class TableWriter(Protocol):
    """Writes one pseudonymised table (:func:`pseudonymised` of ``columns`` of ``source``,
    a file or a frame) to ``target`` and returns its rows: in the Python process
    (:class:`LocalTables`) or as Spark jobs (:class:`separation.spark_tables.SparkTables`)."""

    def __call__(
        self, source: Path | pl.DataFrame, columns: list[str], ids: Mapping[str, str], target: Path
    ) -> int: ...


ROWS_PER_BATCH = 500_000
"""Rows the Python process pseudonymises at a time: no table is ever held whole."""


class LocalTables:
    """Each table pseudonymised in this process a batch of rows at a time, read and written
    as a stream (a :class:`TableWriter`). Each distinct id of a batch is hashed once; the
    same ids recur in every table, so they are hashed again in each, which costs CPU but
    keeps the memory flat as the run grows (a digest cache for the whole run grew with it:
    4.48 GB at 3,000,000 people)."""

    def __init__(self, key: bytes, rows_per_batch: int = ROWS_PER_BATCH) -> None:
        self.key = key
        self.rows_per_batch = rows_per_batch

    def __call__(
        self, source: Path | pl.DataFrame, columns: list[str], ids: Mapping[str, str], target: Path
    ) -> int:
        if isinstance(source, pl.DataFrame):
            table = source.select(columns)
            batches, schema = table.iter_slices(self.rows_per_batch), table.schema
        else:
            # The footer is read here and again by input_batches' own check: a few KB.
            batches = input_batches(source, columns, self.rows_per_batch)
            schema = pl.Schema(input_schema(source, columns))
        empty = pseudonymised(pl.DataFrame(schema=schema), self.key, ids)
        hashed = (pseudonymised(batch, self.key, ids) for batch in batches)
        # A table with no rows still gets its columns.
        return write_frames(hashed, target, empty=empty)


def separate_run(
    run: RunLayout,
    key: bytes,
    *,
    threshold_spines: Mapping[float, pl.DataFrame | Path] | None = None,
    record: dict[str, Any] | None = None,
    tables: TableWriter | None = None,
) -> dict[str, Any]:
    """Write the run's analysis inputs (replacing the folder as a whole, atomically).

    Parameters
    ----------
    run
        A linked run folder (``sources/``, ``linkage/spine.parquet``, optionally ``truth/``).
    key
        The linkage key (see :func:`linkage_key`).
    threshold_spines
        Spines re-clustered at other thresholds; written pseudonymised where
        ``run.threshold_spine`` says.
    record
        What the folder was made from (see :func:`input_record`); written, with the rows
        per table, to ``separation.json`` inside the folder.
    tables
        Who writes each table; default :class:`LocalTables` under ``key``.

    Returns
    -------
    dict
        ``folder``, ``tables`` (rows per written table) and ``threshold_spines``
        (threshold to written path).
    """
    target = run.analysis_inputs
    write = tables or LocalTables(key)
    with staged_output(target) as staging:
        rows = _write_sources(run, staging, write)
        rows.update(_write_spines(run, staging, write))
        written = _write_threshold_spines(run, staging, write, threshold_spines or {})
        if record is not None:
            (staging / RECORD).write_text(
                json.dumps({**record, "tables": rows}, indent=2, sort_keys=True),
                encoding="utf-8",
            )
    return {"folder": str(target), "tables": rows, "threshold_spines": written}


def _write_sources(run: RunLayout, staging: Path, write: TableWriter) -> dict[str, int]:
    """Each extract's attributes with its record id pseudonymised; rows per table."""
    tables: dict[str, int] = {}
    (staging / _in_inputs(run, run.sources)).mkdir()
    for name, (id_column, attributes) in SOURCE_ATTRIBUTES.items():
        source = run.sources / f"{name}.parquet"
        tables[_table_name(run, source)] = write(
            source,
            [id_column, *attributes],
            {id_column: "record"},
            staging / _in_inputs(run, source),
        )
    return tables


def _write_spines(run: RunLayout, staging: Path, write: TableWriter) -> dict[str, int]:
    """The linked spine and, where the run has one, the truth's, pseudonymised; rows of each."""
    paths = [run.spine, *([run.record_map] if run.record_map.is_file() else [])]
    tables: dict[str, int] = {}
    for path in paths:
        written = staging / _in_inputs(run, path)
        written.parent.mkdir()
        tables[_table_name(run, path)] = write(path, SPINE_COLUMNS, SPINE_IDS, written)
    return tables


def _table_name(run: RunLayout, path: Path) -> str:
    """How ``separation.json`` names a table: its path in the run, without the suffix."""
    return _in_inputs(run, path).with_suffix("").as_posix()


def _write_threshold_spines(
    run: RunLayout,
    staging: Path,
    write: TableWriter,
    threshold_spines: Mapping[float, pl.DataFrame | Path],
) -> dict[float, str]:
    """The spines re-clustered at other thresholds, pseudonymised; their paths by threshold."""
    written: dict[float, str] = {}
    for threshold, spine_at in sorted(threshold_spines.items()):
        target = run.threshold_spine(threshold)
        (staging / _in_inputs(run, target)).parent.mkdir(exist_ok=True)
        write(spine_at, SPINE_COLUMNS, SPINE_IDS, staging / _in_inputs(run, target))
        written[float(threshold)] = str(target)
    return written


def _sha256(path: Path) -> str:
    if not path.is_file():
        raise missing_input(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_record(
    run: RunLayout,
    *,
    thresholds: Sequence[float] = (),
    spine_files: Mapping[float, Path] | None = None,
) -> dict[str, Any]:
    """What a separation of ``run`` reads: file digests, thresholds and columns.

    Parameters
    ----------
    run
        A linked run folder.
    thresholds
        Thresholds whose spines are re-clustered from ``linkage/predictions.parquet`` (the
        saved predictions and records are then inputs too).
    spine_files
        Threshold spines given as files instead (threshold -> path).

    Raises
    ------
    SeparationError
        An input file is missing.
    """
    paths = [run.sources / f"{name}.parquet" for name in SOURCE_ATTRIBUTES]
    paths.append(run.spine)
    if run.record_map.is_file():
        paths.append(run.record_map)
    if thresholds and not spine_files:
        paths += [run.linkage / "records.parquet", run.linkage / "predictions.parquet"]
    return {
        "version": RECORD_VERSION,
        "columns": {name: [i, *a] for name, (i, a) in SOURCE_ATTRIBUTES.items()},
        "inputs": {path.relative_to(run.work).as_posix(): _sha256(path) for path in paths},
        "thresholds": sorted(float(t) for t in (spine_files or thresholds)),
        "spine_files": {
            f"{t:g}": _sha256(Path(path)) for t, path in sorted((spine_files or {}).items())
        },
    }


def saved_record(run: RunLayout) -> dict[str, Any] | None:
    """The record of the run's analysis inputs, or ``None`` if there is none."""
    path = run.analysis_inputs / RECORD
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(saved: dict[str, Any] | None, record: dict[str, Any], *, demo: bool) -> bool:
    """Whether a saved folder was made from exactly these inputs, and with an acceptable key.

    A folder pseudonymised with the (public) demo key is only acceptable in demo mode.
    """
    if saved is None or any(saved.get(name) != value for name, value in record.items()):
        return False
    return demo or saved.get("demo_key") is False


def separate_linked_run(
    run: RunLayout,
    thresholds: Sequence[float] = (),
    *,
    demo: bool,
    spine_files: Mapping[float, Path] | None = None,
    reuse: bool = False,
    linkage: LinkageConfig | None = None,
) -> dict[str, Any]:
    """Separate a linked run for the analysis: the pipeline's and the command line's step.

    Parameters
    ----------
    run
        A linked run folder (``sources/``, ``linkage/spine.parquet``, optionally ``truth/``),
        as the run core lays it out.
    thresholds
        Sensitivity thresholds: their spines are re-clustered from the run's saved
        predictions, when ``linkage/predictions.parquet`` exists.
    demo
        Allow the published demo key when no key is configured (synthetic data only).
    spine_files
        Threshold spines given as files (threshold -> path); they replace ``thresholds``.
    reuse
        Keep existing analysis inputs made from the same inputs (see :func:`is_current`)
        instead of writing them again; no key is needed then.
    linkage
        The run's linkage settings: with ``backend: spark`` every table is written, and
        every threshold spine re-clustered, as Spark jobs on the same Spark as the linkage
        (:mod:`separation.spark_tables`); otherwise in this process.

    Returns
    -------
    dict
        As :func:`separate_run`, plus ``reused``.

    Raises
    ------
    SeparationError
        The run folder or an input is missing or unreadable, or no key is configured
        outside demo mode. Nothing is written then.
    linkage.backends.BackendUnavailableError
        ``backend: spark`` and Spark cannot start.
    """
    if not run.work.is_dir():
        raise SeparationError(f"{run.work}: no such run folder")
    if not spine_files and not (run.linkage / "predictions.parquet").is_file():
        thresholds = ()
    record = input_record(run, thresholds=thresholds, spine_files=spine_files)
    saved = saved_record(run)
    if reuse and is_current(saved, record, demo=demo):
        logger.info("%s is current: reused, not written again.", run.analysis_inputs)
        return {
            "folder": str(run.analysis_inputs),
            "tables": saved["tables"],
            "threshold_spines": {t: str(run.threshold_spine(t)) for t in record["thresholds"]},
            "reused": True,
        }
    key = linkage_key(demo=demo)
    record = {**record, "demo_key": key == DEMO_KEY}
    with _engine(run, key, linkage) as (tables, recluster):
        spines = (
            {float(t): Path(p) for t, p in spine_files.items()}
            if spine_files
            else recluster(run.linkage, [float(t) for t in thresholds])
        )
        summary = separate_run(run, key, threshold_spines=spines, record=record, tables=tables)
    return {**summary, "reused": False}


Recluster = Callable[[Path, list[float]], dict[float, Path]]
"""Re-clusters a run's saved links (its linkage folder) at thresholds into spine files."""


@contextmanager
def _engine(
    run: RunLayout, key: bytes, linkage: LinkageConfig | None
) -> Iterator[tuple[TableWriter, Recluster]]:
    """Who writes the tables and re-clusters the threshold spines: Spark jobs on the same
    Spark as the linkage (the driver holds no table's rows), or this process, the spines
    one at a time into a scratch folder beside the run (removed afterwards)."""
    if linkage is not None and linkage.backend == "spark":
        from linkage.backends import SparkEngine
        from linkage.spark_clustering import spines_at_thresholds_spark
        from separation.spark_tables import SparkTables

        engine = SparkEngine(linkage)
        try:
            recluster = partial(
                spines_at_thresholds_spark, engine, folder=engine.scratch / "spines"
            )
            yield SparkTables(engine, key), recluster
        finally:
            engine.close()
        return
    from linkage.clustering import spine_files_at_thresholds

    with tempfile.TemporaryDirectory(prefix=".separation-spines-", dir=run.work) as scratch:
        yield LocalTables(key), partial(spine_files_at_thresholds, folder=Path(scratch))
