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
    P = truth.people
    n = len(P["hh"])
    pid = person_ids(block, n)
    glob = block.start + np.arange(n, dtype=np.int64)

    res = truth.residences.with_columns(
        places.postcodes(
            truth.residences.get_column("lsoa").to_numpy(),
            truth.residences.get_column("slot").to_numpy(),
        ).alias("postcode"),
        pl.Series(geo.lsoa_codes.to_numpy()[truth.residences.get_column("lsoa").to_numpy()]).alias(
            "lsoa11cd"
        ),
    )
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

    kind = P["kind"]
    in_census_pop = kind == KIND_CENSUS
    hh_global = block.index * block.block_size + P["hh"]
    household = scrambled_ids("H", hh_global, 8)
    vocab = bank
    surname_2021 = vocab.strings(P["surname_2021"])
    surname_2011 = vocab.strings(P["surname_2011"])
    surname_2021 = pl.select(
        pl.when(pl.Series(P["double_barrel"]))
        .then(pl.concat_str(surname_2011, pl.lit("-"), surname_2021))
        .otherwise(surname_2021)
    ).to_series()
    region = labels(REGIONS, geo.region_index[P["hh_lsoa"]])
    suffix = block.rng("ids").integers(0, 4, n)
    adult_by_2021 = P["dob"] + round(16 * YEAR) <= np.minimum(P["end"], EXTRACT_DAY)

    frame = pl.DataFrame(
        {
            "person": np.arange(n, dtype=np.int64),
            "person_id": pid,
            "household_id_2011": pl.select(
                pl.when(pl.Series(in_census_pop)).then(household)
            ).to_series(),
            "forename": vocab.strings(P["forename"]),
            "middle_names": vocab.strings(P["middle"]),
            "surname": vocab.strings(P["surname_birth"]),
            "sex": labels(("M", "F"), P["sex"]),
            "date_of_birth": to_date_series("date_of_birth", P["dob"]),
            "ethnic_group": labels(_ETHNIC, P["eth"]),
            "disability": labels(("0", "1", "2", "3"), P["disability"]),
            "immigration_date": to_date_series("immigration_date", P["immigration"]),
            "emigration_date": to_date_series("emigration_date", P["emig"]),
            "date_of_death": to_date_series("date_of_death", P["death"]),
            "region_2011": pl.select(pl.when(pl.Series(in_census_pop)).then(region)).to_series(),
            "surname_2011": surname_2011,
            "surname_2021": surname_2021,
            "nhs_number": nhs_numbers(glob),
            "nino": pl.select(
                pl.when(pl.Series(adult_by_2021)).then(ninos(glob, suffix))
            ).to_series(),
            "_pid": glob,
            "_hh_local": P["hh"],
            "_household": household,
            "_kind": kind,
            "_sex": P["sex"],
            "_eth": P["eth"].astype(np.int64),
            "_origin": P["origin"].astype(np.int64),
            "_dob": P["dob"],
            "_start": P["start"],
            "_end": P["end"],
            "_death": P["death"],
            "_emig": P["emig"],
            "_twin": P["twin"],
        }
    )
    frame = (
        frame.join(last, on="person", how="left")
        .join(prev, on="person", how="left")
        .join(census_addr, on="person", how="left")
    )
    frame = frame.with_columns(
        pl.col("_census_lsoa11cd").alias("lsoa11cd_2011"),
        (pl.col("_n_addresses") > 1).fill_null(False).alias("_mover"),
        pl.Series("_cur_region", geo.region_index[frame.get_column("_cur_lsoa").to_numpy()]),
        pl.Series("_cur_decile", geo.imd_decile[frame.get_column("_cur_lsoa").to_numpy()]),
        pl.Series("_2011_decile", geo.imd_decile[P["hh_lsoa"]]),
        pl.Series("_2011_london", geo.region_index[P["hh_lsoa"]] == LONDON),
    )
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
