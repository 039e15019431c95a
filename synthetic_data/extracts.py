"""The three extracts before recording errors, each as its organisation would hold it.

Each builder returns the extract's contract columns plus helper columns (``_row``,
``_person``, ``_quality``, ``_origin``, previous address and surname) that the noise
functions use and the writer drops.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic_data.blocks import Block
from synthetic_data.calendar import CENSUS_DAY, EXTRACT_DAY, NEVER, STUDY_START, YEAR
from synthetic_data.config import GroupMultipliers, WorldConfig
from synthetic_data.frames import labels
from synthetic_data.noise.base import QUALITY, ROW_ID
from synthetic_data.places import Places
from synthetic_data.population import KIND_CENSUS, KIND_IMMIGRANT
from synthetic_data.reference import LONDON

_ETHNIC = [f"{i:02d}" for i in range(1, 19)]


def _with_row_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Number the rows (``_row``) and mark them as originals (``_dup`` false)."""
    return frame.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW_ID), pl.lit(False).alias("_dup")
    )


def group_factor(
    multipliers: GroupMultipliers,
    *,
    sex: np.ndarray,
    age: np.ndarray,
    ethnic: np.ndarray,
    mover: np.ndarray,
    london: np.ndarray,
    decile: np.ndarray,
) -> np.ndarray:
    """Product of the group multipliers that apply to each record."""
    minority = np.isin(ethnic, [_ETHNIC.index(c) for c in multipliers.minority_groups])
    young_men = (sex == 0) & (age >= 20) & (age < 40)
    return (
        np.where(young_men, multipliers.young_men, 1.0)
        * np.where(sex == 0, multipliers.men, 1.0)
        * np.where((age >= 20) & (age < 30), multipliers.young_adults, 1.0)
        * np.where(minority, multipliers.minority, 1.0)
        * np.where(mover, multipliers.movers, 1.0)
        * np.where(london, multipliers.london, 1.0)
        * np.where(decile <= 2, multipliers.deprived, 1.0)
    )


def quality_factor(
    rng: np.random.Generator, config: WorldConfig, people: pl.DataFrame, reference_day: int
) -> np.ndarray:
    """Per-record quality factor: lognormal noise times group multipliers, mean 1."""
    if people.height == 0:
        return np.zeros(0)
    q = config.quality
    base = np.exp(rng.normal(0.0, q.sigma, people.height))
    factor = base * _people_factor(q.multipliers, people, reference_day)
    return factor / factor.mean()


def _people_factor(
    multipliers: GroupMultipliers, people: pl.DataFrame, reference_day: int
) -> np.ndarray:
    """Each person's product of group multipliers, from the columns the extracts carry."""
    return group_factor(
        multipliers,
        sex=people.get_column("_sex").to_numpy(),
        age=(reference_day - people.get_column("_dob").to_numpy()) / YEAR,
        ethnic=people.get_column("_eth").to_numpy(),
        mover=people.get_column("_mover").to_numpy(),
        london=(people.get_column("_cur_region").to_numpy() == LONDON),
        decile=people.get_column("_cur_decile").to_numpy(),
    )


def _group_rate(
    mean_rate: float, multipliers: GroupMultipliers, people: pl.DataFrame, reference_day: int
) -> np.ndarray:
    """Per-person probability: ``mean_rate`` spread over the groups by their multipliers.

    The factors are renormalised to mean 1 over ``people``, so ``mean_rate`` stays the
    average and the multipliers only move it between groups (capped at 0.95).
    """
    factor = _people_factor(multipliers, people, reference_day)
    return np.minimum(mean_rate * factor / max(float(factor.mean()), 1e-9), 0.95)


