"""The patterns of STUDY.md section 4 can be recovered from the truth tables.

One 60,000-person world; tolerances allow for its sampling error (about 35,000 working-age
people), so each check fails only if the planted pattern is missing or wrong.
"""

import datetime as dt
import sys
from pathlib import Path

import polars as pl
import pytest

from synthetic_data import WorldConfig, generate_world

sys.path.insert(0, str(Path(__file__).parent))
from truth_rates import monthly_panel, rates  # noqa: E402

PRE = [dt.date(2019, 11, 1), dt.date(2019, 12, 1), dt.date(2020, 1, 1), dt.date(2020, 2, 1)]
POST = [dt.date(2020, 6, 1), dt.date(2020, 9, 1), dt.date(2020, 12, 1), dt.date(2021, 3, 1)]


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    out = tmp_path_factory.mktemp("planted")
    generate_world(WorldConfig(), people=60_000, seed=2019, out_dir=out)
    return monthly_panel(out / "truth")


def _period(panel, by, months):
    return (
        panel.filter(pl.col("month").is_in(pl.Series(months)))
        .group_by(by)
        .agg((pl.col("claiming").mean() * 100).alias("pct"), pl.len().alias("n"))
    )


def _pre_post(panel, by):
    pre = _period(panel, by, PRE).rename({"pct": "pre", "n": "n_pre"})
    post = _period(panel, by, POST).rename({"pct": "post", "n": "n_post"})
    return pre.join(post, on=by).with_columns((pl.col("post") - pl.col("pre")).alias("rise"))


@pytest.mark.slow
def test_prevalence_before_and_step_then_plateau(panel):
    monthly = rates(panel, []).get_column("pct").to_list()
    pre, post = monthly[:4], monthly[7:]
    assert all(13.0 <= p <= 15.0 for p in pre), pre
    step = sum(post) / len(post) - sum(pre) / len(pre)
    assert 4.0 <= step <= 6.0, step
    # Flat before March 2020 and a plateau from June 2020.
    assert max(pre) - min(pre) < 0.6
    assert max(post) - min(post) < 1.0


@pytest.mark.slow
def test_deprivation_gradient(panel):
    q = _pre_post(panel, ["imd_quintile"]).sort("imd_quintile")
    ratio = q.get_column("pre")[0] / q.get_column("pre")[-1]
    assert 3.0 <= ratio <= 4.0, ratio
    assert q.get_column("pre").is_sorted(descending=True)


@pytest.mark.slow
def test_ethnic_ordering_and_widening_gaps(panel):
    e = _pre_post(panel, ["ethnic_group"])
    high = e.filter(pl.col("ethnic_group").is_in(["10", "11", "15"]))
    # Every large group (over 2,000 person-months, so its rate is precise) is below all three.
    large = e.filter(~pl.col("ethnic_group").is_in(["10", "11", "15"]) & (pl.col("n_pre") > 2000))
    assert large.height >= 4
    assert high.get_column("pre").min() > large.get_column("pre").max() + 3, (high, large)
    white_british = e.filter(pl.col("ethnic_group") == "01").row(0, named=True)
    for group in ("10", "11", "15"):
        row = e.filter(pl.col("ethnic_group") == group).row(0, named=True)
        assert row["rise"] > white_british["rise"], (group, row, white_british)


@pytest.mark.slow
def test_step_larger_for_young_adults(panel):
    a = {r["age_band"]: r["rise"] for r in _pre_post(panel, ["age_band"]).iter_rows(named=True)}
    assert min(a["16-24"], a["25-34"]) > max(a["35-49"], a["50-64"]) + 1.0, a


@pytest.mark.slow
def test_autism_and_learning_disability_high_and_flat(panel):
    f = {r["autism_ld"]: r for r in _pre_post(panel, ["autism_ld"]).iter_rows(named=True)}
    assert f[True]["pre"] > 50 and f[True]["post"] > 50
    assert abs(f[True]["rise"]) < 4.0
    assert f[False]["rise"] > 3.5
