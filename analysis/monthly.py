"""Person-months and the monthly counts behind every published table.

Person-months are the cross join of the study people with the 17 months, kept while the
person is alive and aged 16-64 on the first of the month: vectorised polars, no loop over
people.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis.breakdowns import ALL_PEOPLE, Breakdown, breakdowns, person_labels
from analysis.population import (
    BENEFIT_FLAGS,
    CONDITION_FLAGS,
    N_MONTHS,
    StudyPopulation,
    age_at_month,
)
from analysis.reference import (
    AGE_GROUPS,
    CONDITIONS,
    INCLUDED_BENEFITS,
    MAX_AGE,
    MIN_AGE,
    NO_CONDITION,
    STANDARD_BANDS,
)

COUNT_KEYS = ("table", "breakdown", "group", "k", "age_band")


def person_months(population: StudyPopulation, weights: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per study person and month in the population.

    Parameters
    ----------
    population
        The study population.
    weights
        Optional ``pid`` and ``weight`` (inverse-probability weights); 1 when absent.

    Returns
    -------
    polars.DataFrame
        ``pid``, ``k``, ``band`` (index of the standardisation band), ``age_group`` (index of
        the published age band), ``on_any`` and the ``on_<benefit>`` flags, ``weight``, the
        person-level breakdown labels and the ``has_<condition>`` flags.
    """
    months = pl.LazyFrame({"k": list(range(N_MONTHS))}, schema={"k": pl.Int32})
    group_edges = [upper for _, _, upper in AGE_GROUPS]
    frame = (
        population.people.lazy()
        .select("pid", "birth_year", "birth_month", "birth_day", "exit_month")
        .join(months, how="cross")
        .filter(pl.col("k") < pl.col("exit_month"))
        .with_columns(age_at_month(pl.col("k")).alias("age"))
        .filter(pl.col("age").is_between(MIN_AGE, MAX_AGE))
        .select(
            "pid",
            "k",
            ((pl.col("age") - 15) // 5).cast(pl.Int8).alias("band"),
            pl.col("age")
            .cut(group_edges[:-1], labels=[str(i) for i in range(len(AGE_GROUPS))])
            .cast(pl.String)
            .cast(pl.Int8)
            .alias("age_group"),
        )
        .join(population.benefit_months.lazy(), on=["pid", "k"], how="left")
        .with_columns(pl.col("on_any", *BENEFIT_FLAGS).fill_null(False))
    )
    attributes = person_labels(population.people).join(
        population.people.select("pid", *CONDITION_FLAGS), on="pid"
    )
    if weights is not None:
        attributes = attributes.join(weights.select("pid", "weight"), on="pid", how="left")
        attributes = attributes.with_columns(pl.col("weight").fill_null(1.0))
    else:
        attributes = attributes.with_columns(pl.lit(1.0).alias("weight"))
    return frame.join(attributes.lazy(), on="pid", how="left").collect()


def _sums(outcome: pl.Expr, weighted: bool) -> list[pl.Expr]:
    sums = [pl.len().alias("n"), outcome.sum().cast(pl.Int64).alias("d")]
    if weighted:
        w = pl.col("weight")
        y = outcome.cast(pl.Float64)
        sums += [
            w.sum().alias("sw"),
            (w * y).sum().alias("swy"),
            (w**2).sum().alias("sw2"),
            (w**2 * y).sum().alias("sw2y"),
        ]
    return sums


def _tidy(frame: pl.DataFrame, spec: Breakdown, group: pl.Expr) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(spec.table).alias("table"),
        pl.lit(spec.breakdown).alias("breakdown"),
        group.cast(pl.String).alias("group"),
    )


def _counts_for(pm: pl.DataFrame, spec: Breakdown, weighted: bool) -> pl.DataFrame:
    keys = ["k", "band"]
    outcome = pl.col("on_any")
    if spec.kind == "all":
        counts = pm.group_by(keys).agg(_sums(outcome, weighted))
        return _tidy(counts, spec, pl.lit(ALL_PEOPLE))
    if spec.kind == "partition":
        column = spec.breakdown
        if column == "age_band":
            labels = {index: label for index, (label, _, _) in enumerate(AGE_GROUPS)}
            counts = pm.group_by([*keys, "age_group"]).agg(_sums(outcome, weighted))
            group = pl.col("age_group").replace_strict(labels, return_dtype=pl.String)
            return _tidy(counts, spec, group).drop("age_group")
        counts = pm.group_by([*keys, column]).agg(_sums(outcome, weighted))
        return _tidy(counts, spec, pl.col(column)).drop(column)
    if spec.kind == "subsets":
        parts = []
        for label, flag in zip(CONDITIONS.values(), CONDITION_FLAGS, strict=True):
            counts = pm.filter(pl.col(flag)).group_by(keys).agg(_sums(outcome, weighted))
            parts.append(_tidy(counts, spec, pl.lit(label)))
        none = ~pl.any_horizontal(CONDITION_FLAGS)
        counts = pm.filter(none).group_by(keys).agg(_sums(outcome, weighted))
        parts.append(_tidy(counts, spec, pl.lit(NO_CONDITION)))
        return pl.concat(parts)
    parts = []
    for label, flag in zip(INCLUDED_BENEFITS.values(), BENEFIT_FLAGS, strict=True):
        counts = pm.group_by(keys).agg(_sums(pl.col(flag), weighted))
        parts.append(_tidy(counts, spec, pl.lit(label)))
    return pl.concat(parts)


def monthly_counts(
    pm: pl.DataFrame, *, tables: Sequence[str] | None = None, weighted: bool = False
) -> pl.DataFrame:
    """People and recipients by table, group, month and standardisation band.

    Parameters
    ----------
    pm
        Person-months (:func:`person_months`).
    tables
        The tables to count (default: every breakdown).
    weighted
        Also sum the weights (``sw``, ``swy``, ``sw2``, ``sw2y``) for weighted estimates.

    Returns
    -------
    polars.DataFrame
        ``table``, ``breakdown``, ``group``, ``k``, ``age_band`` (label), ``n``, ``d`` and,
        when weighted, the weighted sums.
    """
    specs = [spec for spec in breakdowns() if tables is None or spec.table in tables]
    parts = [_counts_for(pm, spec, weighted) for spec in specs]
    counts = pl.concat(parts, how="diagonal_relaxed")
    band_labels = dict(enumerate(STANDARD_BANDS))
    value_columns = ["n", "d", *(["sw", "swy", "sw2", "sw2y"] if weighted else [])]
    return counts.select(
        "table",
        "breakdown",
        "group",
        "k",
        pl.col("band").replace_strict(band_labels, return_dtype=pl.String).alias("age_band"),
        *value_columns,
    )
