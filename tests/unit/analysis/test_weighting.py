"""The linkage model: exact on a saturated case, close to the truth on simulated data."""

import numpy as np
import polars as pl
import pytest

from analysis.weighting import fit_logistic, linkage_rates, linkage_weights


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
    weights = linkage_weights(_base(linked, sex))
    assert weights.height == 125
    men = weights.filter(pl.col("pid") < 100)
    women = weights.filter(pl.col("pid") >= 100)
    assert men["weight"].to_numpy() == pytest.approx(np.full(80, 1 / 0.8), rel=1e-5)
    assert women["weight"].to_numpy() == pytest.approx(np.full(45, 1 / 0.9), rel=1e-5)
    # Weighted, the linked men stand for all 100 men and the linked women for all 50.
    assert men["weight"].sum() == pytest.approx(100, rel=1e-5)


def test_logistic_fit_recovers_simulated_coefficients():
    rng = np.random.default_rng(7)
    x = np.column_stack([np.ones(40_000), rng.integers(0, 2, 40_000), rng.normal(size=40_000)])
    truth = np.array([1.0, -0.8, 0.5])
    y = rng.random(40_000) < 1 / (1 + np.exp(-(x @ truth)))
    beta = fit_logistic(x, y.astype(float), np.ones(40_000))
    assert beta == pytest.approx(truth, abs=0.06)


def test_linkage_rates_table_has_wilson_limits():
    linked = [True] * 80 + [False] * 20
    rates = linkage_rates(_base(linked, ["1"] * 100))
    row = rates.filter(pl.col("breakdown") == "sex").row(0, named=True)
    assert (row["group"], row["people"], row["linked"]) == ("Male", 100, 80)
    assert row["linked_pct"] == pytest.approx(80.0)
    assert row["linked_lower"] < 80.0 < row["linked_upper"]
