"""Deployments served to the Prefect UI. Schedules live here, in code: ``serve()`` restarts
drop schedules made in the UI."""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.pipeline import triangulate_pipeline
from flows.stages import STAGE_FLOWS

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Europe/London"


def build_deployments() -> list[RunnerDeployment]:
    """The nightly whole-pipeline deployment, and one on-demand deployment per stage."""
    nightly = triangulate_pipeline.to_deployment(
        name="nightly",
        schedules=[Cron(NIGHTLY_CRON, timezone=TIMEZONE, slug="nightly")],
        description="The whole pipeline on the default configuration, every night at 02:00.",
        tags=["triangulate", "scheduled"],
    )
    stages = [
        stage.to_deployment(
            name=f"stage-{stage.name}",
            description=f"Rerun the {stage.name} stage on an existing run folder.",
            tags=["triangulate", "stage"],
        )
        for stage in STAGE_FLOWS
    ]
    return [nightly, *stages]


def serve_deployments() -> None:
    """Serve every deployment from this process until interrupted."""
    serve(*build_deployments(), print_starting_message=True)
