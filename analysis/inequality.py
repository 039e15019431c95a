"""Change over the pandemic and inequality: gaps, ratios and the slope and relative indices.

Methods:

- Change: March 2021 minus February 2020 (percentage points) within the same cohort, with a
  normal interval from the paired variance ``var(before) + var(after) - 2 cov`` where the
  covariance comes from person-level data (:mod:`analysis.paired`; column ``asr_cov``);
  without it the months are treated as independent (conservative). Relative change in per
  cent.
- Widening of an ethnic gap (change in the gap to White British): the group's and the
  reference's changes are independent (different people), each paired over the months.
- Slope index of inequality (SII): the slope of a weighted least-squares line through the
  quintiles' age-standardised percentages, each placed at the midpoint of its cumulative
  population share (ridit) ranked from least (0) to most (1) deprived and weighted by that
  share. It is a linear combination of the quintile rates, so its variance is exact given
  theirs. Positive when receipt rises with deprivation.
- Relative index of inequality (RII): the fitted value at the most deprived end over the
  fitted value at the least deprived end (Kunst and Mackenbach), interval by the delta method
  on the log scale.
- Gaps: one group's rate minus another's, normal interval; ratios on the log scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from analysis.reference import BEFORE_MONTH, DURING_MONTH, UNKNOWN, quintile_label

WHITE_BRITISH = "White British"


@dataclass(frozen=True)
class SlopeIndex:
    """The slope and relative indices of inequality with their standard errors."""

    sii: float
    sii_se: float
    rii: float
    log_rii_se: float


def slope_index(rates: np.ndarray, variances: np.ndarray, shares: np.ndarray) -> SlopeIndex:
    """SII and RII of rates ordered from least to most deprived.

    Parameters
    ----------
    rates, variances
        Each group's rate and the rate's variance, least deprived first.
    shares
        Each group's share of the population (any positive scale).
    """
    r = np.asarray(rates, dtype=float)
    v = np.asarray(variances, dtype=float)
    w = np.asarray(shares, dtype=float) / np.sum(shares)
    x = np.cumsum(w) - w / 2.0
    x_bar = np.sum(w * x)
    spread = np.sum(w * (x - x_bar) ** 2)
    slope_coefficients = w * (x - x_bar) / spread
    mean_coefficients = w
    sii = float(slope_coefficients @ r)
    # Fitted value at rank t: mean + slope * (t - x_bar), linear in the rates.
    least = mean_coefficients + slope_coefficients * (0.0 - x_bar)
    most = mean_coefficients + slope_coefficients * (1.0 - x_bar)
    fitted_least, fitted_most = float(least @ r), float(most @ r)
    var_least, var_most = float(least**2 @ v), float(most**2 @ v)
    covariance = float((least * most) @ v)
    log_var = (
        var_most / fitted_most**2
        + var_least / fitted_least**2
        - 2.0 * covariance / (fitted_most * fitted_least)
    )
    return SlopeIndex(
        sii=sii,
        sii_se=float(np.sqrt(slope_coefficients**2 @ v)),
        rii=fitted_most / fitted_least,
        log_rii_se=float(np.sqrt(max(log_var, 0.0))),
    )


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def _with_covariance(results: pl.DataFrame) -> pl.DataFrame:
    """``asr_cov`` (0, the independent-months bound, where the results carry none)."""
    if "asr_cov" in results.columns:
        return results.with_columns(pl.col("asr_cov").fill_null(0.0))
    return results.with_columns(pl.lit(0.0).alias("asr_cov"))


def _paired_variance(before: str, during: str, covariance: str) -> pl.Expr:
    """``var(during - before)``, floored at zero against rounding."""
    return (pl.col(before) + pl.col(during) - 2.0 * pl.col(covariance)).clip(lower_bound=0.0)


def change_table(results: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """February 2020 against March 2021 for every table, group and estimate.

    Parameters
    ----------
    results
        Unrounded monthly results: ``table``, ``breakdown``, ``group``, ``estimate``,
        ``month``, ``asr_pct``, ``asr_var``, ``status`` and optionally ``asr_cov`` (the
        covariance of the group's two months, per cent squared).

    Returns
    -------
    polars.DataFrame
        ``table``, ``breakdown``, ``group``, ``estimate``, ``asr_before``, ``asr_during``,
        ``abs_change``, ``abs_change_lower``, ``abs_change_upper``, ``rel_change`` (per cent)
        and ``hidden`` (an input cell is suppressed).
    """
    keys = ["table", "breakdown", "group", "estimate"]
    results = _with_covariance(results)
    columns = [*keys, "asr_pct", "asr_var", "asr_cov", "status"]
    before = results.filter(pl.col("month") == BEFORE_MONTH).select(columns)
    during = results.filter(pl.col("month") == DURING_MONTH).select(columns)
    z = _z(confidence)
    joined = before.join(during, on=keys, how="full", coalesce=True, suffix="_during")
    change = pl.col("asr_pct_during") - pl.col("asr_pct")
    half = z * _paired_variance("asr_var", "asr_var_during", "asr_cov").sqrt()
    return joined.select(
        *keys,
        pl.col("asr_pct").alias("asr_before"),
        pl.col("asr_pct_during").alias("asr_during"),
        change.alias("abs_change"),
        (change - half).alias("abs_change_lower"),
        (change + half).alias("abs_change_upper"),
        ((pl.col("asr_pct_during") / pl.col("asr_pct") - 1.0) * 100.0).alias("rel_change"),
        ((pl.col("status") != "published") | (pl.col("status_during") != "published"))
        .fill_null(True)
        .alias("hidden"),
    )


def deprivation_inequality(results: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """Gap and ratio between the most and least deprived quintiles, SII and RII, per month.

    Parameters
    ----------
    results
        Unrounded monthly results of ``by_imd_quintile`` (other tables are ignored), with
        ``people`` (the share weights), ``asr_pct``, ``asr_var`` and ``status``.

    Returns
    -------
    polars.DataFrame
        ``estimate``, ``month``, ``measure`` (``gap_pp``, ``ratio``, ``sii_pp``, ``rii``),
        ``value``, ``lower``, ``upper`` and ``hidden``.
    """
    z = _z(confidence)
    order = [quintile_label(q) for q in (5, 4, 3, 2, 1)]  # least deprived first
    quintiles = results.filter(
        (pl.col("table") == "by_imd_quintile") & (pl.col("group") != UNKNOWN)
    )
    rows = []
    for (estimate, month), frame in quintiles.group_by(["estimate", "month"], maintain_order=True):
        frame = frame.with_columns(
            pl.col("group").replace_strict(order, list(range(5)), default=None).alias("_rank")
        ).sort("_rank")
        if frame.height != 5:
            continue
        hidden = bool((frame["status"] != "published").any())
        r, v = frame["asr_pct"].to_numpy(), frame["asr_var"].to_numpy()
        least, most = r[0], r[-1]
        gap_se = np.sqrt(v[0] + v[-1])
        log_ratio_se = np.sqrt(v[-1] / most**2 + v[0] / least**2)
        index = slope_index(r, v, frame["people"].to_numpy())
        ratio = most / least
        measures = [
            ("gap_pp", most - least, most - least - z * gap_se, most - least + z * gap_se),
            ("ratio", ratio, ratio * np.exp(-z * log_ratio_se), ratio * np.exp(z * log_ratio_se)),
            ("sii_pp", index.sii, index.sii - z * index.sii_se, index.sii + z * index.sii_se),
            (
                "rii",
                index.rii,
                index.rii * np.exp(-z * index.log_rii_se),
                index.rii * np.exp(z * index.log_rii_se),
            ),
        ]
        for measure, value, lower, upper in measures:
            rows.append(
                {
                    "estimate": estimate,
                    "month": month,
                    "measure": measure,
                    "value": float(value),
                    "lower": float(lower),
                    "upper": float(upper),
                    "hidden": hidden,
                }
            )
    schema = {
        "estimate": pl.String,
        "month": pl.Date,
        "measure": pl.String,
        "value": pl.Float64,
        "lower": pl.Float64,
        "upper": pl.Float64,
        "hidden": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def ethnic_gaps(results: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """Each ethnic group's gap to White British, before (February 2020) and during (March
    2021) the pandemic, and how much it widened.

    Returns
    -------
    polars.DataFrame
        ``estimate``, ``group``, ``gap_before``, ``gap_before_lower``, ``gap_before_upper``,
        ``gap_during`` (and limits), ``gap_widening`` (during minus before) with its paired
        limits ``gap_widening_lower`` and ``gap_widening_upper``, and ``hidden``.
    """
    z = _z(confidence)
    ethnic = (
        _with_covariance(results)
        .filter(
            (pl.col("table") == "by_ethnic_group")
            & pl.col("month").is_in([BEFORE_MONTH, DURING_MONTH])
            & (pl.col("group") != UNKNOWN)
        )
        .select("estimate", "group", "month", "asr_pct", "asr_var", "asr_cov", "status")
    )
    reference = ethnic.filter(pl.col("group") == WHITE_BRITISH).select(
        "estimate",
        "month",
        pl.col("asr_pct").alias("_ref"),
        pl.col("asr_var").alias("_ref_var"),
        pl.col("asr_cov").alias("_ref_cov"),
        pl.col("status").alias("_ref_status"),
    )
    gaps = (
        ethnic.filter(pl.col("group") != WHITE_BRITISH)
        .join(reference, on=["estimate", "month"], how="inner")
        .with_columns(
            (pl.col("asr_pct") - pl.col("_ref")).alias("gap"),
            (z * (pl.col("asr_var") + pl.col("_ref_var")).sqrt()).alias("_half"),
            ((pl.col("status") != "published") | (pl.col("_ref_status") != "published")).alias(
                "_hidden"
            ),
        )
    )
    before = gaps.filter(pl.col("month") == BEFORE_MONTH)
    during = gaps.filter(pl.col("month") == DURING_MONTH)
    joined = before.join(during, on=["estimate", "group"], how="inner", suffix="_during")
    widening = pl.col("gap_during") - pl.col("gap")
    widening_half = (
        z
        * (
            _paired_variance("asr_var", "asr_var_during", "asr_cov")
            + _paired_variance("_ref_var", "_ref_var_during", "_ref_cov")
        ).sqrt()
    )
    return joined.select(
        "estimate",
        "group",
        pl.col("gap").alias("gap_before"),
        (pl.col("gap") - pl.col("_half")).alias("gap_before_lower"),
        (pl.col("gap") + pl.col("_half")).alias("gap_before_upper"),
        pl.col("gap_during"),
        (pl.col("gap_during") - pl.col("_half_during")).alias("gap_during_lower"),
        (pl.col("gap_during") + pl.col("_half_during")).alias("gap_during_upper"),
        widening.alias("gap_widening"),
        (widening - widening_half).alias("gap_widening_lower"),
        (widening + widening_half).alias("gap_widening_upper"),
        (pl.col("_hidden") | pl.col("_hidden_during")).alias("hidden"),
    )
