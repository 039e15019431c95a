"""`triangulate link` on hand-made files written the ways real extracts arrive: compact and
month-first dates with some impossible ones, cp1252 text with semicolons and a byte-order
mark, and four-digit (non-UK) postcodes."""

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from triangulate.cli import app

# Compact dates; d3's 31 February and d4's month 13 are recording errors.
LEFT = """rec,given,family,born,zip,truth
d1,Renée,Dubois,19560909,2617,p1
d2,Zoë,Martin,19801127,2913,p2
d3,Ann,Lee,19700231,2600,p3
d4,Bob,Hart,19651301,2602,p4
d5,Cy,Ward,19900101,2604,p5
d6,Di,Moss,19880505,2605,p6
d7,Ed,Park,19770707,2606,p7
d8,Flo,Reed,19660606,2607,p8
d9,Gus,Hill,19550505,2608,p9
d10,Hal,Cole,19440404,2609,p10
"""
# Month-first dates, cp1252, semicolons, a UTF-8-style byte-order mark would be wrong here
# (cp1252 has none), so the BOM case is the left file's (see below).
RIGHT = """id;first;last;dob;postcode;truth
u1;Renée;Dubois;09/09/1956;2617;p1
u2;Zoë;Martin;11/27/1980;2913;p2
u3;Ann;Lee;02/03/1970;2600;p3
u4;Gus;Hill;05/05/1955;2608;p9
u5;Ivy;Shaw;12/12/1999;2700;p11
"""
MAPPING = """left:
  record_id: rec
  forename: given
  surname: family
  date_of_birth: born
  postcode: zip
  date_format: "%Y%m%d"
  one_record_per_person: true
right:
  record_id: id
  forename: first
  surname: last
  date_of_birth: dob
  postcode: postcode
  date_format: ["%m/%d/%Y"]
  encoding: cp1252
"""


def _run(tmp_path: Path, mapping: str = MAPPING, max_invalid_share: float | None = None):
    (tmp_path / "left.csv").write_bytes("\ufeff".encode() + LEFT.encode("utf-8"))
    (tmp_path / "right.csv").write_bytes(RIGHT.encode("cp1252"))
    (tmp_path / "mapping.yaml").write_text(mapping, encoding="utf-8")
    extra = []
    if max_invalid_share is not None:
        config = tmp_path / "config.yaml"
        config.write_text(f"linkage:\n  max_invalid_share: {max_invalid_share}\n")
        extra = ["--config", str(config)]
    args = ["link", "--input", f"left={tmp_path / 'left.csv'}"]
    args += ["--input", f"right={tmp_path / 'right.csv'}", "--mapping"]
    args += [str(tmp_path / "mapping.yaml"), "--out", str(tmp_path / "out"), *extra]
    return CliRunner().invoke(app, [*args, "--truth-column", "truth"])


def test_files_as_they_come_are_linked_with_counted_repairs(tmp_path):
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "linkage_summary.json").read_text())
    repairs = summary["inputs"]["repairs"]
    assert [(r["input"], r["column"], r["invalid"], r["recorded"]) for r in repairs] == [
        ("left", "born", 2, 10)
    ]
    assert "repaired: input 'left', column 'born': 2 of 10 values" in result.output
    spine = pl.read_parquet(tmp_path / "out" / "spine.parquet")
    person = dict(zip(spine["record_id"], spine["person_id"], strict=True))
    # accents read through cp1252 and a BOM; month-first dates; four-digit postcodes
    assert person["d1"] == person["u1"]
    assert person["d2"] == person["u2"]
    assert person["d9"] == person["u4"]
    records = pl.read_parquet(tmp_path / "out" / "records.parquet")
    assert records.filter(pl.col("record_id") == "u1")["postcode"].to_list() == ["2617"]
    assert records.filter(pl.col("record_id") == "u1")["forename"].to_list() == ["RENEE"]


def test_wrong_date_format_is_refused_naming_file_column_and_rows(tmp_path):
    # Read day-first, only 11/27/1980 (u2) fails: 1 of 5, 20%, not more than the default
    # max_invalid_share 0.2, so it is repaired; a stricter setting refuses the first file
    # read, the left one, whose rows 3 and 4 (d3, d4) are 2 of 10 impossible dates.
    day_first = MAPPING.replace('["%m/%d/%Y"]', '"%d/%m/%Y"')
    result = _run(tmp_path, day_first)
    assert result.exit_code == 0, result.output
    assert "input 'right', column 'dob': 1 of 5 values" in result.output
    result = _run(tmp_path, day_first, max_invalid_share=0.1)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in ("left.csv", "'born'", "2 of 10 values (20%)", "rows: [3, 4]"):
        assert fragment in result.output


def test_malformed_file_option_is_named(tmp_path):
    result = _run(tmp_path, MAPPING.replace("  encoding: cp1252\n", '  delimiter: ";;"\n'))
    assert result.exit_code == 2
    assert "delimiter must be one character" in result.output


def test_ragged_csv_names_file_and_line(tmp_path):
    (tmp_path / "left.csv").write_text(LEFT.replace("d5,Cy,Ward,19900101,2604,p5", "d5,Cy,Ward"))
    (tmp_path / "right.csv").write_bytes(RIGHT.encode("cp1252"))
    (tmp_path / "mapping.yaml").write_text(MAPPING)
    args = ["link", "--input", f"left={tmp_path / 'left.csv'}"]
    args += ["--input", f"right={tmp_path / 'right.csv'}", "--mapping"]
    args += [str(tmp_path / "mapping.yaml"), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "left.csv" in result.output
    assert "line 6 has 3 fields but the header has 6" in result.output  # header is line 1
    assert not (tmp_path / "out").exists()


def test_mostly_missing_role_is_warned_with_its_reason(tmp_path):
    from linkage.inputs import InputSpec, read_inputs

    # Four of five postcodes missing: three blank, and "x" (one character) unreadable.
    path = tmp_path / "few.csv"
    path.write_text(
        "id,fore,sur,pc\n1,Ann,Lee,2617\n2,Bob,Hart,\n3,Cy,Ward,\n4,Di,Moss,x\n5,Ed,Park,\n"
    )
    spec = InputSpec("few", path, "id", {"forename": "fore", "surname": "sur", "postcode": "pc"})
    _, report = read_inputs([spec], max_invalid_share=0.5)
    (warning,) = report.warnings
    assert "input 'few', column 'pc' (postcode): 4 of 5 records missing" in warning
    assert "1 unreadable" in warning
