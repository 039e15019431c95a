"""How the synthetic world's coverage and linkage compare with ONS's published figures.

ONS report who the linked census data leave out (STUDY.md section 3): census 2021 to the
NHS Personal Demographics Service linked 95.75%, under-representing people aged 20-29, men,
ethnic minorities and London; census 2011 to NHS numbers linked above 80% in every ethnic
group; census 2011 to DWP 96.7% after the second stage. This module measures the same
shares in a run, by the groups ONS name, so that a world kinder than reality shows up. It
reads the truth: it checks the *world*, never chooses a linkage setting.

The comparable quantities in our pipeline (census 2011 -> GP extract 2021, census 2011 ->
DWP customers) differ from ONS's in timing and register, so each share is given with the
population it is measured on:

- ``census_to_gp``: census records (not wholly imputed) of people alive and living in
  England on the GP extract day, linked to any GP record. Below ONS's 95.75% by design:
  the GP extract covers practices with 93.5% of patients and leaves out type-1 opt-outs,
  where the PDS holds everyone.
- ``census_to_dwp``: census records (not wholly imputed) of people aged 16 or over on the
  extract day (DWP keeps customers who died or left), linked to any DWP record.
- ``in_gp`` and ``in_dwp``: the same records whose person has a record in the source at
  all (coverage); the difference from the linked share is missed links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from analysis.reference import ETHNIC_GROUPS
from evaluation.intervals import difference_columns, wilson_columns

EXTRACT_DAY = date(2021, 3, 31)
"""The GP extract's reference day (registrations at 31 March 2021)."""

AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 15, "0-15"),
    (16, 19, "16-19"),
    (20, 29, "20-29"),
    (30, 44, "30-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 200, "65+"),
)
"""Ages on the extract day, with ONS's 20-29 as its own band.

ONS's under-represented 20-29 are aged so at the linkage (census 2021 and the register at
the same time); here the registers are those of 2021, so ages are taken on the extract day.
"""

MINORITY = "All ethnic minority groups"
REST_OF_ENGLAND = "Rest of England"
MEASURES: tuple[str, ...] = ("census_to_gp", "in_gp", "census_to_dwp", "in_dwp")


@dataclass(frozen=True)
class OnsFigure:
    """One published statement of ONS about census linkage, as a comparison for a share.

    ``kind`` says how the share is compared: ``level`` (ONS publish the share: the world is
    kinder above it, unkinder below it), ``floor`` (ONS publish a lower bound: only below it
    is the world unkinder) or ``below_rest`` (ONS say the group is under-represented among
    linked records, without a size: the world is as unkind when the group's share is below
    that of everyone else, kinder when above). ``group`` ``None`` applies to every group of
    the breakdown.
    """

    measure: str
    breakdown: str
    group: str | None
    kind: str
    figure: float | None
    source: str


_PDS_2021 = "ONS, Census 2021 to NHS Personal Demographics Service linkage (STUDY.md s3)"
ONS_FIGURES: tuple[OnsFigure, ...] = (
    OnsFigure("census_to_gp", "all", "all", "level", 0.9575, f"{_PDS_2021}: 95.75% linked"),
    OnsFigure(
        "census_to_dwp",
        "all",
        "all",
        "level",
        0.967,
        "ONS, Census 2011 to DWP master key linkage (STUDY.md s3): 96.7% after stage 2",
    ),
    OnsFigure(
        "census_to_gp",
        "ethnic_group",
        None,
        "floor",
        0.80,
        "ONS, Census 2011 to NHS Patient Register 2011-13 (STUDY.md s3): more than 80% "
        "linked in every ethnic group",
    ),
    *(
        OnsFigure(
            "census_to_gp",
            breakdown,
            group,
            "below_rest",
            None,
            f"{_PDS_2021}: {label} under-represented among linked records",
        )
        for breakdown, group, label in (
            ("age_band", "20-29", "people aged 20-29"),
            ("sex", "Male", "men"),
            ("minority", MINORITY, "ethnic minorities"),
            ("london", "London", "London residents"),
        )
    ),
    OnsFigure(
        "census_to_dwp",
        "minority",
        MINORITY,
        "below_rest",
        None,
        "ONS (STUDY.md s3): missed matches concentrate in minority ethnic groups",
    ),
)
"""ONS's published figures on who census linkage leaves out, copied from STUDY.md section 3
(ONS linkage methodology for the Census 2021 and Census 2011 linked data assets)."""

