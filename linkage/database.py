"""The one place that opens DuckDB for the linkage (memory limit, spill folder, threads)."""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from pathlib import Path

import duckdb

logger = logging.getLogger(__name__)


def connect(
    *,
    memory_limit: str = "8GB",
    threads: int = 2,
    temp_directory: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection configured for linkage.

    Parameters
    ----------
    memory_limit
        DuckDB's ``memory_limit``; larger intermediate tables spill to ``temp_directory``.
    threads
        Worker threads.
    temp_directory
        Folder for spilled data; ``None`` uses a fresh folder in the system temp directory,
        removed with the connection.
    """
    spill = temp_directory or Path(tempfile.mkdtemp(prefix="triangulate-duckdb-"))
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    if temp_directory is None:
        # A folder made here goes when the connection does (closed and collected, or at
        # exit), so repeated runs leave no empty spill folders in the system temp.
        weakref.finalize(con, shutil.rmtree, spill, ignore_errors=True)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET temp_directory = '{spill.as_posix()}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    logger.info("DuckDB opened: memory_limit=%s threads=%d", memory_limit, threads)
    return con


def splink_api(con: duckdb.DuckDBPyConnection):  # noqa: ANN201 - splink type imported lazily
    """Wrap a connection in Splink's DuckDB API."""
    from splink import DuckDBAPI

    return DuckDBAPI(connection=con)
