import math

import polars as pl

from quality_report.operational import (
    band_of,
    clerical_sample,
    clerical_summary,
    expected_vs_true,
)


def _labelled():
    return pl.DataFrame(
        {
            "source_l": ["census"] * 6,
            "record_id_l": [f"C{i}" for i in range(6)],
            "source_r": ["gp"] * 6,
            "record_id_r": [f"G{i}" for i in range(6)],
            "match_weight": [math.inf, 12.0, 3.0, 1.0, -2.0, -8.0],
            "match_probability": [1.0, 0.9, 0.8, 0.6, 0.2, 0.01],
            "match_key": ["exact", "0", "1", "1", "2", "3"],
            "is_match": [True, True, False, True, True, False],
        }
    )


def test_expected_and_true_counts_by_hand():
    row = expected_vs_true(_labelled(), [0.7]).row(0, named=True)
    assert row["pairs_above"] == 3 and row["pairs_below"] == 3
    assert math.isclose(row["expected_false_above"], 0.0 + 0.1 + 0.2)
    assert row["true_false_above"] == 1
    assert math.isclose(row["expected_missed_below"], 0.6 + 0.2 + 0.01)
    assert row["true_missed_below"] == 2


def test_bands():
    bands = _labelled().select(band_of(pl.col("match_weight"), pl.col("match_key"))).to_series()
    assert bands.to_list() == [
        "stage 1 matchkey",
        "10 to 15",
        "0 to 5",
        "0 to 5",
        "below 0",
        "below 0",
    ]


def test_clerical_sample_is_stratified_and_repeatable():
    labelled = _labelled()
    first = clerical_sample(labelled, per_band=1, seed=3)
    again = clerical_sample(labelled, per_band=1, seed=3)
    assert first.equals(again)
    assert sorted(first.get_column("band").to_list()) == sorted(
        ["stage 1 matchkey", "10 to 15", "0 to 5", "below 0"]
    )
    summary = clerical_summary(clerical_sample(labelled, per_band=5, seed=3), labelled)
    zero_to_five = summary.filter(pl.col("band") == "0 to 5").row(0, named=True)
    assert (zero_to_five["pairs_in_band"], zero_to_five["reviewed"], zero_to_five["matches"]) == (
        2,
        2,
        1,
    )
    assert math.isclose(zero_to_five["mean_probability"], 0.7)
