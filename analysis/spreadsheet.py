"""An accessible spreadsheet to the Government Statistical Service's good practice for
releasing statistics in spreadsheets (built with gptables): a cover with the release's
status, date, contact, methodology and source; contents; notes explaining every shorthand;
one table per sheet, one estimate per table, plain-English headings with units, a breakdown
column, fixed decimal places and notes attached to the columns they describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import gptables as gpt
import pandas as pd
import polars as pl

from analysis.breakdowns import breakdowns
from common.files import atomic_write

SUPPRESSED_CELL = "[c]"
LOW_RELIABILITY = "[u]"
NOT_AVAILABLE = "[x]"
STATUS = "Synthetic data, experimental"
DEFAULT_CONTACT = (
    "The triangulate project maintainers (see the project README for how to reach them)"
)

NOTES = {
    "synthetic": (
        "Synthetic data: every figure comes from a simulated population of England, not real "
        "people. The statistics are experimental and for testing methods only."
    ),
    "standard": (
        "Percentages are age-standardised to the 2013 European Standard Population (5-year "
        "bands; the 15 to 19 weight applied to ages 16 to 19), unless the run configuration "
        "names the study population."
    ),
    "intervals": "95% confidence intervals: the true value lies between the limits in 95% of "
    "samples like this one.",
    "rounding": "Counts of people are rounded to the nearest 5, from unrounded values.",
    "shorthand_c": "[c] confidential: suppressed because it is based on fewer than 10 people, "
    "or so that a suppressed value cannot be worked out from totals.",
    "shorthand_u": "[u] low reliability: the estimate rests on few people; treat it with caution.",
    "shorthand_x": "[x] not available: the value cannot be computed (for example, a change "
    "needs both months).",
    "linked_truth": "Linked = estimated from the linked data as published; truth = the same "
    "figure with perfect linkage, known only because the data are synthetic.",
    "weighted": "Bias-corrected: each linked person weighted by the inverse of their "
    "estimated probability of being linked.",
    "calibrated": "Calibrated: the linked people weighted so that they reproduce the census "
    "counts by age band, sex, ethnic group, deprivation quintile, region and disability (no "
    "model); an alternative to the bias-corrected estimate.",
    "threshold": "Match threshold: the Splink match probability above which a pair of records "
    "is accepted as the same person.",
    "change": "Change in percentage points between February 2020 and March 2021.",
}
_NOTE_NUMBERS = {key: f"note{i}" for i, key in enumerate(NOTES, start=1)}


@dataclass(frozen=True)
class Column:
    """How one published column appears: heading, unit, decimals, the note it carries."""

    heading: str
    unit: str | None = None
    decimals: int | None = None
    note: str | None = None


_PCT = "%"
_PP = "percentage points"
_COUNT = "number, rounded to nearest 5"
COLUMNS = {
    "breakdown": Column("Breakdown"),
    "group": Column("Group"),
    "month": Column("Month"),
    "estimate": Column("Estimate", note="linked_truth"),
    "threshold": Column("Match threshold", unit="probability", decimals=2, note="threshold"),
    "people": Column("People", _COUNT, 0, "rounding"),
    "recipients": Column("People receiving a benefit", _COUNT, 0, "rounding"),
    "crude_pct": Column("Crude percentage receiving a benefit", _PCT, 1),
    "asr_pct": Column("Age-standardised percentage receiving a benefit", _PCT, 1, "standard"),
    "asr_lower": Column("Lower 95% confidence limit", _PCT, 1, "intervals"),
    "asr_upper": Column("Upper 95% confidence limit", _PCT, 1, "intervals"),
    "asr_before": Column("Age-standardised percentage, February 2020", _PCT, 1, "standard"),
    "asr_during": Column("Age-standardised percentage, March 2021", _PCT, 1, "standard"),
    "abs_change": Column("Change, February 2020 to March 2021", _PP, 1, "change"),
    "abs_change_lower": Column("Lower 95% confidence limit of change", _PP, 1, "intervals"),
    "abs_change_upper": Column("Upper 95% confidence limit of change", _PP, 1, "intervals"),
    "rel_change": Column("Relative change", _PCT, 1),
    "measure": Column("Measure"),
    "value": Column("Value", None, 2),
    "lower": Column("Lower 95% confidence limit", None, 2, "intervals"),
    "upper": Column("Upper 95% confidence limit", None, 2, "intervals"),
    "gap_before": Column("Gap to White British, February 2020", _PP, 1),
    "gap_before_lower": Column("Lower 95% limit of gap, February 2020", _PP, 1, "intervals"),
    "gap_before_upper": Column("Upper 95% limit of gap, February 2020", _PP, 1, "intervals"),
    "gap_during": Column("Gap to White British, March 2021", _PP, 1),
    "gap_during_lower": Column("Lower 95% limit of gap, March 2021", _PP, 1, "intervals"),
    "gap_during_upper": Column("Upper 95% limit of gap, March 2021", _PP, 1, "intervals"),
    "gap_widening": Column("Widening of the gap", _PP, 1),
    "truth_asr": Column("Truth: age-standardised percentage", _PCT, 2, "linked_truth"),
    "linked_asr": Column("Linked: age-standardised percentage", _PCT, 2, "linked_truth"),
    "linked_lower": Column("Linked: lower 95% confidence limit", _PCT, 2, "intervals"),
    "linked_upper": Column("Linked: upper 95% confidence limit", _PCT, 2, "intervals"),
    "bias_pp": Column("Linked minus truth", _PP, 2),
    "ipw_asr": Column("Bias-corrected: age-standardised percentage", _PCT, 2, "weighted"),
    "ipw_lower": Column("Bias-corrected: lower 95% confidence limit", _PCT, 2, "intervals"),
    "ipw_upper": Column("Bias-corrected: upper 95% confidence limit", _PCT, 2, "intervals"),
    "ipw_bias_pp": Column("Bias-corrected minus truth", _PP, 2),
    "truth_outside_ci": Column("Truth outside the linked 95% interval"),
    "ipw_truth_outside_ci": Column("Truth outside the bias-corrected 95% interval"),
    "calibrated_asr": Column("Calibrated: age-standardised percentage", _PCT, 2, "calibrated"),
    "calibrated_lower": Column("Calibrated: lower 95% confidence limit", _PCT, 2, "intervals"),
    "calibrated_upper": Column("Calibrated: upper 95% confidence limit", _PCT, 2, "intervals"),
    "calibrated_bias_pp": Column("Calibrated minus truth", _PP, 2),
    "calibrated_truth_outside_ci": Column("Truth outside the calibrated 95% interval"),
    "step": Column("Step"),
    "criterion": Column("Criterion"),
    "removed": Column("People removed at this step", _COUNT, 0, "rounding"),
    "linked": Column("People linked", _COUNT, 0, "rounding"),
    "linked_pct": Column("Percentage linked", _PCT, 1),
    "reliability": Column("Reliability"),
}
#: Internal columns never shown: the row status is carried by the [c] shorthand instead.
INTERNAL = ("table", "status", "hidden", "low_reliability", "k", "asr_var")
_BREAKDOWN_TITLES = {"overall": "All people", "sample_flow": "Sample flow"}


@dataclass
class Sheet:
    """One worksheet's table: a name, a title and the published rows (one estimate)."""

    name: str
    title: str
    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)


