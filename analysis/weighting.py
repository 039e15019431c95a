"""Inverse-probability weights for linkage: a logistic model of being linked, by census
characteristics.

The model is fitted to every census person who passes the census-only criteria and is of
working age in the study; the outcome is whether linkage kept them (linked to a GP record
present in the study period, and to DWP when required). Each linked person is weighted by
``1 / p``, so groups that link less often count for more. Because every covariate is
categorical, the fit runs on the distinct covariate patterns (binomial counts), not on
people: a few thousand rows at any scale.

The census base (``census_base`` of :class:`analysis.population.StudyPopulation`: those
census people, each with ``linked``, a study ``pid``, null for people the study does not
keep, and the census characteristics the weights use, :data:`COVARIATES`) is first counted
by covariate pattern (:func:`census_patterns`). Every other function takes those counts:
they add up over parts of the population (:func:`add_patterns`), so the weights of a
population built in parts are those of the whole. Weights are given per pattern and handed
to the study people by :func:`person_weights`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analysis.breakdowns import person_labels
from analysis.population import age_at_month
from analysis.reference import MAX_AGE, MIN_AGE, STANDARD_BANDS, UNKNOWN
from evaluation.intervals import wilson_interval

COVARIATES = ("age_band", "sex", "ethnic_group", "imd_quintile", "region", "disability")


class ModelFitError(RuntimeError):
    """The linkage model did not converge."""


def fit_logistic(
    design: np.ndarray,
    successes: np.ndarray,
    trials: np.ndarray,
    *,
    ridge: float = 1e-6,
    max_iterations: int = 100,
    tolerance: float = 1e-10,
) -> np.ndarray:
    """Binomial logistic regression by Newton-Raphson (iteratively reweighted least squares).

    Parameters
    ----------
    design
        Design matrix, one row per covariate pattern (intercept column included).
    successes, trials
        Linked people and people in each pattern.
    ridge
        A tiny penalty on the coefficients (not the intercept) that keeps the fit finite
        when a pattern links everyone or no one.

    Returns
    -------
    numpy.ndarray
        The coefficients.
    """
    x = np.asarray(design, dtype=float)
    y = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    beta = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], ridge)
    penalty[0] = 0.0
    # einsum rather than BLAS matrix products: multithreaded BLAS on a busy two-core machine
    # was a hundred times slower for these tall, narrow matrices.
    for _ in range(max_iterations):
        eta = np.clip(np.einsum("ij,j->i", x, beta), -30.0, 30.0)
        p = 1.0 / (1.0 + np.exp(-eta))
        gradient = np.einsum("ij,i->j", x, y - n * p) - penalty * beta
        hessian = np.einsum("ij,ik->jk", x * (n * p * (1.0 - p))[:, None], x) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if np.max(np.abs(step)) < tolerance:
            return beta
    raise ModelFitError(f"The linkage model did not converge in {max_iterations} iterations.")


def _covariate_labels(census_base: pl.DataFrame) -> pl.DataFrame:
    """The census base's ``pid``, ``linked`` and covariates as published labels."""
    labels = person_labels(
        census_base.with_columns(
            pl.lit(None, dtype=pl.Int8).alias("imd_decile"),
            pl.int_range(pl.len()).alias("pid"),
        )
    ).drop("pid")
    band = ((pl.col("age_2019") - 15) // 5).clip(0, len(STANDARD_BANDS) - 1)
    return pl.concat(
        [
            census_base.select(
                "pid",
                "linked",
                band.replace_strict(dict(enumerate(STANDARD_BANDS)), default=UNKNOWN)
                .fill_null(UNKNOWN)
                .alias("age_band"),
            ),
            labels.select(pl.col(c).cast(pl.String) for c in COVARIATES if c != "age_band"),
        ],
        how="horizontal",
    )


def _design(patterns: pl.DataFrame) -> np.ndarray:
    columns = [np.ones(patterns.height)]
    for covariate in COVARIATES:
        values = patterns[covariate]
        levels = sorted(values.unique().to_list())
        # The most common level is the reference, so the others are contrasts against it.
        reference = values.value_counts(sort=True)[covariate][0]
        columns += [
            (values == level).to_numpy().astype(float) for level in levels if level != reference
        ]
    return np.column_stack(columns)


PATTERN_COUNTS = ("people", "linked", "kept")
"""Per covariate pattern: census people, those linked, and those linked and in the study."""


def census_patterns(census_base: pl.DataFrame) -> pl.DataFrame:
    """The census base counted by covariate pattern: :data:`COVARIATES` (as published
    labels) and :data:`PATTERN_COUNTS`, sorted by the covariates."""
    people = _covariate_labels(census_base)
    return _sorted(
        people.group_by(list(COVARIATES)).agg(
            pl.len().alias("people"),
            pl.col("linked").sum().alias("linked"),
            (pl.col("linked") & pl.col("pid").is_not_null()).sum().alias("kept"),
        )
    )


def add_patterns(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The pattern counts of a population built in parts, added up."""
    return _sorted(
        pl.concat(parts).group_by(list(COVARIATES)).agg(pl.col(c).sum() for c in PATTERN_COUNTS)
    )


def _sorted(patterns: pl.DataFrame) -> pl.DataFrame:
    return patterns.select(*COVARIATES, *(pl.col(c).cast(pl.Int64) for c in PATTERN_COUNTS)).sort(
        list(COVARIATES)
    )


def person_weights(people: pl.DataFrame, pattern_weights: pl.DataFrame) -> pl.DataFrame:
    """Each study person's weight from the weight of their covariate pattern.

    Parameters
    ----------
    people
        :attr:`analysis.population.StudyPopulation.people`.
    pattern_weights
        :data:`COVARIATES` and ``weight`` (:func:`linkage_weights`,
        :func:`calibration_weights`).

    Returns
    -------
    polars.DataFrame
        ``pid`` and ``weight``, in ``pid`` order.
    """
    age_2019 = age_at_month(pl.lit(0)).clip(MIN_AGE, MAX_AGE).alias("age_2019")
    base = people.select(
        "pid",
        pl.lit(True).alias("linked"),
        age_2019,
        "sex",
        "ethnic_group",
        "disability",
        "imd_quintile",
        "region",
    )
    return (
        _covariate_labels(base)
        .join(pattern_weights.select(*COVARIATES, "weight"), on=list(COVARIATES), how="left")
        .select("pid", "weight")
        .sort("pid")
    )


def linkage_weights(patterns: pl.DataFrame) -> pl.DataFrame:
    """Inverse-probability-of-linkage weights by covariate pattern (see the module's
    docstring), from :func:`census_patterns`.

    Returns
    -------
    polars.DataFrame
        :data:`COVARIATES`, ``probability`` of being linked and ``weight`` (``1 / p``),
        for every pattern.
    """
    design = _design(patterns)
    beta = fit_logistic(design, patterns["linked"].to_numpy(), patterns["people"].to_numpy())
    probability = 1.0 / (1.0 + np.exp(-np.einsum("ij,j->i", design, beta)))
    return patterns.select(*COVARIATES).with_columns(
        pl.Series("probability", probability), pl.Series("weight", 1.0 / probability)
    )


def linkage_rates(patterns: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """Percentage of the census base kept by linkage, by each characteristic, with Wilson
    intervals: the evidence behind the weights (from :func:`census_patterns`).

    Returns
    -------
    polars.DataFrame
        ``breakdown``, ``group``, ``people`` (census people), ``linked``, ``linked_pct``,
        ``linked_lower``, ``linked_upper``.
    """
    parts = [
        patterns.group_by(covariate)
        .agg(pl.col("people").sum(), pl.col("linked").sum())
        .select(
            pl.lit(covariate).alias("breakdown"),
            pl.col(covariate).alias("group"),
            "people",
            "linked",
        )
        .sort("group")
        for covariate in COVARIATES
    ]
    rates = pl.concat(parts)
    lower, upper = wilson_interval(
        rates["linked"].to_numpy(), rates["people"].to_numpy(), confidence=confidence
    )
    return rates.with_columns(
        (pl.col("linked") / pl.col("people") * 100).alias("linked_pct"),
        pl.Series("linked_lower", lower * 100),
        pl.Series("linked_upper", upper * 100),
    )


class CalibrationError(RuntimeError):
    """Raking did not reproduce the census margins."""


def calibration_weights(
    patterns: pl.DataFrame, *, max_iterations: int = 100, tolerance: float = 1e-9
) -> pl.DataFrame:
    """Weights that make the linked people reproduce the census margins (raking).

    The alternative to :func:`linkage_weights`: no model, only the requirement that the
    weighted linked people have the census's count in every group of every covariate
    (iterative proportional fitting, one covariate at a time, until no margin is off by
    more than ``tolerance`` as a share). Uses only the census base's characteristics, counted
    by :func:`census_patterns`, never the truth. A weight depends only on a person's
    pattern, so raking runs on the patterns, each counting for its study people.

    Returns
    -------
    polars.DataFrame
        :data:`COVARIATES` and ``weight`` for every pattern holding a study person.

    Census people in a group with no linked person (it cannot be represented) are left out
    of the margins.

    Raises
    ------
    CalibrationError
        Raking did not converge.
    """
    linked = patterns.filter(pl.col("kept") > 0)
    # Census people in a group no linked person belongs to (such as sex unknown) cannot be
    # stood for by anyone: they are left out of every margin, not forced onto others.
    representable = pl.all_horizontal(
        pl.col(c).is_in(linked.get_column(c).unique().implode()) for c in COVARIATES
    )
    census = patterns.filter(representable)
    margins = {
        c: dict(census.group_by(c).agg(pl.col("people").sum()).iter_rows()) for c in COVARIATES
    }
    codes = {c: linked[c].to_numpy() for c in COVARIATES}
    kept = linked["kept"].to_numpy().astype(float)
    start = census["people"].sum() / max(kept.sum(), 1)
    weight = np.full(linked.height, start, dtype=float)
    for _ in range(max_iterations):
        worst = 0.0
        for covariate, totals in margins.items():
            weight, off = _rake_once(weight, codes[covariate], totals, kept)
            worst = max(worst, off)
        if worst < tolerance:
            return linked.select(*COVARIATES).with_columns(pl.Series("weight", weight))
    raise CalibrationError(f"Raking did not converge in {max_iterations} iterations.")


def _rake_once(
    weight: np.ndarray, codes: np.ndarray, census: dict[str, int], count: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Scale weights so one covariate's weighted counts equal the census; return the
    largest relative gap found before scaling. ``count``: how many people each weight
    stands for (one each when absent)."""
    levels, index = np.unique(codes, return_inverse=True)
    people = weight if count is None else weight * count
    totals = np.bincount(index, weights=people, minlength=len(levels))
    target = np.array([census[level] for level in levels], dtype=float)
    factors = target / totals
    return weight * factors[index], float(np.max(np.abs(factors - 1.0)))
