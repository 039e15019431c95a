"""Deployments served to the Prefect UI. Schedules live here, in code: ``serve()`` restarts
drop schedules made in the UI.

Each deployment runs one flow run at a time; further runs (a "Custom run" pressed while the
nightly run works, or pressed twice) wait in the server's queue (``AwaitingConcurrencySlot``)
instead of competing for the same run folder and the machine's memory. The run folder's own
lock (``runcore.run_lock``) still guards runs started outside the server.
"""

from __future__ import annotations

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.pipeline import triangulate_pipeline
from flows.stages import STAGE_FLOWS

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Europe/London"

ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)
"""Overlapping runs of one deployment queue behind the running one."""


def build_deployments() -> list[RunnerDeployment]:
    """The nightly whole-pipeline deployment, and one on-demand deployment per stage."""
    nightly = triangulate_pipeline.to_deployment(
        name="nightly",
        schedules=[Cron(NIGHTLY_CRON, timezone=TIMEZONE, slug="nightly")],
        description="The whole pipeline on the default configuration, every night at 02:00.",
        tags=["triangulate", "scheduled"],
        concurrency_limit=ONE_AT_A_TIME,
    )
    stages = [
        stage.to_deployment(
            name=f"stage-{stage.name}",
            description=f"Rerun the {stage.name} stage on an existing run folder.",
            tags=["triangulate", "stage"],
            concurrency_limit=ONE_AT_A_TIME,
        )
        for stage in STAGE_FLOWS
    ]
    return [nightly, *stages]


def serve_deployments() -> None:
    """Serve every deployment from this process until interrupted."""
    serve(*build_deployments(), print_starting_message=True)
