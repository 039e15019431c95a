"""The analysis stage: from a linked run folder to the published tables.

``analyse_run`` is the one function the Prefect flow calls; everything it does is a call into
this package, in the order a methods section would describe it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from analysis.config import AnalysisConfig
from analysis.disclosure import AUDIT_SCHEMA, DisclosureResult
from analysis.inputs import (
    SPINE_COLUMNS,
    checked_file,
    read_sources,
    read_spine,
    source_files,
)
from analysis.paired import covariances_from_sums
from analysis.population import prepare_sources
from analysis.rates import standard_weights
from analysis.results import Estimates, Publication
from analysis.sums import Parts, PopulationParts, Sums, first_pass, weighted_pass
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
    linkage_rates,
    linkage_weights,
)

if TYPE_CHECKING:
    from linkage import LinkageConfig
    from linkage.backends import SparkEngine

logger = logging.getLogger(__name__)


def _population_results(
    populations: Parts,
    config: AnalysisConfig,
    *,
    estimate: str,
    standard: pl.DataFrame | None,
    tables: tuple[str, ...] | None = None,
    weighted: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, int]:
    """Every estimate of one spine: the results, the flow, the census base's pattern
    counts, the standard population and the person-months, from sums over the population
    counted a part at a time (:mod:`analysis.sums`)."""
    first = first_pass(populations, tables)
    counts = first.sums.counts
    if standard is None:
        standard = standard_weights(
            config.standard_population, study_counts=counts.filter(pl.col("table") == "overall")
        )
    parts = [_results(first.sums, standard, config, estimate=estimate)]
    if weighted:
        weighted_sums = weighted_pass(populations, tables, _pattern_weights(first.patterns))
        parts += [
            _results(sums, standard, config, estimate=label, weighted=True)
            for label, sums in weighted_sums.items()
        ]
    flow = first.flow.with_columns(pl.lit(estimate).alias("estimate"))
    return pl.concat(parts), flow, first.patterns, standard, first.sums.person_months


def _results(
    sums: Sums,
    standard: pl.DataFrame,
    config: AnalysisConfig,
    *,
    estimate: str,
    weighted: bool = False,
) -> pl.DataFrame:
    """The monthly estimates of one set of sums. Changes are paired (the same people in
    both months): each estimate carries the covariance of its two months' rates."""
    covariances = covariances_from_sums(sums.pairs, sums.counts, standard, weighted=weighted)
    return monthly_results(
        sums.counts,
        standard,
        estimate=estimate,
        weighted=weighted,
        confidence=config.confidence_level,
    ).join(covariances, on=["table", "group"], how="left")


def _pattern_weights(patterns: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The weights of each covariate pattern: ``ipw`` (the linkage model) and
    ``calibrated`` (the linked people raked to the census margins, no model;
    :func:`calibration_weights`).

    The calibrated estimates are an alternative: when raking does not converge they are
    left out, and the log says why.
    """
    weights = {"ipw": linkage_weights(patterns)}
    try:
        weights["calibrated"] = calibration_weights(patterns)
    except CalibrationError as error:
        logger.warning("Calibrated estimates left out: %s", error)
    return weights


SpineInput = Path | pl.DataFrame
PartsOf = Callable[[SpineInput, str], Parts]
"""Makes the parts of the population of a spine (a file or a frame) and its label."""


def _local_parts(run_dir: Path, config: AnalysisConfig) -> PartsOf:
    """Parts built in this process, from the sources read and prepared once."""
    sources = prepare_sources(read_sources(run_dir), config)

    def parts_of(spine: SpineInput, label: str) -> Parts:
        return PopulationParts(sources, read_spine(spine, label=label), config)

    return parts_of


def _spark_parts(engine: SparkEngine, run_dir: Path, config: AnalysisConfig) -> PartsOf:
    """Parts built on Spark's executors (:mod:`analysis.spark_parts`); the sources are
    checked here and read there."""
    from analysis.spark_parts import SparkParts

    files = source_files(run_dir)

    def parts_of(spine: SpineInput, label: str) -> Parts:
        path = engine.scratch / f"spine_{label}.parquet"
        if isinstance(spine, pl.DataFrame):
            read_spine(spine, label=label).write_parquet(path)
        else:
            path = checked_file(Path(spine), SPINE_COLUMNS)
        return SparkParts(engine, files, path, config, label)

    return parts_of


def estimate_all(
    run_dir: Path,
    config: AnalysisConfig,
    *,
    spine: SpineInput | None = None,
    threshold_spines: Mapping[float, SpineInput] | None = None,
    with_truth: bool | None = None,
    engine: SparkEngine | None = None,
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
    engine
        A Spark session (:class:`linkage.backends.SparkEngine`): the population's parts
        are then built and counted on its executors; by default in this process.
    """
    run_dir = Path(run_dir)
    parts_of = _spark_parts(engine, run_dir, config) if engine else _local_parts(run_dir, config)
    thresholds = sorted((threshold_spines or {}).items())
    for _, threshold_spine in thresholds:  # checked before any estimate is made
        if not isinstance(threshold_spine, pl.DataFrame):
            checked_file(Path(threshold_spine), SPINE_COLUMNS)
    linked = spine if spine is not None else run_dir / "linkage" / "spine.parquet"
    started = time.perf_counter()
    results, flow, patterns, standard, n_pm = _population_results(
        parts_of(linked, "linked"),
        config,
        estimate="linked",
        standard=None,
        weighted=config.inverse_probability_weighting,
    )
    logger.info("Linked estimates: %d person-months in %.1f s", n_pm, time.perf_counter() - started)
    all_results, flows = [results], [flow]
    rates = linkage_rates(patterns, confidence=config.confidence_level)
    record_map = run_dir / "truth" / "record_map.parquet"
    if with_truth is None:
        with_truth = record_map.is_file()
    if with_truth:
        truth, truth_flow, _, _, _ = _population_results(
            parts_of(record_map, "truth"), config, estimate="truth", standard=standard
        )
        all_results.append(truth)
        flows.append(truth_flow)
        logger.info("Truth estimates at %.1f s", time.perf_counter() - started)
    for threshold, threshold_spine in thresholds:
        label = threshold_label(float(threshold))
        at_threshold, threshold_flow, _, _, _ = _population_results(
            parts_of(threshold_spine, label),
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
    linkage: LinkageConfig | None = None,
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
    linkage
        The run's linkage settings: with ``backend: spark`` the population is built and
        counted on Spark (:mod:`analysis.spark_parts`); otherwise in this process.

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
    estimates = _estimates_on(linkage, Path(run_dir), config, threshold_spines)
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


def _estimates_on(
    linkage: LinkageConfig | None,
    run_dir: Path,
    config: AnalysisConfig,
    threshold_spines: Mapping[float, Path | pl.DataFrame] | None,
) -> Estimates:
    """:func:`estimate_all` on the engine the linkage settings name (Spark started here
    and stopped after)."""
    if linkage is None or linkage.backend != "spark":
        return estimate_all(run_dir, config, threshold_spines=threshold_spines)
    from linkage.backends import SparkEngine

    engine = SparkEngine(linkage)
    try:
        return estimate_all(run_dir, config, threshold_spines=threshold_spines, engine=engine)
    finally:
        engine.close()
