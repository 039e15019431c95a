"""The quality report's count of values made missing on reading (checklist item 3)."""

import json

from quality_report.artefacts import RunArtefacts
from quality_report.context import ReportContext
from quality_report.sections_data import repairs_part


def _context(tmp_path, inputs):
    (tmp_path / "linkage").mkdir()
    summary = {"threshold": 0.5} if inputs is None else {"threshold": 0.5, "inputs": inputs}
    (tmp_path / "linkage" / "linkage_summary.json").write_text(json.dumps(summary))
    return ReportContext(run=RunArtefacts(tmp_path))


def test_each_repair_is_a_row_with_its_count_and_share(tmp_path):
    repair = {
        "input": "gp",
        "column": "dob",
        "role": "date_of_birth",
        "recorded": 200,
        "invalid": 3,
        "rule": "a date in %Y%m%d between 1880 and today",
        "share": 0.015,
    }
    html = "".join(repairs_part(_context(tmp_path, {"repairs": [repair], "warnings": []})))
    assert 'data-key="repairs/gp|dob/made missing" data-value="3">3<' in html
    assert "1.50%" in html  # 3 of 200
    assert "no repair" not in html


def test_no_repairs_and_a_warning_are_both_said(tmp_path):
    warning = "gp: column 'nhs' (person_number) is missing for 80% of records"
    html = "".join(repairs_part(_context(tmp_path, {"repairs": [], "warnings": [warning]})))
    assert "no repair" in html
    assert "Warning:" in html and "80% of records" in html


def test_a_summary_from_before_repairs_were_counted_says_so(tmp_path):
    html = "".join(repairs_part(_context(tmp_path, None)))
    assert "records no reading repairs" in html
