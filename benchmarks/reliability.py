"""A busy and a restarted Prefect server (#20): not a timed test, a measurement.

What ``make ui`` runs (a Prefect server and ``triangulate serve`` against it), then:

1. ``--runs`` small pipeline runs created through the API at once, on the nightly
   deployment: each must reach COMPLETED (runs beyond the deployment's concurrency limit
   wait in AwaitingConcurrencySlot meanwhile). Records the wall time, the states seen and
   the failures.
2. One more run; once its link stage is working, the server is killed (SIGKILL) and
   started again on the same database. Records the interrupted run's final state, whether a
   rerun of the same parameters completes resuming the finished stages, and whether the
   nightly schedule is still there and active.

Usage: ``python benchmarks/reliability.py [--runs 8] [--people 1000] [--work DIR]``.
Writes a JSON summary to benchmarks/results/reliability.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triangulate.server import PrefectServer, free_port, start_server  # noqa: E402

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def wait_for(predicate, *, timeout: float, interval: float = 2.0, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.HTTPError:
            value = None  # the server may be restarting
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def nightly(client: httpx.Client) -> dict | None:
    flows = {f["id"]: f["name"] for f in client.post("/flows/filter", json={}).json()}
    for deployment in client.post("/deployments/filter", json={}).json():
        if flows.get(deployment["flow_id"]) == "triangulate-pipeline":
            return deployment if deployment["name"] == "nightly" else None
    return None


def create_run(client: httpx.Client, deployment: dict, parameters: dict) -> str:
    def created():
        response = client.post(
            f"/deployments/{deployment['id']}/create_flow_run", json={"parameters": parameters}
        )
        return response.json()["id"] if response.status_code == 201 else None

    return wait_for(created, timeout=120, what="the API to accept a flow run")


def state_of(client: httpx.Client, run_id: str) -> dict:
    return client.get(f"/flow_runs/{run_id}").json()["state"]


def busy_server(client: httpx.Client, deployment: dict, args, out: Path) -> dict:
    """``args.runs`` runs created at once; poll until every one is final."""
    started = time.monotonic()
    runs = [
        create_run(client, deployment, {"people": args.people, "seed": 100 + i, "out": str(out)})
        for i in range(args.runs)
    ]
    seen: dict[str, set[str]] = {run: set() for run in runs}

    def all_final():
        for run in runs:
            state = state_of(client, run)
            seen[run].add(state["name"])
        return all(state_of(client, run)["type"] in FINAL for run in runs)

    wait_for(all_final, timeout=args.timeout, interval=3, what="every run to finish")
    finals = {run: state_of(client, run)["type"] for run in runs}
    artifacts = client.post(
        "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": runs}}}
    ).json()
    with_summary = {a["flow_run_id"] for a in artifacts if a["key"] == "run-summary"}
    return {
        "runs": len(runs),
        "people": args.people,
        "wall_seconds": round(time.monotonic() - started, 1),
        "completed": sum(state == "COMPLETED" for state in finals.values()),
        "failures": sum(state != "COMPLETED" for state in finals.values()),
        "runs_with_run_summary_artifact": len(with_summary),
        "queued_at_some_point": sum("AwaitingConcurrencySlot" in names for names in seen.values()),
        "states_seen": sorted({name for names in seen.values() for name in names}),
    }


def restarted_server(server: PrefectServer, port: int, home: Path, args, out: Path) -> dict:
    """Kill the server while a run links, start it again, rerun; report what happened."""
    client = httpx.Client(base_url=server.api_url, timeout=30)
    deployment = wait_for(lambda: nightly(client), timeout=240, what="the nightly deployment")
    parameters = {"people": args.restart_people, "seed": 7, "out": str(out)}
    run = create_run(client, deployment, parameters)
    wait_for(
        lambda: list(out.glob(".partial/*/.linkage.*")),
        timeout=600,
        interval=0.5,
        what="the link stage to start",
    )
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    killed_at = time.monotonic()
    time.sleep(args.down_seconds)
    server = start_server(port=port, home=home)
    client = httpx.Client(base_url=server.api_url, timeout=30)
    interrupted = wait_for(
        lambda: state_of(client, run)["type"] in FINAL and state_of(client, run),
        timeout=args.timeout,
        interval=3,
        what="the interrupted run to end",
    )
    rerun = create_run(client, deployment, parameters)
    rerun_state = wait_for(
        lambda: state_of(client, rerun)["type"] in FINAL and state_of(client, rerun),
        timeout=args.timeout,
        interval=3,
        what="the rerun to end",
    )
    logs = client.post(
        "/logs/filter", json={"logs": {"flow_run_id": {"any_": [rerun]}}, "limit": 200}
    ).json()
    # The stage flows are subflows: their logs carry their own flow run ids, so search all.
    logs += client.post("/logs/filter", json={"limit": 200, "sort": "TIMESTAMP_DESC"}).json()
    resumed = sorted(
        {
            m.split()[1]
            for m in (log["message"] for log in logs)
            if m.startswith("Stage ") and "resumed, not redone" in m
        }
    )
    schedule = nightly(client)
    return server, {
        "people": args.restart_people,
        "server_down_seconds": args.down_seconds,
        "interrupted_run_state": interrupted["type"],
        "interrupted_run_message": interrupted.get("message"),
        "seconds_from_kill_to_final_state": round(time.monotonic() - killed_at, 1),
        "rerun_state": rerun_state["type"],
        "stages_resumed_by_rerun": resumed,
        "nightly_schedules": [s["schedule"].get("cron") for s in schedule["schedules"]],
        "nightly_schedule_active": all(s["active"] for s in schedule["schedules"]),
        "nightly_paused": schedule.get("paused"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--restart-people", type=int, default=3000)
    parser.add_argument("--down-seconds", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--skip-busy", action="store_true", help="Only the restart part.")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="triangulate-reliability-"))
    home, port = work / "prefect-home", free_port()
    server = start_server(port=port, home=home)
    env = {**os.environ, "PREFECT_API_URL": server.api_url, "PREFECT_HOME": str(home)}
    with (work / "serve.log").open("wb") as log:
        serving = subprocess.Popen(
            [sys.executable, "-m", "triangulate", "serve", "--api-url", server.api_url],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            client = httpx.Client(base_url=server.api_url, timeout=30)
            deployment = wait_for(lambda: nightly(client), timeout=240, what="the deployments")
            figures = {}
            if not args.skip_busy:
                figures["busy"] = busy_server(client, deployment, args, work / "busy")
                print(json.dumps(figures, indent=2), flush=True)
            server, figures["restart"] = restarted_server(
                server, port, home, args, work / "restart"
            )
        finally:
            serving.terminate()
            serving.wait(timeout=60)
            server.stop()
    figures["load_average_at_end"] = os.getloadavg()
    print(json.dumps(figures, indent=2))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    name = "reliability-restart.json" if args.skip_busy else "reliability.json"
    (results / name).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
