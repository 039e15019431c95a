"""Every file of the bad-input corpus, fed to ``triangulate link`` and ``triangulate validate``.

Each must stop with a message naming the file, the column (where the defect has one) and the
rule broken, exit non-zero without a traceback, and leave nothing half-written in the output
folder. The few defects a command accepts on purpose are tested as accepted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from triangulate.cli import app

sys.path.insert(0, str(Path(__file__).parent))

from bad_inputs import build_corpus  # noqa: E402

MAPPING = """{name}:
  record_id: census_person_id
  forename: forename
  surname: surname
  date_of_birth: date_of_birth
  sex: sex
  postcode: postcode
  one_record_per_person: true
other:
  record_id: census_person_id
  forename: forename
  surname: surname
  date_of_birth: date_of_birth
  sex: sex
  postcode: postcode
"""

# defect: (column the message must name, words of the rule)
LINK_ERRORS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "truncated_parquet": (None, ("cannot be read as parquet",)),
    "future_dates": ("date_of_birth", ("not a date of birth", "max_invalid_share")),
    "not_utf8": (None, ("invalid utf-8",)),
    "missing_column": ("surname", ("missing column",)),
    "wrong_type": ("date_of_birth", ("expected a date",)),
    "all_null_identifier": ("surname", ("every value is missing",)),
    "duplicate_ids": ("census_person_id", ("share a record id",)),
    "empty_file": (None, ("empty csv",)),
    "header_only": (None, ("the table is empty",)),
    "long_strings": ("forename", ("longer than 255 characters",)),
}

# defect: (exit code, column the message must name, words of the rule)
VALIDATE_ERRORS: dict[str, tuple[int, str | None, tuple[str, ...]]] = {
    "truncated_parquet": (2, None, ("cannot read",)),
    "wrong_delimiter": (1, "census_person_id", ("census_columns",)),
    "not_utf8": (2, None, ("invalid utf-8",)),
    "missing_column": (1, "surname", ("census_columns", "missing")),
    "extra_column": (1, "shoe_size", ("census_columns", "unexpected")),
    "wrong_type": (1, "date_of_birth", ("date_of_birth_type",)),
    "all_null_identifier": (1, "surname", ("surname_not_all_missing",)),
    "duplicate_ids": (1, "census_person_id", ("census_person_id_unique",)),
    "future_dates": (1, "date_of_birth", ("date_of_birth_not_in_future",)),
    "empty_file": (2, None, ("empty csv",)),
    "header_only": (1, None, ("census_not_empty",)),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("bad_inputs"))


def _link(corpus: dict[str, Path], defect: str, out: Path, tmp_path: Path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING.format(name="bad"), encoding="utf-8")
    args = [
        "link",
        "--input",
        f"bad={corpus[defect]}",
        "--input",
        f"other={corpus['valid']}",
        "--mapping",
        str(mapping),
        "--out",
        str(out),
    ]
    return CliRunner().invoke(app, args)


def _assert_names(output: str, path: Path, column: str | None, rule: tuple[str, ...]) -> None:
    assert "Traceback" not in output
    assert str(path) in output, "the message must name the file"
    if column is not None:
        assert column in output, f"the message must name the column {column}"
    for words in rule:
        assert words in output.lower(), f"the message must state the rule ({words})"


def _half_written(folder: Path) -> list[str]:
    """Temporary or staging files (dot-prefixed or .tmp) under a folder and beside it."""
    names = [p.name for p in folder.parent.glob(f".{folder.name}.*")]
    if folder.exists():
        names += [p.name for p in folder.rglob("*") if p.name[0] == "." or p.suffix == ".tmp"]
    return names


@pytest.mark.parametrize("defect", sorted(LINK_ERRORS))
def test_link_stops_on_bad_input_and_writes_nothing(corpus, defect, tmp_path):
    column, rule = LINK_ERRORS[defect]
    out = tmp_path / "out"
    result = _link(corpus, defect, out, tmp_path)
    assert result.exit_code == 2, result.output
    _assert_names(result.output, corpus[defect], column, rule)
    assert not out.exists(), "a failed link must not create its output folder"
    assert _half_written(out) == []


def test_link_keeps_the_previous_output_when_a_rerun_fails(corpus, tmp_path):
    out = tmp_path / "out"
    assert _link(corpus, "one_row", out, tmp_path).exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    result = _link(corpus, "truncated_parquet", out, tmp_path)
    assert result.exit_code == 2
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert _half_written(out) == []


@pytest.mark.parametrize(
    ("defect", "records"),
    # Extra columns are ignored; a semicolon-delimited file has its delimiter sniffed; one
    # row is a small but valid file. (Future birth dates are unreadable: a few are made
    # missing and counted, a file of nothing else is refused above.)
    [("extra_column", 40), ("wrong_delimiter", 40), ("one_row", 21)],
)
def test_link_accepts_what_it_should(corpus, defect, records, tmp_path):
    out = tmp_path / "out"
    result = _link(corpus, defect, out, tmp_path)
    assert result.exit_code == 0, result.output
    spine = pl.read_parquet(out / "spine.parquet")
    assert spine.height == records
    assert _half_written(out) == []


@pytest.mark.parametrize("defect", sorted(VALIDATE_ERRORS))
def test_validate_stops_on_bad_input(corpus, defect, tmp_path):
    code, column, rule = VALIDATE_ERRORS[defect]
    out = tmp_path / "report"
    args = ["validate", str(corpus[defect]), "--suite", "census", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    _assert_names(result.output, corpus[defect], column, rule)
    if code == 2:  # unreadable: there is nothing to report on
        assert not out.exists()
    else:  # the failed gate's report is complete: it is what the analyst reads next
        assert (out / "index.html").is_file()
        assert rule[0] in (out / "census.html").read_text(encoding="utf-8")
    assert _half_written(out) == []


@pytest.mark.parametrize("defect", ["valid", "one_row", "long_strings"])
def test_validate_passes_valid_files(corpus, defect):
    result = CliRunner().invoke(app, ["validate", str(corpus[defect]), "--suite", "census"])
    assert result.exit_code == 0, result.output
    assert "passed" in result.output
