"""A tiny, hand-checkable run folder: ten census people, three of whom enter the study.

| person | census | why kept or removed |
|---|---|---|
| A | C01 | kept: born 15 June 1980, London decile 9; UC from 10 April 2020, ongoing |
| B | C02 | kept: born 15 January 2004 (16 from February 2020), Jaywick decile 1, autism;
|   |     | two DWP keys: JSA May-June 2020 and PIP June-July 2020 (counted once) |
| C | C03 | kept: born 1 January 1960, died 10 June 2020 (in the study November 2019 to
|   |     | May 2020); ESA to January 2020 and State Pension (excluded) |
| D | C04 | not usually resident |
| E | C05 | wholly imputed |
| F | C06 | no GP record |
| G | C07 | deregistered from GP in 2018 |
| H | C08 | born 1950: 69 or over throughout |
| I | C09 | Welsh LSOA |
| J | C10 | died August 2019 |
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

D = dt.date
LONDON_D9 = "E01000001"
JAYWICK_D1 = "E01021988"


def census_frame() -> pl.DataFrame:
    rows = [
        # id, dob, sex, lsoa, ethnic, disability, usual resident, wholly imputed
        ("C01", D(1980, 6, 15), "1", LONDON_D9, "01", "3", True, False),
        ("C02", D(2004, 1, 15), "2", JAYWICK_D1, "11", "1", True, False),
        ("C03", D(1960, 1, 1), "1", JAYWICK_D1, "15", "2", True, False),
        ("C04", D(1980, 1, 1), "2", LONDON_D9, "01", "3", False, False),
        ("C05", D(1980, 1, 1), "2", LONDON_D9, "01", "3", True, True),
        ("C06", D(1980, 1, 1), "2", LONDON_D9, "01", "3", True, False),
        ("C07", D(1980, 1, 1), "2", LONDON_D9, "01", "3", True, False),
        ("C08", D(1950, 1, 1), "2", LONDON_D9, "01", "3", True, False),
        ("C09", D(1980, 1, 1), "2", "W01000001", "01", "3", True, False),
        ("C10", D(1980, 1, 1), "2", LONDON_D9, "01", "3", True, False),
    ]
    columns = [
        "census_person_id",
        "date_of_birth",
        "sex",
        "lsoa11cd",
        "ethnic_group",
        "disability",
        "usual_resident",
        "wholly_imputed",
    ]
    return pl.DataFrame(rows, schema=columns, orient="row")


def gp_frame() -> pl.DataFrame:
    rows = [
        ("G01", D(2000, 1, 1), None, None, "M"),
        ("G02", D(2004, 2, 1), None, None, "F"),
        ("G03", D(1990, 1, 1), None, D(2020, 6, 10), "M"),
        ("G04", D(2000, 1, 1), None, None, "F"),
        ("G05", D(2000, 1, 1), None, None, "F"),
        ("G07", D(2000, 1, 1), D(2018, 5, 1), None, "F"),
        ("G08", D(2000, 1, 1), None, None, "F"),
        ("G09", D(2000, 1, 1), None, None, "F"),
        ("G10", D(2000, 1, 1), None, D(2019, 8, 1), "F"),
    ]
    columns = ["gp_record_id", "registration_date", "deregistration_date", "date_of_death", "sex"]
    return pl.DataFrame(rows, schema=columns, orient="row")


def conditions_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {"gp_record_id": ["G02"], "cluster": ["AUTISM"], "event_date": [D(2010, 1, 1)]}
    )


def spells_frame() -> pl.DataFrame:
    rows = [
        ("K01", "UC", D(2020, 4, 10), None),
        ("K02", "JSA", D(2020, 5, 1), D(2020, 6, 30)),
        ("K03", "PIP", D(2020, 6, 1), D(2020, 7, 15)),
        ("K04", "ESA", D(2019, 1, 1), D(2020, 1, 31)),
        ("K04", "SP", D(2019, 1, 1), None),
    ]
    columns = ["dwp_master_key", "benefit", "start_date", "end_date"]
    return pl.DataFrame(rows, schema=columns, orient="row")


def record_map_frame() -> pl.DataFrame:
    persons = "ABCDEFGHIJ"
    census = [("census", f"C{i + 1:02d}", f"P{p}") for i, p in enumerate(persons)]
    gp_ids = {"A": "G01", "B": "G02", "C": "G03", "D": "G04", "E": "G05"}
    gp_ids |= {"G": "G07", "H": "G08", "I": "G09", "J": "G10"}
    gp = [("gp", record, f"P{p}") for p, record in gp_ids.items()]
    dwp = [("dwp", "K01", "PA"), ("dwp", "K02", "PB"), ("dwp", "K03", "PB"), ("dwp", "K04", "PC")]
    return pl.DataFrame(
        census + gp + dwp, schema=["source", "record_id", "person_id"], orient="row"
    )


def write_run(run_dir: Path) -> Path:
    sources = run_dir / "sources"
    sources.mkdir(parents=True)
    census_frame().write_parquet(sources / "census.parquet")
    gp_frame().write_parquet(sources / "gp_registrations.parquet")
    conditions_frame().write_parquet(sources / "gp_conditions.parquet")
    spells_frame().write_parquet(sources / "dwp_benefit_spells.parquet")
    (run_dir / "truth").mkdir()
    record_map_frame().write_parquet(run_dir / "truth" / "record_map.parquet")
    (run_dir / "linkage").mkdir()
    spine = record_map_frame().with_columns(pl.lit(1.0).alias("match_probability"))
    spine.write_parquet(run_dir / "linkage" / "spine.parquet")
    return run_dir


@pytest.fixture
def tiny_run(tmp_path: Path) -> Path:
    """A run folder with the ten people above, linked perfectly."""
    return write_run(tmp_path / "run")
