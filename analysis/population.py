"""The study population: linked people, their characteristics, and the sample-flow table.

A *person* is a spine cluster that holds a census record. Characteristics come from the
census (the person's census record with the smallest id, should a cluster hold two),
conditions from every linked GP record, deaths from the linked GP registrations and benefits
from every linked DWP key (a person with several keys or GP records counts once: the maximum
of the flags).

Choices a reader should know (also in ``docs/analysis.md``):

- *present in GP data*: a linked registration that overlaps November 2019 - March 2021;
- *alive*: no death before 1 November 2019; a person leaves the population in the month of
  their death (that month and later are not counted);
- *age*: completed years on the first day of each month, from the census date of birth.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from analysis.config import AnalysisConfig
from analysis.inputs import Sources
from analysis.reference import (
    CONDITIONS,
    INCLUDED_BENEFITS,
    MAX_AGE,
    MIN_AGE,
    MONTHS,
    STUDY_END,
    STUDY_START,
    lsoa_lookup,
)

N_MONTHS = len(MONTHS)
CONDITION_FLAGS = tuple(f"has_{code.lower()}" for code in CONDITIONS)
#: Bit of each included benefit in the ``benefits`` mask of a person-month.
BENEFIT_BITS: dict[str, int] = {code: 1 << i for i, code in enumerate(INCLUDED_BENEFITS)}


def receives(code: str) -> pl.Expr:
    """True for person-months with benefit ``code`` (e.g. ``"UC"``), from the mask."""
    return (pl.col("benefits") & BENEFIT_BITS[code]) > 0


@dataclass(frozen=True)
class StudyPopulation:
    """People in the study, the months they receive benefits, and how they were selected.

    Attributes
    ----------
    people
        One row per study person: ``pid`` (u32), ``person_id``, census characteristics
        (``sex``, ``ethnic_group``, ``disability``, ``imd_decile``, ``imd_quintile``,
        ``region``), ``birth_year``, ``birth_month``, ``birth_day``, ``exit_month`` (index of
        the month of death, 17 when none) and one ``has_<cluster>`` flag per condition.
    benefit_months
        One row per person and month with an included benefit: ``pid``, ``k`` (month index,
        0 = November 2019) and ``benefits``, a bit mask of the benefits received
        (:data:`BENEFIT_BITS`; test one with :func:`receives`).
    flow
        The sample-flow table: ``step``, ``criterion``, ``people``, ``removed``.
    census_base
        Every census person passing the census-only criteria and of working age in the
        study: characteristics, ``age_band_2019`` and ``linked`` (kept by the linkage
        criteria), ``pid`` (null when not linked); the input of the linkage model for
        inverse-probability weights.
    """

    people: pl.DataFrame
    benefit_months: pl.DataFrame
    flow: pl.DataFrame
    census_base: pl.DataFrame


def month_index(date: pl.Expr) -> pl.Expr:
    """Index of a date's month in the study (0 = November 2019, 16 = March 2021)."""
    return (
        (date.dt.year().cast(pl.Int32) - 2019) * 12 + date.dt.month().cast(pl.Int32) - 11
    ).alias("k")


