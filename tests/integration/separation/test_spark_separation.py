"""Separation as Spark jobs writes the analysis inputs the Python process writes, file for
file: the same keyed hashes, months of birth, rows in the same order, and the threshold
spines re-clustered on Spark equal to polars' (from the saved accepted links, or from the
saved predictions when the accepted links do not reach the lowest threshold).

A generated world linked on DuckDB, then separated twice with the same key: once in this
process, once on a real local Spark (``local[2]``).
"""

import json
import shutil

import polars as pl
import pytest

from linkage import LinkageConfig, link_sources
from runcore.runs import RunFolder
from separation.stage import RECORD, separate_linked_run
from synthetic_data import WorldConfig, generate_world

pytest.importorskip("pyspark", reason="the Spark backend needs the extra (make venv-spark)")

pytestmark = pytest.mark.slow

KEY = "0123456789abcdef-spark-separation"
THRESHOLDS = (0.5, 0.9, 0.99)
SPARK = LinkageConfig(backend="spark", spark_shuffle_partitions=2, seed=1)


@pytest.fixture(scope="module")
def linked_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("separation-world")
    generate_world(WorldConfig(), people=600, seed=8, out_dir=run)
    link_sources(run / "sources", run / "linkage", LinkageConfig(seed=1))
    return run


def _separated(run, monkeypatch, thresholds, linkage=None):
    """Separate ``run`` and move its analysis inputs aside; their frames and record."""
    monkeypatch.setenv("TRIANGULATE_LINKAGE_KEY", KEY)
    folder = RunFolder.in_place(run)
    summary = separate_linked_run(folder, thresholds, demo=False, linkage=linkage)
    assert summary["reused"] is False
    written = folder.analysis_inputs
    frames = {
        path.relative_to(written).as_posix(): pl.read_parquet(path)
        for path in sorted(written.rglob("*.parquet"))
    }
    record = json.loads((written / RECORD).read_text())
    shutil.rmtree(written)
    return frames, record


def test_spark_writes_the_same_analysis_inputs(linked_run, monkeypatch):
    local, local_record = _separated(linked_run, monkeypatch, THRESHOLDS)
    spark, spark_record = _separated(linked_run, monkeypatch, THRESHOLDS, SPARK)
    assert sorted(spark) == sorted(local)
    assert {f"spines/threshold_{t}.parquet" for t in THRESHOLDS} <= set(local)
    for name, frame in local.items():
        assert frame.height > 0, name
        assert spark[name].schema == frame.schema, name
        assert spark[name].equals(frame), name
    assert spark_record == local_record
    census = spark["sources/census.parquet"]
    assert census.get_column("date_of_birth").dt.day().is_in([1, 2]).all()
    assert census.get_column("census_person_id").str.len_chars().eq(64).all()


def test_spark_reclusters_from_the_predictions_below_the_saved_links(linked_run, monkeypatch):
    # Without the saved accepted links both engines cluster the predictions again.
    saved = linked_run / "linkage" / "accepted_links.parquet"
    aside = linked_run / "accepted_links.parquet"
    shutil.move(saved, aside)
    try:
        local, _ = _separated(linked_run, monkeypatch, (0.9,))
        spark, _ = _separated(linked_run, monkeypatch, (0.9,), SPARK)
    finally:
        shutil.move(aside, saved)
    spine = "spines/threshold_0.9.parquet"
    assert spark[spine].equals(local[spine])
    people = spark[spine].get_column("person_id").n_unique()
    assert 0 < people < spark[spine].height, "linked records share a person"


def test_spark_connect_writes_the_same_analysis_inputs(linked_run, monkeypatch):
    # Through Spark Connect (a local Connect server): the key travels inside the function
    # the executors run, as it would to a remote cluster.
    connect = LinkageConfig(
        backend="spark", spark_remote="local[1]", spark_shuffle_partitions=2, seed=1
    )
    local, _ = _separated(linked_run, monkeypatch, (0.9,))
    remote, _ = _separated(linked_run, monkeypatch, (0.9,), connect)
    assert sorted(remote) == sorted(local)
    for name, frame in local.items():
        assert remote[name].equals(frame), name
