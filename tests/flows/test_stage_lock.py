"""A stage run on its own and a whole-pipeline run of one run folder never collide (#20).

Two real processes against one real Prefect server: ``triangulate run`` working on a small
run, and a stage flow (what the UI's ``stage-validate-linkage`` deployment runs) started on the same
run folder meanwhile. The stage stops at once naming the pipeline's process; with ``wait``
it queues behind the pipeline and then finds its work done. The pipeline is not disturbed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runcore.config import config_from_parameters, run_id
from runcore.run_lock import holder_of, lock_path

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PEOPLE, SEED = 400, 9

STAGE = """
import sys
from flows.stages import validate_linkage_stage
print(validate_linkage_stage(sys.argv[1], wait=sys.argv[2] == "wait")["evaluated"], flush=True)
"""


def _env(prefect_server) -> dict[str, str]:
    running, home = prefect_server
    return {**os.environ, "PREFECT_API_URL": running.api_url, "PREFECT_HOME": str(home)}


def _start(env, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.2)


def test_stage_run_alone_stops_or_queues_behind_the_pipeline(prefect_server, tmp_path):
    env, out = _env(prefect_server), tmp_path / "out"
    identifier = run_id(config_from_parameters(None, people=PEOPLE, seed=SEED, out=str(out)))
    work = out / ".partial" / identifier
    pipeline = _start(
        env,
        "-m",
        "triangulate",
        "run",
        "--people",
        str(PEOPLE),
        "--seed",
        str(SEED),
        "--out",
        str(out),
    )
    _wait_for(work / ".stages" / "generate.json")  # the pipeline holds the lock and works
    assert holder_of(lock_path(out, identifier))["pid"] == pipeline.pid
    refused = _start(env, "-c", STAGE, str(work), "no-wait")
    # Queued: given the published folder, which exists once the pipeline has finished.
    queued = _start(env, "-c", STAGE, str(out / identifier), "wait")
    _, refused_err = refused.communicate(timeout=600)
    pipeline_out, pipeline_err = pipeline.communicate(timeout=900)
    queued_out, queued_err = queued.communicate(timeout=600)

    assert pipeline.returncode == 0, pipeline_err[-3000:]
    assert "Run finished" in pipeline_out
    assert refused.returncode != 0
    assert "RunLockedError" in refused_err and f"pid {pipeline.pid} on host" in refused_err
    assert queued.returncode == 0, queued_err[-3000:]
    assert f"locked by pid {pipeline.pid}" in queued_err and "waiting" in queued_err
    # It then ran the linkage gate on the published run (a stage run by hand is redone).
    assert int(queued_out.strip().splitlines()[-1]) > 0
    assert (out / identifier / "analysis" / "published").is_dir()
