"""Overlapping runs of a served deployment queue instead of colliding (#20)."""

from __future__ import annotations

from prefect.client.schemas.objects import ConcurrencyLimitStrategy

from flows.deployments import build_deployments


def test_every_deployment_runs_one_flow_run_at_a_time_and_queues_the_rest():
    deployments = build_deployments()
    assert len(deployments) == 8  # the nightly pipeline and seven stages
    for deployment in deployments:
        assert deployment.concurrency_limit == 1, deployment.name
        strategy = deployment.concurrency_options.collision_strategy
        assert strategy == ConcurrencyLimitStrategy.ENQUEUE, deployment.name


def test_a_run_whose_heartbeats_stop_is_marked_crashed_after_several_missed_beats():
    from prefect.client.schemas.objects import StateType
    from prefect.events.schemas.automations import Posture

    from flows.deployments import (
        HEARTBEAT_SECONDS,
        SILENCE_BEFORE_CRASHED,
        crashed_runs_automation,
    )

    automation = crashed_runs_automation()
    trigger = automation.trigger
    assert trigger.posture == Posture.Proactive and trigger.threshold == 1
    assert trigger.after == {"prefect.flow-run.heartbeat"}
    # Any heartbeat or final state in time keeps a run alive; a finished run is never marked.
    assert trigger.expect >= {"prefect.flow-run.heartbeat", "prefect.flow-run.Completed"}
    assert trigger.for_each == {"prefect.resource.id"}  # each flow run on its own
    assert SILENCE_BEFORE_CRASHED.total_seconds() >= 3 * HEARTBEAT_SECONDS
    (action,) = automation.actions
    assert action.state == StateType.CRASHED and "Rerun" in action.message


def test_the_command_line_beats_often_enough_not_to_be_marked_crashed():
    # A `triangulate run` sent to the served server is watched by the same automation.
    from flows.deployments import HEARTBEAT_SECONDS, SILENCE_BEFORE_CRASHED
    from triangulate.cli import PREFECT_DEFAULTS

    beat = int(PREFECT_DEFAULTS["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"])
    assert beat == HEARTBEAT_SECONDS and 3 * beat <= SILENCE_BEFORE_CRASHED.total_seconds()
