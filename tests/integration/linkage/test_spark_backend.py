"""The Spark backend links a generated world as DuckDB does: same artefacts, same links.

Runs Splink on a real local Spark (``local[2]``, few shuffle partitions) with the packaged
model, as both backends do below ``min_records_to_train`` records, so any difference comes
from the engines (and the dialect translation), not from training.
"""

import json

import polars as pl
import pytest

from evaluation.linkage import evaluate_linkage, overall_f1
from linkage import LinkageConfig, link_sources, spine_at_threshold
from synthetic_data import WorldConfig, generate_world

pytest.importorskip("pyspark", reason="the Spark backend needs the extra (make venv-spark)")

pytestmark = pytest.mark.slow

ARTEFACTS = {
    "model.json",
    "predictions.parquet",
    "spine.parquet",
    "records.parquet",
    "linkage_summary.json",
    "charts/match_weights.html",
    "charts/m_u_parameters.html",
}


@pytest.fixture(scope="module")
def both_backends(tmp_path_factory):
    run = tmp_path_factory.mktemp("spark-world")
    generate_world(WorldConfig(), people=600, seed=8, out_dir=run)
    out = {}
    for backend in ("duckdb", "spark"):
        config = LinkageConfig(backend=backend, spark_shuffle_partitions=2, seed=1)
        summary = link_sources(run / "sources", run / f"linkage-{backend}", config)
        evaluate_linkage(run / f"linkage-{backend}", run / "truth")
        out[backend] = (run / f"linkage-{backend}", summary)
    return out


def test_spark_writes_the_same_artefacts(both_backends):
    for backend, (folder, _) in both_backends.items():
        written = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert ARTEFACTS <= written, (backend, ARTEFACTS - written)
    duck, spark = (
        pl.read_parquet(both_backends[b][0] / "predictions.parquet") for b in both_backends
    )
    assert spark.columns == duck.columns
    assert spark.schema == duck.schema
    duck_spine, spark_spine = (
        pl.read_parquet(both_backends[b][0] / "spine.parquet") for b in both_backends
    )
    assert spark_spine.columns == duck_spine.columns
    assert (
        spark_spine.sort("source", "record_id")
        .select("source", "record_id")
        .equals(duck_spine.sort("source", "record_id").select("source", "record_id"))
    )


def test_spark_model_is_saved_in_the_models_own_sql(both_backends):
    duck, spark = (
        json.loads((both_backends[b][0] / "model.json").read_text()) for b in both_backends
    )
    conditions = [
        [level["sql_condition"] for level in c["comparison_levels"]] for c in spark["comparisons"]
    ]
    assert conditions == [
        [level["sql_condition"] for level in c["comparison_levels"]] for c in duck["comparisons"]
    ]
    assert "jaro_winkler_similarity" in json.dumps(conditions)  # DuckDB SQL, reusable anywhere
    rules = spark["blocking_rules_to_generate_predictions"]
    assert {r["sql_dialect"] for r in rules} == {"duckdb"}


def test_spark_scores_the_same_pairs_with_the_same_probabilities(both_backends):
    keys = ["unique_id_l", "unique_id_r"]
    duck, spark = (
        pl.read_parquet(both_backends[b][0] / "predictions.parquet") for b in both_backends
    )
    assert duck.height > 100
    joined = duck.join(spark, on=keys, how="full", suffix="_spark", coalesce=True)
    only_one = joined.filter(
        pl.col("match_probability").is_null() | pl.col("match_probability_spark").is_null()
    )
    assert only_one.height <= 0.002 * duck.height, only_one
    both = joined.drop_nulls(["match_probability", "match_probability_spark"])
    differ = both.filter(
        (pl.col("match_probability") - pl.col("match_probability_spark")).abs() > 1e-6
    )
    assert differ.height <= 0.01 * both.height, differ


def test_spark_f1_within_a_tenth_of_a_point_of_duckdb(both_backends):
    f1 = {b: overall_f1(folder) for b, (folder, _) in both_backends.items()}
    assert f1["duckdb"] > 0.9, f1
    assert abs(f1["spark"] - f1["duckdb"]) <= 0.001, f1
    assert both_backends["spark"][1]["records"] == both_backends["duckdb"][1]["records"]


def test_spark_clusters_the_saved_links_exactly_as_polars_does(both_backends):
    # The Spark run clusters on Spark; polars re-clustering its own saved links at its
    # threshold must give the same spine, row for row.
    folder, summary = both_backends["spark"]
    spine = pl.read_parquet(folder / "spine.parquet")
    assert spine.equals(spine_at_threshold(folder, summary["threshold"]))
    figures = json.loads((folder / "linkage_summary.json").read_text())
    assert figures["clusters"] == spine.get_column("person_id").n_unique()
    assert figures["largest_component"] >= int(max(figures["cluster_sizes"], key=int))


def test_spark_connect_links_the_world_as_duckdb_does(both_backends):
    # The whole link through Spark Connect (a local Connect server: the client has no
    # SparkContext, Splink persists instead of checkpointing): its spine's clusters must be
    # DuckDB's, within the same 0.001 of F1 as the classic session.
    duck_folder, _ = both_backends["duckdb"]
    out = duck_folder.parent / "linkage-connect"
    config = LinkageConfig(
        backend="spark", spark_remote="local[1]", spark_shuffle_partitions=2, seed=1
    )
    summary = link_sources(duck_folder.parent / "sources", out, config)
    evaluate_linkage(out, duck_folder.parent / "truth")
    assert summary["records"] == both_backends["duckdb"][1]["records"]
    assert abs(overall_f1(out) - overall_f1(duck_folder)) <= 0.001
    duck, connect = (_pairs(folder / "spine.parquet") for folder in (duck_folder, out))
    assert len(duck & connect) >= 0.999 * max(len(duck), len(connect))


def _pairs(spine_path):
    """Pairs of records (source and record id) the spine puts in one cluster."""
    spine = pl.read_parquet(spine_path).select(
        pl.concat_str("source", "record_id", separator=":").alias("record"), "person_id"
    )
    joined = spine.join(spine, on="person_id").filter(pl.col("record") < pl.col("record_right"))
    return set(joined.select("record", "record_right").iter_rows())
