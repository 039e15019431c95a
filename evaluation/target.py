"""The target population's truth, and how far the linked estimates are from it.

The study's question is benefit receipt among *all usual residents of England aged 16-64*
in each month (the target population), not among the people the linked data keep (census
respondents, not wholly imputed, with a GP record, matched to DWP). The synthetic world
knows everyone, including people who never appear in a source or never link, so the target
population's rates can be computed exactly, month by month, in the published groups.

Each published cell then has four figures: the linked estimate, the study-population truth
(the same pipeline with perfect linkage, ``truth_asr`` of ``analysis/published/bias``), the
target-population truth and the weighted estimate. Their differences decompose the total
error of the linked estimate:

- *selection by design* = study truth - target truth (who the sources hold);
- *linkage error* = linked - study truth (missed and false links);
- *sampling*: the linked estimate's 95% interval half-width; a difference is called
  real only when the target truth lies outside the linked interval.

Rules (stated, not tuned to the truth): a person is in the target population in month
``k`` when on the first day of the month they live at an English address
(``truth/residences``), are alive (as in the analysis, a person leaves in the month of their
death) and are aged 16 to 64 in completed years. Benefit receipt is any day of an included
benefit's spell in the month, as in the analysis. Groups are the published ones
(:func:`analysis.breakdowns.person_labels`); deprivation and region are those of the 2011
address where the person had one (as for the census-based study population), else the
address in the month.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import polars as pl

from analysis.breakdowns import ALL_PEOPLE, person_labels
from analysis.rates import age_standardised_rates
from analysis.reference import (
    AGE_GROUPS,
    INCLUDED_BENEFITS,
    MAX_AGE,
    MIN_AGE,
    MONTHS,
    STANDARD_BANDS,
    UNKNOWN,
    esp2013_weights,
    lsoa_lookup,
)
from analysis.tables import CELL_KEYS, COUNTS_AND_RATES
from common.files import staged_output

logger = logging.getLogger(__name__)

N_MONTHS = len(MONTHS)
BREAKDOWNS: tuple[str, ...] = (
    "age_band",
    "sex",
    "ethnic_group",
    "ethnic_group_5",
    "region",
    "imd_quintile",
    "imd_decile",
    "disability",
)
"""Published person-level breakdowns the target truth is given for (with ``overall``)."""

SEX_CODES = {"M": "1", "F": "2", "1": "1", "2": "2"}


class TargetTruthError(ValueError):
    """A truth table lacks what the target population needs."""


def month_index(date: pl.Expr) -> pl.Expr:
    """Study month of a date (0 = November 2019)."""
    return (date.dt.year().cast(pl.Int32) - 2019) * 12 + date.dt.month().cast(pl.Int32) - 11


def _first_month_on_or_after(date: pl.Expr) -> pl.Expr:
    # The first day of month k is on or after ``date`` from the month after, unless
    # ``date`` is itself a first of the month.
    return month_index(date) + (date.dt.day() > 1).cast(pl.Int32)


PERSON_COLUMNS: tuple[str, ...] = (
    "person_id",
    "sex",
    "date_of_birth",
    "ethnic_group",
    "disability",
    "lsoa11cd_2011",
    "date_of_death",
)
"""The columns of ``truth/people.parquet`` the target population needs (and only those:
the table also holds names and numbers, which would multiply by seventeen months)."""


def _areas() -> pl.DataFrame:
    """English LSOAs numbered, so that person-months carry a small integer, not a code."""
    return lsoa_lookup().with_row_index("area").with_columns(pl.col("area").cast(pl.Int32))


def _people(truth_dir: Path, areas: pl.DataFrame) -> pl.DataFrame:
    """``pid`` (row number), ``person_id`` and the attributes, the 2011 address as an area
    number (-1 for a 2011 address outside the lookup, null for none)."""
    path = truth_dir / "people.parquet"
    if missing := set(PERSON_COLUMNS) - set(pl.read_parquet_schema(path)):
        raise TargetTruthError(f"{path} lacks columns {sorted(missing)}")
    people = pl.read_parquet(path, columns=list(PERSON_COLUMNS)).with_row_index("pid")
    return (
        people.join(
            areas.select(pl.col("lsoa11cd").alias("lsoa11cd_2011"), pl.col("area")),
            on="lsoa11cd_2011",
            how="left",
        )
        .with_columns(
            pl.when(pl.col("lsoa11cd_2011").is_not_null())
            .then(pl.col("area").fill_null(-1))
            .alias("area_2011")
        )
        .drop("lsoa11cd_2011", "area")
    )


def _pids(frame: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its ``person_id`` replaced by the person's row number."""
    return frame.join(people.select("person_id", "pid"), on="person_id", how="inner").drop(
        "person_id"
    )


