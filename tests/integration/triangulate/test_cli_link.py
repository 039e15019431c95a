"""`triangulate link` on two small hand-made CSV files with a column mapping."""

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from triangulate.cli import app

LEFT = """id,first,last,dob,gender,pc,truth
a1,John,Smith,27/03/1980,M,SW1A 1AA,p1
a2,Mary,O'Brien,1975-11-05,F,m1 1ae,p2
a3,Ali,Khan,01.02.1990,M,B1 1AA,p3
a4,Peter,Green,1950-07-30,M,NE1 7RU,p5
"""
RIGHT = """key,given,family,birth,sex,postcode,truth
b1,JOHN,SMITH,1980-03-27,Male,SW1A1AA,p1
b2,Mary,OBrien,05/11/1975,Female,M1 1AE,p2
b3,Khan,Ali,1990-02-01,Male,B1 1AA,p3
b4,Grace,Hall,2001-01-09,Female,E1 6AN,p6
b5,Grace,Hall,09/01/2001,Female,E1 6AN,p6
"""
MAPPING = """left:
  record_id: id
  forename: first
  surname: last
  date_of_birth: dob
  sex: gender
  postcode: pc
  one_record_per_person: true
right:
  record_id: key
  forename: given
  surname: family
  date_of_birth: birth
  sex: sex
  postcode: postcode
"""


def _write(tmp_path: Path) -> None:
    (tmp_path / "left.csv").write_text(LEFT)
    (tmp_path / "right.csv").write_text(RIGHT)
    (tmp_path / "mapping.yaml").write_text(MAPPING)


def _run(tmp_path: Path, *extra: str):
    args = [
        "link",
        "--input",
        f"left={tmp_path / 'left.csv'}",
        "--input",
        f"right={tmp_path / 'right.csv'}",
        "--mapping",
        str(tmp_path / "mapping.yaml"),
        "--out",
        str(tmp_path / "out"),
        *extra,
    ]
    return CliRunner().invoke(app, args)


def test_link_two_csv_files(tmp_path):
    _write(tmp_path)
    result = _run(tmp_path, "--truth-column", "truth")
    assert result.exit_code == 0, result.output
    spine = pl.read_parquet(tmp_path / "out" / "spine.parquet")
    assert spine.columns == ["source", "record_id", "person_id", "match_probability"]
    assert spine.height == 9
    person = dict(zip(spine["record_id"], spine["person_id"], strict=True))
    assert person["a1"] == person["b1"]  # different case, date format, postcode spacing
    assert person["a2"] == person["b2"]  # apostrophe, date order
    assert person["a3"] == person["b3"]  # forename and surname swapped
    assert person["b4"] == person["b5"]  # duplicate within the right file
    assert person["a4"] not in {person[k] for k in ["b1", "b2", "b3", "b4", "b5"]}
    assert (tmp_path / "out" / "evaluation" / "pairwise.parquet").exists()
    assert "precision 1.0000" in result.output


def test_link_reports_bad_mapping(tmp_path):
    _write(tmp_path)
    (tmp_path / "mapping.yaml").write_text(MAPPING.replace("family", "surname_typo"))
    result = _run(tmp_path)
    assert result.exit_code == 2
    assert "right.csv" in result.output and "surname_typo" in result.output
    assert not (tmp_path / "out").exists()


def test_link_without_the_truth_column_stops_before_writing(tmp_path):
    _write(tmp_path)
    (tmp_path / "right.csv").write_text(RIGHT.replace(",truth\n", ",true_id\n", 1))
    result = _run(tmp_path, "--truth-column", "truth")
    assert result.exit_code == 2
    assert "right.csv" in result.output and "truth column not found" in result.output
    assert not (tmp_path / "out").exists()


NUMBERED = """key,given,family,birth,postcode,nhs,truth
n1,Grace,Hall,2001-01-09,E1 6AN,943 476 5919,p6
n2,Grace,Hall,2001-01-09,E1 6AN,401 023 2137,p7
n3,Grace,Hall,09/01/2001,E1 6AN,9434765919,p6
"""
NUMBERED_MAPPING = """left:
  record_id: id
  forename: first
  surname: last
  date_of_birth: dob
  postcode: pc
  household: household
  one_record_per_person: true
right:
  record_id: key
  forename: given
  surname: family
  date_of_birth: birth
  postcode: postcode
  person_number: nhs
"""


def test_person_numbers_keep_namesakes_apart(tmp_path):
    # Two people named Grace Hall, born the same day at one postcode, in the right file:
    # only their NHS numbers tell them apart. n3 is n1 again (the same number, spaced
    # differently). Without numbers all three would join the left file's Grace Hall.
    left = LEFT + "a5,Grace,Hall,2001-01-09,F,E1 6AN,p6\n"
    (tmp_path / "left.csv").write_text(
        "\n".join(
            line + (",household" if i == 0 else f",h{i}")
            for i, line in enumerate(left.strip().splitlines())
        )
        + "\n"
    )
    (tmp_path / "right.csv").write_text(NUMBERED)
    (tmp_path / "mapping.yaml").write_text(NUMBERED_MAPPING)
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output
    spine = pl.read_parquet(tmp_path / "out" / "spine.parquet")
    person = dict(zip(spine["record_id"], spine["person_id"], strict=True))
    assert person["n1"] == person["n3"]  # one person's two records, one number
    assert person["n2"] != person["n1"]  # the namesake with another number stays apart
    assert person["a5"] in {person["n1"], person["n2"]}
