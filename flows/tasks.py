"""Thin Prefect tasks: each calls one package function, passing paths and small values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from triangulate.summaries import run_report_links, run_summary_markdown, run_summary_tables

from synthetic_data import generate_world
from triangulate.config import config_from_parameters, load_config
from triangulate.runs import RunFolder, fingerprint, prepare_run_folder, publish_run, run_once

# File-writing stages retry on transient I/O errors, backing off.
IO_RETRIES = {"retries": 2, "retry_delay_seconds": [2, 10]}


def _stage(run_dir: Path, stage: str, key: str, action) -> dict[str, Any]:
    summary, resumed = run_once(run_dir, stage, key, action)
    logger = get_run_logger()
    if resumed:
        logger.info("Stage %s already finished with these inputs: resumed, not redone.", stage)
    return summary


@task(name="generate synthetic England", **IO_RETRIES)
def generate(run_dir: Path) -> dict[str, Any]:
    config = load_config(run_dir / "config.yaml")
    key = fingerprint("generate", config.run.people, config.run.seed, config.world.model_dump())
    summary = _stage(
        run_dir,
        "generate",
        key,
        lambda: generate_world(
            config.world, people=config.run.people, seed=config.run.seed, out_dir=run_dir
        ),
    )
    get_run_logger().info(
        "Generated %s people; records per source: %s.",
        summary.get("people"),
        summary.get("records"),
    )
    return {**summary, "key": key}


@task(name="prepare run folder")
def prepare_run(
    people: int | None,
    seed: int | None,
    config_path: str | None,
    threshold: float | None,
    backend: str | None,
    out: str | None,
) -> Path:
    config = config_from_parameters(
        config_path, people=people, seed=seed, out=out, threshold=threshold, backend=backend
    )
    folder = prepare_run_folder(config)
    get_run_logger().info("Run %s working in %s.", folder.run_id, folder.work)
    return folder.work


@task(name="publish run", **IO_RETRIES)
def publish(run_dir: Path) -> Path:
    published = publish_run(RunFolder.from_work(run_dir))
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
