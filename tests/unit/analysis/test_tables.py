"""Margins of the monthly tables and the secondary suppression they drive."""

import datetime as dt

import polars as pl

from analysis.config import AnalysisConfig
from analysis.tables import monthly_margins, publish_monthly, threshold_label

MONTH = dt.date(2020, 2, 1)


def _results(rows):
    frame = pl.DataFrame(
        rows, schema=["table", "breakdown", "group", "people", "recipients"], orient="row"
    )
    return frame.with_columns(
        pl.lit(3).alias("k"),
        pl.lit(MONTH).alias("month"),
        pl.lit("linked").alias("estimate"),
        (pl.col("recipients") / pl.col("people") * 100).alias("crude_pct"),
        (pl.col("recipients") / pl.col("people") * 100).alias("asr_pct"),
        (pl.col("recipients") / pl.col("people") * 90).alias("asr_lower"),
        (pl.col("recipients") / pl.col("people") * 110).alias("asr_upper"),
    )


ROWS = [
    ("overall", "all", "All people", 1000, 200),
    ("by_ethnic_group_5", "ethnic_group_5", "White", 700, 140),
    ("by_ethnic_group_5", "ethnic_group_5", "Asian", 300, 60),
    ("by_ethnic_group", "ethnic_group", "White British", 650, 130),
    ("by_ethnic_group", "ethnic_group", "Gypsy or Irish Traveller", 8, 2),
    ("by_ethnic_group", "ethnic_group", "White Irish", 42, 8),
    ("by_ethnic_group", "ethnic_group", "Pakistani", 200, 40),
    ("by_ethnic_group", "ethnic_group", "Bangladeshi", 100, 20),
]


def test_margins_pair_partitions_with_totals_and_parents():
    results = _results(ROWS)
    margins = monthly_margins(results)
    members = {
        margin: sorted(results["group"].gather(frame["cell"]).to_list())
        for (margin,), frame in margins.group_by("margin")
    }
    assert members["linked|3|by_ethnic_group|White"] == [
        "Gypsy or Irish Traveller",
        "White",
        "White British",
        "White Irish",
    ]
    assert members["linked|3|by_ethnic_group|Asian"] == ["Asian", "Bangladeshi", "Pakistani"]
    assert "All people" in members["linked|3|by_ethnic_group_5"]


def test_lone_suppressed_ethnic_group_takes_a_second_in_its_parent_group():
    published = publish_monthly(_results(ROWS), AnalysisConfig()).published
    status = dict(zip(published["group"], published["status"], strict=True))
    assert status["Gypsy or Irish Traveller"] == "[c]"  # 8 people
    assert status["White Irish"] == "[c]"  # 8 recipients, and the smallest White partner
    # The Asian groups are unaffected; the totals stay published.
    assert status["Pakistani"] == status["Bangladeshi"] == "published"
    assert status["All people"] == status["White"] == "published"


def test_threshold_labels_match_the_contract_pattern():
    assert threshold_label(0.9) == "threshold_0.9"
    assert threshold_label(0.999) == "threshold_0.999"
