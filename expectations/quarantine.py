"""Write the rows of a source extract that failed row-level expectations aside."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from common.files import atomic_write
from expectations.runner import SuiteResult

logger = logging.getLogger(__name__)


def write_quarantine(frame: pl.DataFrame, result: SuiteResult, path: Path) -> int:
    """Write failing rows with a ``reason`` column (the failed checks, ``; ``-separated).

    Row-level expectations of every part refer to the extract's row positions (the
    cross-table frames keep the extract's row order). A stale file from an earlier run is
    removed when nothing fails now.

    Returns
    -------
    int
        The number of rows written aside.
    """
    reasons: dict[int, list[str]] = {}
    for outcome in result.outcomes:
        if outcome.success:
            continue
        for position in outcome.rows:
            reasons.setdefault(position, []).append(outcome.check)
    if not reasons:
        path.unlink(missing_ok=True)
        return 0
    positions = sorted(reasons)
    rows = frame[positions].with_columns(
        pl.Series("reason", ["; ".join(reasons[p]) for p in positions], dtype=pl.String)
    )
    atomic_write(path, rows.write_parquet)
    logger.info("Quarantined %d rows of %s", len(positions), result.suite)
    return len(positions)
