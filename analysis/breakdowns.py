"""The published breakdowns: one category scheme per dimension, in publication order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from analysis.reference import (
    AGE_GROUPS,
    CONDITIONS,
    DISABILITY,
    ETHNIC_GROUPS,
    ETHNIC_GROUPS_5,
    INCLUDED_BENEFITS,
    NO_CONDITION,
    SEXES,
    UNKNOWN,
    decile_label,
    quintile_label,
    region_names,
)

ALL_PEOPLE = "All people"


@dataclass(frozen=True)
class Breakdown:
    """One published monthly table.

    Attributes
    ----------
    table
        File and sheet name, e.g. ``by_imd_quintile``.
    breakdown
        The dimension, e.g. ``imd_quintile``.
    kind
        ``all`` (one group), ``partition`` (groups split the population, so they add up to
        the ``all`` table and need secondary suppression), ``subsets`` (overlapping groups,
        e.g. conditions) or ``benefits`` (the numerator varies by benefit type).
    labels
        The groups in publication order.
    parents
        For nested schemes, each group's parent group in another published table (an
        ethnic group's high-level group, a decile's quintile): these also form margins.
    parent_table
        The table holding the parent groups.
    title
        Human-readable title for the spreadsheet and charts.
    """

    table: str
    breakdown: str
    kind: Literal["all", "partition", "subsets", "benefits"]
    labels: tuple[str, ...]
    title: str
    parents: dict[str, str] = field(default_factory=dict)
    parent_table: str | None = None


def _with_unknown(labels: list[str]) -> tuple[str, ...]:
    return (*labels, UNKNOWN)


def breakdowns() -> tuple[Breakdown, ...]:
    """Every monthly table the analysis publishes, in publication order."""
    quintiles = [quintile_label(q) for q in range(1, 6)]
    deciles = [decile_label(d) for d in range(1, 11)]
    groups_5 = list(dict.fromkeys(ETHNIC_GROUPS_5.values()))
    ethnic_parents = {ETHNIC_GROUPS[code]: ETHNIC_GROUPS_5[code] for code in ETHNIC_GROUPS}
    ethnic_parents[UNKNOWN] = UNKNOWN
    decile_parents = {decile_label(d): quintile_label((d + 1) // 2) for d in range(1, 11)}
    decile_parents[UNKNOWN] = UNKNOWN
    return (
        Breakdown("overall", "all", "all", (ALL_PEOPLE,), "All people aged 16 to 64"),
        Breakdown(
            "by_imd_quintile",
            "imd_quintile",
            "partition",
            _with_unknown(quintiles),
            "Index of Multiple Deprivation 2019 quintile",
        ),
        Breakdown(
            "by_imd_decile",
            "imd_decile",
            "partition",
            _with_unknown(deciles),
            "Index of Multiple Deprivation 2019 decile",
            decile_parents,
            "by_imd_quintile",
        ),
        Breakdown(
            "by_ethnic_group",
            "ethnic_group",
            "partition",
            _with_unknown(list(ETHNIC_GROUPS.values())),
            "Ethnic group (18 categories)",
            ethnic_parents,
            "by_ethnic_group_5",
        ),
        Breakdown(
            "by_ethnic_group_5",
            "ethnic_group_5",
            "partition",
            _with_unknown(groups_5),
            "Ethnic group (5 categories)",
        ),
        Breakdown("by_sex", "sex", "partition", _with_unknown(list(SEXES.values())), "Sex"),
        Breakdown(
            "by_age_band",
            "age_band",
            "partition",
            tuple(label for label, _, _ in AGE_GROUPS),
            "Age band",
        ),
        Breakdown(
            "by_region", "region", "partition", _with_unknown(list(region_names())), "Region"
        ),
        Breakdown(
            "by_disability",
            "disability",
            "partition",
            _with_unknown(list(DISABILITY.values())),
            "Disability (2011 Census)",
        ),
        Breakdown(
            "by_condition",
            "condition",
            "subsets",
            (*CONDITIONS.values(), NO_CONDITION),
            "Long-term condition (GP records)",
        ),
        Breakdown(
            "by_benefit",
            "benefit",
            "benefits",
            tuple(INCLUDED_BENEFITS.values()),
            "Benefit type",
        ),
    )


def breakdown(table: str) -> Breakdown:
    """The breakdown published as ``table``."""
    for item in breakdowns():
        if item.table == table:
            return item
    valid = ", ".join(item.table for item in breakdowns())
    raise KeyError(f"Unknown table {table!r}; valid tables: {valid}.")


def _label(column: str, mapping: dict, labels: tuple[str, ...]) -> pl.Expr:
    return (
        pl.col(column)
        .replace_strict(mapping, default=UNKNOWN, return_dtype=pl.String)
        .fill_null(UNKNOWN)
        .cast(pl.Enum(list(labels)))
    )


def person_labels(people: pl.DataFrame) -> pl.DataFrame:
    """The group of each person in every person-level breakdown (Enum columns).

    Parameters
    ----------
    people
        :attr:`analysis.population.StudyPopulation.people`.
    """
    spec = {item.breakdown: item for item in breakdowns()}
    quintiles = {q: quintile_label(q) for q in range(1, 6)}
    deciles = {d: decile_label(d) for d in range(1, 11)}
    regions = {name: name for name in region_names()}
    groups_5 = {code: ETHNIC_GROUPS_5[code] for code in ETHNIC_GROUPS}
    return people.select(
        "pid",
        _label("imd_quintile", quintiles, spec["imd_quintile"].labels).alias("imd_quintile"),
        _label("imd_decile", deciles, spec["imd_decile"].labels).alias("imd_decile"),
        _label("ethnic_group", ETHNIC_GROUPS, spec["ethnic_group"].labels).alias("ethnic_group"),
        _label("ethnic_group", groups_5, spec["ethnic_group_5"].labels).alias("ethnic_group_5"),
        _label("sex", SEXES, spec["sex"].labels).alias("sex"),
        _label("region", regions, spec["region"].labels).alias("region"),
        _label("disability", DISABILITY, spec["disability"].labels).alias("disability"),
    )
