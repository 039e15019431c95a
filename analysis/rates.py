"""Crude and directly age-standardised percentages with their confidence intervals.

Methods (stated so a reader can check every published interval):

- Age-standardised rate (DSR): the weighted mean of the age-specific proportions, with the
  standard's band weights renormalised over the bands the group has people in.
- Its interval, for unweighted counts: Dobson et al. (1991), as in the PHE/UKHSA indicator
  methods: the exact Poisson interval of the total count ``O`` (chi-squared limits) scaled by
  ``sqrt(var(DSR) / O)``, with ``var(DSR) = sum(w_i^2 d_i / n_i^2)``.
- For inverse-probability-weighted counts: a normal interval around the DSR, with each band's
  proportion given its linearised (sandwich) variance ``sum(w^2 (y - p)^2) / (sum w)^2``;
  the uncertainty of the estimated weights is ignored (a stated simplification).
- Crude proportion: Wilson score interval.

Every limit is clipped to [0, 100] per cent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from analysis.reference import STANDARD_BANDS, esp2013_weights

# The project's one Wilson interval lives with the other measurements; re-exported here.
from evaluation.intervals import wilson_interval  # noqa: F401


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def poisson_limits(
    observed: np.ndarray, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) Poisson limits of observed counts, from the chi-squared distribution."""
    o = np.asarray(observed, dtype=float)
    alpha = 1.0 - confidence
    lower = np.where(o > 0, stats.chi2.ppf(alpha / 2.0, 2.0 * o) / 2.0, 0.0)
    upper = stats.chi2.ppf(1.0 - alpha / 2.0, 2.0 * (o + 1.0)) / 2.0
    return lower, upper


