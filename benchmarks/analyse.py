"""Time the analysis stage (``analysis.analyse_run``) on a large run folder.

Usage::

    .venv/bin/python benchmarks/analyse.py                    # 1,000,000 people, 3 repeats
    .venv/bin/python benchmarks/analyse.py --people 200000 --repeats 1
    .venv/bin/python benchmarks/analyse.py --run-dir outputs/<run>   # an existing linked run

Without ``--run-dir`` it writes a run folder in the data-contract format with a fast,
vectorised stand-in world (this script's own, not ``synthetic_data``): the point is the
analysis's speed, which depends on the number of people, records and benefit spells, not on
how realistic they are. The linked spine is the true one with 3% of GP and DWP records
unlinked; three more spines stand for re-clustering at match thresholds. Figures go to
stdout; see ``benchmarks/README_analyse.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from analysis import AnalysisConfig, analyse_run
from analysis.reference import lsoa_lookup

CLUSTERS = ["AUTISM", "LD", "SMI", "DEPANX", "DIABETES", "RESP", "CVD", "CANCER"]
BENEFITS = ["UC", "JSA", "ESA", "IS", "IB_SDA", "HB", "PIP", "DLA", "CA", "SP"]


def _dates(rng: np.random.Generator, start: str, end: str, size: int) -> pl.Series:
    low = np.datetime64(start, "D").astype(int)
    high = np.datetime64(end, "D").astype(int)
    return pl.Series(rng.integers(low, high, size).astype("datetime64[D]")).cast(pl.Date)


def build_world(run_dir: Path, people: int, seed: int = 1) -> None:
    """Write ``sources/``, ``truth/record_map.parquet`` and ``linkage/spine.parquet``."""
    rng = np.random.default_rng(seed)
    lsoas = lsoa_lookup()["lsoa11cd"].to_numpy()
    ids = np.arange(people)
    person = pl.Series([f"P{i:08d}" for i in ids])
    census = pl.DataFrame(
        {
            "census_person_id": [f"C{i:09d}" for i in ids],
            "date_of_birth": _dates(rng, "1940-01-01", "2010-12-31", people),
            "sex": rng.choice(["1", "2"], people),
            "lsoa11cd": rng.choice(lsoas, people),
            "ethnic_group": rng.choice([f"{i:02d}" for i in range(1, 19)], people),
            "disability": rng.choice(["1", "2", "3"], people, p=[0.08, 0.09, 0.83]),
            "usual_resident": rng.random(people) < 0.98,
            "wholly_imputed": rng.random(people) < 0.01,
        }
    )
    gp_owner = np.concatenate([ids[rng.random(people) < 0.95], ids[rng.random(people) < 0.04]])
    gp = pl.DataFrame(
        {
            "gp_record_id": [f"G{i:09d}" for i in range(gp_owner.size)],
            "registration_date": _dates(rng, "1990-01-01", "2020-12-31", gp_owner.size),
            "deregistration_date": pl.Series([None] * gp_owner.size, dtype=pl.Date),
            "date_of_death": _dates(rng, "2019-11-01", "2021-03-31", gp_owner.size).zip_with(
                pl.Series(rng.random(gp_owner.size) < 0.01), pl.Series([None], dtype=pl.Date)
            ),
        }
    )
    with_condition = rng.random(gp_owner.size) < 0.3
    conditions = pl.DataFrame(
        {
            "gp_record_id": gp["gp_record_id"].filter(pl.Series(with_condition)),
            "cluster": rng.choice(CLUSTERS, int(with_condition.sum())),
            "event_date": _dates(rng, "2000-01-01", "2021-03-31", int(with_condition.sum())),
        }
    )
    dwp_owner = np.concatenate([ids, ids[rng.random(people) < 0.02]])
    keys = pl.Series([f"K{i:09d}" for i in range(dwp_owner.size)])
    spell_owner = rng.choice(dwp_owner.size, int(0.35 * people))
    spells = pl.DataFrame(
        {
            "dwp_master_key": keys.gather(spell_owner),
            "benefit": rng.choice(BENEFITS, spell_owner.size),
            "start_date": _dates(rng, "2015-01-01", "2021-03-31", spell_owner.size),
            "end_date": _dates(rng, "2019-06-01", "2023-01-01", spell_owner.size),
        }
    ).with_columns(pl.when(pl.col("end_date") >= pl.col("start_date")).then(pl.col("end_date")))
    sources = run_dir / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    census.write_parquet(sources / "census.parquet")
    gp.write_parquet(sources / "gp_registrations.parquet")
    conditions.write_parquet(sources / "gp_conditions.parquet")
    spells.write_parquet(sources / "dwp_benefit_spells.parquet")
    record_map = pl.concat(
        [
            pl.DataFrame(
                {"source": "census", "record_id": census["census_person_id"], "person_id": person}
            ),
            pl.DataFrame(
                {
                    "source": "gp",
                    "record_id": gp["gp_record_id"],
                    "person_id": person.gather(gp_owner),
                }
            ),
            pl.DataFrame(
                {"source": "dwp", "record_id": keys, "person_id": person.gather(dwp_owner)}
            ),
        ]
    )
    (run_dir / "truth").mkdir(exist_ok=True)
    record_map.write_parquet(run_dir / "truth" / "record_map.parquet")
    (run_dir / "linkage").mkdir(exist_ok=True)
    for name, missed in (
        ("spine", 0.03),
        ("spine_0.5", 0.01),
        ("spine_0.9", 0.03),
        ("spine_0.99", 0.08),
    ):
        unlinked = pl.Series(rng.random(record_map.height) < missed) & (
            record_map["source"] != "census"
        )
        spine = record_map.with_columns(
            pl.when(unlinked)
            .then(pl.lit("U") + pl.col("record_id"))
            .otherwise(pl.col("person_id"))
            .alias("person_id"),
            pl.lit(1.0).alias("match_probability"),
        )
        spine.write_parquet(run_dir / "linkage" / f"{name}.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run-dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run_dir
        thresholds: dict[float, Path] = {}
        if run_dir is None:
            run_dir = Path(tmp) / "run"
            started = time.perf_counter()
            build_world(run_dir, args.people)
            print(f"world: {args.people:,} people written in {time.perf_counter() - started:.1f} s")
            thresholds = {t: run_dir / "linkage" / f"spine_{t}.parquet" for t in (0.5, 0.9, 0.99)}
        seconds = []
        for repeat in range(args.repeats):
            out = Path(tmp) / f"analysis_{repeat}"
            started = time.perf_counter()
            summary = analyse_run(run_dir, out, AnalysisConfig(), threshold_spines=thresholds)
            seconds.append(time.perf_counter() - started)
            print(
                f"run {repeat + 1}: {seconds[-1]:.1f} s, {summary['people']:,} people, "
                f"{summary['person_months']:,} person-months, {len(summary['tables'])} tables"
            )
        print(f"median: {statistics.median(seconds):.1f} s over {len(seconds)} run(s)")
        print(f"date: {dt.date.today().isoformat()}")


if __name__ == "__main__":
    main()
