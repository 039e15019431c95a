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
3. (``crash``) One more run; once its link stage is working, everything is killed at once
   (SIGKILL to the server's, ``triangulate serve``'s and the flow run's process groups),
   as when ``make ui`` or the machine dies. Both are started again; records how long until
   the interrupted run is shown CRASHED (no heartbeat: the automation ``triangulate serve``
   installs), whether a rerun completes resuming the stages that had finished, and whether
   the nightly schedule is still there and active.

Usage: ``python benchmarks/reliability.py [--runs 8] [--people 1000] [--scenarios
busy,restart,crash] [--work DIR]``. Writes a JSON summary to benchmarks/results/.
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

from runcore.run_lock import holder_of  # noqa: E402
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
    loads: list[float] = []

    def all_final():
        loads.append(os.getloadavg()[0])
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
        "final_states": sorted(finals.values()),
        "load_average_1min_min_median_max": [
            min(loads),
            sorted(loads)[len(loads) // 2],
            max(loads),
        ],
    }


def resumed_stages(client: httpx.Client, run: str) -> list[str]:
    """The stages a run resumed from their markers, from its logs and its subflows' logs."""
    subflows = client.post(
        "/flow_runs/filter", json={"flow_runs": {"parent_flow_run_id": {"any_": [run]}}}
    ).json()
    runs = [run, *(flow_run["id"] for flow_run in subflows)]
    logs = client.post(
        "/logs/filter", json={"logs": {"flow_run_id": {"any_": runs}}, "limit": 200}
    ).json()
    return sorted(
        {
            m.split()[1]
            for m in (log["message"] for log in logs)
            if m.startswith("Stage ") and "resumed, not redone" in m
        }
    )


def schedule_figures(client: httpx.Client) -> dict:
    schedule = nightly(client)
    return {
        "nightly_schedules": [s["schedule"].get("cron") for s in schedule["schedules"]],
        "nightly_schedule_active": all(s["active"] for s in schedule["schedules"]),
        "nightly_paused": schedule.get("paused"),
    }


def final_state(client: httpx.Client, run: str, timeout: float, what: str) -> dict:
    return wait_for(
        lambda: state_of(client, run)["type"] in FINAL and state_of(client, run),
        timeout=timeout,
        interval=3,
        what=what,
    )


class Stack:
    """What ``make ui`` runs: a Prefect server and ``triangulate serve`` against it, each in
    its own process group (the flow runs ``serve`` starts get groups of their own)."""

    def __init__(self, work: Path):
        self.work, self.home, self.port = work, work / "prefect-home", free_port()
        self.server: PrefectServer | None = None
        self.serving: subprocess.Popen | None = None

    def start(self) -> None:
        self.server = start_server(port=self.port, home=self.home)
        env = {**os.environ, "PREFECT_API_URL": self.api_url, "PREFECT_HOME": str(self.home)}
        with (self.work / "serve.log").open("ab") as log:
            self.serving = subprocess.Popen(
                [sys.executable, "-m", "triangulate", "serve", "--api-url", self.api_url],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )

    @property
    def api_url(self) -> str:
        return self.server.api_url

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=30)

    def kill_server(self) -> None:
        os.killpg(self.server.process.pid, signal.SIGKILL)
        self.server.process.wait()

    def kill_serving(self) -> None:
        os.killpg(self.serving.pid, signal.SIGKILL)
        self.serving.wait()

    def stop(self) -> None:
        if self.serving is not None and self.serving.poll() is None:
            # A runner shutting down cancels the flow runs whose processes it still tracks,
            # even one that has just reported COMPLETED: let them exit first.
            deadline = time.monotonic() + 120
            while _children(self.serving.pid) and time.monotonic() < deadline:
                time.sleep(1)
            self.serving.terminate()
            self.serving.wait(timeout=60)
        if self.server is not None:
            self.server.stop()


def start_run_and_wait_for_linkage(client: httpx.Client, parameters: dict, out: Path) -> str:
    deployment = wait_for(lambda: nightly(client), timeout=240, what="the nightly deployment")
    run = create_run(client, deployment, parameters)
    wait_for(
        lambda: list(out.glob(".partial/*/.linkage.*")),
        timeout=900,
        interval=0.5,
        what="the link stage to start",
    )
    return run


