"""Turn one block's truth arrays into frames: the people table and the truth tables."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic_data.blocks import Block
from synthetic_data.calendar import CENSUS_DAY, EXTRACT_DAY, NEVER, YEAR, to_date_series
from synthetic_data.frames import labels
from synthetic_data.identifiers import nhs_numbers, ninos, scrambled_ids
from synthetic_data.names import NameBank, variant_table
from synthetic_data.places import Places
from synthetic_data.population import KIND_CENSUS
from synthetic_data.reference import LONDON, REGIONS, Geography
from synthetic_data.truth import BlockTruth

_ETHNIC = tuple(f"{i:02d}" for i in range(1, 19))


def person_ids(block: Block, n: int) -> pl.Series:
    """``P`` + the zero-padded global index of each person of the block."""
    index = block.start + np.arange(n, dtype=np.int64)
    # Births and immigrants are counted in the block's size, so global indices never overlap.
    return pl.select(pl.lit("P") + pl.Series(index).cast(pl.Utf8).str.zfill(9)).to_series()


def build_persons(
    block: Block,
    truth: BlockTruth,
    geo: Geography,
    places: Places,
    bank: NameBank,
    *,
    spelling_rate: float,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The block's people (truth columns plus helper columns) and their residences.

    Helper columns start with ``_`` and are used to build the extracts: current and previous
    address, 2011 address, flags for the quality factor.
    """
    res = _with_postcodes(truth.residences, geo, places)
    frame = _truth_columns(block, truth.people, geo, bank)
    frame = _with_addresses(frame, res, truth.people, geo)
    frame = _spelling_changes(block, frame, spelling_rate)
    residences = res.join(frame.select("person", "person_id"), on="person", how="left").select(
        "person_id",
        pl.col("from_day").cast(pl.Int32).cast(pl.Date).alias("from_date"),
        pl.when(pl.col("to_day") < NEVER)
        .then(pl.col("to_day"))
        .cast(pl.Int32)
        .cast(pl.Date)
        .alias("to_date"),
        "postcode",
        "lsoa11cd",
    )
    return frame, residences


def _with_postcodes(residences: pl.DataFrame, geo: Geography, places: Places) -> pl.DataFrame:
    """Add each residence's ``postcode`` and LSOA code (``lsoa11cd``)."""
    lsoa = residences.get_column("lsoa").to_numpy()
    return residences.with_columns(
        places.postcodes(lsoa, residences.get_column("slot").to_numpy()).alias("postcode"),
        pl.Series(geo.lsoa_codes.to_numpy()[lsoa]).alias("lsoa11cd"),
    )


def _truth_columns(
    block: Block, people: dict[str, np.ndarray], geo: Geography, bank: NameBank
) -> pl.DataFrame:
    """One row per person: the truth table's columns as strings and dates, and the helper
    columns (``_`` first) the extracts are built from."""
    n = len(people["hh"])
    glob = block.start + np.arange(n, dtype=np.int64)
    kind = people["kind"]
    in_census_pop = kind == KIND_CENSUS
    household = scrambled_ids("H", block.index * block.block_size + people["hh"], 8)
    region = labels(REGIONS, geo.region_index[people["hh_lsoa"]])
    suffix = block.rng("ids").integers(0, 4, n)
    adult_by_2021 = people["dob"] + round(16 * YEAR) <= np.minimum(people["end"], EXTRACT_DAY)
    return pl.DataFrame(
        {
            "person": np.arange(n, dtype=np.int64),
            "person_id": person_ids(block, n),
            "household_id_2011": _only_where(in_census_pop, household),
            "forename": bank.strings(people["forename"]),
            "middle_names": bank.strings(people["middle"]),
            "surname": bank.strings(people["surname_birth"]),
            "sex": labels(("M", "F"), people["sex"]),
            "date_of_birth": to_date_series("date_of_birth", people["dob"]),
            "ethnic_group": labels(_ETHNIC, people["eth"]),
            "disability": labels(("0", "1", "2", "3"), people["disability"]),
            "immigration_date": to_date_series("immigration_date", people["immigration"]),
            "emigration_date": to_date_series("emigration_date", people["emig"]),
            "date_of_death": to_date_series("date_of_death", people["death"]),
            "region_2011": _only_where(in_census_pop, region),
            "surname_2011": bank.strings(people["surname_2011"]),
            "surname_2021": _surname_2021(people, bank),
            "nhs_number": nhs_numbers(glob),
            "nino": _only_where(adult_by_2021, ninos(glob, suffix)),
            "_pid": glob,
            "_hh_local": people["hh"],
            "_household": household,
            "_kind": kind,
            "_sex": people["sex"],
            "_eth": people["eth"].astype(np.int64),
            "_origin": people["origin"].astype(np.int64),
            "_dob": people["dob"],
            "_start": people["start"],
            "_end": people["end"],
            "_death": people["death"],
            "_emig": people["emig"],
            "_twin": people["twin"],
        }
    )


