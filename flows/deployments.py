"""Deployments served to the Prefect UI. Schedules live here, in code: ``serve()`` restarts
drop schedules made in the UI.

Each deployment runs one flow run at a time; further runs (a "Custom run" pressed while the
nightly run works, or pressed twice) wait in the server's queue (``AwaitingConcurrencySlot``)
instead of competing for the same run folder and the machine's memory. The run folder's own
lock (``runcore.run_lock``) still guards runs started outside the server.

A run whose process dies with the machine or with ``make ui`` would otherwise stay RUNNING
for ever, holding its deployment's one slot, so that every later run of the deployment,
the nightly one included, waits behind it. Served runs send a heartbeat every
``HEARTBEAT_SECONDS``, and an automation on the server (Prefect's own recipe for "zombie"
flow runs) marks a run CRASHED once no heartbeat or final state has come for
``SILENCE_BEFORE_CRASHED``; the slot is then released and a rerun resumes from the stage
markers.
"""

from __future__ import annotations

import datetime as dt
import os

from prefect import serve
from prefect.automations import Automation
from prefect.client.schemas.objects import (
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
    StateType,
)
from prefect.deployments.runner import RunnerDeployment
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
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


HEARTBEAT_SECONDS = 30
"""How often a served flow run tells the server it is alive (Prefect's least)."""

SILENCE_BEFORE_CRASHED = dt.timedelta(seconds=150)
"""Five heartbeats missed: long enough for a busy two-core machine, short enough that a
dead run frees its deployment's slot within minutes."""

CRASHED_RUNS_AUTOMATION = "triangulate: mark silent flow runs crashed"


def crashed_runs_automation() -> Automation:
    """Mark a flow run CRASHED when its heartbeats stop before it reaches a final state."""
    return Automation(
        name=CRASHED_RUNS_AUTOMATION,
        description="A flow run that stopped sending heartbeats without finishing has lost "
        "its process (killed, or the machine went down).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=SILENCE_BEFORE_CRASHED,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message="Marked crashed: no heartbeat from the flow run's process for "
                f"{SILENCE_BEFORE_CRASHED.total_seconds():.0f} s (killed, or the machine "
                "stopped). Rerun it: the finished stages are resumed from their markers.",
            )
        ],
    )


def ensure_crashed_runs_automation() -> Automation:
    """Create the automation on the server unless a previous ``serve`` already did."""
    try:
        return Automation.read(name=CRASHED_RUNS_AUTOMATION)
    except ValueError:
        return crashed_runs_automation().create()


def serve_deployments() -> None:
    """Serve every deployment from this process until interrupted.

    The flow runs it starts inherit the heartbeat setting (a value the user set is kept).
    """
    os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_SECONDS))
    ensure_crashed_runs_automation()
    serve(*build_deployments(), print_starting_message=True)
