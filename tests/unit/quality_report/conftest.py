"""A six-person hand-made world whose linkage errors are known exactly.

People P1..P6. Records (source record -> true person):
census C1 P1, C2 P2, C3 P3, C4 P4; GP G1 P1, G2 P1 (duplicate), G3 P2, G4 P3, G5 P5;
DWP D1 P1, D2 P2, D3 P4, D4 P6.

Spine clusters: K1 = C1 G1 G2 D1 (right); K2 = C2 G3 (D2 missed); K3 = C3 G4 D3 (D3 is P4's:
a false link); K4 = C4 (missed D3); K5 = D2; K6 = G5; K7 = D4.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

RECORDS = [
    ("census", "C1", "P1", "K1"),
    ("census", "C2", "P2", "K2"),
    ("census", "C3", "P3", "K3"),
    ("census", "C4", "P4", "K4"),
    ("gp", "G1", "P1", "K1"),
    ("gp", "G2", "P1", "K1"),
    ("gp", "G3", "P2", "K2"),
    ("gp", "G4", "P3", "K3"),
    ("gp", "G5", "P5", "K6"),
    ("dwp", "D1", "P1", "K1"),
    ("dwp", "D2", "P2", "K5"),
    ("dwp", "D3", "P4", "K3"),
    ("dwp", "D4", "P6", "K7"),
]


@pytest.fixture
def spine() -> pl.DataFrame:
    return pl.DataFrame(
        [(s, r, k, 1.0) for s, r, _, k in RECORDS],
        schema=["source", "record_id", "person_id", "match_probability"],
        orient="row",
    )


@pytest.fixture
def record_map() -> pl.DataFrame:
    return pl.DataFrame(
        [(s, r, p) for s, r, p, _ in RECORDS],
        schema=["source", "record_id", "person_id"],
        orient="row",
    )


@pytest.fixture
def people() -> pl.DataFrame:
    """E01000001 is in London (IMD decile 9 -> quintile 5); E01032000 elsewhere."""
    rows = [
        ("P1", "01", "M", dt.date(1980, 5, 1), "E01000001"),
        ("P2", "11", "F", dt.date(2000, 1, 15), "E01000001"),
        ("P3", "11", "M", dt.date(1990, 7, 7), "E01000001"),
        ("P4", "15", "F", dt.date(1960, 3, 3), "E01000001"),
        ("P5", "01", "M", dt.date(2010, 1, 1), None),
        ("P6", "01", "F", dt.date(1950, 1, 1), None),
    ]
    frame = pl.DataFrame(
        rows,
        schema=["person_id", "ethnic_group", "sex", "date_of_birth", "lsoa11cd_2011"],
        orient="row",
    )
    return frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("region_2011"))
