"""Long-term conditions recorded in primary care, with onset dates.

Each cluster has a lifetime risk, an onset-age distribution, and multipliers by sex,
deprivation and (where the evidence supports it) ethnic group. A condition exists in the truth
tables once its onset date has passed, so prevalence rises with age as it does in practice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from synthetic_data.calendar import EXTRACT_DAY, YEAR, birth_year
from synthetic_data.config import WorldConfig

CLUSTERS: tuple[str, ...] = ("AUTISM", "LD", "SMI", "DEPANX", "DIABETES", "RESP", "CVD", "CANCER")

#: SNOMED CT concept ids used for each cluster's codes in the GP extract.
SNOMED_CODES: dict[str, tuple[str, ...]] = {
    "AUTISM": ("35919005", "43614003", "23560001", "408856003"),
    "LD": ("110359009", "86765009", "61152003", "40700009"),
    "SMI": ("58214004", "13746004", "69322001", "191526005"),
    "DEPANX": ("35489007", "370143000", "197480006", "21897009"),
    "DIABETES": ("44054006", "46635009", "73211009"),
    "RESP": ("195967001", "13645005", "233604007"),
    "CVD": ("22298006", "53741008", "230690007", "84114007"),
    "CANCER": ("363346000", "254837009", "363358000", "399068003"),
}

_SOUTH_ASIAN = ("09", "10", "11")


@dataclass(frozen=True)
class ClusterModel:
    """Risk model of one cluster."""

    lifetime_risk: float
    onset_mean: float
    onset_sd: float
    onset_min: float
    male: float
    female: float
    most_deprived: float  # multiplier in decile 1, falling linearly to ``least_deprived``
    least_deprived: float
    ethnic: dict[str, float] = field(default_factory=dict)


# Lifetime risks and ratios are round figures in line with QOF registers and published
# prevalence (for example diabetes about 2-3x in South Asian groups, SMI higher in Black
# groups, autism about 3 males to 1 female); they are parameters, documented in
# docs/synthetic_world.md, not estimates.
MODELS: dict[str, ClusterModel] = {
    "AUTISM": ClusterModel(0.013, 9, 5, 2, 1.55, 0.5, 1.1, 0.95),
    "LD": ClusterModel(0.006, 5, 3, 1, 1.25, 0.75, 1.4, 0.8),
    "SMI": ClusterModel(
        0.014,
        28,
        9,
        15,
        1.1,
        0.9,
        2.0,
        0.65,
        {"15": 2.5, "14": 2.0, "16": 2.0, "05": 1.6},
    ),
    "DEPANX": ClusterModel(
        0.30,
        32,
        13,
        12,
        0.65,
        1.35,
        1.4,
        0.8,
        {"09": 0.8, "10": 0.8, "11": 0.8, "12": 0.5, "14": 0.7, "15": 0.9},
    ),
    "DIABETES": ClusterModel(
        0.15,
        58,
        12,
        10,
        1.15,
        0.85,
        1.5,
        0.75,
        {"09": 2.2, "10": 2.5, "11": 2.6, "13": 1.6, "14": 1.8, "15": 1.8, "16": 1.6, "12": 1.2},
    ),
    "RESP": ClusterModel(
        0.20,
        30,
        22,
        2,
        0.95,
        1.05,
        1.5,
        0.8,
        {"09": 0.9, "12": 0.6, "14": 0.8},
    ),
    "CVD": ClusterModel(
        0.28,
        68,
        11,
        30,
        1.35,
        0.7,
        1.5,
        0.75,
        {"09": 1.5, "10": 1.5, "11": 1.6, "14": 0.9, "15": 0.9, "12": 0.8},
    ),
    "CANCER": ClusterModel(
        0.30,
        68,
        12,
        25,
        1.05,
        0.95,
        1.15,
        0.9,
        {"09": 0.8, "10": 0.8, "11": 0.8, "12": 0.8, "14": 0.8, "15": 0.9},
    ),
}


def draw_conditions(
    rng: np.random.Generator,
    config: WorldConfig,
    *,
    dob: np.ndarray,
    sex: np.ndarray,
    ethnic: np.ndarray,
    decile: np.ndarray,
    end: np.ndarray,
) -> pl.DataFrame:
    """Conditions with onset before March 2021 and before death or emigration.

    Returns ``person`` (position in the input arrays), ``cluster`` and ``onset_day``.
    """
    n = len(dob)
    codes = np.array([f"{i:02d}" for i in range(1, 19)])
    year = birth_year(dob)
    parts = []
    dep_pos = (decile - 1) / 9.0
    for name in CLUSTERS:
        model = MODELS[name]
        risk = model.lifetime_risk * config.health.prevalence_scale[name]
        factor = np.where(sex == 0, model.male, model.female)
        factor = factor * (
            model.most_deprived + (model.least_deprived - model.most_deprived) * dep_pos
        )
        eth_factor = np.array([model.ethnic.get(c, 1.0) for c in codes])
        factor = factor * eth_factor[ethnic]
        if name == "AUTISM":
            # Diagnosis became far more common for people born since 1990.
            factor = factor * np.interp(year, [1950, 1975, 1995, 2010], [0.15, 0.35, 1.3, 1.8])
        has = rng.random(n) < np.minimum(risk * factor, 0.95)
        idx = np.flatnonzero(has)
        mean = np.full(len(idx), float(model.onset_mean))
        if name == "DIABETES":
            mean = mean - 8 * np.isin(codes[ethnic[idx]], _SOUTH_ASIAN)
        if name == "AUTISM":
            # Adults born before 1990 are mostly diagnosed in adulthood.
            mean = np.where(year[idx] < 1990, 35.0, mean)
        onset_age = np.maximum(rng.normal(mean, model.onset_sd), model.onset_min)
        if name == "RESP":
            child = rng.random(len(idx)) < 0.45
            onset_age = np.where(child, np.maximum(rng.normal(8, 4, len(idx)), 1.0), onset_age)
        onset = dob[idx] + np.floor(onset_age * YEAR).astype(np.int64)
        ok = (onset <= EXTRACT_DAY) & (onset < end[idx])
        parts.append(
            pl.DataFrame(
                {
                    "person": pl.Series(idx[ok], dtype=pl.Int64),
                    "onset_day": pl.Series(onset[ok], dtype=pl.Int64),
                }
            ).select("person", pl.lit(name).alias("cluster"), "onset_day")
        )
    return pl.concat(parts)


__all__ = ["CLUSTERS", "SNOMED_CODES", "draw_conditions"]
