"""No identifier of the run's sources reaches the analysis inputs, published outputs, Prefect
logs or artifacts.

The scan takes every identifier value of the reference run's extracts (full names, NHS
numbers, NINOs, postcodes, dates of birth) and searches for them in everything an analyst
or a Prefect UI user sees: the ``analysis_inputs/`` folder (the analysis reads nothing
else), the ``analysis/`` folder (every table cell and text file), the
command's output, and the logs and artifacts stored in the run's Prefect database.

Candidate strings are pulled from the scanned text by the shape each identifier takes
(ten digits, the NINO and postcode patterns, ISO dates, adjacent words), then looked up in
the identifier sets, which keeps the scan exact and fast. Dates of birth on the first of a
month are left out of the date set: the tables are monthly, and 2019-11-01 .. 2021-03-01
are also the birthdays of some of the run's babies.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.slow

WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
TEN_DIGITS = re.compile(r"(?<!\d)\d{10}(?!\d)")
NINO = re.compile(r"\b[A-Z]{2}\d{6}[A-D]\b")
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", re.IGNORECASE)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _values(frame: pl.DataFrame, column: str) -> set[str]:
    if column not in frame.columns:
        return set()
    return set(frame.get_column(column).drop_nulls().cast(pl.Utf8).to_list())


def identifiers(sources: Path) -> dict[str, set[str]]:
    """Every identifier value in a run's sources, by kind, normalised for lookup."""
    found: dict[str, set[str]] = {"name": set(), "number": set(), "postcode": set(), "dob": set()}
    for path in sources.glob("*.parquet"):
        frame = pl.read_parquet(path)
        if {"forename", "surname"} <= set(frame.columns):
            pairs = frame.select("forename", "surname").drop_nulls()
            found["name"] |= {
                f"{f} {s}".lower() for f, s in pairs.iter_rows() if f.strip() and s.strip()
            }
        found["number"] |= {v.replace(" ", "").upper() for v in _values(frame, "nhs_number")}
        found["number"] |= {v.replace(" ", "").upper() for v in _values(frame, "nino")}
        found["postcode"] |= {
            v.replace(" ", "").upper() for v in _values(frame, "postcode") if len(v) >= 5
        }
        if "date_of_birth" in frame.columns:
            dates = frame.get_column("date_of_birth").drop_nulls()
            found["dob"] |= {str(d) for d in dates.to_list() if d.day != 1}
    return found


def leaks(text: str, known: dict[str, set[str]]) -> set[str]:
    """Identifier values of ``known`` that occur in ``text``."""
    words = [w.lower() for w in WORD.findall(text)]
    hits = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)} & known["name"]
    numbers = {m.upper() for m in TEN_DIGITS.findall(text) + NINO.findall(text)}
    hits |= numbers & known["number"]
    hits |= {m.replace(" ", "").upper() for m in POSTCODE.findall(text)} & known["postcode"]
    hits |= set(ISO_DATE.findall(text)) & known["dob"]
    return hits


def _frame_text(frame: pl.DataFrame) -> str:
    rows = (" | ".join("" if v is None else str(v) for v in row) for row in frame.iter_rows())
    return " ".join(frame.columns) + "\n" + "\n".join(rows)


def _file_text(path: Path) -> str:
    if path.suffix == ".parquet":
        return _frame_text(pl.read_parquet(path))
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        return "\n".join(
            " | ".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return path.read_bytes().decode("utf-8", errors="replace")


def test_scanner_finds_planted_identifiers(reference_run):
    # The scan must be able to fail: plant one value of each kind in ordinary text.
    known = identifiers(reference_run.run_dir / "sources")
    census = pl.read_parquet(reference_run.run_dir / "sources" / "census.parquet")
    row = census.drop_nulls(["forename", "surname", "postcode"]).row(0, named=True)
    gp = pl.read_parquet(reference_run.run_dir / "sources" / "gp_registrations.parquet")
    nhs = gp.get_column("nhs_number").drop_nulls()[0]
    text = f"Reviewed {row['forename']} {row['surname']} at {row['postcode']}, NHS {nhs}."
    assert leaks(text, known) == {
        f"{row['forename']} {row['surname']}".lower(),
        row["postcode"].replace(" ", "").upper(),
        nhs,
    }
    assert all(known.values()), "every kind of identifier is present in the sources"


def test_no_identifier_in_published_outputs(reference_run):
    known = identifiers(reference_run.run_dir / "sources")
    files = [p for p in (reference_run.run_dir / "analysis").rglob("*") if p.is_file()]
    assert files
    found = {str(p): leaks(_file_text(p), known) for p in files}
    assert {k: v for k, v in found.items() if v} == {}


def test_no_identifier_in_logs_or_artifacts(reference_run):
    known = identifiers(reference_run.run_dir / "sources")
    assert leaks(reference_run.stdout + reference_run.stderr, known) == set()
    database = sqlite3.connect(reference_run.prefect_home / "prefect.db")
    try:
        logs = [m for (m,) in database.execute("select message from log")]
        artifacts = [
            f"{d} {desc}" for d, desc in database.execute("select data, description from artifact")
        ]
    finally:
        database.close()
    assert logs and artifacts, "the run's logs and artifacts are in its Prefect database"
    assert leaks("\n".join(logs), known) == set()
    assert leaks("\n".join(artifacts), known) == set()


IDENTIFIER_COLUMNS = {"forename", "middle_names", "surname", "postcode", "nhs_number", "nino"}


def test_analysis_inputs_hold_no_identifier(reference_run):
    known = identifiers(reference_run.run_dir / "sources")
    inputs = reference_run.run_dir / "analysis_inputs"
    files = sorted(inputs.rglob("*.parquet"))
    assert {"sources/census.parquet", "linkage/spine.parquet"} <= {
        p.relative_to(inputs).as_posix() for p in files
    }
    raw_ids = set(pl.read_parquet(reference_run.run_dir / "linkage" / "spine.parquet")["record_id"])
    for path in files:
        frame = pl.read_parquet(path)
        assert not IDENTIFIER_COLUMNS & set(frame.columns), path
        assert [c for c in frame.columns if "birth" in c] in ([], ["date_of_birth"]), path
        # Dates are scanned as a column, not as text: registration, event and benefit dates
        # are attributes the analysis needs and coincide with some babies' birthdays.
        undated = frame.select(c for c, t in frame.schema.items() if t != pl.Date)
        assert leaks(_frame_text(undated), known) == set(), path
        for column in frame.columns:
            if frame.schema[column] == pl.Utf8 and column.endswith(("_id", "_key")):
                assert not raw_ids & set(frame[column].drop_nulls().to_list()), (path, column)
    births = pl.read_parquet(inputs / "sources" / "census.parquet")["date_of_birth"]
    assert set(births.drop_nulls().dt.day().unique().to_list()) <= {1, 2}, "month of birth only"