def _column(name: str) -> Column:
    return COLUMNS.get(name, Column(name.replace("_", " ").capitalize()))


def _with_breakdown(frame: pl.DataFrame) -> pl.DataFrame:
    """Every table keeps a breakdown column in words, so no two rows read the same."""
    if "group" not in frame.columns:
        return frame
    by_table = {spec.table: spec.title for spec in breakdowns()}
    by_code = {spec.breakdown: spec.title for spec in breakdowns()}
    if "table" in frame.columns:
        label = pl.col("table").replace_strict(by_table, default=pl.col("table"))
    elif "breakdown" in frame.columns:
        label = pl.col("breakdown").replace_strict(by_code, default=pl.col("breakdown"))
    else:
        label = pl.lit(by_table.get("by_ethnic_group", "Ethnic group"))  # keyed by group alone
    return frame.with_columns(label.alias("breakdown")).select(
        "breakdown", *[c for c in frame.columns if c != "breakdown"]
    )


def _reliability(frame: pl.DataFrame) -> pl.DataFrame:
    """Show the [u] marker (when the rates carry a ``low_reliability`` flag) in its own column."""
    if "low_reliability" not in frame.columns:
        return frame
    return frame.with_columns(
        pl.when(pl.col("low_reliability").fill_null(False))
        .then(pl.lit(LOW_RELIABILITY))
        .otherwise(pl.lit("Not low"))
        .alias("reliability")
    )


