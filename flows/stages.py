"""One Prefect flow per stage. Each takes the run folder's path (and the key of the stage it
follows), so any stage can be rerun on an existing run from the UI or the command line.

Run on its own (a stage deployment), a stage holds the run folder's lock, as a whole
pipeline run does: a second run of that folder stops naming the first, or with ``wait``
queues behind it. Inside the pipeline, which holds the lock already, nothing changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows import tasks
from runcore.runs import run_folder_locked


def _locked(run_dir: str, wait: bool):
    return run_folder_locked(Path(run_dir), wait=wait, notify=get_run_logger().warning)


@flow(name="generate", description="Generate the synthetic England and the three extracts.")
def generate_stage(run_dir: str, wait: bool = False) -> dict[str, Any]:
    with _locked(run_dir, wait):
        return tasks.generate(Path(run_dir))


@flow(name="validate-sources", description="Great Expectations gates on the five extracts.")
def validate_sources_stage(run_dir: str, upstream: str = "", wait: bool = False) -> dict[str, Any]:
    with _locked(run_dir, wait):
        return tasks.validate_source_extracts(Path(run_dir), upstream)


@flow(name="link", description="Link the extracts with Splink on DuckDB and score the links.")
def link_stage(run_dir: str, upstream: str = "", wait: bool = False) -> dict[str, Any]:
    with _locked(run_dir, wait):
        linked = tasks.link(Path(run_dir), upstream)
        evaluated = tasks.evaluate(Path(run_dir), linked["key"])
        return {**linked, "evaluation": evaluated, "key": evaluated["key"]}


@flow(name="validate-linkage", description="Great Expectations gates on the person spine.")
def validate_linkage_stage(run_dir: str, upstream: str = "", wait: bool = False) -> dict[str, Any]:
    with _locked(run_dir, wait):
        return tasks.validate_links(Path(run_dir), upstream)


@flow(name="analyse", description="Publish the study's tables with disclosure control.")
def analyse_stage(run_dir: str, upstream: str = "", wait: bool = False) -> dict[str, Any]:
    with _locked(run_dir, wait):
        separated = tasks.separate(Path(run_dir), upstream)
        return tasks.analyse(Path(run_dir), separated["key"])


@flow(name="validate-outputs", description="Great Expectations gates on the published tables.")
def validate_outputs_stage(run_dir: str, upstream: str = "", wait: bool = False) -> dict[str, Any]:
    with _locked(run_dir, wait):
        return tasks.validate_outputs(Path(run_dir), upstream)


@flow(name="report", description="Write the linkage quality report as offline HTML.")
def report_stage(run_dir: str, upstream: str = "", wait: bool = False) -> dict[str, Any]:
    with _locked(run_dir, wait):
        return tasks.report(Path(run_dir), upstream)


STAGE_FLOWS = [
    generate_stage,
    validate_sources_stage,
    link_stage,
    validate_linkage_stage,
    analyse_stage,
    validate_outputs_stage,
    report_stage,
]
