"""Reading a run folder (``docs/data_contracts.md``): every artefact is optional.

The report is built from whatever a run has produced so far; a section whose artefact is
missing says so instead of failing. Only a folder that is not a run at all is an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from quality_report.errors import QualityReportError

logger = logging.getLogger(__name__)

SOURCE_FILES: dict[str, str] = {
    "census": "sources/census.parquet",
    "gp": "sources/gp_registrations.parquet",
    "gp_conditions": "sources/gp_conditions.parquet",
    "dwp": "sources/dwp_customers.parquet",
    "dwp_spells": "sources/dwp_benefit_spells.parquet",
}
"""Source extracts by short name."""

LINKED_SOURCES: dict[str, str] = {"census": "census", "gp": "gp", "dwp": "dwp"}
"""Spine source names to the short names of their extracts."""

RECORD_ID: dict[str, str] = {
    "census": "census_person_id",
    "gp": "gp_record_id",
    "dwp": "dwp_master_key",
}
"""Record-id column of each linked source."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class RunArtefacts:
    """Lazy access to one run folder's artefacts; a missing file reads as ``None``."""

    run_dir: Path
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, run_dir: Path) -> RunArtefacts:
        """Check that ``run_dir`` looks like a run folder and wrap it.

        Raises
        ------
        QualityReportError
            The folder does not exist, or holds neither ``sources/`` nor ``config.yaml``.
        """
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise QualityReportError(f"{run_dir}: run folder not found")
        if not (run_dir / "sources").is_dir() and not (run_dir / "config.yaml").is_file():
            raise QualityReportError(
                f"{run_dir}: not a run folder (it holds neither sources/ nor config.yaml; "
                "see docs/data_contracts.md)"
            )
        return cls(run_dir)

    def path(self, relative: str) -> Path:
        """Absolute path of an artefact."""
        return self.run_dir / relative

    def has(self, relative: str) -> bool:
        """True when the artefact exists."""
        return self.path(relative).exists()

    def table(self, relative: str) -> pl.DataFrame | None:
        """Read a Parquet artefact, or ``None`` when it is absent.

        Raises
        ------
        QualityReportError
            The file exists but cannot be read as Parquet.
        """
        if relative in self._cache:
            return self._cache[relative]
        path = self.path(relative)
        frame = None
        if path.is_file():
            try:
                frame = pl.read_parquet(path)
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise QualityReportError(f"{path}: cannot be read as Parquet: {exc}") from None
        self._cache[relative] = frame
        return frame

    def require_columns(self, relative: str, frame: pl.DataFrame, columns: list[str]) -> None:
        """Raise a clear error when an artefact lacks a contracted column."""
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise QualityReportError(
                f"{self.path(relative)}: missing column(s) {', '.join(missing)} required by "
                "docs/data_contracts.md"
            )

    def source(self, name: str) -> pl.DataFrame | None:
        """A source extract by short name (``census``, ``gp``, ``dwp`` ...)."""
        return self.table(SOURCE_FILES[name])

    def json(self, relative: str) -> Any | None:
        """Read a JSON artefact, or ``None`` when it is absent."""
        path = self.path(relative)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise QualityReportError(f"{path}: not valid JSON: {exc}") from None

    @cached_property
    def config(self) -> dict[str, Any] | None:
        """The resolved run configuration, or ``None``."""
        path = self.path("config.yaml")
        if not path.is_file():
            return None
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        return loaded if isinstance(loaded, dict) else None

    def glob(self, pattern: str) -> list[Path]:
        """Artefacts matching a glob relative to the run folder, sorted."""
        return sorted(self.run_dir.glob(pattern))

    def input_hashes(self) -> list[dict[str, Any]]:
        """SHA-256 and size of every source and truth file, for reproducibility."""
        rows = []
        for folder in ("sources", "truth", "linkage"):
            for path in self.glob(f"{folder}/*.parquet") + self.glob(f"{folder}/*.json"):
                rows.append(
                    {
                        "file": path.relative_to(self.run_dir).as_posix(),
                        "bytes": path.stat().st_size,
                        "sha256": file_sha256(path),
                    }
                )
        return rows