def census_extract(
    block: Block, config: WorldConfig, people: pl.DataFrame
) -> tuple[pl.DataFrame, np.ndarray]:
    """Census 2011 records, and for every person whether they responded.

    Non-response is about ``non_response`` overall and uneven (young men, some minority groups,
    London, deprived areas), clustered within households. Some non-respondents appear as
    wholly imputed records: a real address with donor characteristics and no name.
    """
    rng = block.rng("census")
    c = config.census
    residents = people.filter(pl.col("_kind") == KIND_CENSUS)
    n = residents.height
    factor = group_factor(
        c.multipliers,
        sex=residents.get_column("_sex").to_numpy(),
        age=(CENSUS_DAY - residents.get_column("_dob").to_numpy()) / YEAR,
        ethnic=residents.get_column("_eth").to_numpy(),
        mover=np.zeros(n, dtype=bool),
        london=residents.get_column("_2011_london").to_numpy(),
        decile=residents.get_column("_2011_decile").to_numpy(),
    )
    p = np.minimum(c.non_response * factor / max(factor.mean(), 1e-9), 0.95)
    hh = residents.get_column("_hh_local").to_numpy()
    u_hh = rng.random(int(hh.max()) + 1 if n else 0)[hh] if n else np.zeros(0)
    u = np.where(rng.random(n) < c.household_clustering, u_hh, rng.random(n))
    responded = u >= p
    imputed = ~responded & (rng.random(n) < c.wholly_imputed_share)
    keep = responded | imputed
    usual = rng.random(n) >= c.not_usual_resident

    # Donor values for imputed records: an age within five years, a sex and disability drawn
    # from the population, the ethnic group of the household most of the time.
    jitter = rng.integers(-5 * 365, 5 * 365, n)
    donor_sex = rng.integers(0, 2, n)
    donor_dis = labels(("1", "2", "3"), rng.choice(3, size=n, p=[0.08, 0.09, 0.83]))
    donor_eth = labels(_ETHNIC, rng.integers(0, 18, n))
    imp = pl.Series(imputed)
    quality = quality_factor(block.rng("quality", 0), config, residents, CENSUS_DAY)
    frame = residents.select(
        pl.col("_household").alias("household_id"),
        pl.when(~imp).then(pl.col("forename")).alias("forename"),
        pl.when(~imp).then(pl.col("middle_names")).alias("middle_names"),
        pl.when(~imp).then(pl.col("surname_2011")).alias("surname"),
        pl.when(~imp)
        .then(pl.col("date_of_birth"))
        .otherwise(
            pl.min_horizontal(
                pl.col("date_of_birth") + pl.duration(days=pl.Series(jitter)),
                pl.lit(CENSUS_DAY).cast(pl.Date),
            )
        )
        .alias("date_of_birth"),
        pl.when(imp)
        .then(labels(("1", "2"), donor_sex))
        .otherwise(pl.when(pl.col("sex") == "M").then(pl.lit("1")).otherwise(pl.lit("2")))
        .alias("sex"),
        pl.col("_census_postcode").alias("postcode"),
        pl.col("_census_lsoa11cd").alias("lsoa11cd"),
        pl.when(imp & pl.Series(rng.random(n) < 0.3))
        .then(donor_eth)
        .otherwise(pl.col("ethnic_group"))
        .alias("ethnic_group"),
        pl.when(imp).then(donor_dis).otherwise(pl.col("disability")).alias("disability"),
        pl.Series("usual_resident", usual),
        imp.alias("wholly_imputed"),
        pl.col("person").alias("_person"),
        pl.col("_origin"),
        pl.lit(None, dtype=pl.Utf8).alias("_prev_postcode"),
        pl.lit(None, dtype=pl.Utf8).alias("_prev_lsoa"),
        pl.lit(None, dtype=pl.Utf8).alias("_prev_surname"),
        pl.Series(QUALITY, quality),
    ).filter(pl.Series(keep))
    frame = _with_row_ids(frame)
    responded_people = np.zeros(people.height, dtype=bool)
    responded_people[residents.get_column("person").to_numpy()[responded]] = True
    return frame, responded_people


