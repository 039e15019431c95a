"""Benefit spells, November 2019 to March 2021, with the study's patterns planted.

The model, in words (parameters in ``world.benefits``):

* Before the pandemic each working-age person claims with probability ``p0``: a product of
  deprivation, ethnic group, age band, sex, condition and disability factors, scaled so the
  working-age mean is ``pre_pandemic_prevalence``. People with autism or a learning disability
  claim with probability ``autism_ld_prevalence`` instead. Claims that end are matched, in
  expectation, by new claims, so the level is flat.
* From ``step_start`` to ``step_end`` non-claimants start a claim with probability ``s``: a
  product of step factors (larger for 16-24 and 25-34, for deprived areas and for Bangladeshi,
  Pakistani and Black Caribbean people), scaled so the working-age rise is ``pandemic_step``.
  People with autism or a learning disability have no step. Most new claims continue to
  March 2021; a ``plateau_churn`` share end and are replaced, which keeps a plateau.
* Excluded benefits (State Pension, Pension Credit, Attendance Allowance, bereavement) are
  added so the analysis has to leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic_data.calendar import EXTRACT_DAY, NEVER, STUDY_START, YEAR, day
from synthetic_data.config import BenefitsSection, WorldConfig
from synthetic_data.frames import labels

AGE_BANDS = ("16-24", "25-34", "35-49", "50-64")
_BAND_EDGES = np.array([16, 25, 35, 50, 65])
#: Every benefit code; spells carry an index into this tuple until they are written.
BENEFITS: tuple[str, ...] = (
    "UC", "JSA", "ESA", "IS", "IB_SDA", "HB", "PIP", "DLA", "CA", "SP", "PC", "AA", "BB",
)  # fmt: skip
_B = {name: i for i, name in enumerate(BENEFITS)}
_STANDARD = np.array([_B[b] for b in ("UC", "JSA", "IS", "HB", "CA", "ESA", "DLA")])
_STANDARD_P = np.array([0.45, 0.09, 0.09, 0.1, 0.12, 0.1, 0.05])
_HEALTH = np.array([_B[b] for b in ("ESA", "PIP", "UC", "IB_SDA", "DLA", "IS")])
_HEALTH_P = np.array([0.35, 0.25, 0.2, 0.06, 0.09, 0.05])
_PANDEMIC = np.array([_B[b] for b in ("UC", "JSA", "ESA")])
_PANDEMIC_P = np.array([0.88, 0.08, 0.04])
_ETHNIC_CODES = [f"{i:02d}" for i in range(1, 19)]
#: Share of pre-pandemic claims that end within the window (each replaced, in expectation).
_CHURN = 0.10


@dataclass
class _Claims:
    """One way of claiming: who claims, and each person's first and last day of the claim."""

    who: np.ndarray
    start: np.ndarray
    end: np.ndarray


def _band(age: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(_BAND_EDGES, age, side="right") - 1, 0, 3)


def _uniform_days(rng: np.random.Generator, lo, hi, n: int) -> np.ndarray:
    lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi = np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,))
    return lo + np.floor(rng.random(n) * np.maximum(hi - lo, 1)).astype(np.int64)


def draw_benefit_spells(
    rng: np.random.Generator,
    config: WorldConfig,
    *,
    dob: np.ndarray,
    sex: np.ndarray,
    ethnic: np.ndarray,
    decile: np.ndarray,
    disability: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    conditions: pl.DataFrame,
) -> pl.DataFrame:
    """Truth benefit spells: ``person``, ``benefit``, ``start_day``, ``end_day`` (NEVER open)."""
    b = config.benefits
    autism_ld, health_factor = _health_flags(conditions, len(dob), b.condition_factors)
    raw = _claim_factors(b, dob, sex, ethnic, decile, disability) * health_factor
    # Who is of working age and living in England at the start, and who joins later.
    entry = np.maximum(start, dob + round(16 * YEAR))
    leave = np.minimum(end, dob + round(65 * YEAR))
    present0 = (entry <= STUDY_START) & (leave > STUDY_START)
    claim, replacement = _pre_pandemic_claims(
        rng, b, raw, autism_ld=autism_ld, entry=entry, leave=leave, present0=present0
    )
    step, late = _pandemic_claims(
        rng,
        b,
        dob=dob,
        ethnic=ethnic,
        decile=decile,
        entry=entry,
        leave=leave,
        autism_ld=autism_ld,
        before=(claim, replacement),
    )
    needs_health = (health_factor > 1.0) | (disability == 1) | autism_ld
    frames = [
        _spell_frame(claims, _standard_benefits(rng, claims.who, needs_health), end)
        for claims in (claim, replacement)
    ]
    frames += [
        _spell_frame(claims, _pandemic_benefits(rng, claims.who), end) for claims in (step, late)
    ]
    frames += _second_benefits(rng, claim, disability=disability, autism_ld=autism_ld, end=end)
    frames += _excluded_benefits(
        rng,
        b,
        dob=dob,
        start=start,
        end=end,
        decile=decile,
        disability=disability,
        present0=present0,
    )
    return _labelled_within_window(pl.concat(frames))


