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
