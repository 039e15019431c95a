"""Person-months and the monthly counts behind every published table.

Person-months are the cross join of the study people with the 17 months, kept while the
person is alive and aged 16-64 on the first of the month: vectorised polars, no loop over
people. Counting groups on one packed integer key (month, standardisation band, group code)
so that each table is a single pass of a fast integer group-by.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from analysis.breakdowns import ALL_PEOPLE, Breakdown, breakdowns, person_labels
from analysis.population import (
    BENEFIT_BITS,
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

N_BANDS = len(STANDARD_BANDS)
# Room for every group code of a breakdown, and for the 2^8 combinations of conditions.
GROUP_SPACE = 256
WEIGHTED_SUMS = ("sw", "swy", "sw2", "sw2y")


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
        the published age band), ``benefits`` (bit mask), ``on_any``, ``weight`` and its
        square ``weight2``, the
        person-level breakdown labels (Enum) and ``conditions`` (bit mask of the clusters in
        :data:`analysis.reference.CONDITIONS` order).
    """
    people = population.people
    months = pl.LazyFrame({"k": list(range(N_MONTHS))}, schema={"k": pl.Int32})
    group_upper = [upper for _, _, upper in AGE_GROUPS]
    frame = (
        people.lazy()
        .select("pid", "birth_year", "birth_month", "birth_day", "exit_month")
        .join(months, how="cross")
        .filter(pl.col("k") < pl.col("exit_month"))
        .with_columns(age_at_month(pl.col("k")).alias("age"))
        .filter(pl.col("age").is_between(MIN_AGE, MAX_AGE))
        .select(
            "pid",
            "k",
            ((pl.col("age") - 15) // 5).cast(pl.Int8).alias("band"),
            sum((pl.col("age") > upper).cast(pl.Int8) for upper in group_upper[:-1])
            .cast(pl.Int8)
            .alias("age_group"),
        )
        .collect()
    )
    # Benefits are looked up in a dense (person x month) array rather than joined.
    mask = np.zeros(people.height * N_MONTHS, dtype=np.uint16)
    months = population.benefit_months
    mask[(months["pid"].cast(pl.Int64) * N_MONTHS + months["k"]).to_numpy()] = months[
        "benefits"
    ].to_numpy()
    cells = (frame["pid"].cast(pl.Int64) * N_MONTHS + frame["k"]).to_numpy()
    benefits = pl.Series("benefits", mask[cells], dtype=pl.UInt16)
    frame = frame.with_columns(benefits, (benefits > 0).alias("on_any"))
    # People are numbered 0..n-1 in ``pid`` order, so their attributes are gathered by
    # position rather than joined.
    attributes = person_labels(people).sort("pid")
    conditions = sum(
        pl.col(flag).cast(pl.UInt8) * (1 << i) for i, flag in enumerate(CONDITION_FLAGS)
    )
    attributes = attributes.with_columns(
        people.sort("pid").select(conditions.cast(pl.UInt8).alias("conditions"))["conditions"]
    )
    if weights is not None:
        weight = (
            people.select("pid")
            .join(weights.select("pid", "weight"), on="pid", how="left")
            .sort("pid")["weight"]
            .fill_null(1.0)
        )
    else:
        weight = pl.Series("weight", [1.0] * people.height, dtype=pl.Float64)
    attributes = attributes.with_columns(weight.alias("weight"), (weight**2).alias("weight2"))
    index = frame["pid"]
    gathered = [
        attributes[column].gather(index) for column in attributes.columns if column != "pid"
    ]
    return frame.with_columns(gathered)


def _cube(
    cell: np.ndarray, space: int, y: np.ndarray, arrays: dict[str, np.ndarray], weighted: bool
) -> dict[str, np.ndarray]:
    """Sums over person-months by (month, band, code) cell, each of shape ``(cells, space)``.

    The outcome ``y`` (0/1) is folded into the key, so one integer count gives both the
    people and the recipients, and one weighted count both ``sw`` and ``swy``.
    """
    size = N_MONTHS * N_BANDS * space
    key = cell * 2 + y
    by_outcome = np.bincount(key, minlength=2 * size).reshape(-1, 2)
    sums = {"n": by_outcome.sum(axis=1), "d": by_outcome[:, 1]}
    if weighted:
        w = np.bincount(key, weights=arrays["weight"], minlength=2 * size).reshape(-1, 2)
        w2 = np.bincount(key, weights=arrays["weight2"], minlength=2 * size).reshape(-1, 2)
        sums |= {"sw": w.sum(axis=1), "swy": w[:, 1], "sw2": w2.sum(axis=1), "sw2y": w2[:, 1]}
    return {name: values.reshape(N_MONTHS * N_BANDS, space) for name, values in sums.items()}


def _frame(sums: dict[str, np.ndarray], spec: Breakdown, labels: list[str]) -> pl.DataFrame:
    """Tidy rows of the non-empty cells of a ``cells x groups`` cube."""
    cells, groups = np.nonzero(sums["n"])
    data: dict[str, object] = {
        "table": spec.table,
        "breakdown": spec.breakdown,
        "group": np.asarray(labels, dtype=object)[groups],
        "k": (cells // N_BANDS).astype(np.int32),
        "band": (cells % N_BANDS).astype(np.int8),
    }
    for name, values in sums.items():
        column = values[cells, groups]
        data[name] = column.astype(np.int64) if name in ("n", "d") else column
    return pl.DataFrame(data)


def _collapse(sums: dict[str, np.ndarray], selectors: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Add up the columns of a cube picked by each selector (one output column each)."""
    return {
        name: np.column_stack([values[:, chosen].sum(axis=1) for chosen in selectors])
        for name, values in sums.items()
    }


def _counts_for(pm: dict[str, np.ndarray], spec: Breakdown, weighted: bool) -> pl.DataFrame:
    base, y = pm["base"], pm["on_any"]
    if spec.kind == "all":
        return _frame(_cube(base, 1, y, pm, weighted), spec, [ALL_PEOPLE])
    if spec.kind == "partition":
        if spec.breakdown == "age_band":
            codes, labels = pm["age_group"], [label for label, _, _ in AGE_GROUPS]
        else:
            codes, labels = pm[spec.breakdown], list(spec.labels)
        space = len(labels)
        return _frame(_cube(base * space + codes, space, y, pm, weighted), spec, labels)
    if spec.kind == "subsets":
        # One pass over the combinations of conditions, then each condition's columns added.
        combos = _cube(base * GROUP_SPACE + pm["conditions"], GROUP_SPACE, y, pm, weighted)
        patterns = np.arange(GROUP_SPACE)
        selectors = [(patterns & (1 << bit)) > 0 for bit in range(len(CONDITIONS))]
        selectors.append(patterns == 0)
        return _frame(_collapse(combos, selectors), spec, [*CONDITIONS.values(), NO_CONDITION])
    # Benefit types: one pass over the combinations of benefits; every benefit shares the
    # denominator (everyone in the month), its numerator is the combinations holding it.
    space = 1 << len(INCLUDED_BENEFITS)
    # Every person-month with a benefit pattern; pattern 0 (none) counts in the denominator.
    combos = _cube(base * space + pm["benefits"], space, np.zeros_like(y), pm, weighted)
    people = _collapse(combos, [np.ones(space, dtype=bool)])
    patterns = np.arange(space)
    selectors = [(patterns & BENEFIT_BITS[code]) > 0 for code in INCLUDED_BENEFITS]
    numerators = _collapse(combos, selectors)
    sums = {
        name: np.repeat(people[name], len(selectors), axis=1)
        for name in ("n", "sw", "sw2")
        if name in people
    }
    sums |= {"d": numerators["n"]}
    if weighted:
        sums |= {"swy": numerators["sw"], "sw2y": numerators["sw2"]}
    return _frame(sums, spec, list(INCLUDED_BENEFITS.values()))


def _arrays(pm: pl.DataFrame, weighted: bool) -> dict[str, np.ndarray]:
    k = pm["k"].to_numpy().astype(np.int64)
    arrays = {
        "base": k * N_BANDS + pm["band"].to_numpy(),
        "age_group": pm["age_group"].to_numpy(),
        "on_any": pm["on_any"].cast(pl.Int64).to_numpy(),
        "benefits": pm["benefits"].to_numpy(),
        "conditions": pm["conditions"].to_numpy(),
    }
    for spec in breakdowns():
        if spec.kind == "partition" and spec.breakdown in pm.columns:
            arrays[spec.breakdown] = pm[spec.breakdown].to_physical().to_numpy()
    if weighted:
        arrays["weight"] = pm["weight"].to_numpy()
        arrays["weight2"] = pm["weight2"].to_numpy()
    return arrays


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
    arrays = _arrays(pm, weighted)
    counts = pl.concat(
        [_counts_for(arrays, spec, weighted) for spec in specs], how="diagonal_relaxed"
    )
    band_labels = dict(enumerate(STANDARD_BANDS))
    return counts.select(
        "table",
        "breakdown",
        "group",
        "k",
        pl.col("band").replace_strict(band_labels, return_dtype=pl.String).alias("age_band"),
        "n",
        pl.col("d").cast(pl.Int64),
        *(list(WEIGHTED_SUMS) if weighted else []),
    )
