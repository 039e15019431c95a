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
from linkage.backends import DuckDBBackend, SparkBackend, open_backend
from linkage.clustering import (
    ACCEPTED_LINKS_FILE,
    RECORDS_FILE,
    SPINE_COLUMNS,
    accepted_links,
    spine_from_accepted,
    write_accepted_links,
)
from linkage.config import LinkageConfig
from linkage.database import connect
from linkage.inputs import InputSpec, project_inputs, write_records
from linkage.prediction import (
    THRESHOLD_CANDIDATES,
    THRESHOLD_RULE,
    choose_threshold,
    expected_metrics,
)
from linkage.spark_clustering import (
    CANDIDATE_LINKS,
    NUMBER_COLUMNS,
    mark_links_on_spark,
    spark_nodes,
    spine_on_spark,
)
from linkage.sql_engine import DuckDBSql, SqlEngine
from linkage.sql_steps import (
    add_household_evidence,
    frequency_tables,
    make_deterministic_links,
    make_representatives,
    threshold_sums,
)
from linkage.training import (
    FREQUENCY_FOLDER,
    estimate_prior,
    register_frequencies,
    train,
    write_frequency_tables,
)

logger = logging.getLogger(__name__)

NODE_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "source",
    "record_id",
    "unique_people",
    "person_number",
    "shared_number",
)
"""The record columns clustering reads on one machine: the records are read back with only
these."""

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
    backend: DuckDBBackend,
    prepared: _Prepared,
    config: LinkageConfig,
    staging: Path,
    clock: _Stopwatch,
    roles: set[str],
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Train (or reuse) the model, score the blocked pairs into ``predictions.parquet`` and
    save the charts: Splink's part, on the backend's views of the saved records.

    Returns the training summary, the trained model's settings and the charts written.
    """
    from splink import Linker

    db_api = backend.db_api
    model_path = _model_to_reuse(prepared.records, roles, config)
    # Train on every linkable record (unbiased m and u), predict on the representatives
    # left by the deterministic pass (the pairs that still need scoring).
    everyone = backend.register_linkable()
    table = backend.register_representatives()
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
        scored, [c for c in columns if c.startswith("mw_")], staging / "predictions.parquet"
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
    ``accepted_links.parquet``, ``spine.parquet``, ``model.json``, ``term_frequencies/``,
    ``charts/*.html`` and ``linkage_summary.json``.

    Every step works on the backend's engine (DuckDB, or Spark with ``backend: spark``) or
    in slices: the inputs are checked and standardised a slice at a time (their whole-column
    checks on the engine), then the engine works over the saved records. The Python process
    holds a slice of an input at a time (and, on DuckDB, the links while clustering).

    Raises
    ------
    LinkageInputError
        An input is unusable; raised before any training and before anything is written.
    """
    config = config or LinkageConfig()
    clock = _Stopwatch()

    with staged_output(out_dir) as staging:
        with closing(open_backend(config, staging)) as backend:
            # Read and written slice by slice, the whole-column checks on the engine: the
            # Python process never holds a whole input or the record frame.
            input_report = write_records(
                specs,
                staging / RECORDS_FILE,
                max_invalid_share=config.max_invalid_share,
                engine=backend.sql,
            )
            clock.lap("read_and_standardise")
            counts = {
                "records": input_report.records,
                "records_by_source": dict(sorted(input_report.records_by_source.items())),
            }
            roles = {role for spec in specs for role in spec.columns}
            backend.register_records(staging / RECORDS_FILE)
            prepared = _prepare(backend.sql, config, staging, counts["records"])
            clock.lap("deterministic_pass")
            training, model_dict, charts = _run_splink(
                backend, prepared, config, staging, clock, roles
            )
            clock.lap("charts")
            if config.household_evidence:
                training["household"] = add_household_evidence(
                    backend.sql, staging / "predictions.parquet"
                )
                clock.lap("household_evidence")
            training["shared_number_constraint"] = shared_number_rule(model_dict)
            if isinstance(backend, SparkBackend):
                choice, clusters = _cluster_on_spark(
                    backend, config, staging, training["shared_number_constraint"], clock
                )
        # On DuckDB the greedy runs in Python, after DuckDB's memory is freed.
        if not isinstance(backend, SparkBackend):
            choice, clusters = _cluster_in_python(
                config, staging, training["shared_number_constraint"], clock
            )
        _write_model(model_dict, staging / "model.json")
        clock.lap("artefacts")
        timings = clock.stop()

        links = _link_counts(staging / "predictions.parquet")
        summary = _summary(counts, clusters, links, choice, training, charts, timings, config)
        summary["inputs"] = input_report.as_dict()
        (staging / "linkage_summary.json").write_text(
            json.dumps(summary, indent=2, default=str), encoding="utf-8"
        )
    logger.info("Linked %d records into %d people", counts["records"], summary["clusters"])
    return {
        "records": summary["records"],
        "clusters": summary["clusters"],
        "threshold": choice["threshold"],
        "threshold_rule": choice["rule"],
        "seconds": timings["total"],
        "out_dir": str(out_dir),
        **input_report.as_dict(),
    }


def _link_counts(predictions: Path) -> dict[str, int]:
    """Deterministic links and scored pairs in ``predictions.parquet``, for the summary."""
    keys = pl.scan_parquet(predictions).select(
        (pl.col("match_key") == "exact").sum().alias("exact"),
        (pl.col("match_key") != "exact").sum().alias("scored"),
    )
    exact, scored = keys.collect().row(0)
    return {"deterministic_links": int(exact or 0), "scored_pairs": int(scored or 0)}


