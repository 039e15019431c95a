"""Linkage that fails unevenly biases the naive estimate; inverse-probability weighting by
census characteristics removes most of that bias (a world from the real generator)."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from analysis import AnalysisConfig, estimate_all
from analysis.reference import lsoa_lookup
from synthetic_data import WorldConfig, generate_world

pytestmark = pytest.mark.slow

FEB20 = dt.date(2020, 2, 1)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    run = tmp_path_factory.mktemp("bias") / "run"
    generate_world(WorldConfig(), people=60_000, seed=7, out_dir=run)
    record_map = pl.read_parquet(run / "truth" / "record_map.parquet")
    census = pl.read_parquet(
        run / "sources" / "census.parquet", columns=["census_person_id", "lsoa11cd"]
    )
    # Missed GP links: 45% of people whose census area is among the most deprived fifth of
    # LSOAs (where receipt is highest), 5% elsewhere. The naive estimate then undercounts
    # deprived people, so it is biased downwards; deprivation is in the weighting model.
    deprived = (
        census.join(lsoa_lookup(), on="lsoa11cd", how="left")
        .join(
            record_map.filter(pl.col("source") == "census"),
            left_on="census_person_id",
            right_on="record_id",
        )
        .select("person_id", (pl.col("imd_quintile") == 1).fill_null(False).alias("deprived"))
    )
    rng = np.random.default_rng(3)
    spine = record_map.join(deprived, on="person_id", how="left").with_columns(
        pl.Series("u", rng.random(record_map.height))
    )
    missed = (pl.col("source") == "gp") & (
        pl.col("u") < pl.when(pl.col("deprived")).then(0.45).otherwise(0.05)
    )
    spine = spine.with_columns(
        pl.when(missed)
        .then(pl.lit("U") + pl.col("record_id"))
        .otherwise(pl.col("person_id"))
        .alias("person_id")
    ).select("source", "record_id", "person_id")
    estimates = estimate_all(run, AnalysisConfig(), spine=spine)
    return estimates.results.filter((pl.col("table") == "overall") & (pl.col("month") == FEB20))


def test_weighting_removes_most_of_the_bias(results):
    asr = dict(zip(results["estimate"], results["asr_pct"], strict=True))
    naive_bias = asr["linked"] - asr["truth"]
    weighted_bias = asr["ipw"] - asr["truth"]
    assert naive_bias < -0.4  # deprived people, more often claimants, went missing
    assert abs(weighted_bias) < 0.5 * abs(naive_bias)


def test_calibration_to_census_margins_removes_most_of_the_bias_too(results):
    # Deprivation quintile is one of the raked margins, so the missed deprived people are
    # stood for by the deprived people who linked, with no model of being linked.
    asr = dict(zip(results["estimate"], results["asr_pct"], strict=True))
    naive_bias = asr["linked"] - asr["truth"]
    assert abs(asr["calibrated"] - asr["truth"]) < 0.5 * abs(naive_bias)