GP_EXTRACT_CEILING = 0.935 * (1 - 0.027)
"""Most of the census a GP extract can hold, so ONS's census-to-register figures are compared
with the GP extract's share on this scale: GDPPR practices hold 93.5% of patients (STUDY.md
s2) and type-1 opt-outs (2.7% in the synthetic world's defaults) are left out, where the NHS
registers ONS linked to hold everyone."""

MEASURE_SCALE: dict[str, float] = {"census_to_gp": GP_EXTRACT_CEILING, "census_to_dwp": 1.0}
"""Factor turning an ONS figure into the reference for a measure."""

VERDICTS: tuple[str, ...] = ("kinder", "as unkind", "unkinder", "no difference shown")
"""How the world compares with reality, only called a difference when the interval of the
gap excludes ONS's figure (or, for ``below_rest``, excludes no gap from everyone else)."""


def _age_on(dob: pl.Expr, on: date) -> pl.Expr:
    birthday_to_come = (dob.dt.month() > on.month) | (
        (dob.dt.month() == on.month) & (dob.dt.day() > on.day)
    )
    return pl.lit(on.year) - dob.dt.year() - birthday_to_come.cast(pl.Int32)


def _age_band(dob: pl.Expr) -> pl.Expr:
    age = _age_on(dob, EXTRACT_DAY)
    expr = pl.when(age < 0).then(pl.lit(None, dtype=pl.Utf8))
    for low, high, label in AGE_BANDS:
        expr = expr.when(age.is_between(low, high)).then(pl.lit(label))
    return expr


def _after_extract(day: pl.Expr) -> pl.Expr:
    return day.is_null() | (day > pl.lit(EXTRACT_DAY))


def census_record_outcomes(
    people: pl.DataFrame, record_map: pl.DataFrame, spine: pl.DataFrame, census: pl.DataFrame
) -> pl.DataFrame:
    """One row per census record that is not wholly imputed, with its person and links.

    Parameters
    ----------
    people
        ``truth/people.parquet``.
    record_map
        ``truth/record_map.parquet`` (``source, record_id, person_id``).
    spine
        ``linkage/spine.parquet`` (``source, record_id, person_id`` = cluster).
    census
        ``sources/census.parquet`` (``census_person_id, wholly_imputed``).

    Returns
    -------
    polars.DataFrame
        ``person_id``, ``sex``, ``age_band`` (on the extract day), ``ethnic_group``, ``region``,
        ``here_at_extract`` (alive and not emigrated on the extract day), ``adult_at_extract``
        (aged 16 or over then), ``in_gp``, ``in_dwp`` (the person has a record there),
        ``linked_gp``, ``linked_dwp`` (the record's cluster holds one).
    """
    responded = census.filter(~pl.col("wholly_imputed")).select(
        pl.col("census_person_id").alias("record_id")
    )
    truth = record_map.select("source", "record_id", pl.col("person_id").alias("person"))
    clusters = spine.select("source", "record_id", pl.col("person_id").alias("cluster"))
    census_records = (
        truth.filter(pl.col("source") == "census")
        .join(responded, on="record_id")
        .join(clusters, on=["source", "record_id"], how="left")
    )
    for source in ("gp", "dwp"):
        holders = truth.filter(pl.col("source") == source).select("person").unique()
        linked = clusters.filter(pl.col("source") == source).select("cluster").unique()
        census_records = census_records.join(
            holders.with_columns(pl.lit(True).alias(f"in_{source}")), on="person", how="left"
        ).join(
            linked.with_columns(pl.lit(True).alias(f"linked_{source}")), on="cluster", how="left"
        )
    return census_records.join(people, left_on="person", right_on="person_id").select(
        pl.col("person").alias("person_id"),
        pl.col("sex").replace_strict({"M": "Male", "F": "Female"}, default=None),
        _age_band(pl.col("date_of_birth")).alias("age_band"),
        pl.col("ethnic_group").replace_strict(ETHNIC_GROUPS, default=None),
        pl.col("region_2011").alias("region"),
        (_after_extract(pl.col("date_of_death")) & _after_extract(pl.col("emigration_date"))).alias(
            "here_at_extract"
        ),
        (_age_on(pl.col("date_of_birth"), EXTRACT_DAY) >= 16).alias("adult_at_extract"),
        *[pl.col(c).fill_null(False) for c in ("in_gp", "in_dwp", "linked_gp", "linked_dwp")],
    )


