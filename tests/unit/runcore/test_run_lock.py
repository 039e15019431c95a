"""One run per run folder: real processes racing for the same run's lock (#20)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runcore.run_lock import (
    RunLockedError,
    acquire_run_lock,
    holder_of,
    holds_run_lock,
    release_run_lock,
)

# A process that waits for a start signal (a file), then takes the lock and holds it for a
# while: several started together race for it as two real runs would.
CONTENDER = """
import sys, time
from pathlib import Path
from runcore.run_lock import RunLockedError, acquire_run_lock
out, name, start, hold, mode = sys.argv[1:6]
while not Path(start).exists():
    time.sleep(0.005)
try:
    notify = lambda m: print("WAITING", m, flush=True)
    acquire_run_lock(Path(out), "run-a", wait=mode == "wait", notify=notify)
except RunLockedError as exc:
    print("REFUSED", exc, flush=True)
    sys.exit(3)
print("LOCKED", name, time.monotonic(), flush=True)
time.sleep(float(hold))
print("DONE", name, time.monotonic(), flush=True)
"""


def _start(tmp_path, name, hold=1.5, wait=False):
    args = [str(tmp_path / "out"), name, str(tmp_path / "go"), str(hold), "wait" if wait else "x"]
    return subprocess.Popen(
        [sys.executable, "-c", CONTENDER, *args], stdout=subprocess.PIPE, text=True
    )


def _race(tmp_path, names, wait=False):
    processes = {name: _start(tmp_path, name, wait=wait) for name in names}
    time.sleep(1.0)  # let both interpreters start and poll for the signal
    (tmp_path / "go").touch()
    return {name: (p.pid, p.wait(timeout=60), p.stdout.read()) for name, p in processes.items()}


@pytest.mark.parametrize("order", [("first", "second"), ("second", "first")])
def test_two_processes_started_together_one_runs_the_other_names_it(tmp_path, order):
    results = _race(tmp_path, order)
    winners = [n for n, (_, code, _) in results.items() if code == 0]
    losers = [n for n, (_, code, _) in results.items() if code == 3]
    assert len(winners) == 1 and len(losers) == 1, results
    winner_pid = results[winners[0]][0]
    refusal = results[losers[0]][2]
    assert f"pid {winner_pid} on host {socket.gethostname()}" in refusal
    assert "already running" in refusal and "started 20" in refusal and "--wait" in refusal


@pytest.mark.parametrize("order", [("first", "second"), ("second", "first")])
def test_with_wait_the_second_process_queues_behind_the_first(tmp_path, order):
    results = _race(tmp_path, order, wait=True)
    assert all(code == 0 for _, code, _ in results.values()), results
    spans = {}
    for name, (_, _, output) in results.items():
        stamps = {
            line.split()[0]: float(line.split()[2])
            for line in output.splitlines()
            if line.startswith(("LOCKED", "DONE"))
        }
        spans[name] = (stamps["LOCKED"], stamps["DONE"])
    (first_start, first_end), (second_start, second_end) = sorted(spans.values())
    assert second_start >= first_end  # never both inside the lock at once
    waiter = [out for _, _, out in results.values() if "WAITING" in out]
    assert len(waiter) == 1 and "waiting for it to finish" in waiter[0]


def test_lock_of_a_killed_holder_is_released_by_the_kernel(tmp_path):
    holder = _start(tmp_path, "holder", hold=120)
    (tmp_path / "go").touch()
    assert holder.stdout.readline().startswith("LOCKED")
    with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
        acquire_run_lock(tmp_path / "out", "run-a")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    path = acquire_run_lock(tmp_path / "out", "run-a")  # at once: no stale lock
    try:
        assert holder_of(path)["pid"] == os.getpid()
    finally:
        release_run_lock(tmp_path / "out", "run-a")


def test_released_lock_can_be_taken_again_and_other_runs_are_independent(tmp_path):
    out = Path(tmp_path)
    acquire_run_lock(out, "run-a")
    try:
        acquire_run_lock(out, "run-b")  # another run id: no contention
        release_run_lock(out, "run-b")
    finally:
        release_run_lock(out, "run-a")
    acquire_run_lock(out, "run-a")
    release_run_lock(out, "run-a")


# A stage run on its own (a stage deployment) on a working or a published run folder.
STAGE_ALONE = """
import sys, time
from pathlib import Path
from runcore.runs import run_folder_locked
with run_folder_locked(Path(sys.argv[1])):
    print("LOCKED", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.mark.parametrize("folder", [".partial/run-a", "run-a"])
def test_a_stage_run_alone_holds_the_lock_a_pipeline_run_takes(tmp_path, folder):
    out = tmp_path / "out"
    stage = subprocess.Popen(
        [sys.executable, "-c", STAGE_ALONE, str(out / folder), "30"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stage.stdout.readline().strip() == "LOCKED"
        # What the pipeline's first task does (prepare_run_folder) for the same run.
        with pytest.raises(RunLockedError, match=f"pid {stage.pid} on host"):
            acquire_run_lock(out, "run-a")
    finally:
        stage.kill()
        stage.wait(timeout=30)
    acquire_run_lock(out, "run-a")  # free once the stage's process has gone
    release_run_lock(out, "run-a")


def test_a_pipeline_holding_the_lock_refuses_a_stage_run_alone_but_not_its_own_stages(tmp_path):
    from runcore.runs import run_folder_locked

    out = tmp_path / "out"
    acquire_run_lock(out, "run-a")  # this process is the pipeline
    try:
        with run_folder_locked(out / ".partial" / "run-a"):  # its own stage: no second lock
            pass
        assert holds_run_lock(out, "run-a")  # and the stage did not release the pipeline's
        stage = subprocess.run(
            [sys.executable, "-c", STAGE_ALONE, str(out / "run-a"), "0"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        release_run_lock(out, "run-a")
    assert stage.returncode != 0 and "LOCKED" not in stage.stdout
    assert "RunLockedError" in stage.stderr and f"pid {os.getpid()} on host" in stage.stderr


def test_a_pipeline_naming_its_folder_relatively_still_owns_its_stages(tmp_path, monkeypatch):
    # make run passes out as "outputs" (relative); its stages are given absolute folders.
    from runcore.runs import run_folder_locked

    monkeypatch.chdir(tmp_path)
    acquire_run_lock(Path("outputs"), "run-a")
    try:
        with run_folder_locked(tmp_path / "outputs" / ".partial" / "run-a"):
            pass
        assert holds_run_lock(Path("outputs"), "run-a")
        assert holds_run_lock(tmp_path / "outputs", "run-a")
    finally:
        release_run_lock(Path("outputs"), "run-a")
    assert not holds_run_lock(tmp_path / "outputs", "run-a")
