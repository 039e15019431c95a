"""Hand-computed examples of the published measures and their intervals."""

import numpy as np
import polars as pl
import pytest

from analysis.rates import (
    age_standardised_rates,
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


Z = 1.959964


def _hand_wilson(p: float, n: float) -> tuple[float, float]:
    """Wilson limits written out: (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    denominator = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denominator
    half = Z * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / denominator
    return centre - half, centre + half


def test_standardised_rate_gets_a_binomial_wilson_interval_at_its_effective_size():
    result = age_standardised_rates(COUNTS, ["month"], STANDARD).row(0, named=True)
    # DSR = 0.4 * 0.1 + 0.6 * 0.2 = 0.16.
    assert result["asr_pct"] == pytest.approx(16.0)
    assert result["crude_pct"] == pytest.approx(50 / 300 * 100)
    assert result["people"] == 300 and result["recipients"] == 50
    # Binomial: var = 0.16 * 0.1 * 0.9 / 100 + 0.36 * 0.2 * 0.8 / 200 = 0.000432, so the
    # effective size is 0.16 * 0.84 / 0.000432 = 311.11 and by hand the limits are
    # 12.3445% and 20.4845%.
    assert result["asr_var"] == pytest.approx(0.000432 * 1e4)
    assert result["asr_lower"] == pytest.approx(12.3445, abs=1e-3)
    assert result["asr_upper"] == pytest.approx(20.4845, abs=1e-3)
    lower, upper = _hand_wilson(0.16, 0.16 * 0.84 / 0.000432)
    assert result["asr_lower"] == pytest.approx(lower * 100, abs=1e-6)
    assert result["asr_upper"] == pytest.approx(upper * 100, abs=1e-6)
    # Crude: the plain Wilson interval of 50 of 300.
    lower, upper = _hand_wilson(50 / 300, 300)
    assert result["crude_lower"] == pytest.approx(lower * 100, abs=1e-6)


def test_zero_recipients_use_the_sample_size():
    counts = COUNTS.with_columns(pl.Series("d", [0, 0]))
    result = age_standardised_rates(counts, ["month"], STANDARD).row(0, named=True)
    assert result["asr_pct"] == 0.0 and result["asr_lower"] == pytest.approx(0.0, abs=1e-12)
    # Wilson upper limit of 0 of 300: z^2 / (300 + z^2) = 1.2643%.
    assert result["asr_upper"] == pytest.approx(1.2643, abs=1e-3)


def _esp_counts(people: dict[str, tuple[int, int]], month: int = 1) -> pl.DataFrame:
    bands = list(people)
    return pl.DataFrame(
        {
            "month": [month] * len(bands),
            "age_band": bands,
            "n": [people[b][0] for b in bands],
            "d": [people[b][1] for b in bands],
        }
    )


ESP_BANDS = [
    "16-19",
    "20-24",
    "25-29",
    "30-34",
    "35-39",
    "40-44",
    "45-49",
    "50-54",
    "55-59",
    "60-64",
]


def test_one_person_in_a_thin_band_cannot_carry_its_weight():
    # 30% receipt in every band of 100 people, and a 30-34 band of one recipient. The old
    # renormalised five-year standardisation gave that person the whole 30-34 weight (rate
    # about 37%). The rule pools 25-29 and 30-34 into 25-34 (31 of 101) with the fixed ESP
    # weights 11500, 12500, 21000 and 19500 of 64500:
    # 0.3 * 52000 / 64500 + 31 / 101 * 12500 / 64500 = 0.301343.
    people = {band: (100, 30) for band in ESP_BANDS} | {"30-34": (1, 1)}
    result = age_standardised_rates(
        _esp_counts(people), ["month"], standard_weights("esp2013")
    ).row(0, named=True)
    assert result["broad_bands"] is True
    assert result["asr_pct"] == pytest.approx(30.1343, abs=1e-3)


def test_full_bands_use_five_year_weights_and_an_empty_broad_band_gives_no_rate():
    people = {band: (100, 10 * (i + 1)) for i, band in enumerate(ESP_BANDS)}
    full = age_standardised_rates(_esp_counts(people), ["month"], standard_weights("esp2013")).row(
        0, named=True
    )
    weights = [5500, 6000, 6000, 6500, 7000, 7000, 7000, 7000, 6500, 6000]
    expected = sum(w * 0.1 * (i + 1) for i, w in enumerate(weights)) / 64500
    assert full["broad_bands"] is False
    assert full["asr_pct"] == pytest.approx(expected * 100)
    # Nobody aged 50-64: with fixed weights the rate is undefined, never renormalised.
    young = {band: people[band] for band in ESP_BANDS[:7]}
    result = age_standardised_rates(_esp_counts(young), ["month"], standard_weights("esp2013")).row(
        0, named=True
    )
    assert result["asr_pct"] is None and result["asr_lower"] is None
    assert result["crude_pct"] == pytest.approx(280 / 700 * 100)


def test_band_rule_is_decided_for_the_whole_series():
    full = {band: (100, 30) for band in ESP_BANDS}
    thin = full | {"60-64": (5, 1)}
    counts = pl.concat(
        [
            _esp_counts(full).with_columns(pl.lit(0).alias("k")),
            _esp_counts(thin).with_columns(pl.lit(1).alias("k")),
        ]
    ).with_columns(pl.lit("g").alias("group"))
    result = age_standardised_rates(counts, ["group", "k"], standard_weights("esp2013"))
    assert result["broad_bands"].to_list() == [True, True]
    assert result["asr_pct"][0] == pytest.approx(30.0)


def test_low_reliability_when_either_side_has_fewer_than_20_people():
    counts = pl.DataFrame(
        {
            "month": [1, 2, 3],
            "age_band": ["16-19"] * 3,
            "n": [100, 100, 100],
            "d": [19, 20, 81],
        }
    )
    result = age_standardised_rates(counts, ["month"], STANDARD)
    assert result["low_reliability"].to_list() == [True, False, True]


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
    # var = 0.16 * 0.1 * 0.9 / 100 + 0.36 * 0.2 * 0.8 / 200 = 0.000432: the same method
    # as the unweighted estimate gives the same interval.
    plain = age_standardised_rates(COUNTS, ["month"], STANDARD).row(0, named=True)
    assert result["asr_var"] == pytest.approx(0.000432 * 1e4)
    for column in ("asr_lower", "asr_upper", "crude_lower", "crude_upper"):
        assert result[column] == pytest.approx(plain[column], abs=1e-9)


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


def test_age_band_group_is_standardised_over_its_own_bands():
    # 16-24: 10 of 100 at 16-19 and 30 of 100 at 20-24; ESP weights 5500 and 6000:
    # (5500 * 0.1 + 6000 * 0.3) / 11500 = 0.204348.
    counts = pl.DataFrame(
        {
            "breakdown": ["age_band", "age_band"],
            "group": ["16-24", "16-24"],
            "age_band": ["16-19", "20-24"],
            "n": [100, 100],
            "d": [10, 30],
        }
    )
    result = age_standardised_rates(
        counts, ["breakdown", "group"], standard_weights("esp2013")
    ).row(0, named=True)
    assert result["broad_bands"] is False
    assert result["asr_pct"] == pytest.approx(20.4348, abs=1e-3)
