"""Reproducible and interruptible runs of the real command line.

``python -m triangulate run`` is started as a subprocess (real Prefect in local mode, real
Splink on DuckDB). One run is uninterrupted: the reference. A second run of the same
configuration must publish identical tables. A third is killed with SIGKILL while Splink is
linking, then the same command is run again: it must resume, publish tables identical to
the reference, and nothing half-written may ever be published.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runcore.manifest import MANIFEST_NAME, sha256_file

pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).parent))

from cli_runs import RUN_TIMEOUT, run_cli, run_command  # noqa: E402


def published_tables(run_dir: Path) -> dict[str, str]:
    """SHA-256 of every published table's bytes, by file name."""
    tables = sorted((run_dir / "analysis" / "published").glob("*.parquet"))
    assert tables, f"no published tables in {run_dir}"
    return {p.name: sha256_file(p) for p in tables}


@pytest.fixture(scope="module")
def reference(reference_run) -> Path:
    return reference_run.run_dir


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [n for key in sorted(value) for n in _numbers(value[key])]
    if isinstance(value, list):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    return []


def assert_same_inputs_and_model(first: Path, second: Path) -> None:
    """Equal source digests and seeds; the same trained model to 1e-9.

    DuckDB sums in parallel, so the order of floating-point additions in Splink's
    expectation maximisation varies between runs and a parameter can differ in its last
    bit: model.json is compared by value, not by digest. The published tables, rounded,
    are compared byte for byte by the callers.
    """
    one = json.loads((first / MANIFEST_NAME).read_text())
    two = json.loads((second / MANIFEST_NAME).read_text())
    sources = {k: v for k, v in one["inputs_sha256"].items() if k.startswith("sources/")}
    assert sources and sources.items() <= two["inputs_sha256"].items()
    assert one["seeds"] == two["seeds"]
    model_one = json.loads((first / "linkage" / "model.json").read_text())
    model_two = json.loads((second / "linkage" / "model.json").read_text())
    assert _numbers(model_two) == pytest.approx(_numbers(model_one), rel=1e-9, abs=1e-15)
    assert two["inputs_sha256"]["linkage/model.json"] == sha256_file(
        second / "linkage" / "model.json"
    )


def test_two_runs_of_one_configuration_publish_identical_tables(
    reference, tmp_path_factory, cli_environment
):
    again = run_cli(tmp_path_factory.mktemp("again"), cli_environment).run_dir
    assert published_tables(again) == published_tables(reference)
    # The CSV copies are what most readers open: identical too.
    for csv in (reference / "analysis" / "published").glob("*.csv"):
        counterpart = again / "analysis" / "published" / csv.name
        assert (
            hashlib.sha256(csv.read_bytes()).digest()
            == hashlib.sha256(counterpart.read_bytes()).digest()
        ), csv.name
    assert_same_inputs_and_model(reference, again)


def _wait_for_linkage(process: subprocess.Popen, out: Path, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before linkage started"
        # Linkage writes into a staging folder (.linkage.*) that becomes linkage/ at the end.
        staging = list(out.glob(".partial/*/.linkage.*"))
        if staging:
            return staging[0]
        time.sleep(0.1)
    raise AssertionError("linkage did not start in time")


def test_run_killed_during_linkage_resumes_to_identical_tables(
    reference, tmp_path_factory, cli_environment
):
    out = tmp_path_factory.mktemp("interrupted")
    process = subprocess.Popen(
        run_command(out),
        env=cli_environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the Prefect server dies with it
    )
    try:
        staging = _wait_for_linkage(process, out, RUN_TIMEOUT)
        time.sleep(1.0)  # well inside Splink's training, not at its first write
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    work = staging.parent
    assert not (work / "linkage").exists(), "killed before linkage finished"
    assert [p.name for p in out.iterdir()] == [".partial"], "nothing may be published yet"
    assert (work / ".stages" / "validate-sources.json").is_file()

    resumed = run_cli(out, cli_environment).run_dir
    assert published_tables(resumed) == published_tables(reference)
    left = [p for p in (out / ".partial").iterdir() if p.suffix != ".lock"]  # the run's lock
    assert not left, "the working copy is moved into place"
    leftovers = [p.name for p in resumed.rglob(".*") if p.name not in (".stages",)]
    assert leftovers == [], f"half-written files were published: {leftovers}"
    assert_same_inputs_and_model(reference, resumed)
