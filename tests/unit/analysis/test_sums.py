"""The population counted a part at a time gives the whole population's estimates."""

import polars as pl
import pytest

from analysis import AnalysisConfig, estimate_all
from analysis.inputs import perfect_spine, read_sources
from analysis.population import build_study_population, population_parts, prepare_sources
from analysis.sums import add_flows

KEYS = ["estimate", "table", "group", "month"]


def test_every_person_is_in_one_part_and_the_flows_add_up(tiny_run):
    config = AnalysisConfig()
    sources = prepare_sources(read_sources(tiny_run), config)
    spine = perfect_spine(tiny_run)
    whole = build_study_population(sources, spine, config)
    parts = list(population_parts(sources, spine, config, parts=4))
    assert len(parts) == 4
    people = pl.concat([part.people.select("person_id") for part in parts])
    assert sorted(people["person_id"]) == sorted(whole.people["person_id"])
    assert [part.people["pid"].to_list() for part in parts if part.people.height] == [
        list(range(part.people.height)) for part in parts if part.people.height
    ], "pid runs from 0 in each part"
    assert add_flows([part.flow for part in parts]).equals(whole.flow)
    census_rows = [part.flow.filter(pl.col("step") == 0)["people"][0] for part in parts]
    assert sum(census_rows) == 10 and max(census_rows) < 10, "the census records are split"


def test_estimates_in_parts_equal_the_whole_population(tiny_run):
    whole = estimate_all(tiny_run, AnalysisConfig())
    # Ten census records, at most three per part: four parts.
    parts = estimate_all(tiny_run, AnalysisConfig(people_per_part=3))
    assert parts.person_months == whole.person_months
    assert parts.flows.equals(whole.flows)
    assert parts.linkage_rates.equals(whole.linkage_rates)
    left = whole.results.sort(KEYS)
    right = parts.results.sort(KEYS)
    assert {"linked", "ipw", "truth"} <= set(left["estimate"]) == set(right["estimate"])
    assert left.select(KEYS).equals(right.select(KEYS))
    for column, dtype in left.schema.items():
        if dtype == pl.Float64:
            assert right[column].is_null().equals(left[column].is_null()), column
            assert right[column].drop_nulls().to_list() == pytest.approx(
                left[column].drop_nulls().to_list(), rel=1e-9, abs=1e-9, nan_ok=True
            ), column
        else:
            assert right[column].equals(left[column]), column


@pytest.mark.slow
def test_spark_builds_the_hand_made_population_as_this_process_does(tiny_run):
    # The Spark twin on the hand-checked run (conftest: ten census people, three kept): the
    # executors build and count the parts; flows, rates and estimates are this process's.
    pytest.importorskip("pyspark", reason="the Spark twin needs the extra (make venv-spark)")
    from linkage.backends import SparkEngine
    from linkage.config import LinkageConfig

    whole = estimate_all(tiny_run, AnalysisConfig())
    engine = SparkEngine(
        LinkageConfig(backend="spark", spark_master="local[1]", spark_shuffle_partitions=3)
    )
    try:
        on_spark = estimate_all(tiny_run, AnalysisConfig(), engine=engine)
    finally:
        engine.close()
    assert on_spark.flows.equals(whole.flows)
    assert on_spark.flows.filter(pl.col("estimate") == "linked")["people"][-1] == 3
    assert on_spark.person_months == whole.person_months
    left, right = whole.results.sort(KEYS), on_spark.results.sort(KEYS)
    assert left.select(KEYS).equals(right.select(KEYS))
    for column in ("crude_pct", "asr_pct", "asr_var"):
        assert right[column].is_null().equals(left[column].is_null()), column
        assert right[column].drop_nulls().to_list() == pytest.approx(
            left[column].drop_nulls().to_list(), rel=1e-9, abs=1e-9
        ), column
