"""Crude and directly age-standardised percentages with their confidence intervals.

Methods (stated so a reader can check every published interval; docs/statistics.md says
the same in prose):

- Age-standardised rate (DSR): the weighted mean of the age-specific proportions, with the
  standard's band weights FIXED: every group is standardised to the whole standard, so
  groups and months stay comparable and no handful of people in a thinly populated band can
  carry the weight of the empty bands around it.
- Age-band groups (16-24 ...) are standardised over their own five-year bands: the standard
  restricted to the group's age range, fixed by the group's definition.
- Sparse groups (a stated rule, applied per series so that a series never switches mid-way):
  a group is standardised over the ten five-year bands when each band holds at least
  :data:`MIN_BAND_PEOPLE` people in every month; otherwise over the four broad bands
  (16-24, 25-34, 35-49, 50-64), each taking the sum of its five-year weights. Where even a
  broad band is empty in a month the standardised rate is not computed (null): with fixed
  weights it is undefined, and renormalising would change the standard.
- Reliability (ONS practice for rates on small counts, as in its mortality releases): a
  rate is flagged ``low_reliability`` (printed [u]) when fewer than
  :data:`LOW_RELIABILITY_COUNT` people are on either side of it (recipients or
  non-recipients), the count that governs a proportion's variance. Rates on fewer than 10
  recipients are not published at all: the disclosure rule ([c]) already removes them.
- Intervals, one method for every estimate (crude or standardised, plain or
  inverse-probability weighted): a Wilson score interval at the estimate's *effective sample
  size* ``n_eff = p (1 - p) / var(p)`` (Kish 1965; Korn and Graubard 1998, Survey
  Methodology 24: 193-201; Dean and Pagano 2015, J. Survey Statistics and Methodology 3:
  484-503, who find the Wilson interval at the effective size keeps its coverage for
  proportions from complex designs). The variance is binomial: for counts
  ``var(DSR) = sum(w_b^2 p_b (1 - p_b) / n_b)``; for weighted counts each band's
  proportion takes its linearised (sandwich) variance ``sum(w^2 (y - p)^2) / (sum w)^2``,
  which equals the binomial variance when every weight is 1 (the uncertainty of the
  estimated weights is ignored, a stated simplification). Where the variance is zero
  (p = 0 or 1) the effective size is the (Kish) sample size. The Poisson (Dobson) interval
  used before overstated the variance of a proportion by ``1 / (1 - p)``.

Every limit is clipped to [0, 100] per cent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from analysis.reference import AGE_GROUPS, STANDARD_BANDS, esp2013_weights
from evaluation.intervals import wilson_interval

#: Fewest people in every five-year band, in every month, for a series to be standardised
#: over five-year bands rather than the four broad bands.
MIN_BAND_PEOPLE = 10
#: Fewer recipients (or non-recipients) than this marks a rate low-reliability ([u]).
LOW_RELIABILITY_COUNT = 20
#: Each five-year standardisation band's broad band (the published age groups).
BROAD_BAND = {
    band: label
    for band in STANDARD_BANDS
    for label, low, high in AGE_GROUPS
    if low <= int(band.split("-")[0]) <= high
}


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def effective_wilson_interval(
    proportion: np.ndarray,
    variance: np.ndarray,
    sample_size: np.ndarray,
    *,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson interval of an estimated proportion at its effective sample size.

    Parameters
    ----------
    proportion
        Estimates (fractions); null (NaN) estimates give NaN limits.
    variance
        Their variances.
    sample_size
        The size used where the variance is zero (``p`` of 0 or 1): the people counted, or
        Kish's effective size of a weighted sample.
    confidence
        Two-sided level.
    """
    p = np.asarray(proportion, dtype=float)
    v = np.asarray(variance, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(v > 0, p * (1.0 - p) / v, np.asarray(sample_size, dtype=float))
    n_eff = np.maximum(n_eff, 1e-9)
    lower, upper = wilson_interval(p * n_eff, n_eff, confidence=confidence)
    missing = np.isnan(p)
    return np.where(missing, np.nan, lower), np.where(missing, np.nan, upper)


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


def _scope(counts: pl.DataFrame, standard: pl.DataFrame) -> pl.DataFrame:
    """Each row's standard: the whole standard, except that an age-band group is
    standardised over its own bands (the standard restricted to its age range, fixed by
    the group's definition and never by which bands happen to hold people).

    Adds ``_scope_bands`` (bands in the group's standard) and ``_scope_w`` (their share of
    the whole standard)."""
    total = standard["weight"].sum()
    whole = counts.with_columns(
        pl.lit(standard.height).alias("_scope_bands"), pl.lit(1.0).alias("_scope_w")
    )
    if "breakdown" not in counts.columns:
        return whole
    rows = []
    for label, low, high in AGE_GROUPS:
        inside = standard.filter(
            pl.col("age_band").str.split("-").list.first().cast(pl.Int64).is_between(low, high)
        )
        rows.append(("age_band", label, inside.height, inside["weight"].sum() / total))
    scopes = pl.DataFrame(rows, schema=["breakdown", "group", "_age_bands", "_age_w"], orient="row")
    return (
        whole.join(scopes, on=["breakdown", "group"], how="left")
        .with_columns(
            pl.coalesce("_age_bands", "_scope_bands").alias("_scope_bands"),
            pl.coalesce("_age_w", "_scope_w").alias("_scope_w"),
        )
        .drop("_age_bands", "_age_w")
    )


def _standardisation_bands(counts: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """``_fine`` per series (``by`` without the month ``k``): standardise over five-year
    bands (true) or the broad bands (a five-year band is thin or empty in some month)."""
    series = [column for column in by if column != "k"] or by
    per_cell = counts.group_by(by).agg(
        (pl.len() == pl.col("_scope_bands").first()).alias("_full"),
        pl.col("n").min().alias("_fewest"),
    )
    return per_cell.group_by(series).agg(
        (pl.col("_full") & (pl.col("_fewest") >= MIN_BAND_PEOPLE)).all().alias("_fine")
    )


def banded_counts(counts: pl.DataFrame, by: list[str], standard: pl.DataFrame) -> pl.DataFrame:
    """Counts summed to each series' standardisation bands (``_band``, ``broad_bands``),
    with each band's fixed share ``_w`` of the whole standard and ``_scope_w``, the share
    of the group's standard (1, or an age-band group's own range)."""
    total = standard["weight"].sum()
    shares = standard.select(
        "age_band",
        (pl.col("weight") / total).alias("_w"),
        pl.col("age_band").replace_strict(BROAD_BAND, default=None).alias("_broad"),
    )
    broad = shares.group_by("_broad").agg(pl.col("_w").sum()).rename({"_broad": "_band"})
    counts = _scope(counts, standard)
    fine = _standardisation_bands(counts, by)
    series = [column for column in by if column != "k"] or by
    sums = [c for c in ("n", "d", "sw", "swy", "sw2", "sw2y") if c in counts.columns]
    banded = (
        counts.join(shares.select("age_band", "_broad"), on="age_band", how="inner")
        .join(fine, on=series, how="left")
        .with_columns(
            pl.when(pl.col("_fine"))
            .then(pl.col("age_band"))
            .otherwise(pl.col("_broad"))
            .alias("_band"),
            pl.col("_fine").not_().alias("broad_bands"),
        )
        .group_by([*by, "_band", "broad_bands"])
        .agg(pl.col(sums).sum(), pl.col("_scope_w").first())
    )
    weights = pl.concat([shares.select(pl.col("age_band").alias("_band"), "_w"), broad])
    return banded.join(weights, on="_band", how="inner")


def age_standardised_rates(
    counts: pl.DataFrame,
    by: Sequence[str],
    standard: pl.DataFrame,
    *,
    weighted: bool = False,
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Crude and age-standardised percentages per group, with intervals (see module notes).

    Parameters
    ----------
    counts
        One row per group and ``age_band``: ``n`` people and ``d`` recipients; with
        ``weighted``, also the weighted sums ``sw`` (weights), ``swy`` (weights of
        recipients), ``sw2`` (squared weights) and ``sw2y`` (squared weights of recipients).
    by
        The grouping columns (at least one, e.g. ``["month", "group"]``). A series is
        ``by`` without ``k`` (the month index): the band rule is decided per series.
    standard
        ``age_band`` and ``weight`` over every band (see :func:`standard_weights`); the
        weights are fixed, never renormalised over the bands a group has people in.
    weighted
        Estimate from the weighted sums instead of the counts.
    confidence
        Two-sided level of the intervals.

    Returns
    -------
    polars.DataFrame
        ``by`` columns, ``people`` and ``recipients`` (unweighted counts), ``crude_pct``,
        ``crude_lower``, ``crude_upper``, ``asr_pct``, ``asr_lower``, ``asr_upper``,
        ``asr_var`` (variance of the percentage), ``broad_bands`` (standardised over the
        broad bands) and ``low_reliability``. ``asr_*`` are null where a band is empty.
    """
    by = list(by)
    frame = banded_counts(counts.filter(pl.col("n") > 0), by, standard)
    if weighted:
        rate = pl.col("swy") / pl.col("sw")
        band_var = (
            pl.col("sw2y") - 2.0 * rate * pl.col("sw2y") + rate**2 * pl.col("sw2")
        ) / pl.col("sw") ** 2
        kish = pl.col("sw").sum() ** 2 / pl.col("sw2").sum()
        crude = pl.col("swy").sum() / pl.col("sw").sum()
    else:
        rate = pl.col("d") / pl.col("n")
        band_var = rate * (1.0 - rate) / pl.col("n")
        kish = pl.col("n").sum().cast(pl.Float64)
        crude = pl.col("d").sum() / pl.col("n").sum()
    frame = frame.with_columns(rate.alias("_rate"), band_var.alias("_var"))
    if weighted:
        crude_var = (
            pl.col("sw2y").sum() * (1.0 - 2.0 * crude) + crude**2 * pl.col("sw2").sum()
        ) / pl.col("sw").sum() ** 2
    else:
        crude_var = crude * (1.0 - crude) / pl.col("n").sum()
    scope = pl.col("_scope_w").first()
    covered = (pl.col("_w").sum() - scope).abs() < 1e-9
    grouped = (
        frame.group_by(by)
        .agg(
            pl.col("n").sum().alias("people"),
            pl.col("d").sum().alias("recipients"),
            pl.when(covered).then((pl.col("_w") * pl.col("_rate")).sum() / scope).alias("_dsr"),
            pl.when(covered)
            .then((pl.col("_w") ** 2 * pl.col("_var")).sum() / scope**2)
            .alias("_dsr_var"),
            crude.alias("_crude"),
            crude_var.alias("_crude_var"),
            kish.alias("_kish"),
            pl.col("broad_bands").first(),
        )
        .sort(by)
    )
    return _with_intervals(grouped, by, confidence)


def _with_intervals(grouped: pl.DataFrame, by: list[str], confidence: float) -> pl.DataFrame:
    kish = grouped["_kish"].to_numpy()
    columns = {}
    for name, estimate, variance in (
        ("crude", "_crude", "_crude_var"),
        ("asr", "_dsr", "_dsr_var"),
    ):
        p = grouped[estimate].to_numpy().astype(float)
        v = grouped[variance].to_numpy().astype(float)
        lower, upper = effective_wilson_interval(p, v, kish, confidence=confidence)
        columns[f"{name}_pct"] = p * 100.0
        columns[f"{name}_lower"] = lower * 100.0
        columns[f"{name}_upper"] = upper * 100.0
    columns["asr_var"] = grouped["_dsr_var"].to_numpy().astype(float) * 100.0**2
    minority = pl.min_horizontal(pl.col("recipients"), pl.col("people") - pl.col("recipients"))
    return grouped.select(by + ["people", "recipients"]).with_columns(
        *(pl.Series(name, values).fill_nan(None) for name, values in columns.items()),
        grouped["broad_bands"],
        (minority < LOW_RELIABILITY_COUNT).alias("low_reliability"),
    )