def _only_where(mask: np.ndarray, values: pl.Series) -> pl.Series:
    """``values`` where ``mask`` holds, null elsewhere."""
    return pl.select(pl.when(pl.Series(mask)).then(values)).to_series()


def _surname_2021(people: dict[str, np.ndarray], bank: NameBank) -> pl.Series:
    """The surname in use in 2021; a double-barrelled one joins the 2011 surname to it."""
    surname_2021 = bank.strings(people["surname_2021"])
    surname_2011 = bank.strings(people["surname_2011"])
    return pl.select(
        pl.when(pl.Series(people["double_barrel"]))
        .then(pl.concat_str(surname_2011, pl.lit("-"), surname_2021))
        .otherwise(surname_2021)
    ).to_series()


def _with_addresses(
    frame: pl.DataFrame, res: pl.DataFrame, people: dict[str, np.ndarray], geo: Geography
) -> pl.DataFrame:
    """Add the current, previous and Census-day addresses and the area helper columns."""
    last, prev, census_addr = _address_tables(res)
    frame = (
        frame.join(last, on="person", how="left")
        .join(prev, on="person", how="left")
        .join(census_addr, on="person", how="left")
    )
    return frame.with_columns(
        pl.col("_census_lsoa11cd").alias("lsoa11cd_2011"),
        (pl.col("_n_addresses") > 1).fill_null(False).alias("_mover"),
        pl.Series("_cur_region", geo.region_index[frame.get_column("_cur_lsoa").to_numpy()]),
        pl.Series("_cur_decile", geo.imd_decile[frame.get_column("_cur_lsoa").to_numpy()]),
        pl.Series("_2011_decile", geo.imd_decile[people["hh_lsoa"]]),
        pl.Series("_2011_london", geo.region_index[people["hh_lsoa"]] == LONDON),
    )


def _address_tables(res: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Each person's current address (with their number of addresses), previous address and
    address on Census day, one row per person who has one."""
    # Residences are sorted by person and date: the last row of each person is the current
    # address and the row before it (same person) the previous one.
    who = res.get_column("person").to_numpy()
    is_last = np.r_[who[1:] != who[:-1], True]
    is_prev = np.r_[is_last[1:] & (who[1:] == who[:-1]), False]
    count = np.diff(np.r_[0, np.flatnonzero(is_last) + 1])
    ranked = res.with_columns(
        pl.Series("is_last", is_last),
        pl.Series("is_prev", is_prev),
        pl.Series("count", np.repeat(count, count)),
    )
    last = ranked.filter(pl.col("is_last")).select(
        "person",
        pl.col("postcode").alias("_cur_postcode"),
        pl.col("lsoa11cd").alias("_cur_lsoa11cd"),
        pl.col("lsoa").alias("_cur_lsoa"),
        pl.col("from_day").alias("_cur_from"),
        pl.col("count").alias("_n_addresses"),
    )
    prev = ranked.filter(pl.col("is_prev")).select(
        "person",
        pl.col("postcode").alias("_prev_postcode"),
        pl.col("lsoa11cd").alias("_prev_lsoa"),
        pl.col("lsoa").alias("_prev_lsoa_index"),
    )
    census_addr = ranked.filter(
        (pl.col("from_day") <= CENSUS_DAY) & (pl.col("to_day") > CENSUS_DAY)
    ).select(
        "person",
        pl.col("postcode").alias("_census_postcode"),
        pl.col("lsoa11cd").alias("_census_lsoa11cd"),
    )
    return last, prev, census_addr


def _spelling_changes(block: Block, frame: pl.DataFrame, rate: float) -> pl.DataFrame:
    """Add ``forename_2021``: a few people adopt another spelling of their forename by 2021."""
    alts = (
        frame.select(pl.col("forename").alias("name"))
        .join(variant_table(), on="name", how="left", maintain_order="left")
        .get_column("alternatives")
        .str.split("|")
    )
    rng = block.rng("spelling")
    change = pl.Series(rng.random(frame.height) < rate)
    k = pl.Series(rng.integers(0, 1000, frame.height))
    choice = (
        pl.DataFrame({"o": alts, "k": k, "c": change})
        .select(
            pl.when(pl.col("c")).then(
                pl.col("o").list.get(pl.col("k") % pl.col("o").list.len(), null_on_oob=True)
            )
        )
        .to_series()
    )
    return frame.with_columns(pl.coalesce(choice, pl.col("forename")).alias("forename_2021"))
