"""Monthly counts of the tiny run, checked against the people in conftest.py by hand."""

import polars as pl
import pytest

from analysis.config import AnalysisConfig
from analysis.inputs import perfect_spine, read_sources
from analysis.monthly import monthly_counts, person_months
from analysis.population import build_study_population


@pytest.fixture
def counts(tiny_run):
    population = build_study_population(
        read_sources(tiny_run), perfect_spine(tiny_run), AnalysisConfig()
    )
    return monthly_counts(person_months(population))


def _cells(counts, table, k):
    frame = counts.filter((pl.col("table") == table) & (pl.col("k") == k))
    return {
        (row["group"], row["age_band"]): (row["n"], row["d"]) for row in frame.iter_rows(named=True)
    }


def test_april_2020_overall(counts):
    # April 2020 (k = 5): A is 39 and on UC; B is 16; C is 60 and off ESA since January.
    assert _cells(counts, "overall", 5) == {
        ("All people", "35-39"): (1, 1),
        ("All people", "16-19"): (1, 0),
        ("All people", "60-64"): (1, 0),
    }


def test_conditions_against_none(counts):
    cells = _cells(counts, "by_condition", 5)
    assert cells[("Autism", "16-19")] == (1, 0)
    assert cells[("No long-term condition", "35-39")] == (1, 1)
    assert cells[("No long-term condition", "60-64")] == (1, 0)
    assert not any(group == "Cancer" for group, _ in cells)


def test_benefit_types_share_the_denominator(counts):
    cells = _cells(counts, "by_benefit", 7)  # June 2020: A on UC, B on JSA and PIP
    assert cells[("Universal Credit", "35-39")] == (1, 1)
    assert cells[("Jobseeker's Allowance", "16-19")] == (1, 1)
    assert cells[("Personal Independence Payment", "16-19")] == (1, 1)
    assert cells[("Personal Independence Payment", "35-39")] == (1, 0)


def test_partitions_add_up_to_the_total(counts):
    totals = counts.group_by("table", "k").agg(pl.col("n").sum(), pl.col("d").sum())
    overall = totals.filter(pl.col("table") == "overall").drop("table")
    for table in ("by_imd_quintile", "by_ethnic_group", "by_sex", "by_age_band", "by_region"):
        part = totals.filter(pl.col("table") == table).drop("table")
        assert part.sort("k").equals(overall.sort("k")), table
    quintile = (
        counts.filter((pl.col("table") == "by_imd_quintile") & (pl.col("k") == 5))
        .group_by("group")
        .agg(pl.col("n").sum())
    )
    # A lives in London (decile 9); B and C in Jaywick (decile 1).
    assert dict(zip(quintile["group"], quintile["n"], strict=True)) == {
        "5 (least deprived)": 1,
        "1 (most deprived)": 2,
    }
