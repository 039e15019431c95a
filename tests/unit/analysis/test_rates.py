"""Hand-computed examples of the published measures and their intervals."""

import numpy as np
import polars as pl
import pytest

from analysis.rates import (
    age_standardised_rates,
    dobson_interval,
    poisson_limits,
    standard_weights,
    wilson_interval,
)

# Two bands: 10 of 100 and 40 of 200, with standard weights 0.4 and 0.6.
COUNTS = pl.DataFrame(
    {"month": [1, 1], "age_band": ["16-19", "20-24"], "n": [100, 200], "d": [10, 40]}
)
STANDARD = pl.DataFrame({"age_band": ["16-19", "20-24"], "weight": [4000.0, 6000.0]})


def test_wilson_interval_matches_hand_computation():
    # p = 0.1, n = 100, z = 1.96: centre 0.114797, half-width 0.059570.
    lower, upper = wilson_interval(np.array([10]), np.array([100]))
    assert lower[0] == pytest.approx(0.055227, abs=1e-5)
    assert upper[0] == pytest.approx(0.174367, abs=1e-5)


def test_poisson_limits_match_published_tables():
    # Exact 95% limits for 50 events (Garwood): 37.11 and 65.92.
    lower, upper = poisson_limits(np.array([50.0]))
    assert lower[0] == pytest.approx(37.11, abs=0.01)
    assert upper[0] == pytest.approx(65.92, abs=0.01)


def test_age_standardised_rate_and_dobson_interval_by_hand():
    result = age_standardised_rates(COUNTS, ["month"], STANDARD).row(0, named=True)
    # DSR = 0.4 * 0.1 + 0.6 * 0.2 = 0.16.
    assert result["asr_pct"] == pytest.approx(16.0)
    assert result["crude_pct"] == pytest.approx(50 / 300 * 100)
    assert result["people"] == 300 and result["recipients"] == 50
    # var(DSR) = 0.16 * 10 / 100^2 + 0.36 * 40 / 200^2 = 0.00052; scale sqrt(0.00052 / 50).
    scale = np.sqrt(0.00052 / 50)
    assert result["asr_lower"] == pytest.approx((0.16 + scale * (37.1110 - 50)) * 100, abs=1e-3)
    assert result["asr_upper"] == pytest.approx((0.16 + scale * (65.9193 - 50)) * 100, abs=1e-3)
    assert result["asr_var"] == pytest.approx(0.00052 * 1e4)


def test_weights_renormalise_over_the_bands_a_group_has():
    counts = COUNTS.with_columns(pl.Series("n", [100, 0]), pl.Series("d", [10, 0]))
    result = age_standardised_rates(counts, ["month"], STANDARD).row(0, named=True)
    assert result["asr_pct"] == pytest.approx(10.0)


def test_dobson_upper_limit_for_zero_events_uses_heaviest_band():
    lower, upper = dobson_interval(
        np.array([0.0]), np.array([0.0]), np.array([0.0]), max_weight_per_person=np.array([0.01])
    )
    assert lower[0] == 0.0
    assert upper[0] == pytest.approx(3.6889 * 0.01, abs=1e-4)


def test_esp2013_weights_give_16_to_19_the_15_to_19_weight():
    weights = standard_weights("esp2013")
    assert weights["age_band"].to_list()[0] == "16-19"
    assert weights["weight"][0] == 5500.0
    assert weights["weight"].sum() == 64_500.0
    assert weights.height == 10


def test_study_standard_is_the_study_age_distribution():
    weights = standard_weights("study", study_counts=COUNTS)
    result = age_standardised_rates(COUNTS, ["month"], weights).row(0, named=True)
    # Standardising to the population's own age mix gives back the crude rate.
    assert result["asr_pct"] == pytest.approx(result["crude_pct"])


def test_unknown_standard_is_a_clear_error():
    with pytest.raises(ValueError, match="valid options: esp2013, study"):
        standard_weights("who2000")


def test_weighted_estimate_with_unit_weights_has_binomial_variance():
    counts = COUNTS.with_columns(
        pl.col("n").cast(pl.Float64).alias("sw"),
        pl.col("d").cast(pl.Float64).alias("swy"),
        pl.col("n").cast(pl.Float64).alias("sw2"),
        pl.col("d").cast(pl.Float64).alias("sw2y"),
    )
    result = age_standardised_rates(counts, ["month"], STANDARD, weighted=True).row(0, named=True)
    assert result["asr_pct"] == pytest.approx(16.0)
    # var = 0.16 * 0.1 * 0.9 / 100 + 0.36 * 0.2 * 0.8 / 200 = 0.000432.
    half = 1.959964 * np.sqrt(0.000432)
    assert result["asr_lower"] == pytest.approx((0.16 - half) * 100, abs=1e-4)
    assert result["asr_upper"] == pytest.approx((0.16 + half) * 100, abs=1e-4)


def test_weighted_proportion_uses_the_weights():
    # Four people with weights 1, 1, 2, 2; the first and third receive: p = 3 / 6.
    counts = pl.DataFrame(
        {
            "month": [1],
            "age_band": ["16-19"],
            "n": [4],
            "d": [2],
            "sw": [6.0],
            "swy": [3.0],
            "sw2": [10.0],
            "sw2y": [5.0],
        }
    )
    result = age_standardised_rates(counts, ["month"], STANDARD, weighted=True).row(0, named=True)
    assert result["asr_pct"] == pytest.approx(50.0)
    # sum(w^2 (y - p)^2) / W^2 = (0.25 + 0.25 + 1 + 1) / 36.
    assert result["asr_var"] == pytest.approx(2.5 / 36 * 1e4)
