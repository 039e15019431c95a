"""Inverse-probability weights for linkage: a logistic model of being linked, by census
characteristics.

The model is fitted to every census person who passes the census-only criteria and is of
working age in the study; the outcome is whether linkage kept them (linked to a GP record
present in the study period, and to DWP when required). Each linked person is weighted by
``1 / p``, so groups that link less often count for more. Because every covariate is
categorical, the fit runs on the distinct covariate patterns (binomial counts), not on
people: a few thousand rows at any scale.

Every function here takes the census base, ``census_base`` of
:class:`analysis.population.StudyPopulation`: those census people, each with ``linked``, a
study ``pid`` (null for people the study does not keep) and the census characteristics the
weights use (:data:`COVARIATES`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analysis.breakdowns import person_labels
from analysis.reference import STANDARD_BANDS, UNKNOWN
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


def _linked_study_people(people: pl.DataFrame) -> pl.DataFrame:
    """The census people the study keeps: linked, and given a study ``pid``."""
    return people.filter(pl.col("linked") & pl.col("pid").is_not_null())


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


def linkage_weights(census_base: pl.DataFrame) -> pl.DataFrame:
    """Inverse-probability-of-linkage weights for the linked study people, from the
    census base (see the module's docstring).

    Returns
    -------
    polars.DataFrame
        ``pid`` and ``weight`` (``1 / p``) for every linked person, and ``probability``.
    """
    people = _covariate_labels(census_base)
    patterns = (
        people.group_by(list(COVARIATES))
        .agg(pl.len().alias("trials"), pl.col("linked").sum().alias("successes"))
        .sort(list(COVARIATES))
    )
    design = _design(patterns)
    beta = fit_logistic(design, patterns["successes"].to_numpy(), patterns["trials"].to_numpy())
    probability = 1.0 / (1.0 + np.exp(-np.einsum("ij,j->i", design, beta)))
    patterns = patterns.with_columns(pl.Series("probability", probability))
    return (
        _linked_study_people(people)
        .join(patterns.select(*COVARIATES, "probability"), on=list(COVARIATES), how="left")
        .select("pid", (1.0 / pl.col("probability")).alias("weight"), "probability")
        .sort("pid")
    )


def linkage_rates(census_base: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """Percentage of the census base kept by linkage, by each characteristic, with Wilson
    intervals: the evidence behind the weights.

    Returns
    -------
    polars.DataFrame
        ``breakdown``, ``group``, ``people`` (census people), ``linked``, ``linked_pct``,
        ``linked_lower``, ``linked_upper``.
    """
    people = _covariate_labels(census_base)
    parts = [
        people.group_by(covariate)
        .agg(pl.len().alias("people"), pl.col("linked").sum().cast(pl.Int64).alias("linked"))
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
    census_base: pl.DataFrame, *, max_iterations: int = 100, tolerance: float = 1e-9
) -> pl.DataFrame:
    """Weights that make the linked people reproduce the census margins (raking).

    The alternative to :func:`linkage_weights`: no model, only the requirement that the
    weighted linked people have the census's count in every group of every covariate
    (iterative proportional fitting, one covariate at a time, until no margin is off by
    more than ``tolerance`` as a share). Uses only the census base's characteristics (see
    the module's docstring), never the truth.

    Returns
    -------
    polars.DataFrame
        ``pid`` and ``weight`` for every linked person.

    Census people in a group with no linked person (it cannot be represented) are left out
    of the margins.

    Raises
    ------
    CalibrationError
        Raking did not converge.
    """
    people = _covariate_labels(census_base)
    linked = _linked_study_people(people)
    # Census people in a group no linked person belongs to (such as sex unknown) cannot be
    # stood for by anyone: they are left out of every margin, not forced onto others.
    representable = pl.all_horizontal(
        pl.col(c).is_in(linked.get_column(c).unique().implode()) for c in COVARIATES
    )
    people = people.filter(representable)
    margins = {c: dict(people.group_by(c).agg(pl.len()).iter_rows()) for c in COVARIATES}
    codes = {c: linked[c].to_numpy() for c in COVARIATES}
    weight = np.full(linked.height, people.height / max(linked.height, 1), dtype=float)
    for _ in range(max_iterations):
        worst = 0.0
        for covariate, census in margins.items():
            weight, off = _rake_once(weight, codes[covariate], census)
            worst = max(worst, off)
        if worst < tolerance:
            return linked.select("pid").with_columns(pl.Series("weight", weight)).sort("pid")
    raise CalibrationError(f"Raking did not converge in {max_iterations} iterations.")


def _rake_once(
    weight: np.ndarray, codes: np.ndarray, census: dict[str, int]
) -> tuple[np.ndarray, float]:
    """Scale weights so one covariate's weighted counts equal the census; return the
    largest relative gap found before scaling."""
    levels, index = np.unique(codes, return_inverse=True)
    totals = np.bincount(index, weights=weight, minlength=len(levels))
    target = np.array([census[level] for level in levels], dtype=float)
    factors = target / totals
    return weight * factors[index], float(np.max(np.abs(factors - 1.0)))
