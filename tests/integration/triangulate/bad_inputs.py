"""A corpus of bad input files, built into a temporary folder by the tests.

Every file starts from the same small, valid census-shaped extract (the columns of
``docs/data_contracts.md``) and breaks it in one way, so a test can say which rule must
be named in the error. Built at test time rather than stored, so the corpus cannot drift
from the contract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROWS = 20
FORENAMES = ["Amelia", "Oliver", "Isla", "Harry", "Ava", "Jack", "Mia", "George", "Zoë", "Noah"]
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Khan"]


def valid_census(rows: int = ROWS) -> pl.DataFrame:
    """A small census extract that satisfies the census contract."""
    return pl.DataFrame(
        {
            "census_person_id": [f"C{i:09d}" for i in range(1, rows + 1)],
            "household_id": [f"H{i // 2:08d}" for i in range(rows)],
            "forename": [FORENAMES[i % len(FORENAMES)] for i in range(rows)],
            "middle_names": [None] * rows,
            "surname": [SURNAMES[i % len(SURNAMES)] for i in range(rows)],
            "date_of_birth": [dt.date(1950 + i, 1 + i % 12, 1 + i % 28) for i in range(rows)],
            "sex": ["1" if i % 2 else "2" for i in range(rows)],
            "postcode": [f"SW1A {i % 9 + 1}AA" for i in range(rows)],
            "lsoa11cd": [f"E01{i:06d}" for i in range(rows)],
            "ethnic_group": [f"{1 + i % 18:02d}" for i in range(rows)],
            "disability": [str(1 + i % 3) for i in range(rows)],
            "usual_resident": [True] * rows,
            "wholly_imputed": [False] * rows,
        },
        schema_overrides={"middle_names": pl.Utf8},
    )


@dataclass(frozen=True)
class BadInput:
    """One broken file and what its error must name.

    Parameters
    ----------
    name
        Short name of the defect (the test id).
    path
        The broken file.
    column
        The column the error must name, or ``None`` when the defect is in the file itself.
    rule
        Words (lower case) that the message must contain to say which rule was broken.
    """

    name: str
    path: Path
    column: str | None
    rule: tuple[str, ...]


def _csv(frame: pl.DataFrame, path: Path, **options: object) -> Path:
    frame.write_csv(path, **options)
    return path


def build_corpus(folder: Path) -> dict[str, Path]:
    """Write every bad file (and a valid one, ``valid``) into ``folder``; name to path."""
    folder.mkdir(parents=True, exist_ok=True)
    good = valid_census()
    files: dict[str, Path] = {}
    files["valid"] = folder / "valid.parquet"
    good.write_parquet(files["valid"])

    whole = folder / "whole.parquet"
    good.write_parquet(whole)
    data = whole.read_bytes()
    files["truncated_parquet"] = folder / "truncated.parquet"
    files["truncated_parquet"].write_bytes(data[: len(data) // 2])
    whole.unlink()

    files["wrong_delimiter"] = _csv(good, folder / "semicolons.csv", separator=";")

    latin = folder / "latin1.csv"
    latin.write_bytes(good.write_csv().encode("latin-1"))  # "Zoë" becomes byte 0xEB
    files["not_utf8"] = latin

    files["missing_column"] = folder / "missing_column.parquet"
    good.drop("surname").write_parquet(files["missing_column"])

    files["extra_column"] = folder / "extra_column.parquet"
    good.with_columns(pl.lit("x").alias("shoe_size")).write_parquet(files["extra_column"])

    files["wrong_type"] = folder / "wrong_type.parquet"
    good.with_columns(
        (pl.col("date_of_birth").dt.year() * 10_000).alias("date_of_birth")
    ).write_parquet(files["wrong_type"])

    files["all_null_identifier"] = folder / "all_null_surname.parquet"
    good.with_columns(pl.lit(None, dtype=pl.Utf8).alias("surname")).write_parquet(
        files["all_null_identifier"]
    )

    files["duplicate_ids"] = folder / "duplicate_ids.parquet"
    good.with_columns(pl.lit("C000000001").alias("census_person_id")).write_parquet(
        files["duplicate_ids"]
    )

    files["future_dates"] = folder / "future_dates.parquet"
    good.with_columns(pl.lit(dt.date(2090, 1, 1)).alias("date_of_birth")).write_parquet(
        files["future_dates"]
    )

    files["empty_file"] = folder / "empty.csv"
    files["empty_file"].write_bytes(b"")

    files["header_only"] = folder / "header_only.parquet"
    good.head(0).write_parquet(files["header_only"])

    files["one_row"] = folder / "one_row.parquet"
    good.head(1).write_parquet(files["one_row"])

    files["long_strings"] = folder / "long_strings.parquet"
    good.with_columns(pl.lit("A" * 100_000).alias("forename")).write_parquet(files["long_strings"])
    return files
