"""The analysis stage: from a linked run folder to the published tables.

``analyse_run`` is the one function the Prefect flow calls; everything it does is a call into
this package, in the order a methods section would describe it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from analysis.config import AnalysisConfig
from analysis.disclosure import AUDIT_SCHEMA, DisclosureResult
from analysis.inputs import (
    perfect_spine,
    read_sources,
    read_spine,
    read_threshold_spines,
)
from analysis.monthly import monthly_counts, person_months
from analysis.paired import paired_covariances
from analysis.population import (
    PreparedSources,
    StudyPopulation,
    build_study_population,
    prepare_sources,
)
from analysis.rates import standard_weights
from analysis.results import Estimates, Publication
from analysis.tables import (
    HEADLINE_TABLES,
    MONTHLY_COLUMNS,
    monthly_results,
    publish_bias,
    publish_change,
    publish_counts,
    publish_ethnic_gaps,
    publish_inequality,
    publish_monthly,
    threshold_label,
)
from analysis.weighting import (
    CalibrationError,
    calibration_weights,
    census_patterns,
    linkage_rates,
    linkage_weights,
    person_weights,
)

logger = logging.getLogger(__name__)


def _population_results(
    sources: PreparedSources,
    spine: pl.DataFrame,
    config: AnalysisConfig,
    *,
    estimate: str,
    standard: pl.DataFrame | None,
    tables: tuple[str, ...] | None = None,
    weighted: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame, StudyPopulation, pl.DataFrame, int]:
    population = build_study_population(sources, spine, config)
    weights = (
        person_weights(population.people, linkage_weights(census_patterns(population.census_base)))
        if weighted
        else None
    )
    pm = person_months(population, weights)
    counts = monthly_counts(pm, tables=tables, weighted=weighted)
    n_person_months = pm.height
    if standard is None:
        standard = standard_weights(
            config.standard_population, study_counts=counts.filter(pl.col("table") == "overall")
        )
    # Changes are paired (the same people in both months): each estimate carries the
    # covariance of its two months' rates.
    parts = [
        monthly_results(
            counts, standard, estimate=estimate, confidence=config.confidence_level
        ).join(paired_covariances(pm, counts, standard), on=["table", "group"], how="left")
    ]
    if weighted:
        parts.append(
            monthly_results(
                counts,
                standard,
                estimate="ipw",
                weighted=True,
                confidence=config.confidence_level,
            ).join(
                paired_covariances(pm, counts, standard, weighted=True),
                on=["table", "group"],
                how="left",
            )
        )
    del pm
    if weighted:
        parts += _calibrated_results(population, standard, config, tables=tables)
    flow = population.flow.with_columns(pl.lit(estimate).alias("estimate"))
    return pl.concat(parts), flow, population, standard, n_person_months


def _calibrated_results(
    population: StudyPopulation,
    standard: pl.DataFrame,
    config: AnalysisConfig,
    *,
    tables: tuple[str, ...] | None = None,
) -> list[pl.DataFrame]:
    """The alternative correction (``calibrated``): the linked people raked to the census
    margins of the same covariates, with no model (:func:`calibration_weights`).

    An empty list when raking does not converge: it is an alternative, so the run goes on
    and the log says why it is missing.
    """
    try:
        weights = person_weights(
            population.people, calibration_weights(census_patterns(population.census_base))
        )
    except CalibrationError as error:
        logger.warning("Calibrated estimates left out: %s", error)
        return []
    pm = person_months(population, weights)
    counts = monthly_counts(pm, tables=tables, weighted=True)
    results = monthly_results(
        counts, standard, estimate="calibrated", weighted=True, confidence=config.confidence_level
    ).join(
        paired_covariances(pm, counts, standard, weighted=True),
        on=["table", "group"],
        how="left",
    )
    return [results]


def estimate_all(
    run_dir: Path,
    config: AnalysisConfig,
    *,
    spine: Path | pl.DataFrame | None = None,
    threshold_spines: Mapping[float, Path | pl.DataFrame] | None = None,
    with_truth: bool | None = None,
) -> Estimates:
    """Compute every estimate (linked, truth, weighted, thresholds) without rounding.

    Parameters
    ----------
    run_dir
        The run folder (reads ``sources/``, ``linkage/spine.parquet`` and, for the truth
        tables only, ``truth/record_map.parquet``).
    config
        The analysis options.
    spine
        The linked spine (default ``run_dir/linkage/spine.parquet``).
    threshold_spines
        Spines re-clustered at other match thresholds, keyed by threshold.
    with_truth
        Build the truth tables; by default when ``truth/record_map.parquet`` exists.
    """
    run_dir = Path(run_dir)
    sources = prepare_sources(read_sources(run_dir), config)
    linked_spine = read_spine(spine if spine is not None else run_dir / "linkage" / "spine.parquet")
    started = time.perf_counter()
    results, flow, population, standard, n_pm = _population_results(
        sources,
        linked_spine,
        config,
        estimate="linked",
        standard=None,
        weighted=config.inverse_probability_weighting,
    )
    logger.info("Linked estimates: %d person-months in %.1f s", n_pm, time.perf_counter() - started)
    all_results, flows = [results], [flow]
    rates = linkage_rates(
        census_patterns(population.census_base), confidence=config.confidence_level
    )
    if with_truth is None:
        with_truth = (run_dir / "truth" / "record_map.parquet").is_file()
    if with_truth:
        truth, truth_flow, _, _, _ = _population_results(
            sources, perfect_spine(run_dir), config, estimate="truth", standard=standard
        )
        all_results.append(truth)
        flows.append(truth_flow)
        logger.info("Truth estimates at %.1f s", time.perf_counter() - started)
    for threshold, threshold_spine in read_threshold_spines(threshold_spines).items():
        label = threshold_label(threshold)
        at_threshold, threshold_flow, _, _, _ = _population_results(
            sources,
            threshold_spine,
            config,
            estimate=label,
            standard=standard,
            tables=HEADLINE_TABLES,
        )
        all_results.append(at_threshold)
        flows.append(threshold_flow)
        logger.info("Threshold %s estimates at %.1f s", threshold, time.perf_counter() - started)
    return Estimates(
        results=pl.concat(all_results),
        flows=pl.concat(flows),
        linkage_rates=rates,
        person_months=n_pm,
    )


def publish(estimates: Estimates, config: AnalysisConfig) -> Publication:
    """Apply disclosure control to every table and split the monthly results by table."""
    monthly = publish_monthly(estimates.results, config)
    published = monthly.published
    tables: dict[str, pl.DataFrame] = {}
    for (name,), frame in published.group_by("table", maintain_order=True):
        tables[str(name)] = frame.select(MONTHLY_COLUMNS)
    monthly_names = tuple(tables)
    results: list[DisclosureResult] = [monthly]
    derived = [
        ("change", publish_change(estimates.results, published, config)),
        ("inequality_deprivation", publish_inequality(estimates.results, published, config)),
        ("ethnic_gaps", publish_ethnic_gaps(estimates.results, published, config)),
    ]
    if (estimates.results["estimate"] == "truth").any():
        derived.append(("bias", publish_bias(estimates.results, published, config)))
    flow = publish_counts(
        estimates.flows.select("estimate", "step", "criterion", "people", "removed"),
        table="sample_flow",
        keys=["estimate", "step"],
        counts=["people", "removed"],
        config=config,
        zero_safe=True,
    )
    derived.append(("sample_flow", flow))
    if estimates.linkage_rates is not None:
        derived.append(
            (
                "linkage_rates",
                publish_counts(
                    estimates.linkage_rates,
                    table="linkage_rates",
                    keys=["breakdown", "group"],
                    counts=["people", "linked"],
                    numerator="linked",
                    denominator="people",
                    rates=("linked_pct", "linked_lower", "linked_upper"),
                    config=config,
                ),
            )
        )
    for name, result in derived:
        tables[name] = result.published
        results.append(result)
    audit = pl.concat([r.audit for r in results]) if results else pl.DataFrame(schema=AUDIT_SCHEMA)
    return Publication(tables=tables, monthly_tables=monthly_names, audit=audit)


def analyse_run(
    run_dir: Path,
    out_dir: Path,
    config: AnalysisConfig,
    *,
    threshold_spines: Mapping[float, Path | pl.DataFrame] | None = None,
) -> dict[str, Any]:
    """Publish the study's tables for a linked run.

    Parameters
    ----------
    run_dir
        The run folder (``sources/``, ``linkage/spine.parquet``, optionally ``truth/``).
    out_dir
        Where to write: ``published/``, ``audit/``, the spreadsheet, charts and main points
        (normally ``run_dir / "analysis"``).
    config
        The ``analysis`` section of the run configuration.
    threshold_spines
        Spines re-clustered at other match thresholds (threshold -> path or frame); the
        headline tables are recomputed at each.

    Returns
    -------
    dict
        ``tables`` (names written), ``people``, ``person_months``, ``main_points``,
        ``seconds`` and ``out_dir``.
    """
    # Imported here: its chart and spreadsheet libraries take about 2 s to import, which
    # every "import analysis" (the CLI, the flows) would otherwise pay.
    from analysis.publication import write_publication

    started = time.perf_counter()
    estimates = estimate_all(Path(run_dir), config, threshold_spines=threshold_spines)
    publication = publish(estimates, config)
    logger.info("Disclosure control done at %.1f s", time.perf_counter() - started)
    main_points = write_publication(publication, estimates, Path(out_dir), config)
    flow = estimates.flows.filter(pl.col("estimate") == "linked")
    summary = {
        "out_dir": str(out_dir),
        "tables": sorted(publication.tables),
        "people": int(flow["people"][-1]),
        "person_months": estimates.person_months,
        "main_points": main_points,
        "seconds": round(time.perf_counter() - started, 2),
    }
    logger.info("Analysis written to %s in %.1f s", out_dir, summary["seconds"])
    return summary