def candidate_floor(config: LinkageConfig) -> float:
    """The lowest threshold the run considers: the rule's lowest candidate, or the
    configured threshold when that is lower."""
    given = None if config.threshold == "auto" else float(config.threshold)
    return min(THRESHOLD_CANDIDATES) if given is None else min(*THRESHOLD_CANDIDATES, given)


def threshold_choice(config: LinkageConfig, engine: SqlEngine, links: str) -> dict[str, Any]:
    """The threshold to cluster at, with the model-expected figures behind it.

    ``links`` names the engine's table of :func:`linkage.clustering.accepted_links` at
    :func:`candidate_floor`. ``auto`` (the default) applies
    :data:`linkage.prediction.THRESHOLD_RULE`; a number set in the configuration is used as
    it is, with its expected figures beside the rule's candidates. Deterministic links take
    part with ``p = 1``.
    """
    given = None if config.threshold == "auto" else float(config.threshold)
    wanted = sorted({*THRESHOLD_CANDIDATES, *([given] if given is not None else [])})
    sums = {row["threshold"]: row for row in threshold_sums(engine, wanted, links)}
    choice = choose_threshold([sums[t] for t in THRESHOLD_CANDIDATES])
    if given is None:
        return choice
    expected = expected_metrics([sums[given]])[0]
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
    """What Splink's part needs besides the engine's tables: counts and the population
    term frequencies (small, compared with the records)."""

    records: int
    representatives: int
    frequencies: dict[str, pl.DataFrame]


def _prepare(engine: SqlEngine, config: LinkageConfig, staging: Path, records: int) -> _Prepared:
    """Make the deterministic links and the records left for Splink in the engine, and the
    term-frequency tables (saved too, so that the report scores pairs again with the same
    frequencies). Records flagged unlinkable (wholly imputed census records) stay in the
    spine, each its own cluster, but take no part in training or prediction."""
    make_deterministic_links(engine, enabled=config.deterministic_pass)
    representatives = make_representatives(engine)
    frequencies = frequency_tables(engine)
    write_frequency_tables(frequencies, staging / FREQUENCY_FOLDER)
    return _Prepared(records=records, representatives=representatives, frequencies=frequencies)


def _cluster_in_python(
    config: LinkageConfig, staging: Path, number_rule: dict[str, Any], clock: _Stopwatch
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Choose the threshold and cluster on one machine: one greedy pass at the lowest
    threshold considered marks the links clustering accepts (saved, they give the spine at
    any higher threshold later); the spine is their connected components at the chosen
    threshold. Returns the threshold choice and the cluster counts."""
    records = pl.read_parquet(staging / RECORDS_FILE, columns=list(NODE_COLUMNS))
    nodes = _cluster_nodes(records, number_rule)
    edges = pl.read_parquet(
        staging / "predictions.parquet",
        columns=["unique_id_l", "unique_id_r", "match_probability"],
    )
    floor, limit = candidate_floor(config), config.max_records_per_source
    links = accepted_links(nodes, edges, floor, max_per_source=limit)
    del edges
    with closing(connect(memory_limit=config.memory_limit, threads=config.threads)) as con:
        engine = DuckDBSql(con)
        engine.register_frame(CANDIDATE_LINKS, links.select("match_probability", "accepted"))
        choice = threshold_choice(config, engine, CANDIDATE_LINKS)
    threshold = float(choice["threshold"])
    clock.lap("threshold_choice")
    write_accepted_links(links, floor, limit, staging / ACCEPTED_LINKS_FILE)
    spine = spine_from_accepted(nodes, links.filter(pl.col("accepted")), threshold)
    spine.select(SPINE_COLUMNS).write_parquet(staging / "spine.parquet")
    sizes = spine.group_by("person_id").agg(pl.len().alias("n"))
    size_counts = sizes.group_by("n").agg(pl.len().alias("clusters")).sort("n")
    clock.lap("clustering")
    return choice, {
        "clusters": sizes.height,
        "cluster_sizes": {str(n): c for n, c in size_counts.iter_rows()},
    }


def _cluster_on_spark(
    backend: SparkBackend,
    config: LinkageConfig,
    staging: Path,
    number_rule: dict[str, Any],
    clock: _Stopwatch,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """As :func:`_cluster_in_python`, as Spark jobs (:mod:`linkage.spark_clustering`): the
    links are marked on the executors and only the threshold sums reach the driver."""
    engine = backend.engine
    numbers = NUMBER_COLUMNS if number_rule.get("applied") else ("person_number",)
    nodes = spark_nodes(engine, staging / RECORDS_FILE, numbers=numbers)
    floor, limit = candidate_floor(config), config.max_records_per_source
    largest = mark_links_on_spark(
        engine, nodes, staging / "predictions.parquet", floor, max_per_source=limit
    )
    choice = threshold_choice(config, engine.sql, CANDIDATE_LINKS)
    threshold = float(choice["threshold"])
    clock.lap("threshold_choice")
    engine.sql.write_parquet(
        f"SELECT unique_id_l, unique_id_r, match_probability, "
        f"CAST({floor!r} AS DOUBLE) AS floor, CAST({limit} AS INT) AS max_per_source "
        f"FROM {CANDIDATE_LINKS} WHERE accepted "
        "ORDER BY match_probability DESC, unique_id_l, unique_id_r",
        staging / ACCEPTED_LINKS_FILE,
    )
    clusters = spine_on_spark(engine, nodes, threshold, staging / "spine.parquet")
    clock.lap("clustering")
    return choice, {**clusters, "largest_component": largest}


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


def _summary(
    counts: dict[str, Any],
    clusters: dict[str, Any],
    links: dict[str, int],
    choice: dict[str, Any],
    training: dict[str, Any],
    charts: list[str],
    timings: dict[str, float],
    config: LinkageConfig,
) -> dict[str, Any]:
    return {
        **counts,
        **clusters,
        **links,
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