def _group_columns() -> dict[str, pl.Expr]:
    white_british = ETHNIC_GROUPS["01"]
    return {
        "all": pl.lit("all"),
        "sex": pl.col("sex"),
        "age_band": pl.col("age_band"),
        "ethnic_group": pl.col("ethnic_group"),
        "minority": pl.when(pl.col("ethnic_group") == white_british)
        .then(pl.lit(white_british))
        .otherwise(pl.lit(MINORITY)),
        "london": pl.when(pl.col("region") == "London")
        .then(pl.lit("London"))
        .otherwise(pl.lit(REST_OF_ENGLAND)),
    }


def world_shares(outcomes: pl.DataFrame) -> pl.DataFrame:
    """Linked and covered shares of census records, overall and by ONS's groups.

    Parameters
    ----------
    outcomes
        Output of :func:`census_record_outcomes`.

    Returns
    -------
    polars.DataFrame
        ``measure`` (:data:`MEASURES`), ``breakdown``, ``group``, ``records``, ``count``,
        ``share`` with its Wilson limits.
    """
    populations = {
        "census_to_gp": ("here_at_extract", "linked_gp"),
        "in_gp": ("here_at_extract", "in_gp"),
        "census_to_dwp": ("adult_at_extract", "linked_dwp"),
        "in_dwp": ("adult_at_extract", "in_dwp"),
    }
    parts = []
    for measure, (population, success) in populations.items():
        scope = outcomes.filter(pl.col(population))
        for breakdown, group in _group_columns().items():
            parts.append(
                scope.with_columns(group.alias("group"))
                .drop_nulls("group")
                .group_by("group")
                .agg(pl.len().alias("records"), pl.col(success).sum().alias("count"))
                .select(
                    pl.lit(measure).alias("measure"),
                    pl.lit(breakdown).alias("breakdown"),
                    "group",
                    pl.col("records").cast(pl.Int64),
                    pl.col("count").cast(pl.Int64),
                )
            )
    return (
        pl.concat(parts)
        .with_columns(*wilson_columns("count", "records", "share"))
        .sort("measure", "breakdown", "group")
    )


def census_flags(record_map: pl.DataFrame, excluded: pl.DataFrame) -> pl.DataFrame:
    """``census_person_id`` and ``wholly_imputed`` of the census records in a record map, from
    the records the linkage left out by design (``source``, ``record_id``): the form
    :func:`census_record_outcomes` reads when the census extract itself is not at hand."""
    imputed = excluded.filter(pl.col("source") == "census").get_column("record_id")
    return record_map.filter(pl.col("source") == "census").select(
        pl.col("record_id").alias("census_person_id"),
        pl.col("record_id").is_in(imputed.implode()).alias("wholly_imputed"),
    )


def _references() -> tuple[pl.DataFrame, pl.DataFrame]:
    """ONS's figures as frames: those for one group, and those for every group."""
    schema = {
        "measure": pl.Utf8,
        "breakdown": pl.Utf8,
        "group": pl.Utf8,
        "ons_kind": pl.Utf8,
        "ons_figure": pl.Float64,
        "ons_source": pl.Utf8,
    }
    frame = pl.DataFrame(
        [(f.measure, f.breakdown, f.group, f.kind, f.figure, f.source) for f in ONS_FIGURES],
        schema=schema,
        orient="row",
    )
    return frame.filter(pl.col("group").is_not_null()), frame.filter(
        pl.col("group").is_null()
    ).drop("group")


