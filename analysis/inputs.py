"""Read the run folder's files the analysis needs, checking the columns of the data contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "census": (
        "census_person_id",
        "date_of_birth",
        "sex",
        "lsoa11cd",
        "ethnic_group",
        "disability",
        "usual_resident",
        "wholly_imputed",
    ),
    "gp_registrations": (
        "gp_record_id",
        "registration_date",
        "deregistration_date",
        "date_of_death",
        "sex",
    ),
    "gp_conditions": ("gp_record_id", "cluster", "event_date"),
    "dwp_benefit_spells": ("dwp_master_key", "benefit", "start_date", "end_date"),
}
SPINE_COLUMNS = ("source", "record_id", "person_id")
RECORD_MAP_COLUMNS = ("source", "record_id", "person_id")


class AnalysisInputError(ValueError):
    """An input file is missing or breaks the data contract (names the file, column, rule)."""


@dataclass(frozen=True)
class Sources:
    """The source extracts the study population is built from (one frame per file)."""

    census: pl.DataFrame
    gp_registrations: pl.DataFrame
    gp_conditions: pl.DataFrame
    dwp_benefit_spells: pl.DataFrame


def _read(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    if not path.is_file():
        raise AnalysisInputError(f"{path}: file not found (required by the analysis).")
    schema = pl.read_parquet_schema(path)
    missing = [column for column in columns if column not in schema]
    if missing:
        raise AnalysisInputError(
            f"{path}: missing column(s) {', '.join(missing)} required by docs/data_contracts.md."
        )
    return pl.read_parquet(path, columns=list(columns))


def read_sources(run_dir: Path) -> Sources:
    """Read ``sources/`` of a run folder (only the columns the analysis uses)."""
    folder = Path(run_dir) / "sources"
    frames = {
        name: _read(folder / f"{name}.parquet", columns) for name, columns in SOURCE_COLUMNS.items()
    }
    return Sources(**frames)


def read_spine(spine: Path | pl.DataFrame, *, label: str = "spine") -> pl.DataFrame:
    """Read (or check) a person spine: ``source``, ``record_id``, ``person_id``."""
    if isinstance(spine, pl.DataFrame):
        missing = [column for column in SPINE_COLUMNS if column not in spine.columns]
        if missing:
            raise AnalysisInputError(f"{label}: missing column(s) {', '.join(missing)}.")
        frame = spine.select(SPINE_COLUMNS)
    else:
        frame = _read(Path(spine), SPINE_COLUMNS)
    return frame.with_columns(
        pl.col("record_id").cast(pl.String), pl.col("person_id").cast(pl.String)
    )


def perfect_spine(run_dir: Path) -> pl.DataFrame:
    """The spine perfect linkage would give: every record joined to its true person.

    Reads ``truth/record_map.parquet``; used only to build the truth comparison tables.
    """
    path = Path(run_dir) / "truth" / "record_map.parquet"
    return read_spine(_read(path, RECORD_MAP_COLUMNS), label=str(path))


def read_threshold_spines(
    spines: Mapping[float, Path | pl.DataFrame] | None,
) -> dict[float, pl.DataFrame]:
    """Read the spines re-clustered at other match thresholds, keyed by threshold."""
    return {
        float(threshold): read_spine(spine, label=f"spine at threshold {threshold}")
        for threshold, spine in sorted((spines or {}).items())
    }