def dobson_interval(
    dsr: np.ndarray,
    variance: np.ndarray,
    observed: np.ndarray,
    *,
    max_weight_per_person: np.ndarray | None = None,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Dobson et al. (1991) interval of directly standardised rates (as fractions).

    Parameters
    ----------
    dsr
        Standardised rates.
    variance
        ``sum(w_i^2 d_i / n_i^2)`` with the weights ``w_i`` normalised to sum to one.
    observed
        Total events ``O = sum(d_i)``.
    max_weight_per_person
        ``max(w_i / n_i)``: bounds the upper limit when ``O`` is zero, where the scaling
        factor is undefined (the upper limit of ``O`` then counts at the heaviest band).
    confidence
        Two-sided level.
    """
    dsr = np.asarray(dsr, dtype=float)
    o = np.asarray(observed, dtype=float)
    o_lower, o_upper = poisson_limits(o, confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(o > 0, np.sqrt(np.asarray(variance, dtype=float) / o), 0.0)
    lower = dsr + scale * (o_lower - o)
    upper = dsr + scale * (o_upper - o)
    if max_weight_per_person is not None:
        upper = np.where(o > 0, upper, o_upper * np.asarray(max_weight_per_person, dtype=float))
    return np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)


def standard_weights(
    kind: str = "esp2013", *, study_counts: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Weights of the ten standardisation bands (16-19 ... 60-64).

    Parameters
    ----------
    kind
        ``"esp2013"`` (2013 European Standard Population) or ``"study"`` (the age
        distribution given in ``study_counts``).
    study_counts
        For ``"study"``: a frame with ``age_band`` and ``n`` (people or person-months).
    """
    if kind == "esp2013":
        return esp2013_weights()
    if kind == "study":
        if study_counts is None:
            raise ValueError("The study standard needs the study population's counts by band.")
        return (
            study_counts.group_by("age_band")
            .agg(pl.col("n").sum().cast(pl.Float64).alias("weight"))
            .filter(pl.col("age_band").is_in(STANDARD_BANDS))
            .sort("age_band")
        )
    raise ValueError(f"Unknown standard population {kind!r}; valid options: esp2013, study.")


def age_standardised_rates(
    counts: pl.DataFrame,
    by: Sequence[str],
    standard: pl.DataFrame,
    *,
    weighted: bool = False,
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Crude and age-standardised percentages per group, with 95% intervals.

    Parameters
    ----------
    counts
        One row per group and ``age_band``: ``n`` people and ``d`` recipients; with
        ``weighted``, also the weighted sums ``sw`` (weights), ``swy`` (weights of
        recipients), ``sw2`` (squared weights) and ``sw2y`` (squared weights of recipients).
    by
        The grouping columns (at least one, e.g. ``["month", "group"]``).
    standard
        ``age_band`` and ``weight`` (see :func:`standard_weights`).
    weighted
        Estimate from the weighted sums (normal interval) instead of the counts (Dobson).
    confidence
        Two-sided level of the intervals.

    Returns
    -------
    polars.DataFrame
        ``by`` columns, ``people`` and ``recipients`` (unweighted counts), ``crude_pct``,
        ``crude_lower``, ``crude_upper`` (Wilson; normal for weighted), ``asr_pct``,
        ``asr_lower``, ``asr_upper`` and ``asr_var`` (variance of the percentage).
    """
    by = list(by)
    frame = counts.join(standard, on="age_band", how="inner").filter(pl.col("n") > 0)
    if weighted:
        rate = pl.col("swy") / pl.col("sw")
        band_var = (
            pl.col("sw2y") - 2.0 * rate * pl.col("sw2y") + rate**2 * pl.col("sw2")
        ) / pl.col("sw") ** 2
    else:
        rate = pl.col("d") / pl.col("n")
        band_var = pl.col("d") / pl.col("n").cast(pl.Float64) ** 2
    share = pl.col("weight") / pl.col("weight").sum().over(by)
    frame = frame.with_columns(rate.alias("_rate"), band_var.alias("_var"), share.alias("_w"))
    aggregations = [
        pl.col("n").sum().alias("people"),
        pl.col("d").sum().alias("recipients"),
        (pl.col("_w") * pl.col("_rate")).sum().alias("_dsr"),
        (pl.col("_w") ** 2 * pl.col("_var")).sum().alias("_dsr_var"),
        (pl.col("_w") / pl.col("n")).max().alias("_max_w"),
    ]
    if weighted:
        aggregations += [
            pl.col("sw").sum().alias("_sw"),
            pl.col("swy").sum().alias("_swy"),
            pl.col("sw2").sum().alias("_sw2"),
            pl.col("sw2y").sum().alias("_sw2y"),
        ]
    grouped = frame.group_by(by).agg(aggregations).sort(by)
    dsr = grouped["_dsr"].to_numpy()
    dsr_var = grouped["_dsr_var"].to_numpy()
    people = grouped["people"].to_numpy().astype(float)
    recipients = grouped["recipients"].to_numpy().astype(float)
    if weighted:
        sw, swy = grouped["_sw"].to_numpy(), grouped["_swy"].to_numpy()
        crude = swy / sw
        crude_var = (
            grouped["_sw2y"].to_numpy() * (1.0 - 2.0 * crude)
            + crude**2 * grouped["_sw2"].to_numpy()
        ) / sw**2
        z = _z(confidence)
        crude_lower = np.clip(crude - z * np.sqrt(crude_var), 0.0, 1.0)
        crude_upper = np.clip(crude + z * np.sqrt(crude_var), 0.0, 1.0)
        asr_lower = np.clip(dsr - z * np.sqrt(dsr_var), 0.0, 1.0)
        asr_upper = np.clip(dsr + z * np.sqrt(dsr_var), 0.0, 1.0)
    else:
        crude = recipients / people
        crude_lower, crude_upper = wilson_interval(recipients, people, confidence=confidence)
        asr_lower, asr_upper = dobson_interval(
            dsr,
            dsr_var,
            recipients,
            max_weight_per_person=grouped["_max_w"].to_numpy(),
            confidence=confidence,
        )
    return grouped.select(by + ["people", "recipients"]).with_columns(
        pl.Series("crude_pct", crude * 100.0),
        pl.Series("crude_lower", crude_lower * 100.0),
        pl.Series("crude_upper", crude_upper * 100.0),
        pl.Series("asr_pct", dsr * 100.0),
        pl.Series("asr_lower", asr_lower * 100.0),
        pl.Series("asr_upper", asr_upper * 100.0),
        pl.Series("asr_var", dsr_var * 100.0**2),
    )
