"""An accessible spreadsheet in the style of ONS releases (gptables): cover, contents, notes,
one table per sheet, suppressed cells shown as ``[c]``."""

from __future__ import annotations

from pathlib import Path

import gptables as gpt
import pandas as pd
import polars as pl

from analysis.breakdowns import breakdowns
from common.files import atomic_write

NOTES = {
    "note1": "Synthetic data: every figure comes from a simulated population, not real people.",
    "note2": (
        "Percentages are age-standardised to the 2013 European Standard Population (5-year "
        "bands; the 15 to 19 weight applied to ages 16 to 19) unless the run configuration "
        "names the study population; 95% confidence intervals by the Dobson method (normal "
        "intervals for weighted estimates)."
    ),
    "note3": (
        "Counts of people are rounded to the nearest 5. [c] marks values suppressed because "
        "they are based on fewer than 10 people, or to stop them being worked out from totals."
    ),
    "note4": (
        "Estimate: linked = the linked data as published; truth = the same tables with perfect "
        "linkage; ipw = weighted by the inverse probability of being linked; threshold_p = "
        "linked at match probability p."
    ),
}
SUPPRESSED_CELL = "[c]"

_HEADINGS = {
    "group": "Group",
    "month": "Month",
    "estimate": "Estimate",
    "people": "People (rounded)",
    "recipients": "Receiving a benefit (rounded)",
    "crude_pct": "Crude percentage",
    "asr_pct": "Age-standardised percentage",
    "asr_lower": "Lower 95% confidence limit",
    "asr_upper": "Upper 95% confidence limit",
}


def _for_sheet(frame: pl.DataFrame) -> pd.DataFrame:
    drop = [c for c in ("table", "breakdown", "status") if c in frame.columns]
    data = frame.drop(drop)
    data = data.with_columns(
        pl.col(c).dt.strftime("%B %Y") for c, t in data.schema.items() if t == pl.Date
    )
    table = data.to_pandas().astype(object)
    # The accessibility guidance asks for a shorthand in empty cells, explained in the notes.
    table = table.where(table.notna(), SUPPRESSED_CELL)
    return table.rename(columns=_HEADINGS)


def write_spreadsheet(
    path: Path, tables: dict[str, pl.DataFrame], *, monthly_tables: tuple[str, ...]
) -> Path:
    """Write the workbook: one sheet per published table, with cover, contents and notes."""
    titles = {spec.table: spec.title for spec in breakdowns()}
    other_titles = {
        "change": "Change from February 2020 to March 2021 (percentage points)",
        "inequality_deprivation": "Deprivation gap, ratio and slope and relative indices",
        "ethnic_gaps": "Gap to White British, before and during the pandemic",
        "bias": "Linked and weighted estimates against the truth",
        "sample_flow": "Sample flow: people removed by each criterion",
        "linkage_rates": "Percentage of census people linked, by characteristic",
    }
    sheets = {}
    # A table with no rows (e.g. no deprivation index when a quintile is absent) has no sheet.
    non_empty = {name: frame for name, frame in tables.items() if frame.height}
    for number, (name, frame) in enumerate(non_empty.items(), start=1):
        title = (
            f"Monthly percentage receiving a benefit by {titles[name].lower()}"
            if name in monthly_tables
            else other_titles.get(name, name)
        )
        sheets[f"Table_{number}"] = gpt.GPTable(
            table=_for_sheet(frame),
            table_name=name,
            title=f"{title}, England, November 2019 to March 2021$$note1$$",
            subtitles=[
                "This worksheet contains one table.$$note3$$",
                "Estimates are compared in the Estimate column.$$note4$$",
            ],
            scope="People aged 16 to 64 in the linked 2011 Census, GP and DWP data$$note2$$",
            source="Source: triangulate synthetic linked data",
        )
    cover = gpt.Cover(
        cover_label="Cover",
        title="Benefit recipients during the coronavirus (COVID-19) pandemic, England: "
        "November 2019 to March 2021 (synthetic reproduction)",
        intro=[
            "Monthly age-standardised percentages of people aged 16 to 64 receiving a "
            "working-age benefit, by deprivation, ethnic group, sex, age, region, disability, "
            "long-term condition and benefit type, from linked synthetic 2011 Census, GP and "
            "DWP records.",
        ],
        about=[
            "Counts are of people, rounded to the nearest 5; [c] marks suppressed values.",
            "The linked estimates are shown beside the truth (perfect linkage) and a "
            "bias-corrected estimate, so the effect of linkage error can be seen.",
        ],
    )
    notes = pd.DataFrame({"Note number": list(NOTES), "Note text": list(NOTES.values())})

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
