"""The parent flow: every stage in order, then publication and artifacts for the UI."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from prefect import flow

from flows import stages, tasks
from runcore.runs import release_run


@flow(
    name="triangulate-pipeline",
    description="Generate, validate, link, analyse and report on one synthetic England.",
)
def triangulate_pipeline(
    people: int | None = None,
    seed: int | None = None,
    config_path: str | None = None,
    threshold: float | None = None,
    backend: Literal["duckdb", "spark"] | None = None,
    out: str | None = None,
    wait: bool = False,
) -> dict[str, Any]:
    """Run the whole pipeline; parameters left empty take the configuration's values.

    The run folder is locked from preparation to publication: a second run of the same
    configuration stops naming this one, or with ``wait`` queues behind it.
    """
    run_dir = str(tasks.prepare_run(people, seed, config_path, threshold, backend, out, wait))
    try:
        return _stages_and_publication(run_dir)
    finally:
        release_run(Path(run_dir))


def _stages_and_publication(run_dir: str) -> dict[str, Any]:
    generated = stages.generate_stage(run_dir)
    sources_checked = stages.validate_sources_stage(run_dir, generated["key"])
    linked = stages.link_stage(run_dir, sources_checked["key"])
    links_checked = stages.validate_linkage_stage(run_dir, linked["key"])
    analysed = stages.analyse_stage(run_dir, links_checked["key"])
    outputs_checked = stages.validate_outputs_stage(run_dir, analysed["key"])
    reported = stages.report_stage(run_dir, outputs_checked["key"])
    tasks.manifest(run_dir)
    published = tasks.publish(run_dir)
    summaries = {
        "generate": generated,
        "validate-sources": sources_checked,
        "link": linked,
        "validate-linkage": links_checked,
        "analyse": analysed,
        "validate-outputs": outputs_checked,
        "report": reported,
    }
    tasks.publish_artifacts(published, summaries)
    return {"run_dir": str(published), "stages": summaries}