def _resident_months(residences: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """``pid, k, area``: the English address on the first day of each month, for months
    near the person's ages 16 to 64 while alive (``window_first``, ``window_last`` of
    :func:`_age_window`; the exact rule is applied afterwards)."""
    first = _first_month_on_or_after(pl.col("from_date")).clip(lower_bound=0)
    # Resident on the first of month k when from_date <= first < to_date.
    last = (
        month_index(pl.col("to_date") - pl.duration(days=1))
        .fill_null(N_MONTHS - 1)
        .clip(upper_bound=N_MONTHS - 1)
    )
    first = pl.max_horizontal(first, pl.col("window_first"))
    last = pl.min_horizontal(last, pl.col("window_last"))
    return (
        residences.join(areas.select("lsoa11cd", "area"), on="lsoa11cd", how="inner")
        .select("pid", "area", first.alias("first"), last.alias("last"))
        .filter(pl.col("first") <= pl.col("last"))
        .select("pid", "area", pl.int_ranges("first", pl.col("last") + 1, dtype=pl.Int8).alias("k"))
        .explode("k")
        .unique(["pid", "k"], keep="first")
    )


def _age_window(people: pl.DataFrame) -> pl.DataFrame:
    """``pid, window_first, window_last``: a month either side of the months a person is
    16 to 64 and alive, so that only those months are ever expanded (a pre-filter: the
    exact rule is :func:`_age_on_first` and the death month, applied afterwards)."""
    dob = pl.col("date_of_birth")
    last = _first_month_on_or_after(dob.dt.offset_by(f"{MAX_AGE + 1}y"))
    death = month_index(pl.col("date_of_death")).fill_null(N_MONTHS)
    return people.select(
        "pid",
        (_first_month_on_or_after(dob.dt.offset_by(f"{MIN_AGE}y")) - 1).alias("window_first"),
        (pl.min_horizontal(last, death)).alias("window_last"),
    )


def _age_on_first(k: pl.Expr, dob: pl.Expr) -> pl.Expr:
    year = 2019 + (k.cast(pl.Int32) + 10) // 12
    month = (k.cast(pl.Int32) + 10) % 12 + 1
    before = (month < dob.dt.month()) | ((month == dob.dt.month()) & (dob.dt.day() > 1))
    return (year - dob.dt.year() - before.cast(pl.Int32)).cast(pl.Int32)


def _benefit_months(spells: pl.DataFrame) -> pl.DataFrame:
    included = spells.filter(pl.col("benefit").is_in(list(INCLUDED_BENEFITS)))
    first = month_index(pl.col("start_date")).clip(lower_bound=0)
    last = month_index(pl.col("end_date")).fill_null(N_MONTHS - 1).clip(upper_bound=N_MONTHS - 1)
    return (
        included.select("pid", first.alias("first"), last.alias("last"))
        .filter(pl.col("first") <= pl.col("last"))
        .select("pid", pl.int_ranges("first", pl.col("last") + 1, dtype=pl.Int8).alias("k"))
        .explode("k")
        .unique()
        .with_columns(pl.lit(True).alias("receiving"))
    )


def target_person_months(truth_dir: Path) -> pl.DataFrame:
    """One row per person and month in the target population.

    Returns
    -------
    polars.DataFrame
        ``pid`` (the person's row number in ``truth/people.parquet``), ``k``,
        ``std_band`` (standardisation band), ``age_band`` (published), ``receiving`` and
        the published breakdown labels of :data:`BREAKDOWNS` (Enum columns). Only small
        columns: at a million people the table has about nine million rows.
    """
    truth_dir = Path(truth_dir)
    areas = _areas()
    people = _people(truth_dir, areas)
    residences = pl.read_parquet(
        truth_dir / "residences.parquet", columns=["person_id", "from_date", "to_date", "lsoa11cd"]
    )
    residences = _pids(residences, people).join(_age_window(people), on="pid", how="inner")
    months = _resident_months(residences, areas)
    frame = (
        months.join(people.drop("person_id"), on="pid", how="inner")
        .with_columns(_age_on_first(pl.col("k"), pl.col("date_of_birth")).alias("age"))
        .filter(
            pl.col("age").is_between(MIN_AGE, MAX_AGE)
            & (
                pl.col("date_of_death").is_null()
                | (pl.col("k") < month_index(pl.col("date_of_death")))
            )
        )
        .drop("date_of_birth", "date_of_death")
    )
    spells = pl.read_parquet(truth_dir / "benefit_spells.parquet")
    benefits = _benefit_months(_pids(spells, people))
    frame = frame.join(benefits, on=["pid", "k"], how="left").with_columns(
        pl.col("receiving").fill_null(False)
    )
    return _with_labels(frame, areas)


def _with_labels(frame: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    # Deprivation and region of the 2011 address where there is one, else of the address in
    # the month; a 2011 address outside the lookup (-1) has neither.
    used = pl.coalesce(pl.col("area_2011"), pl.col("area")).alias("area_used")
    frame = (
        frame.with_columns(used)
        .join(
            areas.select(pl.col("area").alias("area_used"), "imd_decile", "imd_quintile", "region"),
            on="area_used",
            how="left",
        )
        .with_columns(pl.col("sex").cast(pl.Utf8).replace_strict(SEX_CODES, default=None))
    )
    labels = person_labels(frame)
    std = ((pl.col("age") - 15) // 5).clip(0, len(STANDARD_BANDS) - 1)
    published = pl.lit(UNKNOWN)
    for label, low, high in reversed(AGE_GROUPS):
        published = (
            pl.when(pl.col("age").is_between(low, high)).then(pl.lit(label)).otherwise(published)
        )
    base = frame.select(
        "pid",
        "k",
        "receiving",
        std.replace_strict(dict(enumerate(STANDARD_BANDS))).cast(pl.Categorical).alias("std_band"),
        published.cast(pl.Categorical).alias("age_band"),
    )
    return pl.concat(
        [base, labels.select(c for c in BREAKDOWNS if c != "age_band")], how="horizontal"
    )


def target_truth(person_months: pl.DataFrame, standard: pl.DataFrame | None = None) -> pl.DataFrame:
    """Target-population rates per published cell and month (no disclosure control: truth).

    Returns
    -------
    polars.DataFrame
        ``table, breakdown, group, month, people, recipients, crude_pct, asr_pct, asr_lower,
        asr_upper`` (percentages; ESP 2013 standard by default, as the published tables).
    """
    standard = esp2013_weights() if standard is None else standard
    # Counted once over every breakdown together, then summed per breakdown: the
    # person-month table is never copied once per breakdown.
    cells = person_months.group_by("k", "std_band", *BREAKDOWNS).agg(
        pl.len().alias("n"), pl.col("receiving").sum().alias("d")
    )
    parts = [
        cells.select(
            pl.lit("overall").alias("table"),
            pl.lit("all").alias("breakdown"),
            pl.lit(ALL_PEOPLE).alias("group"),
            "k",
            "std_band",
            "n",
            "d",
        )
    ]
    for breakdown in BREAKDOWNS:
        parts.append(
            cells.select(
                pl.lit(f"by_{breakdown}").alias("table"),
                pl.lit(breakdown).alias("breakdown"),
                pl.col(breakdown).cast(pl.Utf8).fill_null(UNKNOWN).alias("group"),
                "k",
                "std_band",
                "n",
                "d",
            )
        )
    counts = (
        pl.concat(parts)
        .group_by(
            "table",
            "breakdown",
            "group",
            pl.col("k").cast(pl.Int64),
            pl.col("std_band").cast(pl.Utf8).alias("age_band"),
        )
        .agg(pl.col("n").sum(), pl.col("d").sum())
    )
    rates = age_standardised_rates(counts, ["table", "breakdown", "group", "k"], standard)
    month = pl.col("k").replace_strict(dict(enumerate(MONTHS)), return_dtype=pl.Date)
    # The published monthly tables' cells and figures, with no estimate label and no
    # disclosure control (truth is not published).
    return (
        rates.with_columns(month.alias("month"))
        .select(*CELL_KEYS, *COUNTS_AND_RATES)
        .sort("table", "group", "month")
    )


KEYS = list(CELL_KEYS)


def compare_with_target(bias: pl.DataFrame, target: pl.DataFrame) -> pl.DataFrame:
    """Each published cell's linked, study-truth, target-truth and corrected estimates, with
    the linked estimate's error decomposed.

    Parameters
    ----------
    bias
        ``analysis/published/bias.parquet`` (``truth_asr``, ``linked_asr``,
        ``linked_lower``, ``linked_upper`` and, when the analysis corrected them,
        ``ipw_asr`` and ``calibrated_asr``).
    target
        Output of :func:`target_truth`.

    Returns
    -------
    polars.DataFrame
        ``KEYS``, ``target_people``, ``target_asr``, ``study_asr``, ``linked_asr`` and its
        limits, ``ipw_asr``; ``selection_pp`` (study - target), ``linkage_pp`` (linked -
        study), ``total_pp`` (linked - target), ``sampling_pp`` (half-width of the linked
        interval), ``target_outside_ci`` and ``ipw_moves_toward_target`` (the weighted
        estimate is closer to the target truth than the linked one; null without weights),
        and likewise ``calibrated_asr`` and ``calibrated_moves_toward_target``.
        Only cells with a published linked estimate and a target truth.
    """

    def optional(column: str) -> pl.Expr:
        present = column in bias.columns
        return (pl.col(column) if present else pl.lit(None, dtype=pl.Float64)).alias(column)

    joined = bias.select(
        *KEYS,
        pl.col("truth_asr").alias("study_asr"),
        "linked_asr",
        "linked_lower",
        "linked_upper",
        optional("ipw_asr"),
        optional("calibrated_asr"),
    ).join(
        target.select(
            *KEYS,
            pl.col("people").cast(pl.Int64).alias("target_people"),
            pl.col("asr_pct").alias("target_asr"),
        ),
        on=KEYS,
        how="inner",
    )
    t = pl.col("target_asr")
    return (
        joined.filter(pl.col("linked_asr").is_not_null() & t.is_not_null())
        .with_columns(
            (pl.col("study_asr") - t).alias("selection_pp"),
            (pl.col("linked_asr") - pl.col("study_asr")).alias("linkage_pp"),
            (pl.col("linked_asr") - t).alias("total_pp"),
            ((pl.col("linked_upper") - pl.col("linked_lower")) / 2).alias("sampling_pp"),
            ((t < pl.col("linked_lower")) | (t > pl.col("linked_upper"))).alias(
                "target_outside_ci"
            ),
            _closer("ipw_asr").alias("ipw_moves_toward_target"),
            _closer("calibrated_asr").alias("calibrated_moves_toward_target"),
        )
        .sort(KEYS)
    )


def _closer(column: str) -> pl.Expr:
    target = pl.col("target_asr")
    return (pl.col(column) - target).abs() < (pl.col("linked_asr") - target).abs()


def comparison_summary(comparison: pl.DataFrame) -> dict[str, float | int | None]:
    """Mean absolute errors against the target truth and how often weighting helps."""
    if not comparison.height:
        return {"cells": 0}
    helped = comparison.get_column("ipw_moves_toward_target").drop_nulls()
    calibrated = comparison.get_column("calibrated_moves_toward_target").drop_nulls()
    return {
        "calibrated_cells": calibrated.len(),
        "calibrated_moves_toward_target": int(calibrated.sum()),
        "mean_abs_calibrated_pp": (comparison["calibrated_asr"] - comparison["target_asr"])
        .abs()
        .mean(),
        "cells": comparison.height,
        "mean_abs_total_pp": comparison["total_pp"].abs().mean(),
        "mean_abs_selection_pp": comparison["selection_pp"].abs().mean(),
        "mean_abs_linkage_pp": comparison["linkage_pp"].abs().mean(),
        "mean_sampling_pp": comparison["sampling_pp"].mean(),
        "target_outside_ci": int(comparison["target_outside_ci"].sum()),
        "mean_abs_ipw_pp": (comparison["ipw_asr"] - comparison["target_asr"]).abs().mean(),
        "ipw_cells": helped.len(),
        "ipw_moves_toward_target": int(helped.sum()),
    }


def write_target_comparison(run_dir: Path, out_dir: Path | None = None) -> dict | None:
    """Write the target truth and its comparison with the published cells of a run.

    Reads ``truth/`` and ``analysis/published/bias.parquet``; writes
    ``target_truth.parquet``, ``target_comparison.parquet`` and ``target_summary.json`` to
    ``out_dir`` (default ``run_dir/evaluation``), replaced as a whole. Returns the summary,
    or ``None`` when the run has no truth or no bias table (nothing is written).
    """
    run_dir = Path(run_dir)
    truth_dir, bias_path = run_dir / "truth", run_dir / "analysis/published/bias.parquet"
    if not (truth_dir / "residences.parquet").is_file() or not bias_path.is_file():
        return None
    target = target_truth(target_person_months(truth_dir))
    comparison = compare_with_target(pl.read_parquet(bias_path), target)
    summary = comparison_summary(comparison)
    with staged_output(Path(out_dir) if out_dir else run_dir / "evaluation") as staging:
        target.write_parquet(staging / "target_truth.parquet")
        comparison.write_parquet(staging / "target_comparison.parquet")
        (staging / "target_summary.json").write_text(json.dumps(summary, indent=2))
    return summary
