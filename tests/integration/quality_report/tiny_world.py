"""A tiny run folder following docs/data_contracts.md, for the quality report's tests.

Hand-rolled (not the project's generator) so the report's tests control exactly what is in
the world: a few hundred people with every contract column, GP and DWP duplicates, and
enough recording errors that the linkage is imperfect and the report has something to say.
All names, dates and numbers are invented.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import yaml

FORENAMES = {
    "M": ["JOHN", "DAVID", "MOHAMMED", "JAMES", "KWAME", "RAJ", "OLIVER", "ALI", "TOMASZ", "WEI"],
    "F": ["MARY", "FATIMA", "EMMA", "PRIYA", "AISHA", "GRACE", "ZOFIA", "MEI", "CHLOE", "NIAMH"],
}
SURNAMES = [
    "SMITH",
    "KHAN",
    "BEGUM",
    "SINGH",
    "OKAFOR",
    "NOWAK",
    "CHEN",
    "TAYLOR",
    "MURPHY",
    "PATEL",
    "HUSSAIN",
    "WILLIAMS",
    "BROWN",
    "AHMED",
    "MENSAH",
    "KOWALSKI",
    "LI",
    "EVANS",
]
ETHNIC = ["01", "01", "01", "01", "04", "09", "10", "11", "14", "15", "12", "02"]
LSOAS = [
    "E01000001",
    "E01000005",
    "E01001000",
    "E01005000",
    "E01010000",
    "E01015000",
    "E01020000",
    "E01025000",
    "E01030000",
    "E01032000",
]


def _nhs_number(rng: np.random.Generator) -> str:
    while True:
        digits = rng.integers(0, 10, size=9)
        check = (11 - int(sum(d * (10 - i) for i, d in enumerate(digits))) % 11) % 11
        if check != 10:
            return "".join(str(d) for d in digits) + str(check)


def _nino(rng: np.random.Generator, i: int) -> str:
    letters = "ABCEGHJKLMNPRSTWXYZ"
    return f"{letters[i % 19]}{letters[(i // 19) % 19]}{i:06d}{'ABCD'[i % 4]}"


def _typo(name: str, rng: np.random.Generator) -> str:
    pos = int(rng.integers(0, len(name)))
    return name[:pos] + "XQZ"[pos % 3] + name[pos + 1 :]


def write_tiny_world(run_dir: Path, *, people: int = 400, seed: int = 5) -> Path:
    """Write ``config.yaml``, ``sources/`` and ``truth/`` for a tiny world into ``run_dir``."""
    rng = np.random.default_rng(seed)
    lookup = pl.read_csv(
        Path(__file__).resolve().parents[3]
        / "synthetic_data/reference/lsoa11_lad19_region_england.csv",
        columns=["lsoa11cd", "rgn11nm"],
    ).filter(pl.col("lsoa11cd").is_in(LSOAS))
    region = dict(lookup.iter_rows())
    folk = []
    for i in range(people):
        sex = "M" if rng.random() < 0.5 else "F"
        dob = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 20000)))
        lsoa = LSOAS[int(rng.integers(0, len(LSOAS)))]
        folk.append(
            {
                "person_id": f"P{i:05d}",
                "household_id_2011": f"H{i // 3:05d}",
                "forename": FORENAMES[sex][int(rng.integers(0, 10))],
                "middle_names": None,
                "surname": SURNAMES[int(rng.integers(0, len(SURNAMES)))],
                "sex": sex,
                "date_of_birth": dob,
                "ethnic_group": ETHNIC[int(rng.integers(0, len(ETHNIC)))],
                "disability": str(int(rng.integers(1, 4))),
                "lsoa11cd_2011": lsoa,
                "in_census": bool(rng.random() < 0.95),
                "immigration_date": None,
                "emigration_date": None,
                "date_of_death": dt.date(2020, 5, 1) if rng.random() < 0.03 else None,
                "region_2011": region.get(lsoa),
                "postcode": f"ZZ{1 + i % 9} {i % 10}{'ABDEFG'[i % 6]}{'HJLNPQ'[(i // 6) % 6]}",
            }
        )
    pop = pl.DataFrame(
        folk,
        schema_overrides={
            "middle_names": pl.Utf8,
            "immigration_date": pl.Date,
            "emigration_date": pl.Date,
        },
    )
    census, gp, dwp, spells, record_map, noise = [], [], [], [], [], []

    def noisy(p: dict, source: str, rid: str) -> dict:
        rec = dict(p)
        if rng.random() < 0.08:
            rec["forename"] = _typo(rec["forename"], rng)
            noise.append(
                {"source": source, "record_id": rid, "column": "forename", "noise_type": "typo"}
            )
        if rng.random() < 0.05:
            rec["postcode"] = None
            noise.append(
                {"source": source, "record_id": rid, "column": "postcode", "noise_type": "blank"}
            )
        if rng.random() < 0.04 and rec["date_of_birth"].day <= 12:
            d = rec["date_of_birth"]
            rec["date_of_birth"] = dt.date(d.year, d.day, d.month)
            noise.append(
                {
                    "source": source,
                    "record_id": rid,
                    "column": "date_of_birth",
                    "noise_type": "day_month_swap",
                }
            )
        return rec

    for i, p in enumerate(folk):
        if p["in_census"]:
            rid = f"C{i:09d}"
            r = noisy(p, "census", rid)
            census.append(
                {
                    "census_person_id": rid,
                    "household_id": p["household_id_2011"],
                    "forename": r["forename"],
                    "middle_names": None,
                    "surname": r["surname"],
                    "date_of_birth": r["date_of_birth"],
                    "sex": "1" if p["sex"] == "M" else "2",
                    "postcode": r["postcode"],
                    "lsoa11cd": p["lsoa11cd_2011"],
                    "ethnic_group": p["ethnic_group"],
                    "disability": p["disability"],
                    "usual_resident": bool(rng.random() < 0.98),
                    "wholly_imputed": False,
                }
            )
            record_map.append({"source": "census", "record_id": rid, "person_id": p["person_id"]})
        n_gp = 0 if rng.random() < 0.08 else (2 if rng.random() < 0.08 else 1)
        nhs = _nhs_number(rng)
        for k in range(n_gp):
            rid = f"G{i:07d}{k}"
            r = noisy(p, "gp", rid)
            gp.append(
                {
                    "gp_record_id": rid,
                    "nhs_number": nhs if rng.random() > 0.03 else None,
                    "forename": r["forename"],
                    "middle_names": None,
                    "surname": r["surname"],
                    "date_of_birth": r["date_of_birth"],
                    "sex": p["sex"],
                    "postcode": r["postcode"],
                    "lsoa11cd": p["lsoa11cd_2011"],
                    "practice_code": f"A8{i % 50:04d}",
                    "registration_date": dt.date(2005, 1, 1),
                    "deregistration_date": None,
                    "date_of_death": p["date_of_death"],
                }
            )
            record_map.append({"source": "gp", "record_id": rid, "person_id": p["person_id"]})
        n_dwp = 0 if rng.random() < 0.3 else (2 if rng.random() < 0.05 else 1)
        for k in range(n_dwp):
            rid = f"D{i:07d}{k}"
            r = noisy(p, "dwp", rid)
            dwp.append(
                {
                    "dwp_master_key": rid,
                    "nino": _nino(rng, i),
                    "forename": r["forename"],
                    "surname": r["surname"],
                    "date_of_birth": r["date_of_birth"],
                    "sex": "Male" if p["sex"] == "M" else "Female",
                    "postcode": r["postcode"],
                }
            )
            record_map.append({"source": "dwp", "record_id": rid, "person_id": p["person_id"]})
            if rng.random() < 0.3:
                spells.append(
                    {
                        "dwp_master_key": rid,
                        "benefit": "UC",
                        "start_date": dt.date(2020, 4, 1),
                        "end_date": None,
                    }
                )
    sources, truth = run_dir / "sources", run_dir / "truth"
    sources.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(census).write_parquet(sources / "census.parquet")
    pl.DataFrame(gp).write_parquet(sources / "gp_registrations.parquet")
    pl.DataFrame(
        schema={
            "gp_record_id": pl.Utf8,
            "nhs_number": pl.Utf8,
            "cluster": pl.Utf8,
            "snomed_code": pl.Utf8,
            "event_date": pl.Date,
        }
    ).write_parquet(sources / "gp_conditions.parquet")
    pl.DataFrame(dwp).write_parquet(sources / "dwp_customers.parquet")
    spell_schema = {
        "dwp_master_key": pl.Utf8,
        "benefit": pl.Utf8,
        "start_date": pl.Date,
        "end_date": pl.Date,
    }
    pl.DataFrame(spells, schema=spell_schema).write_parquet(sources / "dwp_benefit_spells.parquet")
    pop.drop("postcode").write_parquet(truth / "people.parquet")
    pl.DataFrame(record_map).write_parquet(truth / "record_map.parquet")
    pl.DataFrame(noise).write_parquet(truth / "noise_log.parquet")
    (run_dir / "config.yaml").write_text(
        yaml.safe_dump({"run": {"people": people, "seed": seed, "out": "outputs"}}),
        encoding="utf-8",
    )
    return run_dir
