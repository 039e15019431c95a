"""Stage entry points: link a run's sources, or anyone's files, into a person spine.

Everything is written to a temporary folder beside the output folder and moved into place
only when the whole stage has succeeded, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from common.files import staged_output
from linkage import model
from linkage.backends import SparkEngine, open_backend
from linkage.clustering import (
    ACCEPTED_LINKS_FILE,
    RECORDS_FILE,
    SPINE_COLUMNS,
    accepted_links,
    spine_from_accepted,
    write_accepted_links,
)
from linkage.config import LinkageConfig
from linkage.household import apply_household_evidence, estimate_weights, household_agreement
from linkage.inputs import InputSpec, project_inputs, read_inputs
from linkage.prediction import (
    DETERMINISTIC_COLUMNS,
    THRESHOLD_CANDIDATES,
    THRESHOLD_RULE,
    choose_threshold,
    deterministic_links,
    expected_metrics,
)
from linkage.spark_clustering import cluster_records_spark
from linkage.training import (
    FREQUENCY_FOLDER,
    estimate_prior,
    frequency_tables,
    register_frequencies,
    train,
    write_frequency_tables,
)

logger = logging.getLogger(__name__)

AFTER_SPLINK_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "source",
    "record_id",
    "unique_people",
    "person_number",
    "shared_number",
    "postcode",
    "household",
)
"""The record columns the steps after Splink read (household evidence, clustering and the
summary): the records are read back with only these."""

PACKAGED_MODEL = Path(__file__).resolve().parent / "reference" / "default_model.json"
"""A model trained on a generated world, used when the inputs are too small to train."""


def _save_charts(linker: Any, charts_dir: Path) -> list[str]:
    """Save Splink's diagnostic charts as self-contained HTML (no network needed)."""
    charts_dir.mkdir(parents=True, exist_ok=True)
    charts = {
        "match_weights": linker.visualisations.match_weights_chart,
        "m_u_parameters": linker.visualisations.m_u_parameters_chart,
    }
    if linker._em_training_sessions:
        charts["parameter_estimates"] = linker.visualisations.parameter_estimate_comparisons_chart
    written = []
    for name, make in charts.items():
        make().save(str(charts_dir / f"{name}.html"), inline=True)
        written.append(f"charts/{name}.html")
    return written


class _Stopwatch:
    """Seconds spent in each named stage of a run, in order, for ``linkage_summary.json``."""

    def __init__(self) -> None:
        self.started = self._last = time.perf_counter()
        self.timings: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        """Record the time since the previous lap as ``stage``."""
        now = time.perf_counter()
        self.timings[stage] = round(now - self._last, 3)
        self._last = now

    def stop(self) -> dict[str, float]:
        """The timings, with ``total`` since the start."""
        self.timings["total"] = round(time.perf_counter() - self.started, 3)
        return self.timings


def shared_number_rule(model_dict: dict[str, Any]) -> dict[str, Any]:
    """Whether clustering may refuse to join records with different shared numbers.

    Decided by the trained model, not by any truth: the m probability of its "all other"
    level is the model's estimate of how often one person's records carry numbers more
    than one character apart. Where that exceeds :data:`linkage.model.DIFFERENT_NUMBER_M`
    (the one in a hundred assumed for person numbers) the numbers are too noisy to forbid
    joins, and serve as evidence only.
    """
    comparison = next(
        (
            c
            for c in model_dict.get("comparisons", [])
            if c["output_column_name"] == "shared_number"
        ),
        None,
    )
    if comparison is None:
        return {}
    different = comparison["comparison_levels"][-1].get("m_probability")
    applied = different is not None and different <= model.DIFFERENT_NUMBER_M
    return {
        "applied": applied,
        "m_different_numbers": different,
        "limit": model.DIFFERENT_NUMBER_M,
        "reasoning": (
            "one person's records carry different shared numbers in an estimated "
            f"{different if different is not None else 'unknown'} share of true pairs; a "
            f"cluster is held to one number only at or below {model.DIFFERENT_NUMBER_M}"
        ),
    }


def _model_to_reuse(records: int, roles: set[str], config: LinkageConfig) -> Path | None:
    """The saved model to reuse: the configured one, else the packaged one for inputs too
    small to train on, else none (train)."""
    if config.model_path is not None or records >= config.min_records_to_train:
        return config.model_path
    # The packaged model compares the project's roles only: inputs mapping others
    # (address, locality, a shared number) would lose them, so those are trained.
    if roles - {"household"} <= set(model.PROJECT_ROLES):
        logger.warning("Only %d records: using the packaged model instead of training", records)
        return PACKAGED_MODEL
    logger.warning(
        "Only %d records, but roles the packaged model lacks are mapped: training", records
    )
    return None


