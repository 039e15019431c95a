"""The whole pipeline as a Prefect flow, on a tiny world, under Prefect's test harness."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from flows import triangulate_pipeline
from runcore.runs import MARKER_DIR

pytestmark = pytest.mark.slow

TINY = {"people": 2500, "seed": 11}
STAGES = [
    "generate",
    "validate-sources",
    "link",
    "validate-linkage",
    "analyse",
    "validate-outputs",
    "report",
]


@pytest.fixture(scope="module")
def harness():
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def first_run(harness, tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    return out, triangulate_pipeline(**TINY, out=str(out))


def test_pipeline_publishes_every_stage_output(first_run):
    out, result = first_run
    run_dir = Path(result["run_dir"])
    assert run_dir.parent == out and run_dir.is_dir()
    # Only the run's lock file stays beside where the working copy was (a lock file is
    # never deleted: a waiting process may hold it open).
    left = [p for p in (out / ".partial").iterdir() if p.suffix != ".lock"]
    assert not left, "the working copy must be moved, not copied"
    assert list(result["stages"]) == STAGES
    assert all(not summary["resumed"] for summary in result["stages"].values())
    for path in [
        "config.yaml",
        "sources/census.parquet",
        "linkage/spine.parquet",
        "linkage/model.json",
        "linkage/evaluation/pairwise.parquet",
        "validation/index.html",
        "analysis/published/overall.parquet",
        "report/index.html",
        "index.html",  # the front page, written by the publish step
    ]:
        assert (run_dir / path).exists(), path
    assert sorted(p.stem for p in (run_dir / MARKER_DIR).iterdir()) == sorted(
        STAGES + ["evaluate-linkage", "separate"]
    )


def test_rerun_resumes_instead_of_redoing(first_run):
    out, result = first_run
    again = triangulate_pipeline(**TINY, out=str(out))
    assert again["run_dir"] == result["run_dir"]
    assert all(summary["resumed"] for summary in again["stages"].values())


def test_interrupted_run_redoes_only_unfinished_stages(first_run):
    out, result = first_run
    run_dir = Path(result["run_dir"])
    # Simulate a run that stopped after linkage: later stages left no marker or output.
    for stage in ["validate-linkage", "analyse", "validate-outputs", "report"]:
        (run_dir / MARKER_DIR / f"{stage}.json").unlink()
    shutil.rmtree(run_dir / "analysis")
    shutil.rmtree(run_dir / "report")
    again = triangulate_pipeline(**TINY, out=str(out))
    resumed = {name: summary["resumed"] for name, summary in again["stages"].items()}
    assert resumed == {
        "generate": True,
        "validate-sources": True,
        "link": True,
        "validate-linkage": False,
        "analyse": False,
        "validate-outputs": False,
        "report": False,
    }
    assert (Path(again["run_dir"]) / "analysis" / "published" / "overall.parquet").exists()
