"""A tiny, hand-made world that follows docs/data_contracts.md, for the suites' tests.

Person k (k = 1..N) has census record C{k}, GP registration G{k} and DWP key D{k}; every
identifier is valid by construction (NHS check digits computed here, independently of the
package's vectorised check).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

PEOPLE = 40
N = 30  # people with a record in each source
ETHNIC = [f"{(k % 18) + 1:02d}" for k in range(N)]
NINO_LETTERS = "ABCEGHJKLMNPRSTWXYZ"


def nhs_number(k: int) -> str:
    """A valid NHS number: nine body digits and the mod-11 check digit (never 10)."""
    body = 400_000_000 + k * 7
    while True:
        digits = [int(c) for c in f"{body:09d}"]
        remainder = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 11 - remainder
        check = 0 if check == 11 else check
        if check != 10:
            return f"{body:09d}{check}"
        body += 1


def census() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "census_person_id": [f"C{k:09d}" for k in range(1, N + 1)],
            "household_id": [f"H{(k + 1) // 2:08d}" for k in range(1, N + 1)],
            "forename": [f"Name{k}" for k in range(N)],
            "middle_names": [None if k % 3 else "Middle" for k in range(N)],
            "surname": [f"Surname{k}" for k in range(N)],
            "date_of_birth": [dt.date(1950 + k, 1 + k % 12, 1 + k % 28) for k in range(N)],
            "sex": ["1" if k % 2 else "2" for k in range(N)],
            "postcode": ["SW1A 1AA", "sw1a1aa", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT"] * 5,
            "lsoa11cd": [f"E01{k:06d}" for k in range(N)],
            "ethnic_group": ETHNIC,
            "disability": [str(1 + k % 3) for k in range(N)],
            "usual_resident": [True] * N,
            "wholly_imputed": [k == 7 for k in range(N)],
        }
    )


def gp_registrations() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "gp_record_id": [f"G{k:09d}" for k in range(1, N + 1)],
            "nhs_number": [None if k == 5 else nhs_number(k) for k in range(N)],
            "forename": [f"Name{k}" for k in range(N)],
            "middle_names": [None] * N,
            "surname": [f"Surname{k}" for k in range(N)],
            "date_of_birth": [dt.date(1950 + k, 1 + k % 12, 1 + k % 28) for k in range(N)],
            "sex": ["M" if k % 2 else "F" for k in range(N)],
            "postcode": ["SW1A 1AA"] * N,
            "lsoa11cd": [f"E01{k:06d}" for k in range(N)],
            "practice_code": [f"A8{1000 + k % 4}" for k in range(N)],
            "registration_date": [
                dt.date(2000, 1, 1) + dt.timedelta(days=97 * k) for k in range(N)
            ],
            "deregistration_date": [dt.date(2020, 6, 1) if k == 3 else None for k in range(N)],
            "date_of_death": [dt.date(2020, 6, 1) if k == 3 else None for k in range(N)],
        },
        schema_overrides={"middle_names": pl.String},
    )


def gp_conditions() -> pl.DataFrame:
    clusters = ["AUTISM", "LD", "SMI", "DEPANX", "DIABETES", "RESP", "CVD", "CANCER"]
    ks = list(range(0, N, 3))
    return pl.DataFrame(
        {
            "gp_record_id": [f"G{k + 1:09d}" for k in ks],
            "nhs_number": [None if k == 5 else nhs_number(k) for k in ks],
            "cluster": [clusters[i % 8] for i in range(len(ks))],
            "snomed_code": ["408856003", "110359009", "69322001", "35489007", "44054006"] * 2,
            "event_date": [dt.date(2015, 1, 1) + dt.timedelta(days=30 * k) for k in ks],
        }
    )


def nino(k: int) -> str:
    return f"{NINO_LETTERS[k % 19]}{NINO_LETTERS[(k * 7) % 19]}{100000 + k:06d}{'ABCD'[k % 4]}"


def dwp_customers() -> pl.DataFrame:
    ks = list(range(N))
    return pl.DataFrame(
        {
            "dwp_master_key": [f"D{k + 1:09d}" for k in ks],
            "nino": [None if k == 4 else nino(k) for k in ks],
            "forename": [f"Name{k}" for k in ks],
            "surname": [f"Surname{k}" for k in ks],
            "date_of_birth": [dt.date(1950 + k, 1 + k % 12, 1 + k % 28) for k in ks],
            "sex": ["Male" if k % 2 else "Female" for k in ks],
            "postcode": ["M1 1AE"] * N,
        }
    )


def dwp_benefit_spells() -> pl.DataFrame:
    benefits = ["UC", "JSA", "ESA", "PIP", "HB", "SP"]
    ks = list(range(0, N, 2))
    return pl.DataFrame(
        {
            "dwp_master_key": [f"D{k + 1:09d}" for k in ks],
            "benefit": [benefits[i % 6] for i in range(len(ks))],
            "start_date": [dt.date(2019, 6, 1) + dt.timedelta(days=20 * k) for k in ks],
            # Person index 3 (not in this list) died in June 2020; spells end before that.
            "end_date": [None if k % 4 else dt.date(2021, 1, 31) for k in ks],
        }
    )


def spine() -> pl.DataFrame:
    rows = []
    for k in range(1, N + 1):
        person = f"S{k:06d}"
        rows += [
            ("census", f"C{k:09d}", person, 1.0),
            ("gp", f"G{k:09d}", person, 0.99),
            ("dwp", f"D{k:09d}", person, 0.97),
        ]
    return pl.DataFrame(
        rows,
        schema={
            "source": pl.String,
            "record_id": pl.String,
            "person_id": pl.String,
            "match_probability": pl.Float64,
        },
        orient="row",
    )


def published_rates() -> pl.DataFrame:
    months = [dt.date(2019 + (10 + i) // 12, (10 + i) % 12 + 1, 1) for i in range(17)]
    rows = []
    for i, month in enumerate(months):
        rows.append(
            (
                "by_sex",
                "sex",
                "Male",
                month,
                "linked",
                1000,
                140 + 5 * (i > 4),
                14.0,
                13.9,
                12.1,
                15.8,
                False,
                "published",
            )
        )
        rows.append(
            (
                "by_sex",
                "sex",
                "Female",
                month,
                "linked",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                "[c]",
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "table": pl.String,
            "breakdown": pl.String,
            "group": pl.String,
            "month": pl.Date,
            "estimate": pl.String,
            "people": pl.Int64,
            "recipients": pl.Int64,
            "crude_pct": pl.Float64,
            "asr_pct": pl.Float64,
            "asr_lower": pl.Float64,
            "asr_upper": pl.Float64,
            "low_reliability": pl.Boolean,
            "status": pl.String,
        },
        orient="row",
    )


SOURCES = {
    "census": census,
    "gp_registrations": gp_registrations,
    "gp_conditions": gp_conditions,
    "dwp_customers": dwp_customers,
    "dwp_benefit_spells": dwp_benefit_spells,
}


def write_run(run: Path) -> Path:
    """Write the tiny world as a run folder (sources/, linkage/, analysis/published/)."""
    (run / "sources").mkdir(parents=True, exist_ok=True)
    for name, build in SOURCES.items():
        build().write_parquet(run / "sources" / f"{name}.parquet")
    (run / "linkage").mkdir(exist_ok=True)
    spine().write_parquet(run / "linkage" / "spine.parquet")
    (run / "analysis" / "published").mkdir(parents=True, exist_ok=True)
    published_rates().write_parquet(run / "analysis" / "published" / "by_sex.parquet")
    return run
