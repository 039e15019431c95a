"""What the analysis produces, as types: the estimates and the publication made from them.

Kept apart from :mod:`analysis.run` (which computes them) and :mod:`analysis.publication`
(which writes them) so that neither module has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Estimates:
    """Unrounded results of every estimate, and the sample flow of each population."""

    results: pl.DataFrame
    flows: pl.DataFrame
    linkage_rates: pl.DataFrame | None
    person_months: int


@dataclass(frozen=True)
class Publication:
    """Every published table (after disclosure control) and the audit log."""

    tables: dict[str, pl.DataFrame]
    monthly_tables: tuple[str, ...]
    audit: pl.DataFrame
