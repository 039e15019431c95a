"""The whole pipeline with the Spark linkage backend gives the DuckDB run's spine and tables.

The same command line as the reference run, with ``--backend spark`` (a real local Spark,
``local[2]``): at 3,000 people both backends link with the packaged model, so any
difference comes from the engines, and the published tables must be the same.
"""

from __future__ import annotations

import subprocess

import polars as pl
import pytest
from cli_runs import RUN_TIMEOUT, published_run, run_command

pytest.importorskip("pyspark", reason="the Spark backend needs the extra (make venv-spark)")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark_run(tmp_path_factory, cli_environment):
    out = tmp_path_factory.mktemp("spark-run")
    result = subprocess.run(
        [*run_command(out), "--backend", "spark"],
        env=cli_environment,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return published_run(out)


def _linked_pairs(run_dir) -> set[tuple[str, str]]:
    spine = pl.read_parquet(run_dir / "linkage" / "spine.parquet").select(
        pl.format("{}:{}", "source", "record_id").alias("record"), "person_id"
    )
    pairs = spine.join(spine, on="person_id").filter(pl.col("record") < pl.col("record_right"))
    return set(pairs.select("record", "record_right").iter_rows())


def test_spark_spine_agrees_with_duckdb(spark_run, reference_run):
    duck, spark = _linked_pairs(reference_run.run_dir), _linked_pairs(spark_run)
    assert len(duck) > 1000
    assert len(duck & spark) >= 0.999 * len(duck | spark), (len(duck - spark), len(spark - duck))


def test_spark_run_publishes_the_same_tables(spark_run, reference_run):
    published = reference_run.run_dir / "analysis" / "published"
    tables = sorted(p.relative_to(published) for p in published.rglob("*.csv"))
    assert tables
    for table in tables:
        duck = pl.read_csv(published / table, infer_schema=False)
        spark = pl.read_csv(spark_run / "analysis" / "published" / table, infer_schema=False)
        assert spark.equals(duck), table
