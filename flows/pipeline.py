"""The parent flow: every stage in order, then publication and artifacts for the UI."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from prefect import flow

from flows import stages, tasks


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
) -> dict[str, Any]:
    """Run the whole pipeline; parameters left empty take the configuration's values."""
    run_dir = tasks.prepare_run(people, seed, config_path, threshold, backend, out)
    summaries = {"generate": stages.generate_stage(str(run_dir))}
    published = tasks.publish(run_dir)
    tasks.publish_artifacts(Path(published), summaries)
    return {"run_dir": str(published), **summaries}