def gp_extract(
    block: Block, config: WorldConfig, people: pl.DataFrame, places: Places
) -> pl.DataFrame:
    """GP registrations at 31 March 2021 (GDPPR-like coverage).

    Included: people registered now, people who died from 1 November 2019, and "ghosts" who
    emigrated but were never deregistered. Excluded: people never registered (more often
    young men), type-1 opt-outs, and patients of practices that do not supply data.
    """
    rng = block.rng("gp")
    g = config.gp
    n = people.height
    dob = people.get_column("_dob").to_numpy()
    death = people.get_column("_death").to_numpy()
    emig = people.get_column("_emig").to_numpy()
    start = people.get_column("_start").to_numpy()
    # Who is missing from the NHS register follows ONS's under-represented groups.
    unregistered = rng.random(n) < _group_rate(g.unregistered, g.multipliers, people, EXTRACT_DAY)
    alive_here = (death == NEVER) & (emig == NEVER) & (start <= EXTRACT_DAY)
    recent_death = (death >= STUDY_START) & (death <= EXTRACT_DAY)
    ghost = (emig < NEVER) & (rng.random(n) < g.ghost_share)
    opt_out = rng.random(n) < g.opt_out
    cur_lsoa = people.get_column("_cur_lsoa").to_numpy()
    practice = places.practice[cur_lsoa]
    covered = places.practice_in_extract[practice]
    keep = (alive_here | recent_death | ghost) & ~unregistered & ~opt_out & covered

    cur_from = people.get_column("_cur_from").to_numpy()
    lag = rng.integers(0, 120, n)
    registered = np.maximum(cur_from, dob) + lag
    registered = np.minimum(registered, np.minimum(EXTRACT_DAY, death))
    dereg = np.where(death < NEVER, np.minimum(death + rng.integers(0, 30, n), EXTRACT_DAY), NEVER)
    prev_index = people.get_column("_prev_lsoa_index").fill_null(0).to_numpy()
    quality = quality_factor(block.rng("quality", 1), config, people, EXTRACT_DAY)
    frame = people.select(
        pl.col("nhs_number"),
        pl.col("forename_2021").alias("forename"),
        pl.col("middle_names"),
        pl.col("surname_2021").alias("surname"),
        pl.col("date_of_birth"),
        pl.col("sex"),
        pl.col("_cur_postcode").alias("postcode"),
        pl.col("_cur_lsoa11cd").alias("lsoa11cd"),
        places.practice_codes.gather(practice).alias("practice_code"),
        pl.Series("registration_date", registered).cast(pl.Int32).cast(pl.Date),
        pl.when(pl.Series(dereg < NEVER))
        .then(pl.Series(dereg))
        .cast(pl.Int32)
        .cast(pl.Date)
        .alias("deregistration_date"),
        pl.col("date_of_death"),
        pl.col("person").alias("_person"),
        pl.col("_origin"),
        pl.col("_prev_postcode"),
        pl.col("_prev_lsoa"),
        pl.when(pl.col("surname_2011") != pl.col("surname_2021"))
        .then(pl.col("surname_2011"))
        .alias("_prev_surname"),
        places.practice_codes.gather(places.practice[prev_index]).alias("_prev_practice"),
        pl.Series(QUALITY, quality),
    ).filter(pl.Series(keep))
    return _with_row_ids(frame)


def dwp_extract(
    block: Block, config: WorldConfig, people: pl.DataFrame, claimants: np.ndarray
) -> pl.DataFrame:
    """DWP customer records: everyone given a NINO (and every claimant)."""
    rng = block.rng("dwp")
    n = people.height
    has_nino = people.get_column("nino").is_not_null().to_numpy()
    kind = people.get_column("_kind").to_numpy()
    # Who DWP cannot find follows the groups whose matches ONS miss most often.
    missing = _group_rate(
        1.0 - config.dwp.nino_coverage, config.dwp.multipliers, people, EXTRACT_DAY
    )
    coverage = 1.0 - missing - np.where(kind == KIND_IMMIGRANT, 0.05, 0.0)
    keep = (has_nino & (rng.random(n) < coverage)) | claimants
    quality = quality_factor(block.rng("quality", 2), config, people, EXTRACT_DAY)
    frame = people.select(
        pl.col("nino"),
        pl.col("forename_2021").alias("forename"),
        pl.col("surname_2021").alias("surname"),
        pl.col("date_of_birth"),
        pl.when(pl.col("sex") == "M").then(pl.lit("Male")).otherwise(pl.lit("Female")).alias("sex"),
        pl.col("_cur_postcode").alias("postcode"),
        pl.col("person").alias("_person"),
        pl.col("_origin"),
        pl.col("_prev_postcode"),
        pl.col("_prev_lsoa"),
        pl.when(pl.col("surname_2011") != pl.col("surname_2021"))
        .then(pl.col("surname_2011"))
        .alias("_prev_surname"),
        pl.Series(QUALITY, quality),
    ).filter(pl.Series(keep))
    return _with_row_ids(frame)
