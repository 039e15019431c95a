"""Runs that survive each other and their own debris, on the real pipeline (#20).

A 2,000-person run under Prefect's test harness, then: a file of every stage deleted,
truncated and replaced is caught by that stage's marker; a truncated spine and a deleted
extract are redone on rerun with every stage after them, publishing the same tables. Two
real ``triangulate run`` processes started together on one run folder: one runs, the other
stops naming it, or with ``--wait`` queues behind it. A full (size-limited tmpfs) output
folder stops the run with the folder and the space needed, and the next run resumes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from flows import triangulate_pipeline
from runcore.manifest import sha256_file
from runcore.runs import MARKER_DIR, stale_reason

pytestmark = pytest.mark.slow

SMALL = {"people": 2000, "seed": 13}


@pytest.fixture(scope="module")
def harness():
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def small_run(harness, tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    result = triangulate_pipeline(**SMALL, out=str(out))
    return out, Path(result["run_dir"])


def published_tables(run_dir: Path) -> dict[str, str]:
    tables = sorted((run_dir / "analysis" / "published").glob("*.parquet"))
    assert tables
    return {p.name: sha256_file(p) for p in tables}


def _owned_output(run_dir: Path, stage: str) -> tuple[str, str]:
    """The key of a stage's marker and one output that the stage, not a later one, owns.

    A file rewritten by a later stage is handed over to it, so each file is in one record."""
    markers = {p.stem: json.loads(p.read_text()) for p in (run_dir / MARKER_DIR).glob("*.json")}
    recorded = [o["path"] for m in markers.values() for o in m["outputs"]]
    assert len(recorded) == len(set(recorded)), "an output is recorded by two stages"
    marker = markers[stage]
    owned = [o["path"] for o in marker["outputs"]]
    assert owned, f"stage {stage} records no output of its own"
    parquet = [p for p in owned if p.endswith(".parquet")]
    return marker["key"], (parquet or owned)[0]


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # same size, other bytes


def test_every_stage_records_its_outputs_and_notices_each_damage(small_run):
    _, run_dir = small_run
    stages = sorted(p.stem for p in (run_dir / MARKER_DIR).glob("*.json"))
    assert len(stages) == 9
    for stage in stages:
        key, rel = _owned_output(run_dir, stage)
        assert stale_reason(run_dir, stage, key) is None, stage
        original = (run_dir / rel).read_bytes()
        for how, words in (("delete", "missing"), ("truncate", "size"), ("replace", "content")):
            _damage(run_dir / rel, how)
            reason = stale_reason(run_dir, stage, key)
            assert reason is not None and rel in reason and words in reason, (stage, how, reason)
            (run_dir / rel).write_bytes(original)
        assert stale_reason(run_dir, stage, key) is None, stage


def _rerun_after(out: Path, run_dir: Path, damage) -> dict[str, bool]:
    before = published_tables(run_dir)
    damage(run_dir)
    again = triangulate_pipeline(**SMALL, out=str(out))
    assert Path(again["run_dir"]) == run_dir
    assert published_tables(run_dir) == before  # same seed, same tables
    return {name: summary["resumed"] for name, summary in again["stages"].items()}


def test_truncated_spine_is_relinked_with_every_later_stage(small_run):
    out, run_dir = small_run

    def truncate_spine(run: Path) -> None:
        spine = run / "linkage" / "spine.parquet"
        spine.write_bytes(spine.read_bytes()[:1000])

    resumed = _rerun_after(out, run_dir, truncate_spine)
    assert resumed == {
        "generate": True,
        "validate-sources": True,
        "link": False,
        "validate-linkage": False,
        "analyse": False,
        "validate-outputs": False,
        "report": False,
    }


def test_deleted_extract_regenerates_the_whole_run(small_run):
    out, run_dir = small_run
    resumed = _rerun_after(
        out, run_dir, lambda run: (run / "sources" / "gp_registrations.parquet").unlink()
    )
    assert not any(resumed.values())


def _cli(out: Path, env: dict[str, str], *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "triangulate", "run", "--people", "2000", "--seed", "21"]
    return subprocess.Popen(
        [*command, "--out", str(out), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def cli_env(tmp_path):
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env.pop("PREFECT_API_URL", None)
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    return env


def test_two_commands_on_one_run_folder_one_runs_the_other_names_it(tmp_path, cli_env):
    out = tmp_path / "out"
    first, second = _cli(out, cli_env), _cli(out, cli_env)
    results = [(p.pid, p.wait(timeout=900), *p.communicate()) for p in (first, second)]
    codes = sorted(code for _, code, _, _ in results)
    assert codes == [0, 2], [r[3][-2000:] for r in results]
    (winner,) = [r for r in results if r[1] == 0]
    (loser,) = [r for r in results if r[1] == 2]
    assert f"pid {winner[0]} on host" in loser[3] and "already running" in loser[3]
    assert _final_error(loser[3]).startswith("Error: the run stopped: run people2000-seed21-")
    # With --wait, a second command queues behind the first, then resumes its finished run.
    first, second = _cli(out, cli_env, "--wait"), _cli(out, cli_env, "--wait")
    assert [p.wait(timeout=900) for p in (first, second)] == [0, 0]
    published = [p for p in out.iterdir() if not p.name.startswith(".") and p.name != "latest"]
    assert len(published) == 1 and (published[0] / "analysis" / "published").is_dir()


def _final_error(stderr: str) -> str:
    """The command's own last word: its one-line error (Prefect's run log lines above it,
    without the traceback, which is in the log file named below it; the server's shutdown
    notice may follow)."""
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr[-3000:]
    return errors[0]


def _mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)


def test_full_disk_stops_naming_the_folder_and_the_next_run_resumes(tmp_path, cli_env):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        reason = "mounting a size-limited tmpfs needs root and mount(8)"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    out = tmp_path / "small-disk"
    try:
        _mount_tmpfs(out, "3m")  # room for the extracts, not for the linkage
    except subprocess.CalledProcessError as exc:
        print(f"SKIPPED: cannot mount tmpfs here ({exc})")
        pytest.skip(f"cannot mount tmpfs here ({exc})")
    try:
        (out / "latest").symlink_to("an-earlier-run")  # what publication must leave alone
        full = _cli(out, cli_env)
        _, stderr = full.communicate(timeout=900)
        assert full.returncode == 2, stderr[-3000:]
        error = _final_error(stderr)
        assert error.startswith(f"Error: the run stopped: cannot write the run's outputs in {out}")
        assert "no space left on the device" in error and "needs about" in error
        assert "Traceback" not in stderr
        assert os.readlink(out / "latest") == "an-earlier-run"
        assert sorted(p.name for p in out.iterdir()) == [".partial", "latest"]
        subprocess.run(["mount", "-o", "remount,size=200m", str(out)], check=True)
        again = _cli(out, cli_env)
        stdout, stderr = again.communicate(timeout=900)
        assert again.returncode == 0, stderr[-3000:]
        assert "Stage generate already finished" in stdout + stderr  # resumed, not redone
    finally:
        time.sleep(1)
        subprocess.run(["umount", "-l", str(out)], check=False)


def test_read_only_output_folder_stops_naming_it(tmp_path, cli_env):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        reason = "mounting a read-only tmpfs needs root and mount(8)"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    out = tmp_path / "read-only"
    out.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(out)], check=True)
    try:
        stopped = _cli(out, cli_env)
        _, stderr = stopped.communicate(timeout=900)
        assert stopped.returncode == 2, stderr[-3000:]
        error = _final_error(stderr)
        assert error.startswith(f"Error: the run stopped: cannot write the run's outputs in {out}")
        assert "the file system is read-only" in error and not any(out.iterdir())
        assert "Traceback" not in stderr
    finally:
        subprocess.run(["umount", "-l", str(out)], check=False)
