"""The world-against-ONS table on a hand-made set of census records, counted by hand.

1,000 census records in four blocks (sex, age band, ethnic group, region, linked to GP):
A 100 men 20-29 Pakistani North West, 50 linked; B 400 men 45-54 White British North West,
250 linked; C 300 women 45-54 White British North West, 270 linked; D 200 women 20-29
White British London, 180 linked. Everyone is here, adult and linked to DWP.
"""

import math

import polars as pl
import pytest

from evaluation.intervals import wilson
from evaluation.world import GP_EXTRACT_CEILING, MINORITY, world_comparison, world_shares

BLOCKS = (
    (100, "Male", "20-29", "Pakistani", "North West", 50),
    (400, "Male", "45-54", "White British", "North West", 250),
    (300, "Female", "45-54", "White British", "North West", 270),
    (200, "Female", "20-29", "White British", "London", 180),
)


def _outcomes() -> pl.DataFrame:
    rows = []
    for size, sex, age, ethnic, region, linked in BLOCKS:
        for i in range(size):
            rows.append((sex, age, ethnic, region, i < linked))
    frame = pl.DataFrame(
        rows, schema=["sex", "age_band", "ethnic_group", "region", "linked_gp"], orient="row"
    )
    return frame.with_columns(
        pl.int_range(pl.len()).cast(pl.Utf8).alias("person_id"),
        pl.lit(True).alias("here_at_extract"),
        pl.lit(True).alias("adult_at_extract"),
        pl.lit(True).alias("in_gp"),
        pl.lit(True).alias("in_dwp"),
        pl.lit(True).alias("linked_dwp"),
    )


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return world_comparison(world_shares(_outcomes()))


def _row(table, measure, breakdown, group):
    return table.filter(
        (pl.col("measure") == measure)
        & (pl.col("breakdown") == breakdown)
        & (pl.col("group") == group)
    ).row(0, named=True)


def test_overall_gp_share_is_compared_with_ons_on_the_extract_scale(table):
    row = _row(table, "census_to_gp", "all", "all")
    assert (row["records"], row["count"]) == (1000, 750)
    assert row["ons_kind"] == "level" and row["ons_figure"] == pytest.approx(0.9575)
    assert row["reference"] == pytest.approx(0.9575 * 0.935 * 0.973)
    assert row["reference"] == pytest.approx(0.9575 * GP_EXTRACT_CEILING)
    _, lower, upper = wilson(750, 1000)
    assert row["gap"] == pytest.approx(0.75 - row["reference"])
    assert (row["gap_lower"], row["gap_upper"]) == pytest.approx(
        (lower - row["reference"], upper - row["reference"])
    )
    assert row["verdict"] == "unkinder"  # 75% (72.2-77.6%) against about 87.1%


def test_everyone_linked_to_dwp_is_kinder_than_ons(table):
    row = _row(table, "census_to_dwp", "all", "all")
    assert row["share"] == 1.0 and row["reference"] == pytest.approx(0.967)
    assert row["verdict"] == "kinder"


def _newcombe(k1, n1, k2, n2):
    p1, l1, u1 = wilson(k1, n1)
    p2, l2, u2 = wilson(k2, n2)
    d = p1 - p2
    return d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


@pytest.mark.parametrize(
    ("breakdown", "group", "count", "records", "rest_count", "rest_records", "verdict"),
    [
        ("sex", "Male", 300, 500, 450, 500, "as unkind"),  # 60% against 90%
        ("minority", MINORITY, 50, 100, 700, 900, "as unkind"),  # 50% against 77.8%
        ("london", "London", 180, 200, 570, 800, "kinder"),  # 90% against 71.3%
        ("age_band", "20-29", 230, 300, 520, 700, "no difference shown"),  # 76.7% vs 74.3%
    ],
)
def test_under_represented_groups_are_compared_with_everyone_else(
    table, breakdown, group, count, records, rest_count, rest_records, verdict
):
    row = _row(table, "census_to_gp", breakdown, group)
    assert (row["count"], row["records"], row["rest_records"]) == (count, records, rest_records)
    assert row["ons_kind"] == "below_rest" and row["ons_figure"] is None
    assert row["reference"] == pytest.approx(rest_count / rest_records)
    expected = _newcombe(count, records, rest_count, rest_records)
    assert (row["gap"], row["gap_lower"], row["gap_upper"]) == pytest.approx(expected)
    assert row["verdict"] == verdict


def test_every_ethnic_group_is_held_to_ons_floor(table):
    floor = 0.80 * GP_EXTRACT_CEILING  # about 72.8%
    pakistani = _row(table, "census_to_gp", "ethnic_group", "Pakistani")
    british = _row(table, "census_to_gp", "ethnic_group", "White British")
    assert pakistani["reference"] == pytest.approx(floor)
    assert pakistani["verdict"] == "unkinder"  # 50%, upper limit about 59.7%
    assert british["share"] == pytest.approx(700 / 900)
    assert british["verdict"] == "as unkind"  # 77.8%, lower limit about 75.0%


def test_dwp_minority_with_no_gap_is_no_difference(table):
    row = _row(table, "census_to_dwp", "minority", MINORITY)
    assert row["gap"] == 0.0 and row["verdict"] == "no difference shown"


def test_shares_without_an_ons_figure_carry_no_verdict(table):
    for measure, breakdown, group in (
        ("census_to_gp", "sex", "Female"),
        ("in_gp", "all", "all"),
        ("census_to_dwp", "ethnic_group", "Pakistani"),
    ):
        row = _row(table, measure, breakdown, group)
        assert row["ons_kind"] is None and row["verdict"] is None and row["reference"] is None
    assert table.height == world_shares(_outcomes()).height
