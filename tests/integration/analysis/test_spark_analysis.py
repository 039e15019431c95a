"""The analysis's population built and counted on Spark's executors gives the estimates the
Python process gives: the same flows and linkage rates, and every estimate equal to
floating-point addition (the parts' sums are added in another order).

A generated world; the linked spine is the truth's record map with one in ten GP records
cut loose (so linkage is imperfect and the weights have work), and a second spine stands
in for a threshold's. Spark is real and local (``local[2]``).
"""

import numpy as np
import polars as pl
import pytest

from analysis import AnalysisConfig, estimate_all
from linkage import LinkageConfig
from linkage.backends import SparkEngine
from synthetic_data import WorldConfig, generate_world

pytest.importorskip("pyspark", reason="the Spark backend needs the extra (make venv-spark)")

pytestmark = pytest.mark.slow

KEYS = ["estimate", "table", "group", "month"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    run = tmp_path_factory.mktemp("spark-analysis") / "run"
    generate_world(WorldConfig(), people=3000, seed=8, out_dir=run)
    record_map = pl.read_parquet(run / "truth" / "record_map.parquet")
    loose = (pl.col("source") == "gp") & pl.Series(
        np.random.default_rng(4).random(record_map.height) < 0.1
    )
    spine = record_map.with_columns(
        pl.when(loose)
        .then(pl.lit("U") + pl.col("record_id"))
        .otherwise("person_id")
        .alias("person_id")
    )
    spine.write_parquet(run / "linked_spine.parquet")
    return run


def _estimates(run, engine=None, **config):
    spine = run / "linked_spine.parquet"
    threshold = run / "truth" / "record_map.parquet"
    return estimate_all(
        run, AnalysisConfig(**config), spine=spine, threshold_spines={0.9: threshold}, engine=engine
    )


def _assert_same(left, right):
    assert right.person_months == left.person_months
    assert right.flows.equals(left.flows)
    assert right.linkage_rates.equals(left.linkage_rates)
    a, b = left.results.sort(KEYS), right.results.sort(KEYS)
    assert a.select(KEYS).equals(b.select(KEYS))
    for column, dtype in a.schema.items():
        if dtype == pl.Float64:
            assert b[column].is_null().equals(a[column].is_null()), column
            assert b[column].drop_nulls().to_numpy() == pytest.approx(
                a[column].drop_nulls().to_numpy(), rel=1e-9, abs=1e-9, nan_ok=True
            ), column
        else:
            assert b[column].equals(a[column]), column


def test_spark_parts_give_the_estimates_of_the_python_process(world):
    local = _estimates(world)
    assert {"linked", "ipw", "truth", "threshold_0.9"} <= set(local.results["estimate"])
    assert local.flows.filter(pl.col("estimate") == "linked")["people"][-1] > 1000
    engine = SparkEngine(LinkageConfig(backend="spark", spark_shuffle_partitions=2))
    try:
        # At most 700 census records per part: several parts, on two executor cores.
        on_spark = _estimates(world, engine, people_per_part=700)
        parts = len(list((engine.scratch / "analysis_parts" / "linked" / "census").glob("part=*")))
    finally:
        engine.close()
    assert parts > 2
    _assert_same(local, on_spark)


def test_parts_in_this_process_give_the_same_estimates(world):
    _assert_same(_estimates(world), _estimates(world, people_per_part=500))


def test_spark_connect_gives_the_same_estimates(world):
    # Through Spark Connect (a local Connect server, as a remote cluster is reached): the
    # executors' function and the parts' folders travel the same way.
    local = _estimates(world)
    engine = SparkEngine(
        LinkageConfig(backend="spark", spark_remote="local[1]", spark_shuffle_partitions=2)
    )
    try:
        on_connect = _estimates(world, engine)
    finally:
        engine.close()
    _assert_same(local, on_connect)
