"""End to end: the patterns planted in the synthetic world (STUDY.md section 4) come out of the
published (disclosure-controlled) tables.

A 200,000-person world from the real generator; its spine is the perfect one (this checks
the analysis, not the linkage: linkage's own tests check the spine). Tolerances are stated
beside each check. The deprivation ratio is planted on where people lived at the start of
the study but published, as in the study, by their 2011 Census area: nine years of moves
dilute it from about 3.3 to about 2.4, so the check allows 2 to 4.5.
"""

import datetime as dt

import polars as pl
import pytest

from analysis import AnalysisConfig, analyse_run
from synthetic_data import WorldConfig, generate_world

pytestmark = pytest.mark.slow

FEB20, JUN20, MAR21 = dt.date(2020, 2, 1), dt.date(2020, 6, 1), dt.date(2021, 3, 1)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    run = tmp_path_factory.mktemp("planted") / "run"
    generate_world(WorldConfig(), people=200_000, seed=20110327, out_dir=run)
    (run / "linkage").mkdir()
    pl.read_parquet(run / "truth" / "record_map.parquet").with_columns(
        pl.lit(1.0).alias("match_probability")
    ).write_parquet(run / "linkage" / "spine.parquet")
    analyse_run(run, run / "analysis", AnalysisConfig())
    folder = run / "analysis" / "published"
    return {path.stem: pl.read_parquet(path) for path in folder.glob("*.parquet")}


def _asr(tables, table, group, month, estimate="linked"):
    frame = tables[table].filter(
        (pl.col("group") == group) & (pl.col("month") == month) & (pl.col("estimate") == estimate)
    )
    assert frame["status"].item() == "published", (table, group, month)
    return frame["asr_pct"].item()


def _change(tables, table, group):
    frame = tables["change"].filter(
        (pl.col("table") == table) & (pl.col("group") == group) & (pl.col("estimate") == "linked")
    )
    assert frame["status"].item() == "published", (table, group)
    return frame.row(0, named=True)


def test_prevalence_step_and_plateau(published):
    overall = published["overall"].filter(pl.col("estimate") == "linked").sort("month")
    before = overall.filter(pl.col("month") <= FEB20)["asr_pct"]
    after = overall.filter(pl.col("month") >= JUN20)["asr_pct"]
    assert before.min() >= 12.0 and before.max() <= 16.0  # about 13-15% before
    step = after.mean() - before.mean()
    assert 3.5 <= step <= 6.5  # a step of about 4-6 points
    assert after.max() - after.min() <= 1.0  # then a plateau
    # The step starts in March-April 2020, not before.
    assert _asr(published, "overall", "All people", dt.date(2020, 2, 1)) - before[0] < 0.5
    # The planted prevalence lies inside the published interval in February 2020.
    feb = overall.filter(pl.col("month") == FEB20).row(0, named=True)
    assert feb["asr_lower"] <= feb["asr_pct"] <= feb["asr_upper"]
    assert feb["asr_upper"] - feb["asr_lower"] < 1.0


def test_deprivation_gradient(published):
    most = _asr(published, "by_imd_quintile", "1 (most deprived)", FEB20)
    least = _asr(published, "by_imd_quintile", "5 (least deprived)", FEB20)
    assert 2.0 <= most / least <= 4.5
    inequality = published["inequality_deprivation"].filter(
        (pl.col("estimate") == "linked") & (pl.col("month") == FEB20)
    )
    sii = inequality.filter(pl.col("measure") == "sii_pp").row(0, named=True)
    assert sii["lower"] > 0  # receipt rises with deprivation, beyond chance


def test_ethnic_groups_highest_and_rising_most(published):
    white_british = _change(published, "by_ethnic_group", "White British")
    for group in ("Bangladeshi", "Black Caribbean", "Pakistani"):
        change = _change(published, "by_ethnic_group", group)
        assert change["asr_before"] >= white_british["asr_before"] + 8.0, group
        assert change["abs_change"] > white_british["abs_change"], group
    gaps = published["ethnic_gaps"].filter(
        (pl.col("estimate") == "linked") & pl.col("group").is_in(["Bangladeshi", "Pakistani"])
    )
    assert (gaps["gap_widening"] > 0).all()


def test_larger_step_for_young_adults(published):
    changes = {
        band: _change(published, "by_age_band", band)["abs_change"]
        for band in ("16-24", "25-34", "35-49", "50-64")
    }
    assert min(changes["16-24"], changes["25-34"]) > max(changes["35-49"], changes["50-64"])


def test_autism_and_learning_disability_high_and_flat(published):
    none = _change(published, "by_condition", "No long-term condition")
    for group in ("Autism", "Learning disability"):
        change = _change(published, "by_condition", group)
        assert change["asr_before"] > 50.0, group
        # Flat: the interval of the change covers zero, while people without a condition rose.
        assert change["abs_change_lower"] <= 0.0 <= change["abs_change_upper"], group
    assert none["abs_change_lower"] > 3.0


def test_every_published_count_is_safe(published):
    for name, frame in published.items():
        for column in ("people", "recipients", "removed", "linked"):
            if column in frame.columns:
                values = frame[column].drop_nulls()
                if name == "sample_flow" and column == "removed":
                    # "0 removed" discloses nobody; any removal is still >= 10.
                    values = values.filter(values != 0)
                assert ((values >= 10) & (values % 5 == 0)).all(), (name, column)