def restarted_server(stack: Stack, args, out: Path) -> dict:
    """Kill the server while a run links, start it again, rerun; report what happened."""
    parameters = {"people": args.restart_people, "seed": 7, "out": str(out)}
    run = start_run_and_wait_for_linkage(stack.client(), parameters, out)
    stack.kill_server()
    killed_at = time.monotonic()
    time.sleep(args.down_seconds)
    stack.server = start_server(port=stack.port, home=stack.home)
    client = stack.client()
    interrupted = final_state(client, run, args.timeout, "the interrupted run to end")
    ended_at = time.monotonic()
    rerun = create_run(client, nightly(client), parameters)
    rerun_state = final_state(client, rerun, args.timeout, "the rerun to end")
    return {
        "people": args.restart_people,
        "server_down_seconds": args.down_seconds,
        "interrupted_run_state": interrupted["type"],
        "interrupted_run_message": interrupted.get("message"),
        "seconds_from_kill_to_final_state": round(ended_at - killed_at, 1),
        "rerun_state": rerun_state["type"],
        "stages_resumed_by_rerun": resumed_stages(client, rerun),
        **schedule_figures(client),
    }


def kill_everything(stack: Stack, out: Path) -> int:
    """SIGKILL the server, ``serve`` and the run's own process (the lock's holder) at once."""
    (lock,) = out.glob(".partial/*.lock")
    run_pid = int(holder_of(lock)["pid"])
    run_group = os.getpgid(run_pid)
    for group in (stack.server.process.pid, stack.serving.pid, run_group):
        os.killpg(group, signal.SIGKILL)
    stack.server.process.wait()
    stack.serving.wait()
    wait_for(lambda: not _alive(run_pid), timeout=30, interval=0.2, what="the run to die")
    return run_pid


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def crashed_stack(stack: Stack, args, out: Path) -> dict:
    """Kill the server, ``serve`` and the run mid-link; restart; the run must show CRASHED,
    a rerun resume from the stage markers, the nightly schedule stay active."""
    parameters = {"people": args.restart_people, "seed": 8, "out": str(out)}
    run = start_run_and_wait_for_linkage(stack.client(), parameters, out)
    finished = sorted(p.stem for p in out.glob(".partial/*/.stages/*.json"))
    run_pid = kill_everything(stack, out)
    killed_at = time.monotonic()
    time.sleep(args.down_seconds)
    stack.start()
    client = stack.client()
    after_restart = state_of(client, run)["type"]
    interrupted = final_state(client, run, args.timeout, "the interrupted run to be marked")
    marked_at = time.monotonic()
    deployment = wait_for(lambda: nightly(client), timeout=240, what="the nightly deployment")
    rerun = create_run(client, deployment, parameters)
    rerun_state = final_state(client, rerun, args.timeout, "the rerun to end")
    return {
        "people": args.restart_people,
        "killed": "server, serve and the flow run's process (SIGKILL to each process group)",
        "run_process_killed": run_pid,
        "stages_finished_before_the_kill": finished,
        "down_seconds": args.down_seconds,
        "interrupted_run_state_just_after_restart": after_restart,
        "interrupted_run_state": interrupted["type"],
        "interrupted_run_message": interrupted.get("message"),
        "seconds_from_kill_to_crashed": round(marked_at - killed_at, 1),
        "rerun_state": rerun_state["type"],
        "rerun_seconds": round(time.monotonic() - marked_at, 1),
        "stages_resumed_by_rerun": resumed_stages(client, rerun),
        **schedule_figures(client),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--restart-people", type=int, default=3000)
    parser.add_argument("--down-seconds", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--scenarios", default="busy,restart,crash")
    parser.add_argument("--skip-busy", action="store_true", help="Only restart and crash.")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if not (args.skip_busy and s == "busy")]
    work = args.work or Path(tempfile.mkdtemp(prefix="triangulate-reliability-"))
    work.mkdir(parents=True, exist_ok=True)
    stack, figures = Stack(work), {}
    stack.start()
    try:
        for scenario in scenarios:
            figures[scenario] = run_scenario(stack, scenario, args, work / scenario)
            print(json.dumps({scenario: figures[scenario]}, indent=2), flush=True)
    finally:
        stack.stop()
    figures["load_average_at_end"] = os.getloadavg()
    print(json.dumps(figures, indent=2))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    name = "reliability.json" if scenarios == ["busy", "restart", "crash"] else None
    name = name or f"reliability-{'-'.join(scenarios)}.json"
    (results / name).write_text(json.dumps(figures, indent=2) + "\n")


def run_scenario(stack: Stack, scenario: str, args, out: Path) -> dict:
    started = time.time()
    if scenario == "busy":
        client = stack.client()
        deployment = wait_for(lambda: nightly(client), timeout=240, what="the deployments")
        result = busy_server(client, deployment, args, out)
    elif scenario == "restart":
        result = restarted_server(stack, args, out)
    elif scenario == "crash":
        result = crashed_stack(stack, args, out)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}: busy, restart or crash")
    return {
        **result,
        "started_utc": time.strftime("%H:%M:%S", time.gmtime(started)),
        "load_average": os.getloadavg(),
    }


if __name__ == "__main__":
    main()