def _run_splink(
    prepared: _Prepared,
    config: LinkageConfig,
    staging: Path,
    clock: _Stopwatch,
    roles: set[str],
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Train (or reuse) the model, score the blocked pairs into ``predictions.parquet`` and
    save the charts: everything that needs the backend, opened here and closed before the
    polars steps that follow (freeing DuckDB's memory, up to memory_limit, or Spark's JVM),
    on failure too. The records come from the saved ``records.parquet``.

    Returns the training summary, the trained model's settings and the charts written.
    """
    from splink import Linker

    with closing(open_backend(config, staging)) as backend:
        db_api = backend.db_api
        model_path = _model_to_reuse(prepared.records, roles, config)
        # Train on every record (unbiased m and u), predict on the representatives left by the
        # deterministic pass (the pairs that still need scoring).
        everyone = backend.register_records(staging / RECORDS_FILE)
        table = backend.register_representatives(prepared.exact_links)
        source: Any = (
            model.settings_dict(roles=roles, max_iterations=config.em_max_iterations)
            if model_path is None
            else json.loads(Path(model_path).read_text(encoding="utf-8"))
        )
        training_linker = Linker(everyone, backend.settings(source), log_level=logging.WARNING)
        register_frequencies(training_linker, db_api, prepared.frequencies, suffix="train")
        if model_path is not None:
            training: dict[str, Any] = {
                "reused_model": str(model_path),
                "prior": estimate_prior(training_linker, roles),
            }
        else:
            clock.lap("set_up")
            report = train(
                training_linker,
                seed=config.seed,
                u_max_pairs=config.u_max_pairs,
                em_max_pairs=config.em_max_pairs,
                max_iterations=config.em_max_iterations,
                on_no_convergence=config.on_no_convergence,
                roles=roles,
            )
            training = {
                "prior": report.prior,
                "em_sessions": report.sessions,
                "untrained_comparisons": report.untrained,
            }
        model_dict = backend.canonical(training_linker.misc.save_model_to_json(), source)
        linker = Linker(table, backend.settings(model_dict), log_level=logging.WARNING)
        register_frequencies(linker, db_api, prepared.frequencies, suffix="predict")
        clock.lap("training")

        scored = backend.predict(
            linker, floor=config.prediction_floor, records=prepared.representatives
        )
        columns = [c.unquote().name for c in scored.columns]
        backend.write_predictions(
            scored,
            prepared.exact_links,
            [c for c in columns if c.startswith("mw_")],
            staging / "predictions.parquet",
        )
        clock.lap("prediction")
        # The charts need only the trained model, so Splink's part ends here.
        charts = _save_charts(training_linker, staging / "charts") if config.charts else []
        return training, model_dict, charts


def link_records(
    specs: list[InputSpec], out_dir: Path, config: LinkageConfig | None = None
) -> dict[str, Any]:
    """Link the given inputs and write the linkage artefacts to ``out_dir``.

    Writes ``records.parquet`` (standardised identifiers), ``predictions.parquet``,
    ``spine.parquet``, ``model.json``, ``charts/*.html`` and ``linkage_summary.json``.

    Raises
    ------
    LinkageInputError
        An input is unusable; raised before any training and before anything is written.
    """
    config = config or LinkageConfig()
    clock = _Stopwatch()

    records, input_report = read_inputs(specs, max_invalid_share=config.max_invalid_share)
    clock.lap("read_and_standardise")

    with staged_output(out_dir) as staging:
        prepared = _prepare(records, config, staging)
        clock.lap("deterministic_pass")
        # Splink's part reads the saved records; holding them here as well would double
        # the memory of the largest step. They are read back for the polars steps after it.
        del records
        roles = {role for spec in specs for role in spec.columns}
        training, model_dict, charts = _run_splink(prepared, config, staging, clock, roles)
        records = pl.read_parquet(staging / RECORDS_FILE, columns=list(AFTER_SPLINK_COLUMNS))
        clock.lap("charts_and_close")

        if config.household_evidence:
            training["household"] = _add_household_evidence(
                records, staging / "predictions.parquet"
            )
            clock.lap("household_evidence")

        edges = pl.read_parquet(
            staging / "predictions.parquet",
            columns=["unique_id_l", "unique_id_r", "match_probability", "match_key"],
        )
        training["shared_number_constraint"] = shared_number_rule(model_dict)
        nodes = _cluster_nodes(records, training["shared_number_constraint"])
        # One clustering pass at the lowest threshold considered: the links it accepts
        # give the spine at the chosen threshold and, saved, at any higher one later.
        floor, limit = candidate_floor(config), config.max_records_per_source
        links = accepted_links(nodes, edges, floor, max_per_source=limit)
        choice = threshold_choice(config, links)
        threshold = float(choice["threshold"])
        clock.lap("threshold_choice")
        write_accepted_links(links, floor, limit, staging / ACCEPTED_LINKS_FILE)
        clusters = _cluster(config, nodes, links, staging, threshold)
        clock.lap("clustering")

        _write_model(model_dict, staging / "model.json")
        clock.lap("artefacts")
        timings = clock.stop()

        summary = _summary(records, clusters, edges, choice, training, charts, timings, config)
        summary["inputs"] = input_report.as_dict()
        (staging / "linkage_summary.json").write_text(
            json.dumps(summary, indent=2, default=str), encoding="utf-8"
        )
    logger.info("Linked %d records into %d people", records.height, summary["clusters"])
    return {
        "records": summary["records"],
        "clusters": summary["clusters"],
        "threshold": threshold,
        "threshold_rule": choice["rule"],
        "seconds": timings["total"],
        "out_dir": str(out_dir),
        **input_report.as_dict(),
    }


def candidate_floor(config: LinkageConfig) -> float:
    """The lowest threshold the run considers: the rule's lowest candidate, or the
    configured threshold when that is lower."""
    given = None if config.threshold == "auto" else float(config.threshold)
    return min(THRESHOLD_CANDIDATES) if given is None else min(*THRESHOLD_CANDIDATES, given)


def threshold_choice(config: LinkageConfig, links: pl.DataFrame) -> dict[str, Any]:
    """The threshold to cluster at, with the model-expected figures behind it.

    ``links`` are :func:`linkage.clustering.accepted_links` at :func:`candidate_floor`.
    ``auto`` (the default) applies :data:`linkage.prediction.THRESHOLD_RULE`; a number set
    in the configuration is used as it is, with its expected figures beside the rule's
    candidates. Deterministic links take part with ``p = 1``.
    """
    candidates = THRESHOLD_CANDIDATES
    given = None if config.threshold == "auto" else float(config.threshold)
    choice = choose_threshold(links, candidates=candidates)
    if given is None:
        return choice
    expected = expected_metrics(links, [given])[0]
    return {
        **choice,
        "threshold": given,
        "rule": "set in the run configuration",
        "reasoning": (
            f"Threshold {given} set in the run configuration. There, the model expects "
            f"precision {expected['expected_precision']:.5f}, recall "
            f"{expected['expected_recall']:.5f} and F1 {expected['expected_f1']:.5f} over "
            f"the {expected['links']} links clustering accepts; the default rule ("
            f"{THRESHOLD_RULE}) would have chosen {choice['threshold']}."
        ),
        "expected": expected,
    }


@dataclass(frozen=True)
class _Prepared:
    """What Splink's part needs besides the saved records: counts, the deterministic links
    and the population term frequencies (small, compared with the records)."""

    records: int
    representatives: int
    exact_links: pl.DataFrame
    frequencies: dict[str, pl.DataFrame]


def _prepare(records: pl.DataFrame, config: LinkageConfig, staging: Path) -> _Prepared:
    """Save the records, make the deterministic links and the term-frequency tables (saved
    too, so that the report scores pairs again with the same frequencies)."""
    records.write_parquet(staging / RECORDS_FILE)
    # Records flagged unlinkable (wholly imputed census records) stay in the spine, each
    # its own cluster, but take no part in training or prediction. Only the columns the
    # two steps read are copied: all of them would cost gigabytes at millions of records.
    read = set(DETERMINISTIC_COLUMNS) | set(model.TF_COLUMNS)
    linkable = (
        records.lazy()
        .filter(pl.col("linkable"))
        .select(c for c in records.columns if c in read)
        .collect()
    )
    exact_links = _deterministic_links(linkable, config)
    frequencies = frequency_tables(linkable)
    write_frequency_tables(frequencies, staging / FREQUENCY_FOLDER)
    return _Prepared(
        records=records.height,
        representatives=linkable.height - exact_links.height,
        exact_links=exact_links,
        frequencies=frequencies,
    )


def _deterministic_links(linkable: pl.DataFrame, config: LinkageConfig) -> pl.DataFrame:
    """The links the matchkey made (none when the deterministic pass is switched off)."""
    if config.deterministic_pass:
        return deterministic_links(linkable)
    return pl.DataFrame(
        schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64, "match_probability": pl.Float64}
    )


def _cluster(
    config: LinkageConfig,
    nodes: pl.DataFrame,
    links: pl.DataFrame,
    staging: Path,
    threshold: float,
) -> dict[str, Any]:
    """Cluster the links into ``spine.parquet``: as Spark jobs with the Spark backend
    (which read the saved predictions; the spine never reaches the driver), else as the
    connected components of the links the threshold choice's clustering pass accepted
    (``links``, :func:`linkage.clustering.accepted_links`). Returns the cluster counts
    for the summary."""
    spine_path = staging / "spine.parquet"
    if config.backend == "spark":
        with closing(SparkEngine(config)) as engine:
            nodes_path = engine.scratch / "nodes.parquet"
            nodes.write_parquet(nodes_path)
            return cluster_records_spark(
                engine,
                nodes_path,
                staging / "predictions.parquet",
                threshold,
                spine_path,
                max_per_source=config.max_records_per_source,
            )
    spine = spine_from_accepted(nodes, links.filter(pl.col("accepted")), threshold)
    spine.select(SPINE_COLUMNS).write_parquet(spine_path)
    sizes = spine.group_by("person_id").agg(pl.len().alias("n"))
    size_counts = sizes.group_by("n").agg(pl.len().alias("clusters")).sort("n")
    return {
        "clusters": sizes.height,
        "cluster_sizes": {str(n): c for n, c in size_counts.iter_rows()},
    }


def _cluster_nodes(records: pl.DataFrame, number_rule: dict[str, Any]) -> pl.DataFrame:
    """The records as clustering sees them, with the shared number when the model's
    :func:`shared_number_rule` holds each cluster to one."""
    constrained = ["shared_number"] if number_rule.get("applied") else []
    return records.select(
        "unique_id", "source", "record_id", "unique_people", "person_number", *constrained
    )


def _write_model(model_dict: dict[str, Any], path: Path) -> None:
    # Splink's linker_uid is random (it names cache tables): left out, so two runs of the
    # same data and seed differ at most in the last bits of DuckDB's parallel sums.
    saved = {key: value for key, value in model_dict.items() if key != "linker_uid"}
    path.write_text(json.dumps(saved, indent=2), encoding="utf-8")


def _add_household_evidence(records: pl.DataFrame, predictions_path: Path) -> dict[str, Any] | None:
    """Rescore the saved predictions with the household comparison, in place."""
    predictions = pl.read_parquet(predictions_path)
    agreement = household_agreement(records, predictions)
    weights = estimate_weights(predictions, agreement)
    if weights is None:
        logger.info("No household information: predictions left as Splink scored them")
        return None
    apply_household_evidence(predictions, agreement, weights).write_parquet(predictions_path)
    return weights.as_dict()


def _summary(
    records: pl.DataFrame,
    clusters: dict[str, Any],
    edges: pl.DataFrame,
    choice: dict[str, Any],
    training: dict[str, Any],
    charts: list[str],
    timings: dict[str, float],
    config: LinkageConfig,
) -> dict[str, Any]:
    return {
        "records": records.height,
        "records_by_source": dict(
            records.group_by("source").agg(pl.len()).sort("source").iter_rows()
        ),
        **clusters,
        "deterministic_links": int((edges.get_column("match_key") == "exact").sum()),
        "scored_pairs": int((edges.get_column("match_key") != "exact").sum()),
        "threshold": choice["threshold"],
        "threshold_rule": choice["rule"],
        "threshold_reasoning": choice["reasoning"],
        "threshold_expected": choice["expected"],
        "threshold_candidates": choice["candidates"],
        "training": training,
        "charts": charts,
        "timings_seconds": timings,
        "config": config.model_dump(mode="json"),
    }


def link_sources(
    sources_dir: Path, out_dir: Path, config: LinkageConfig | None = None
) -> dict[str, Any]:
    """Stage entry point: link a run's census, GP and DWP extracts into ``out_dir``.

    Parameters
    ----------
    sources_dir
        The run's ``sources/`` folder (see ``docs/data_contracts.md``).
    out_dir
        The run's ``linkage/`` folder; replaced as a whole when the stage succeeds.
    config
        The ``linkage`` section of the run configuration.

    Returns
    -------
    dict
        Record and cluster counts, the threshold, seconds taken and the output folder.
    """
    return link_records(project_inputs(Path(sources_dir)), Path(out_dir), config)
