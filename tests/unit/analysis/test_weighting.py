"""The linkage model: exact on a saturated case, close to the truth on simulated data."""

import numpy as np
import polars as pl
import pytest

from analysis.weighting import (
    COVARIATES,
    add_patterns,
    calibration_weights,
    census_patterns,
    fit_logistic,
    linkage_rates,
    linkage_weights,
    person_weights,
)


def _base(linked, sex):
    n = len(linked)
    return pl.DataFrame(
        {
            "pid": [i if link else None for i, link in enumerate(linked)],
            "linked": linked,
            "age_2019": [30] * n,
            "sex": sex,
            "ethnic_group": ["01"] * n,
            "disability": ["3"] * n,
            "imd_quintile": pl.Series([3] * n, dtype=pl.Int8),
            "region": ["London"] * n,
        }
    )


def test_saturated_model_reproduces_observed_linkage_rates():
    # Men: 80 of 100 linked; women: 45 of 50 linked.
    linked = [True] * 80 + [False] * 20 + [True] * 45 + [False] * 5
    sex = ["1"] * 100 + ["2"] * 50
    patterns = census_patterns(_base(linked, sex))
    assert patterns.select("sex", "people", "linked", "kept").rows() == [
        ("Female", 50, 45, 45),
        ("Male", 100, 80, 80),
    ]
    weights = linkage_weights(patterns).join(patterns, on="sex")
    women, men = weights.row(0, named=True), weights.row(1, named=True)
    assert men["weight"] == pytest.approx(1 / 0.8, rel=1e-5)
    assert women["weight"] == pytest.approx(1 / 0.9, rel=1e-5)
    # Weighted, the linked men stand for all 100 men and the linked women for all 50.
    assert men["weight"] * men["kept"] == pytest.approx(100, rel=1e-5)


def test_logistic_fit_recovers_simulated_coefficients():
    rng = np.random.default_rng(7)
    x = np.column_stack([np.ones(40_000), rng.integers(0, 2, 40_000), rng.normal(size=40_000)])
    truth = np.array([1.0, -0.8, 0.5])
    y = rng.random(40_000) < 1 / (1 + np.exp(-(x @ truth)))
    beta = fit_logistic(x, y.astype(float), np.ones(40_000))
    assert beta == pytest.approx(truth, abs=0.06)


def test_linkage_rates_table_has_wilson_limits():
    linked = [True] * 80 + [False] * 20
    rates = linkage_rates(census_patterns(_base(linked, ["1"] * 100)))
    row = rates.filter(pl.col("breakdown") == "sex").row(0, named=True)
    assert (row["group"], row["people"], row["linked"]) == ("Male", 100, 80)
    assert row["linked_pct"] == pytest.approx(80.0)
    assert row["linked_lower"] < 80.0 < row["linked_upper"]


def _census_base(n=3000, seed=5):
    # Linkage depends on sex and region, so unweighted margins are off and raking has work.
    rng = np.random.default_rng(seed)
    sex = rng.choice(["1", "2"], n)
    region = rng.choice(["London", "North East", "South West"], n)
    rate = 0.9 - 0.2 * (sex == "1") - 0.2 * (region == "London")
    linked = rng.random(n) < rate
    return pl.DataFrame(
        {
            "pid": [i if link else None for i, link in enumerate(linked)],
            "linked": linked,
            "age_2019": rng.integers(16, 65, n),
            "sex": sex,
            "ethnic_group": rng.choice(["01", "09", "14"], n),
            "disability": rng.choice(["1", "3"], n),
            "imd_quintile": pl.Series(rng.integers(1, 6, n), dtype=pl.Int8),
            "region": region,
        }
    )


def test_calibration_reproduces_every_census_margin():
    from analysis.weighting import _covariate_labels

    base = _census_base()
    patterns = census_patterns(base)
    weights = calibration_weights(patterns)
    assert weights.height == patterns.filter(pl.col("kept") > 0).height
    people = _covariate_labels(base)
    linked = people.filter(pl.col("linked")).join(weights, on=list(COVARIATES))
    assert linked.height == int(base["linked"].sum())
    for covariate in ("age_band", "sex", "ethnic_group", "region"):
        census = dict(people.group_by(covariate).agg(pl.len()).iter_rows())
        weighted = dict(linked.group_by(covariate).agg(pl.col("weight").sum()).iter_rows())
        for group, count in census.items():
            assert abs(weighted[group] - count) < 1e-6 * count, (covariate, group)


def test_pattern_counts_add_up_over_parts_of_the_census_base():
    base = _census_base()
    parts = [census_patterns(base.slice(0, 1000)), census_patterns(base.slice(1000))]
    assert add_patterns(parts).equals(census_patterns(base))


def test_each_study_person_gets_the_weight_of_their_pattern():
    # Born 15 June 1980: 39 on 1 November 2019 (band 35-39); born 2010: under 16, so in the
    # youngest band as the census base counts them; region and sex decide the pattern.
    people = pl.DataFrame(
        {
            "pid": [1, 0],
            "sex": ["1", "2"],
            "ethnic_group": ["01", "01"],
            "disability": ["3", "3"],
            "imd_quintile": pl.Series([3, 3], dtype=pl.Int8),
            "region": ["London", "London"],
            "birth_year": [1980, 2010],
            "birth_month": [6, 1],
            "birth_day": [15, 1],
        }
    )
    common = {"ethnic_group": "White British", "disability": "Not limited"}
    common |= {"imd_quintile": "3", "region": "London"}
    pattern_weights = pl.DataFrame(
        [
            {"age_band": "35-39", "sex": "Male", **common, "weight": 1.5},
            {"age_band": "16-19", "sex": "Female", **common, "weight": 2.5},
        ]
    )
    out = person_weights(people, pattern_weights)
    assert out.rows() == [(0, 2.5), (1, 1.5)]


def test_calibration_with_one_covariate_is_the_census_over_linked_ratio():
    from analysis.weighting import _rake_once

    weight = np.ones(4)
    codes = np.array(["a", "a", "a", "b"])
    # Census: 6 in a, 3 in b; linked: 3 in a, 1 in b -> weights 2 and 3.
    out, off = _rake_once(weight, codes, {"a": 6, "b": 3})
    assert out.tolist() == [2.0, 2.0, 2.0, 3.0]
    assert off == 2.0


def test_a_census_group_without_linked_people_is_left_out_of_the_margins():
    base = _census_base(n=600)
    # Two census people of unknown sex, neither linked: nobody can stand for them.
    extra = base.head(2).with_columns(
        pl.lit(None, dtype=pl.UInt32).alias("pid").cast(base["pid"].dtype),
        pl.lit(False).alias("linked"),
        pl.lit("9").alias("sex"),
    )
    with_unknown = pl.concat([base, extra])
    patterns = census_patterns(with_unknown)
    weights = calibration_weights(patterns).join(patterns, on=list(COVARIATES))
    assert weights.filter(pl.col("sex") == "Unknown").height == 0
    assert (weights["weight"] * weights["kept"]).sum() == pytest.approx(base.height, rel=1e-6)
