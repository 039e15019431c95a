"""The workbook read back: GSS good practice checked cell by cell on hand-made tables."""

from datetime import date

import openpyxl
import polars as pl
import pytest

from analysis.spreadsheet import write_spreadsheet

FEB, MAR = date(2020, 2, 1), date(2020, 3, 1)


def _monthly_row(group, month, estimate, *, people, recipients, asr, status, unreliable=False):
    published = status == "published"
    return {
        "table": "overall",
        "breakdown": "all",
        "group": group,
        "month": month,
        "estimate": estimate,
        "people": people if published else None,
        "recipients": recipients if published else None,
        "crude_pct": asr if published else None,
        "asr_pct": asr if published else None,
        "asr_lower": asr - 1 if published else None,
        "asr_upper": asr + 1 if published else None,
        "status": status,
        "low_reliability": unreliable,
    }


def _tables():
    rows = [
        _monthly_row(
            "All people", FEB, "linked", people=1000, recipients=135, asr=13.4, status="published"
        ),
        _monthly_row(
            "All people", MAR, "linked", people=1000, recipients=180, asr=17.9, status="[c]"
        ),
        _monthly_row(
            "All people",
            FEB,
            "truth",
            people=1005,
            recipients=140,
            asr=13.9,
            status="published",
            unreliable=True,
        ),
        _monthly_row(
            "All people", FEB, "ipw", people=1000, recipients=136, asr=13.6, status="published"
        ),
        _monthly_row(
            "All people",
            FEB,
            "threshold_0.5",
            people=990,
            recipients=130,
            asr=13.1,
            status="published",
        ),
    ]
    overall = pl.DataFrame(rows)
    change = pl.DataFrame(
        {
            "table": ["by_ethnic_group", "by_ethnic_group"],
            "breakdown": ["ethnic_group", "ethnic_group"],
            "group": ["Pakistani", "Pakistani"],
            "estimate": ["linked", "truth"],
            "asr_before": [20.0, 21.0],
            "abs_change": [None, 5.0],
            "hidden": [False, False],
            "status": ["published", "published"],
        }
    )
    gaps = pl.DataFrame(
        {
            "estimate": ["linked"],
            "group": ["Bangladeshi"],
            "gap_before": [4.25],
            "hidden": [False],
            "status": ["published"],
        }
    )
    return {"overall": overall, "change": change, "ethnic_gaps": gaps}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "book.xlsx"
    write_spreadsheet(
        path,
        _tables(),
        monthly_tables=("overall",),
        release_date=date(2026, 3, 1),
        contact="Statistics team, example@example.org",
    )
    return openpyxl.load_workbook(path)


def _text(sheet):
    return "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)


def _table(sheet):
    """The header row (the one that starts with Breakdown) and the data cells below it."""
    rows = list(sheet.iter_rows())
    start = next(i for i, row in enumerate(rows) if row[0].value == "Breakdown")
    header = [str(c.value) for c in rows[start]]
    return header, [row for row in rows[start + 1 :] if row[0].value is not None]


def _sheet_titled(workbook, words):
    for name in workbook.sheetnames[3:]:
        if words in str(workbook[name]["A1"].value):
            return workbook[name]
    raise AssertionError(f"no sheet titled {words!r}")


def test_cover_has_release_date_status_contact_methodology_and_source(workbook):
    assert workbook.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    cover = _text(workbook["Cover"])
    for words in (
        "Release date",
        "1 March 2026",
        "Synthetic data, experimental",
        "Methodology",
        "Source",
        "Contact",
        "Statistics team, example@example.org",
    ):
        assert words in cover, words


def test_notes_sheet_explains_every_shorthand(workbook):
    notes = _text(workbook["Notes"])
    for shorthand in ("[c] confidential", "[u] low reliability", "[x] not available"):
        assert shorthand in notes


def test_one_estimate_per_table_with_comparisons_in_their_own_tables(workbook):
    # overall (linked), weighted, truth, sensitivity, change, ethnic gaps
    assert len(workbook.sheetnames) == 3 + 6
    linked = workbook["Table_1"]
    header, data = _table(linked)
    assert len(data) == 2  # February and March of the linked estimate only
    assert not any("Estimate" in h for h in header)
    truth = _sheet_titled(workbook, "perfect linkage")
    assert len(_table(truth)[1]) == 1
    sensitivity = _sheet_titled(workbook, "Sensitivity")
    header, data = _table(sensitivity)
    assert header[1].startswith("Match threshold (probability)")
    assert data[0][1].value == 0.5


def test_headings_are_plain_english_with_units_and_notes_on_their_columns(workbook):
    header, _ = _table(workbook["Table_1"])
    for internal in ("status", "low_reliability", "asr_pct", "table", "hidden"):
        assert not any(h.split(" ")[0] == internal for h in header), internal
    people = next(h for h in header if h.startswith("People (number"))
    assert "[note" in people  # the rounding note sits on the count column
    asr = next(h for h in header if h.startswith("Age-standardised percentage"))
    assert "(%)" in asr and "[note" in asr
    assert not any(h.startswith("Crude") and "[note" in h for h in header)


def test_fixed_decimals_shorthand_in_empty_cells_and_reliability_marker(workbook):
    header, data = _table(workbook["Table_1"])
    column = {h.split("\n")[0]: i for i, h in enumerate(header)}
    february, march = data
    asr = column["Age-standardised percentage receiving a benefit (%)"]
    assert february[asr].value == 13.4 and february[asr].number_format == "0.0"
    people = column["People (number, rounded to nearest 5)"]
    assert february[people].number_format == "0"
    assert march[asr].value == "[c]" and march[people].value == "[c]"
    assert february[column["Reliability"]].value == "Not low"
    truth_header, truth_data = _table(_sheet_titled(workbook, "perfect linkage"))
    assert truth_data[0][truth_header.index("Reliability")].value == "[u]"


def test_breakdown_column_everywhere_and_not_available_shown_as_x(workbook):
    header, data = _table(_sheet_titled(workbook, "Change in the age-standardised"))
    assert len(data) == 1  # the linked estimate only
    assert data[0][0].value == "Ethnic group (18 categories)"
    change = next(i for i, h in enumerate(header) if h.startswith("Change, February"))
    assert data[0][change].value == "[x]"  # missing, not suppressed
    assert "(percentage points)" in header[change]
    _, gaps = _table(_sheet_titled(workbook, "Gap to White British"))
    assert gaps[0][0].value == "Ethnic group (18 categories)"
    assert gaps[0][1].value == "Bangladeshi"
