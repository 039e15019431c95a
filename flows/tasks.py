"""Thin Prefect tasks: each calls one package function, passing paths and small values.

Every stage task is resumable: it is skipped when the run folder records that it already
finished with the same inputs and its recorded outputs are intact
(``runcore.runs.run_once``), so rerunning an interrupted run redoes only the unfinished
or damaged stages and the stages after them. A full disk or read-only folder stops a stage
with a message naming the folder (``runcore.runs.storage_guard``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import State, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from analysis import analyse_run
from evaluation.linkage import evaluate_linkage
from expectations import validate_linkage, validate_published, validate_sources
from linkage import link_sources
from quality_report import build_quality_report
from runcore.config import RunConfig, config_from_parameters, load_config
from runcore.manifest import write_manifest
from runcore.runs import (
    RunFolder,
    fingerprint,
    prepare_run_folder,
    publish_run,
    run_once,
    storage_guard,
)
from runcore.summaries import (
    run_report_links,
    run_summary_markdown,
    run_summary_tables,
    stage_log_line,
)
from separation.stage import separate_linked_run
from synthetic_data import generate_world


def _transient_io_error(task: Any, task_run: Any, state: State) -> bool:
    # A failed gate or bad input fails the same way every time; only I/O is worth retrying.
    return isinstance(state.data, OSError)


# File-writing stages retry on transient I/O errors, backing off.
IO_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [2, 10],
    "retry_condition_fn": _transient_io_error,
}


def _stage(
    run_dir: str | Path,
    stage: str,
    upstream: str,
    section: Any,
    action: Callable[[RunFolder, RunConfig], dict[str, Any]],
) -> dict[str, Any]:
    folder = RunFolder.from_work(Path(run_dir))
    config = load_config(folder.work / "config.yaml")
    key = fingerprint(stage, upstream, section(config))
    logger = get_run_logger()
    with storage_guard(folder.work, config.run.people):
        summary, resumed = run_once(
            folder.work, stage, key, lambda: action(folder, config), log=logger.warning
        )
    if resumed:
        logger.info("Stage %s already finished with these inputs: resumed, not redone.", stage)
    logger.info(stage_log_line(stage, summary))
    return {**summary, "key": key, "resumed": resumed}


@task(name="prepare run folder")
def prepare_run(
    people: int | None,
    seed: int | None,
    config_path: str | None,
    threshold: float | None,
    backend: str | None,
    out: str | None,
    wait: bool = False,
) -> Path:
    config = config_from_parameters(
        config_path, people=people, seed=seed, out=out, threshold=threshold, backend=backend
    )
    logger = get_run_logger()
    folder = prepare_run_folder(config, wait=wait, notify=logger.warning)
    logger.info("Run %s working in %s (locked by this process).", folder.run_id, folder.work)
    return folder.work


@task(name="generate synthetic England", **IO_RETRIES)
def generate(run_dir: Path) -> dict[str, Any]:
    return _stage(
        run_dir,
        "generate",
        "",
        lambda c: (c.run.people, c.run.seed, c.world.model_dump(mode="json")),
        lambda f, c: generate_world(c.world, people=c.run.people, seed=c.run.seed, out_dir=f.work),
    )


@task(name="validate source extracts", **IO_RETRIES)
def validate_source_extracts(run_dir: Path, upstream: str) -> dict[str, Any]:
    return _stage(
        run_dir,
        "validate-sources",
        upstream,
        lambda c: c.expectations.model_dump(mode="json"),
        lambda f, c: validate_sources(f.sources, f.validation, c, people=c.run.people),
    )


@task(name="link records with Splink", **IO_RETRIES)
def link(run_dir: Path, upstream: str) -> dict[str, Any]:
    return _stage(
        run_dir,
        "link",
        upstream,
        lambda c: c.linkage.model_dump(mode="json"),
        lambda f, c: link_sources(f.sources, f.linkage, c.linkage),
    )


@task(name="evaluate linkage against the truth", **IO_RETRIES)
def evaluate(run_dir: Path, upstream: str) -> dict[str, Any]:
    return _stage(
        run_dir,
        "evaluate-linkage",
        upstream,
        lambda c: None,
        lambda f, c: evaluate_linkage(f.linkage, f.truth),
    )


@task(name="validate linkage outputs", **IO_RETRIES)
def validate_links(run_dir: Path, upstream: str) -> dict[str, Any]:
    return _stage(
        run_dir,
        "validate-linkage",
        upstream,
        lambda c: c.expectations.model_dump(mode="json"),
        lambda f, c: validate_linkage(f.linkage, f.sources, f.validation, c),
    )


@task(name="separate identifiers from attributes", **IO_RETRIES)
def separate(run_dir: Path, upstream: str) -> dict[str, Any]:
    # The pipeline only ever links its own synthetic extracts, so the demo key is allowed.
    return _stage(
        run_dir,
        "separate",
        upstream,
        lambda c: list(c.analysis.thresholds),
        lambda f, c: separate_linked_run(f, c.analysis.thresholds, demo=True, linkage=c.linkage),
    )


@task(name="publish the study's tables", **IO_RETRIES)
def analyse(run_dir: Path, upstream: str) -> dict[str, Any]:
    # The analysis reads only the pseudonymised attributes written by ``separate``.
    return _stage(
        run_dir,
        "analyse",
        upstream,
        lambda c: c.analysis.model_dump(mode="json"),
        lambda f, c: analyse_run(
            f.analysis_inputs,
            f.analysis,
            c.analysis,
            threshold_spines=f.threshold_spines(c.analysis.thresholds),
            linkage=c.linkage,
        ),
    )


@task(name="validate published tables", **IO_RETRIES)
def validate_outputs(run_dir: Path, upstream: str) -> dict[str, Any]:
    return _stage(
        run_dir,
        "validate-outputs",
        upstream,
        lambda c: c.expectations.model_dump(mode="json"),
        lambda f, c: validate_published(f.analysis, f.validation, c),
    )


@task(name="write the linkage quality report", **IO_RETRIES)
def report(run_dir: Path, upstream: str) -> dict[str, Any]:
    return _stage(
        run_dir,
        "report",
        upstream,
        lambda c: c.report.model_dump(mode="json"),
        lambda f, c: {
            "report": str(
                build_quality_report(
                    f.work,
                    f.report,
                    redact=c.report.redact,
                    clerical_per_band=c.report.clerical_per_band,
                )
            )
        },
    )


@task(name="write run manifest", **IO_RETRIES)
def manifest(run_dir: str) -> Path:
    work = Path(run_dir)
    config = load_config(work / "config.yaml")
    with storage_guard(work, config.run.people):
        return write_manifest(work, config)


@task(name="publish run", **IO_RETRIES)
def publish(run_dir: str) -> Path:
    # Imported here: the page's chart libraries are slow to import for every flow.
    from analysis.front_page import write_front_page

    write_front_page(Path(run_dir))
    published = publish_run(RunFolder.from_work(Path(run_dir)))
    get_run_logger().info("Published the run to %s.", published)
    return published


@task(name="publish artifacts")
def publish_artifacts(run_dir: Path, summaries: dict[str, dict[str, Any]]) -> None:
    create_markdown_artifact(
        run_summary_markdown(run_dir, summaries), key="run-summary", description="Run summary"
    )
    for key, (description, rows) in run_summary_tables(run_dir).items():
        create_table_artifact(rows, key=key, description=description)
    for key, (description, path) in run_report_links(run_dir).items():
        create_link_artifact(path.resolve().as_uri(), key=key, description=description)
