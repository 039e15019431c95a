"""A small hand-rolled world following docs/data_contracts.md (``--toy-world`` in
benchmarks/link.py), written before the project's generator existed.

It is deliberately simple (the real generator lives in synthetic_data/): people with
names, birth dates, sex and postcodes; a census with one record per responding person; GP
and DWP extracts with duplicates; and recording errors of the kinds the linkage must
survive (typos, swapped names, transposed dates, moves, blanks, marriage surnames, twins).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

FORENAMES_M = [
    "JOHN",
    "DAVID",
    "MOHAMMED",
    "JAMES",
    "ROBERT",
    "OLIVER",
    "HARRY",
    "ALI",
    "DANIEL",
    "THOMAS",
    "KWAME",
    "RAJ",
    "PETER",
    "GEORGE",
    "SAMUEL",
    "LIAM",
]
FORENAMES_F = [
    "MARY",
    "SARAH",
    "FATIMA",
    "EMMA",
    "OLIVIA",
    "AMELIA",
    "PRIYA",
    "GRACE",
    "SOPHIE",
    "CHLOE",
    "AISHA",
    "JESSICA",
    "LUCY",
    "HANNAH",
    "ZARA",
    "ELLIE",
]
SURNAMES = [
    "SMITH",
    "JONES",
    "KHAN",
    "SINGH",
    "KAUR",
    "BEGUM",
    "TAYLOR",
    "BROWN",
    "WILSON",
    "PATEL",
    "EVANS",
    "THOMAS",
    "JOHNSON",
    "ROBERTS",
    "WALKER",
    "WRIGHT",
    "OKAFOR",
    "MENSAH",
    "NOWAK",
    "HUGHES",
    "GREEN",
    "HALL",
    "WOOD",
    "HARRIS",
    "CLARKE",
    "LEWIS",
    "YOUNG",
    "KING",
    "ALLEN",
    "SCOTT",
    "MORRIS",
    "COOPER",
    "WARD",
    "BAKER",
    "O'BRIEN",
    "SMITH-JONES",
    "AHMED",
    "HUSSAIN",
    "ALI",
    "CHEN",
]
AREAS = ["SW", "M", "B", "LS", "E", "N", "BS", "NE", "L", "S"]


def _postcode(rng: np.random.Generator) -> str:
    area = AREAS[rng.integers(len(AREAS))]
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return (
        f"{area}{rng.integers(1, 20)} {rng.integers(1, 10)}"
        f"{letters[rng.integers(20)]}{letters[rng.integers(20)]}"
    )


def _typo(name: str | None, rng: np.random.Generator) -> str | None:
    if not name or len(name) < 3:
        return name
    i = int(rng.integers(1, len(name) - 1))
    kind = rng.integers(3)
    if kind == 0:
        return name[:i] + name[i + 1 :]
    if kind == 1:
        return name[:i] + "ABCDEFGHIKLMNOPRSTUW"[rng.integers(20)] + name[i + 1 :]
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def make_people(n: int, rng: np.random.Generator) -> pl.DataFrame:
    sex = rng.choice(["M", "F"], n)
    fore = [(FORENAMES_M if s == "M" else FORENAMES_F)[rng.integers(16)] for s in sex]
    middle = [
        None if rng.random() < 0.5 else (FORENAMES_M + FORENAMES_F)[rng.integers(32)]
        for _ in range(n)
    ]
    sur = [SURNAMES[rng.integers(len(SURNAMES))] for _ in range(n)]
    base = dt.date(1940, 1, 1)
    dob = [base + dt.timedelta(days=int(rng.integers(0, 365 * 70))) for _ in range(n)]
    # Twins: some people share a birth date, surname and postcode with the previous person.
    postcodes = [_postcode(rng) for _ in range(n)]
    for i in range(1, n):
        if rng.random() < 0.005:
            dob[i], sur[i], postcodes[i] = dob[i - 1], sur[i - 1], postcodes[i - 1]
    return pl.DataFrame(
        {
            "person_id": [f"P{i:08d}" for i in range(n)],
            "forename": fore,
            "middle_names": middle,
            "surname": sur,
            "sex": sex,
            "date_of_birth": dob,
            "postcode": postcodes,
            "ethnic_group": rng.choice([f"{k:02d}" for k in range(1, 19)], n).tolist(),
            "lsoa11cd_2011": rng.choice(["E01000001", "E01000002", "E01000003"], n).tolist(),
            "region_2011": rng.choice(["London", "North West", "Wales"], n).tolist(),
            "in_census": (rng.random(n) < 0.92).tolist(),
        }
    )


def _noisy(person: dict, rng: np.random.Generator, rate: float) -> dict:
    """One record of ``person`` with recording errors at about ``rate``; each kind of error in
    turn, always in the same order, so a seed gives the same records."""
    rec = dict(person)
    _noisy_names(rec, rng, rate)
    _noisy_date_of_birth(rec, rng, rate)
    if rng.random() < rate * 2:
        rec["postcode"] = _postcode(rng)  # moved
    if rng.random() < rate / 2:
        rec["postcode"] = rec["postcode"].lower().replace(" ", "")
    for col in ("forename", "surname", "postcode", "date_of_birth"):
        if rng.random() < rate / 4:
            rec[col] = None
    return rec


def _noisy_names(rec: dict, rng: np.random.Generator, rate: float) -> None:
    """Typos, swapped forename and surname, a married woman's new surname."""
    if rng.random() < rate:
        rec["forename"] = _typo(rec["forename"], rng)
    if rng.random() < rate:
        rec["surname"] = _typo(rec["surname"], rng)
    if rng.random() < rate / 3:
        rec["forename"], rec["surname"] = rec["surname"], rec["forename"]
    if rng.random() < rate and rec["sex"] == "F":
        rec["surname"] = SURNAMES[rng.integers(len(SURNAMES))]  # married


