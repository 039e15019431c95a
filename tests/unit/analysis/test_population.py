import polars as pl
import pytest

from analysis.config import AnalysisConfig
from analysis.inputs import AnalysisInputError, perfect_spine, read_sources, read_spine
from analysis.monthly import person_months
from analysis.population import build_study_population, receives


@pytest.fixture
def population(tiny_run):
    return build_study_population(read_sources(tiny_run), perfect_spine(tiny_run), AnalysisConfig())


def test_sample_flow_removes_one_person_per_criterion(population):
    flow = population.flow
    assert flow["people"].to_list() == [10, 10, 9, 8, 7, 6, 5, 4, 3]
    assert flow["removed"].to_list() == [0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert flow["criterion"][-1].startswith("Aged 16 to 64")


def test_study_people_carry_census_characteristics(population):
    people = population.people.sort("person_id")
    assert people["person_id"].to_list() == ["PA", "PB", "PC"]
    assert people["imd_quintile"].to_list() == [5, 1, 1]
    assert people["region"].to_list() == ["London", "East of England", "East of England"]
    # C died 10 June 2020: June 2020 is month 7 and the person leaves then.
    assert people["exit_month"].to_list() == [17, 17, 7]
    assert people["has_autism"].to_list() == [False, True, False]


def test_person_months_follow_age_death_and_benefit_spells(population):
    pm = person_months(population).join(population.people.select("pid", "person_id"), on="pid")
    months = {person: sorted(frame["k"].to_list()) for (person,), frame in pm.group_by("person_id")}
    assert months["PA"] == list(range(17))
    assert months["PB"] == list(range(3, 17))  # 16 on 15 January 2020: counted from February
    assert months["PC"] == list(range(7))
    receiving = {
        person: sorted(frame.filter(pl.col("on_any"))["k"].to_list())
        for (person,), frame in pm.group_by("person_id")
    }
    assert receiving["PA"] == list(range(5, 17))  # UC from April 2020
    assert receiving["PB"] == [6, 7, 8]  # two DWP keys, one person
    assert receiving["PC"] == [0, 1, 2]  # ESA to January 2020; State Pension excluded
    b = pm.filter(pl.col("person_id") == "PB").sort("k")
    assert b.filter(receives("JSA"))["k"].to_list() == [6, 7]
    assert b.filter(receives("PIP"))["k"].to_list() == [7, 8]


def test_age_bands_are_recomputed_each_month(population):
    pm = person_months(population).join(population.people.select("pid", "person_id"), on="pid")
    a = pm.filter(pl.col("person_id") == "PA").sort("k")
    # A turns 40 on 15 June 2020: 39 on 1 June (band 35-39), 40 on 1 July (band 40-44).
    assert a.filter(pl.col("k") == 7)["band"].item() == 4
    assert a.filter(pl.col("k") == 8)["band"].item() == 5


def test_unlinked_dwp_record_counts_as_not_receiving(tiny_run):
    spine = perfect_spine(tiny_run).filter(pl.col("record_id") != "K01")
    population = build_study_population(read_sources(tiny_run), spine, AnalysisConfig())
    pm = person_months(population)
    assert pm.height == 38
    assert pm["on_any"].sum() == 6


def test_requiring_a_dwp_link_removes_people_without_one(tiny_run):
    spine = perfect_spine(tiny_run).filter(pl.col("record_id") != "K01")
    config = AnalysisConfig(require_dwp_link=True)
    population = build_study_population(read_sources(tiny_run), spine, config)
    assert population.flow["criterion"][-1] == "Linked to a DWP record"
    assert population.flow["people"][-1] == 2


def test_census_base_marks_linked_people_for_the_weighting_model(population):
    base = population.census_base
    # Census-only criteria keep A, B, C, F, G, J (H is too old): F and G are not linked.
    assert base.height == 6
    assert base["linked"].sum() == 4


def test_missing_column_is_a_clear_error(tiny_run):
    path = tiny_run / "linkage" / "spine.parquet"
    pl.read_parquet(path).drop("person_id").write_parquet(path)
    with pytest.raises(AnalysisInputError, match="spine.parquet: missing column"):
        read_spine(path)


def test_blank_census_sex_is_completed_from_the_gp_record(tiny_run):
    path = tiny_run / "sources" / "census.parquet"
    census = pl.read_parquet(path)
    census.with_columns(
        pl.when(pl.col("census_person_id") == "C01")
        .then(None)
        .otherwise(pl.col("sex"))
        .alias("sex")
    ).write_parquet(path)
    population = build_study_population(
        read_sources(tiny_run), perfect_spine(tiny_run), AnalysisConfig()
    )
    a = population.people.filter(pl.col("person_id") == "PA")
    assert a["sex"].item() == "1"  # GP record G01 says M
