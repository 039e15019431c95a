import math

import polars as pl

from quality_report.operational import (
    band_of,
    clerical_sample,
    clerical_summary,
    count_verdict,
    expected_vs_true,
    false_link_origins,
    pairs_needed,
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
    # Two pairs give an interval far wider than 20 points: nothing can be concluded.
    assert zero_to_five["verdict"] == "undecided: too few pairs"


def test_pairs_needed_and_count_verdicts_follow_the_stated_rules():
    # 1.96^2 * 0.25 / 0.1^2 = 96.04 -> 97 pairs at a 50% rate for a 20-point interval.
    assert pairs_needed(0.5) == 97
    assert pairs_needed(0.9) < pairs_needed(0.5)
    # Expected 100 with sd 5: 111 is beyond two sd, 109 is not.
    assert count_verdict(111, 100.0, 5.0) == "more than the model expects"
    assert count_verdict(109, 100.0, 5.0) == "as the model expects"
    assert count_verdict(80, 100.0, 5.0) == "fewer than the model expects"


def test_a_large_band_far_from_the_model_is_called_a_discrepancy():
    n = 400
    labelled = pl.DataFrame(
        {
            "source_l": ["census"] * n,
            "record_id_l": [f"C{i}" for i in range(n)],
            "source_r": ["gp"] * n,
            "record_id_r": [f"G{i}" for i in range(n)],
            "match_weight": [2.0] * n,
            "match_probability": [0.8] * n,
            "match_key": ["1"] * n,
            # Half are matches, against a model probability of 80%.
            "is_match": [i % 2 == 0 for i in range(n)],
        }
    )
    summary = clerical_summary(clerical_sample(labelled, per_band=200, seed=1), labelled)
    assert summary.row(0, named=True)["verdict"] == "model differs from review"


def test_a_target_is_met_only_when_the_whole_interval_clears_it():
    from quality_report.sections_quality import _verdict

    assert _verdict(0.9995, 0.9991, 0.999) == "met"
    assert _verdict(0.9995, 0.9985, 0.999) == "not shown (interval reaches below)"
    assert _verdict(0.998, 0.997, 0.999) == "not met"
    assert _verdict(None, None, 0.999) == "not measured"


def test_false_link_origins_by_hand():
    # Cluster A holds census C0 and GP G0 (person 1) and DWP D0 (person 2); cluster B holds
    # census C1 (person 3). At threshold 0.5: C0-G0 is a deterministic link (true), G0-D0 a
    # Splink link clustering accepted (false, expected 0.3), C1-G0 refused (false, expected
    # 0.4); C0-D0 was scored below the threshold, so that false pair in A is transitive.
    members = pl.DataFrame(
        {
            "source": ["census", "gp", "dwp", "census"],
            "record_id": ["C0", "G0", "D0", "C1"],
            "cluster_id": ["A", "A", "A", "B"],
            "true_person": ["P1", "P1", "P2", "P3"],
        }
    )
    labelled = pl.DataFrame(
        {
            "source_l": ["census", "gp", "census", "census"],
            "record_id_l": ["C0", "G0", "C1", "C0"],
            "source_r": ["gp", "dwp", "gp", "dwp"],
            "record_id_r": ["G0", "D0", "G0", "D0"],
            "match_probability": [1.0, 0.7, 0.6, 0.1],
            "match_key": ["exact", "0", "1", "2"],
            "is_match": [True, False, False, False],
        }
    )
    table = false_link_origins(labelled, members, 0.5)
    rows = {r["origin"].split(":")[0]: r for r in table.iter_rows(named=True)}
    scored = rows["scored pairs at or above the threshold"]
    assert scored["pairs"] == 3 and math.isclose(scored["expected_false"], 0.7)
    assert scored["true_false"] == 2
    refused = rows["refused by clustering"]
    assert (refused["pairs"], refused["true_false"]) == (1, 1)
    assert math.isclose(refused["expected_false"], 0.4)
    exact = table.row(2, named=True)
    assert exact["origin"] == "accepted: deterministic pass"
    assert (exact["pairs"], exact["expected_false"], exact["true_false"]) == (1, 0.0, 0)
    splink = table.row(3, named=True)
    assert splink["origin"] == "accepted: Splink"
    assert (splink["pairs"], splink["true_false"]) == (1, 1)
    assert math.isclose(splink["expected_false"], 0.3)
    transitive = rows["transitive"]
    assert (transitive["pairs"], transitive["true_false"]) == (1, 1)
    assert transitive["expected_false"] is None
    everything = rows["all pairs in clusters"]
    assert (everything["pairs"], everything["true_false"]) == (3, 2)
