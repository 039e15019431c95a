"""Stage entry points for the pipeline: paths and small values in, small summaries out.

Each entry point validates a stage's outputs, writes the HTML reports under ``out_dir``
(the run's ``validation/`` folder), and raises ``ValidationFailed`` when a critical
expectation fails, after the reports are written. Warnings are logged and returned.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from expectations import prepare, substance
from expectations.config import ExpectationsConfig
from expectations.errors import InputFileError, ValidationFailed
from expectations.frames import read_frame
from expectations.quarantine import write_quarantine
from expectations.report import summary, write_index, write_results
from expectations.runner import Outcome, SuiteResult, run_suite
from expectations.suites import (
    SOURCE_SUITES,
    Part,
    SuiteDefinition,
    build_suite,
    is_rate_table,
    linkage_suite,
    published_other_suite,
    published_rates_suite,
    published_substance_suite,
)
from expectations.suites.base import GX_TYPES

logger = logging.getLogger(__name__)

_MISSING_INPUT = (
    pl.exceptions.ColumnNotFoundError,
    pl.exceptions.SchemaError,
    pl.exceptions.InvalidOperationError,
)


def _section(config: Any) -> ExpectationsConfig:
    """Accept the whole run configuration or its ``expectations`` section."""
    if isinstance(config, ExpectationsConfig):
        return config
    section = getattr(config, "expectations", None)
    if isinstance(section, ExpectationsConfig):
        return section
    raise TypeError("config must be a RunConfig or an ExpectationsConfig")


def validate_sources(
    sources_dir: Path | str,
    out_dir: Path | str,
    config: Any,
    *,
    people: int | None = None,
) -> dict[str, Any]:
    """Validate the five source extracts against their suites.

    Parameters
    ----------
    sources_dir
        The run's ``sources/`` folder.
    out_dir
        The run's ``validation/`` folder (reports, results and quarantine go here).
    config
        The run configuration (``RunConfig``) or its ``expectations`` section.
    people
        People in the synthetic England, for the row-count bounds; ``None`` skips them.

    Returns
    -------
    dict
        ``suite``, ``evaluated``, ``failed_critical``, ``failed_warning``, ``report`` and a
        ``suites`` entry with the same counts per extract.

    Raises
    ------
    ValidationFailed
        A critical expectation failed (listed with a few offending record ids).
    """
    section, sources_dir, out_dir = _section(config), Path(sources_dir), Path(out_dir)
    frames = {name: read_frame(sources_dir / f"{name}.parquet") for name in SOURCE_SUITES}
    results = []
    for name, build in SOURCE_SUITES.items():
        definition = build(section, people=people, births=_recorded_births(frames[name]))
        inputs = {name: frames[name], **_relations(name, frames)}
        result = run_suite(
            definition, inputs, sample_size=section.sample_size, keep_rows=section.quarantine
        )
        write_results(result, out_dir)
        if section.quarantine:
            write_quarantine(frames[name], result, out_dir / "quarantine" / f"{name}.parquet")
        results.append(result)
    return _finish("sources", results, out_dir)


def _recorded_births(frame: pl.DataFrame) -> int | None:
    """Dates of birth recorded in an extract (``None`` if it has none): a tolerated share
    of mistyped years is at least one of them."""
    if "date_of_birth" not in frame.columns:
        return None
    return frame.height - frame.get_column("date_of_birth").null_count()


def _relations(name: str, frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    links = {
        "gp_conditions": ("gp_record_id", "gp_registrations", "in_gp_registrations"),
        "dwp_benefit_spells": ("dwp_master_key", "dwp_customers", "in_dwp_customers"),
    }
    if name not in links:
        return {}
    key, reference, flag = links[name]
    try:
        frame = prepare.key_exists(frames[name], key, frames[reference][key], flag)
    except _MISSING_INPUT:
        # A missing key column is reported by the schema expectations of either extract.
        return {}
    return {f"{name}_relations": frame}


def validate_linkage(
    linkage_dir: Path | str,
    sources_dir: Path | str,
    out_dir: Path | str,
    config: Any,
) -> dict[str, Any]:
    """Validate the person spine and the links it implies.

    Parameters
    ----------
    linkage_dir
        The run's ``linkage/`` folder (``spine.parquet``).
    sources_dir
        The run's ``sources/`` folder (census ethnic group, dates of birth and death, spells).
    out_dir
        The run's ``validation/`` folder.
    config
        The run configuration or its ``expectations`` section.

    Raises
    ------
    ValidationFailed
        A critical expectation failed.
    """
    section, out_dir = _section(config), Path(out_dir)
    spine = read_frame(Path(linkage_dir) / "spine.parquet")
    sources = {
        name: read_frame(Path(sources_dir) / f"{name}.parquet")
        for name in ("census", "gp_registrations", "dwp_customers", "dwp_benefit_spells")
    }
    records = sum(sources[extract].height for extract, _ in prepare.SPINE_SOURCES.values())
    definition = linkage_suite(section, records=records)
    builders: dict[str, Callable[[], pl.DataFrame]] = {
        "spine_relations": lambda: prepare.spine_relations(spine, sources),
        "linkage_rates": lambda: prepare.linkage_rates(spine, sources["census"]),
        "benefit_timing": lambda: prepare.benefit_timing(
            spine, sources["census"], sources["gp_registrations"], sources["dwp_benefit_spells"]
        ),
    }
    frames = {"spine": spine}
    unprepared: list[Outcome] = []
    for frame_name, build in builders.items():
        try:
            frames[frame_name] = build()
        except _MISSING_INPUT as exc:
            part = next(p for p in definition.parts if p.frame == frame_name)
            unprepared.append(_unprepared(definition, part, exc))
    result = run_suite(definition, frames, sample_size=section.sample_size)
    if unprepared:
        result = SuiteResult(
            result.suite,
            result.description,
            result.outcomes + tuple(unprepared),
            result.rows,
            result.seconds,
        )
    tables = {}
    if "linkage_rates" in frames:
        tables["Linkage rates of census records"] = frames["linkage_rates"]
    write_results(result, out_dir, tables=tables)
    return _finish("linkage", [result], out_dir)


def _unprepared(definition: SuiteDefinition, part: Part, exc: Exception) -> Outcome:
    message = str(exc).splitlines()[0]
    return Outcome(
        suite=definition.name,
        part=part.name,
        check=f"{part.name}_inputs",
        family="schema",
        severity="critical",
        expectation_type="(inputs for this part)",
        columns="",
        rule="the spine and source columns this part joins must exist",
        success=False,
        error=f"cannot compute the {part.name} frame: {message}",
    )


def _validate_substance(analysis_dir: Path, rates: pl.DataFrame | None, section: Any) -> Any:
    """The substance suite on the monthly rates and the main points (manifest.json)."""
    frames: dict[str, pl.DataFrame] = {}
    if rates is not None:
        frames["rate_substance"] = substance.rate_substance(rates)
    manifest = analysis_dir / "manifest.json"
    if manifest.is_file():
        points = json.loads(manifest.read_text(encoding="utf-8")).get("main_points", [])
        frames["main_point_claims"] = substance.main_point_claims(list(points))
    definition = published_substance_suite(section)
    return run_suite(definition, frames, sample_size=section.sample_size)


def validate_published(
    analysis_dir: Path | str, out_dir: Path | str, config: Any
) -> dict[str, Any]:
    """Validate every published table (``analysis/published/*.parquet``).

    Monthly rate tables get the full tidy-schema suite; other tables get the disclosure and
    range rules on their count, percentage and interval columns.

    Raises
    ------
    InputFileError
        No published table was found.
    ValidationFailed
        A critical expectation failed.
    """
    section, out_dir = _section(config), Path(out_dir)
    paths = sorted((Path(analysis_dir) / "published").glob("*.parquet"))
    if not paths:
        raise InputFileError(f"No published tables in {Path(analysis_dir) / 'published'}")
    frames = {path: read_frame(path) for path in paths}
    # The monthly rate tables share one schema: validated as one batch (their ``table``
    # column tells them apart), because GX's cost is per expectation evaluated.
    rate_paths = [path for path, frame in frames.items() if is_rate_table(frame.schema)]
    batches: list[tuple[str, str, SuiteDefinition, pl.DataFrame]] = []
    if rate_paths:
        rates = pl.concat([frames[path] for path in rate_paths], how="vertical_relaxed")
        names = ", ".join(path.name for path in rate_paths)
        batches.append(("published.rates", names, published_rates_suite(section), rates))
    for path, frame in frames.items():
        if path not in rate_paths:
            suite = published_other_suite(frame.schema, section)
            batches.append((f"published.{path.stem}", path.name, suite, frame))
    results = [_validate_substance(Path(analysis_dir), rates if rate_paths else None, section)]
    write_results(results[0], out_dir)
    for name, files, definition, frame in batches:
        definition = SuiteDefinition(
            name,
            f"{definition.description}: {files}",
            definition.parts,
            definition.single_file_parts,
        )
        result = run_suite(definition, {"published": frame}, sample_size=section.sample_size)
        write_results(result, out_dir)
        results.append(result)
    return _finish("published", results, out_dir)


def validate_file(
    path: Path | str,
    suite: str,
    *,
    out_dir: Path | str | None = None,
    config: Any = None,
) -> dict[str, Any]:
    """Validate one user file (CSV or Parquet) against a named suite.

    Only the parts of the suite that need no other file run (cross-table checks such as
    referential integrity need the whole run folder; use the stage entry points for those).

    Raises
    ------
    UnknownSuiteError
        The suite does not exist (the message lists the valid names).
    InputFileError
        The file is missing or unreadable.
    ValidationFailed
        A critical expectation failed.
    """
    section = ExpectationsConfig() if config is None else _section(config)
    definition = build_suite(suite, section)
    single = definition.single_file_parts or (definition.parts[0].name,)
    parts = tuple(p for p in definition.parts if p.name in single)
    definition = SuiteDefinition(definition.name, definition.description, parts, single)
    frame = read_frame(path, types=_contract_types(parts[0]))
    result = run_suite(definition, {parts[0].frame: frame}, sample_size=section.sample_size)
    report = None
    if out_dir is not None:
        write_results(result, Path(out_dir))
        report = Path(out_dir) / "index.html"
    return _finish(definition.name, [result], None, report=report)


def _contract_types(part: Part) -> dict[str, str]:
    names = {gx_type: contract for contract, gx_type in GX_TYPES.items()}
    types = {}
    for check in part.checks:
        type_ = getattr(check.expectation, "type_", None)
        if check.column is not None and type_ in names:
            types[check.column] = names[type_]
    return types


def _finish(
    stage: str, results: list[SuiteResult], out_dir: Path | None, *, report: Path | None = None
) -> dict[str, Any]:
    if out_dir is not None:
        report = write_index(out_dir)
    critical = [o for r in results for o in r.failed_critical]
    warnings = [o for r in results for o in r.failed_warning]
    for outcome in warnings:
        logger.warning("Validation warning in %s: %s", outcome.suite, outcome.describe())
    totals = {
        "suite": stage,
        "evaluated": sum(r.evaluated for r in results),
        "failed_critical": len(critical),
        "failed_warning": len(warnings),
        "report": None if report is None else str(report),
        "suites": {r.suite: summary(r) for r in results},
    }
    if critical:
        raise ValidationFailed(
            stage, [f"{o.suite}: {o.describe()}" for o in critical], totals["report"]
        )
    return totals