def _noisy_date_of_birth(rec: dict, rng: np.random.Generator, rate: float) -> None:
    """Day and month transposed (when the day could be a month), or a date a little off."""
    d = rec["date_of_birth"]
    if rng.random() < rate / 2 and d.day <= 12:
        rec["date_of_birth"] = dt.date(d.year, d.day, d.month)
    elif rng.random() < rate / 2:
        rec["date_of_birth"] = d + dt.timedelta(days=int(rng.choice([-10, -1, 1, 10, 365])))


def write_small_world(run_dir: Path, people: int = 1500, seed: int = 7, rate: float = 0.06) -> Path:
    """Write sources/ and truth/ of a small world under ``run_dir``; return ``run_dir``."""
    rng = np.random.default_rng(seed)
    folk = make_people(people, rng)
    census, gp, dwp, record_map = [], [], [], []
    for person in folk.iter_rows(named=True):
        pid = person["person_id"]
        if person["in_census"]:
            r = _noisy(person, rng, rate / 2)
            rid = f"C{len(census):09d}"
            census.append({**r, "census_person_id": rid})
            record_map.append(("census", rid, pid))
        if rng.random() < 0.95:
            for _ in range(1 + int(rng.random() < 0.05)):
                r = _noisy(person, rng, rate)
                rid = f"G{len(gp):09d}"
                gp.append({**r, "gp_record_id": rid})
                record_map.append(("gp", rid, pid))
        if rng.random() < 0.5:
            for _ in range(1 + int(rng.random() < 0.05)):
                r = _noisy(person, rng, rate)
                rid = f"D{len(dwp):09d}"
                dwp.append({**r, "dwp_master_key": rid})
                record_map.append(("dwp", rid, pid))
    sources, truth = run_dir / "sources", run_dir / "truth"
    sources.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    common = ["forename", "middle_names", "surname", "date_of_birth", "sex", "postcode"]
    census_df = pl.DataFrame(census).select(["census_person_id", *common])
    census_df = census_df.with_columns(
        pl.col("sex").replace({"M": "1", "F": "2"}),
        pl.lit("H1").alias("household_id"),
        pl.lit(False).alias("wholly_imputed"),
    )
    census_df.write_parquet(sources / "census.parquet")
    pl.DataFrame(gp).select(["gp_record_id", *common]).write_parquet(
        sources / "gp_registrations.parquet"
    )
    dwp_df = pl.DataFrame(dwp).select(
        ["dwp_master_key", *[c for c in common if c != "middle_names"]]
    )
    dwp_df.with_columns(pl.col("sex").replace({"M": "Male", "F": "Female"})).write_parquet(
        sources / "dwp_customers.parquet"
    )
    pl.DataFrame(
        record_map, schema=["source", "record_id", "person_id"], orient="row"
    ).write_parquet(truth / "record_map.parquet")
    folk.drop("postcode").write_parquet(truth / "people.parquet")
    return run_dir
