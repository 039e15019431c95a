"""The sums behind every estimate, counted a part of the population at a time.

Every estimate is a function of sums over people: the monthly counts (people, recipients
and their weighted sums), the pair sums of the paired covariances, the flow's counts and the
census base's pattern counts. A person is in one part only (:func:`population_parts`), so
each sum of the whole population is the sum of the parts' sums: the analysis holds one
part's person-months at a time, and the estimates are those of the whole (to the last
digits of floating-point addition).

Two passes over the parts: the first gives the unweighted sums and the pattern counts the
weights are fitted to; the second, the weighted sums under each set of weights.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import polars as pl

from analysis.config import AnalysisConfig
from analysis.monthly import WEIGHTED_SUMS, monthly_counts, person_months
from analysis.paired import add_pair_sums, pair_sums
from analysis.population import (
    PreparedSources,
    StudyPopulation,
    build_study_population,
    population_parts,
)
from analysis.weighting import add_patterns, census_patterns, person_weights

COUNT_KEYS = ["table", "breakdown", "group", "k", "age_band"]
T = TypeVar("T")


@dataclass(frozen=True)
class Sums:
    """Sums over a population (or a part of it) under one set of weights.

    Attributes
    ----------
    counts
        :func:`analysis.monthly.monthly_counts` of its person-months.
    pairs
        :func:`analysis.paired.pair_sums` of them.
    person_months
        How many person-months.
    """

    counts: pl.DataFrame
    pairs: pl.DataFrame
    person_months: int


def sums_of(
    population: StudyPopulation,
    tables: Sequence[str] | None,
    pattern_weights: pl.DataFrame | None = None,
) -> Sums:
    """The sums of one population, unweighted or under the weights of each person's
    covariate pattern."""
    weighted = pattern_weights is not None
    weights = person_weights(population.people, pattern_weights) if weighted else None
    pm = person_months(population, weights)
    return Sums(
        counts=monthly_counts(pm, tables=tables, weighted=weighted),
        pairs=pair_sums(pm, tables=tables, weighted=weighted),
        person_months=pm.height,
    )


def add_sums(parts: list[Sums]) -> Sums:
    """The sums of a population built in parts, added up (one part: itself)."""
    if len(parts) == 1:
        return parts[0]
    counts = pl.concat([part.counts for part in parts])
    sums = [c for c in ("n", "d", *WEIGHTED_SUMS) if c in counts.columns]
    return Sums(
        counts=counts.group_by(COUNT_KEYS, maintain_order=True).agg(pl.col(sums).sum()),
        pairs=add_pair_sums([part.pairs for part in parts]),
        person_months=sum(part.person_months for part in parts),
    )


def add_flows(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The sample-flow tables of the parts, added step by step."""
    if len(parts) == 1:
        return parts[0]
    return (
        pl.concat(parts)
        .group_by("step", "criterion", maintain_order=True)
        .agg(pl.col("people").sum(), pl.col("removed").sum())
        .sort("step")
    )


class PopulationParts:
    """The study population of one spine as parts of at most ``people_per_part`` census
    records, each built in this process when a pass maps a function over them; a population
    of one part is built once and kept. (:class:`analysis.spark_parts.SparkParts` builds
    the parts on Spark's executors instead.)
    """

    def __init__(
        self, sources: PreparedSources, spine: pl.DataFrame, config: AnalysisConfig
    ) -> None:
        self.sources = sources
        self.spine = spine
        self.config = config
        self.parts = max(1, math.ceil(sources.census_records / config.people_per_part))
        self._whole: StudyPopulation | None = None

    def map(self, function: Callable[[StudyPopulation], T]) -> list[T]:
        """``function`` of each part's population, in the order of the parts."""
        if self.parts > 1:
            return [
                function(population)
                for population in population_parts(
                    self.sources, self.spine, self.config, self.parts
                )
            ]
        if self._whole is None:
            self._whole = build_study_population(self.sources, self.spine, self.config)
        return [function(self._whole)]


class Parts(Protocol):
    """A population in parts that a pass maps a function over (in this process or on
    Spark's executors)."""

    def map(self, function: Callable[[StudyPopulation], T]) -> list[T]: ...


@dataclass(frozen=True)
class FirstPass:
    """The unweighted sums, the flow and the census base's pattern counts of a population.
    ``sums`` is None for a part without study people (it adds nothing, and its empty
    tables have no types to add)."""

    sums: Sums | None
    flow: pl.DataFrame
    patterns: pl.DataFrame


def first_of(population: StudyPopulation, tables: Sequence[str] | None) -> FirstPass:
    """The first pass over one part."""
    return FirstPass(
        sums=sums_of(population, tables) if population.people.height else None,
        flow=population.flow,
        patterns=census_patterns(population.census_base),
    )


def weighted_of(
    population: StudyPopulation,
    tables: Sequence[str] | None,
    weights: Mapping[str, pl.DataFrame],
) -> dict[str, Sums] | None:
    """The weighted pass over one part: its sums under each set of pattern weights (label
    to weights); None for a part without study people."""
    if not population.people.height:
        return None
    return {label: sums_of(population, tables, w) for label, w in weights.items()}


def first_pass(populations: Parts, tables: Sequence[str] | None) -> FirstPass:
    """The unweighted sums, flow and pattern counts, added over the parts."""
    parts = populations.map(functools.partial(first_of, tables=tables))
    sums = [part.sums for part in parts if part.sums is not None]
    if not sums:  # nobody in the study: the (empty) sums of the whole population
        sums = populations.map(functools.partial(sums_of, tables=tables))[:1]
    return FirstPass(
        add_sums(sums),
        add_flows([part.flow for part in parts]),
        add_patterns([part.patterns for part in parts]),
    )


def weighted_pass(
    populations: Parts, tables: Sequence[str] | None, weights: Mapping[str, pl.DataFrame]
) -> dict[str, Sums]:
    """The sums under each set of pattern weights (label to weights), added over the parts
    (the pass is only made for a population with study people)."""
    parts = populations.map(functools.partial(weighted_of, tables=tables, weights=weights))
    held = [part for part in parts if part is not None]
    if not held:  # nobody in the study: the (empty) sums of the whole population
        return {
            label: populations.map(
                functools.partial(sums_of, tables=tables, pattern_weights=pattern_weights)
            )[0]
            for label, pattern_weights in weights.items()
        }
    return {label: add_sums([part[label] for part in held]) for label in weights}