def _cells(frame: pl.DataFrame) -> pd.DataFrame:
    """Values for the sheet: dates as month names, yes/no for truths, shorthands in gaps."""
    frame = _reliability(_with_breakdown(frame))
    suppressed = (
        (frame["status"] == SUPPRESSED_CELL).to_list()
        if "status" in frame.columns
        else [False] * frame.height
    )
    data = frame.drop([c for c in INTERNAL if c in frame.columns])
    data = data.with_columns(
        *(pl.col(c).dt.strftime("%B %Y") for c, t in data.schema.items() if t == pl.Date),
        *(
            pl.col(c).replace_strict({True: "Yes", False: "No"}, return_dtype=pl.String)
            for c, t in data.schema.items()
            if t == pl.Boolean
        ),
    )
    table = data.to_pandas().astype(object)
    # An empty cell holds a shorthand: [c] in a suppressed row, [x] where nothing exists.
    fill = pd.Series([SUPPRESSED_CELL if s else NOT_AVAILABLE for s in suppressed])
    for name in table.columns:
        table[name] = table[name].where(table[name].notna(), fill.values)
    return table


def _headed(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, str], list[dict]]:
    """Plain-English headings with units; notes and number formats by column position."""
    notes: dict[int, str] = {}
    formats: list[dict] = []
    headings = []
    for index, name in enumerate(table.columns):
        column = _column(str(name))
        headings.append(f"{column.heading} ({column.unit})" if column.unit else column.heading)
        if column.note:
            notes[index] = f"$${_NOTE_NUMBERS[column.note]}$$"
        if column.decimals is not None:
            number = "0" if column.decimals == 0 else "0." + "0" * column.decimals
            formats.append({"column": {"columns": [index], "format": {"num_format": number}}})
    return table.set_axis(headings, axis=1), notes, formats


def _estimate(frame: pl.DataFrame, estimate: str) -> pl.DataFrame:
    return frame.filter(pl.col("estimate") == estimate).drop("estimate")


def _monthly_sheets(tables: dict[str, pl.DataFrame], monthly: tuple[str, ...]) -> list[Sheet]:
    """The linked estimate of every breakdown, then each other estimate in its own table."""
    titles = {spec.table: spec.title for spec in breakdowns()}
    stem = "Monthly percentage of people aged 16 to 64 receiving a benefit"
    sheets = [
        Sheet(
            name, f"{stem} by {titles.get(name, name).lower()}", _estimate(tables[name], "linked")
        )
        for name in monthly
    ]
    every = pl.concat([tables[name] for name in monthly]) if monthly else None
    if every is None:
        return sheets
    others = {
        "ipw": (
            "weighted",
            f"{stem}, bias-corrected (inverse probability weighted), every breakdown",
        ),
        "calibrated": (
            "calibrated",
            f"{stem}, calibrated to the census margins (alternative correction), every breakdown",
        ),
        "truth": ("truth", f"{stem}, with perfect linkage (the synthetic truth), every breakdown"),
    }
    note = {"weighted": "weighted", "calibrated": "calibrated", "truth": "linked_truth"}
    present = set(every.get_column("estimate").unique().to_list())
    for estimate, (name, title) in others.items():
        if estimate == "calibrated" and estimate not in present:
            continue  # raking did not converge: the run says so in its log
        sheets.append(Sheet(name, title, _estimate(every, estimate), notes=[note[name]]))
    thresholds = every.filter(pl.col("estimate").str.starts_with("threshold_")).with_columns(
        pl.col("estimate").str.strip_prefix("threshold_").cast(pl.Float64).alias("threshold")
    )
    columns = [
        "breakdown",
        "threshold",
        *[c for c in every.columns if c not in ("breakdown", "estimate")],
    ]
    sheets.append(
        Sheet(
            "sensitivity",
            f"Sensitivity: {stem.lower()}, recomputed at other match thresholds",
            thresholds.select([c for c in columns if c in thresholds.columns]),
            notes=["threshold"],
        )
    )
    return sheets


_OTHER_TITLES = {
    "change": "Change in the age-standardised percentage from February 2020 to March 2021",
    "inequality_deprivation": "Deprivation gap, ratio and slope and relative indices of inequality",
    "ethnic_gaps": "Gap to White British, before and during the pandemic",
    "bias": "Comparison: linked and bias-corrected estimates against the synthetic truth",
    "sample_flow": "Sample flow: people removed by each criterion, linked data",
    "linkage_rates": "Percentage of census people linked, by characteristic",
}


def sheet_tables(tables: dict[str, pl.DataFrame], monthly: tuple[str, ...]) -> list[Sheet]:
    """Every table of the workbook in order, one estimate each, empty tables left out."""
    sheets = _monthly_sheets(tables, monthly)
    for name, frame in tables.items():
        if name in monthly:
            continue
        one = _estimate(frame, "linked") if "estimate" in frame.columns else frame
        title = _OTHER_TITLES.get(name, name.replace("_", " ").capitalize())
        sheets.append(Sheet(name, title, one, notes=["linked_truth"] if name == "bias" else []))
    return [sheet for sheet in sheets if sheet.frame.height]


