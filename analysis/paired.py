"""The covariance of a group's standardised rate in February 2020 and March 2021.

The two months hold largely the same people, so a change between them is a paired
comparison: ``var(after - before) = var(after) + var(before) - 2 cov(after, before)``.

A directly standardised proportion is a sum over people, ``DSR = sum_i c_i y_i`` with
``c_i = w_b / n_b`` (or ``w_b x_i / sum_b x`` with inverse-probability weights ``x``), so
each person's influence on it is ``z_i = c_i (y_i - p_b)``, and the linearised (sandwich)
variance of the DSR is ``sum_i z_i^2`` (the binomial variance used in
:mod:`analysis.rates`). The covariance of the two months is ``sum_i z_i(before) z_i(after)``
over the people in the group in both months (Woodruff 1971, JASA 66: 411-414, for the
linearisation; the same person-level pairing as a bootstrap over people, without the
resampling). Everything is vectorised: one dense array per month indexed by person.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from analysis.breakdowns import Breakdown, breakdowns
from analysis.population import BENEFIT_BITS
from analysis.rates import BROAD_BAND, banded_counts
from analysis.reference import (
    AGE_GROUPS,
    BEFORE_MONTH,
    CONDITIONS,
    DURING_MONTH,
    INCLUDED_BENEFITS,
    MONTHS,
    STANDARD_BANDS,
)

PAIRED_MONTHS = (MONTHS.index(BEFORE_MONTH), MONTHS.index(DURING_MONTH))


def _band_lookup(counts: pl.DataFrame, standard: pl.DataFrame, weighted: bool) -> pl.DataFrame:
    """``c`` (weight per person, before the person's own IPW weight) and ``p`` for each
    table, group, month of the pair and five-year band."""
    banded = banded_counts(
        counts.filter(pl.col("n") > 0), ["table", "breakdown", "group", "k"], standard
    ).filter(pl.col("k").is_in(PAIRED_MONTHS))
    mapping = pl.DataFrame(
        {"fine": list(STANDARD_BANDS), "_broad": [BROAD_BAND[b] for b in STANDARD_BANDS]}
    )
    fine = banded.filter(~pl.col("broad_bands")).with_columns(pl.col("_band").alias("fine"))
    broad = banded.filter(pl.col("broad_bands")).join(
        mapping, left_on="_band", right_on="_broad", how="inner"
    )
    size, hits = ("sw", "swy") if weighted else ("n", "d")
    return pl.concat([fine, broad], how="diagonal_relaxed").select(
        "table",
        "group",
        pl.col("k").replace_strict({k: i for i, k in enumerate(PAIRED_MONTHS)}).alias("pair"),
        pl.col("fine").replace_strict({b: i for i, b in enumerate(STANDARD_BANDS)}).alias("band"),
        (pl.col("_w") / pl.col("_scope_w") / pl.col(size)).alias("c"),
        (pl.col(hits) / pl.col(size)).alias("p"),
    )


def _dense(lookup: pl.DataFrame, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``c`` and ``p`` as arrays indexed ``[pair, band, label]`` (0 where absent)."""
    shape = (2, len(STANDARD_BANDS), len(labels))
    c, p = np.zeros(shape), np.zeros(shape)
    index = lookup.with_columns(
        pl.col("group").replace_strict(labels, list(range(len(labels))), default=-1).alias("g")
    ).filter(pl.col("g") >= 0)
    at = (index["pair"].to_numpy(), index["band"].to_numpy(), index["g"].to_numpy())
    c[at], p[at] = index["c"].to_numpy(), index["p"].to_numpy()
    return c, p


PAIR_SUMS = ("s00", "s10", "s01", "s11")
"""Sums over the people in a group in both months of the pair, by their two bands:
``w^2``, ``w^2 y(before)``, ``w^2 y(after)`` and ``w^2 y(before) y(after)``."""


def _pair_sums(
    rows: dict[str, np.ndarray], codes: np.ndarray, y: np.ndarray, n_people: int, n_labels: int
) -> dict[str, np.ndarray]:
    """:data:`PAIR_SUMS` of the people holding the same label in both months, each of shape
    ``(labels, bands before, bands after)``."""
    pair, pid = rows["pair"], rows["pid"]
    code_by_person = np.full((2, n_people), -1, dtype=np.int64)
    band_by_person = np.zeros((2, n_people), dtype=np.int64)
    y_by_person = np.zeros((2, n_people))
    weight = np.zeros(n_people)
    code_by_person[pair, pid] = codes
    band_by_person[pair, pid] = rows["band"]
    y_by_person[pair, pid] = y
    weight[pid] = rows["weight"]
    both = (code_by_person[0] >= 0) & (code_by_person[0] == code_by_person[1])
    bands = len(STANDARD_BANDS)
    cell = (code_by_person[0][both] * bands + band_by_person[0][both]) * bands
    cell = cell + band_by_person[1][both]
    w2 = weight[both] ** 2
    before, after = y_by_person[0][both], y_by_person[1][both]
    shape = (n_labels, bands, bands)
    size = n_labels * bands * bands
    values = {"s00": w2, "s10": w2 * before, "s01": w2 * after, "s11": w2 * before * after}
    return {
        name: np.bincount(cell, weights=v, minlength=size).reshape(shape)
        for name, v in values.items()
    }


def _covariance_from_sums(sums: dict[str, np.ndarray], c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Each label's ``sum z(before) z(after)``, with ``z = c w (y - p)``: expanded, a sum
    over the two bands of ``c0 c1 (s11 - p1 s10 - p0 s01 + p0 p1 s00)``."""
    c0, c1 = c[0].T[:, :, None], c[1].T[:, None, :]  # (labels, band before, band after)
    p0, p1 = p[0].T[:, :, None], p[1].T[:, None, :]
    terms = sums["s11"] - p1 * sums["s10"] - p0 * sums["s01"] + p0 * p1 * sums["s00"]
    return (c0 * c1 * terms).sum(axis=(1, 2))


def _groups(
    spec: Breakdown, rows: dict[str, np.ndarray]
) -> list[tuple[list[str], np.ndarray, np.ndarray]]:
    """(labels, code per row or -1, outcome per row) passes covering a table's groups."""
    y = rows["on_any"]
    if spec.kind == "all":
        return [(list(spec.labels), np.zeros_like(y), y)]
    if spec.kind == "partition":
        if spec.breakdown == "age_band":
            return [([label for label, _, _ in AGE_GROUPS], rows["age_group"], y)]
        return [(list(spec.labels), rows[spec.breakdown], y)]
    if spec.kind == "subsets":
        passes = []
        for bit, label in enumerate(CONDITIONS.values()):
            held = (rows["conditions"] & (1 << bit)) > 0
            passes.append(([label], np.where(held, 0, -1), y))
        none = rows["conditions"] == 0
        passes.append(([spec.labels[-1]], np.where(none, 0, -1), y))
        return passes
    everyone = np.zeros_like(y)
    return [
        ([label], everyone, ((rows["benefits"] & BENEFIT_BITS[code]) > 0).astype(np.int64))
        for code, label in INCLUDED_BENEFITS.items()
    ]


def _rows(pm: pl.DataFrame) -> dict[str, np.ndarray]:
    pair = pm.filter(pl.col("k").is_in(PAIRED_MONTHS))
    rows = {
        "pid": pair["pid"].cast(pl.Int64).to_numpy(),
        "pair": (pair["k"] == PAIRED_MONTHS[1]).cast(pl.Int64).to_numpy(),
        "band": pair["band"].cast(pl.Int64).to_numpy(),
        "age_group": pair["age_group"].cast(pl.Int64).to_numpy(),
        "on_any": pair["on_any"].cast(pl.Int64).to_numpy(),
        "benefits": pair["benefits"].cast(pl.Int64).to_numpy(),
        "conditions": pair["conditions"].cast(pl.Int64).to_numpy(),
        "weight": pair["weight"].to_numpy(),
    }
    for spec in breakdowns():
        if spec.kind == "partition" and spec.breakdown in pair.columns:
            rows[spec.breakdown] = pair[spec.breakdown].to_physical().cast(pl.Int64).to_numpy()
    return rows


def pair_sums(
    pm: pl.DataFrame, *, tables: Sequence[str] | None = None, weighted: bool = False
) -> pl.DataFrame:
    """The sums behind each group's paired covariance (:data:`PAIR_SUMS`), which add up
    over parts of the population (people are in one part each).

    Parameters
    ----------
    pm
        Person-months (:func:`analysis.monthly.person_months`), with ``weight``.
    tables
        The tables to sum for (default: every breakdown).
    weighted
        Use the person-months' weights (1 for everyone otherwise).

    Returns
    -------
    polars.DataFrame
        ``table``, ``group``, ``band_before``, ``band_after`` (indices of the standard
        bands) and the sums, for every combination holding someone.
    """
    rows = _rows(pm)
    n_people = int(rows["pid"].max()) + 1 if rows["pid"].size else 0
    if not weighted:
        rows["weight"] = np.ones_like(rows["weight"])
    parts = []
    for spec in breakdowns():
        if tables is not None and spec.table not in tables:
            continue
        for labels, codes, y in _groups(spec, rows):
            sums = _pair_sums(rows, codes, y, n_people, len(labels))
            label, before, after = np.nonzero(sums["s00"])
            parts.append(
                pl.DataFrame(
                    {
                        "table": spec.table,
                        "group": np.asarray(labels, dtype=object)[label],
                        "band_before": before.astype(np.int8),
                        "band_after": after.astype(np.int8),
                        **{name: sums[name][label, before, after] for name in PAIR_SUMS},
                    },
                    schema=PAIR_SUMS_SCHEMA,
                )
            )
    return pl.concat(parts) if parts else pl.DataFrame(schema=PAIR_SUMS_SCHEMA)


PAIR_SUMS_SCHEMA = {
    "table": pl.String,
    "group": pl.String,
    "band_before": pl.Int8,
    "band_after": pl.Int8,
    **dict.fromkeys(PAIR_SUMS, pl.Float64),
}


def add_pair_sums(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The pair sums of a population built in parts, added up."""
    keys = ["table", "group", "band_before", "band_after"]
    if len(parts) == 1:
        return parts[0]
    return pl.concat(parts).group_by(keys, maintain_order=True).agg(pl.col(PAIR_SUMS).sum())


def covariances_from_sums(
    sums: pl.DataFrame, counts: pl.DataFrame, standard: pl.DataFrame, *, weighted: bool = False
) -> pl.DataFrame:
    """Covariance of each group's standardised percentage in February 2020 and March 2021.

    Parameters
    ----------
    sums
        The pair sums of the whole population (:func:`pair_sums`, :func:`add_pair_sums`).
    counts
        Its monthly counts (:func:`analysis.monthly.monthly_counts`; weighted sums too
        when ``weighted``).
    standard
        The standard population used for the rates.
    weighted
        The sums and counts are weighted (the ``ipw`` and ``calibrated`` estimates).

    Returns
    -------
    polars.DataFrame
        ``table``, ``group`` and ``asr_cov`` (per cent squared).
    """
    lookup = _band_lookup(counts, standard, weighted)
    tables = set(counts["table"].unique().to_list())
    bands = len(STANDARD_BANDS)
    out: list[tuple[str, str, float]] = []
    for spec in breakdowns():
        if spec.table not in tables:
            continue
        # The table's groups, whichever passes of :func:`_groups` summed them.
        labels = list(spec.labels)
        c, p = _dense(lookup.filter(pl.col("table") == spec.table), labels)
        index = (
            sums.filter(pl.col("table") == spec.table)
            .with_columns(
                pl.col("group")
                .replace_strict(labels, list(range(len(labels))), default=-1)
                .alias("g")
            )
            .filter(pl.col("g") >= 0)
        )
        at = tuple(index[column].to_numpy() for column in ("g", "band_before", "band_after"))
        dense = {}
        for name in PAIR_SUMS:
            dense[name] = np.zeros((len(labels), bands, bands))
            dense[name][at] = index[name].to_numpy()
        cov = _covariance_from_sums(dense, c, p)
        out += [
            (spec.table, label, float(v) * 100.0**2) for label, v in zip(labels, cov, strict=True)
        ]
    return pl.DataFrame(
        out, schema={"table": pl.String, "group": pl.String, "asr_cov": pl.Float64}, orient="row"
    )


def paired_covariances(
    pm: pl.DataFrame, counts: pl.DataFrame, standard: pl.DataFrame, *, weighted: bool = False
) -> pl.DataFrame:
    """Covariance of each group's standardised percentage in February 2020 and March 2021,
    from one population's person-months (:func:`pair_sums`, then
    :func:`covariances_from_sums`).

    Parameters
    ----------
    pm
        Person-months (:func:`analysis.monthly.person_months`), with ``weight``.
    counts
        Their monthly counts (:func:`analysis.monthly.monthly_counts`; weighted sums too
        when ``weighted``).
    standard
        The standard population used for the rates.
    weighted
        Use the inverse-probability weights (the ``ipw`` estimate).

    Returns
    -------
    polars.DataFrame
        ``table``, ``group`` and ``asr_cov`` (per cent squared).
    """
    tables = counts["table"].unique().to_list()
    sums = pair_sums(pm, tables=tables, weighted=weighted)
    return covariances_from_sums(sums, counts, standard, weighted=weighted)