def _with_rest(shares: pl.DataFrame) -> pl.DataFrame:
    """Each group's share among everyone else in its measure (``rest``), with its interval."""
    totals = shares.filter(pl.col("breakdown") == "all").select(
        "measure", pl.col("records").alias("_all"), pl.col("count").alias("_all_count")
    )
    return (
        shares.join(totals, on="measure", how="left")
        .with_columns(
            (pl.col("_all") - pl.col("records")).alias("rest_records"),
            (pl.col("_all_count") - pl.col("count")).alias("_rest_count"),
        )
        .with_columns(*wilson_columns("_rest_count", "rest_records", "rest"))
        .drop("_all", "_all_count", "_rest_count")
    )


def _verdict() -> pl.Expr:
    kind, lower, upper = pl.col("ons_kind"), pl.col("gap_lower"), pl.col("gap_upper")
    kinder, as_unkind, unkinder, unshown = VERDICTS
    return (
        pl.when(kind.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(kind == "below_rest")
        .then(
            pl.when(upper < 0)
            .then(pl.lit(as_unkind))
            .when(lower > 0)
            .then(pl.lit(kinder))
            .otherwise(pl.lit(unshown))
        )
        .when(upper < 0)
        .then(pl.lit(unkinder))
        .when((kind == "level") & (lower > 0))
        .then(pl.lit(kinder))
        .otherwise(pl.lit(as_unkind))
    )


def world_comparison(shares: pl.DataFrame) -> pl.DataFrame:
    """The world's shares beside ONS's figures: the table the evaluation stage writes.

    Parameters
    ----------
    shares
        Output of :func:`world_shares`.

    Returns
    -------
    polars.DataFrame
        The columns of ``shares``, then ``ons_kind``, ``ons_figure`` (as published; null for
        ``below_rest``), ``reference`` (the figure on the measure's scale,
        :data:`MEASURE_SCALE`; for ``below_rest`` the share among everyone else),
        ``rest_records``, ``gap`` (share minus reference) with its 95% interval (Wilson limits
        minus a fixed figure; Newcombe's interval against everyone else), ``verdict``
        (:data:`VERDICTS`) and ``ons_source``. Rows without an ONS figure have nulls there.
    """
    exact, every = _references()
    scale = pl.col("measure").replace_strict(MEASURE_SCALE, default=1.0, return_dtype=pl.Float64)
    keyed = (
        _with_rest(shares)
        .join(exact, on=["measure", "breakdown", "group"], how="left")
        .join(every, on=["measure", "breakdown"], how="left", suffix="_every")
        .with_columns(
            pl.coalesce(c, f"{c}_every") for c in ("ons_kind", "ons_figure", "ons_source")
        )
    )
    against_rest = pl.col("ons_kind") == "below_rest"
    gap_to_rest = difference_columns("share", "rest", "gap")
    gap_to_figure = [
        (pl.col(f"share{end}") - pl.col("reference")).alias(f"gap{end}")
        for end in ("", "_lower", "_upper")
    ]
    return (
        keyed.with_columns(
            pl.when(against_rest)
            .then(pl.col("rest"))
            .otherwise(pl.col("ons_figure") * scale)
            .alias("reference")
        )
        .with_columns(
            pl.when(against_rest).then(rest).otherwise(fixed).alias(f"gap{end}")
            for rest, fixed, end in zip(
                gap_to_rest, gap_to_figure, ("", "_lower", "_upper"), strict=True
            )
        )
        .with_columns(_verdict().alias("verdict"))
        .select(
            *shares.columns,
            "ons_kind",
            "ons_figure",
            "reference",
            "rest_records",
            "gap",
            "gap_lower",
            "gap_upper",
            "verdict",
            "ons_source",
        )
    )