def _note_marks(keys: list[str]) -> str:
    return "".join(f"$${_NOTE_NUMBERS[key]}$$" for key in keys)


def _gptable(sheet: Sheet) -> tuple[gpt.GPTable, set[str]]:
    """The sheet's table and the notes it refers to."""
    table, notes, formats = _headed(_cells(sheet.frame))
    shorthand = ["shorthand_c", "shorthand_u", "shorthand_x"]
    referenced = {"synthetic", *sheet.notes, *shorthand}
    referenced |= {
        key for key, number in _NOTE_NUMBERS.items() if f"$${number}$$" in notes.values()
    }
    title = f"{sheet.title}, England, November 2019 to March 2021"
    return gpt.GPTable(
        table=table,
        table_name=sheet.name,
        title=title + _note_marks(["synthetic", *sheet.notes]),
        instructions="This worksheet contains one table. Some column headings refer to notes, "
        "which are on the Notes worksheet.",
        subtitles=[
            "Empty cells hold a shorthand: [c] confidential, [u] low reliability, [x] not "
            "available." + _note_marks(shorthand)
        ],
        scope="People aged 16 to 64 in the linked synthetic 2011 Census, GP and DWP data",
        source="Source: triangulate synthetic linked data",
        table_notes=notes or None,
        index_columns={2: 0},
        additional_formatting=formats,
    ), referenced


def _cover(release_date: date, contact: str) -> gpt.Cover:
    bold = {"bold": True}
    return gpt.Cover(
        cover_label="Cover",
        title="Benefit recipients during the coronavirus (COVID-19) pandemic, England: "
        "November 2019 to March 2021 (synthetic reproduction)",
        intro=[
            "Monthly age-standardised percentages of people aged 16 to 64 receiving a "
            "working-age benefit, by deprivation, ethnic group, sex, age, region, disability "
            "and long-term condition, from linked synthetic 2011 Census, GP and DWP records.",
        ],
        about=[
            [bold, "Release date"],
            release_date.strftime("%-d %B %Y"),
            [bold, "Statistics status"],
            f"{STATUS}. {NOTES['synthetic']}",
            [bold, "Methodology"],
            "Records are linked with Splink (probabilistic linkage on DuckDB); people are "
            "counted once per month by their linked spine identifier. "
            + NOTES["standard"]
            + " Counts are rounded to the nearest 5 and values based on fewer than 10 people "
            "are suppressed, with further cells suppressed so none can be worked out from "
            "totals. The linkage quality report describes the linkage and its errors.",
            [bold, "Source"],
            "Synthetic 2011 Census, GP register (GDPPR-like) and DWP benefit records generated "
            "by triangulate; the design follows ONS, Benefit recipients during the "
            "coronavirus (COVID-19) pandemic, England: November 2019 to March 2021 "
            "(6 December 2023).",
            [bold, "Shorthand used in the tables"],
            NOTES["shorthand_c"],
            NOTES["shorthand_u"],
            NOTES["shorthand_x"],
        ],
        contact=[contact],
    )


def write_spreadsheet(
    path: Path,
    tables: dict[str, pl.DataFrame],
    *,
    monthly_tables: tuple[str, ...],
    release_date: date | None = None,
    contact: str = DEFAULT_CONTACT,
) -> Path:
    """Write the workbook: cover, contents, notes, then one table per sheet.

    Parameters
    ----------
    path
        The ``.xlsx`` file (written atomically).
    tables
        The published tables by name.
    monthly_tables
        The names of the monthly tables (split by estimate, one estimate per sheet).
    release_date
        Shown on the cover (default: today).
    contact
        Shown on the cover.
    """
    sheets, referenced = {}, set()
    for number, sheet in enumerate(sheet_tables(tables, monthly_tables), start=1):
        sheets[f"Table_{number}"], notes_used = _gptable(sheet)
        referenced |= notes_used
    # Only notes some sheet refers to: gptables numbers notes in the order they are cited.
    used = [key for key in NOTES if key in referenced]
    notes = pd.DataFrame(
        {
            "Note number": [_NOTE_NUMBERS[key] for key in used],
            "Note text": [NOTES[key] for key in used],
        }
    )
    cover = _cover(release_date or date.today(), contact)

    def write(tmp: Path) -> None:
        gpt.write_workbook(
            filename=str(tmp),
            sheets=sheets,
            cover=cover,
            notes_table=notes,
            contentsheet_options={"additional_elements": ["subtitles", "scope"]},
            auto_width=True,
        )

    return atomic_write(path, write)