def _health_flags(
    conditions: pl.DataFrame, n: int, condition_factors: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Who has autism or a learning disability by the study start, and each person's product of
    the claim factors of their conditions then."""
    cond = conditions.filter(pl.col("onset_day") <= STUDY_START)
    autism_ld = np.zeros(n, dtype=bool)
    flags = cond.filter(pl.col("cluster").is_in(["AUTISM", "LD"])).get_column("person").to_numpy()
    autism_ld[flags] = True
    health_factor = np.ones(n)
    for cluster, factor in condition_factors.items():
        who = cond.filter(pl.col("cluster") == cluster).get_column("person").to_numpy()
        health_factor[who] *= factor
    return autism_ld, health_factor


def _claim_factors(
    b: BenefitsSection,
    dob: np.ndarray,
    sex: np.ndarray,
    ethnic: np.ndarray,
    decile: np.ndarray,
    disability: np.ndarray,
) -> np.ndarray:
    """Product of the ethnic group, deprivation, age band, sex and disability factors of the
    propensity to claim before the pandemic."""
    band = _band((STUDY_START - dob) / YEAR)
    eth_f = np.array([b.ethnic_factors[c] for c in _ETHNIC_CODES])[ethnic]
    dep_f = np.array(b.deprivation_factors)[decile - 1]
    age_f = np.array([b.age_factors[a] for a in AGE_BANDS])[band]
    sex_f = np.where(sex == 0, b.sex_factors["M"], b.sex_factors["F"])
    dis_f = np.array([b.disability_factors[k] for k in ("1", "2", "3")])[disability - 1]
    return eth_f * dep_f * age_f * sex_f * dis_f


def _pre_pandemic_claims(
    rng: np.random.Generator,
    b: BenefitsSection,
    raw: np.ndarray,
    *,
    autism_ld: np.ndarray,
    entry: np.ndarray,
    leave: np.ndarray,
    present0: np.ndarray,
) -> tuple[_Claims, _Claims]:
    """Claims before the pandemic, scaled to the configured prevalence, and the replacement
    claims that balance, in expectation, the ones that end."""
    n = len(raw)
    later = (entry > STUDY_START) & (entry <= EXTRACT_DAY) & (leave > entry)
    at_risk = present0 | later
    norm = present0 & ~autism_ld
    scale = b.pre_pandemic_prevalence * norm.sum() / max(raw[norm].sum(), 1e-9)
    p0 = np.minimum(raw * scale, 0.9)
    p0[autism_ld] = b.autism_ld_prevalence
    p0[~at_risk] = 0.0

    claim = rng.random(n) < p0
    since = STUDY_START - np.floor(rng.exponential(4.0, n) * YEAR).astype(np.int64)
    c_start = np.where(present0, np.maximum(since, entry), entry + rng.integers(0, 180, n))
    claim &= c_start <= EXTRACT_DAY
    ends = claim & ~autism_ld & (rng.random(n) < _CHURN)
    c_end = np.where(ends, _uniform_days(rng, STUDY_START, EXTRACT_DAY, n), NEVER)
    # Replacement claims among non-claimants balance the endings in expectation.
    repl_p = np.where(p0 < 1, _CHURN * p0 / np.maximum(1 - p0, 1e-9), 0.0)
    repl = present0 & ~claim & ~autism_ld & (rng.random(n) < repl_p)
    r_start = _uniform_days(rng, STUDY_START, EXTRACT_DAY, n)
    return _Claims(claim, c_start, c_end), _Claims(repl, r_start, np.full(n, NEVER))


def _pandemic_claims(
    rng: np.random.Generator,
    b: BenefitsSection,
    *,
    dob: np.ndarray,
    ethnic: np.ndarray,
    decile: np.ndarray,
    entry: np.ndarray,
    leave: np.ndarray,
    autism_ld: np.ndarray,
    before: tuple[_Claims, _Claims],
) -> tuple[_Claims, _Claims]:
    """The pandemic step among those not claiming when it starts, and the late claims that
    replace, in expectation, the step claims that end (a plateau)."""
    n = len(dob)
    step_day = day(b.step_start)
    step_end = day(b.step_end)
    claim, repl = before
    band1 = _band((step_day - dob) / YEAR)
    present1 = (entry <= step_day) & (leave > step_day)
    claiming_then = (claim.who & (claim.start <= step_day) & (claim.end > step_day)) | (
        repl.who & (repl.start <= step_day)
    )
    s_raw = (
        np.array([b.age_step_factors[a] for a in AGE_BANDS])[band1]
        * np.array([b.ethnic_step_factors[c] for c in _ETHNIC_CODES])[ethnic]
        * np.array(b.step_deprivation_factors)[decile - 1]
    )
    eligible1 = present1 & ~claiming_then & ~autism_ld
    s_scale = b.pandemic_step * present1.sum() / max(s_raw[eligible1].sum(), 1e-9)
    s = np.where(eligible1, np.minimum(s_raw * s_scale, 0.9), 0.0)
    step = rng.random(n) < s
    s_start = _uniform_days(rng, step_day, step_end, n)
    plateau_from = day("2020-09-01")
    s_ends = step & (rng.random(n) < b.plateau_churn)
    s_end = np.where(s_ends, _uniform_days(rng, plateau_from, EXTRACT_DAY, n), NEVER)
    late_p = np.where(eligible1 & ~step, b.plateau_churn * s / np.maximum(1 - s, 1e-9), 0.0)
    late = rng.random(n) < late_p
    late_start = _uniform_days(rng, step_end, EXTRACT_DAY, n)
    return _Claims(step, s_start, s_end), _Claims(late, late_start, np.full(n, NEVER))


def _standard_benefits(
    rng: np.random.Generator, mask: np.ndarray, needs_health: np.ndarray
) -> np.ndarray:
    """The main benefit of each claim of ``mask`` from the standard table, with
    health-related benefits for people who ``needs_health``."""
    health = needs_health[mask]
    out = rng.choice(_STANDARD, size=int(mask.sum()), p=_STANDARD_P)
    out[health] = rng.choice(_HEALTH, size=int(health.sum()), p=_HEALTH_P)
    return out


def _pandemic_benefits(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """The main benefit of each claim of ``mask`` made in the pandemic step (mostly UC)."""
    return rng.choice(_PANDEMIC, size=int(mask.sum()), p=_PANDEMIC_P)


def _same_benefit(mask: np.ndarray, name: str) -> np.ndarray:
    return np.full(int(mask.sum()), _B[name])


def _spell_frame(claims: _Claims, benefits: np.ndarray, end: np.ndarray) -> pl.DataFrame:
    """Spells of the people of ``claims.who``, cut at the day each person leaves England."""
    idx = np.flatnonzero(claims.who)
    return pl.DataFrame(
        {
            "person": idx.astype(np.int64),
            "benefit": benefits.astype(np.int64),
            "start_day": claims.start[idx].astype(np.int64),
            "end_day": np.minimum(claims.end[idx], end[idx]).astype(np.int64),
        }
    )


def _second_benefits(
    rng: np.random.Generator,
    claim: _Claims,
    *,
    disability: np.ndarray,
    autism_ld: np.ndarray,
    end: np.ndarray,
) -> list[pl.DataFrame]:
    """Second benefits alongside a main claim: Housing Benefit, or PIP for disabled claimants."""
    n = len(end)
    hb = claim.who & (rng.random(n) < 0.2)
    pip = claim.who & ((disability == 1) | autism_ld) & (rng.random(n) < 0.35)
    return [
        _spell_frame(_Claims(hb, claim.start, claim.end), _same_benefit(hb, "HB"), end),
        _spell_frame(_Claims(pip, claim.start, claim.end), _same_benefit(pip, "PIP"), end),
    ]


def _excluded_benefits(
    rng: np.random.Generator,
    b: BenefitsSection,
    *,
    dob: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    decile: np.ndarray,
    disability: np.ndarray,
    present0: np.ndarray,
) -> list[pl.DataFrame]:
    """State Pension, Pension Credit, Attendance Allowance and bereavement benefits: spells the
    analysis has to leave out."""
    n = len(dob)
    never = np.full(n, NEVER)
    pension_day = dob + round(66 * YEAR)
    sp = (pension_day <= EXTRACT_DAY) & (end > np.maximum(pension_day, STUDY_START))
    sp &= start <= EXTRACT_DAY
    sp_start = np.maximum(pension_day, start)
    pc = sp & (decile <= 5) & (rng.random(n) < 0.2)
    aa = sp & (disability <= 2) & (rng.random(n) < 0.25)
    aa_start = np.maximum(sp_start, STUDY_START - rng.integers(0, 2000, n))
    bb = present0 & (rng.random(n) < b.excluded_bereavement)
    bb_start = _uniform_days(rng, STUDY_START - 365, EXTRACT_DAY - 30, n)
    return [
        _spell_frame(_Claims(sp, sp_start, never), _same_benefit(sp, "SP"), end),
        _spell_frame(_Claims(pc, sp_start, never), _same_benefit(pc, "PC"), end),
        _spell_frame(_Claims(aa, aa_start, never), _same_benefit(aa, "AA"), end),
        _spell_frame(_Claims(bb, bb_start, bb_start + 548), _same_benefit(bb, "BB"), end),
    ]


def _labelled_within_window(spells: pl.DataFrame) -> pl.DataFrame:
    """Benefit codes for indices; spells that start in the window, with ``NEVER`` for the end
    of those still open at the extract day."""
    spells = spells.with_columns(
        labels(BENEFITS, spells.get_column("benefit").to_numpy()).alias("benefit")
    )
    return spells.filter(
        (pl.col("start_day") <= EXTRACT_DAY) & (pl.col("end_day") > pl.col("start_day"))
    ).with_columns(
        pl.when(pl.col("end_day") > EXTRACT_DAY)
        .then(NEVER)
        .otherwise(pl.col("end_day"))
        .alias("end_day")
    )
