"""Read the run folder's files the analysis needs, checking the columns of the data contract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.reference import EXCLUDED_BENEFITS, INCLUDED_BENEFITS

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


def checked_file(path: Path, columns: tuple[str, ...]) -> Path:
    """``path``, after checking it exists and holds ``columns`` (its schema only)."""
    if not path.is_file():
        raise AnalysisInputError(f"{path}: file not found (required by the analysis).")
    schema = pl.read_parquet_schema(path)
    missing = [column for column in columns if column not in schema]
    if missing:
        raise AnalysisInputError(
            f"{path}: missing column(s) {', '.join(missing)} required by docs/data_contracts.md."
        )
    return path


def _read(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.read_parquet(checked_file(path, columns), columns=list(columns))


def source_files(run_dir: Path) -> dict[str, Path]:
    """The files of ``sources/`` the analysis reads, each checked for the contract's columns,
    and the benefit codes checked: what :func:`read_sources` checks, without reading the
    rows (an engine that reads them itself calls this).

    Raises
    ------
    AnalysisInputError
        A file or column is missing, or a benefit code is not in the contract (an unknown
        code would otherwise drop out of "any benefit" silently).
    """
    folder = Path(run_dir) / "sources"
    files = {
        name: checked_file(folder / f"{name}.parquet", columns)
        for name, columns in SOURCE_COLUMNS.items()
    }
    spells = files["dwp_benefit_spells"]
    known = [*INCLUDED_BENEFITS, *EXCLUDED_BENEFITS]
    # A lazy scan of one column: the distinct codes only are held.
    unknown = (
        pl.scan_parquet(spells)
        .select("benefit")
        .filter(~pl.col("benefit").is_in(known) | pl.col("benefit").is_null())
        .unique()
        .collect()["benefit"]
        .sort(nulls_last=True)
        .to_list()
    )
    if unknown:
        raise AnalysisInputError(
            f"{spells}: column benefit holds code(s) "
            f"{', '.join(map(str, unknown[:5]))} outside the contract ({', '.join(known)})."
        )
    return files


def read_sources(run_dir: Path) -> Sources:
    """Read ``sources/`` of a run folder (only the columns the analysis uses), checked as
    :func:`source_files` says."""
    files = source_files(run_dir)
    return Sources(
        **{
            name: pl.read_parquet(path, columns=list(SOURCE_COLUMNS[name]))
            for name, path in files.items()
        }
    )


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
