"""A real Prefect server, the real deployments served, a run started through the API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from triangulate.server import free_port, start_server

pytestmark = [pytest.mark.slow, pytest.mark.server]

TINY_WORLD = {"people": 1500, "seed": 7}


def _wait(predicate, *, timeout: float, interval: float = 2.0, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    server = start_server(port=port, home=home)
    env = {**os.environ, "PREFECT_API_URL": server.api_url, "PREFECT_HOME": str(home)}
    log = (home / "serve.log").open("wb")
    serving = subprocess.Popen(
        [sys.executable, "-m", "triangulate", "serve", "--api-url", server.api_url],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    client = httpx.Client(base_url=server.api_url, timeout=30)
    try:
        yield client, server, port, home
    finally:
        serving.terminate()
        serving.wait(timeout=30)
        log.close()
        client.close()
        server.stop()


STAGE_COUNT = 7


def _all_served(client: httpx.Client) -> dict[str, dict] | None:
    deployments = _deployments(client)
    stages = [name for name in deployments if "/stage-" in name]
    ready = "triangulate-pipeline/nightly" in deployments and len(stages) == STAGE_COUNT
    return deployments if ready else None


def _deployments(client: httpx.Client) -> dict[str, dict]:
    flows = {f["id"]: f["name"] for f in client.post("/flows/filter", json={}).json()}
    return {
        f"{flows.get(d['flow_id'])}/{d['name']}": d
        for d in client.post("/deployments/filter", json={}).json()
    }


def test_nightly_deployment_is_served_with_its_schedule(served):
    client, *_ = served
    deployments = _wait(lambda: _all_served(client), timeout=240, what="every deployment")
    nightly = deployments["triangulate-pipeline/nightly"]
    crons = [s["schedule"].get("cron") for s in nightly["schedules"]]
    assert crons == ["0 2 * * *"]
    assert nightly["schedules"][0]["schedule"]["timezone"] == "Europe/London"
    stages = {name for name in deployments if "/stage-" in name}
    assert "link/stage-link" in stages and "report/stage-report" in stages
    assert all(not deployments[name]["schedules"] for name in stages)  # stages run on demand


def test_run_started_through_the_api_completes_with_artifacts(served, tmp_path):
    client, *_ = served
    deployment = _wait(lambda: _all_served(client), timeout=240, what="every deployment")[
        "triangulate-pipeline/nightly"
    ]
    parameters = {**TINY_WORLD, "out": str(tmp_path / "outputs")}

    def created():
        response = client.post(
            f"/deployments/{deployment['id']}/create_flow_run", json={"parameters": parameters}
        )
        return response.json() if response.status_code == 201 else None

    # The runner may still be registering when the deployment first shows; retry until the
    # API accepts the run.
    run = _wait(created, timeout=120, what="the API to accept a flow run")

    def finished():
        state = client.get(f"/flow_runs/{run['id']}").json()["state"]
        return state if state["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} else None

    state = _wait(finished, timeout=900, interval=5, what="the flow run to finish")
    assert state["type"] == "COMPLETED", state
    artifacts = client.post(
        "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}
    ).json()
    keys = {a["key"] for a in artifacts}
    assert "run-summary" in keys
    assert any(a["type"] == "table" for a in artifacts)
    published = [p for p in (tmp_path / "outputs").iterdir() if not p.name.startswith(".")]
    assert any((p / "config.yaml").exists() for p in published)


@pytest.mark.browser
def test_deployments_page_shows_deployment_and_schedule(served, chromium, test_output_dir):
    client, server, port, _ = served
    _wait(lambda: _all_served(client), timeout=240, what="every deployment")
    url = f"http://127.0.0.1:{port}/deployments"
    dom = chromium.dom(url, budget_ms=20_000)
    assert "nightly" in dom
    assert "triangulate-pipeline" in dom
    assert "02:00" in dom  # the nightly schedule, as the UI words it
    chromium.screenshot(url, test_output_dir / "prefect-deployments.png", size="1400,900")