def age_at_month(k: pl.Expr) -> pl.Expr:
    """Completed years of age on the first day of study month ``k`` (needs birth columns)."""
    year = 2019 + (k + 10) // 12
    month = (k + 10) % 12 + 1
    before_birthday = (month < pl.col("birth_month")) | (
        (month == pl.col("birth_month")) & (pl.col("birth_day") > 1)
    )
    return (year - pl.col("birth_year") - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def _key(column: str) -> pl.Expr:
    # Identifiers are joined on a 64-bit hash of the string: exact for distinct record ids
    # (checked in ``_spine_keys``) and many times faster than joining strings at scale.
    return pl.col(column).cast(pl.String).hash(seed=0)


def _spine_keys(spine: pl.DataFrame) -> pl.DataFrame:
    # A record listed twice would only repeat rows that are later reduced per person (first
    # census record, any GP flag, earliest death, or of benefit flags), so it needs no check.
    return spine.select(
        "source", _key("record_id").alias("rkey"), _key("person_id").alias("person"), "person_id"
    )


def _linked_records(spine: pl.DataFrame, source: str) -> pl.DataFrame:
    return spine.filter(pl.col("source") == source).select("rkey", "person")


@dataclass(frozen=True)
class PreparedSources:
    """The sources with everything that does not depend on the spine already derived
    (hashed record keys, geography, birth date parts, spell months), so a run can rebuild
    the population for several spines (linked, truth, thresholds) cheaply."""

    census: pl.DataFrame
    census_records: int
    gp_registrations: pl.DataFrame
    gp_conditions: pl.DataFrame
    dwp_spells: pl.DataFrame


def prepare_sources(sources: Sources, config: AnalysisConfig) -> PreparedSources:
    """Derive the spine-independent columns of the sources once."""
    census = sources.census.with_columns(_key("census_person_id").alias("rkey")).join(
        lsoa_lookup(), on="lsoa11cd", how="left"
    )
    census = census.with_columns(
        pl.col("date_of_birth").dt.year().cast(pl.Int32).alias("birth_year"),
        pl.col("date_of_birth").dt.month().cast(pl.Int32).alias("birth_month"),
        pl.col("date_of_birth").dt.day().cast(pl.Int32).alias("birth_day"),
        pl.col("imd_decile").is_not_null().alias("in_england"),
    )
    overlaps = (
        pl.col("registration_date").is_null() | (pl.col("registration_date") <= STUDY_END)
    ) & (pl.col("deregistration_date").is_null() | (pl.col("deregistration_date") >= STUDY_START))
    registrations = sources.gp_registrations.select(
        _key("gp_record_id").alias("rkey"),
        overlaps.alias("overlaps"),
        "date_of_death",
        pl.col("sex").replace_strict({"M": "1", "F": "2"}, default=None).alias("gp_sex"),
    )
    conditions = sources.gp_conditions.filter(
        pl.col("cluster").is_in(list(CONDITIONS))
        & (pl.col("event_date").is_null() | (pl.col("event_date") <= config.conditions_recorded_by))
    ).select(
        _key("gp_record_id").alias("rkey"),
        *(
            (pl.col("cluster") == code).alias(flag)
            for code, flag in zip(CONDITIONS, CONDITION_FLAGS, strict=True)
        ),
    )
    spells = (
        sources.dwp_benefit_spells.filter(pl.col("benefit").is_in(list(INCLUDED_BENEFITS)))
        .with_columns(
            month_index(pl.col("start_date")).clip(lower_bound=0).alias("first"),
            month_index(pl.col("end_date"))
            .fill_null(N_MONTHS - 1)
            .clip(upper_bound=N_MONTHS - 1)
            .alias("last"),
        )
        .filter(pl.col("first") <= pl.col("last"))
        .select(
            _key("dwp_master_key").alias("rkey"),
            pl.col("benefit").replace_strict(BENEFIT_BITS, return_dtype=pl.UInt16).alias("bit"),
            "first",
            "last",
        )
    )
    return PreparedSources(
        census=census,
        census_records=sources.census.height,
        gp_registrations=registrations,
        gp_conditions=conditions,
        dwp_spells=spells,
    )


def _census_people(sources: PreparedSources, spine: pl.DataFrame) -> pl.DataFrame:
    linked = spine.filter(pl.col("source") == "census").select("rkey", "person", "person_id")
    census = (
        sources.census.join(linked, on="rkey", how="left")
        .with_columns(
            # A census record the spine does not list is a person of its own.
            pl.coalesce(
                "person_id", pl.lit("census:") + pl.col("census_person_id").cast(pl.String)
            ).alias("person_id")
        )
        .with_columns(pl.coalesce("person", _key("person_id")).alias("person"))
    )
    # Should a cluster hold two census records, the first in the extract describes the person.
    return census.unique("person", keep="first", maintain_order=True)


def _gp_facts(sources: PreparedSources, spine: pl.DataFrame) -> pl.DataFrame:
    gp_records = _linked_records(spine, "gp")
    facts = (
        sources.gp_registrations.join(gp_records, on="rkey", how="inner")
        .group_by("person")
        .agg(
            pl.lit(True).alias("gp_linked"),
            pl.col("overlaps").any().alias("gp_present"),
            pl.col("date_of_death").min().alias("date_of_death"),
            pl.col("gp_sex").drop_nulls().first().alias("gp_sex"),
        )
    )
    recorded = (
        sources.gp_conditions.join(gp_records, on="rkey", how="inner")
        .group_by("person")
        .agg(pl.col(flag).any() for flag in CONDITION_FLAGS)
    )
    return facts.join(recorded, on="person", how="left")


def _dwp_facts(sources: PreparedSources, spine: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    keys = _linked_records(spine, "dwp")
    linked_people = keys.select("person").unique().with_columns(pl.lit(True).alias("dwp_linked"))
    spells = sources.dwp_spells.join(keys, on="rkey", how="inner").select(
        "person", "bit", "first", "last"
    )
    return linked_people, spells


def _benefit_months(spells: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """Each study person's benefits by month, as a bit mask (person with several keys or
    overlapping spells counts once: the bitwise or of the flags)."""
    months = (
        spells.join(kept.select("person", "pid"), on="person", how="inner")
        .select(
            "pid",
            "bit",
            pl.int_ranges("first", pl.col("last") + 1, dtype=pl.Int32).alias("k"),
        )
        .explode("k")
    )
    # One scatter over a dense (person x month) array: far faster than a hash group-by
    # with millions of groups.
    key = (months["pid"].cast(pl.Int64) * N_MONTHS + months["k"]).to_numpy()
    mask = np.zeros(kept.height * N_MONTHS, dtype=np.uint16)
    np.bitwise_or.at(mask, key, months["bit"].to_numpy())
    cells = np.flatnonzero(mask)
    return pl.DataFrame(
        {
            "pid": (cells // N_MONTHS).astype(np.uint32),
            "k": (cells % N_MONTHS).astype(np.int32),
            "benefits": mask[cells],
        }
    )


def _flow_row(step: int, criterion: str, kept: pl.DataFrame, before: int) -> dict[str, object]:
    return {
        "step": step,
        "criterion": criterion,
        "people": kept.height,
        "removed": before - kept.height,
    }


PEOPLE_COLUMNS = [
    "pid",
    "person_id",
    "sex",
    "ethnic_group",
    "disability",
    "imd_decile",
    "imd_quintile",
    "region",
    "birth_year",
    "birth_month",
    "birth_day",
    "exit_month",
    *CONDITION_FLAGS,
]
"""The columns of :attr:`StudyPopulation.people`."""

CENSUS_ONLY_STEPS = 4
"""Steps 2 to 4 of the flow (usual resident, in England, not wholly imputed) need the census
alone; the census base for weighting is the people who pass them and are of working age."""


def build_study_population(
    sources: Sources | PreparedSources, spine: pl.DataFrame, config: AnalysisConfig
) -> StudyPopulation:
    """Select the study population from the sources joined through a person spine.

    Parameters
    ----------
    sources
        The source extracts (:func:`analysis.inputs.read_sources`), or the same prepared
        once by :func:`prepare_sources` when several spines are analysed.
    spine
        ``source``, ``record_id``, ``person_id``: the linkage's spine, or a perfect or
        re-clustered one.
    config
        The analysis options (``require_dwp_link``, ``conditions_recorded_by``).
    """
    if isinstance(sources, Sources):
        sources = prepare_sources(sources, config)
    spine = _spine_keys(spine)
    people = _census_people(sources, spine)
    gp = _gp_facts(sources, spine)
    dwp_people, spells = _dwp_facts(sources, spine)
    people = _with_study_facts(people, gp, dwp_people)
    kept, rows, census_only = _apply_criteria(
        people, _inclusion_criteria(config), sources.census_records
    )
    kept = kept.with_row_index("pid")
    flow = pl.DataFrame(
        rows,
        schema={"step": pl.Int32, "criterion": pl.String, "people": pl.Int64, "removed": pl.Int64},
    )
    return StudyPopulation(
        people=kept.select(PEOPLE_COLUMNS),
        benefit_months=_benefit_months(spells, kept),
        flow=flow,
        census_base=_census_base(people, kept, census_only, config),
    )


def population_parts(
    sources: PreparedSources, spine: pl.DataFrame, config: AnalysisConfig, parts: int
) -> Iterator[StudyPopulation]:
    """The study population built in ``parts`` parts of whole people, one at a time.

    Every record of a person falls in the part of the person's ``person_id`` (a census
    record the spine does not list, in the part of its own person), so each part is the
    study population of its people: their flow counts, census base, person-months and sums
    add up to the whole population's. The rows of one part's people are held at a time; the
    study ``pid`` runs from 0 in each part.
    """
    if parts <= 1:
        yield build_study_population(sources, spine, config)
        return
    spine_part = spine.select(_part(pl.col("person_id"), parts)).to_series()
    linked = (
        spine.filter(pl.col("source") == "census")
        .select(_key("record_id").alias("rkey"), "person_id")
        .unique("rkey", keep="first")
    )
    own_person = pl.lit("census:") + pl.col("census_person_id").cast(pl.String)
    census_part = (
        sources.census.select("rkey", "census_person_id")
        .join(linked, on="rkey", how="left", maintain_order="left")
        .select(_part(pl.coalesce("person_id", own_person), parts))
        .to_series()
    )
    for part in range(parts):
        census = sources.census.filter(census_part == part)
        yield build_study_population(
            replace(sources, census=census, census_records=census.height),
            spine.filter(spine_part == part),
            config,
        )


def _part(person_id: pl.Expr, parts: int) -> pl.Expr:
    """The part of a person: their key (as :func:`_key` hashes ``person_id``) modulo parts."""
    return (person_id.cast(pl.String).hash(seed=0) % parts).alias("part")


def _with_study_facts(
    people: pl.DataFrame, gp: pl.DataFrame, dwp_people: pl.DataFrame
) -> pl.DataFrame:
    """Each census person with their linked GP and DWP facts, completed sex, the month they
    leave the study and whether they are of working age in some study month."""
    return (
        people.join(gp, on="person", how="left")
        .join(dwp_people, on="person", how="left")
        .with_columns(
            pl.col("gp_linked").fill_null(False),
            pl.col("gp_present").fill_null(False),
            pl.col("dwp_linked").fill_null(False),
            *(pl.col(flag).fill_null(False) for flag in CONDITION_FLAGS),
            # The census is the source of characteristics; where its sex is blank, the
            # linked GP record's sex completes it (as a census imputation would).
            pl.when(pl.col("sex").is_in(["1", "2"]))
            .then(pl.col("sex"))
            .otherwise(pl.col("gp_sex"))
            .alias("sex"),
            month_index(pl.col("date_of_death"))
            .fill_null(N_MONTHS)
            .clip(upper_bound=N_MONTHS)
            .alias("exit_month"),
        )
        .with_columns(
            age_at_month(pl.lit(0)).alias("_age_first"),
            # Age only grows, so someone is of working age in some month they are alive in
            # exactly when they are at most 64 at the start and at least 16 in their last month.
            age_at_month(pl.min_horizontal(pl.col("exit_month") - 1, N_MONTHS - 1)).alias(
                "_age_last"
            ),
        )
        .with_columns(
            ((pl.col("_age_last") >= MIN_AGE) & (pl.col("_age_first") <= MAX_AGE))
            .fill_null(False)
            .alias("working_age"),
        )
    )


def _inclusion_criteria(config: AnalysisConfig) -> list[tuple[str, pl.Expr]]:
    """The study's inclusion criteria in the order the flow applies them (from step 2)."""
    criteria: list[tuple[str, pl.Expr]] = [
        ("Usual resident in 2011", pl.col("usual_resident").fill_null(False)),
        ("Resident in England (LSOA 2011)", pl.col("in_england")),
        ("Not wholly imputed", ~pl.col("wholly_imputed").fill_null(False)),
        ("Linked to a GP record (NHS number)", pl.col("gp_linked")),
        ("Present in GP data, November 2019 to March 2021", pl.col("gp_present")),
        ("Alive in the study period (exit in the month of death)", pl.col("exit_month") > 0),
        ("Aged 16 to 64 in at least one study month", pl.col("working_age")),
    ]
    if config.require_dwp_link:
        criteria.append(("Linked to a DWP record", pl.col("dwp_linked")))
    return criteria


def _apply_criteria(
    people: pl.DataFrame, criteria: list[tuple[str, pl.Expr]], census_records: int
) -> tuple[pl.DataFrame, list[dict[str, object]], pl.Expr]:
    """Apply the criteria in turn: the people kept, the flow's rows (census records, then
    people, then one row per criterion) and the census-only criteria combined."""
    rows: list[dict[str, object]] = [
        {"step": 0, "criterion": "Census 2011 records", "people": census_records, "removed": 0},
        {
            "step": 1,
            "criterion": "People (spine clusters holding a census record)",
            "people": people.height,
            "removed": census_records - people.height,
        },
    ]
    kept = people
    census_only = pl.lit(True)
    for index, (criterion, condition) in enumerate(criteria, start=2):
        before = kept.height
        kept = kept.filter(condition)
        rows.append(_flow_row(index, criterion, kept, before))
        if index <= CENSUS_ONLY_STEPS:
            census_only = census_only & condition
    return kept, rows, census_only


def _census_base(
    people: pl.DataFrame, kept: pl.DataFrame, census_only: pl.Expr, config: AnalysisConfig
) -> pl.DataFrame:
    """The census people of working age who pass the census-only criteria, each marked
    ``linked`` if they meet the linkage criteria, with their study ``pid`` if kept."""
    linkage_criteria = pl.col("gp_linked") & pl.col("gp_present")
    if config.require_dwp_link:
        linkage_criteria = linkage_criteria & pl.col("dwp_linked")
    return (
        people.filter(census_only & pl.col("working_age"))
        .join(kept.select("person", "pid"), on="person", how="left")
        .with_columns(
            linkage_criteria.alias("linked"),
            pl.col("_age_first").clip(lower_bound=MIN_AGE, upper_bound=MAX_AGE).alias("age_2019"),
        )
        .select(
            "pid",
            "linked",
            "age_2019",
            "sex",
            "ethnic_group",
            "disability",
            "imd_quintile",
            "region",
        )
    )
